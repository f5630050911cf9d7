"""Simulated phone photos of a filled-in template with the truth of every cell, for tests and benchmarks.

    >>> from tests.simulator import simulate, simulate_photo
    >>> jpeg, truth = simulate_photo(1, seed=7, size=(1600, 1200), pen="blue")  # doctest: +SKIP
    >>> shot = simulate(2, seed=3, rotation=180, hide_marker=0, empty=0.05)     # doctest: +SKIP
    >>> shot.jpeg, shot.truth[0xAC00], shot.expected[0xAC00], shot.homography  # doctest: +SKIP

`truth[codepoint]` is a uint8 image of the cell's writing box (the layout's box size at 300 dpi): 255 where no
ink was put, 0 where ink covers the pixel fully, whatever the pen colour. It is what a perfect extraction
returns; threshold it at 128 to get the ink mask. Ink that crossed the box edge is cut at the edge.
`expected[codepoint]` is "ok", "empty", "overflow" or "faint". Everything is deterministic in `seed`.

Options (all keyword, all optional; unset camera values are drawn from the seed):
  handwriting  pen ("black" | "blue" | "pencil"), font (a .ttf Path),
               empty / overflow / faint (shares of cells), line (write the writing line's phrase
               on the page that has one, default True)
  camera       size (width, height), rotation (deg, 180 = upside down), tilt (deg, perspective, <= 35),
               fill (share of the frame), light (gradient 0-0.5), shadow (0-0.6), blur (sigma, photo px),
               noise (sigma, 8-bit levels), quality (JPEG), hide_marker (position index 0-5, a thumb
               covers it), shift ((dx, dy) share of the frame: push the page partly out of the photo),
               exif_orientation (1, 3, 6, 8: pixels stored turned, EXIF says how to undo),
               bend (sag of the sheet in mm, e.g. 2.5: not flat), glare (0-1: a bright reflection spot)
  other        camera_seed (same sheet, another photo), marker_version (print another template
               version's markers, e.g. "v0")
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from tests.simulator.camera import Camera, photograph
from tests.simulator.handwriting import PENS, FilledPage, fill_page, handwriting_fonts

__all__ = ["PENS", "Camera", "FilledPage", "SimulatedPhoto", "fill_page", "handwriting_fonts", "simulate",
           "simulate_photo"]

_HANDWRITING_OPTIONS = {"pen", "font", "empty", "overflow", "faint", "marker_version", "line"}
_CAMERA_OPTIONS = {f.name for f in fields(Camera)}


@dataclass
class SimulatedPhoto:
    """One simulated photo and everything known about it."""

    jpeg: bytes
    page: int
    truth: dict[int, np.ndarray]  # codepoint -> uint8 writing-box image (255 paper, 0 full ink)
    expected: dict[int, str]  # codepoint -> expected cell status
    homography: np.ndarray  # page px -> photo px, for the upright photo (after EXIF orientation)
    font: Path
    camera: Camera


def simulate(page_number: int, seed: int, camera_seed: int = 0, **options: Any) -> SimulatedPhoto:
    """Fill page `page_number` (1-based) and photograph it; see the module docstring for the options.

    The writing depends on `seed` only; the camera on `seed` and `camera_seed`, so two calls differing only
    in `camera_seed` are two photos of the same filled-in sheet.
    """
    unknown = set(options) - _HANDWRITING_OPTIONS - _CAMERA_OPTIONS
    if unknown:
        raise TypeError(f"unknown simulator options: {', '.join(sorted(unknown))}")
    writing = tuple(sorted((k, v) for k, v in options.items() if k in _HANDWRITING_OPTIONS))
    filled = _filled(page_number, seed, writing)
    camera = Camera(**{k: v for k, v in options.items() if k in _CAMERA_OPTIONS})
    rng = np.random.default_rng([seed, camera_seed])
    jpeg, homography = photograph(filled.image, filled.page, camera, rng)
    return SimulatedPhoto(jpeg, page_number, filled.truth, filled.expected, homography, filled.font, camera)


@functools.lru_cache(maxsize=4)
def _filled(page_number: int, seed: int, options: tuple[tuple[str, Any], ...]) -> FilledPage:
    """The filled-in sheet; cached because tests photograph the same sheet several times."""
    return fill_page(page_number, np.random.default_rng(seed), **dict(options))


def simulate_photo(page_number: int, seed: int, **options: Any) -> tuple[bytes, dict[int, np.ndarray]]:
    """Return (JPEG bytes, truth by codepoint) of one simulated photo; see `simulate` for the full record."""
    shot = simulate(page_number, seed, **options)
    return shot.jpeg, shot.truth
