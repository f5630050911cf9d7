"""The characters a writer fills in: HANGUL (200 syllables), LATIN (94 printable ASCII), from data/*.txt."""

from __future__ import annotations

from pathlib import Path

from templates.jamo import in_ks_x_1001

DATA_DIR = Path(__file__).with_name("data")
HANGUL_FILE = DATA_DIR / "hangul-v1.txt"
LATIN_FILE = DATA_DIR / "latin-v1.txt"
HANGUL_COUNT = 200
LATIN_COUNT = 94


def read_charset(path: Path) -> tuple[str, ...]:
    """Return the characters of a data file, one per line.

    Blank lines and comment lines (a '#' followed by more text) are skipped; a line holding only '#'
    is the character '#'.
    """
    chars = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or (text.startswith("#") and len(text) > 1):
            continue
        if len(text) != 1:
            raise ValueError(f"{path.name} line {number}: expected one character, got {text!r}")
        chars.append(text)
    return tuple(chars)


def validate_hangul(chars: tuple[str, ...]) -> tuple[str, ...]:
    """Return `chars` if they are HANGUL_COUNT distinct KS X 1001 syllables; raise ValueError otherwise."""
    if len(chars) != HANGUL_COUNT or len(set(chars)) != len(chars):
        raise ValueError(
            f"the Hangul set must hold {HANGUL_COUNT} distinct syllables, "
            f"got {len(chars)} ({len(set(chars))} distinct)"
        )
    outside = [c for c in chars if not in_ks_x_1001(c)]
    if outside:
        raise ValueError(f"these are not KS X 1001 syllables: {''.join(outside)}")
    return chars


def validate_latin(chars: tuple[str, ...]) -> tuple[str, ...]:
    """Return `chars` if they are exactly printable ASCII 0x21-0x7E; raise ValueError otherwise."""
    expected = tuple(chr(c) for c in range(0x21, 0x7F))
    if sorted(chars) != list(expected) or len(chars) != LATIN_COUNT:
        raise ValueError(f"the Latin set must be the {LATIN_COUNT} printable ASCII characters 0x21-0x7E")
    return chars


HANGUL: tuple[str, ...] = validate_hangul(read_charset(HANGUL_FILE))
LATIN: tuple[str, ...] = validate_latin(read_charset(LATIN_FILE))
