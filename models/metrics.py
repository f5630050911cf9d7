"""Glyph similarity metrics: SSIM (DM-Font protocol), L1, ink IoU and Tesseract character error rates."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from models import glyph_space


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Return the mean SSIM of two grayscale images (Gaussian window 11, sigma 1.5; Wang et al. 2004)."""
    x, y = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(z: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(z, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean())


def l1(a: np.ndarray, b: np.ndarray) -> float:
    """Return the mean absolute difference of two uint8 images, scaled to [0, 1]."""
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean() / 255.0)


def ink_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Return intersection over union of the two images' ink (pixels darker than the ink threshold)."""
    ink_a, ink_b = a < glyph_space.INK_THRESHOLD, b < glyph_space.INK_THRESHOLD
    union = np.logical_or(ink_a, ink_b).sum()
    return float(np.logical_and(ink_a, ink_b).sum() / union) if union else 1.0


def mean_scores(truth: np.ndarray, drawn: np.ndarray) -> dict[str, float]:
    """Return mean SSIM, L1 and ink IoU over paired glyph stacks (N, S, S)."""
    pairs = list(zip(truth, drawn, strict=True))
    return {
        "ssim": float(np.mean([ssim(t, d) for t, d in pairs])),
        "l1": float(np.mean([l1(t, d) for t, d in pairs])),
        "iou": float(np.mean([ink_iou(t, d) for t, d in pairs])),
    }


def _edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def char_error_rate(got: str, want: str) -> float:
    """Return the edit distance between `got` and `want`, whitespace ignored, over the length of `want`."""
    got, want = "".join(got.split()), "".join(want.split())
    return _edit_distance(got, want) / max(1, len(want))


def ocr_cer(glyphs: np.ndarray, text: Sequence[str], per_line: int = 10, glyph_px: int = 48) -> float:
    """Return Tesseract's (kor) character error rate on glyphs set in lines of `per_line` characters.

    Glyphs are shrunk to `glyph_px` and set edge to edge like text; the result is the edit distance
    between the recognised lines (spaces dropped) and `text`, divided by its length.
    Raises OSError if tesseract is not installed.
    """
    if shutil.which("tesseract") is None:
        raise OSError("tesseract is not installed (Debian: tesseract-ocr tesseract-ocr-kor)")
    lines = []
    for i in range(0, len(glyphs), per_line):
        row = [
            cv2.resize(g, (glyph_px, glyph_px), interpolation=cv2.INTER_AREA)
            for g in glyphs[i : i + per_line]
        ]
        row += [np.full((glyph_px, glyph_px), 255, np.uint8)] * (per_line - len(row))
        lines.append(np.concatenate(row, axis=1))
        lines.append(np.full((glyph_px // 2, per_line * glyph_px), 255, np.uint8))
    page = cv2.copyMakeBorder(np.concatenate(lines), 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=255)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.png"
        cv2.imwrite(str(path), page)
        result = subprocess.run(
            ["tesseract", str(path), "stdout", "-l", "kor", "--psm", "6"],
            capture_output=True,
            text=True,
            check=True,
        )
    got = [line.replace(" ", "") for line in result.stdout.splitlines() if line.strip()]
    want = ["".join(text[i : i + per_line]) for i in range(0, len(text), per_line)]
    errors = _edit_distance("\n".join(got), "\n".join(want))
    return errors / max(1, sum(len(w) for w in want))
