"""Tests for models.networks: shapes, conditioning and the encode/decode split."""

from __future__ import annotations

import pytest
import torch

from models.networks import Discriminator, Generator, init_weights

torch.set_num_threads(1)


@pytest.mark.parametrize("size", [32, 64, 128])
def test_generator_shapes(size: int) -> None:
    g = Generator(size, ngf=8, n_styles=3, style_dim=16)
    init_weights(g)
    x = torch.rand(2, 1, size, size) * 2 - 1
    y = g(x, torch.tensor([0, 2]))
    assert y.shape == x.shape
    assert y.min() >= -1 and y.max() <= 1
    assert g.encode(x)[-1].shape[-1] == 1  # zi2zi: the style joins a 1x1 bottleneck


def test_style_changes_output() -> None:
    g = Generator(32, ngf=8, n_styles=2, style_dim=16)
    init_weights(g)
    x = torch.rand(1, 1, 32, 32) * 2 - 1
    assert not torch.allclose(g(x, torch.tensor([0])), g(x, torch.tensor([1])))


def test_decode_of_encode_is_forward() -> None:
    g = Generator(32, ngf=8, n_styles=2, style_dim=16).eval()
    x = torch.rand(2, 1, 32, 32)
    ids = torch.tensor([1, 0])
    assert torch.allclose(g.decode(g.encode(x), g.styles(ids)), g(x, ids))


def test_discriminator_heads() -> None:
    d = Discriminator(n_styles=5, ndf=8)
    patch, category = d(torch.zeros(3, 1, 64, 64), torch.zeros(3, 1, 64, 64))
    assert patch.shape[0] == 3 and patch.shape[1] == 1 and patch.shape[-1] > 1
    assert category.shape == (3, 5)


def test_bad_size() -> None:
    with pytest.raises(ValueError, match="power of two"):
        Generator(100)
