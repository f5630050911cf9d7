"""Undo the photo's blur on a writing box's ink, and draw its glyph image on the pen's darkness."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

SHARPEN_FROM_PX = 1.0  # blur (Gaussian sigma, page px) beyond which boxes are sharpened...
SHARPEN_MAX = 1.0  # ...by an unsharp mask of at most this gain, so thin pen lines keep their width
# Glyph images are drawn from the ink with the photo's blur undone further than classifying needs: a hairline
# (2-3 page px) blurred over as many pixels keeps only part of its darkness and would come out thinner than
# written, or broken. The unsharp mask at the measured blur gives it back; a little smoothing first keeps the
# gain from amplifying JPEG ringing.
RESTORE_GAIN = 2.0
RESTORE_DENOISE_SIGMA = 0.5  # page px
# The pen's full darkness is measured over the page (median of the ok boxes' strengths): a box holding only
# thin strokes (a comma, a slash) never shows it, and stretching its own faded peak to black would draw them
# too wide. A box whose ink is lighter than this share of the page's is taken to be another pen: its own.
SAME_PEN_RATIO = 0.7


def sharpen(ink: np.ndarray, blur_sigma: float) -> np.ndarray:
    """Undo some of the photo's blur (Gaussian, sigma in page px) with an unsharp mask; returns a new array.

    A blurred thin line is lower and wider; without this it would come out fainter or thicker than written.
    Mild, for telling ink from paper; glyph images are drawn from `restore`.
    """
    gain = min(SHARPEN_MAX, blur_sigma - SHARPEN_FROM_PX)
    if gain <= 0:
        return ink
    return np.clip(ink + gain * (ink - cv2.GaussianBlur(ink, (0, 0), blur_sigma)), 0.0, 1.0)


def restore(ink: np.ndarray, blur_sigma: float) -> np.ndarray:
    """Ink darkness (float32, 0..1) with the photo's blur (Gaussian sigma, page px) undone for drawing:
    lightly smoothed, then unsharp-masked with RESTORE_GAIN at that sigma. Not clipped: a thin stroke may
    come out darker than the pen, which drawing saturates to black."""
    if blur_sigma <= 0:
        return ink
    smooth = cv2.GaussianBlur(ink, (0, 0), RESTORE_DENOISE_SIGMA)
    return smooth + RESTORE_GAIN * (smooth - cv2.GaussianBlur(smooth, (0, 0), blur_sigma))


def pen_darkness(strengths: Sequence[float]) -> float:
    """The page's full ink darkness from the strengths (98th-percentile darkness) of its ok boxes; 0 if
    there are none."""
    return float(np.median(strengths)) if len(strengths) else 0.0


def ink_scale(strength: float, pen: float) -> float:
    """The darkness drawn as black in a box of this strength on a page written with `pen` darkness."""
    return max(strength, pen) if strength >= SAME_PEN_RATIO * pen else strength


def draw(ink: np.ndarray, mask: np.ndarray, scale: float) -> np.ndarray:
    """uint8 image, 255 paper, 0 where `ink` reaches `scale`; only the `mask` pixels are ink."""
    normalized = np.where(mask, np.clip(ink / max(scale, 1e-3), 0.0, 1.0), 0.0)
    return np.round(255.0 * (1.0 - normalized)).astype(np.uint8)
