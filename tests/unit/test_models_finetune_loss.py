"""Fine-tuning loss: ink-weighted L1, ink mass gap, critic, held-back check and seed anchor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import models
from models import checkpoints, hangul
from models.finetune import (
    ANCHOR_POOL,
    Critic,
    HeldBackCheck,
    SeedAnchor,
    counter_paper,
    ink_layout,
    ink_mass_gap,
    ink_weighted_l1,
    layout_distance,
    split_held_back,
)
from models.networks import Discriminator, Generator


def glyph_with_stroke() -> torch.Tensor:
    target = -torch.ones(1, 1, 8, 8)  # paper is -1, ink +1
    target[..., 3, 2:6] = 1.0
    return target


def test_without_ink_weight_it_is_plain_l1() -> None:
    target = glyph_with_stroke()
    fake = torch.linspace(-1, 1, 64).reshape(1, 1, 8, 8)
    assert torch.isclose(ink_weighted_l1(fake, target, 0.0), F.l1_loss(fake, target))


def test_a_missing_stroke_pixel_costs_more_than_an_extra_one() -> None:
    target = glyph_with_stroke()
    missing = target.clone()
    missing[..., 3, 2] = -1.0  # one ink pixel left out
    extra = target.clone()
    extra[..., 5, 2] = 1.0  # one ink pixel too many
    assert torch.isclose(ink_weighted_l1(missing, target, 0.0), ink_weighted_l1(extra, target, 0.0))
    ratio = ink_weighted_l1(missing, target, 4.0) / ink_weighted_l1(extra, target, 4.0)
    assert torch.isclose(ratio, torch.tensor(5.0))
    assert ink_weighted_l1(target, target, 4.0) == 0


def ring(size: int = 32, outer: int = 6, inner: int = 3) -> torch.Tensor:
    """A ㅇ-like ring of ink (+1) on paper (-1), centred in a size x size image."""
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    r = ((yy - size // 2) ** 2 + (xx - size // 2) ** 2).float().sqrt()
    return torch.where((r <= outer) & (r > inner), 1.0, -1.0).reshape(1, 1, size, size)


def test_counter_paper_is_the_inside_of_counters_of_any_size_not_open_paper() -> None:
    small = counter_paper(ring(outer=6, inner=3))
    assert small[0, 0, 16, 16] == 1  # the inside of a small ㅇ
    assert small[0, 0, 2, 2] == 0 and small[0, 0, 16, 28] == 0  # paper away from the ring
    inside = ring(outer=6, inner=3).new_zeros(1, 1, 32, 32)
    yy, xx = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    inside[0, 0] = (((yy - 16) ** 2 + (xx - 16) ** 2).float().sqrt() <= 3).float()
    assert torch.equal(small, inside)  # exactly the ring's inside
    big = counter_paper(ring(size=64, outer=24, inner=18))
    assert big[0, 0, 32, 32] == 1  # a wide counter too
    bars = -torch.ones(1, 1, 32, 32)
    bars[..., 4:28, 10:13] = 1.0
    bars[..., 4:28, 16:19] = 1.0  # two strokes 3 px apart enclose nothing
    assert counter_paper(bars).sum() == 0
    assert counter_paper(-torch.ones(1, 1, 32, 32)).sum() == 0
    pair = counter_paper(torch.cat([ring(), bars]))
    assert pair[0].sum() > 0 and pair[1].sum() == 0  # each glyph on its own


def test_the_counter_weight_charges_a_filled_counter_more_than_as_much_ink_elsewhere() -> None:
    target = ring()
    filled = target.clone()
    filled[counter_paper(target).bool()] = 1.0  # the ㅇ drawn as a dot
    outside = target.clone()
    count = int(counter_paper(target).sum())
    outside[..., 1, 1 : 1 + count] = 1.0  # as much extra ink, far from the ring
    assert torch.isclose(ink_weighted_l1(filled, target, 4.0), ink_weighted_l1(outside, target, 4.0))
    assert ink_weighted_l1(filled, target, 4.0, 10.0) > 5 * ink_weighted_l1(outside, target, 4.0, 10.0)
    assert ink_weighted_l1(target, target, 4.0, 10.0) == 0


def test_the_ink_mass_gap_charges_for_heavier_strokes_not_for_moved_ones() -> None:
    target = glyph_with_stroke()  # 4 ink pixels of 64
    moved = -torch.ones_like(target)
    moved[..., 6, 1:5] = 1.0  # the same stroke elsewhere
    heavy = target.clone()
    heavy[..., 4, 2:6] = 1.0  # the stroke twice as thick
    assert ink_mass_gap(moved, target) == 0
    assert torch.isclose(ink_mass_gap(heavy, target), torch.tensor(4 / 64))
    assert torch.isclose(ink_mass_gap(target, heavy), torch.tensor(4 / 64))  # short of ink costs too
    # The ink-weighted L1 prefers the heavy stroke to the moved one; the gap is what tells them apart.
    assert ink_weighted_l1(heavy, target, 4.0) < ink_weighted_l1(moved, target, 4.0)


def test_the_ink_mass_gap_is_per_glyph_not_per_batch() -> None:
    target = torch.cat([glyph_with_stroke(), glyph_with_stroke()])
    swapped = target.clone()
    swapped[0] = -1.0  # the first glyph loses its stroke ...
    swapped[1, :, 5, 2:6] = 1.0  # ... and the second gains one: the batch's ink is unchanged
    assert torch.isclose(ink_mass_gap(swapped, target), torch.tensor(4 / 64))


def test_the_held_back_check_charges_for_ink_as_training_does() -> None:
    model = Generator(32, ngf=8, n_styles=1, style_dim=16)
    target = np.full((2, 32, 32), 255, np.uint8)
    target[:, 8:24, 14:18] = 0
    heavy = -torch.ones(2, 1, 32, 32)
    heavy[..., 8:24, 12:20] = 1.0  # the written stroke, twice as wide
    plain = HeldBackCheck(model, target, target, np.zeros((2, 3), np.int64), 4.0, "cpu")
    charged = HeldBackCheck(model, target, target, np.zeros((2, 3), np.int64), 4.0, "cpu", mass_weight=2.0)
    gap = float(ink_mass_gap(heavy, plain.target))
    assert gap > 0.05
    assert charged.loss(heavy) == pytest.approx(plain.loss(heavy) + 2.0 * gap)


def test_held_back_syllables_are_never_trained_on() -> None:
    trained, held = split_held_back(200, 0.1, np.random.default_rng(0))
    assert len(held) == 20 and len(trained) == 180
    assert not set(trained.tolist()) & set(held.tolist())
    assert sorted([*trained.tolist(), *held.tolist()]) == list(range(200))
    none_trained, none_held = split_held_back(12, 0.1, np.random.default_rng(0))  # too few to spare any
    assert len(none_held) == 0 and len(none_trained) == 12


def test_the_held_back_check_keeps_the_best_weights_it_saw() -> None:
    torch.manual_seed(0)
    model = Generator(32, ngf=8, n_styles=1, style_dim=16)
    source = np.full((4, 32, 32), 255, np.uint8)
    target = source.copy()
    target[:, 8:24, 14:18] = 0  # a stroke the model does not draw yet
    check = HeldBackCheck(model, source, target, np.zeros((4, 3), np.int64), 4.0, "cpu")
    check.check(0)
    good = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.ups.parameters():
            p.add_(torch.randn_like(p) * 5)  # a step that ruins the drawing
    check.check(50)
    assert check.best_step == 0
    assert [step for step, _ in check.history] == [0, 50] and check.history[1][1] > check.history[0][1]
    check.restore_best()
    assert all(torch.equal(v, good[k]) for k, v in model.state_dict().items())


def tiny_anchor(weight: float, written: list[int], layout_only: bool = True) -> SeedAnchor:
    torch.manual_seed(0)
    model = Generator(32, ngf=8, n_styles=1, style_dim=16, jamo_dim=4)
    meta = checkpoints.load_generator(models.weights_path())[1]  # for its source font only
    rng = np.random.default_rng(0)
    return SeedAnchor(model, meta, written, weight, batch=8, rng=rng, device="cpu", layout_only=layout_only)


@pytest.mark.parametrize("layout_only", [True, False])
def test_the_seed_anchor_costs_nothing_until_the_decoder_moves(layout_only: bool) -> None:
    anchor = tiny_anchor(3.0, written=[], layout_only=layout_only)
    unmoved = torch.as_tensor(anchor.loss(np.random.default_rng(1))).item()
    assert unmoved < 1e-6  # the decoder still draws what the anchor was made from
    with torch.no_grad():
        for p in anchor.model.ups.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    moved = anchor.loss(np.random.default_rng(1))
    assert isinstance(moved, torch.Tensor) and moved.requires_grad and moved.item() > 0.01


def test_the_seed_anchor_draws_only_unwritten_syllables_and_can_be_off() -> None:
    written = hangul.all_syllables()[:5000]
    anchor = tiny_anchor(1.0, written)
    assert len(anchor.cps) == ANCHOR_POOL and not set(anchor.cps) & set(written)
    off = tiny_anchor(0.0, written)
    assert not off.active and off.loss(np.random.default_rng(1)) == 0.0


def test_the_layout_distance_weighs_where_ink_lies_not_how_heavy_it_is() -> None:
    def bar(rows: slice, cols: slice) -> torch.Tensor:
        drawing = -torch.ones(1, 1, 32, 32)
        drawing[..., rows, cols] = 1.0
        return drawing

    thin = bar(slice(8, 24), slice(14, 16))
    heavy = bar(slice(8, 24), slice(12, 18))  # the same stroke, three times the weight
    moved = bar(slice(8, 24), slice(24, 26))  # the same stroke elsewhere
    assert layout_distance(thin, ink_layout(thin)).item() < 1e-6
    to_heavy = layout_distance(heavy, ink_layout(thin)).item()
    to_moved = layout_distance(moved, ink_layout(thin)).item()
    assert to_heavy < 0.35 < 0.9 < to_moved
    pooled_heavy = (F.avg_pool2d(heavy, 4) - F.avg_pool2d(thin, 4)).abs().mean().item()
    pooled_moved = (F.avg_pool2d(moved, 4) - F.avg_pool2d(thin, 4)).abs().mean().item()
    assert pooled_heavy >= pooled_moved  # pooled ink alone counts the extra weight as much as a move


def weights_with_critic(tmp_path: Path, with_discriminator: bool = True) -> tuple[Path, Discriminator | None]:
    """Base weights for a tiny generator, with a discriminator beside it or without."""
    g = Generator(32, ngf=8, n_styles=2, style_dim=16)
    d = Discriminator(n_styles=2, ndf=8) if with_discriminator else None
    meta = {"fonts": [{"name": "a"}, {"name": "b"}], "source_font": {"name": "src"}}
    name = "with-critic.pt" if with_discriminator else "bare.pt"
    return checkpoints.export_generator(g, meta, tmp_path / name, discriminator=d), d


def test_the_discriminator_travels_with_the_generator_and_stays_out_of_the_metadata(tmp_path: Path) -> None:
    path, d = weights_with_critic(tmp_path)
    loaded = checkpoints.load_discriminator(path)
    assert loaded is not None and loaded.training and d is not None
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(loaded(x, x)[0], d.half().float()(x, x)[0], atol=1e-3)
    _, meta = checkpoints.load_generator(path)
    assert "discriminator" not in meta and "discriminator_arch" not in meta
    bare, _ = weights_with_critic(tmp_path, with_discriminator=False)
    assert checkpoints.load_discriminator(bare) is None


def test_the_critic_is_off_without_weight_or_discriminator(tmp_path: Path) -> None:
    path, _ = weights_with_critic(tmp_path)
    bare, _ = weights_with_critic(tmp_path, with_discriminator=False)
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    for critic in (Critic(path, 0.0, 1e-4, "cpu"), Critic(bare, 0.5, 1e-4, "cpu")):
        assert not critic.active
        assert critic.loss(x, x, x).item() == 0.0


def test_the_critic_learns_the_real_glyphs_and_charges_the_fake_ones(tmp_path: Path) -> None:
    torch.manual_seed(0)
    path, _ = weights_with_critic(tmp_path)
    critic = Critic(path, 1.0, 2e-3, "cpu")
    source = torch.rand(8, 1, 32, 32) * 2 - 1
    real = -torch.ones(8, 1, 32, 32)
    real[..., 8:24, 14:18] = 1.0  # a clean bar
    fake = torch.zeros(8, 1, 32, 32, requires_grad=True)  # grey mush
    first = critic.loss(source, fake, real).item()
    for _ in range(30):
        last = critic.loss(source, fake, real)
    assert last.item() > first  # the critic tells them apart better, so the fake costs more
    last.backward()
    assert fake.grad is not None and fake.grad.abs().sum() > 0  # the charge reaches the drawing
