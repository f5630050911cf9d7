"""Alternates drawn by the generator: the same syllable in the same hand, a little different each time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import models
from models import checkpoints
from models.generate import draw
from models.glyph_files import glyph_filename, write_png
from services.packaging.alternates import (
    SAME_SHAPE,
    alternate_name,
    draw_alternates,
    ink_iou,
    varied_syllables,
)
from services.packaging.variants import scan_alternates

pytestmark = pytest.mark.skipif(
    not models.weights_path().is_file(), reason="pretrained weights not committed"
)


def test_alternates_vary_the_glyph_without_changing_it(tmp_path: Path) -> None:
    weights = models.weights_path()
    generator, meta = checkpoints.load_generator(weights)
    cps = [ord("하"), ord("키")]
    for cp, image in zip(cps, draw(generator, meta, cps, 0), strict=True):
        write_png(tmp_path / glyph_filename(cp), image)
    # The pretrained file stands in for a writer's checkpoint: style 0 is "the writer".
    kept = draw_alternates(weights, weights, tmp_path, codepoints=[*cps, ord("다")], device="cpu")
    assert ord("다") not in kept  # no glyph of its own in the directory: no alternates
    assert set(scan_alternates(tmp_path)) == set(kept) and all(1 <= n <= 2 for n in kept.values())
    for cp, count in kept.items():
        base = np.asarray(Image.open(tmp_path / glyph_filename(cp)))
        for k in range(1, count + 1):
            alternate = np.asarray(Image.open(tmp_path / alternate_name(cp, k)))
            assert SAME_SHAPE[0] <= ink_iou(alternate, base) <= SAME_SHAPE[1]


def test_the_varied_syllables_include_laughter_and_the_jamo_sources() -> None:
    varied = varied_syllables()
    assert {ord("하"), ord("키"), ord("히"), ord("유")} <= set(varied) and len(varied) == len(set(varied))
