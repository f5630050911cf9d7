"""Says, before a build, which characters of the font's set the font will lack or only substitute.

The font holds every Hangul syllable (the ones not written are generated), the 51 compatibility jamo
(cut from the syllables), a space, and the printable ASCII the writer wrote. A Latin character the writer
did not write (or whose glyph is unusable) is either drawn as a simple mark with the writer's pen width
(the characters people cannot do without: `DRAWN`) or left out, so that systems show another font's
glyph. This module is pure: it only compares code points.

    >>> [m.char for m in coverage_report(ord(c) for c in "abc")]     # ['!', '"', '#', ...]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from templates.charset import LATIN

DRAWN = frozenset(".,?!0123456789")  # drawn as simple marks with the writer's pen when missing
REASON_DRAWN = (
    "손글씨가 없어 글쓴이의 펜 굵기로 단순한 모양을 그려 넣습니다. "
    "Not written (or not usable): the font draws a simple mark with the writer's pen width instead."
)
REASON_NONE = (
    "손글씨가 없어 이 글꼴에는 빠지고, 다른 글꼴의 글자로 보입니다. "
    "Not written (or not usable): the font will lack it and systems show it in another font."
)


@dataclass(frozen=True)
class MissingChar:
    """A character of the font's set that the writer's glyphs do not cover, and what the font does."""

    char: str
    codepoint: int
    reason: str  # one Korean sentence, then the same in English
    fallback: str  # "drawn": a simple substitute mark is drawn; "none": the font lacks it


def coverage_report(codepoints: Iterable[int]) -> list[MissingChar]:
    """Return every character of the font's set not covered by `codepoints`, in code point order.

    `codepoints` are the characters the writer's usable glyphs cover. Hangul syllables and jamo never
    appear: the font always has them (generated or cut from the syllables).
    """
    covered = set(codepoints)
    missing = []
    for char in sorted(LATIN):
        if ord(char) in covered:
            continue
        drawn = char in DRAWN
        missing.append(
            MissingChar(
                char=char,
                codepoint=ord(char),
                reason=REASON_DRAWN if drawn else REASON_NONE,
                fallback="drawn" if drawn else "none",
            )
        )
    return missing
