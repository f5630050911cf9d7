"""Fine-tuning variants scored on a writer read from photos: which loss and which kept step make the font.

The writer is a `geulssi extract` output directory (the demo's photos give Nanum Pen Script as simulated
handwriting); the font it was written in is the truth. Each variant fine-tunes the shipped generator on the
extracted glyphs at the product's defaults, except for what it names, then draws 200 (`--count`) random
KS X 1001 syllables that are not on the template and scores them as `models.evaluate` does (SSIM, L1,
ink IoU, broken share), plus the share of those with a ㅇ or ㅎ that are drawn a hole short
(`models.counters`). It also writes hard.png, the demo's blotted syllables, per variant. Session 8's
table is in docs/QUALITY.md, "Which fine-tuning step to keep"; session 9's (the anchors, four writers) in
"Holding the fine-tune to the seed drawing"; session 10's (the ink mass gap, six writers) in
"Charging for ink"; session 11's (the critic, three writers) in "A critic for the fine-tune".

    geulssi extract --out /tmp/ex var/artifacts/fonts/<demo font>/pages/*.jpg
    python -m bench.finetune_variants --glyphs /tmp/ex/glyphs \
        --font /usr/share/fonts/truetype/nanum/NanumPen.ttf --variant ssim-check --out /tmp/variants

Variants: product (ink-weighted L1 plus the ink mass gap, the held-back check keeps the step with the
lowest training loss); mass0 / mass1 / mass2 / mass5 (the ink mass gap, `models.finetune.ink_mass_gap`,
at that weight; the product uses 2 since session 10, so mass0 is the product before it); mass2-ink1 (the
mass gap at 2 with ink weight 1 instead of 4); shift4 / shift4-plain / shift4-ink1 (the loss takes the best
of target shifts of up to 4 px, with the product's ink weight, none, or 1); ssim-check (the check keeps the
step with the best held-back SSIM); seed-mix (no fine-tuning: the pretrained generator in the writer's seed
styles; its row also gives the seed mix's SSIM on the writer's held-back and all written syllables, see
`seed_fit`); anchor3 (the seed anchor at weight 3 on pooled ink, `models.finetune.SeedAnchor`); layout1.5 /
layout3 (the anchor on the ink's layout only); adv0 / adv0.01 / adv0.03 / adv0.1 / adv0.3 (the pretrained
discriminator as a critic, `models.finetune.Critic`, at that weight; adv0 is the product, which
runs without it; the base weights must carry a discriminator: exports since session 11 do); hole0 / hole4 /
hole10 / hole30 (the paper inside the writer's counters weighed that many times more in the loss,
`models.finetune.counter_paper`); gap4 / gap10 / gap30 (the same, plus the narrow gaps between strokes:
`closing_gaps`); skeleton0.3 / skeleton1 (the loss and the check also charge paper along the written
strokes' skeleton, `skeleton_miss`, at that weight). Each variant's
folder also gets paragraph.png, the readability paragraph set from its drawings, and the row its sentence
CER. `--reuse` scores a folder's
writer.pt again without fine-tuning.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

import models
import models.finetune as finetuning
from models import checkpoints, counters, readability
from models.evaluate import HARD, scored_truth, template_syllables
from models.fonts import FontFace, render_set
from models.generate import draw
from models.glyph_files import read_glyph_dir
from models.metrics import mean_scores, ssim
from models.repair import seed_style
from models.tensors import to_images

Loss = Callable[..., torch.Tensor]  # (fake, target, product ink weight, counter weight)
DEMO_BLOTS = "입술특별필않헌쥐퀴바타끼람"


def shift_tolerant(shift: int, ink_weight: float | None) -> Loss:
    """The ink-weighted L1 against the best of the target's shifts by up to `shift` px (steps of 2)."""

    def loss(
        fake: torch.Tensor, target: torch.Tensor, product_weight: float, _counter: float = 0.0
    ) -> torch.Tensor:
        weight_of_ink = product_weight if ink_weight is None else ink_weight
        padded, size = F.pad(target, (shift,) * 4, value=-1.0), target.shape[-1]
        best = None
        for dy in range(0, 2 * shift + 1, 2):
            for dx in range(0, 2 * shift + 1, 2):
                moved = padded[..., dy : dy + size, dx : dx + size]
                weight = 1.0 + weight_of_ink * (moved > 0).to(fake.dtype)
                per = (weight * (fake - moved).abs()).flatten(1).sum(1) / weight.flatten(1).sum(1)
                best = per if best is None else torch.minimum(best, per)
        assert best is not None
        return best.mean()

    return loss


def closing_gaps(target: torch.Tensor, span: int = 7) -> torch.Tensor:
    """Stands in for finetune.counter_paper in the gap variants: the paper a closing `span` px wide would
    ink, which is the inside of small counters plus the narrow gaps between strokes."""
    ink = (target > 0).to(target.dtype)
    pad = span // 2
    closed = -F.max_pool2d(-F.max_pool2d(ink, span, 1, pad), span, 1, pad)
    return closed * (1.0 - ink)


def held_back_ssim_loss(self: finetuning.HeldBackCheck, drawn: torch.Tensor) -> float:
    """HeldBackCheck.loss as minus the mean SSIM of the held-back drawings, instead of the training loss."""
    pairs = zip(to_images(drawn), to_images(self.target), strict=True)
    return -float(np.mean([ssim(a, b) for a, b in pairs]))


def skeleton_miss(fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per glyph, the mean paper-ness (0 ink .. 1 paper) of the drawing along the written strokes' 1-px
    skeleton, averaged over the batch: a missing short stroke costs its length, whatever the stroke width."""
    ink = ((target[:, 0] > 0).cpu().numpy() * 255).astype(np.uint8)
    skeleton = np.stack([cv2.ximgproc.thinning(m) > 0 for m in ink])
    mask = torch.from_numpy(skeleton).to(fake.device, fake.dtype).unsqueeze(1)
    paper = (1 - fake) / 2
    per = (paper * mask).flatten(1).sum(1) / mask.flatten(1).sum(1).clamp(min=1)
    return per.mean()


def with_skeleton(weight: float) -> Loss:
    """The product's ink-weighted L1 plus `weight` times `skeleton_miss`."""
    product = finetuning.ink_weighted_l1

    def loss(
        fake: torch.Tensor, target: torch.Tensor, ink_weight: float, counter: float = 0.0
    ) -> torch.Tensor:
        return product(fake, target, ink_weight, counter) + weight * skeleton_miss(fake, target)

    return loss


LOSSES: dict[str, Loss] = {
    "skeleton0.3": with_skeleton(0.3),
    "skeleton1": with_skeleton(1.0),
    "shift4": shift_tolerant(4, None),
    "shift4-plain": shift_tolerant(4, 0.0),
    "shift4-ink1": shift_tolerant(4, 1.0),
}
# SeedAnchor (weight, layout only): "anchor" holds ink mass too, "layout" only where the ink lies
ANCHORS = {"anchor3": (3.0, False), "layout1.5": (1.5, True), "layout3": (3.0, True)}
MASSES = {"mass0": 0.0, "mass1": 1.0, "mass2": 2.0, "mass5": 5.0}
INK_WEIGHTS = {"mass2-ink1": 1.0}  # the ink mass gap at 2 with a lighter ink weight (the product: 4)
# the pretrained discriminator as a critic (models.finetune.Critic) at this weight; needs base weights that
# carry a discriminator (`models.pretrain.export` writes it since session 11; v4 has none)
ADVERSARIAL = {"adv0": 0.0, "adv0.01": 0.01, "adv0.03": 0.03, "adv0.1": 0.1, "adv0.3": 0.3}
# the paper inside the writer's counters weighed this many times more (finetune.counter_paper); the gap
# variants also weigh the narrow gaps between strokes (closing_gaps)
COUNTERS = {
    "hole0": 0.0, "hole4": 4.0, "hole10": 10.0, "hole30": 30.0, "gap4": 4.0, "gap10": 10.0, "gap30": 30.0
}
VARIANTS = (
    "product", *LOSSES, "ssim-check", "seed-mix", *ANCHORS, *MASSES, *INK_WEIGHTS, *ADVERSARIAL, *COUNTERS
)


def truth_set(font: Path, count: int) -> tuple[list[int], np.ndarray]:
    """`count` random non-template KS X 1001 syllables (seed 0) and their canonical true glyphs."""
    face = FontFace(font.stem, font)
    renders = render_set(face, template_syllables())
    cps, truth, _ = scored_truth(face, renders, count, np.random.default_rng(0))
    return cps, truth


def write_paragraph(path: Path, glyphs: dict[int, np.ndarray]) -> None:
    """Write the readability paragraph set from `glyphs` as one image, lines under each other."""
    lines = readability.set_paragraph(glyphs, readability.paragraph_words())
    width = max(line.shape[1] for line in lines)
    padded = [cv2.copyMakeBorder(ln, 0, 0, 0, width - ln.shape[1], cv2.BORDER_CONSTANT, value=255)
              for ln in lines]
    cv2.imwrite(str(path), np.vstack(padded))


def seed_fit(
    glyph_dir: Path, generator: torch.nn.Module, meta: dict, style: torch.Tensor, seed: int
) -> dict[str, float]:
    """How well the seed mix draws the writer's own syllables: mean SSIM on the ones fine-tuning with
    `seed` holds back (what its check sees at step 0) and on all of them."""
    written, _ = finetuning.canonical_writer_glyphs(read_glyph_dir(glyph_dir))
    cps = sorted(written)
    _, held = finetuning.split_held_back(len(cps), finetuning.HELD_BACK, np.random.default_rng(seed))
    drawn = draw(generator, meta, cps, style)
    scores = [ssim(drawn[i], written[cp]) for i, cp in enumerate(cps)]
    return {"held_back_ssim": round(float(np.mean([scores[i] for i in held])), 4),
            "written_ssim": round(float(np.mean(scores)), 4)}  # fmt: skip


def run(
    variant: str, glyph_dir: Path, font: Path, out: Path, weights: Path, seed: int = 0, count: int = 200,
    reuse: bool = False,
) -> dict[str, object]:
    """Fine-tune (or not) as `variant` says, score it, write its hard.png; return the row."""
    start = time.monotonic()
    folder = out / f"{variant}-seed{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    cps, truth = truth_set(font, count)
    if variant in LOSSES:
        finetuning.ink_weighted_l1 = LOSSES[variant]  # type: ignore[assignment]
    if variant.startswith("gap"):
        finetuning.counter_paper = closing_gaps  # type: ignore[assignment]
    if variant == "ssim-check":
        finetuning.HeldBackCheck.loss = held_back_ssim_loss  # type: ignore[method-assign]
    steps = 1 if variant == "seed-mix" else finetuning.FINETUNE_STEPS  # seed-mix needs only the seeds
    anchor, layout_only = ANCHORS.get(variant, (finetuning.ANCHOR_WEIGHT, True))
    ink_weight = {"ink_weight": INK_WEIGHTS[variant]} if variant in INK_WEIGHTS else {}
    if not (reuse and (folder / "writer.pt").is_file()):
        finetuning.finetune(
            read_glyph_dir(glyph_dir), weights, folder / "writer.pt", steps=steps, seed=seed,
            anchor=anchor, anchor_layout_only=layout_only,
            mass_weight=MASSES.get(variant, finetuning.MASS_WEIGHT), **ink_weight,
            adversarial=ADVERSARIAL.get(variant, finetuning.ADVERSARIAL_WEIGHT),
            counter_weight=COUNTERS.get(variant, finetuning.COUNTER_WEIGHT),
        )  # fmt: skip
    generator, meta = checkpoints.load_generator(folder / "writer.pt")
    style: int | torch.Tensor = 0
    kept = meta["finetune"]["kept_step"]
    fit: dict[str, float] = {}
    if variant == "seed-mix":
        writer_meta = meta
        generator, meta = checkpoints.load_generator(weights)
        style, kept = seed_style(generator, meta, writer_meta), 0
        fit = seed_fit(glyph_dir, generator, meta, style, seed)
    drawn = draw(generator, meta, cps, style)
    hard = draw(generator, meta, [ord(c) for c in HARD + DEMO_BLOTS], style)
    cv2.imwrite(str(folder / "hard.png"), np.concatenate(list(hard), axis=1))
    para_cps = readability.paragraph_codepoints()
    paragraph = dict(zip(para_cps, draw(generator, meta, para_cps, style), strict=True))
    write_paragraph(folder / "paragraph.png", paragraph)
    sentence_cer = readability.sentence_cers({variant: paragraph})[variant][0]
    broken = readability.broken_shares(truth, {variant: drawn}, cps)[variant]
    scores = {k: round(v, 4) for k, v in mean_scores(truth, drawn).items()}
    return {
        "variant": variant, "seed": seed, "kept_step": kept, **scores, "broken": round(broken.share, 3),
        "readable": broken.readable, "sentence_cer": round(sentence_cer, 3),
        "short_of_holes": round(counters.short_of_holes(drawn, cps), 3),
        "truth_short_of_holes": round(counters.short_of_holes(truth, cps), 3), **fit,
        "minutes": round((time.monotonic() - start) / 60, 1),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glyphs", type=Path, required=True, help="glyphs/ of a `geulssi extract` run")
    parser.add_argument("--font", type=Path, required=True, help="the font the pages were written in")
    parser.add_argument("--variant", choices=VARIANTS, default="product")
    parser.add_argument("--out", type=Path, default=Path("var/finetune-variants"))
    parser.add_argument("--seed", type=int, default=0, help="the fine-tune's seed (run-to-run spread)")
    parser.add_argument("--reuse", action="store_true", help="score a writer.pt already in --out again")
    parser.add_argument("--count", type=int, default=200, help="unseen syllables scored")
    parser.add_argument("--weights", type=Path, default=None, help="pretrained weights (default: shipped)")
    args = parser.parse_args(argv)
    if not args.glyphs.is_dir() or not args.font.is_file():
        parser.error("--glyphs must be a directory of extracted glyphs and --font a font file")
    if args.count < 1:
        parser.error("--count must be at least 1")
    weights = args.weights or models.weights_path()
    row = run(args.variant, args.glyphs, args.font, args.out, weights, args.seed, args.count, args.reuse)
    print(json.dumps(row, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
