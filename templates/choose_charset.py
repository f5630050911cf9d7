"""Choose the 200 Hangul syllables of the template so a generator sees every jamo in every positional form.

Run: `python3 -m templates.choose_charset --out templates/data/hangul-v1.txt` (deterministic).

A syllable covers three kinds of pairs:
  ("initial", initial, layout class)   layout class = vowel class x has-final (6 classes)
  ("medial", medial, has final)
  ("final", final, vowel class)
Every pair that occurs in some KS X 1001 syllable must be covered. A greedy set cover (ties broken by a
frequency proxy, then by codepoint) picks the first ~130 syllables; frequent syllables and hard shapes
(complex finals, compound vowels with a final) fill the rest.
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from templates.jamo import (
    COMPLEX_FINALS,
    FIRST_SYLLABLE,
    LAST_SYLLABLE,
    decompose,
    in_ks_x_1001,
    layout_class,
    vowel_class,
)

# Frequency proxy: common Korean syllables, roughly most frequent first. Written from general knowledge of
# published syllable-frequency rankings (e.g. NIKL's 2002 survey of modern Korean usage); it is an
# approximation, not a measured count, and serves only to prefer familiar, easy-to-write syllables.
FREQUENT = (
    "이다는의에가고하을지서로기한도를사리자대나은시어수인정일아상전게국부적제과해주들라보스장여원니동면우"
    "구성조소학마만요중생거있세회신것내화공관경연문오계비그업무방위치미드개물실재없으발말분모까간식유결터했"
    "되음야안행러진선민금르트저명때날년운작데체용며히였외통던처및단당본심입차람교태알산김득습많영같속후현형"
    "직표호활반질역점집각래록량더번특증두노목월최환별종레받변새육파론품임남강력근출예함석감권판초건편색천급"
    "망책또설청디합토준술불키봐줄좋왜네뭐볼밖움직놓길앞뒤옆손발눈귀입몸맛값흙닭삶읽앉넓젊끓싫옳괜찮왔됐"
)
COUNT = 200  # templates.charset.HANGUL_COUNT; not imported, since charset loads the file we write
HARD_FILL = 25  # of the fill, how many slots go to hard shapes; the rest go to frequent syllables


@functools.cache
def coverage_pairs(syllable: str) -> frozenset[tuple[str, str, str]]:
    """Return the three coverage pairs of a syllable (see the module docstring), as string triples."""
    initial, medial, final = decompose(syllable)
    vclass, has_final = layout_class(syllable)
    return frozenset(
        {
            ("initial", initial, f"{vclass}{'+final' if has_final else ''}"),
            ("medial", medial, "final" if has_final else "open"),
            *([("final", final, vowel_class(syllable))] if final else []),
        }
    )


def ks_x_1001_syllables() -> tuple[str, ...]:
    """Return the 2,350 KS X 1001 syllables in codepoint order."""
    return tuple(c for c in map(chr, range(FIRST_SYLLABLE, LAST_SYLLABLE + 1)) if in_ks_x_1001(c))


def required_pairs(syllables: Iterable[str]) -> frozenset[tuple[str, str, str]]:
    """Return every coverage pair that occurs in `syllables`."""
    return frozenset().union(*(coverage_pairs(s) for s in syllables))


def is_hard(syllable: str) -> bool:
    """Return True for shapes a generator finds hardest: complex finals, compound vowels with a final."""
    _, _, final = decompose(syllable)
    return final in COMPLEX_FINALS or layout_class(syllable) == ("compound", True)


@functools.cache
def _jamo_counts() -> Counter[tuple[int, str]]:
    """How often each jamo, in each position, occurs among the FREQUENT syllables."""
    return Counter((i, jamo) for s in FREQUENT for i, jamo in enumerate(decompose(s)))


@functools.cache
def _rank(syllable: str) -> tuple[int, int, int]:
    """Sort key, smaller is better: frequency rank, then (for unranked) familiar jamo, then codepoint."""
    index = FREQUENT.find(syllable)
    familiarity = sum(_jamo_counts()[(i, jamo)] for i, jamo in enumerate(decompose(syllable)))
    return (index if index >= 0 else len(FREQUENT), -familiarity, ord(syllable))


def greedy_cover(candidates: tuple[str, ...]) -> list[str]:
    """Return syllables covering every pair of `candidates`, greedily: most new pairs, then frequency."""
    missing = set(required_pairs(candidates))
    chosen: list[str] = []
    while missing:
        best = min(candidates, key=lambda s: (-len(coverage_pairs(s) & missing), _rank(s)))
        chosen.append(best)
        missing -= coverage_pairs(best)
    return chosen


def choose(count: int = COUNT, hard_fill: int = HARD_FILL) -> tuple[str, ...]:
    """Return `count` KS X 1001 syllables in codepoint order: the cover, frequent fill, hard-shape fill."""
    candidates = ks_x_1001_syllables()
    chosen = greedy_cover(candidates)
    if len(chosen) > count:
        raise ValueError(f"covering every pair needs {len(chosen)} syllables, more than {count}")
    frequent = [c for c in dict.fromkeys(FREQUENT) if in_ks_x_1001(c)]
    for syllable in frequent:
        if len(chosen) >= count - hard_fill:
            break
        if syllable not in chosen:
            chosen.append(syllable)
    # Hard shapes: prefer ones adding a (medial, final) combination not yet seen, so the fill spreads out.
    seen = {decompose(s)[1:] for s in chosen}
    hard = [s for s in candidates if is_hard(s) and s not in chosen]
    while len(chosen) < count:
        best = min(hard, key=lambda s: (decompose(s)[1:] in seen, _rank(s)))
        hard.remove(best)
        chosen.append(best)
        seen.add(decompose(best)[1:])
    return tuple(sorted(chosen))


def write_charset(chars: tuple[str, ...], out: Path) -> None:
    """Write one character per line under a comment header, atomically."""
    header = (
        f"# Hangul syllables of the handwriting template ({len(chars)}), one per line.\n"
        "# Chosen by `python3 -m templates.choose_charset`; do not edit by hand.\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(header + "".join(f"{c}\n" for c in chars))
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    """Choose the set and write it to --out; print a coverage summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, required=True, help="file to write, e.g. templates/data/hangul-v1.txt"
    )
    args = parser.parse_args(argv)
    chars = choose()
    write_charset(chars, args.out)
    cover = greedy_cover(ks_x_1001_syllables())
    pairs = required_pairs(ks_x_1001_syllables())
    hard = sum(map(is_hard, chars))
    print(
        f"wrote {len(chars)} syllables to {args.out}: {len(pairs)} pairs covered by a {len(cover)}-syllable "
        f"greedy cover; {hard} hard shapes"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
