"""Tests for the eval splits (models.evaluate) and the report they write (models.quality_report)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from models import evaluate, quality_report
from models.fontset import PRETRAIN
from models.readability import BrokenShare


def test_validation_split_is_pretraining_handwriting_not_heldout() -> None:
    validation = evaluate.split_entries("validation")
    assert {e.name for e in validation} == set(evaluate.VALIDATION_NAMES)
    assert all(e in PRETRAIN and e.style_class == "handwriting" for e in validation)
    assert not {e.name for e in validation} & {e.name for e in evaluate.HELDOUT}
    assert [e.style for e in evaluate.split_entries("heldout", ["Gaegu"])] == ["Regular", "Light", "Bold"]


def test_split_errors_are_sentences() -> None:
    with pytest.raises(ValueError, match="unknown split 'test'"):
        evaluate.split_entries("test")
    with pytest.raises(ValueError, match="no validation font matches Gaegu; choose from Nanum"):
        evaluate.split_entries("validation", ["Gaegu"])


def _report(font: str, cer: float, true_cer: float, broken: BrokenShare) -> evaluate.FontReport:
    scores = {
        quality_report.TRUTH: {"cer": 0.7, "sentence_cer": true_cer},
        "fine-tuned": {"ssim": 0.8, "l1": 0.1, "iou": 0.6, "cer": 0.8, "broken": broken.share,
                       "sentence_cer": cer},
    }  # fmt: skip
    sheet = np.full((64, 128), 255, np.uint8)
    hard = np.full((100, 200, 3), 255, np.uint8)
    return evaluate.FontReport(font, 200, 50, [("UnPen Regular", 1.0)], scores, sheet, 60.0, broken, hard)


def test_report_has_readability_columns_targets_and_sheets(tmp_path: Path) -> None:
    met = _report("Gaegu Light", 0.15, 0.12, BrokenShare(20, [ord("쥐")], {ord("쥐"): "주"}))
    two = BrokenShare(10, [ord("퀴"), ord("끼")], {ord("퀴"): "", ord("끼"): "씨"})
    missed = _report("Cute Font Regular", 0.30, 0.10, two)
    kept = "<!-- typesetting:start -->\n## Typesetting\n| a | b |\n<!-- typesetting:end -->"
    (tmp_path / "Q.md").write_text(f"# Old\n\nold table\n\n{kept}\n\nold tail\n", encoding="utf-8")
    out = quality_report.write_report([met, missed], tmp_path / "Q.md", tmp_path / "quality", "settings")
    text = out.read_text(encoding="utf-8")
    assert kept in text and "old table" not in text and "old tail" not in text  # marked sections survive
    assert "| broken share ↓ | sentence CER ↓ |" in text
    assert "| Gaegu Light | fine-tuned | 0.800 | 0.100 | 0.600 | 0.800 | 0.050 | 0.150 |" in text
    assert "| Gaegu Light | 0.800 | 0.600 | 0.050 | 0.150 | 0.120 | 1.25x | yes |" in text
    assert "| Cute Font Regular | 0.800 | 0.600 | 0.200 | 0.300 | 0.100 | 3.00x | no |" in text
    assert "| mean | 0.800 | 0.600 | 0.125 | 0.225 |" in text
    assert "쥐→주" in text and "퀴→∅" in text and "끼→씨" in text
    assert cv2.imread(str(tmp_path / "quality" / "hard-gaegu-light.png")).shape == (100, 200, 3)
    assert (tmp_path / "quality" / "cute-font-regular.png").is_file()
    assert not list(tmp_path.glob("*.tmp"))


def test_sentence_target() -> None:
    assert quality_report.sentence_target(0.1) == pytest.approx(0.14)
    assert quality_report.sentence_target(0.0) == pytest.approx(0.02)
