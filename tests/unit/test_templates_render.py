"""Rendered pages: cv2.aruco finds exactly the layout's markers, writing boxes hold no dark guides."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from templates import render
from templates.layout import ARUCO_DICTIONARY, LATIN_BASELINE, Page, build_layout

LAYOUT = build_layout()


@pytest.fixture(scope="module", params=[p.page for p in LAYOUT.pages], ids=lambda n: f"page-{n}")
def rendered(request: pytest.FixtureRequest) -> tuple[Page, np.ndarray]:
    page = LAYOUT.page(request.param)
    return page, render.page_array(page)


def test_page_image_is_the_page_size(rendered: tuple[Page, np.ndarray]) -> None:
    page, image = rendered
    assert image.shape == (page.size_px[1], page.size_px[0], 3) and image.dtype == np.uint8


def test_aruco_detects_exactly_the_layout_markers(rendered: tuple[Page, np.ndarray]) -> None:
    page, image = rendered
    detector = cv2.aruco.ArucoDetector(
        cv2.aruco.getPredefinedDictionary(ARUCO_DICTIONARY), cv2.aruco.DetectorParameters()
    )
    corners, ids, _ = detector.detectMarkers(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
    assert ids is not None
    found = {int(i): c.reshape(4, 2) for i, c in zip(ids.ravel(), corners, strict=True)}
    assert sorted(found) == sorted(m.id for m in page.markers)
    for marker in page.markers:
        np.testing.assert_allclose(found[marker.id], np.array(marker.corners), atol=2.0)


def test_writing_boxes_hold_only_light_guides(rendered: tuple[Page, np.ndarray]) -> None:
    page, image = rendered
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    for cell in page.cells:
        x0, y0, x1, y1 = cell.box
        inside = gray[y0:y1, x0:x1]
        if cell.script == "hangul":
            assert inside.min() == 255, cell  # nothing printed inside a Hangul box
        else:
            assert inside.min() >= 150, cell  # guides are light: ink (dark pen) stays separable
            baseline = y0 + round(LATIN_BASELINE * (y1 - y0))
            assert (inside[baseline - y0] < 250).mean() > 0.9, cell  # the baseline guide is printed
        assert (
            gray[cell.label_box[1] : cell.label_box[3], cell.label_box[0] : cell.label_box[2]].min() < 128
        ), cell


def test_outline_surrounds_each_box(rendered: tuple[Page, np.ndarray]) -> None:
    page, image = rendered
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    for cell in page.cells:
        x0, y0, x1, y1 = cell.box
        ring = np.concatenate([gray[y0 - 1, x0:x1], gray[y1, x0:x1], gray[y0:y1, x0 - 1], gray[y0:y1, x1]])
        assert 150 <= ring.max() < 255 and ring.min() >= 150, cell  # light grey all round, never dark


def test_missing_label_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "TEXT_FONT", Path("/nonexistent/NanumGothic.ttf"))
    with pytest.raises(FileNotFoundError, match="fonts-nanum"):
        render.render_page(LAYOUT.page(1))
