"""Measures a writer's hand for typesetting: the spread of syllable sizes and the pen's stroke width.

Sizes are compared on a log scale relative to the median of the *written* syllables. The written spread
(a robust sigma: 1.4826 x the median absolute deviation) is the writer's own; only true outliers, beyond
OUTLIER_SIGMAS sigmas of it, are pulled in. Generated syllables are compared with written ones like with
like: per group of syllables with the same vowel and the same presence of a final consonant. A generator
that draws a group bigger or smaller than the writer wrote it is re-centred (the median difference over
groups), and one that regresses towards the mean size (group medians less spread than the writer's) is
stretched back (within STRETCH_LIMITS).

    >>> model = size_model({0xAC00: 1.02, ...}, {0xAC01: 0.97, ...})   # code point -> size ratio
    >>> model.kept(1.4, written=False)        # the size ratio the syllable gets in the font
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from models import hangul
from services.packaging.trace import TracedGlyph, contour_polygon

MIN_SAMPLES = 10  # fewer written syllables than this give no reliable spread
MIN_GROUPS = 6  # fewer groups written and generated alike give no reliable generator correction
DEFAULT_SIGMA = 0.12  # log-size spread used then (Nanum Pen Script / Nanum Brush: 0.10-0.14 on extent)
OUTLIER_SIGMAS = 2.5
BAND_LIMITS = (0.55, 1.5)  # whatever the spread, a syllable stays within these ratios of the median
MIN_HALF_WIDTH = 0.08  # the band is at least +-8 % (log) even for a very even hand
STRETCH_LIMITS = (0.8, 1.5)  # how far the generated spread may be narrowed or widened


def robust_sigma(values: Sequence[float]) -> float:
    """Return 1.4826 x the median absolute deviation of `values` (the sigma of a normal sample)."""
    array = np.asarray(values, dtype=float)
    return float(1.4826 * np.median(np.abs(array - np.median(array))))


@dataclass(frozen=True)
class SizeModel:
    """How a syllable's measured size ratio (to the written median) becomes its size in the font."""

    generated_centre: float  # log ratio of generated groups where the written ones sit at `written_centre`
    written_centre: float
    stretch: float  # generated log deviations from their centre are multiplied by this
    band: tuple[float, float]  # kept ratios are clamped into this

    def kept(self, ratio: float, *, written: bool) -> float:
        """Return the size ratio (to the median syllable) that a syllable of measured `ratio` keeps."""
        log_ratio = math.log(ratio)
        if not written:
            log_ratio = self.written_centre + (log_ratio - self.generated_centre) * self.stretch
        return min(max(math.exp(log_ratio), self.band[0]), self.band[1])


def group(codepoint: int) -> tuple[int, bool]:
    """Return the size group of a syllable: (vowel, has a final consonant)."""
    _, medial, final = hangul.decompose(codepoint)
    return medial, final > 0


def _groups(ratios: Mapping[int, float]) -> dict[tuple[int, bool], list[float]]:
    """Return the log ratios of each group present."""
    logs: dict[tuple[int, bool], list[float]] = {}
    for cp, ratio in ratios.items():
        logs.setdefault(group(cp), []).append(math.log(ratio))
    return logs


def _between_variance(groups: list[list[float]]) -> float:
    """Return the variance of the group means that is not sampling noise (may come out <= 0).

    Each group mean carries noise of (pooled within-group variance) / (its size); its average is taken
    off the observed variance of the means.
    """
    means = np.array([np.mean(g) for g in groups])
    residuals = [x - np.mean(g) for g in groups for x in g]
    dof = len(residuals) - len(groups)
    within = float(np.sum(np.square(residuals)) / dof) if dof > 0 else 0.0
    return float(means.var() - within * np.mean([1 / len(g) for g in groups]))


def size_model(written: Mapping[int, float], generated: Mapping[int, float]) -> SizeModel:
    """Return the size model from the size ratios (> 0) of written and generated syllables by code point."""
    log_w = [math.log(r) for r in written.values()]
    sigma_w = robust_sigma(log_w) if len(log_w) >= MIN_SAMPLES else DEFAULT_SIGMA
    sigma_w = sigma_w or DEFAULT_SIGMA
    half = max(OUTLIER_SIGMAS * sigma_w, MIN_HALF_WIDTH)
    band = (max(math.exp(-half), BAND_LIMITS[0]), min(math.exp(half), BAND_LIMITS[1]))
    by_w, by_g = _groups(written), _groups(generated)
    shared = sorted(set(by_w) & set(by_g))
    if len(shared) < MIN_GROUPS:
        return SizeModel(0.0, 0.0, 1.0, band)
    w = [by_w[key] for key in shared]
    g = [by_g[key] for key in shared]
    # Like with like: the generated groups' mean size where the written groups' mean size sits.
    centre_w, centre_g = (float(np.mean([np.mean(x) for x in side])) for side in (w, g))
    var_w, var_g = _between_variance(w), _between_variance(g)
    stretch = 1.0
    if var_w > 0 and var_g > 0:
        stretch = min(max(math.sqrt(var_w / var_g), STRETCH_LIMITS[0]), STRETCH_LIMITS[1])
    return SizeModel(centre_g, centre_w, stretch, band)


def pen_width(glyphs: Sequence[TracedGlyph]) -> float | None:
    """Return the median stroke width (source pixels) of traced glyphs: 2 x ink area / outline length.

    A stroke of width w and length L has area w*L and an outline about 2L long; holes count in both.
    None when no glyph has ink.
    """
    widths = []
    for glyph in glyphs:
        area = perimeter = 0.0
        for curve in glyph.contours:
            polygon = contour_polygon(curve)
            x, y = polygon[:, 0], polygon[:, 1]
            area += 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))
            perimeter += float(np.sum(np.hypot(np.diff(x, append=x[0]), np.diff(y, append=y[0]))))
        if perimeter > 0:
            widths.append(2 * abs(area) / perimeter)
    return float(np.median(widths)) if widths else None
