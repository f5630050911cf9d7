"""`geulssi template --out DIR` writes template.pdf, page-N.png and layout.json, and fails cleanly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PIL import Image

from services.cli.main import main
from templates.layout import DPI, PAGE_SIZE_PX, build_layout

LAYOUT = build_layout()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("template") / "nested" / "out"
    assert main(["template", "--out", str(out)]) == 0
    return out


def test_writes_every_kind_of_output_and_nothing_else(written: Path) -> None:
    expected = {"template.pdf", "layout.json"} | {f"page-{p.page}.png" for p in LAYOUT.pages}
    assert {p.name for p in written.iterdir()} == expected  # no staging directory left behind


def test_layout_json_is_the_layout(written: Path) -> None:
    assert json.loads((written / "layout.json").read_text(encoding="utf-8")) == LAYOUT.to_json()


def test_page_pngs_are_a4_at_300_dpi(written: Path) -> None:
    for page in LAYOUT.pages:
        with Image.open(written / f"page-{page.page}.png") as image:
            assert image.size == PAGE_SIZE_PX
            assert image.info["dpi"] == pytest.approx((DPI, DPI), abs=0.01)


def test_pdf_has_one_a4_page_per_layout_page(written: Path) -> None:
    data = (written / "template.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert len(boxes) == len(LAYOUT.pages)
    for width, height in boxes:  # points; A4 is 210 x 297 mm
        assert float(width) / 72 * 25.4 == pytest.approx(210, abs=0.2)
        assert float(height) / 72 * 25.4 == pytest.approx(297, abs=0.2)


def test_unwritable_destination_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["template", "--out", str(blocker)]) == 2
    assert capsys.readouterr().err.startswith("error: ")
