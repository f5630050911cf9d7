"""Pretraining: learn the source-font -> many-fonts translation (L1 + PatchGAN + font category loss).

    python3 -m models.pretrain --cache ~/.cache/geulssi/data/pretrain-v1 --ckpt-dir /work/ckpt/pretrain \
        --max-minutes 120 [--resume]

Resumable: every checkpoint holds both networks, optimizers, step, RNG states and the effective config
(also written beside it as JSON). `--max-minutes` stops cleanly and writes a final checkpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from models import checkpoints
from models.dataset import GlyphSet, load_cache
from models.networks import Discriminator, Generator, init_weights

log = logging.getLogger(__name__)


@dataclass
class PretrainConfig:
    """Every setting of a pretraining run; saved with each checkpoint."""

    ngf: int = 24
    ndf: int = 16
    style_dim: int = 128
    batch: int = 16
    lr: float = 2e-4
    l1_weight: float = 100.0
    gan_weight: float = 1.0
    category_weight: float = 1.0
    handwriting_weight: float = 2.0  # sampling weight of handwriting faces relative to the others
    shift: int = 3  # joint random translation of source and target, pixels
    max_steps: int = 0  # 0 = no step limit
    max_minutes: float = 0.0  # 0 = no time limit; the LR decays linearly over the last quarter of it
    checkpoint_minutes: float = 10.0
    seed: int = 0
    threads: int = 2


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """Map uint8 glyphs (B,S,S), white 255 / ink 0, to float (B,1,S,S) in [-1, 1] with ink at +1."""
    return torch.from_numpy(1.0 - images.astype(np.float32) / 127.5).unsqueeze(1)


def to_images(tensor: torch.Tensor) -> np.ndarray:
    """Inverse of `to_tensor`: (B,1,S,S) in [-1,1] -> uint8 (B,S,S) glyphs on white."""
    x = (1.0 - tensor.detach().float().clamp(-1, 1)[:, 0]) * 127.5
    return x.round().to(torch.uint8).cpu().numpy()


def jitter(source: np.ndarray, target: np.ndarray, shift: int, rng: np.random.Generator) -> None:
    """Shift each source/target pair by the same random offset, in place (white fills the gap)."""
    if shift <= 0:
        return
    padded_s = np.pad(source, ((0, 0), (shift, shift), (shift, shift)), constant_values=255)
    padded_t = np.pad(target, ((0, 0), (shift, shift), (shift, shift)), constant_values=255)
    size = source.shape[-1]
    for b, (dy, dx) in enumerate(rng.integers(0, 2 * shift + 1, size=(len(source), 2))):
        source[b] = padded_s[b, dy : dy + size, dx : dx + size]
        target[b] = padded_t[b, dy : dy + size, dx : dx + size]


class Sampler:
    """Draws (source, target, font) batches, favouring handwriting faces by `handwriting_weight`."""

    def __init__(self, data: GlyphSet, cfg: PretrainConfig, rng: np.random.Generator) -> None:
        self.data, self.cfg, self.rng = data, cfg, rng
        weights = np.array(
            [
                cfg.handwriting_weight if f["style_class"].startswith("handwriting") else 1.0
                for f in data.fonts
            ]
        )
        self.font_p = weights / weights.sum()
        self.indices = [np.flatnonzero(row) for row in data.present]

    def batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return (source, target, font ids) tensors for one batch."""
        fonts = self.rng.choice(len(self.font_p), size=self.cfg.batch, p=self.font_p)
        glyphs = np.array([self.rng.choice(self.indices[f]) for f in fonts])
        source = self.data.source[glyphs].copy()
        target = np.stack([self.data.targets[f, i] for f, i in zip(fonts, glyphs, strict=True)])
        jitter(source, target, self.cfg.shift, self.rng)
        return to_tensor(source), to_tensor(target), torch.from_numpy(fonts).long()


def train_step(
    g: Generator,
    d: Discriminator,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    cfg: PretrainConfig,
) -> dict[str, float]:
    """One discriminator and one generator update; return the losses."""
    source, target, fonts = batch
    fake = g(source, fonts)
    real_logit, real_cat = d(source, target)
    fake_logit, _ = d(source, fake.detach())
    loss_d = (
        F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit))
        + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
    ) * 0.5
    loss_d = loss_d + cfg.category_weight * F.cross_entropy(real_cat, fonts)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()

    fake_logit, fake_cat = d(source, fake)
    gan = F.binary_cross_entropy_with_logits(fake_logit, torch.ones_like(fake_logit))
    l1 = F.l1_loss(fake, target)
    loss_g = (
        cfg.gan_weight * gan + cfg.l1_weight * l1 + cfg.category_weight * F.cross_entropy(fake_cat, fonts)
    )
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {"d": loss_d.item(), "gan": gan.item(), "l1": l1.item()}


def pretrain(
    data: GlyphSet,
    ckpt_dir: Path,
    cfg: PretrainConfig,
    *,
    resume: bool = False,
    progress: Callable[[int, dict[str, float]], None] | None = None,
) -> Path:
    """Train on `data`, checkpointing into `ckpt_dir`; return the path of the final training checkpoint."""
    torch.set_num_threads(cfg.threads)
    n_styles = len(data.fonts)
    g = Generator(data.size, cfg.ngf, n_styles, cfg.style_dim)
    d = Discriminator(n_styles, cfg.ndf)
    init_weights(g)
    init_weights(d)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    step, trained_seconds = 0, 0.0
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    latest = checkpoints.latest_training(ckpt_dir) if resume else None
    if latest is not None:
        state = torch.load(latest, map_location="cpu", weights_only=False)
        # The saved config wins except for the run-control settings given now.
        run_control = {
            k: getattr(cfg, k) for k in ("max_steps", "max_minutes", "checkpoint_minutes", "threads")
        }
        cfg = PretrainConfig(**{**state["config"], **run_control})
        g = Generator(data.size, cfg.ngf, n_styles, cfg.style_dim)
        d = Discriminator(n_styles, cfg.ndf)
        opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
        if state["fonts"] != [f["name"] for f in data.fonts]:
            raise ValueError(f"{latest} was trained on a different font list than this glyph cache")
        g.load_state_dict(state["generator"])
        d.load_state_dict(state["discriminator"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        step, trained_seconds = state["step"], state["trained_seconds"]
        checkpoints.set_rng_state(state["rng"])
        rng.bit_generator.state = state["rng"]["sampler"]
        log.info("resumed from %s at step %d", latest, step)
    sampler = Sampler(data, cfg, rng)

    def save() -> Path:
        rng_all = {**checkpoints.rng_state(), "sampler": rng.bit_generator.state}
        save_samples(g, data, ckpt_dir / f"samples-{step:07d}.png")
        return checkpoints.save_training(
            ckpt_dir,
            {
                "step": step,
                "trained_seconds": trained_seconds + (time.monotonic() - start),
                "config": dataclasses.asdict(cfg),
                "fonts": [f["name"] for f in data.fonts],
                "font_meta": data.fonts,
                "source_font": data.source_font,
                "size": data.size,
                "generator": g.state_dict(),
                "discriminator": d.state_dict(),
                "opt_g": opt_g.state_dict(),
                "opt_d": opt_d.state_dict(),
                "rng": rng_all,
            },
        )

    start = time.monotonic()
    last_save = start
    budget = cfg.max_minutes * 60
    first_step = step
    while True:
        elapsed = time.monotonic() - start
        if (cfg.max_steps and step >= cfg.max_steps) or (budget and elapsed >= budget):
            break
        if budget:  # linear decay over the last quarter of this run's time budget
            factor = min(1.0, (1.0 - elapsed / budget) / 0.25)
            for opt in (opt_g, opt_d):
                for group in opt.param_groups:
                    group["lr"] = cfg.lr * max(factor, 0.02)
        losses = train_step(g, d, opt_g, opt_d, sampler.batch(), cfg)
        step += 1
        if progress is not None:
            progress(step, losses)
        if step % 50 == 0:
            rate = (step - first_step) * cfg.batch / max(time.monotonic() - start, 1e-9)
            log.info(
                "step %d  l1 %.4f  gan %.3f  d %.3f  %.1f img/s",
                step,
                losses["l1"],
                losses["gan"],
                losses["d"],
                rate,
            )
        if time.monotonic() - last_save >= cfg.checkpoint_minutes * 60:
            save()
            last_save = time.monotonic()
    return save()


def save_samples(g: Generator, data: GlyphSet, path: Path, n_glyphs: int = 8) -> Path:
    """Write a sheet: the source row, then for up to 8 fonts a row of targets above a row of outputs."""
    from PIL import Image

    glyph_idx = np.linspace(0, len(data.codepoints) - 1, n_glyphs).astype(int)
    fonts = np.linspace(0, len(data.fonts) - 1, min(8, len(data.fonts))).astype(int)
    rows = [np.concatenate(list(data.source[glyph_idx]), axis=1)]
    was_training = g.training
    g.eval()
    with torch.inference_mode():
        for f in fonts:
            ids = torch.full((n_glyphs,), int(f), dtype=torch.long)
            fake = to_images(g(to_tensor(data.source[glyph_idx]), ids))
            rows.append(np.concatenate([data.targets[f, i] for i in glyph_idx], axis=1))
            rows.append(np.concatenate(list(fake), axis=1))
    g.train(was_training)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)
    return path


def export(training_ckpt: Path, out: Path) -> Path:
    """Write the small fp16 generator file that `finetune` and `generate` load from a training checkpoint."""
    state = torch.load(training_ckpt, map_location="cpu", weights_only=False)
    cfg = state["config"]
    g = Generator(state["size"], cfg["ngf"], len(state["fonts"]), cfg["style_dim"])
    g.load_state_dict(state["generator"])
    meta = {
        "fonts": state["font_meta"],
        "source_font": state["source_font"],
        "train": {
            "step": state["step"],
            "trained_seconds": state["trained_seconds"],
            "images": state["step"] * cfg["batch"],
            "config": cfg,
        },
    }
    return checkpoints.export_generator(g, meta, out)


def main(argv: list[str] | None = None) -> int:
    """Command line for long runs (the `geulssi pretrain` command wraps the same function)."""
    parser = argparse.ArgumentParser(prog="python3 -m models.pretrain")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--ckpt-dir", type=Path, required=True)
    parser.add_argument("--export", type=Path, help="write the fp16 generator file here at the end")
    parser.add_argument("--resume", action="store_true")
    for field in dataclasses.fields(PretrainConfig):
        parser.add_argument(
            "--" + field.name.replace("_", "-"), type=type(field.default), default=field.default
        )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cfg = PretrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(PretrainConfig)})
    log.info("config %s", json.dumps(dataclasses.asdict(cfg)))
    final = pretrain(load_cache(args.cache), args.ckpt_dir, cfg, resume=args.resume)
    log.info("final checkpoint %s", final)
    if args.export:
        log.info("exported %s", export(final, args.export))
    return 0


if __name__ == "__main__":
    sys.exit(main())
