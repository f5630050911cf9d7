"""Find which template page a photo shows and where: ArUco markers -> page identity -> homography."""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field

import cv2
import numpy as np

from services.extraction.photo import PhotoError
from templates.layout import (
    ARUCO_DICTIONARY,
    MARKER_POSITIONS,
    TEMPLATE_VERSION,
    Page,
    build_layout,
    decode_marker,
)

# Markers are looked for on a copy this size first (fast); full resolution only if that finds too few.
DETECT_LONG_SIDE_PX: int = 1600
MIN_MARKERS: int = 3
# Mean corner misfit (page px) past which the page cannot be flat or the markers were misread.
MAX_REPROJECTION_ERROR_PX: float = 12.0
TOP_ROW = frozenset(i for i, name in enumerate(MARKER_POSITIONS) if name.startswith("top"))


@dataclass(frozen=True)
class MarkerSighting:
    """One decoded marker in the photo: id, what it encodes and its 4 corners in photo pixels."""

    id: int
    version: str
    page: int
    position: int
    corners: np.ndarray  # (4, 2) float32, cv2.aruco order TL, TR, BR, BL of the printed square


@dataclass
class PageFit:
    """Where a template page lies in a photo."""

    page: Page
    homography: np.ndarray  # 3x3, page pixels (300 dpi) -> photo pixels
    markers: list[MarkerSighting]
    reprojection_error_px: float  # RMS corner misfit, in page pixels
    notes: list[str] = field(default_factory=list)
    # "top" / "bottom" when every marker seen is in the other row: the homography is a first guess only,
    # to be completed from the box frames (registration.grow_homography).
    missing_row: str | None = None

    @property
    def marker_ids(self) -> list[int]:
        return sorted(m.id for m in self.markers)


@functools.cache
def _detector() -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    # Corners are refined below at full resolution; the detector's own refinement would only cost time.
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_NONE
    return cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(ARUCO_DICTIONARY), params)


def detect_markers(gray: np.ndarray) -> list[MarkerSighting]:
    """Return every marker of any template version seen in a grayscale photo, corners in full-res pixels.

    Detection runs on a copy scaled to DETECT_LONG_SIDE_PX, falling back to full resolution when that
    copy shows fewer than MIN_MARKERS markers (a page small in a large frame); corners are then refined
    on the full-resolution image.
    """
    long_side = max(gray.shape)
    scales = [DETECT_LONG_SIDE_PX / long_side, 1.0] if long_side > DETECT_LONG_SIDE_PX * 1.25 else [1.0]
    sightings: list[MarkerSighting] = []
    for scale in scales:
        small = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale,
                                                     interpolation=cv2.INTER_AREA)
        corners, ids, _ = _detector().detectMarkers(small)
        sightings = []
        for quad, marker_id in zip(corners, [] if ids is None else ids.ravel(), strict=False):
            decoded = decode_marker(int(marker_id))
            if decoded is None:
                continue
            # pixel centres: a small-image coordinate u covers full-res (u + 0.5) / scale - 0.5
            points = (quad.reshape(4, 2).astype(np.float32) + 0.5) / scale - 0.5
            sightings.append(MarkerSighting(int(marker_id), decoded[0], decoded[1], decoded[2],
                                            _refine_corners(gray, points)))
        if len(sightings) >= MIN_MARKERS:
            break
    return sightings


def _refine_corners(gray: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Sub-pixel corners of one marker; the window stays inside the marker's black border module."""
    side = float(np.mean(np.linalg.norm(points - np.roll(points, 1, axis=0), axis=1)))
    half = int(np.clip(side / 6 * 0.4, 2, 12))  # a module is 1/6 of the marker side
    refined = cv2.cornerSubPix(gray, points.reshape(-1, 1, 2).copy(), (half, half), (-1, -1),
                               (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 30, 0.01))
    refined = refined.reshape(4, 2)
    # A corner that wandered off by more than a module hit some other edge: keep the detector's estimate.
    moved = np.linalg.norm(refined - points, axis=1) > half
    refined[moved] = points[moved]
    return refined


def outline_corners(corners: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Layout marker corners (centres of the outermost pixels) moved half a pixel out to the square's outline,
    which is what sub-pixel corner refinement finds in a photo."""
    points = np.asarray(corners, dtype=np.float64)
    return points + 0.5 * np.sign(points - points.mean(axis=0))


def choose_page(sightings: list[MarkerSighting]) -> tuple[Page, list[MarkerSighting], list[str]]:
    """Return the current-template page most markers belong to, its markers and notes about the rest.

    Raises PhotoError when no marker of the current template is seen (naming another version if that is
    what the photo shows) or when too few markers of the page are visible to place it.
    """
    layout = build_layout()
    current = [s for s in sightings if s.version == TEMPLATE_VERSION and s.page <= len(layout.pages)]
    if not current:
        others = Counter(s.version for s in sightings if s.version != TEMPLATE_VERSION)
        if others:
            version = others.most_common(1)[0][0]
            raise PhotoError(f"this page is from template version {version}; "
                             f"print the current template ({TEMPLATE_VERSION}) and fill that in")
        raise PhotoError("no template page found in this photo: make sure the whole page, "
                         "with its black corner squares, is in the picture")
    counts = Counter(s.page for s in current)
    number = counts.most_common(1)[0][0]
    notes = [f"markers of page {p} are also in the photo; only page {number} was read"
             for p in sorted(counts) if p != number]
    chosen = {s.position: s for s in current if s.page == number}  # one sighting per position
    markers = sorted(chosen.values(), key=lambda s: s.position)
    if len(markers) < MIN_MARKERS:
        raise PhotoError(
            f"only {len(markers)} of the {len(MARKER_POSITIONS)} black corner squares of page {number} are "
            "visible (need 3): photograph the whole page without covering them"
        )
    return layout.page(number), markers, notes


def fit_page(sightings: list[MarkerSighting], image_size: tuple[int, int]) -> PageFit:
    """Identify the page and fit its page-to-photo homography from all corners of its visible markers.

    `image_size` is (width, height) of the photo, used to tell cut-off markers from covered ones.
    Raises PhotoError if no usable page is found or the markers do not agree on a flat page.
    """
    page, markers, notes = choose_page(sightings)
    by_id = {m.id: m for m in page.markers}
    page_points = np.concatenate([outline_corners(by_id[s.id].corners) for s in markers])
    photo_points = np.concatenate([s.corners for s in markers]).astype(np.float64)
    rows = {s.position in TOP_ROW for s in markers}
    missing_row = None
    homography, _ = cv2.findHomography(page_points, photo_points, 0)
    if len(rows) < 2:  # one row only: the fit is loose across the page, a first guess for the frames
        missing_row = "bottom" if True in rows else "top"
    if homography is None:
        raise PhotoError("the corner squares found do not describe a page; "
                         "retake the photo from straight above")

    back = cv2.perspectiveTransform(photo_points.reshape(-1, 1, 2), np.linalg.inv(homography)).reshape(-1, 2)
    error = float(np.sqrt(np.mean(np.sum((back - page_points) ** 2, axis=1))))
    if error > MAX_REPROJECTION_ERROR_PX and missing_row is None:
        raise PhotoError(f"the page does not lie flat (corner misfit {error:.0f} px): "
                         "flatten the sheet on a table and retake the photo")
    seen = {s.position for s in markers}
    width, height = image_size
    for position, marker in enumerate(page.markers):
        if position in seen:
            continue
        corners = cv2.perspectiveTransform(np.asarray(marker.corners, np.float64).reshape(-1, 1, 2),
                                           homography).reshape(-1, 2)
        inside = bool(np.all((corners >= 0) & (corners < [width, height])))
        where = "is covered or unreadable" if inside else "is (partly) outside the photo"
        notes.append(f"the {MARKER_POSITIONS[position]} square {where}")
    return PageFit(page, homography, markers, error, notes, missing_row)


def fit_pages(sightings: list[MarkerSighting], image_size: tuple[int, int]) -> list[PageFit]:
    """Fit every current-template page the photo shows enough markers of (most markers first).

    A photo of two pages side by side gives both; a page with too few markers in view is named in a note of
    the first. With no readable page at all this raises fit_page's PhotoError (wrong version, no page, too
    few markers).
    """
    current = [s for s in sightings if s.version == TEMPLATE_VERSION and s.page <= len(build_layout().pages)]
    counts = Counter(s.page for s in current)
    readable = [number for number, _ in counts.most_common()
                if len({s.position for s in current if s.page == number}) >= MIN_MARKERS]
    if len(readable) < 2:
        return [fit_page(sightings, image_size)]
    fits = [fit_page([s for s in current if s.page == number], image_size) for number in readable]
    fits[0].notes += [f"page {p} is also partly in the photo, too little of it to read"
                      for p in sorted(counts) if p not in readable]
    return fits
