"""Page geometry: boxes and labels fit, never overlap, markers are big and decodable to (version, page)."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from templates import layout as L
from templates.charset import HANGUL, LATIN

LAYOUT = L.build_layout()
MM = L.DPI / 25.4
Box = tuple[int, int, int, int]


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _marker_box(marker: L.Marker, quiet: int = 0) -> Box:
    xs = [x for x, _ in marker.corners]
    ys = [y for _, y in marker.corners]
    # corners are centres of the outer pixels, so the printed square ends one pixel further
    return (int(min(xs)) - quiet, int(min(ys)) - quiet, int(max(xs)) + 1 + quiet, int(max(ys)) + 1 + quiet)


def test_page_is_a4_at_300_dpi() -> None:
    assert L.DPI == 300
    width_mm, height_mm = (v / MM for v in L.PAGE_SIZE_PX)
    assert width_mm == pytest.approx(210, abs=0.1) and height_mm == pytest.approx(297, abs=0.1)
    assert all(p.size_px == L.PAGE_SIZE_PX for p in LAYOUT.pages)


def test_every_character_appears_once_hangul_pages_first() -> None:
    cells = [c for p in LAYOUT.pages for c in p.cells]
    assert [c.char for c in cells] == list(HANGUL) + list(LATIN)
    assert all(c.codepoint == ord(c.char) for c in cells)
    assert [c.script for c in cells] == ["hangul"] * len(HANGUL) + ["latin"] * len(LATIN)
    assert all(len({c.script for c in p.cells}) == 1 for p in LAYOUT.pages)


def test_writing_boxes_are_at_least_15_mm_and_inside_the_page() -> None:
    width, height = L.PAGE_SIZE_PX
    margin = 8 * MM
    for cell in (c for p in LAYOUT.pages for c in p.cells):
        x0, y0, x1, y1 = cell.box
        assert min(x1 - x0, y1 - y0) >= 15 * MM, cell
        for x0, y0, x1, y1 in (cell.box, cell.label_box):
            assert margin <= x0 < x1 <= width - margin and margin <= y0 < y1 <= height - margin, cell


def test_boxes_labels_and_marker_quiet_zones_never_overlap() -> None:
    for page in LAYOUT.pages:
        rects = [c.box for c in page.cells] + [c.label_box for c in page.cells]
        rects += [_marker_box(m, L.QUIET_ZONE_PX) for m in page.markers]
        for a, b in combinations(rects, 2):
            assert not _overlap(a, b), (page.page, a, b)


def test_each_label_sits_just_above_its_own_box() -> None:
    for cell in (c for p in LAYOUT.pages for c in p.cells):
        lx0, ly0, lx1, ly1 = cell.label_box
        x0, y0, x1, _ = cell.box
        assert ly1 <= y0 and y0 - ly1 < 0.1 * (x1 - x0) and (lx0, lx1) == (x0, x1)
        assert (ly1 - ly0) / MM >= 3


def test_markers_are_big_at_the_corners_and_inside_printable_margins() -> None:
    width, height = L.PAGE_SIZE_PX
    for page in LAYOUT.pages:
        assert len(page.markers) >= 4
        for marker in page.markers:
            x0, y0, x1, y1 = _marker_box(marker)
            assert 15 <= (x1 - x0) / MM <= 20 and x1 - x0 == y1 - y0
            assert min(x0, y0, width - x1, height - y1) >= 8 * MM
        corners = {
            (round(_marker_box(m)[0] / width), round(_marker_box(m)[1] / height)) for m in page.markers
        }
        assert {(0, 0), (1, 0), (0, 1), (1, 1)} <= corners  # one marker near each page corner


def test_marker_ids_are_unique_and_decode_to_this_version_and_page() -> None:
    ids = [m.id for p in LAYOUT.pages for m in p.markers]
    assert len(ids) == len(set(ids))
    for page in LAYOUT.pages:
        positions = []
        for marker in page.markers:
            decoded = L.decode_marker(marker.id)
            assert decoded is not None and decoded[:2] == (L.TEMPLATE_VERSION, page.page)
            assert L.version_of_marker(marker.id) == L.TEMPLATE_VERSION and L.is_current_marker(marker.id)
            positions.append(decoded[2])
        assert sorted(positions) == list(range(len(L.MARKER_POSITIONS)))


@given(st.integers(0, 9), st.integers(1, L.MAX_PAGES), st.integers(0, len(L.MARKER_POSITIONS) - 1))
def test_marker_ids_round_trip_for_every_version(version: int, page: int, position: int) -> None:
    marker_id = L.marker_id(f"v{version}", page, position)
    assert 0 <= marker_id < 250  # DICT_4X4_250
    assert L.decode_marker(marker_id) == (f"v{version}", page, position)
    assert L.is_current_marker(marker_id) == (f"v{version}" == L.TEMPLATE_VERSION)


def test_other_versions_and_foreign_ids_are_told_apart() -> None:
    assert L.version_of_marker(L.marker_id("v0", 1, 0)) == "v0"
    assert L.version_of_marker(L.marker_id("v2", 1, 0)) == "v2"
    assert L.decode_marker(250) is None and L.decode_marker(-1) is None and L.version_of_marker(999) is None
    with pytest.raises(ValueError, match="template version"):
        L.marker_id("version one", 1, 0)


def test_page_lookup_is_one_based_and_rejects_missing_pages() -> None:
    assert LAYOUT.page(1) is LAYOUT.pages[0]
    with pytest.raises(ValueError, match="pages 1 to"):
        LAYOUT.page(len(LAYOUT.pages) + 1)


def test_build_layout_is_cached_and_deterministic() -> None:
    assert L.build_layout() is LAYOUT
    L.build_layout.cache_clear()
    assert L.build_layout() == LAYOUT


def test_latin_guides_are_inside_the_box_with_room_for_descenders() -> None:
    assert 0 < L.LATIN_XHEIGHT < L.LATIN_BASELINE < 0.8


def test_layout_json_matches_the_golden_file() -> None:
    """The v1 geometry is printed on paper in people's hands: it must never change silently.

    After an intended change (which needs a new TEMPLATE_VERSION), regenerate with
    `python3 -m templates.layout > templates/data/layout-v1.json`.
    """
    golden_path = Path(L.__file__).with_name("data") / f"layout-{L.TEMPLATE_VERSION}.json"
    golden = json.loads(golden_path.read_text(encoding="utf-8"))
    doc = json.loads(L.layout_json_text(LAYOUT))
    assert doc == LAYOUT.to_json() == golden


def test_layout_json_has_the_contract_keys() -> None:
    doc = LAYOUT.to_json()
    assert doc["template_version"] == L.TEMPLATE_VERSION and doc["dpi"] == 300
    for page_doc, page in zip(doc["pages"], LAYOUT.pages, strict=True):
        assert page_doc["page"] == page.page and page_doc["size_px"] == list(L.PAGE_SIZE_PX)
        for marker in page_doc["markers"]:
            assert isinstance(marker["id"], int) and len(marker["corners"]) == 4
            assert all(len(corner) == 2 for corner in marker["corners"])
        for cell_doc, cell in zip(page_doc["cells"], page.cells, strict=True):
            assert (cell_doc["char"], cell_doc["codepoint"], cell_doc["box"]) == (
                cell.char,
                cell.codepoint,
                list(cell.box),
            )


def test_the_writing_line_is_on_the_last_page_inside_it_clear_of_cells_and_markers() -> None:
    lines = [(page, page.line) for page in LAYOUT.pages if page.line is not None]
    assert [page.page for page, _ in lines] == [len(LAYOUT.pages)]
    page, line = lines[0]
    width, height = page.size_px
    ring = 18  # extraction follows a cell's ink this far beyond its box (ink.RING_OUTER_PX)
    # The writing (the strip) stays a further ring away, so ink at its edge never reaches a cell's ring.
    for region, clear in ((line.box, 2 * ring), (line.label_box, ring)):
        boxes = [c.box for c in page.cells]
        others = [(x0 - clear, y0 - clear, x1 + clear, y1 + clear) for x0, y0, x1, y1 in boxes]
        others += [c.label_box for c in page.cells]
        others += [_marker_box(m, L.QUIET_ZONE_PX) for m in page.markers]
        assert 0 <= region[0] < region[2] <= width and 0 <= region[1] < region[3] <= height
        assert not any(_overlap(region, other) for other in others), region
    assert not _overlap(line.box, line.label_box)
    assert line.box[2] - line.box[0] >= 100 * MM and line.box[3] - line.box[1] >= 12 * MM
    assert 0 < line.baseline < 1


def test_the_writing_line_phrase_uses_template_syllables_and_one_space() -> None:
    phrase = L.LINE_PHRASE
    assert phrase.count(" ") == 1 and not phrase.startswith(" ") and not phrase.endswith(" ")
    syllables = phrase.replace(" ", "")
    assert 5 <= len(syllables) <= 8
    assert set(syllables) <= set(HANGUL)
