"""Registration from the printed box frames: frames are found where the paper put them, and a smooth field is
fitted only when the frames call for one."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from services.extraction.registration import MEASURE_SCALE, measure_frame, register
from templates.layout import build_layout
from templates.render import page_array

PAGE = build_layout().page(1)


@functools.cache
def _blank() -> np.ndarray:
    return np.asarray(cv2.cvtColor(page_array(PAGE), cv2.COLOR_RGB2GRAY))


def _measuring(shift: tuple[float, float]) -> np.ndarray:
    """The page moved by `shift` page px, at the measuring scale."""
    moved = cv2.warpAffine(_blank(), np.array([[1, 0, shift[0]], [0, 1, shift[1]]], np.float32), PAGE.size_px,
                           borderValue=255)
    return cv2.resize(moved, None, fx=MEASURE_SCALE, fy=MEASURE_SCALE, interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("shift", [(0.0, 0.0), (7.5, -3.0), (-18.0, 12.0)])
def test_a_frame_is_found_where_it_was_moved(shift: tuple[float, float]) -> None:
    image = _measuring(shift)
    for cell in PAGE.cells[::17]:
        found = measure_frame(image, cell.box, (0.0, 0.0))
        assert found is not None
        assert abs(found[0] - shift[0]) < 0.6 and abs(found[1] - shift[1]) < 0.6


def test_ink_beside_a_frame_is_not_taken_for_it() -> None:
    page = _blank().copy()
    x0, y0, _, y1 = PAGE.cells[0].box
    page[y0 + 10:y1 - 10, x0 + 12:x0 + 18] = 30  # a long pen stroke 14 px inside the left edge
    image = cv2.resize(page, None, fx=MEASURE_SCALE, fy=MEASURE_SCALE, interpolation=cv2.INTER_AREA)
    found = measure_frame(image, PAGE.cells[0].box, (0.0, 0.0))
    assert found is not None and abs(found[0]) < 0.6 and abs(found[1]) < 0.6


def test_a_flat_page_gets_no_correction_and_a_bent_one_gets_a_smooth_field() -> None:
    gray = _blank()
    flat = register(gray, PAGE, np.eye(3), np.array([[300.0, 300.0]]))
    assert flat.frames_found >= 95 and flat.bend_px < 0.4
    # Bend the page: points move by up to 12 px along a smooth arch (more in the middle than at the edges).
    width, height = PAGE.size_px
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    arch = 12.0 * (1 - ((xs - width / 2) / (width / 2)) ** 2)
    bent = cv2.remap(gray, xs, ys - arch, cv2.INTER_LINEAR, borderValue=255)
    fitted = register(bent, PAGE, np.eye(3), np.array([[300.0, 300.0]]))
    centres = np.array([[(c.box[0] + c.box[2]) / 2, (c.box[1] + c.box[3]) / 2] for c in PAGE.cells])
    expected = 12.0 * (1 - ((centres[:, 0] - width / 2) / (width / 2)) ** 2)
    moved = fitted.to_photo(centres)
    assert fitted.frames_found >= 95 and fitted.bend_px > 8.0
    assert np.abs(moved[:, 1] - centres[:, 1] - expected).max() < 1.0
    assert np.abs(moved[:, 0] - centres[:, 0]).max() < 1.0
