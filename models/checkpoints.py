"""Checkpoint files: resumable training state, and the small generator file that fine-tuning loads."""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.networks import Generator

FORMAT = "geulssi-pix2pix-v1"


def atomic_save(obj: Any, path: Path) -> None:
    """torch.save `obj` to `path` through a temp file in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def rng_state() -> dict[str, Any]:
    """Return the Python, NumPy and torch RNG states."""
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore RNG states saved by `rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


def save_training(ckpt_dir: Path, state: dict[str, Any], keep: int = 2) -> Path:
    """Write `state` as step-NNNNNNN.pt plus its config.json beside it; prune all but the last `keep`."""
    path = ckpt_dir / f"step-{state['step']:07d}.pt"
    atomic_save(state, path)
    config = {"step": state["step"], "config": state["config"], "fonts": state["fonts"]}
    cfg_tmp = path.with_suffix(".json.tmp")
    cfg_tmp.write_text(json.dumps(config, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(cfg_tmp, path.with_suffix(".json"))
    for old in sorted(ckpt_dir.glob("step-*.pt"))[:-keep]:
        old.unlink()
        old.with_suffix(".json").unlink(missing_ok=True)
    return path


def latest_training(ckpt_dir: Path) -> Path | None:
    """Return the newest training checkpoint in `ckpt_dir`, or None."""
    found = sorted(ckpt_dir.glob("step-*.pt"))
    return found[-1] if found else None


def export_generator(generator: Generator, meta: dict[str, Any], path: Path, half: bool = True) -> Path:
    """Write the generator alone (fp16 by default, to stay small) with the metadata generation needs.

    `meta` must hold at least 'fonts' (one entry per style row) and 'source_font' (name, path, index, scale).
    """
    state = {
        k: (v.half() if half and v.is_floating_point() else v) for k, v in generator.state_dict().items()
    }
    arch = {
        "size": generator.size,
        "ngf": generator.ngf,
        "style_dim": generator.style_dim,
        "n_styles": generator.styles.num_embeddings,
    }
    atomic_save({"format": FORMAT, "arch": arch, "generator": state, **meta}, path)
    return path


def load_generator(path: Path | str, device: str | torch.device = "cpu") -> tuple[Generator, dict[str, Any]]:
    """Load a file written by `export_generator`; return (generator in eval mode, float32, metadata).

    Raises ValueError with a readable message for a missing or foreign file.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {path} does not exist")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for a corrupt file; all mean the same to a user
        raise ValueError(f"{path} is not a readable checkpoint ({exc.__class__.__name__})") from exc
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} generator checkpoint")
    arch = blob["arch"]
    generator = Generator(arch["size"], arch["ngf"], arch["n_styles"], arch["style_dim"])
    generator.load_state_dict({k: v.float() for k, v in blob["generator"].items()})
    generator.to(device).eval()
    meta = {k: v for k, v in blob.items() if k not in ("generator", "arch")}
    return generator, meta
