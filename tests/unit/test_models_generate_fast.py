"""Tests for the fast generation path: bf16 matches fp32, the precision choice, the PNG writer thread."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models import WEIGHTS_FILE, fontset, hangul
from models import generate as gen
from models.checkpoints import load_generator
from models.glyph_files import read_glyph_dir
from models.networks import Generator
from models.source import source_glyphs
from models.tensors import to_images, to_tensor

torch.set_num_threads(1)
pytestmark = pytest.mark.skipif(
    not (WEIGHTS_FILE.is_file() and fontset.SOURCE.local_path().is_file()),
    reason="committed weights or fonts-noto-cjk missing",
)
# Syllables with few and many strokes, from the start, middle and end of the block.
CODEPOINTS = [0xAC00, 0xB192, 0xC6B0, 0xD55C, 0xD7A3, 0xBDC1]


@pytest.fixture(scope="module")
def model() -> tuple[Generator, dict]:
    return load_generator(WEIGHTS_FILE)


def _plain_fp32(generator: Generator, meta: dict, cps: list[int], style: int) -> np.ndarray:
    """The reference: the generator as trained (contiguous fp32), no fast path at all."""
    with torch.inference_mode():
        source = to_tensor(source_glyphs(meta["source_font"], cps, generator.size))
        vector = generator.styles(torch.tensor([style]))[0].expand(len(cps), -1)
        jamo = torch.from_numpy(hangul.jamo_ids(cps)) if generator.jamo_dim else None
        return to_images(generator.decode(generator.encode(source), vector, jamo))


def _ink_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ia, ib = a < 128, b < 128
    return (ia & ib).sum((1, 2)) / np.maximum((ia | ib).sum((1, 2)), 1)


@pytest.mark.parametrize("style", [0, 4])
def test_bf16_matches_fp32(model: tuple[Generator, dict], style: int) -> None:
    generator, meta = model
    reference = _plain_fp32(generator, meta, CODEPOINTS, style)
    fast = gen.draw(generator, meta, CODEPOINTS, style, precision="bf16")
    assert (reference < 128).mean() > 0.02  # the glyphs have ink, so the IoU below means something
    diff = np.abs(fast.astype(int) - reference.astype(int))
    assert diff.mean() < 0.5  # grey levels; measured ~0.1 on 500 syllables
    assert _ink_iou(fast, reference).min() >= 0.98


def test_fp32_path_is_the_plain_model(model: tuple[Generator, dict]) -> None:
    generator, meta = model
    reference = _plain_fp32(generator, meta, CODEPOINTS, 2)
    drawn = gen.draw(generator, meta, CODEPOINTS, 2, precision="fp32", batch=4)
    assert np.abs(drawn.astype(int) - reference.astype(int)).max() <= 1  # channels-last reorders sums only


def test_draw_leaves_the_callers_generator_alone(model: tuple[Generator, dict]) -> None:
    generator, meta = model
    gen.draw(generator, meta, CODEPOINTS[:2], precision="bf16")
    kernels = [p for p in generator.parameters() if p.dim() == 4]
    assert kernels and all(k.dtype == torch.float32 and k.is_contiguous() for k in kernels)


def test_precision_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(gen.PRECISION_ENV, raising=False)
    monkeypatch.setattr(gen, "cpu_has_native_bf16", lambda: False)
    assert gen.resolve_precision("cpu") == "fp32"  # no bf16 instructions: emulated bf16 would be slower
    monkeypatch.setattr(gen, "cpu_has_native_bf16", lambda: True)
    assert gen.resolve_precision("cpu") == "bf16"
    monkeypatch.setenv(gen.PRECISION_ENV, "FP32")
    assert gen.resolve_precision("cpu") == "fp32"
    assert gen.resolve_precision("cpu", "bf16") == "bf16"  # the argument beats the environment
    monkeypatch.setenv(gen.PRECISION_ENV, "int8")
    with pytest.raises(ValueError, match="int8"):
        gen.resolve_precision("cpu")
    with pytest.raises(ValueError, match="CUDA"):
        gen.resolve_precision("cpu", "fp16")


def test_cpu_flags_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(gen.cpu_has_native_bf16(), bool)
    flags = Path("/proc/cpuinfo").read_text(errors="replace") if Path("/proc/cpuinfo").is_file() else ""
    if "avx512_bf16" in flags or "amx_bf16" in flags:
        assert gen.cpu_has_native_bf16()


def test_generate_falls_back_to_fp32(
    model: tuple[Generator, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With bf16 unavailable, generate writes exactly the fp32 glyphs, over several writer-thread batches."""
    generator, meta = model
    monkeypatch.delenv(gen.PRECISION_ENV, raising=False)
    monkeypatch.setattr(gen, "cpu_has_native_bf16", lambda: False)
    cps = hangul.all_syllables()[100:111]
    calls: list[tuple[int, int]] = []
    out = gen.generate(
        WEIGHTS_FILE, tmp_path / "out", codepoints=cps, batch=4, device="cpu",
        progress=lambda done, total: calls.append((done, total)),
    )  # fmt: skip
    written = read_glyph_dir(out)
    assert sorted(written) == cps
    expected = gen.draw(generator, meta, cps, 0, batch=4, precision="fp32")  # same batches: same kernels
    assert np.array_equal(np.stack([written[cp] for cp in cps]), expected)
    assert calls == [(4, 11), (8, 11), (11, 11)]


def test_generate_reports_a_failed_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(path: Path, image: np.ndarray) -> None:
        raise OSError(f"disk full writing {path.name}")

    monkeypatch.setattr(gen, "write_png", fail)
    with pytest.raises(OSError, match="disk full"):
        gen.generate(WEIGHTS_FILE, tmp_path / "out", codepoints=CODEPOINTS, batch=2, device="cpu")
    assert list(tmp_path.iterdir()) == []  # neither the output nor the temp dir is left behind
