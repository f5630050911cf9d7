"""What a finished build keeps for later re-packages: the fine-tuned generator and every glyph image.

A re-package (marked syllables redrawn, the font packaged again) needs both and no fine-tune. They are
stored beside the font files of the build, under the same result prefix, through the store's public
methods only (put/get/exists): the glyph images as one uncompressed zip (PNGs are compressed already;
11,266 small objects would be slow on S3).
"""

from __future__ import annotations

import dataclasses
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.packaging.hand import HAND_FILE
from services.storage import ArtifactNotFound, ArtifactStore, validate_key

CHECKPOINT = "writer.pt"
GLYPHS = "glyphs.zip"


def kept_key(prefix: str, name: str) -> str:
    """The key of a kept file (CHECKPOINT or GLYPHS) of the build stored under `prefix`."""
    return validate_key(f"{prefix}/{name}")


def _kept_name(name: str) -> bool:
    """Flat names of glyph images and of the hand facts: all a re-package reads from the directory."""
    return "/" not in name and (name.endswith(".png") or name == HAND_FILE)


def zip_dir(directory: Path) -> bytes:
    """The glyph images and the hand facts (HAND_FILE, which typesets a re-package like the build)
    directly in `directory` as one zip (stored, not compressed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(Path(directory).iterdir()):
            if path.is_file() and _kept_name(path.name):
                archive.write(path, path.name)
    return buffer.getvalue()


def keep_build(store: ArtifactStore, prefix: str, checkpoint: Path | None, glyph_dir: Path | None) -> bool:
    """Store the checkpoint and the glyph images when the builder left both; True when it did."""
    if checkpoint is None or glyph_dir is None:
        return False
    if not Path(checkpoint).is_file() or not Path(glyph_dir).is_dir():
        return False
    store.put(kept_key(prefix, CHECKPOINT), Path(checkpoint).read_bytes())
    store.put(kept_key(prefix, GLYPHS), zip_dir(Path(glyph_dir)))
    return True


def can_repackage(store: ArtifactStore, prefix: str | None) -> bool:
    """Whether the build under `prefix` kept what a re-package needs."""
    return bool(prefix) and all(store.exists(kept_key(str(prefix), name)) for name in (CHECKPOINT, GLYPHS))


def restore_build(store: ArtifactStore, prefix: str, workdir: Path) -> tuple[Path, Path]:
    """Unpack the kept files of a build into `workdir`; return (glyph_dir, checkpoint).

    Raises ValueError (a sentence for the person) when they are gone.
    """
    try:
        checkpoint_bytes = store.get(kept_key(prefix, CHECKPOINT))
        glyphs_bytes = store.get(kept_key(prefix, GLYPHS))
    except ArtifactNotFound:
        raise ValueError(
            "this font was built before fixes were possible (its drawings were not kept): build it again"
        ) from None
    Path(workdir).mkdir(parents=True, exist_ok=True)
    checkpoint = Path(workdir) / CHECKPOINT
    checkpoint.write_bytes(checkpoint_bytes)
    glyph_dir = Path(workdir) / "glyphs"
    glyph_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(glyphs_bytes)) as archive:
        for name in archive.namelist():
            if not _kept_name(name):
                continue  # only flat names: nothing can be written outside the directory
            (glyph_dir / name).write_bytes(archive.read(name))
    return glyph_dir, checkpoint


def run_repackage(
    store: ArtifactStore,
    base_prefix: str | None,
    workdir: Path,
    family: str,
    params: dict[str, Any],
    *,
    options: Any,
    progress: Callable[[str, float], None],
    repackager: Callable[..., Any] | None = None,
) -> Any:
    """Restore the base build's kept files into `workdir` and redraw + package there (no fine-tune)."""
    if not base_prefix:
        raise ValueError("the font this fix starts from is gone: build the font again")
    glyph_dir, checkpoint = restore_build(store, base_prefix, workdir / "base")
    if repackager is None:
        from services.pipeline.flow import repackage_font  # torch: only when a job really runs

        repackager = repackage_font
    if dataclasses.is_dataclass(options) and not isinstance(options, type) and hasattr(options, "workers"):
        options = dataclasses.replace(options, workers=max(1, min(os.cpu_count() or 1, 4)))
    return repackager(
        glyph_dir,
        checkpoint,
        workdir,
        family,
        [int(cp) for cp in params.get("codepoints", [])],
        attempt=int(params.get("attempt", 0)),
        options=options,
        progress=progress,
    )
