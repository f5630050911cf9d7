"""Readability as a reader meets it: Tesseract on each syllable alone (the broken share) and on a paragraph.

Broken share: among the syllables Tesseract (kor, --psm 10) reads right in the true font, the share it
misreads in ours. Sentence CER: a fixed paragraph of ordinary prose (data/paragraph-ko.txt) set in lines
from canonical glyphs, each line read with --psm 7 (a whole page with --psm 6 sometimes lost all its text
to Tesseract's layout analysis at one glyph size and not at the next; see docs/QUALITY.md).
Tesseract runs once per batch of images (a list file), so its Korean model loads once per process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from models import glyph_space, hangul
from models.metrics import char_error_rate

PARAGRAPH_FILE = Path(__file__).with_name("data") / "paragraph-ko.txt"
SINGLE_PX = 48  # a syllable alone is shown this tall (Tesseract read the true fonts best at 32-48 px)
SINGLE_MARGIN = 32  # white margin around it
LINE_PX = 48  # paragraph glyph height
LINE_MARGIN = 40  # white margin around each set line
LINE_WIDTH = 24  # paragraph line width, in glyph heights
WORKERS = 2


def paragraph_text() -> str:
    """Return the paragraph's text (comment lines dropped, lines joined with spaces)."""
    lines = PARAGRAPH_FILE.read_text(encoding="utf-8").splitlines()
    return " ".join(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def paragraph_words(text: str | None = None) -> list[str]:
    """Return the paragraph's words as Hangul syllables only (punctuation is not what the generator draws)."""
    words = ["".join(c for c in w if hangul.is_syllable(ord(c))) for w in (text or paragraph_text()).split()]
    return [w for w in words if w]


def paragraph_codepoints(text: str | None = None) -> list[int]:
    """Return the distinct syllables of the paragraph, sorted."""
    return sorted({ord(c) for w in paragraph_words(text) for c in w})


def _check_tesseract() -> None:
    if shutil.which("tesseract") is None:
        raise OSError("tesseract is not installed (Debian: tesseract-ocr tesseract-ocr-kor)")


def tesseract_read(images: Sequence[np.ndarray], psm: int, workers: int = WORKERS) -> list[str]:
    """Return Tesseract's (kor) text for each image, running `workers` processes over list files.

    Each process gets a list file of PNGs and prints one page per image, split by form feeds.
    Raises OSError if tesseract is missing, RuntimeError if it answers with the wrong number of pages.
    """
    _check_tesseract()
    if not images:
        return []
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, image in enumerate(images):
            paths.append(Path(tmp) / f"{i:06d}.png")
            cv2.imwrite(str(paths[-1]), image)
        chunks = [paths[i::workers] for i in range(workers) if paths[i::workers]]
        procs = []
        for k, chunk in enumerate(chunks):
            listing = Path(tmp) / f"list{k}.txt"
            listing.write_text("".join(f"{p}\n" for p in chunk), encoding="utf-8")
            cmd = ["tesseract", str(listing), "stdout", "-l", "kor", "--psm", str(psm)]
            procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env))
        out: list[str] = [""] * len(paths)
        for k, (chunk, proc) in enumerate(zip(chunks, procs, strict=True)):
            stdout, stderr = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"tesseract failed: {stderr.decode(errors='replace').strip()}")
            pages = stdout.decode("utf-8", errors="replace").split("\f")
            if len(pages) == len(chunk) + 1 and not pages[-1].strip():
                pages = pages[:-1]
            if len(pages) != len(chunk):
                raise RuntimeError(f"tesseract returned {len(pages)} pages for {len(chunk)} images")
            for j, page in enumerate(pages):
                out[k + j * workers] = page
    return out


def single_image(glyph: np.ndarray) -> np.ndarray:
    """Return a canonical glyph shrunk to SINGLE_PX with a SINGLE_MARGIN white margin."""
    small = cv2.resize(glyph, (SINGLE_PX, SINGLE_PX), interpolation=cv2.INTER_AREA)
    m = SINGLE_MARGIN
    return cv2.copyMakeBorder(small, m, m, m, m, cv2.BORDER_CONSTANT, value=255)


def read_syllables(glyphs: Sequence[np.ndarray]) -> list[str]:
    """Return what Tesseract (kor, --psm 10) reads in each glyph shown alone, whitespace removed."""
    return ["".join(t.split()) for t in tesseract_read([single_image(g) for g in glyphs], psm=10)]


@dataclass
class BrokenShare:
    """Of the syllables read right in the true font (`readable`), those misread in ours (`broken`)."""

    readable: int
    broken: list[int] = field(default_factory=list)
    misread_as: dict[int, str] = field(default_factory=dict)

    @property
    def share(self) -> float:
        """Return len(broken) / readable (NaN when Tesseract read none of the true glyphs)."""
        return len(self.broken) / self.readable if self.readable else float("nan")


def broken_shares(
    truth: np.ndarray, systems: Mapping[str, np.ndarray], codepoints: Sequence[int]
) -> dict[str, BrokenShare]:
    """Return each system's broken share against `truth`; all stacks are (N, S, S) in `codepoints` order."""
    n = len(codepoints)
    stacks = [truth, *systems.values()]
    if any(len(s) != n for s in stacks):
        raise ValueError("every glyph stack must hold one glyph per codepoint")
    reads = read_syllables([g for stack in stacks for g in stack])
    right = [i for i in range(n) if reads[i] == chr(codepoints[i])]
    result = {}
    for k, name in enumerate(systems, 1):
        ours = reads[k * n : (k + 1) * n]
        wrong = [i for i in right if ours[i] != chr(codepoints[i])]
        result[name] = BrokenShare(
            len(right), [codepoints[i] for i in wrong], {codepoints[i]: ours[i] for i in wrong}
        )
    return result


def _ink_columns(glyph: np.ndarray) -> tuple[int, int] | None:
    cols = np.flatnonzero((glyph < glyph_space.INK_THRESHOLD).any(axis=0))
    return (int(cols[0]), int(cols[-1]) + 1) if cols.size else None


def set_paragraph(
    glyphs: Mapping[int, np.ndarray], words: Sequence[str], px: int = LINE_PX
) -> list[np.ndarray]:
    """Return the lines of `words` set from canonical glyphs, each glyph cropped to its ink width.

    Glyphs are shrunk to `px` tall; syllables sit px/10 apart, words px/3; lines wrap at LINE_WIDTH * px
    and get a white margin. A blank glyph leaves a gap of px/2. Raises KeyError for a syllable not in
    `glyphs`.
    """
    gap, space, width = max(1, px // 10), px // 3, LINE_WIDTH * px
    cells: dict[str, np.ndarray] = {}
    for ch in {c for w in words for c in w}:
        small = cv2.resize(glyphs[ord(ch)], (px, px), interpolation=cv2.INTER_AREA)
        cols = _ink_columns(small)
        cells[ch] = small[:, cols[0] : cols[1]] if cols else np.full((px, px // 2), 255, np.uint8)
    lines: list[list[np.ndarray]] = [[]]
    used = 0
    for word in words:
        parts = [p for c in word for p in (cells[c], np.full((px, gap), 255, np.uint8))][:-1]
        w = sum(p.shape[1] for p in parts)
        if lines[-1] and used + space + w > width:
            lines.append([])
            used = 0
        if lines[-1]:
            lines[-1].append(np.full((px, space), 255, np.uint8))
            used += space
        lines[-1].extend(parts)
        used += w
    m = LINE_MARGIN
    return [cv2.copyMakeBorder(np.hstack(p), m, m, m, m, cv2.BORDER_CONSTANT, value=255) for p in lines]


def sentence_cers(
    systems: Mapping[str, Mapping[int, np.ndarray]], words: Sequence[str] | None = None
) -> dict[str, tuple[float, str]]:
    """Return (character error rate, Tesseract's text) of the paragraph set in each system's glyphs.

    Tesseract reads each line with --psm 7; whitespace is ignored on both sides, any other extra
    character counts.
    """
    words = list(words) if words is not None else paragraph_words()
    sets = [set_paragraph(glyphs, words) for glyphs in systems.values()]
    reads = iter(tesseract_read([line for lines in sets for line in lines], psm=7))
    texts = ["\n".join(next(reads).strip() for _ in lines) for lines in sets]
    want = "".join(words)
    return {name: (char_error_rate(t, want), t) for name, t in zip(systems, texts, strict=True)}
