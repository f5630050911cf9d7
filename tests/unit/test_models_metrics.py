"""Tests for models.metrics: SSIM, L1, ink IoU, the OCR edit distance and character error rate."""

from __future__ import annotations

import numpy as np

from models import metrics


def _glyph(x0: int, x1: int) -> np.ndarray:
    image = np.full((64, 64), 255, np.uint8)
    image[10:50, x0:x1] = 0
    return image


def test_identical_images_score_perfectly() -> None:
    a = _glyph(20, 40)
    assert metrics.ssim(a, a) > 0.999
    assert metrics.l1(a, a) == 0.0
    assert metrics.ink_iou(a, a) == 1.0


def test_scores_order_by_similarity() -> None:
    a, near, far = _glyph(20, 40), _glyph(22, 42), _glyph(44, 60)
    assert metrics.ssim(a, near) > metrics.ssim(a, far)
    assert metrics.l1(a, near) < metrics.l1(a, far)
    assert metrics.ink_iou(a, near) > metrics.ink_iou(a, far) == 0.0
    scores = metrics.mean_scores(np.stack([a, a]), np.stack([near, far]))
    assert set(scores) == {"ssim", "l1", "iou"} and 0 < scores["iou"] < 1


def test_char_error_rate_ignores_whitespace() -> None:
    assert metrics.char_error_rate("오늘 아침", "오늘아침") == 0.0
    assert metrics.char_error_rate("오늘\n아침", "오늘 아침") == 0.0
    assert metrics.char_error_rate("오늘아", "오늘아침") == 0.25
    assert metrics.char_error_rate("", "가나") == 1.0
    assert metrics.char_error_rate("가나다라", "가나") == 1.0  # insertions count too


def test_edit_distance() -> None:
    assert metrics._edit_distance("감괴껍", "감괴껍") == 0
    assert metrics._edit_distance("감괴껍", "감껍") == 1
    assert metrics._edit_distance("", "abc") == 3
    assert metrics._edit_distance("kitten", "sitting") == 3
