"""Fine-tuning: adapt the pretrained generator to one writer from their ~200 written syllables."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from models import checkpoints, counters, glyph_space, hangul
from models.generate import draw
from models.networks import Generator
from models.source import source_glyphs
from models.tensors import jitter, to_tensor

MIN_HANGUL = 10  # fewer written syllables than this cannot pin down a style
# Chosen on the validation split (pretraining hands; docs/QUALITY.md): at most 800 steps with a tenth of
# the written syllables held back to pick the step beat a plain 400 and a plain 1000 on both fonts.
FINETUNE_STEPS = 800
HELD_BACK = 0.1
# Off: the seed anchor (SeedAnchor) helps hands the seed styles already draw and holds back those they do
# not (docs/QUALITY.md, "Holding the fine-tune to the seed drawing"); bench.finetune_variants tries it.
ANCHOR_WEIGHT = 0.0
# The weight of `ink_mass_gap` in the fine-tuning loss. Chosen on photo writers made from pretraining fonts
# (docs/QUALITY.md, "Charging for ink"): 2 beat 0 on SSIM on all five and 5 on both it was tried on (1 was
# within noise); without it the first steps thicken every stroke and dense syllables close into blots.
MASS_WEIGHT = 2.0
# The weight of the pretrained discriminator's verdict on each drawing (see Critic); 0 turns it off.
# Off: chosen at 0.1 on photo writers made from pretraining fonts (filled ㅇ 64 % -> 15 % on Nanum Pen
# Script), it lowered every held-out font's SSIM and ink IoU (docs/QUALITY.md, "A critic for the fine-tune").
ADVERSARIAL_WEIGHT = 0.0
# How much more than other paper the paper inside the writer's counters weighs in the loss (see
# `ink_weighted_l1`); 0 turns it off. Off: at 10 it reopened a quarter of the pens' filled ㅇ but left a thin
# hand's rings open, and at 4 it changed nothing measurable (docs/QUALITY.md, "Weighing the paper inside
# counters").
COUNTER_WEIGHT = 0.0


class TooFewGlyphsError(ValueError):
    """The writer gave too few usable Hangul glyphs to fine-tune on."""


@dataclass(frozen=True)
class FinetuneResult:
    """What fine-tuning produced: the checkpoint, the seed fonts and how well it fits the written glyphs."""

    checkpoint: Path
    seeds: list[tuple[str, float]]
    final_l1: float
    seconds: float
    steps: int  # steps run (fewer than asked when the held-back loss stopped improving)


def canonical_writer_glyphs(glyphs: Mapping[int, np.ndarray]) -> tuple[dict[int, np.ndarray], float]:
    """Return (codepoint -> canonical glyph, writer scale) for the Hangul syllables among `glyphs`.

    Non-Hangul glyphs (Latin) are ignored: they are packaged as written. Blank boxes are skipped.
    Raises TooFewGlyphsError below MIN_HANGUL usable syllables.
    """
    hangul_images = glyph_space.inked_syllables(glyphs)
    if len(hangul_images) < MIN_HANGUL:
        raise TooFewGlyphsError(
            f"only {len(hangul_images)} written Hangul syllables with ink; at least {MIN_HANGUL} are needed"
        )
    scale = glyph_space.writer_scale(hangul_images.values())
    return {cp: glyph_space.to_canonical(im, scale) for cp, im in hangul_images.items()}, scale


def _resize(images: np.ndarray, size: int) -> np.ndarray:
    if images.shape[-1] == size:
        return images
    return np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in images])


def similar_styles(
    generator: Generator,
    source: torch.Tensor,
    target: torch.Tensor,
    jamo: torch.Tensor | None = None,
    k: int = 3,
    max_glyphs: int = 32,
) -> list[tuple[int, float]]:
    """Return the k pretraining styles whose generated glyphs best match the writer's, with mix weights.

    Distance: L1 between 4x-downsampled (so slightly blurred) generated and written glyphs of up to
    `max_glyphs` characters; weights are a softmax of the negative distances (sum to 1).
    """
    source, target = source[:max_glyphs], target[:max_glyphs]
    jamo = jamo[:max_glyphs] if jamo is not None else None
    n_styles = generator.styles.num_embeddings
    with torch.inference_mode():
        feats = generator.encode(source)
        target_small = F.avg_pool2d(target, 4)
        distances = []
        for style in range(n_styles):
            ids = torch.full((len(source),), style, dtype=torch.long, device=source.device)
            fake = generator.decode(feats, generator.styles(ids), jamo)
            distances.append(float((F.avg_pool2d(fake, 4) - target_small).abs().mean()))
    order = np.argsort(distances)[:k]
    best = np.array([distances[i] for i in order])
    weights = np.exp(-(best - best.min()) / 0.01)  # a clearly worse font gets little weight
    weights /= weights.sum()
    return [(int(i), float(w)) for i, w in zip(order, weights, strict=True)]


def counter_paper(target: torch.Tensor) -> torch.Tensor:
    """The paper (1, else 0) inside the counters of each target glyph (ink at +1): see
    `counters.enclosed_paper`."""
    ink = (target[:, 0] > 0).cpu().numpy()
    return torch.from_numpy(counters.enclosed_paper(ink)).to(target.device, target.dtype).unsqueeze(1)


def ink_weighted_l1(
    fake: torch.Tensor, target: torch.Tensor, ink_weight: float, counter_weight: float = 0.0
) -> torch.Tensor:
    """L1 where the target's ink pixels (+1 side) count `1 + ink_weight` times as much as paper, and the
    paper inside its counters (`counter_paper`) `1 + counter_weight` times.

    A writer's strokes never sit exactly where the source font's do, so plain L1 is cheapest with a faint,
    averaged stroke: thin hands came out with strokes missing. Weighting ink makes a missing stroke cost
    more than a slightly heavy one. It also makes ink the cheaper guess wherever a stroke may be, which
    fills a small ㅇ into a dot; weighing the paper inside it more keeps the ring open.
    """
    weight = 1.0 + ink_weight * (target > 0).to(fake.dtype)
    if counter_weight:
        weight = weight + counter_weight * counter_paper(target)
    return (weight * (fake - target).abs()).sum() / weight.sum()


def ink_mass_gap(fake: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of |ink drawn - ink written| per glyph, ink being the mean darkness (0-1).

    The ink-weighted L1 is cheapest with ink wherever a stroke might be, so the first fine-tuning steps
    thicken every stroke and dense syllables close into blots. Charging for each glyph's ink beyond (or
    short of) the writer's leaves the model one way to lower the L1: move the strokes.
    """
    drawn, written = (fake + 1).mean(dim=(1, 2, 3)) / 2, (target + 1).mean(dim=(1, 2, 3)) / 2
    return (drawn - written).abs().mean()


class Critic:
    """The pretrained discriminator as an adversarial loss: it keeps learning the writer's real syllables
    against the fine-tune's drawings, and the fine-tune is charged where it can tell them apart.

    An L1 unsure of a small ring's position by a few pixels is cheapest with a disc: on its own the
    fine-tune fills small ㅇ (docs/QUALITY.md). A critic that has seen real rings charges for the disc.
    Off (no loss) when `weight` is 0 or the base weights carry no discriminator.
    """

    def __init__(self, base_weights: Path | str, weight: float, lr: float, device: str) -> None:
        self.weight = weight
        self.net = checkpoints.load_discriminator(base_weights, device) if weight > 0 else None
        if self.net is not None:
            self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr, betas=(0.5, 0.999))

    @property
    def active(self) -> bool:
        return self.net is not None

    def loss(self, source: torch.Tensor, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        """Train the critic one step on (real, fake), then return the fine-tune's adversarial loss."""
        if self.net is None:
            return fake.new_zeros(())
        self.net.requires_grad_(True)
        real_logit, _ = self.net(source, real)
        fake_logit, _ = self.net(source, fake.detach())
        loss_d = 0.5 * (
            F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit))
            + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
        )
        self.optimizer.zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizer.step()
        self.net.requires_grad_(False)
        verdict, _ = self.net(source, fake)
        return self.weight * F.binary_cross_entropy_with_logits(verdict, torch.ones_like(verdict))


CHECK_EVERY = 50  # steps between draws of the held-back syllables
# Steps without a better held-back loss after which fine-tuning stops (0: never). Off, as the product was
# measured; with the critic on (which doubles a step's cost) 300 keeps a fine-tune within budget.
PATIENCE = 0
ANCHOR_POOL = 256  # unwritten syllables the seed anchor draws from
ANCHOR_BLUR = 4  # the anchor compares drawings pooled this many times smaller: layout, not stroke detail


def ink_layout(drawing: torch.Tensor) -> torch.Tensor:
    """Where a drawing's ink lies, whatever its weight: the ink (0 paper .. 1 ink) average-pooled
    ANCHOR_BLUR times and divided by its total, so that each glyph's cells sum to 1."""
    ink = F.avg_pool2d((drawing + 1) / 2, ANCHOR_BLUR)
    return ink / ink.sum(dim=(-2, -1), keepdim=True).clamp_min(1e-6)


def layout_distance(drawn: torch.Tensor, target_layout: torch.Tensor) -> torch.Tensor:
    """Mean total-variation distance (0 same .. 1 disjoint) between drawings' ink layouts and targets."""
    return 0.5 * (ink_layout(drawn) - target_layout).abs().sum(dim=(-2, -1)).mean()


class SeedAnchor:
    """Holds the fine-tune to the pretrained generator's layout on syllables the writer did not write.

    Before fine-tuning, the pretrained generator draws a pool of unwritten syllables in the writer's seed
    style mix; those drawings are clean but in the seeds' hand. Each step, a few of them are drawn by the
    model being fine-tuned, in the writer's style, and the distance between the two is added to the loss
    `weight` times. With `layout_only` (the default) the distance is `layout_distance`: where the ink lies
    at a quarter of the resolution, not how heavy it is, so a writer's stroke weight is still learned.
    Otherwise it is the L1 of the drawings average-pooled ANCHOR_BLUR times, which also holds the weight
    to the seeds'. Without an anchor, 200 written syllables teach the decoder the writer's strokes and, on
    the other 10,972, let dense syllables run together; with one, the writer's layout is held to the
    seeds' too, so it is off by default (ANCHOR_WEIGHT).
    """

    def __init__(self, model: Generator, meta: dict[str, Any], written: list[int], weight: float, batch: int,
                 rng: np.random.Generator, device: str, layout_only: bool = True) -> None:
        self.model, self.weight, self.batch, self.active = model, weight, batch, weight > 0
        self.layout_only = layout_only
        if not self.active:
            return
        unwritten = sorted(set(hangul.all_syllables()) - set(written))
        self.cps = [unwritten[i] for i in np.sort(rng.choice(len(unwritten), ANCHOR_POOL, replace=False))]
        self.source = to_tensor(source_glyphs(meta["source_font"], self.cps, model.size)).to(device)
        self.jamo = torch.from_numpy(hangul.jamo_ids(self.cps)).to(device) if model.jamo is not None else None
        with torch.no_grad():
            ids = torch.zeros(len(self.cps), dtype=torch.long, device=device)
            drawn = model.decode(model.encode(self.source), model.styles(ids), self.jamo)
            self.target = ink_layout(drawn) if layout_only else F.avg_pool2d(drawn, ANCHOR_BLUR)

    def loss(self, rng: np.random.Generator) -> torch.Tensor | float:
        """The weighted anchor loss on a random batch of the pool (0 when the anchor is off)."""
        if not self.active:
            return 0.0
        pick = torch.from_numpy(rng.integers(0, len(self.cps), size=self.batch)).to(self.source.device)
        with torch.no_grad():
            feats = self.model.encode(self.source[pick])
        style = torch.zeros(self.batch, dtype=torch.long, device=self.source.device)
        jamo = self.jamo[pick] if self.jamo is not None else None
        drawn = self.model.decode(feats, self.model.styles(style), jamo)
        if self.layout_only:
            return self.weight * layout_distance(drawn, self.target[pick])
        return self.weight * (F.avg_pool2d(drawn, ANCHOR_BLUR) - self.target[pick]).abs().mean()


def split_held_back(count: int, share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices to train on and indices held back (`share` of `count`, none when that leaves < 2)."""
    n_held = int(count * share) if share > 0 else 0
    if n_held < 2 or count - n_held < MIN_HANGUL:
        return np.arange(count), np.arange(0)
    order = rng.permutation(count)
    return np.sort(order[n_held:]), np.sort(order[:n_held])


class HeldBackCheck:
    """Scores the model on held-back written syllables and keeps the decoder and style that scored best."""

    def __init__(self, model: Generator, source: np.ndarray, target: np.ndarray, jamo: np.ndarray,
                 ink_weight: float, device: str, mass_weight: float = 0.0,
                 counter_weight: float = 0.0) -> None:
        self.model, self.ink_weight, self.active = model, ink_weight, len(source) > 0
        self.mass_weight, self.counter_weight = mass_weight, counter_weight
        self.source, self.target = to_tensor(source).to(device), to_tensor(target).to(device)
        self.jamo = torch.from_numpy(jamo).to(device) if model.jamo is not None else None
        self.style = torch.zeros(len(source), dtype=torch.long, device=device)
        self.best_loss, self.best_step = float("inf"), 0
        self.best_state: dict[str, torch.Tensor] = {}
        self.history: list[tuple[int, float]] = []  # (step, held-back loss) of every check

    def check(self, step: int) -> None:
        if not self.active:
            return
        with torch.no_grad():
            feats = self.model.encode(self.source)
            loss = self.loss(self.model.decode(feats, self.model.styles(self.style), self.jamo))
        self.history.append((step, round(loss, 5)))
        if loss < self.best_loss:
            self.best_loss, self.best_step = loss, step
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def loss(self, drawn: torch.Tensor) -> float:
        """Score the held-back drawings (lower is better): the training loss."""
        loss = ink_weighted_l1(drawn, self.target, self.ink_weight, self.counter_weight)
        if self.mass_weight:
            loss = loss + self.mass_weight * ink_mass_gap(drawn, self.target)
        return float(loss)

    def restore_best(self) -> None:
        if self.active:
            self.model.load_state_dict(self.best_state)


def finetune(
    glyphs: Mapping[int, np.ndarray],
    base_weights: Path | str,
    out_checkpoint: Path | str,
    *,
    steps: int = FINETUNE_STEPS,
    batch: int = 16,
    lr: float = 2e-4,
    device: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    seed: int = 0,
    ink_weight: float = 4.0,
    held_back: float = HELD_BACK,
    anchor: float = ANCHOR_WEIGHT,
    anchor_layout_only: bool = True,
    mass_weight: float = MASS_WEIGHT,
    adversarial: float = ADVERSARIAL_WEIGHT,
    patience: int = PATIENCE,
    counter_weight: float = COUNTER_WEIGHT,
) -> FinetuneResult:
    """Fine-tune the generator at `base_weights` on a writer's glyphs; write and describe `out_checkpoint`.

    `glyphs` maps codepoints to writing-box images as produced by extraction (grayscale, white paper).
    The encoder stays frozen (it only has to read the source font); the decoder and a new style
    embedding, initialised as a mix of the most similar pretraining styles, learn the writer's hand, under
    an L1 loss that weighs the writer's ink `1 + ink_weight` times and the paper inside their counters
    `1 + counter_weight` times (see `ink_weighted_l1`), plus
    `mass_weight` times each glyph's ink beyond or short of the written glyph's (see `ink_mass_gap`), plus
    `adversarial` times the pretrained discriminator's verdict (see Critic).
    With `held_back` > 0 that share of the written syllables is not trained on but drawn every CHECK_EVERY
    steps (and before the first), and the decoder and style at the lowest loss on them are kept: a writer
    whose hand the seed styles already match is not fine-tuned away from it, one who needs every step
    gets them; once `patience` steps pass without a better held-back loss (0: never), it stops there.
    With `anchor` > 0, each step also holds the layout of unwritten syllables to the seed
    drawing (see SeedAnchor). Uses CUDA when available unless `device` says otherwise.
    `progress(done, total)` is called per step (and with total, total on stopping early).
    """
    start = time.monotonic()
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    base, meta = checkpoints.load_generator(base_weights, device)
    written, scale = canonical_writer_glyphs(glyphs)
    cps = sorted(written)
    size = base.size
    target_np = _resize(np.stack([written[cp] for cp in cps]), size)
    source_np = source_glyphs(meta["source_font"], cps, size)

    jamo_np = hangul.jamo_ids(cps)
    jamo_all = torch.from_numpy(jamo_np).to(device) if base.jamo_dim else None
    seeds = similar_styles(
        base, to_tensor(source_np).to(device), to_tensor(target_np).to(device), jamo_all
    )
    model = Generator(size, base.ngf, 1, base.style_dim, base.jamo_dim).to(device)
    state = {k: v for k, v in base.state_dict().items() if not k.startswith("styles.")}
    model.load_state_dict(state, strict=False)
    with torch.no_grad():
        mix = sum(w * base.styles.weight[i] for i, w in seeds)
        model.styles.weight.copy_(torch.as_tensor(mix).unsqueeze(0))
    # The encoder only reads the source font and the jamo embeddings only name components: both stay.
    frozen = [*model.downs.parameters(), *(model.jamo.parameters() if model.jamo is not None else [])]
    for p in frozen:
        p.requires_grad_(False)
    model.downs.eval()
    optimizer = torch.optim.Adam(
        [
            {"params": model.ups.parameters(), "lr": lr * 0.5},
            {"params": model.styles.parameters(), "lr": lr * 5},
        ],
        betas=(0.5, 0.999),
    )
    style0 = torch.zeros(batch, dtype=torch.long, device=device)
    final_l1 = float("nan")
    steps_run = 0
    trained, check = split_held_back(len(cps), held_back, rng)
    held = HeldBackCheck(
        model, source_np[check], target_np[check], jamo_np[check], ink_weight, device, mass_weight,
        counter_weight,
    )
    held.check(0)
    seed_anchor = SeedAnchor(model, meta, cps, anchor, max(1, batch // 2), rng, device, anchor_layout_only)
    critic = Critic(base_weights, adversarial, lr * 0.5, device)
    for step in range(steps):
        pick = trained[rng.integers(0, len(trained), size=batch)]
        src, tgt = source_np[pick].copy(), target_np[pick].copy()
        jitter(src, tgt, max(1, size // 40), rng)
        src_t, tgt_t = to_tensor(src).to(device), to_tensor(tgt).to(device)
        with torch.no_grad():
            feats = model.encode(src_t)
        jamo = torch.from_numpy(jamo_np[pick]).to(device) if model.jamo is not None else None
        fake = model.decode(feats, model.styles(style0), jamo)
        l1 = ink_weighted_l1(fake, tgt_t, ink_weight, counter_weight)
        loss = l1 + seed_anchor.loss(rng)
        if mass_weight:
            loss = loss + mass_weight * ink_mass_gap(fake, tgt_t)
        loss = loss + critic.loss(src_t, fake, tgt_t)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        final_l1 = l1.item()
        steps_run = step + 1
        if steps_run % CHECK_EVERY == 0 or steps_run == steps:
            held.check(steps_run)
        stalled = held.active and patience > 0 and steps_run - held.best_step >= patience
        if progress is not None:
            progress(steps if stalled else steps_run, steps)
        if stalled:
            break
    held.restore_best()

    # Stroke weight: the grey level at which the model's drawings of the written syllables carry as much
    # ink as the writer's; generation brings its glyphs part of the way there (see glyph_space.reweigh).
    drawn = draw(model.eval(), meta, cps, style=0)
    ink_level = glyph_space.matching_level(drawn, _resize(target_np, drawn.shape[-1]))

    names = [meta["fonts"][i]["name"] for i, _ in seeds]
    seconds = time.monotonic() - start
    out = checkpoints.export_generator(
        model.cpu(),
        {
            "fonts": [{"name": "writer", "style_class": "handwriting"}],
            "source_font": meta["source_font"],
            "writer_scale": scale,
            "ink_level": ink_level,
            "seeds": [(n, w) for n, (_, w) in zip(names, seeds, strict=True)],
            "finetune": {
                "steps": steps,
                "steps_run": steps_run,
                "kept_step": held.best_step if held.active else steps,
                "held_back_losses": held.history,
                "held_back": len(check),
                "anchor": anchor,
                "mass_weight": mass_weight,
                "counter_weight": counter_weight,
                "adversarial": adversarial if critic.active else 0.0,
                "batch": batch,
                "lr": lr,
                "glyphs": len(cps),
                "final_l1": final_l1,
                "seconds": seconds,
                "device": str(device),
            },
        },
        Path(out_checkpoint),
    )
    return FinetuneResult(
        out, [(n, w) for n, (_, w) in zip(names, seeds, strict=True)], final_l1, seconds, steps_run
    )
