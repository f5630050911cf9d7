"""Architectures: the style-conditioned U-Net generator, the PatchGAN discriminator and weight init."""

from __future__ import annotations

import math

import torch
from torch import nn

from models.hangul import N_FINAL, N_INITIAL, N_MEDIAL

JAMO_COUNTS = (N_INITIAL + 1, N_MEDIAL + 1, N_FINAL + 1)  # id 0 of each: not a Hangul syllable


def _norm(channels: int) -> nn.Module:
    # GroupNorm, not BatchNorm: batches mix fonts during pretraining and hold one writer during
    # fine-tuning, and generation must not depend on batch statistics.
    return nn.GroupNorm(min(8, channels // 4) or 1, channels)


def _channels(ngf: int, depth: int) -> list[int]:
    """Encoder widths: ngf, 2ngf, 4ngf, 8ngf, 8ngf, ... (pix2pix schedule)."""
    return [ngf * min(2**i, 8) for i in range(depth)]


class Generator(nn.Module):
    """U-Net from a source glyph (B,1,S,S in [-1,1]) and a style id/vector to a target glyph.

    The style embedding is concatenated to the 1x1 bottleneck (zi2zi). With `jamo_dim` > 0 the syllable's
    structure joins it there too: embeddings of its initial, medial and final jamo (ids from
    `models.hangul.jamo_ids`), so the decoder knows which components it draws and where they go.
    `encode` and `decode` are split so that fine-tuning can freeze the encoder and reuse its features.
    """

    def __init__(
        self, size: int = 128, ngf: int = 32, n_styles: int = 1, style_dim: int = 128, jamo_dim: int = 0
    ) -> None:
        super().__init__()
        depth = int(math.log2(size))
        if 2**depth != size or depth < 4:
            raise ValueError(f"glyph size must be a power of two >= 16, got {size}")
        widths = _channels(ngf, depth)
        self.size, self.ngf, self.style_dim, self.jamo_dim = size, ngf, style_dim, jamo_dim
        self.styles = nn.Embedding(n_styles, style_dim)
        self.jamo = nn.ModuleList(nn.Embedding(n, jamo_dim) for n in JAMO_COUNTS) if jamo_dim else None
        downs: list[nn.Module] = []
        c_in = 1
        for i, c in enumerate(widths):
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2)]
            layers.append(nn.Conv2d(c_in, c, 4, 2, 1, bias=i in (0, depth - 1)))
            if 0 < i < depth - 1:
                layers.append(_norm(c))
            downs.append(nn.Sequential(*layers))
            c_in = c
        self.downs = nn.ModuleList(downs)
        ups: list[nn.Module] = []
        for i in reversed(range(depth)):
            c_out = 1 if i == 0 else widths[i - 1]
            c_up = widths[i] + (style_dim + 3 * jamo_dim if i == depth - 1 else widths[i])
            layers = [nn.ReLU(), nn.ConvTranspose2d(c_up, c_out, 4, 2, 1, bias=i == 0)]
            layers.append(nn.Tanh() if i == 0 else _norm(c_out))
            ups.append(nn.Sequential(*layers))
        self.ups = nn.ModuleList(ups)

    def encode(self, source: torch.Tensor) -> list[torch.Tensor]:
        """Return the encoder activations, outermost first; the last one is the (B,C,1,1) bottleneck."""
        feats = []
        x = source
        for down in self.downs:
            x = down(x)
            feats.append(x)
        return feats

    def condition(self, style: torch.Tensor, jamo: torch.Tensor | None) -> torch.Tensor:
        """Return the (B, style_dim [+ 3 jamo_dim]) vector joined to the bottleneck."""
        if self.jamo is None:
            return style
        if jamo is None:
            raise ValueError("this generator draws from jamo ids: pass jamo=models.hangul.jamo_ids(...)")
        parts = [emb(jamo[:, i].to(style.device)) for i, emb in enumerate(self.jamo)]
        return torch.cat([style.expand(len(jamo), -1), *parts], dim=1)

    def decode(
        self, feats: list[torch.Tensor], style: torch.Tensor, jamo: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Return the glyph decoded from encoder activations, a (B, style_dim) style vector and, for a
        generator with jamo embeddings, the (B, 3) jamo ids of the syllables.
        """
        vector = self.condition(style, jamo)
        x = torch.cat([feats[-1], vector[:, :, None, None].to(feats[-1].dtype)], dim=1)
        for i, up in enumerate(self.ups):
            if i > 0:
                x = torch.cat([x, feats[-1 - i]], dim=1)
            x = up(x)
        return x

    def forward(
        self, source: torch.Tensor, style_ids: torch.Tensor, jamo: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Return generated glyphs for `source` in the styles `style_ids` (B,) long."""
        return self.decode(self.encode(source), self.styles(style_ids), jamo)


class Discriminator(nn.Module):
    """PatchGAN on (source, glyph) pairs with an auxiliary head that names the font (zi2zi category loss)."""

    def __init__(self, n_styles: int = 1, ndf: int = 32, n_layers: int = 3) -> None:
        super().__init__()
        self.ndf, self.n_layers = ndf, n_layers
        layers: list[nn.Module] = [nn.Conv2d(2, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        c = ndf
        for i in range(1, n_layers + 1):
            c_next = ndf * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(c, c_next, 4, stride, 1, bias=False), _norm(c_next), nn.LeakyReLU(0.2)]
            c = c_next
        self.body = nn.Sequential(*layers)
        self.patch = nn.Conv2d(c, 1, 4, 1, 1)
        self.category = nn.Linear(c, n_styles)

    def forward(self, source: torch.Tensor, glyph: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (patch logits, font logits) for a batch of pairs."""
        h = self.body(torch.cat([source, glyph], dim=1))
        return self.patch(h), self.category(h.mean(dim=(2, 3)))


def init_weights(module: nn.Module, gain: float = 0.02) -> None:
    """Initialise convolutions and embeddings N(0, gain) and norms to identity (pix2pix 'normal' init)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.GroupNorm):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 1.0)
