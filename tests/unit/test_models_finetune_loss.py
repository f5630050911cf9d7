"""Fine-tuning loss: plain L1 without ink weight; with it, a missing stroke costs more than an extra one."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from models.finetune import ink_weighted_l1


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
