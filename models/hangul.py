"""Hangul syllable arithmetic: compose/decompose, layout classes and KS X 1001 membership."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from functools import cache

import numpy as np

FIRST = 0xAC00  # 가
LAST = 0xD7A3  # 힣
N_INITIAL, N_MEDIAL, N_FINAL = 19, 21, 28  # final index 0 means "no final consonant"
N_SYLLABLES = N_INITIAL * N_MEDIAL * N_FINAL  # 11,172

INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
FINALS = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"

# Medial shape decides where the initial sits: beside a vertical vowel, above a horizontal one,
# in the corner of a compound one. Indices into MEDIALS.
VERTICAL_MEDIALS = frozenset({0, 1, 2, 3, 4, 5, 6, 7, 20})  # ㅏㅐㅑㅒㅓㅔㅕㅖㅣ
HORIZONTAL_MEDIALS = frozenset({8, 12, 13, 17, 18})  # ㅗㅛㅜㅠㅡ
COMPOUND_MEDIALS = frozenset({9, 10, 11, 14, 15, 16, 19})  # ㅘㅙㅚㅝㅞㅟㅢ


class Layout(StrEnum):
    """The six syllable layouts: vowel shape x with/without a final consonant."""

    VERTICAL = "vertical"
    VERTICAL_FINAL = "vertical+final"
    HORIZONTAL = "horizontal"
    HORIZONTAL_FINAL = "horizontal+final"
    COMPOUND = "compound"
    COMPOUND_FINAL = "compound+final"


def is_syllable(codepoint: int) -> bool:
    """True if `codepoint` is a precomposed Hangul syllable (U+AC00..U+D7A3)."""
    return FIRST <= codepoint <= LAST


def compose(initial: int, medial: int, final: int = 0) -> int:
    """Return the syllable codepoint for jamo indices (initial 0-18, medial 0-20, final 0-27; 0 = none)."""
    if not (0 <= initial < N_INITIAL and 0 <= medial < N_MEDIAL and 0 <= final < N_FINAL):
        raise ValueError(f"jamo indices out of range: initial={initial}, medial={medial}, final={final}")
    return FIRST + (initial * N_MEDIAL + medial) * N_FINAL + final


def decompose(codepoint: int) -> tuple[int, int, int]:
    """Return (initial, medial, final) indices of a syllable codepoint; final 0 means none."""
    if not is_syllable(codepoint):
        raise ValueError(f"U+{codepoint:04X} is not a precomposed Hangul syllable")
    offset = codepoint - FIRST
    return offset // (N_MEDIAL * N_FINAL), (offset // N_FINAL) % N_MEDIAL, offset % N_FINAL


def layout(codepoint: int) -> Layout:
    """Return the layout class of a syllable."""
    _, medial, final = decompose(codepoint)
    if medial in VERTICAL_MEDIALS:
        return Layout.VERTICAL_FINAL if final else Layout.VERTICAL
    if medial in HORIZONTAL_MEDIALS:
        return Layout.HORIZONTAL_FINAL if final else Layout.HORIZONTAL
    return Layout.COMPOUND_FINAL if final else Layout.COMPOUND


def jamo(codepoint: int) -> str:
    """Return the compatibility jamo of a syllable as a string, e.g. '한' -> 'ㅎㅏㄴ'."""
    initial, medial, final = decompose(codepoint)
    return (INITIALS[initial] + MEDIALS[medial] + FINALS[final]).strip()


def in_ksx1001(codepoint: int) -> bool:
    """True if the syllable is one of KS X 1001's 2,350: it encodes to exactly 2 bytes in euc-kr."""
    # Python's euc-kr codec writes other syllables as 8-byte jamo sequences instead of failing.
    try:
        return is_syllable(codepoint) and len(chr(codepoint).encode("euc-kr")) == 2
    except UnicodeEncodeError:
        return False


def all_syllables() -> list[int]:
    """Return all 11,172 syllable codepoints in order."""
    return list(range(FIRST, LAST + 1))


@cache
def ksx1001_syllables() -> tuple[int, ...]:
    """Return the 2,350 KS X 1001 syllable codepoints in Unicode order."""
    return tuple(cp for cp in range(FIRST, LAST + 1) if in_ksx1001(cp))


def jamo_ids(codepoints: Sequence[int]) -> np.ndarray:
    """Return (N, 3) int64 ids of each codepoint's (initial, medial, final) for the generator's jamo
    embeddings: index + 1, so that 0 stands for "not a syllable" (and final 1 for "no final consonant").
    """
    ids = np.zeros((len(codepoints), 3), np.int64)
    for row, cp in enumerate(codepoints):
        if is_syllable(cp):
            ids[row] = [j + 1 for j in decompose(cp)]
    return ids
