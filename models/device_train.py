"""Pretraining on a lent GPU in one command: pack what must travel, train there, bring the state back.

A lent accelerator machine sees only the working tree plus up to 64 MiB of carried files, has no network,
and returns files of at most 16 MiB. So:

    python3 -m models.device_train pack                      # here: subset fonts -> .device/ (~20 MiB)
    # on the GPU machine, one `run` call, carrying .device:
    python3 -m models.device_train train --minutes 8 --out $OUT
    python3 -m models.device_train unpack FILES_AT          # here: $OUT pieces -> models/weights/training

`pack` subsets the pinned pretraining fonts to the KS X 1001 syllables (the outlines and their hinting are
kept, so FreeType renders the same pixels); `train` renders the glyph cache from them, checks its
fingerprint against the committed training state, resumes it on CUDA with a GPU-sized batch and writes the
new state in pieces under 16 MiB with a manifest of checksums; `unpack` joins and verifies them.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import sys
import tarfile
import tempfile
from pathlib import Path

from models import hangul
from models.fonts import FontFace
from models.pretrain import PretrainConfig

PACK_DIR = Path(__file__).resolve().parents[1] / ".device"
PIECE_BYTES = 15 * 2**20  # each returned file stays under the 16 MiB limit
MANIFEST = "manifest.json"
FONTS_TAR = "fonts.tar.xz"

log = logging.getLogger(__name__)


def subset_font(face: FontFace, codepoints: list[int], out: Path) -> Path:
    """Write `face` reduced to `codepoints` (outlines and hinting kept) as a TTF/OTF at `out`."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.font_number = face.index
    options.layout_features = []  # the renderer draws precomposed syllables; no shaping needed
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = TTFont(str(face.path), fontNumber=face.index)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints)
    subsetter.subset(font)
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(out))
    return out


def pack(
    faces: list[FontFace], source: FontFace, out_dir: Path = PACK_DIR, codepoints: list[int] | None = None
) -> Path:
    """Subset the source font and `faces` into `out_dir/fonts.tar.xz` with a manifest (xz halves the
    subset fonts again: the working tree, the training state and the fonts must fit in 64 MiB together);
    return the manifest path."""
    codepoints = list(codepoints if codepoints is not None else hangul.ksx1001_syllables())
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(out_dir / FONTS_TAR, "w:xz") as tar:
        for number, face in enumerate([source, *faces]):
            suffix = ".otf" if _is_cff(face) else ".ttf"
            path = subset_font(face, codepoints, Path(tmp) / f"font-{number:02d}{suffix}")
            tar.add(path, arcname=path.name)
            entries.append({"name": face.name, "style_class": face.style_class, "file": path.name})
    manifest = {"codepoints": codepoints, "source": entries[0], "faces": entries[1:]}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return out_dir / MANIFEST


def _is_cff(face: FontFace) -> bool:
    from fontTools.ttLib import TTFont

    with TTFont(str(face.path), fontNumber=face.index, lazy=True) as font:
        return "CFF " in font


def packed_faces(pack_dir: Path, font_dir: Path) -> tuple[list[FontFace], FontFace, list[int]]:
    """Unpack a packed directory's fonts into `font_dir`; return (faces, source, codepoints)."""
    if not (pack_dir / MANIFEST).is_file():
        raise ValueError(f"{pack_dir} holds no packed fonts; run `python3 -m models.device_train pack`")
    manifest = json.loads((pack_dir / MANIFEST).read_text(encoding="utf-8"))
    with tarfile.open(pack_dir / FONTS_TAR, "r:xz") as tar:
        tar.extractall(font_dir, filter="data")

    def face(entry: dict[str, str]) -> FontFace:
        return FontFace(entry["name"], font_dir / entry["file"], 0, entry["style_class"])

    return [face(e) for e in manifest["faces"]], face(manifest["source"]), manifest["codepoints"]


def split_file(path: Path, out_dir: Path, piece_bytes: int = PIECE_BYTES) -> Path:
    """Cut `path` into pieces of at most `piece_bytes` in `out_dir`, with a manifest of their checksums."""
    data = path.read_bytes()
    pieces = []
    for i in range(0, max(1, len(data)), piece_bytes):
        name = f"{path.name}.part{i // piece_bytes:02d}"
        (out_dir / name).write_bytes(data[i : i + piece_bytes])
        pieces.append(name)
    manifest = {"file": path.name, "sha256": hashlib.sha256(data).hexdigest(), "pieces": pieces}
    (out_dir / f"{path.name}.{MANIFEST}").write_text(json.dumps(manifest), encoding="utf-8")
    return out_dir / f"{path.name}.{MANIFEST}"


def join_file(manifest_path: Path, out: Path) -> Path:
    """Join pieces written by `split_file` into `out` atomically; raise ValueError on a bad checksum."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    data = b"".join((manifest_path.parent / name).read_bytes() for name in manifest["pieces"])
    if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
        raise ValueError(f"the pieces of {manifest['file']} do not add up (checksum mismatch)")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, out)
    return out


def train(
    pack_dir: Path,
    out_dir: Path,
    minutes: float,
    batch: int,
    *,
    state_dir: Path | None = None,
    config: PretrainConfig | None = None,
) -> Path:
    """Resume the committed training state on this machine's GPU for `minutes`; write it to `out_dir`.

    `config` (default: the product's PretrainConfig) only matters when there is no state to resume.
    """
    import shutil

    from models.dataset import render_glyphset
    from models.pretrain import STATE_DIR, pretrain

    state_dir = state_dir or STATE_DIR
    with tempfile.TemporaryDirectory() as fonts:
        faces, source, codepoints = packed_faces(pack_dir, Path(fonts))
        data = render_glyphset(faces, source, codepoints, processes=max(1, (os.cpu_count() or 2) - 1))
    work = out_dir / "state"
    work.mkdir(parents=True, exist_ok=True)
    if (state_dir / "state.pt").is_file():
        shutil.copy2(state_dir / "state.pt", work / "state.pt")
    cfg = dataclasses.replace(
        config or PretrainConfig(), max_minutes=minutes, batch=batch, checkpoint_minutes=minutes
    )
    # The fonts and syllables are checked; the pixels may differ by the machine's FreeType.
    final = pretrain(data, work, cfg, resume=True, same_pixels=False)
    split_file(final, out_dir)
    shutil.copy2(work / "samples.png", out_dir / "samples.png")
    shutil.copy2(work / "state.json", out_dir / "state.json")
    shutil.rmtree(work)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    """Command line: pack | train | unpack."""
    parser = argparse.ArgumentParser(prog="python3 -m models.device_train")
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("pack", help="subset the pretraining fonts into a folder to carry")
    p.add_argument("--out", type=Path, default=PACK_DIR)
    p = sub.add_parser("train", help="on the GPU machine: resume the committed state for a while")
    p.add_argument("--pack", type=Path, default=PACK_DIR)
    p.add_argument("--out", type=Path, required=True, help="where the state pieces go ($OUT)")
    p.add_argument("--minutes", type=float, default=8.0)
    p.add_argument("--batch", type=int, default=64)
    p = sub.add_parser("unpack", help="join returned pieces into models/weights/training/state.pt")
    p.add_argument("files", type=Path, help="the folder the pieces came back in")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        if args.action == "pack":
            from models import fontset

            print(pack([e.face() for e in fontset.PRETRAIN], fontset.SOURCE.face(), args.out))
        elif args.action == "train":
            print(train(args.pack, args.out, args.minutes, args.batch))
        else:
            from models.pretrain import STATE_DIR

            print(join_file(args.files / f"state.pt.{MANIFEST}", STATE_DIR / "state.pt"))
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
