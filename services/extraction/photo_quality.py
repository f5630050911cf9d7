"""Judge whether a page photo can be trusted: sharpness from the marker edges, exposure, pixels per box, glare
and the edge a photo cut off, so that photo problems get a page-level answer instead of blamed cells."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from services.extraction.photo import PhotoError
from templates.layout import Marker

# Sharpness is 100 x the steepest edge slope / edge contrast, in page pixels (300 dpi): a clean edge spread
# over w pixels scores about 100 / w. Below MIN_SHARPNESS strokes a few pixels apart run together.
MIN_SHARPNESS: float = 6.0
MIN_PAPER_LEVEL: float = 0.12  # paper darker than this (0 black .. 1 white) is a photo taken in the dark
MIN_CONTRAST: float = 0.35  # marker black against paper; lower is fog, glare or a washed-out print


def sharpness(page_gray: np.ndarray, markers: Sequence[Marker]) -> float:
    """Median over the visible markers of 100 x (99.5th percentile gradient) / (black-to-white contrast)."""
    scores = []
    for marker in markers:
        corners = np.asarray(marker.corners)
        (x0, y0), (x1, y1) = corners.min(axis=0).astype(int) - 6, corners.max(axis=0).astype(int) + 7
        patch = page_gray[max(0, y0):y1, max(0, x0):x1].astype(np.float32)
        if patch.size == 0:
            continue
        # Sobel / 8 is the central-difference slope per pixel, smoothed across the edge direction.
        gx = cv2.Sobel(patch, cv2.CV_32F, 1, 0, ksize=3) / 8.0
        gy = cv2.Sobel(patch, cv2.CV_32F, 0, 1, ksize=3) / 8.0
        slope = float(np.percentile(np.hypot(gx, gy), 99.5))
        low, high = np.percentile(patch, [3, 97])
        if high - low > 10:
            scores.append(100.0 * slope / float(high - low))
    return float(np.median(scores)) if scores else 0.0


def blur_sigma(sharp: float) -> float:
    """The Gaussian blur (sigma, page px) whose edges score `sharp`: steepest slope 1 / (sigma sqrt(2 pi))."""
    return 100.0 / (max(sharp, 1.0) * np.sqrt(2.0 * np.pi))


def marker_contrast(page_gray: np.ndarray, markers: Sequence[Marker]) -> float:
    """1 - (marker black / paper white) over the visible markers: 1 is perfect, 0 is a grey fog."""
    values = []
    for marker in markers:
        corners = np.asarray(marker.corners)
        (x0, y0), (x1, y1) = corners.min(axis=0).astype(int) - 30, corners.max(axis=0).astype(int) + 31
        patch = page_gray[max(0, y0):y1, max(0, x0):x1]
        if patch.size:
            low, high = np.percentile(patch, [2, 98])
            values.append(1.0 - float(low) / max(float(high), 1.0))
    return float(np.median(values)) if values else 0.0


def check_quality(sharp: float, paper_level: float, contrast: float) -> None:
    """Raise PhotoError if the photo is too blurry, too dark or too washed out to read."""
    if sharp < MIN_SHARPNESS:
        raise PhotoError(f"the photo is too blurry to read (sharpness {sharp:.1f}, need "
                         f"{MIN_SHARPNESS:.0f}): hold the phone still, let it focus and retake it")
    if paper_level < MIN_PAPER_LEVEL:
        raise PhotoError(f"the photo is too dark (paper at {paper_level:.0%} brightness): "
                         "take it in better light")
    if contrast < MIN_CONTRAST:
        raise PhotoError(f"the photo has too little contrast (black squares only {contrast:.0%} darker than "
                         "the paper): avoid glare and fog on the lens and retake it")


# A writing box narrower than this many photo pixels holds too little detail to judge the writing in it:
# the page is refused with "move closer" rather than its cells blamed on the writer.
MIN_BOX_PHOTO_PX: float = 40.0
SOFT_BOX_PHOTO_PX: float = 52.0  # ...and below this the report suggests moving closer
# A reflection lifts the paper towards white and washes the ink out long before the paper clips: a box
# whose paper is near white and well above the lighting around it is under glare. The lighting around is a
# wide median of the paper map: it keeps a shadow's edge and a gradient (neither is glare) and drops a spot.
GLARE_LEVEL: int = 240  # paper grey level (0-255) a box must reach...
GLARE_ABOVE: float = 18.0  # ...rising this many levels above the lighting around it
GLARE_WINDOW: int = 101  # median window (paper-map pixels, 8 page px each): wider than a glare spot


def check_scale(box_photo_px: float) -> str | None:
    """Raise PhotoError when the boxes are too few pixels wide to read; return a note when they are few."""
    if box_photo_px < MIN_BOX_PHOTO_PX:
        raise PhotoError(f"the page is too small in the photo (each box is only {box_photo_px:.0f} pixels "
                         f"wide, need {MIN_BOX_PHOTO_PX:.0f}): move closer so the page fills the frame, "
                         "and retake it")
    if box_photo_px < SOFT_BOX_PHOTO_PX:
        return (f"the page is small in the photo (boxes {box_photo_px:.0f} pixels wide): move closer for "
                "sharper glyphs")
    return None


def glare_boxes(paper: np.ndarray, step: int, boxes: Sequence[tuple[int, int, int, int]]) -> list[bool]:
    """Which boxes a reflection washes out, from the paper brightness map (uint8, 1/`step` of the page)."""
    level = paper.astype(np.float64)
    lighting = cv2.medianBlur(paper, min(GLARE_WINDOW, (min(paper.shape) - 1) | 1)).astype(np.float64)
    found = []
    for x0, y0, x1, y1 in boxes:
        window = (slice(y0 // step, -(-y1 // step)), slice(x0 // step, -(-x1 // step)))
        found.append(float(level[window].max()) >= GLARE_LEVEL
                     and float((level[window] - lighting[window]).max()) >= GLARE_ABOVE)
    return found


def cut_edge(centres: np.ndarray, outside: Sequence[bool], size: tuple[int, int]) -> str | None:
    """Which edge of the page ("top", "left", ...) the cells outside the photo lie along, or None."""
    if not any(outside):
        return None
    mean = np.mean(centres[np.asarray(outside)], axis=0) / np.asarray(size) - 0.5
    if abs(mean[0]) > abs(mean[1]):
        return "left" if mean[0] < 0 else "right"
    return "top" if mean[1] < 0 else "bottom"
