"""Pretraining: learn the source-font -> many-hands translation (L1 + PatchGAN + font category loss).

    geulssi pretrain --resume --max-minutes 150          # continue the committed training state

Training outlives a session: the lean training state (both networks in fp16, the optimizers' second
moments in bf16, step, presentations, RNG states, the config) lives in the repository at
`models/weights/training/state.pt`, rewritten every `checkpoint_minutes` and at the end. `--resume` picks
it up on a fresh clone once the glyph cache is rebuilt (deterministically: the state records the cache's
fingerprint and refuses a different one). The styles are the pretraining fonts plus synthetic writers made
from the handwriting faces (`models.synthetic_writers`); the generator sees each syllable's jamo.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from models import checkpoints, hangul
from models.dataset import GlyphSet, fingerprint, load_cache
from models.generate import cpu_has_native_bf16
from models.networks import Discriminator, Generator, init_weights
from models.synthetic_writers import SyntheticWriter, WriterBank, make_writers
from models.tensors import jitter, to_images, to_tensor

log = logging.getLogger(__name__)

STATE_DIR = Path(__file__).resolve().parent / "weights" / "training"
SYNTHETIC_CLASS = "handwriting-synthetic"  # the style class of synthetic writers in exported weights


@dataclass
class PretrainConfig:
    """Every setting of a pretraining run; saved with each checkpoint."""

    ngf: int = 24
    ndf: int = 16
    style_dim: int = 128
    jamo_dim: int = 16  # 0 = no jamo conditioning
    synthetic_per_font: int = 6  # synthetic writers per handwriting face
    synthetic_share: float = 0.35  # share of samples drawn from synthetic writers
    batch: int = 16
    lr: float = 2e-4
    l1_weight: float = 100.0
    gan_weight: float = 1.0
    category_weight: float = 1.0
    handwriting_weight: float = 2.0  # sampling weight of handwriting faces relative to the others
    shift: int = 3  # joint random translation of source and target, pixels
    precision: str = "auto"  # auto (bf16 where the hardware has it), fp32, bf16
    max_steps: int = 0  # 0 = no step limit
    max_minutes: float = 0.0  # 0 = no time limit; the LR decays linearly over the last quarter of it
    checkpoint_minutes: float = 10.0
    seed: int = 0
    threads: int = 2


# Settings a resumed run takes from its command line rather than from the saved state (a GPU run takes
# a bigger batch; presentations are counted per image, so the count stays true).
RUN_CONTROL = ("max_steps", "max_minutes", "checkpoint_minutes", "threads", "precision", "batch")


Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


class Sampler:
    """Draws (source, target, style id, jamo ids) batches over the fonts and the synthetic writers.

    Style ids: 0..F-1 are the pretraining fonts (handwriting faces favoured by `handwriting_weight`),
    F.. the synthetic writers, drawn `synthetic_share` of the time.
    """

    def __init__(
        self, data: GlyphSet, writers: list[SyntheticWriter], cfg: PretrainConfig, rng: np.random.Generator
    ) -> None:
        self.data, self.cfg, self.rng = data, cfg, rng
        self.bank = WriterBank(writers, data.size)
        weights = np.array(
            [
                cfg.handwriting_weight if f["style_class"].startswith("handwriting") else 1.0
                for f in data.fonts
            ]
        )
        share = cfg.synthetic_share if writers else 0.0
        font_p = weights / weights.sum() * (1.0 - share)
        writer_p = np.full(len(writers), share / max(1, len(writers)))
        self.style_p = np.concatenate([font_p, writer_p])
        self.base_font = np.array([*range(len(data.fonts)), *(w.base_font for w in writers)])
        self.indices = [np.flatnonzero(row) for row in data.present]
        self.jamo = hangul.jamo_ids([int(cp) for cp in data.codepoints])

    def batch(self) -> Batch:
        """Return (source, target, style ids, jamo ids) tensors for one batch."""
        styles = self.rng.choice(len(self.style_p), size=self.cfg.batch, p=self.style_p)
        fonts = self.base_font[styles]
        glyphs = np.array([self.rng.choice(self.indices[f]) for f in fonts])
        source = self.data.source[glyphs].copy()
        target = np.stack([self.data.targets[f, i] for f, i in zip(fonts, glyphs, strict=True)])
        n_fonts = len(self.data.fonts)
        for b, style in enumerate(styles):
            if style >= n_fonts:
                target[b] = self.bank.apply(int(style) - n_fonts, target[b])
        jitter(source, target, self.cfg.shift, self.rng)
        return (
            to_tensor(source),
            to_tensor(target),
            torch.from_numpy(styles).long(),
            torch.from_numpy(self.jamo[glyphs]),
        )


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """The mixed-precision context of a training step: bf16 autocast, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def resolve_precision(requested: str, device: torch.device) -> str:
    """`auto` -> bf16 on CUDA and on CPUs with native bf16 instructions, else fp32."""
    if requested != "auto":
        return requested
    return "bf16" if device.type == "cuda" or cpu_has_native_bf16() else "fp32"


def train_step(
    g: Generator,
    d: Discriminator,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    batch: Batch,
    cfg: PretrainConfig,
    precision: str = "fp32",
) -> dict[str, float]:
    """One discriminator and one generator update; return the losses."""
    source, target, styles, jamo = batch
    device = source.device
    with autocast(precision, device):
        fake = g(source, styles, jamo if g.jamo_dim else None)
        real_logit, real_cat = d(source, target)
        fake_logit, _ = d(source, fake.detach())
    real_logit, fake_logit = real_logit.float(), fake_logit.float()
    loss_d = (
        F.binary_cross_entropy_with_logits(real_logit, torch.ones_like(real_logit))
        + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
    ) * 0.5
    loss_d = loss_d + cfg.category_weight * F.cross_entropy(real_cat.float(), styles)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()

    with autocast(precision, device):
        fake_logit, fake_cat = d(source, fake)
    fake_logit = fake_logit.float()
    gan = F.binary_cross_entropy_with_logits(fake_logit, torch.ones_like(fake_logit))
    l1 = F.l1_loss(fake.float(), target)
    loss_g = (
        cfg.gan_weight * gan
        + cfg.l1_weight * l1
        + cfg.category_weight * F.cross_entropy(fake_cat.float(), styles)
    )
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {"d": loss_d.item(), "gan": gan.item(), "l1": l1.item()}


@dataclass
class Trainer:
    """The networks, optimizers and counters of one pretraining run."""

    cfg: PretrainConfig
    writers: list[SyntheticWriter]
    g: Generator
    d: Discriminator
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    step: int = 0
    images: int = 0  # image presentations behind these weights, inherited ones included
    trained_seconds: float = 0.0

    @classmethod
    def fresh(cls, data: GlyphSet, cfg: PretrainConfig, device: torch.device) -> Trainer:
        """New networks for `data` (random init), with the synthetic writers of `cfg`."""
        writers = make_writers(data.fonts, cfg.synthetic_per_font, cfg.seed)
        n_styles = len(data.fonts) + len(writers)
        g = Generator(data.size, cfg.ngf, n_styles, cfg.style_dim, cfg.jamo_dim).to(device)
        d = Discriminator(n_styles, cfg.ndf).to(device)
        init_weights(g)
        init_weights(d)
        opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
        return cls(cfg, writers, g, d, opt_g, opt_d)

    def warm_start(self, weights: Path, data: GlyphSet) -> None:
        """Start the generator from an exported generator of the same fonts (e.g. the v1 weights).

        Everything the old generator had is copied; the jamo inputs of the first decoder layer start at
        zero (so the warm-started generator draws exactly what the old one drew), and each synthetic
        writer's style starts at its base font's style plus a little noise.
        """
        old, meta = checkpoints.load_generator(weights)
        real = [f["name"] for f in meta["fonts"] if f.get("style_class") != SYNTHETIC_CLASS]
        if real != [f["name"] for f in data.fonts]:
            raise ValueError(f"{weights} was trained on a different font list than this glyph cache")
        new_state = self.g.state_dict()
        for key, value in old.state_dict().items():
            target = new_state[key]
            if key == "styles.weight":
                n = min(value.shape[0], target.shape[0])  # fonts, then any synthetic writers it had
                target[:n] = value[:n]
                base = torch.tensor([w.base_font for w in self.writers[n - len(real) :]], dtype=torch.long)
                target[n:] = value[base] + 0.05 * torch.randn(len(base), value.shape[1])
            elif key.startswith("jamo.") and target.shape != value.shape:
                continue  # a different jamo width: the new embeddings stay as initialised
            elif target.shape == value.shape:
                target.copy_(value)
            else:  # the first decoder layer: old inputs first, then the new jamo inputs (zero)
                target.zero_()
                target[: value.shape[0]] = value
        self.g.load_state_dict(new_state)
        self.images = int(meta.get("train", {}).get("images", 0))
        self.trained_seconds = float(meta.get("train", {}).get("trained_seconds", 0.0))
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=self.cfg.lr, betas=(0.5, 0.999))

    def set_lr(self, factor: float) -> None:
        """Scale both optimizers' learning rate to `factor` of the configured one."""
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = self.cfg.lr * factor


def pretrain(
    data: GlyphSet,
    state_dir: Path,
    cfg: PretrainConfig,
    *,
    resume: bool = False,
    init_from: Path | None = None,
    device: str | None = None,
    progress: Callable[[int, dict[str, float]], None] | None = None,
    same_pixels: bool = True,
) -> Path:
    """Train on `data`, keeping the training state in `state_dir`; return the path of the final state.

    `resume` continues from `state_dir/state.pt`; otherwise `init_from` (an exported generator of the
    same fonts) warm-starts the generator, or training starts from random weights. `same_pixels=False`
    accepts a cache whose pixels differ from the state's (same fonts and syllables, another FreeType: the
    GPU machine's) with a warning instead of refusing it.
    """
    torch.set_num_threads(cfg.threads)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    state_path = state_dir / checkpoints.STATE_FILE
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    if resume and state_path.is_file():
        trainer, saved_rng = load_trainer(state_path, data, cfg, dev, same_pixels=same_pixels)
        rng.bit_generator.state = saved_rng
        log.info("resumed from %s at step %d (%d presentations)", state_path, trainer.step, trainer.images)
    else:
        if resume:
            log.info("no training state at %s: starting a new run", state_path)
        trainer = Trainer.fresh(data, cfg, dev)
        if init_from is not None:
            trainer.warm_start(init_from, data)
            trainer.g.to(dev)
            log.info("warm-started from %s (%d presentations behind it)", init_from, trainer.images)
    cfg = trainer.cfg
    precision = resolve_precision(cfg.precision, dev)
    sampler = Sampler(data, trainer.writers, cfg, rng)
    start = time.monotonic()

    def save() -> Path:
        extra = {
            "config": dataclasses.asdict(cfg),
            "writers": [w.to_json() for w in trainer.writers],
            "fonts": [f["name"] for f in data.fonts],
            "font_meta": data.fonts,
            "source_font": data.source_font,
            "size": data.size,
            "fingerprint": fingerprint(data),
            "step": trainer.step,
            "images": trainer.images,
            "trained_seconds": trainer.trained_seconds + (time.monotonic() - start),
            "sampler_rng": rng.bit_generator.state,
        }
        save_samples(trainer.g, data, state_dir / "samples.png")
        return checkpoints.save_state(state_path, trainer.g, trainer.d, trainer.opt_g, trainer.opt_d, extra)

    last_save = start
    budget = cfg.max_minutes * 60
    first_step = trainer.step
    stop = _StopOnSignal()
    for batch in _batches(sampler, dev):
        elapsed = time.monotonic() - start
        done_steps = trainer.step - first_step
        if (cfg.max_steps and done_steps >= cfg.max_steps) or (budget and elapsed >= budget) or stop.asked:
            break
        if budget:  # linear decay over the last quarter of this run's time budget
            trainer.set_lr(max(min(1.0, (1.0 - elapsed / budget) / 0.25), 0.02))
        losses = train_step(trainer.g, trainer.d, trainer.opt_g, trainer.opt_d, batch, cfg, precision)
        trainer.step += 1
        trainer.images += cfg.batch
        if progress is not None:
            progress(trainer.step, losses)
        if trainer.step % 50 == 0:
            rate = (trainer.step - first_step) * cfg.batch / max(time.monotonic() - start, 1e-9)
            left = f"{(budget - elapsed) / 60:.0f} min left" if budget else ""
            log.info(
                "step %d  %d images  l1 %.4f  gan %.3f  d %.3f  %.1f img/s  %s",
                trainer.step, trainer.images, losses["l1"], losses["gan"], losses["d"], rate, left,
            )
        if time.monotonic() - last_save >= cfg.checkpoint_minutes * 60:
            save()
            last_save = time.monotonic()
    return save()


class _StopOnSignal:
    """SIGTERM or SIGINT end the run after the current step, and the state is saved as usual."""

    def __init__(self) -> None:
        self.asked = False
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self._ask)

    def _ask(self, signum: int, frame: object) -> None:
        log.info("signal %d: saving the training state and stopping", signum)
        self.asked = True


def _batches(sampler: Sampler, device: torch.device) -> Iterator[Batch]:
    while True:
        yield tuple(t.to(device, non_blocking=True) for t in sampler.batch())  # type: ignore[misc]


def load_trainer(
    path: Path, data: GlyphSet, run: PretrainConfig, device: torch.device, *, same_pixels: bool = True
) -> tuple[Trainer, dict[str, Any]]:
    """Rebuild a Trainer from a saved state; the saved config wins except for the run-control settings."""
    blob = checkpoints.load_state(path)
    if blob["fonts"] != [f["name"] for f in data.fonts]:
        raise ValueError(f"{path} was trained on a different font list than this glyph cache")
    if blob["fingerprint"] != fingerprint(data) and not same_pixels:
        log.warning("the glyph cache's pixels differ from the state's (another FreeType?): training on")
    elif blob["fingerprint"] != fingerprint(data):
        raise ValueError(
            f"{path} was trained on a different glyph cache (other font versions?); rebuild the cache "
            "with `python3 -m models.fontset cache` on a machine with the pinned fonts"
        )
    cfg = PretrainConfig(**{**blob["config"], **{k: getattr(run, k) for k in RUN_CONTROL}})
    writers = [SyntheticWriter(**w) for w in blob["writers"]]
    n_styles = len(data.fonts) + len(writers)
    g = Generator(data.size, cfg.ngf, n_styles, cfg.style_dim, cfg.jamo_dim).to(device)
    d = Discriminator(n_styles, cfg.ndf).to(device)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    checkpoints.restore_state(blob, g, d, opt_g, opt_d)
    trainer = Trainer(
        cfg, writers, g, d, opt_g, opt_d, blob["step"], blob["images"], blob["trained_seconds"]
    )
    checkpoints.set_rng_state(blob["rng"])
    return trainer, blob["sampler_rng"]


def save_samples(g: Generator, data: GlyphSet, path: Path, n_glyphs: int = 8) -> Path:
    """Write a sheet: the source row, then for up to 8 fonts a row of targets above a row of outputs."""
    from PIL import Image

    glyph_idx = np.linspace(0, len(data.codepoints) - 1, n_glyphs).astype(int)
    fonts = np.linspace(0, len(data.fonts) - 1, min(8, len(data.fonts))).astype(int)
    jamo = torch.from_numpy(hangul.jamo_ids([int(data.codepoints[i]) for i in glyph_idx]))
    device = next(g.parameters()).device
    rows = [np.concatenate(list(data.source[glyph_idx]), axis=1)]
    was_training = g.training
    g.eval()
    with torch.inference_mode():
        for f in fonts:
            ids = torch.full((n_glyphs,), int(f), dtype=torch.long, device=device)
            source = to_tensor(data.source[glyph_idx]).to(device)
            fake = to_images(g(source, ids, jamo.to(device) if g.jamo_dim else None))
            rows.append(np.concatenate([data.targets[f, i] for i in glyph_idx], axis=1))
            rows.append(np.concatenate(list(fake), axis=1))
    g.train(was_training)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)
    return path


def export(state_path: Path, out: Path) -> Path:
    """Write the small fp16 file that `finetune` and `generate` load (the generator, and the discriminator
    that fine-tuning uses as a critic) from a training state."""
    blob = checkpoints.load_state(state_path)
    cfg = blob["config"]
    n_styles = len(blob["fonts"]) + len(blob["writers"])
    g = Generator(blob["size"], cfg["ngf"], n_styles, cfg["style_dim"], cfg.get("jamo_dim", 0))
    g.load_state_dict({k: v.float() for k, v in blob["generator"].items()})
    d = Discriminator(n_styles, cfg["ndf"])
    d.load_state_dict({k: v.float() for k, v in blob["discriminator"].items()})
    writer_meta = [
        {"name": f"synthetic writer {i} ({blob['font_meta'][w['base_font']]['name']})",
         "style_class": SYNTHETIC_CLASS, "writer": w}
        for i, w in enumerate(blob["writers"])
    ]
    meta = {
        "fonts": [*blob["font_meta"], *writer_meta],
        "source_font": blob["source_font"],
        "train": {
            "step": blob["step"],
            "trained_seconds": blob["trained_seconds"],
            "images": blob["images"],
            "config": cfg,
        },
    }
    return checkpoints.export_generator(g, meta, out, discriminator=d)


def main(argv: list[str] | None = None) -> int:
    """Command line for long runs (the `geulssi pretrain` command wraps the same function)."""
    parser = argparse.ArgumentParser(prog="python3 -m models.pretrain")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR)
    parser.add_argument("--export", type=Path, help="write the fp16 generator file here at the end")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--init-from", type=Path, help="warm-start from this exported generator")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    for field in dataclasses.fields(PretrainConfig):
        parser.add_argument(
            "--" + field.name.replace("_", "-"), type=type(field.default), default=field.default
        )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cfg = PretrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(PretrainConfig)})
    log.info("config %s", json.dumps(dataclasses.asdict(cfg)))
    final = pretrain(
        load_cache(args.cache), args.state_dir, cfg, resume=args.resume, init_from=args.init_from,
        device=args.device,
    )
    log.info("training state %s", final)
    if args.export:
        log.info("exported %s", export(final, args.export))
    return 0


if __name__ == "__main__":
    sys.exit(main())
