"""The font generator (PyTorch): Hangul tables, glyph normalization, networks, training and generation."""

from __future__ import annotations

from pathlib import Path

WEIGHTS_FILE = Path(__file__).resolve().parent / "weights" / "geulssi-pix2pix-v4.pt"


def weights_path() -> Path:
    """Return the committed pretrained generator weights; raise ValueError if the file is missing."""
    if not WEIGHTS_FILE.is_file():
        raise ValueError(
            f"pretrained weights {WEIGHTS_FILE} are missing; train them with `geulssi pretrain` "
            "(see models/weights/MODEL_CARD.md) or pass a checkpoint path explicitly"
        )
    return WEIGHTS_FILE
