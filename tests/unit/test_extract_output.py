"""Combining photos (merge_pages), writing the result atomically (write_extraction) and the contact sheet."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from services.extraction import output
from services.extraction.contact_sheet import (
    COLUMNS,
    FRAME_PX,
    LABEL_PX,
    LEGEND_PX,
    STATUS_COLOURS,
    TILE_PX,
    contact_sheet,
)
from services.extraction.extract import CellResult, PageExtraction, merge_pages, write_extraction
from templates.layout import build_layout

LAYOUT = build_layout()


def _shot(photo: str, number: int, sharpness: float,
          statuses: dict[int, str] | None = None) -> PageExtraction:
    """A fake reading of page `number`: every cell ok (a distinct image per photo) unless `statuses` says."""
    statuses = statuses or {}
    shade = sum(map(ord, photo)) % 200
    cells = []
    for index, cell in enumerate(LAYOUT.page(number).cells):
        image = np.full((200, 200), 255, np.uint8)
        image[50:150, 90:110] = shade
        status = statuses.get(index, "ok")
        cells.append(CellResult(cell.char, cell.codepoint, number, status, image, 0.05, 0.9, 0, photo))
    report = {"file": photo, "page": number, "sharpness": sharpness, "reprojection_error_px": 0.3,
              "status": "used", "message": "read"}
    return PageExtraction(photo, number, report, cells)


def test_every_template_cell_once_and_missing_pages_marked() -> None:
    extraction = merge_pages([_shot("a.jpg", 1, 20.0)])
    assert [c.codepoint for c in extraction.cells] == [c.codepoint for p in LAYOUT.pages for c in p.cells]
    page_one = len(LAYOUT.page(1).cells)
    assert {c.status for c in extraction.cells[:page_one]} == {"ok"}
    assert {c.status for c in extraction.cells[page_one:]} == {"missing"}
    assert any("page 2 was not photographed" in note for note in extraction.notes)


def test_the_sharper_photo_of_a_page_is_used_and_the_other_reported() -> None:
    blurry, sharp = _shot("blurry.jpg", 1, 9.0), _shot("sharp.jpg", 1, 25.0)
    extraction = merge_pages([blurry, sharp])
    assert {c.photo for c in extraction.cells if c.page == 1} == {"sharp.jpg"}
    entries = {p["file"]: p for p in extraction.photos}
    assert entries["sharp.jpg"]["status"] == "used"
    assert entries["blurry.jpg"]["status"] == "superseded"
    assert "sharp.jpg" in entries["blurry.jpg"]["message"]


def test_cells_unreadable_in_the_best_photo_are_taken_from_another() -> None:
    sharp = _shot("sharp.jpg", 1, 25.0, {3: "overflow", 4: "empty"})
    other = _shot("other.jpg", 1, 12.0, {4: "empty"})
    extraction = merge_pages([sharp, other])
    cells = [c for c in extraction.cells if c.page == 1]
    assert (cells[3].status, cells[3].photo) == ("ok", "other.jpg")  # fixed in the second photo
    assert (cells[4].status, cells[4].photo) == ("empty", "sharp.jpg")  # empty in both: the best one's
    entries = {p["file"]: p for p in extraction.photos}
    assert entries["other.jpg"]["status"] == "partly used"


def test_write_extraction_writes_usable_glyphs_report_and_sheet(tmp_path: Path) -> None:
    extraction = merge_pages([_shot("a.jpg", 3, 20.0, {0: "faint", 1: "empty"})])
    out = tmp_path / "out"
    write_extraction(extraction, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging directory left beside it
    names = sorted(p.name for p in (out / "glyphs").iterdir())
    latin = LAYOUT.page(3).cells
    assert names == sorted(f"U+{c.codepoint:04X}.png" for c in latin[2:])  # upper-case hex, ok cells only
    with Image.open(out / "glyphs" / f"U+{latin[2].codepoint:04X}.png") as glyph:
        assert glyph.mode == "L" and glyph.size == (200, 200)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["box_size_px"] == [200, 200]
    assert report["photos"][0]["file"] == "a.jpg"
    by_char = {c["char"]: c for c in report["cells"]}
    assert by_char[latin[0].char]["status"] == "faint" and by_char[latin[0].char]["file"] is None
    assert by_char[latin[2].char]["file"] == f"glyphs/U+{latin[2].codepoint:04X}.png"
    assert report["summary"]["missing"] == sum(len(p.cells) for p in LAYOUT.pages[:2])
    with Image.open(out / "sheet.png") as sheet:
        assert sheet.width > 1000


def test_write_extraction_replaces_a_previous_result(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_extraction(merge_pages([_shot("a.jpg", 1, 20.0)]), out)
    write_extraction(merge_pages([_shot("b.jpg", 3, 20.0)]), out)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [p["file"] for p in report["photos"]] == ["b.jpg"]
    assert len(list((out / "glyphs").iterdir())) == len(LAYOUT.page(3).cells)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_write_extraction_refuses_a_directory_of_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ValueError, match="already holds other files"):
        write_extraction(merge_pages([_shot("a.jpg", 1, 20.0)]), tmp_path)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_failure_while_writing_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(cells: object) -> np.ndarray:
        raise OSError("disk full")

    monkeypatch.setattr(output, "contact_sheet", broken)
    with pytest.raises(OSError, match="disk full"):
        write_extraction(merge_pages([_shot("a.jpg", 1, 20.0)]), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_contact_sheet_frames_each_cell_in_its_status_colour() -> None:
    cells = merge_pages([_shot("a.jpg", 1, 20.0, {0: "overflow", 1: "faint", 2: "empty"})]).cells
    sheet = contact_sheet(cells)
    assert sheet.ndim == 3 and sheet.shape[2] == 3
    pitch_x, pitch_y = TILE_PX + 2 * FRAME_PX + 6, TILE_PX + 2 * FRAME_PX + LABEL_PX + 6

    def frame(index: int) -> tuple[int, ...]:
        row, column = divmod(index, COLUMNS)
        return tuple(int(v) for v in sheet[LEGEND_PX + 6 + row * pitch_y + 1, 6 + column * pitch_x + 1])

    for index, status in enumerate(["overflow", "faint", "empty", "ok"]):
        assert frame(index) == STATUS_COLOURS[status]
    assert frame(len(LAYOUT.page(1).cells)) == STATUS_COLOURS["missing"]  # first cell of page 2
