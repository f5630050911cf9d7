"""Follow the paper: correct the markers' homography with the printed writing-box frames into a smooth warp.

The six markers place a flat sheet; a sheet lifted off the table, curling or held in a hand is not flat, and
one homography misplaces its boxes by a millimetre or two. Every writing box has a printed frame whose place
on the page is known (templates/layout.py), so each frame found in the photo says how far the paper moved
there. Frames are looked for on a half-size rectification around where the current fit expects them, nearest
the markers first (so a page whose markers are all in one row is grown from that row); a smooth polynomial
field of offsets is fitted to them, robustly, and the page is then cut out of the photo through it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from templates.layout import Page

MEASURE_SCALE = 0.5  # frames are measured on a rectification this size of the 300-dpi page
SEARCH_PX = 24  # how far (page px) from where the fit expects it a frame is looked for
EDGE_INSET_PX = 24  # frame lines are profiled away from the box corners, which other lines cross
CHUNKS = 8  # a line is dark along its whole length: the median over chunks drops text and ink
LINE_OFFSETS = (-2.0, 1.0)  # centre of the 3-px outline before / after the box edge (templates/render.py)
MIN_LINE_DARKNESS = 1.5  # a frame line must be this much (of 255) darker than the paper around it
UNIQUE_RATIO = 0.9  # a frame whose second-best place scores this close to the best is ambiguous
OUTLIER_PX = 1.5  # frames further than this (or 3x the median misfit) from the fitted field are set aside
GRID_STEP_PX = 16  # the dense page -> photo map is evaluated every this many page pixels, then upscaled
BANDS_PX = (900.0, 1800.0, float("inf"))  # frames are taken in rings of this distance around the markers
GROW_BANDS_PX = (350.0, 600.0, 900.0, 1300.0, 1800.0, 2400.0, float("inf"))  # ...when one row is all


@dataclass
class Registration:
    """Where every page pixel is in the photo: homography after a smooth correction in page space."""

    homography: np.ndarray  # 3x3, page px -> photo px (from the markers)
    coefficients: np.ndarray  # (terms, 2) polynomial offsets (page px) added to a page point before it
    degree: int  # of the polynomial; -1: no correction (no frames found)
    page_size: tuple[int, int]
    frames_found: int
    frames_looked_for: int
    residual_px: float  # RMS misfit of the frames kept, page px
    bend_px: float  # largest correction over the page, page px: how far from flat the sheet was

    def offsets(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The correction (..., 2) in page px at page points x, y."""
        if self.degree < 0:
            return np.zeros((*np.shape(x), 2))
        return _terms(x, y, self.page_size, self.degree) @ self.coefficients

    def to_photo(self, points: np.ndarray) -> np.ndarray:
        """Page points (N, 2) -> photo points (N, 2)."""
        points = np.asarray(points, np.float64).reshape(-1, 2)
        moved = points + self.offsets(points[:, 0], points[:, 1])
        return cv2.perspectiveTransform(moved.reshape(-1, 1, 2), self.homography).reshape(-1, 2)

    def photo_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """cv2.remap maps (fixed point) giving, for each page pixel, where it is in the photo."""
        width, height = self.page_size
        nx, ny = -(-width // GRID_STEP_PX), -(-height // GRID_STEP_PX)
        # node i sits at page pixel (i + 0.5) * step - 0.5, where cv2.resize puts it when upscaling
        gx = (np.arange(nx) + 0.5) * GRID_STEP_PX - 0.5
        gy = (np.arange(ny) + 0.5) * GRID_STEP_PX - 0.5
        xs, ys = np.meshgrid(gx, gy)
        photo = self.to_photo(np.stack([xs, ys], -1)).reshape(ny, nx, 2).astype(np.float32)
        full = cv2.resize(photo, (nx * GRID_STEP_PX, ny * GRID_STEP_PX), interpolation=cv2.INTER_LINEAR)
        full = np.ascontiguousarray(full[:height, :width])
        return cv2.convertMaps(full, None, cv2.CV_16SC2)  # type: ignore[call-overload]


def _terms(x: np.ndarray | float, y: np.ndarray | float, size: tuple[int, int], degree: int) -> np.ndarray:
    """Polynomial terms x^i y^j (i + j <= degree) of page points scaled to -0.5..0.5; shape (..., terms)."""
    u = np.asarray(x, np.float64) / size[0] - 0.5
    v = np.asarray(y, np.float64) / size[1] - 0.5
    return np.stack([u**i * v**j for i in range(degree + 1) for j in range(degree + 1 - i)], -1)


def _profile_offset(strip: np.ndarray, along_rows: bool, first: float, second: float,
                    start: int) -> float | None:
    """Where two parallel frame lines are in a strip of the measuring image, as a shift from `first` and
    `second` (their expected centres, in the image's coordinate across the lines); None if not clear.
    `along_rows`: the lines run along the rows (horizontal lines; the profile is over rows).
    """
    # Darkness relative to the paper here, so a frame in a shadow counts like one in the light.
    paper = max(float(np.percentile(strip, 90)), 1.0)
    darkness = 255.0 * (1.0 - strip.astype(np.float32) / paper)
    if along_rows:
        darkness = darkness.T  # chunks along the lines (first axis), the profile across them (last axis)
    usable = darkness.shape[0] // CHUNKS * CHUNKS
    if usable < CHUNKS:
        return None
    chunks = darkness[:usable].reshape(CHUNKS, -1, darkness.shape[1]).mean(axis=1)
    profile = np.median(chunks, axis=0)
    # A ridge filter: the profile less its mean over a few line widths keeps a thin printed line and flattens
    # the broad bump of a pen stroke beside it.
    window = max(3, round(4 * 3 * MEASURE_SCALE) | 1)
    profile = profile - np.convolve(np.pad(profile, window // 2, mode="edge"), np.ones(window) / window,
                                    mode="valid")
    reach = SEARCH_PX * MEASURE_SCALE
    shifts = np.arange(-reach, reach + 1e-6, 0.25)
    index = np.arange(len(profile), dtype=np.float64)
    a = np.interp(first - start + shifts, index, profile, left=0.0, right=0.0)
    b = np.interp(second - start + shifts, index, profile, left=0.0, right=0.0)
    score = np.minimum(a, b)  # both lines must be there: ink beside one of them does not pass for a frame
    best = int(np.argmax(score))
    if score[best] < MIN_LINE_DARKNESS:
        return None
    away = np.abs(shifts - shifts[best]) > 3.0 * MEASURE_SCALE
    if away.any() and score[away].max() > UNIQUE_RATIO * score[best]:
        return None
    shift = shifts[best]
    if 0 < best < len(score) - 1:  # parabola through the peak and its neighbours
        left, mid, right = score[best - 1], score[best], score[best + 1]
        bend = left - 2 * mid + right
        if bend < 0:
            shift += 0.25 * 0.5 * (left - right) / bend
    return float(shift / MEASURE_SCALE)


def _scaled(value: float) -> float:
    """Page coordinate -> coordinate in the measuring image (pixel centres stay on pixel centres)."""
    return MEASURE_SCALE * (value + 0.5) - 0.5


def measure_frame(image: np.ndarray, box: tuple[int, int, int, int],
                  guess: tuple[float, float]) -> tuple[float, float] | None:
    """The (dx, dy) page px by which a box's frame lies away from its layout place in the measuring image
    (a MEASURE_SCALE rectification), searched around `guess`; None when either direction is unclear."""
    x0, y0, x1, y1 = box
    gx, gy = guess
    reach = SEARCH_PX + 4
    height, width = image.shape
    # vertical lines (dx): a strip across them, spanning the box's inner rows
    top, bottom = int(_scaled(y0 + EDGE_INSET_PX + gy)), int(_scaled(y1 - EDGE_INSET_PX + gy)) + 1
    left = int(_scaled(x0 + LINE_OFFSETS[0] + gx - reach))
    right = int(_scaled(x1 + LINE_OFFSETS[1] + gx + reach)) + 2
    if top < 0 or left < 0 or bottom > height or right > width:
        return None
    dx = _profile_offset(image[top:bottom, left:right], False, _scaled(x0 + LINE_OFFSETS[0] + gx),
                         _scaled(x1 + LINE_OFFSETS[1] + gx), left)
    # horizontal lines (dy): a strip across them, spanning the box's inner columns
    left, right = int(_scaled(x0 + EDGE_INSET_PX + gx)), int(_scaled(x1 - EDGE_INSET_PX + gx)) + 1
    top = int(_scaled(y0 + LINE_OFFSETS[0] + gy - reach))
    bottom = int(_scaled(y1 + LINE_OFFSETS[1] + gy + reach)) + 2
    if top < 0 or left < 0 or bottom > height or right > width:
        return None
    dy = _profile_offset(image[top:bottom, left:right], True, _scaled(y0 + LINE_OFFSETS[0] + gy),
                         _scaled(y1 + LINE_OFFSETS[1] + gy), top)
    if dx is None or dy is None:
        return None
    return gx + dx, gy + dy


def _fit(points: np.ndarray, offsets: np.ndarray, size: tuple[int, int],
         degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Robust least-squares polynomial field through measured offsets; returns (coefficients, inlier mask)."""
    keep = np.ones(len(points), bool)
    coefficients = np.zeros((len(_terms(0.0, 0.0, size, degree)), 2))
    for _ in range(3):
        terms = _terms(points[keep, 0], points[keep, 1], size, degree)
        coefficients = np.linalg.lstsq(terms, offsets[keep], rcond=None)[0]
        misfit = np.linalg.norm(_terms(points[:, 0], points[:, 1], size, degree) @ coefficients - offsets,
                                axis=1)
        limit = max(OUTLIER_PX, 3.0 * float(np.median(misfit[keep])))
        new = misfit <= limit
        if new.sum() < len(terms[0]) + 2 or np.array_equal(new, keep):
            break
        keep = new
    return coefficients, keep


def _max_degree(points: np.ndarray, size: tuple[int, int]) -> int:
    """The highest polynomial degree the frames found can support: low while they cover a narrow part."""
    if len(points) < 6:
        return 0
    span = min(np.ptp(points[:, 0]) / size[0], np.ptp(points[:, 1]) / size[1])
    if len(points) >= 30 and span > 0.5:
        return 3
    if len(points) >= 12 and span > 0.25:
        return 2
    return 1


def _choose_fit(points: np.ndarray, offsets: np.ndarray, size: tuple[int, int],
                allow_none: bool) -> tuple[np.ndarray, int, np.ndarray]:
    """The simplest field the frames call for: (coefficients, degree, inliers); degree -1 is no correction.

    Each degree up to what the frames support is fitted; the one with the least final prediction error
    (mean squared misfit over the common inliers x (n + k) / (n - k), k terms) wins, so measurement noise
    on a flat sheet does not buy a wobbly field.
    """
    top = _max_degree(points, size)
    coefficients, keep = _fit(points, offsets, size, top)
    n = int(keep.sum())
    best: tuple[float, np.ndarray, int] | None = None
    if allow_none:
        best = (float(np.mean(np.sum(offsets[keep] ** 2, axis=1))) * n / max(n - 1, 1), np.zeros((1, 2)), -1)
    for degree in range(top + 1):
        if degree == top:
            fitted = coefficients
        else:
            terms = _terms(points[keep, 0], points[keep, 1], size, degree)
            fitted = np.linalg.lstsq(terms, offsets[keep], rcond=None)[0]
        k = len(fitted)
        if n - k < 2:
            continue
        misfit = _terms(points[keep, 0], points[keep, 1], size, degree) @ fitted - offsets[keep]
        error = float(np.mean(np.sum(misfit**2, axis=1))) * (n + k) / (n - k)
        if best is None or error < best[0]:
            best = (error, fitted, degree)
    if best is None:
        return coefficients, top, keep
    return best[1], best[2], keep


def _measuring_image(gray: np.ndarray, page: Page, homography: np.ndarray) -> np.ndarray:
    """The page rectified along `homography` at MEASURE_SCALE (outside the photo: black)."""
    to_small = np.diag([1 / MEASURE_SCALE, 1 / MEASURE_SCALE, 1.0])
    to_small[:2, 2] = 0.5 / MEASURE_SCALE - 0.5  # small pixel u is page pixel (u + 0.5) / scale - 0.5
    small_size = (round(page.size_px[0] * MEASURE_SCALE), round(page.size_px[1] * MEASURE_SCALE))
    return cv2.warpPerspective(gray, homography @ to_small, small_size,
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=0)


def grow_homography(gray: np.ndarray, page: Page, homography: np.ndarray, page_points: np.ndarray,
                    photo_points: np.ndarray) -> tuple[np.ndarray, int]:
    """Complete a homography known only near one row of markers from the box frames, row by row.

    `page_points` / `photo_points` are the marker corners it was fitted to. Frames are measured in rings
    of growing distance from them; each ring's box corners join the fit before the next is predicted.
    Returns the homography and how many frames were found.
    """
    boxes = [cell.box for cell in page.cells]
    centres = np.array([[(b[0] + b[2]) / 2, (b[1] + b[3]) / 2] for b in boxes])
    distance = np.min(np.linalg.norm(centres[:, None] - page_points[None], axis=2), axis=1)
    found: set[int] = set()
    sources, targets = [page_points], [photo_points]
    for band in GROW_BANDS_PX:
        image = _measuring_image(gray, page, homography)
        added = False
        for index in np.flatnonzero(distance <= band):
            if int(index) in found:
                continue
            offset = measure_frame(image, boxes[index], (0.0, 0.0))
            if offset is None:
                continue
            x0, y0, x1, y1 = boxes[index]
            corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64) - 0.5
            seen = cv2.perspectiveTransform((corners + offset).reshape(-1, 1, 2), homography).reshape(-1, 2)
            sources.append(corners)
            targets.append(seen)
            found.add(int(index))
            added = True
        if added:
            refit, _ = cv2.findHomography(np.concatenate(sources), np.concatenate(targets), cv2.LMEDS)
            if refit is not None:
                homography = refit
    return homography, len(found)


def register(gray: np.ndarray, page: Page, homography: np.ndarray, anchors: np.ndarray) -> Registration:
    """Fit the smooth page -> photo warp: `homography` from the markers, corrected by the box frames.

    `anchors` are the page points (N, 2) the homography is sure of (the centres of the markers seen);
    frames are measured outwards from them in rings, each ring predicted by the fit of those before it.
    """
    size = page.size_px
    image = _measuring_image(gray, page, homography)
    boxes = [cell.box for cell in page.cells]
    centres = np.array([[(b[0] + b[2]) / 2, (b[1] + b[3]) / 2] for b in boxes])
    distance = np.min(np.linalg.norm(centres[:, None] - anchors[None], axis=2), axis=1)
    found: dict[int, tuple[float, float]] = {}
    coefficients, degree = np.zeros((1, 2)), -1
    for band in BANDS_PX:
        for index in np.flatnonzero(distance <= band):
            if index in found:
                continue
            guess = (0.0, 0.0)
            if degree >= 0:
                x, y = _terms(centres[index, 0], centres[index, 1], size, degree) @ coefficients
                guess = (float(x), float(y))
            offset = measure_frame(image, boxes[index], guess)
            if offset is not None:
                found[int(index)] = offset
        if found:
            points = centres[list(found)]
            coefficients, degree, keep = _choose_fit(points, np.array(list(found.values())), size,
                                                     allow_none=band == BANDS_PX[-1])
    if not found:
        return Registration(homography, np.zeros((1, 2)), -1, size, 0, len(boxes), 0.0, 0.0)
    fit = Registration(homography, coefficients, degree, size, int(keep.sum()), len(boxes), 0.0, 0.0)
    points = centres[list(found)]
    misfit = np.linalg.norm(fit.offsets(points[:, 0], points[:, 1]) - np.array(list(found.values())), axis=1)
    fit.residual_px = float(np.sqrt(np.mean(misfit[keep] ** 2)))
    corners = np.array([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]])
    grid = np.concatenate([centres, corners])
    fit.bend_px = float(np.max(np.linalg.norm(fit.offsets(grid[:, 0], grid[:, 1]), axis=1)))
    return fit
