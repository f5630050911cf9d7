"""Undo the photo's blur on a writing box's ink (unsharp mask, or a stroke fit if soft) and draw its glyph."""

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
# Where the photo is soft at the page's scale (a 2 MP photo: a page pixel is a third of a photo pixel, strokes
# two photo pixels wide), a stroke thinner than the blur never shows the pen's darkness, and the width drawn
# by an unsharp mask hangs on its gain. There the box's ink is fitted instead: pen strokes of one darkness
# (the page's) whose blurred image is what the photo shows, which pins each stroke's width by the darkness
# it took away. Gradient steps on the stroke map, started from the unsharp mask; the blur assumed is the
# markers' estimate times FIT_BLUR_RATIO, because that estimate follows the steepest, sharpest-direction edge
# (noise raises it), while strokes run every way. The ratio was chosen on the 2 MP flat bench photos
# (1.0 and 1.4 read fewer cells) and holds on the bent and the small-in-the-frame ones.
FIT_FROM_SIGMA = 2.0  # blur (page px) from which boxes are fitted; sharper photos keep the unsharp mask
FIT_BLUR_RATIO = 1.2
FIT_ITERATIONS = 6  # the fit settles in about five steps of this size (more change no glyph)
FIT_STEP = 200.0
FIT_START_SLOPE = 8.0  # the starting stroke map: the unsharp mask's darkness, in pen darkness, this steep
FIT_PEN_PERCENTILE = 99.9  # the pen's darkness: this percentile of the ok boxes' ink, blur not undone


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


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur over +-3 sigma (OpenCV's default kernel for float images spans +-4)."""
    size = 2 * int(np.ceil(3.0 * sigma)) + 1
    return cv2.GaussianBlur(image, (size, size), sigma)


def fit_strokes(ink: np.ndarray, blur_sigma: float, pen: float) -> np.ndarray:
    """Ink darkness (float32, 0..pen) of strokes of the pen's darkness `pen` which, blurred by
    FIT_BLUR_RATIO x `blur_sigma` (page px), look like `ink` (guides removed, blur not undone).

    The strokes are pen x sigmoid(z); z starts at the unsharp mask (`restore`) and follows the gradient of
    the squared difference between the blurred strokes and `ink`, only where the mask sees ink (plus the
    blur's reach). Returns a new array, `ink`'s size.
    """
    sigma = FIT_BLUR_RATIO * blur_sigma
    start = restore(ink, sigma)
    fitted = np.zeros_like(ink)
    rows, cols = np.nonzero(start > 0.25 * pen)
    if len(rows) == 0 or pen <= 0:
        return fitted
    pad = int(np.ceil(3.0 * sigma)) + 2
    y0, y1 = max(0, rows.min() - pad), min(ink.shape[0], rows.max() + pad + 1)
    x0, x1 = max(0, cols.min() - pad), min(ink.shape[1], cols.max() + pad + 1)
    seen = ink[y0:y1, x0:x1]
    z = start[y0:y1, x0:x1] * (FIT_START_SLOPE / pen) - FIT_START_SLOPE / 2
    for _ in range(FIT_ITERATIONS):
        share = 1.0 / (1.0 + cv2.exp(-z))
        misfit = _blur(pen * share, sigma) - seen
        z -= (FIT_STEP * pen) * _blur(misfit, sigma) * share * (1.0 - share)
    fitted[y0:y1, x0:x1] = pen / (1.0 + cv2.exp(-z))
    return fitted


def fit_darkness(inks: Sequence[np.ndarray]) -> float:
    """The pen's darkness for fitting: FIT_PEN_PERCENTILE of the ink pixels (blur not undone) of the page's
    ok boxes; the widest strokes and their crossings reach it through the blur. 0 if there are none."""
    pixels = np.concatenate([np.ravel(v) for v in inks]) if len(inks) else np.zeros(0)
    return float(np.percentile(pixels, FIT_PEN_PERCENTILE)) if pixels.size else 0.0


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
