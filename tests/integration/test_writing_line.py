"""The writing line end to end: written on simulated photos, read by extraction, used by packaging."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from services.api.uploads import png_bytes
from services.config import Settings
from services.db import jobs, queries
from services.db.session import Database, utcnow
from services.extraction.extract import extract_photo, merge_pages, write_extraction
from services.extraction.results import Extraction
from services.packaging.normalize import DEFAULT_SPACING, Spacing
from services.packaging.package import package_font
from services.packaging.spacing_check import shown_space, true_spacing
from services.packaging.text_eval import writer_boxes
from services.queue.messages import JobMessage
from services.storage import LocalArtifactStore
from services.worker.handler import JobHandler, Outcome
from templates.layout import LINE_PHRASE
from tests.simulator import simulate

NANUM_PEN = Path("/usr/share/fonts/truetype/nanum/NanumPen.ttf")
UNPILGIA = Path("/usr/share/fonts/truetype/unfonts-extra/UnPilgia.ttf")  # set loose: 0.19 gap


@functools.cache
def _extraction(font: Path, line: bool) -> Extraction:
    pages = [
        extract_photo(simulate(p, seed=40 + p, font=font, size=(2000, 1500), line=line).jpeg, f"p{p}.jpg")
        for p in (1, 2, 3)
    ]
    return merge_pages(pages)


@pytest.mark.parametrize("font", [NANUM_PEN, UNPILGIA])
def test_the_line_on_a_photo_gives_the_hands_spacing(font: Path) -> None:
    if not font.is_file():
        pytest.skip(f"{font.name} is not installed")
    spacing = _extraction(font, True).measured_spacing
    assert spacing is not None
    assert spacing["gap"] == pytest.approx(true_spacing(font).gap, abs=0.04)
    # the space as the font's own line shows it: the font's space advance plus the bearings of 를 and 보
    assert spacing["space"] == pytest.approx(shown_space(font, LINE_PHRASE), abs=0.06)


def test_an_empty_line_falls_back_and_says_so(tmp_path: Path) -> None:
    extraction = _extraction(NANUM_PEN, False)
    assert extraction.measured_spacing is None
    write_extraction(extraction, tmp_path / "out")
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["spacing"]["status"] == "not written"
    assert "default spacing" in report["spacing"]["message"]


def test_packaging_uses_the_measured_spacing(tmp_path: Path) -> None:
    syllables = [cp for cp in sorted(writer_boxes(NANUM_PEN)) if 0xAC00 <= cp <= 0xD7A3][:24]
    boxes = writer_boxes(NANUM_PEN)
    glyph_dir = tmp_path / "glyphs"
    glyph_dir.mkdir()
    for cp in syllables:  # a few writing boxes
        Image.fromarray(boxes[cp]).save(glyph_dir / f"U+{cp:04X}.png")
    loose = Spacing(0.2, 0.66)
    fonts = {}
    for name, spacing in (("default", None), ("loose", loose)):
        report = package_font(glyph_dir, tmp_path / f"{name}.ttf", f"Test {name}", spacing=spacing,
                              variants=False)
        fonts[name] = TTFont(report.ttf)
    cmap = fonts["default"].getBestCmap()
    space = {name: f["hmtx"][f.getBestCmap()[0x20]][0] for name, f in fonts.items()}
    assert space == {"default": DEFAULT_SPACING.space_advance, "loose": loose.space_advance}
    widened = [fonts["loose"]["hmtx"][cmap[cp]][0] - fonts["default"]["hmtx"][cmap[cp]][0]
               for cp in syllables]
    assert np.median(widened) == pytest.approx((loose.gap - DEFAULT_SPACING.gap) * 800, abs=2)


@dataclass
class Files:
    ttf: Path
    woff2: Path
    preview: Path


class SpacingRecorder:
    """Stands in for build_font at the worker's boundary: keeps the spacing it is given."""

    def __init__(self) -> None:
        self.spacing: object = "not called"

    def __call__(self, glyphs: Any, workdir: Path, family_name: str, *, options: Any, progress: Any,
                 spacing: Any = None) -> Files:
        self.spacing = spacing
        files = Files(workdir / "f.ttf", workdir / "f.woff2", workdir / "p.png")
        for path in (files.ttf, files.woff2, files.preview):
            path.write_bytes(b"x")
        return files


@pytest.mark.parametrize("written", [True, False])
def test_a_build_through_the_service_reads_the_line_from_the_stored_upload(
    db: Database, settings: Settings, written: bool
) -> None:
    store = LocalArtifactStore(settings.storage_dir)
    cells = _extraction(NANUM_PEN, written).cells
    page3 = simulate(3, seed=43, font=NANUM_PEN, size=(2000, 1500), line=written).jpeg
    store.put("uploads/p3.jpg", page3)
    with db.session() as session:
        font, _ = queries.create_font(session, "line")
        queries.replace_pages(session, font.id, [
            queries.PageWrite(page, f"p{page}.jpg", f"uploads/p{page}.jpg", f"sheets/{page}", {}, [
                queries.GlyphCell(c.codepoint, c.status, png_bytes(c.image) if c.image is not None else None)
                for c in cells if c.page == page
            ])
            for page in (1, 2, 3)
        ])
        job, _ = jobs.submit_job(session, font.id, "jobs", utcnow())
    builder = SpacingRecorder()
    handler = JobHandler(db, store, settings, builder=builder, options=object())
    assert handler.handle(JobMessage(job.id)) is Outcome.SUCCEEDED
    if not written:
        assert builder.spacing is None
        return
    assert isinstance(builder.spacing, dict)
    assert builder.spacing["gap"] == pytest.approx(true_spacing(NANUM_PEN).gap, abs=0.04)
    assert builder.spacing["space"] == pytest.approx(shown_space(NANUM_PEN, LINE_PHRASE), abs=0.06)


@pytest.mark.parametrize("written", [True, False])
def test_the_page_report_says_whether_the_line_is_written(written: bool) -> None:
    page = extract_photo(simulate(3, seed=43, font=NANUM_PEN, size=(2000, 1500), line=written).jpeg, "p3.jpg")
    assert page.report["writing_line"] == ("written" if written else "empty")
    assert ("the writing line is empty" in page.report["message"]) is not written
