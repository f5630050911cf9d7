"""Glyph directories on disk: `U+XXXX.png` grayscale files, read into and written from codepoint maps."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

_NAME = re.compile(r"^U\+([0-9A-F]{4,6})\.png$")


def glyph_filename(codepoint: int) -> str:
    """Return the artifact file name of a codepoint, e.g. 'U+AC00.png'."""
    return f"U+{codepoint:04X}.png"


def read_glyph_dir(directory: Path | str) -> dict[int, np.ndarray]:
    """Return codepoint -> grayscale uint8 image for every `U+XXXX.png` in `directory`.

    Raises ValueError if the directory is missing, holds no glyph files, or a file is not a readable image.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"glyph directory {directory} does not exist")
    glyphs: dict[int, np.ndarray] = {}
    for path in sorted(directory.iterdir()):
        match = _NAME.match(path.name)
        if not match:
            continue
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise ValueError(f"{path} is not a readable PNG image")
        glyphs[int(match.group(1), 16)] = image
    if not glyphs:
        raise ValueError(f"{directory} holds no glyph images named like U+AC00.png")
    return glyphs


def write_png(path: Path, image: np.ndarray) -> None:
    """Write a grayscale PNG, raising OSError if OpenCV cannot."""
    if not cv2.imwrite(str(path), image):
        raise OSError(f"could not write {path}")
