"""`geulssi build`: written glyphs -> fine-tune -> generate -> font, through the command line."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import models
from models import fontset, hangul
from models.fonts import render_set
from services.cli.main import main as cli


def test_build_refuses_a_non_ttf_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["build", str(tmp_path), "--out", str(tmp_path / "font.otf")]) == 2
    assert "must be a .ttf file" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_build_refuses_a_directory_without_glyphs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("not a glyph")
    assert cli(["build", str(tmp_path), "--out", str(tmp_path / "out" / "font.ttf")]) == 2
    assert "holds no glyph images" in capsys.readouterr().err
    assert not (tmp_path / "out" / "font.ttf").exists()


@pytest.mark.slow
@pytest.mark.skipif(not models.weights_path().is_file(), reason="pretrained weights not committed")
def test_build_makes_a_font_with_every_syllable(tmp_path: Path) -> None:
    from fontTools.ttLib import TTFont

    face = next(e.face() for e in fontset.PRETRAIN if e.name == "UnPen Regular")
    glyph_dir = tmp_path / "glyphs"
    glyph_dir.mkdir()
    for cp, image in render_set(face, hangul.ksx1001_syllables()[:2000:10]).items():
        box = np.full((200, 200), 255, np.uint8)
        box[25:175, 25:175] = cv2.resize(image, (150, 150), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(glyph_dir / f"U+{cp:04X}.png"), box)
    out = tmp_path / "font" / "Mine.ttf"
    assert cli(["build", str(glyph_dir), "--out", str(out), "--name", "Mine", "--steps", "5"]) == 0
    cmap = TTFont(out).getBestCmap()
    assert all(cp in cmap for cp in range(0xAC00, 0xD7A4))
    assert out.with_suffix(".woff2").is_file() and (out.parent / "Mine-preview.png").is_file()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".geulssi-build-")]
