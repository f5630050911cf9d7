"""The pretraining font set: which faces (from pretrain.tsv), how to install them, and the glyph cache.

python3 -m models.fontset install   # apt-get the Debian packages, `npm pack` the npm ones
python3 -m models.fontset cache     # render the training set into ~/.cache/geulssi/data
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from models import hangul
from models.dataset import GlyphSet, build_cache, render_glyphset
from models.fonts import FontFace

CACHE = Path(os.environ.get("GEULSSI_CACHE", Path.home() / ".cache" / "geulssi"))
FONT_CACHE = CACHE / "fonts"
DATA_CACHE = CACHE / "data"
FONT_LIST = Path("/work/shared/fonts/pretrain.tsv")


@dataclass(frozen=True)
class FontEntry:
    """One face as listed in pretrain.tsv: family, style, class, and where it comes from."""

    family: str
    style: str
    style_class: str
    package: str  # Debian package, or npm package name when `inner` is set
    path: str  # Debian path; for npm, the path inside the `npm pack` tarball
    index: int = 0
    npm: bool = False

    @property
    def name(self) -> str:
        """Return 'Family Style'."""
        return f"{self.family} {self.style}"

    def local_path(self) -> Path:
        """Return where the font file lives once installed."""
        if not self.npm:
            return Path(self.path)
        return FONT_CACHE / "npm" / Path(self.path).name.replace(".woff2", ".ttf")

    def face(self) -> FontFace:
        """Return the installed face."""
        return FontFace(self.name, self.local_path(), self.index, self.style_class)


_D, _HW, _DISP, _SANS, _SERIF = (
    "/usr/share/fonts/truetype/",
    "handwriting",
    "display",
    "print-sans",
    "print-serif",
)

# The source (content) font: Noto Sans CJK KR Regular. Every one of its 11,172 syllables is drawn as
# its own CFF outline (Nanum fonts assemble 8,822 of theirs from jamo pieces), so the model sees the same
# quality of input for the syllables nobody wrote as for the 2,350 it was trained on; it is a plain,
# even-weight sans, and Debian ships it (fonts-noto-cjk), so generation needs no download.
SOURCE = FontEntry(
    "Noto Sans CJK KR",
    "Regular",
    _SANS,
    "fonts-noto-cjk",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    index=1,
)

# Deduplicated by design by hand: Yeon Sung = BM YEONSUNG, Jua = BM JUA, Do Hyeon = BM DoHyeon,
# Nanum Pen (npm) = Nanum Pen Script, Kirang Haerang = BM KIRANGHAERANG, Noto Sans KR / Source Han Sans /
# Noto Sans Korean = Noto Sans CJK KR; one weight per family except where weight changes the hand.
# Handwriting faces come first: they are the styles writers resemble, and training samples them more.
PRETRAIN = (
    FontEntry("BM YEONSUNG", "Regular", _HW, "fonts-woowa-bm", _D + "woowa-bm/BMYEONSUNG_ttf.ttf"),
    FontEntry(
        "Black And White Picture",
        "Regular",
        _HW,
        "@expo-google-fonts/black-and-white-picture",
        "package/400Regular/BlackAndWhitePicture_400Regular.ttf",
        npm=True,
    ),
    FontEntry("Eunjin Nakseo", "Regular", _HW, "fonts-alee", _D + "alee/EunjinNakseo.ttf"),
    FontEntry("Nanum Brush Script", "Regular", _HW, "fonts-nanum-extra", _D + "nanum/NanumBrush.ttf"),
    FontEntry("Nanum Pen Script", "Regular", _HW, "fonts-nanum-extra", _D + "nanum/NanumPen.ttf"),
    FontEntry("NanumBarunpen", "Regular", _HW, "fonts-nanum-extra", _D + "nanum/NanumBarunpenR.ttf"),
    FontEntry("NanumBarunpen", "Bold", _HW, "fonts-nanum-extra", _D + "nanum/NanumBarunpenB.ttf"),
    FontEntry(
        "Single Day",
        "Regular",
        _HW,
        "@expo-google-fonts/single-day",
        "package/400Regular/SingleDay_400Regular.ttf",
        npm=True,
    ),
    FontEntry("UnGungseo", "Regular", _HW, "fonts-unfonts-core", _D + "unfonts-core/UnGungseo.ttf"),
    FontEntry("UnPen", "Regular", _HW, "fonts-unfonts-extra", _D + "unfonts-extra/UnPen.ttf"),
    FontEntry("UnPenheulim", "Regular", _HW, "fonts-unfonts-extra", _D + "unfonts-extra/UnPenheulim.ttf"),
    FontEntry("UnPilgi", "Regular", _HW, "fonts-unfonts-core", _D + "unfonts-core/UnPilgi.ttf"),
    FontEntry("UnPilgia", "Regular", _HW, "fonts-unfonts-extra", _D + "unfonts-extra/UnPilgia.ttf"),
    FontEntry(
        "BM KIRANGHAERANG", "Regular", _DISP, "fonts-woowa-bm", _D + "woowa-bm/BMKIRANGHAERANG-TTF.ttf"
    ),
    FontEntry("BM JUA_TTF", "Regular", _DISP, "fonts-woowa-bm", _D + "woowa-bm/BMJUA_ttf.ttf"),
    FontEntry("BM DoHyeon", "Regular", _DISP, "fonts-woowa-bm", _D + "woowa-bm/BMDOHYEON_ttf.ttf"),
    FontEntry("BM HANNA Air", "Regular", _DISP, "fonts-woowa-bm", _D + "woowa-bm/BMHANNAAir_ttf.ttf"),
    FontEntry("Bandal", "Regular", _DISP, "fonts-alee", _D + "alee/Bandal.ttf"),
    FontEntry("Eunjin", "Regular", _DISP, "fonts-alee", _D + "alee/Eunjin.ttf"),
    FontEntry("Guseul", "Regular", _DISP, "fonts-alee", _D + "alee/Guseul.ttf"),
    FontEntry("UnDinaru", "Regular", _DISP, "fonts-unfonts-core", _D + "unfonts-core/UnDinaru.ttf"),
    FontEntry("NanumGothic", "Regular", _SANS, "fonts-nanum", _D + "nanum/NanumGothic.ttf"),
    FontEntry("NanumBarunGothic", "Regular", _SANS, "fonts-nanum", _D + "nanum/NanumBarunGothic.ttf"),
    FontEntry("NanumSquareRound", "Regular", _SANS, "fonts-nanum", _D + "nanum/NanumSquareRoundR.ttf"),
    FontEntry(
        "Noto Sans CJK KR",
        "Bold",
        _SANS,
        "fonts-noto-cjk",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        index=1,
    ),
    FontEntry("UnDotum", "Regular", _SANS, "fonts-unfonts-core", _D + "unfonts-core/UnDotum.ttf"),
    FontEntry("UnGraphic", "Regular", _SANS, "fonts-unfonts-core", _D + "unfonts-core/UnGraphic.ttf"),
    FontEntry("LexiGulim", "Regular", _SANS, "fonts-lexi-gulim", _D + "lexi/LexiGulim.ttf"),
    FontEntry("LexiSaebomR", "Regular", _SANS, "fonts-lexi-saebom", _D + "lexi/LexiSaebomR.ttf"),
    FontEntry("Baekmuk Gulim", "Regular", _SANS, "fonts-baekmuk", _D + "baekmuk/gulim.ttf"),
    FontEntry(
        "Gowun Dodum",
        "Regular",
        _SANS,
        "@expo-google-fonts/gowun-dodum",
        "package/400Regular/GowunDodum_400Regular.ttf",
        npm=True,
    ),
    FontEntry(
        "Dongle",
        "Regular",
        _SANS,
        "@expo-google-fonts/dongle",
        "package/400Regular/Dongle_400Regular.ttf",
        npm=True,
    ),
    FontEntry(
        "IBM Plex Sans KR",
        "Regular",
        _SANS,
        "@expo-google-fonts/ibm-plex-sans-kr",
        "package/IBMPlexSansKR_400Regular.ttf",
        npm=True,
    ),
    FontEntry("NanumMyeongjo", "Regular", _SERIF, "fonts-nanum", _D + "nanum/NanumMyeongjo.ttf"),
    FontEntry(
        "Noto Serif CJK KR",
        "Regular",
        _SERIF,
        "fonts-noto-cjk",
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        index=1,
    ),
    FontEntry("UnBatang", "Regular", _SERIF, "fonts-unfonts-core", _D + "unfonts-core/UnBatang.ttf"),
    FontEntry("Baekmuk Batang", "Regular", _SERIF, "fonts-baekmuk", _D + "baekmuk/batang.ttf"),
    FontEntry(
        "Gowun Batang",
        "Regular",
        _SERIF,
        "@expo-google-fonts/gowun-batang",
        "package/400Regular/GowunBatang_400Regular.ttf",
        npm=True,
    ),
    FontEntry(
        "Song Myung",
        "Regular",
        _SERIF,
        "@expo-google-fonts/song-myung",
        "package/400Regular/SongMyung_400Regular.ttf",
        npm=True,
    ),
    FontEntry(
        "D2Coding",
        "Regular",
        "mono",
        "fonts-naver-d2coding",
        _D + "naver-d2coding/D2Coding-Ver1.3.2-20180524-all.ttc",
        index=0,
    ),
)


def check_listed(entries: tuple[FontEntry, ...], font_list: Path = FONT_LIST) -> None:
    """Raise ValueError if an entry is not a (family, style) row of `font_list` (skipped if absent)."""
    if not font_list.is_file():
        return
    rows = [line.split("\t") for line in font_list.read_text(encoding="utf-8").splitlines()[1:]]
    listed = {(r[0], r[1]) for r in rows if len(r) > 2}
    missing = [e.name for e in entries if (e.family, e.style) not in listed]
    if missing:
        raise ValueError(f"fonts not in {font_list}, so not allowed here: {', '.join(missing)}")


def _npm_extract(entry: FontEntry) -> None:
    """`npm pack` the entry's package into the font cache and extract its font file (woff2 -> ttf)."""
    npm_dir = FONT_CACHE / "npm"
    npm_dir.mkdir(parents=True, exist_ok=True)
    stem = entry.package.lstrip("@").replace("/", "-")
    tarballs = sorted(npm_dir.glob(f"{stem}-[0-9]*.tgz"))
    if not tarballs:
        subprocess.run(["npm", "pack", entry.package, "--silent"], cwd=npm_dir, check=True)
        tarballs = sorted(npm_dir.glob(f"{stem}-[0-9]*.tgz"))
    with tarfile.open(tarballs[-1]) as tar:
        member = tar.extractfile(entry.path)
        if member is None:
            raise ValueError(f"{entry.path} is not in {tarballs[-1].name}")
        data = member.read()
    target = entry.local_path()
    if entry.path.endswith(".woff2"):
        from fontTools.ttLib import TTFont

        font = TTFont(io.BytesIO(data))
        font.flavor = None
        buffer = io.BytesIO()
        font.save(buffer)
        data = buffer.getvalue()
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def install(entries: tuple[FontEntry, ...] = (SOURCE, *PRETRAIN), font_list: Path = FONT_LIST) -> list[Path]:
    """Install every entry's font file (apt-get for Debian, npm pack for npm) and return their paths."""
    check_listed(entries, font_list)
    debs = sorted({e.package for e in entries if not e.npm and not e.local_path().is_file()})
    if debs:
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *debs], check=True)
    for entry in entries:
        if entry.npm and not entry.local_path().is_file():
            _npm_extract(entry)
    return [e.local_path() for e in entries]


def ensure_cache(cache_dir: Path = DATA_CACHE / "pretrain-v1") -> Path:
    """Return the pretraining glyph cache, installing the pinned fonts and rendering it first if missing.

    Rendering is deterministic (same font files, same FreeType settings -> same bytes), so a fresh
    clone rebuilds exactly the cache a committed training state was trained on; `pretrain` checks that.
    """
    if (cache_dir / "meta.json").is_file():
        return cache_dir
    print(f"building the pretraining glyph cache in {cache_dir} (fonts, then ~2 minutes of rendering)")
    install()
    return build_cache(cache_dir, [e.face() for e in PRETRAIN], SOURCE.face())


def main(argv: list[str] | None = None) -> int:
    """Command line: `install` the fonts or build the glyph `cache`."""
    parser = argparse.ArgumentParser(prog="python3 -m models.fontset")
    parser.add_argument("action", choices=["install", "cache", "list"])
    args = parser.parse_args(argv)
    if args.action == "list":
        for e in (SOURCE, *PRETRAIN):
            print(f"{e.name}\t{e.style_class}\t{e.local_path()}")
    elif args.action == "install":
        for path in install():
            print(path)
    else:
        path = ensure_cache()
        print(json.dumps({"cache": str(path)}))
    return 0


QUICK_FONTS = ("NanumGothic Regular", "Nanum Pen Script Regular", "UnBatang Regular")


def quick_glyphset(n_syllables: int = 60, size: int = 32) -> GlyphSet:
    """Return a tiny GlyphSet (3 Debian fonts, every 10th KS X 1001 syllable up to `n_syllables`, `size` px).

    For tests and `geulssi pretrain --quick`: it renders in seconds and needs no cache.
    """
    faces = [e.face() for e in PRETRAIN if e.name in QUICK_FONTS]
    codepoints = hangul.ksx1001_syllables()[:: max(1, 2350 // n_syllables)][:n_syllables]
    return render_glyphset(faces, SOURCE.face(), codepoints, size=size)


if __name__ == "__main__":
    sys.exit(main())
