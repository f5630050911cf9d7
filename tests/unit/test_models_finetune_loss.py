"""Fine-tuning loss: plain L1 without ink weight; with it, a missing stroke costs more than an extra one."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from models.finetune import HeldBackCheck, ink_weighted_l1, split_held_back
from models.networks import Generator


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
    check.restore_best()
    assert all(torch.equal(v, good[k]) for k, v in model.state_dict().items())
