"""`geulssi package`: what it writes and says, and a clear `error:` with exit 2 for bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from services.cli.main import main

GLYPHS = Path(__file__).parents[1] / "fixtures" / "package" / "glyphs"


def test_builds_the_three_files_and_reports_gaps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    glyphs = tmp_path / "glyphs"
    shutil.copytree(GLYPHS, glyphs)
    Image.new("L", (128, 128), 255).save(glyphs / "U+AC02.png")  # a blank syllable
    out = tmp_path / "fonts" / "hong.ttf"
    assert main(["package", str(glyphs), "--out", str(out), "--name", "홍길동 손글씨"]) == 0
    assert (
        out.is_file() and out.with_suffix(".woff2").is_file() and (out.parent / "hong-preview.png").is_file()
    )
    captured = capsys.readouterr()
    assert f"wrote {out}" in captured.out
    assert "12 Hangul syllables, 21 Latin characters and 5 jamo" in captured.out
    # 0 and 1 were written, the other digits are drawn; letters nobody wrote are listed as lacking.
    assert "drawn as simple marks with the writer's pen: 23456789" in captured.err
    assert "the font will lack 65 characters" in captured.err and "BCDEFG" in captured.err
    assert "warning: left out U+AC02 '갂': no ink in the image" in captured.err
    assert "no image for 11159 Hangul syllables and 73 Latin characters" in captured.err


def test_empty_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["package", str(tmp_path), "--out", str(tmp_path / "f.ttf"), "--name", "X"]) == 2
    assert (
        "error:" in (err := capsys.readouterr().err) and "contains no glyph images" in err and "empty" in err
    )
    assert list(tmp_path.iterdir()) == []


def test_directory_of_non_png_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Image.new("L", (64, 64), 255).save(tmp_path / "U+AC00.jpg")
    (tmp_path / "readme.txt").write_text("glyphs")
    out = tmp_path / "out" / "f.ttf"
    assert main(["package", str(tmp_path), "--out", str(out), "--name", "X"]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "U+AC00.png" in err and "2 other files" in err
    assert not out.parent.exists()


def test_unreadable_pngs_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "U+AC00.png").write_text("not an image")
    assert main(["package", str(tmp_path), "--out", str(tmp_path / "f.ttf"), "--name", "X"]) == 2
    assert "no usable Hangul syllable" in (err := capsys.readouterr().err) and "not a readable PNG" in err


def test_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["package", str(tmp_path / "nope"), "--out", str(tmp_path / "f.ttf"), "--name", "X"]) == 2
    assert "is not a directory" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["", "   ", "x" * 80, "bell\x07"])
def test_bad_names(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "f.ttf"
    assert main(["package", str(GLYPHS), "--out", str(out), "--name", name]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "name" in err
    assert list(tmp_path.iterdir()) == []


def test_output_must_be_a_ttf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["package", str(GLYPHS), "--out", str(tmp_path / "f.otf"), "--name", "X"]) == 2
    assert ".ttf" in capsys.readouterr().err


def test_name_and_out_are_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["package", str(GLYPHS)])
    assert exit_info.value.code == 2
    assert "--out" in capsys.readouterr().err


def test_alternates_are_used_unless_no_variants(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    glyphs = tmp_path / "glyphs"
    shutil.copytree(GLYPHS, glyphs)
    shutil.copy(glyphs / "U+AC01.png", glyphs / "U+AC00.alt1.png")  # any drawing will do as an alternate
    assert main(["package", str(glyphs), "--out", str(tmp_path / "a.ttf"), "--name", "A"]) == 0
    with_variants = capsys.readouterr()
    # 가 and the ㄱ cut from it (no 기 in the fixtures) both get an alternate
    assert "(+2 alternates)" in with_variants.out and "ignored" not in with_variants.err
    assert (
        main(["package", str(glyphs), "--out", str(tmp_path / "b.ttf"), "--name", "B", "--no-variants"]) == 0
    )
    assert "+" not in capsys.readouterr().out.splitlines()[-1]
