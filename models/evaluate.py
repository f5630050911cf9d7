"""Quality evaluation on held-out handwriting fonts: simulate a writer, fine-tune, compare with the truth.

Protocol: render a held-out font's template syllables (templates/data/hangul-v1.txt) into writing boxes
with random size/position jitter and specks, fine-tune on them, draw other KS X 1001 syllables and compare
with the font's own glyphs (SSIM as in DM-Font, L1, ink IoU, Tesseract CER), plus readability
(models.readability: the broken share of syllables read alone, and the CER of a paragraph of prose).
Baselines: the source font, the nearest pretraining font (rendered, from the glyph cache) and the model
before fine-tuning. The validation split runs the same protocol on a few pretraining handwriting fonts.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from models import checkpoints, glyph_space, hangul, readability
from models.dataset import load_cache
from models.finetune import finetune
from models.fonts import FontFace, render_set
from models.fontset import PRETRAIN, FontEntry
from models.generate import draw
from models.metrics import mean_scores, ocr_cer
from models.pretrain import SYNTHETIC_CLASS
from models.quality_report import SYSTEMS, TRUTH, FontReport
from models.source import source_glyphs

HELDOUT_LIST = Path("/work/shared/fonts/heldout.tsv")
HELDOUT = (
    FontEntry("Gaegu", "Regular", "handwriting", "@expo-google-fonts/gaegu",
              "package/400Regular/Gaegu_400Regular.ttf", npm=True),
    FontEntry("Cute Font", "Regular", "handwriting", "@expo-google-fonts/cute-font",
              "package/400Regular/CuteFont_400Regular.ttf", npm=True),
    FontEntry("Poor Story", "Regular", "handwriting", "@expo-google-fonts/poor-story",
              "package/PoorStory_400Regular.ttf", npm=True),
    FontEntry("Gaegu", "Light", "handwriting", "@expo-google-fonts/gaegu",
              "package/300Light/Gaegu_300Light.ttf", npm=True),
    FontEntry("Gaegu", "Bold", "handwriting", "@expo-google-fonts/gaegu",
              "package/700Bold/Gaegu_700Bold.ttf", npm=True),
)  # fmt: skip
# A tuning aid, not a test: these handwriting faces are in the pretraining set, so the model has seen them.
VALIDATION_NAMES = ("Nanum Pen Script Regular", "NanumBarunpen Regular", "Single Day Regular")
VALIDATION = tuple(e for e in PRETRAIN if e.name in VALIDATION_NAMES)
SPLITS = {"heldout": HELDOUT, "validation": VALIDATION}
TEMPLATE_FILE = Path(__file__).resolve().parent.parent / "templates" / "data" / "hangul-v1.txt"
HARD = "뷁쀍꿿똠쐈흝밟않헌별필쥐퀴끼"  # the most strokes and the syllables seen broken


def split_entries(split: str, names: list[str] | None = None) -> tuple[FontEntry, ...]:
    """Return the split's fonts, only those whose name or family is in `names` when given.

    Raises ValueError for an unknown split or names that match none of its fonts.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    entries = tuple(e for e in SPLITS[split] if not names or e.name in names or e.family in names)
    if not entries:
        choices = ", ".join(e.name for e in SPLITS[split])
        raise ValueError(f"no {split} font matches {', '.join(names or [])}; choose from {choices}")
    return entries


def template_syllables() -> list[int]:
    """Return the template's Hangul syllables (comment lines start with '#')."""
    if not TEMPLATE_FILE.is_file():
        raise ValueError(f"{TEMPLATE_FILE} is missing; the templates package writes it")
    lines = TEMPLATE_FILE.read_text(encoding="utf-8").splitlines()
    return [ord(s.strip()) for s in lines if s.strip() and not s.startswith("#")]


def writing_boxes(renders: dict[int, np.ndarray], rng: np.random.Generator) -> dict[int, np.ndarray]:
    """Return simulated writing-box images: each glyph at a jittered size and place in a 260x240 box."""
    boxes = {}
    for cp, image in renders.items():
        x0, y0, x1, y1 = glyph_space.ink_bbox(image) or (0, 0, 1, 1)
        crop = image[y0:y1, x0:x1]
        f = 150 / 128 * rng.uniform(0.9, 1.1)  # the writer's pen size varies a little from box to box
        h, w = max(1, round(crop.shape[0] * f)), max(1, round(crop.shape[1] * f))
        box = np.full((260, 240), 255, np.uint8)
        top, left = int(rng.integers(10, max(11, 250 - h))), int(rng.integers(10, max(11, 230 - w)))
        box[top : top + h, left : left + w] = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA)[
            : 260 - top, : 240 - left
        ]
        box[rng.integers(0, 260, 4), rng.integers(0, 240, 4)] = 60  # specks of dust
        boxes[cp] = box
    return boxes


def scored_truth(
    face: FontFace, renders: dict[int, np.ndarray], n_eval: int, rng: np.random.Generator
) -> tuple[list[int], np.ndarray, float]:
    """Pick `n_eval` random non-template KS X 1001 syllables the face draws; return them, their canonical
    true glyphs and the scale, taken from the face's template `renders` as a writer's glyphs would be."""
    template = set(template_syllables())
    others = [cp for cp in hangul.ksx1001_syllables() if cp not in template]
    chosen = sorted(rng.choice(others, size=min(n_eval, len(others)), replace=False).tolist())
    truth_raw = render_set(face, chosen)
    cps = [cp for cp in chosen if cp in truth_raw]
    scale = glyph_space.writer_scale(renders.values())
    return cps, np.stack([glyph_space.to_canonical(truth_raw[cp], scale) for cp in cps]), scale


def evaluate_font(
    entry: FontEntry,
    weights: Path,
    cache_dir: Path | None,
    *,
    steps: int,
    n_eval: int,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> FontReport:
    """Run the protocol on one font (held-out, or of the validation split) and return its report."""
    rng = np.random.default_rng(seed)
    face = FontFace(entry.name, entry.local_path(), entry.index, entry.style_class)
    template = template_syllables()
    renders = render_set(face, template)
    eval_cps, truth, scale = scored_truth(face, renders, n_eval, rng)
    words = readability.paragraph_words()
    extra = sorted((set(readability.paragraph_codepoints()) | {ord(c) for c in HARD}) - set(eval_cps))
    extra_truth = {cp: glyph_space.to_canonical(im, scale) for cp, im in render_set(face, extra).items()}
    all_cps = eval_cps + extra

    with tempfile.TemporaryDirectory() as tmp:
        result = finetune(
            writing_boxes(renders, rng), weights, Path(tmp) / "w.pt", steps=steps, progress=progress
        )
        tuned, tuned_meta = checkpoints.load_generator(result.checkpoint)
    base, meta = checkpoints.load_generator(weights)
    names = [f["name"] for f in meta["fonts"]]
    mix = sum(w * base.styles.weight[names.index(n)].detach() for n, w in result.seeds)
    by_cp = {
        name: dict(zip(all_cps, images, strict=True))
        for name, images in [
            ("source font", source_glyphs(meta["source_font"], all_cps, glyph_space.SIZE)),
            ("before fine-tuning", draw(base, meta, all_cps, torch.as_tensor(mix))),
            ("fine-tuned", draw(tuned, tuned_meta, all_cps, 0)),
        ]
    }
    # A synthetic writer (generator v2) is not a font in the cache: its base font stands in for it.
    real_name = {
        f["name"]: meta["fonts"][f["writer"]["base_font"]]["name"] if f.get("style_class") == SYNTHETIC_CLASS
        else f["name"]
        for f in meta["fonts"]
    }
    if cache_dir is not None and (cache_dir / "meta.json").is_file():
        nearest = real_name[result.seeds[0][0]]
        by_cp["nearest pretraining font"] = _cached_font(cache_dir, nearest, all_cps)
    drawn = {name: np.stack([glyphs[cp] for cp in eval_cps]) for name, glyphs in by_cp.items()}
    scores = {name: mean_scores(truth, images) for name, images in drawn.items()}
    text = [chr(cp) for cp in eval_cps]
    for name, images in [(TRUTH, truth), *drawn.items()]:
        scores.setdefault(name, {})["cer"] = ocr_cer(images, text)
    broken = readability.broken_shares(truth, drawn, eval_cps)
    for name, share in broken.items():
        scores[name]["broken"] = share.share
    truth_by_cp = {**dict(zip(eval_cps, truth, strict=True)), **extra_truth}
    needed = {ord(c) for w in words for c in w}
    settable = {name: g for name, g in {TRUTH: truth_by_cp, **by_cp}.items() if needed <= set(g)}
    for name, (cer, _text) in readability.sentence_cers(settable, words).items():
        scores[name]["sentence_cer"] = cer
    hard_sheet = _hard_sheet([ord(c) for c in HARD], truth_by_cp, by_cp["fine-tuned"])
    return FontReport(
        entry.name, len(renders), len(eval_cps), result.seeds, scores, _sheet(truth, drawn), result.seconds,
        broken["fine-tuned"], hard_sheet,
    )  # fmt: skip


def _cached_font(cache_dir: Path, font: str, codepoints: list[int]) -> dict[int, np.ndarray]:
    """Return a pretraining font's glyphs as rendered in the glyph cache, for those of `codepoints` in it."""
    cache = load_cache(cache_dir)
    row = [f["name"] for f in cache.fonts].index(font)
    cached = set(cache.codepoints.tolist())
    present = [cp for cp in codepoints if cp in cached]
    glyphs = np.asarray(cache.targets[row][np.searchsorted(cache.codepoints, present)])
    return dict(zip(present, glyphs, strict=True))


def _hard_sheet(
    codepoints: list[int], truth: dict[int, np.ndarray], ours: dict[int, np.ndarray], px: int = 96
) -> np.ndarray:
    """Rows truth and fine-tuned (BGR); a syllable the font lacks is grey; frames: red if Tesseract reads
    the true glyph right and ours wrong, green if it reads both right, none if it misreads the true one."""
    blank = np.full((glyph_space.SIZE, glyph_space.SIZE), 200, np.uint8)
    rows = [[truth.get(cp, blank) for cp in codepoints], [ours[cp] for cp in codepoints]]
    reads = readability.read_syllables([g for row in rows for g in row])
    n = len(codepoints)
    cells: list[list[np.ndarray]] = [[], []]
    for r, row in enumerate(rows):
        for i, glyph in enumerate(row):
            cell = cv2.cvtColor(cv2.resize(glyph, (px, px), interpolation=cv2.INTER_AREA), cv2.COLOR_GRAY2BGR)
            true_right = codepoints[i] in truth and reads[i] == chr(codepoints[i])
            if r == 1 and true_right:
                colour = (0, 160, 0) if reads[n + i] == chr(codepoints[i]) else (0, 0, 220)
                cv2.rectangle(cell, (1, 1), (px - 2, px - 2), colour, 3)
            cells[r].append(cv2.copyMakeBorder(cell, 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=(160, 160, 160)))
    return np.concatenate([np.concatenate(row, axis=1) for row in cells])


def _sheet(truth: np.ndarray, drawn: dict[str, np.ndarray], n: int = 12, px: int = 64) -> np.ndarray:
    """Rows: truth, then each system in SYSTEMS order, for the first `n` evaluation glyphs."""
    rows = [truth, *(drawn[s] for s in SYSTEMS if s in drawn)]
    return np.concatenate([
        np.concatenate([cv2.resize(g, (px, px), interpolation=cv2.INTER_AREA) for g in row[:n]], axis=1)
        for row in rows
    ])  # fmt: skip
