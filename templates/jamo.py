"""Hangul facts the template needs: jamo tables, syllable decomposition and the medial vowel classes.

This is a small copy of the domain on purpose: `templates` must not import `models`.

    >>> decompose("닭")
    ('ㄷ', 'ㅏ', 'ㄺ')
    >>> layout_class("닭")
    ('vertical', True)
"""

from __future__ import annotations

INITIALS: tuple[str, ...] = tuple("ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ")  # 19
MEDIALS: tuple[str, ...] = tuple("ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ")  # 21
FINALS: tuple[str, ...] = tuple(
    "ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"
)  # 27, "no final" excluded
COMPLEX_FINALS: frozenset[str] = frozenset("ㄳㄵㄶㄺㄻㄼㄽㄾㄿㅀㅄ")

# Where the medial sits decides the whole syllable's layout: beside the initial, under it, or both.
VOWEL_CLASSES: dict[str, str] = {
    **dict.fromkeys("ㅏㅐㅑㅒㅓㅔㅕㅖㅣ", "vertical"),
    **dict.fromkeys("ㅗㅛㅜㅠㅡ", "horizontal"),
    **dict.fromkeys("ㅘㅙㅚㅝㅞㅟㅢ", "compound"),
}
CLASS_NAMES: tuple[str, ...] = ("vertical", "horizontal", "compound")

FIRST_SYLLABLE = 0xAC00
LAST_SYLLABLE = 0xD7A3


def in_ks_x_1001(char: str) -> bool:
    """Return True if `char` is one of the 2,350 precomposed syllables of KS X 1001 (EUC-KR).

    Python's euc-kr codec writes other syllables as 8-byte jamo sequences instead of failing,
    so membership is "encodes to exactly 2 bytes".
    """
    try:
        return (
            len(char) == 1
            and FIRST_SYLLABLE <= ord(char) <= LAST_SYLLABLE
            and len(char.encode("euc-kr")) == 2
        )
    except UnicodeEncodeError:
        return False


def decompose(syllable: str) -> tuple[str, str, str]:
    """Return (initial, medial, final) of a precomposed syllable; final is "" when there is none."""
    code = ord(syllable) - FIRST_SYLLABLE if len(syllable) == 1 else -1
    if not 0 <= code <= LAST_SYLLABLE - FIRST_SYLLABLE:
        raise ValueError(f"{syllable!r} is not a precomposed Hangul syllable (U+AC00..U+D7A3)")
    initial, rest = divmod(code, len(MEDIALS) * (len(FINALS) + 1))
    medial, final = divmod(rest, len(FINALS) + 1)
    return INITIALS[initial], MEDIALS[medial], FINALS[final - 1] if final else ""


def vowel_class(syllable: str) -> str:
    """Return "vertical", "horizontal" or "compound": the class of the syllable's medial vowel."""
    return VOWEL_CLASSES[decompose(syllable)[1]]


def layout_class(syllable: str) -> tuple[str, bool]:
    """Return (vowel class, has final): one of the 6 layout classes a glyph generator must learn."""
    _, _, final = decompose(syllable)
    return vowel_class(syllable), bool(final)
