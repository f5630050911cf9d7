"""Glyph arrays <-> the networks' tensors, and the joint shift that augments training pairs."""

from __future__ import annotations

import numpy as np
import torch


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
