"""The template's character sets: 200 KS X 1001 syllables covering every jamo form, and printable ASCII."""

from __future__ import annotations

from pathlib import Path

import pytest

from templates import charset, choose_charset
from templates.jamo import FINALS, INITIALS, MEDIALS, VOWEL_CLASSES, decompose, in_ks_x_1001

KS_X_1001 = tuple(chr(c) for c in range(0xAC00, 0xD7A4) if len(chr(c).encode("euc-kr")) == 2)


def _layout_class(syllable: str) -> tuple[str, bool]:
    _, medial, final = decompose(syllable)
    return VOWEL_CLASSES[medial], bool(final)


def _families(syllables: tuple[str, ...]) -> dict[str, set[tuple[object, ...]]]:
    """The three coverage families, computed here from decompose() rather than from choose_charset."""
    families: dict[str, set[tuple[object, ...]]] = {"initial": set(), "medial": set(), "final": set()}
    for s in syllables:
        initial, medial, final = decompose(s)
        families["initial"].add((initial, _layout_class(s)))
        families["medial"].add((medial, bool(final)))
        if final:
            families["final"].add((final, VOWEL_CLASSES[medial]))
    return families


def test_ks_x_1001_has_2350_syllables_and_membership_agrees() -> None:
    assert len(KS_X_1001) == 2350
    assert all(in_ks_x_1001(c) for c in KS_X_1001)
    assert not in_ks_x_1001("똠") and not in_ks_x_1001("A") and not in_ks_x_1001("가나")


def test_jamo_tables_are_complete() -> None:
    assert (len(INITIALS), len(MEDIALS), len(FINALS)) == (19, 21, 27)
    assert set(VOWEL_CLASSES) == set(MEDIALS)
    assert "".join(decompose("힣")) == "ㅎㅣㅎ" and decompose("가") == ("ㄱ", "ㅏ", "")
    with pytest.raises(ValueError, match="not a precomposed Hangul syllable"):
        decompose("A")


def test_hangul_set_is_200_unique_ks_x_1001_syllables() -> None:
    assert len(charset.HANGUL) == charset.HANGUL_COUNT == choose_charset.COUNT == 200
    assert len(set(charset.HANGUL)) == 200
    assert all(c in KS_X_1001 for c in charset.HANGUL)


def test_required_pair_counts_match_the_spec() -> None:
    required = _families(KS_X_1001)
    assert (len(required["initial"]), len(required["medial"]), len(required["final"])) == (113, 42, 57)


@pytest.mark.parametrize("family", ["initial", "medial", "final"])
def test_hangul_set_covers_every_pair_of_ks_x_1001(family: str) -> None:
    missing = _families(KS_X_1001)[family] - _families(charset.HANGUL)[family]
    assert not missing, f"{family} pairs not covered: {sorted(missing, key=str)}"


def test_data_file_is_what_the_script_chooses(tmp_path: Path) -> None:
    out = tmp_path / "hangul.txt"
    assert choose_charset.main(["--out", str(out)]) == 0
    assert charset.read_charset(out) == charset.HANGUL
    assert out.read_bytes() == charset.HANGUL_FILE.read_bytes()


def test_latin_set_is_printable_ascii_in_order() -> None:
    assert tuple(chr(c) for c in range(0x21, 0x7F)) == charset.LATIN
    assert len(charset.LATIN) == charset.LATIN_COUNT == 94
    assert "#" in charset.LATIN  # a lone '#' line is a character, not a comment


def test_bad_sets_are_rejected() -> None:
    with pytest.raises(ValueError, match="200 distinct"):
        charset.validate_hangul(charset.HANGUL[:-1] + charset.HANGUL[:1])
    with pytest.raises(ValueError, match="not KS X 1001"):
        charset.validate_hangul((*charset.HANGUL[:-1], "똠"))
    with pytest.raises(ValueError, match="printable ASCII"):
        charset.validate_latin((*charset.LATIN[:-1], "é"))


def test_read_charset_rejects_a_line_with_two_characters(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("# comment\n가\n나다\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3"):
        charset.read_charset(path)
