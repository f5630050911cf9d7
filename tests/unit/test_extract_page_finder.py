"""Page finding: marker ids -> which page of which template version, and the page-to-photo homography."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from services.extraction.page_finder import (
    MarkerSighting,
    choose_page,
    detect_markers,
    fit_page,
    outline_corners,
)
from services.extraction.photo import PhotoError
from services.extraction.registration import grow_homography
from templates.layout import TEMPLATE_VERSION, build_layout, decode_marker, marker_id
from templates.render import page_array
from tests.simulator.camera import Camera, page_to_photo

LAYOUT = build_layout()


@functools.cache
def _page_gray(number: int) -> np.ndarray:
    return np.asarray(cv2.cvtColor(page_array(LAYOUT.page(number)), cv2.COLOR_RGB2GRAY))


def _photo(number: int, seed: int, hide: tuple[int, ...] = (), size: tuple[int, int] = (1600, 1200),
           **camera: float) -> tuple[np.ndarray, np.ndarray]:
    """A clean synthetic photo of a blank page (markers at `hide` painted over) and its true homography."""
    page = LAYOUT.page(number)
    gray = _page_gray(number).copy()
    for position in hide:
        (x0, y0), (x1, y1) = page.markers[position].corners[0], page.markers[position].corners[2]
        gray[int(y0):int(y1) + 1, int(x0):int(x1) + 1] = 255
    homography = page_to_photo(page, Camera(size=size, **camera), np.random.default_rng(seed))  # type: ignore[arg-type]
    photo = cv2.warpPerspective(cv2.GaussianBlur(gray, (0, 0), 1.2), homography, size, borderValue=90)
    return photo, homography


def _cell_centre_error(fit_h: np.ndarray, true_h: np.ndarray, number: int) -> float:
    """Largest distance (page px) between where the fit and the truth put the cell centres."""
    cells = LAYOUT.page(number).cells
    centres = np.array([[(c.box[0] + c.box[2]) / 2, (c.box[1] + c.box[3]) / 2] for c in cells])
    in_photo = cv2.perspectiveTransform(centres.reshape(-1, 1, 2), fit_h)
    back = cv2.perspectiveTransform(in_photo, np.linalg.inv(true_h)).reshape(-1, 2)
    return float(np.max(np.linalg.norm(back - centres, axis=1)))


@pytest.mark.parametrize(("number", "rotation", "tilt"), [(1, 0.0, 0.0), (2, 180.0, 25.0), (3, 97.0, 35.0)])
def test_finds_the_page_and_its_geometry(number: int, rotation: float, tilt: float) -> None:
    # At 2400x1800 a page pixel is about half a photo pixel; the fit must be better than that.
    photo, truth = _photo(number, seed=number, size=(2400, 1800), rotation=rotation, tilt=tilt)
    fit = fit_page(detect_markers(photo), (photo.shape[1], photo.shape[0]))
    assert fit.page.page == number
    assert fit.marker_ids == sorted(m.id for m in LAYOUT.page(number).markers)
    assert fit.reprojection_error_px < 1.0
    assert _cell_centre_error(fit.homography, truth, number) < 1.0


def test_three_markers_still_place_the_page() -> None:
    # Top-middle, bottom-middle and bottom-right covered: three corners' worth of markers remain.
    photo, truth = _photo(2, seed=7, hide=(1, 4, 5), rotation=180.0, tilt=20.0)
    fit = fit_page(detect_markers(photo), (photo.shape[1], photo.shape[0]))
    assert len(fit.markers) == 3
    # 1600x1200: a page pixel is a third of a photo pixel, and three markers extrapolate to the far corner.
    assert _cell_centre_error(fit.homography, truth, 2) < 2.5
    assert any("covered" in note for note in fit.notes)


def _sighting(version: str, page: int, position: int) -> MarkerSighting:
    corners = np.zeros((4, 2), np.float32)
    return MarkerSighting(marker_id(version, page, position), version, page, position, corners)


def test_marker_ids_name_version_page_and_position() -> None:
    for page in LAYOUT.pages:
        for position, marker in enumerate(page.markers):
            assert decode_marker(marker.id) == (TEMPLATE_VERSION, page.page, position)


def test_majority_page_wins_and_the_other_is_noted() -> None:
    sightings = [_sighting(TEMPLATE_VERSION, 2, p) for p in (0, 2, 3, 5)]
    sightings.append(_sighting(TEMPLATE_VERSION, 1, 4))
    page, markers, notes = choose_page(sightings)
    assert page.page == 2
    assert [m.position for m in markers] == [0, 2, 3, 5]
    assert notes and "page 1" in notes[0]


def test_another_template_version_is_named() -> None:
    with pytest.raises(PhotoError, match=r"version v0.*current template \(v1\)"):
        choose_page([_sighting("v0", 1, p) for p in range(6)])


def test_no_markers_means_no_page() -> None:
    with pytest.raises(PhotoError, match="no template page found"):
        choose_page([])


def test_page_numbers_beyond_the_template_are_ignored() -> None:
    beyond = len(LAYOUT.pages) + 1
    with pytest.raises(PhotoError, match="no template page found"):
        choose_page([_sighting(TEMPLATE_VERSION, beyond, p) for p in range(6)])


def test_two_markers_are_not_enough() -> None:
    with pytest.raises(PhotoError, match="only 2 of the 6"):
        choose_page([_sighting(TEMPLATE_VERSION, 1, p) for p in (0, 2)])


@pytest.mark.parametrize(("hide", "missing"), [((0, 1, 2), "top"), ((3, 4, 5), "bottom")])
def test_one_row_of_markers_is_completed_from_the_box_frames(hide: tuple[int, ...], missing: str) -> None:
    photo, truth = _photo(2, seed=5, hide=hide, size=(2400, 1800), rotation=8.0, tilt=25.0)
    fit = fit_page(detect_markers(photo), (2400, 1800))
    assert fit.missing_row == missing
    by_id = {m.id: m for m in fit.page.markers}
    page_points = np.concatenate([outline_corners(by_id[s.id].corners) for s in fit.markers])
    photo_points = np.concatenate([s.corners for s in fit.markers]).astype(np.float64)
    grown, frames = grow_homography(photo, fit.page, fit.homography, page_points, photo_points)
    # The fit to one row alone is off across the page; the frames bring it within a pixel.
    assert _cell_centre_error(fit.homography, truth, 2) > 2.0
    assert frames >= 90 and _cell_centre_error(grown, truth, 2) < 1.0


def test_a_photo_without_markers_is_refused() -> None:
    rng = np.random.default_rng(3)
    blotches = rng.integers(0, 255, (12, 16), dtype=np.uint8)
    scene = cv2.resize(blotches, (1600, 1200), interpolation=cv2.INTER_CUBIC)
    with pytest.raises(PhotoError, match="no template page found"):
        fit_page(detect_markers(scene), (1600, 1200))
