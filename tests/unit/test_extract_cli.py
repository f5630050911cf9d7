"""`geulssi extract`: exit codes, messages naming the bad file, and nothing written on failure."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from services.cli.main import main
from services.extraction.photo import register_heif
from tests.simulator import simulate


@pytest.fixture(scope="module")
def good_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photos") / "page3.jpg"
    path.write_bytes(simulate(3, seed=21, size=(1600, 1200), pen="black").jpeg)
    return path


def test_a_good_photo_writes_glyphs_report_and_sheet(good_photo: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "result"
    assert main(["extract", str(good_photo), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["photos"][0]["page"] == 3
    written = {p.name for p in (out / "glyphs").iterdir()}
    assert written == {c["file"].removeprefix("glyphs/") for c in report["cells"] if c["file"]}
    assert len(written) >= 90
    assert (out / "sheet.png").is_file()
    assert "glyphs written" in capsys.readouterr().out


def test_a_bad_photo_stops_everything_and_is_named(good_photo: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "holiday.jpg"
    bad.write_text("not really a photo", encoding="utf-8")
    out = tmp_path / "result"
    assert main(["extract", str(good_photo), str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"error: {bad}: not an image" in err
    assert str(good_photo) not in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["holiday.jpg"]


def test_a_missing_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(tmp_path / "nope.jpg"), "--out", str(tmp_path / "out")]) == 2
    assert "nope.jpg: cannot read the file" in capsys.readouterr().err


def test_an_output_directory_of_other_files_is_refused(good_photo: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "thesis.tex").write_text("precious", encoding="utf-8")
    assert main(["extract", str(good_photo), "--out", str(tmp_path)]) == 2
    assert "already holds other files" in capsys.readouterr().err
    assert (tmp_path / "thesis.tex").read_text(encoding="utf-8") == "precious"


def test_photos_are_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["extract", "--out", "somewhere"])
    assert exit_info.value.code == 2


def test_a_pdf_scan_and_a_heic_photo_are_read(good_photo: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    register_heif()
    page = Image.open(good_photo).convert("RGB")
    pdf, heic = tmp_path / "scan.pdf", tmp_path / "IMG_0001.HEIC"
    page.save(pdf, "PDF", resolution=150.0)
    buffer = io.BytesIO()
    simulated = Image.open(io.BytesIO(simulate(1, seed=22, size=(1600, 1200)).jpeg)).convert("RGB")
    simulated.save(buffer, "HEIF", quality=95)
    heic.write_bytes(buffer.getvalue())
    out = tmp_path / "result"
    assert main(["extract", str(pdf), str(heic), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert sorted(p["page"] for p in report["photos"]) == [1, 3]
    assert sum(c["status"] == "ok" for c in report["cells"]) >= 190
    assert "glyphs written" in capsys.readouterr().out
