"""Quality evaluation on held-out handwriting fonts: simulate a writer, fine-tune, compare with the truth.

Protocol: render a held-out font's template syllables (templates/data/hangul-v1.txt) into writing boxes
with random size/position jitter and specks, fine-tune on them, draw other KS X 1001 syllables and compare
with the font's own glyphs (SSIM as in DM-Font, L1, ink IoU, Tesseract CER). Baselines: the source font,
the nearest pretraining font (rendered, from the glyph cache) and the model before fine-tuning.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from models import checkpoints, glyph_space, hangul
from models.dataset import load_cache
from models.finetune import finetune
from models.fonts import FontFace, render_set
from models.fontset import FontEntry
from models.generate import draw
from models.metrics import mean_scores, ocr_cer
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
TEMPLATE_FILE = Path(__file__).resolve().parent.parent / "templates" / "data" / "hangul-v1.txt"
SYSTEMS = ("source font", "nearest pretraining font", "before fine-tuning", "fine-tuned")


@dataclass
class FontReport:
    """Scores of every system on one held-out font, plus its side-by-side sheet."""

    font: str
    n_template: int
    n_eval: int
    seeds: list[tuple[str, float]]
    scores: dict[str, dict[str, float]]
    sheet: np.ndarray
    finetune_seconds: float


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
    """Run the protocol on one held-out font and return its report."""
    rng = np.random.default_rng(seed)
    face = FontFace(entry.name, entry.local_path(), entry.index, entry.style_class)
    template = template_syllables()
    renders = render_set(face, template)
    others = [cp for cp in hangul.ksx1001_syllables() if cp not in set(template)]
    eval_cps = sorted(rng.choice(others, size=min(n_eval, len(others)), replace=False).tolist())
    truth_raw = render_set(face, eval_cps)
    eval_cps = [cp for cp in eval_cps if cp in truth_raw]
    scale = glyph_space.writer_scale(renders.values())
    truth = np.stack([glyph_space.to_canonical(truth_raw[cp], scale) for cp in eval_cps])

    with tempfile.TemporaryDirectory() as tmp:
        result = finetune(
            writing_boxes(renders, rng), weights, Path(tmp) / "w.pt", steps=steps, progress=progress
        )
        tuned, tuned_meta = checkpoints.load_generator(result.checkpoint)
    base, meta = checkpoints.load_generator(weights)
    names = [f["name"] for f in meta["fonts"]]
    mix = sum(w * base.styles.weight[names.index(n)].detach() for n, w in result.seeds)
    drawn = {
        "source font": source_glyphs(meta["source_font"], eval_cps, glyph_space.SIZE),
        "before fine-tuning": draw(base, meta, eval_cps, torch.as_tensor(mix)),
        "fine-tuned": draw(tuned, tuned_meta, eval_cps, 0),
    }
    if cache_dir is not None and (cache_dir / "meta.json").is_file():
        cache = load_cache(cache_dir)
        font_row = [f["name"] for f in cache.fonts].index(result.seeds[0][0])
        rows = np.searchsorted(cache.codepoints, eval_cps)
        drawn["nearest pretraining font"] = np.asarray(cache.targets[font_row][rows])
    scores = {name: mean_scores(truth, images) for name, images in drawn.items()}
    text = [chr(cp) for cp in eval_cps]
    for name, images in [("truth (OCR ceiling)", truth), *drawn.items()]:
        scores.setdefault(name, {})["cer"] = ocr_cer(images, text)
    return FontReport(
        entry.name, len(renders), len(eval_cps), result.seeds, scores, _sheet(truth, drawn), result.seconds
    )


def _sheet(truth: np.ndarray, drawn: dict[str, np.ndarray], n: int = 12, px: int = 64) -> np.ndarray:
    """Rows: truth, then each system in SYSTEMS order, for the first `n` evaluation glyphs."""
    rows = [truth, *(drawn[s] for s in SYSTEMS if s in drawn)]
    return np.concatenate([
        np.concatenate([cv2.resize(g, (px, px), interpolation=cv2.INTER_AREA) for g in row[:n]], axis=1)
        for row in rows
    ])  # fmt: skip


def write_report(reports: list[FontReport], out_md: Path, sheet_dir: Path, settings: str) -> Path:
    """Write docs/QUALITY.md-style markdown and one PNG sheet per font; return the markdown path."""
    sheet_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Quality",
        "",
        settings.strip(),
        "",
        "| font | system | SSIM ↑ | L1 ↓ | ink IoU ↑ | OCR CER ↓ |",
        "|---|---|---|---|---|---|",
    ]
    for r in reports:
        for name in ("truth (OCR ceiling)", *SYSTEMS):
            s = r.scores.get(name)
            if s is None:
                continue
            cells = [f"{s[k]:.3f}" if k in s else "" for k in ("ssim", "l1", "iou", "cer")]
            lines.append(f"| {r.font} | {name} | " + " | ".join(cells) + " |")
    lines.append("")
    for r in reports:
        slug = r.font.lower().replace(" ", "-")
        cv2.imwrite(str(sheet_dir / f"{slug}.png"), r.sheet)
        seeds = ", ".join(f"{n} ({w:.2f})" for n, w in r.seeds)
        rel = sheet_dir.relative_to(out_md.parent) if sheet_dir.is_relative_to(out_md.parent) else sheet_dir
        lines += [
            f"## {r.font}",
            "",
            f"{r.n_template} template syllables written, {r.n_eval} other KS X 1001 syllables scored; "
            f"fine-tuning took {r.finetune_seconds:.0f} s; seed styles: {seeds}.",
            "",
            f"![{r.font}]({rel}/{slug}.png)",
            "",
            "Rows: truth, " + ", ".join(s for s in SYSTEMS if s in r.scores) + ".",
            "",
        ]
    tmp = out_md.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(out_md)
    return out_md
