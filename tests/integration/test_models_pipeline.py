"""Quick pretrain -> finetune -> generate on a tiny model, plus the CLI's errors and the committed weights."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import models.finetune as finetuning
from models import fontset, glyph_space, hangul
from models.checkpoints import load_generator
from models.finetune import ADVERSARIAL_WEIGHT, MASS_WEIGHT, TooFewGlyphsError, finetune
from models.fonts import render_set
from models.fontset import quick_glyphset
from models.generate import generate
from models.glyph_files import read_glyph_dir, write_png
from models.pretrain import PretrainConfig, export, pretrain
from models.tensors import to_tensor
from services.cli.main import main as cli

torch.set_num_threads(1)
pytestmark = pytest.mark.skipif(not fontset.SOURCE.local_path().is_file(), reason="fonts-noto-cjk missing")


@pytest.fixture(scope="module")
def base_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny pretrained generator (32 px, ngf 8) trained for a few seconds."""
    tmp = tmp_path_factory.mktemp("pretrain")
    cfg = PretrainConfig(
        ngf=8, ndf=8, style_dim=16, jamo_dim=4, synthetic_per_font=2, batch=8, shift=1, max_steps=40,
        threads=1, precision="fp32",
    )
    final = pretrain(quick_glyphset(), tmp / "ckpt", cfg)
    return export(final, tmp / "generator.pt")


@pytest.fixture(scope="module")
def writer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fake writer: UnPen glyphs pasted small, off-centre into 240x260 writing boxes, plus a Latin box."""
    face = next(e.face() for e in fontset.PRETRAIN if e.name == "UnPen Regular")
    glyphs = render_set(face, hangul.ksx1001_syllables()[:400:10])
    out = tmp_path_factory.mktemp("writer")
    for cp, image in glyphs.items():
        box = np.full((260, 240), 255, np.uint8)
        box[40:200, 30:190] = cv2.resize(image, (160, 160), interpolation=cv2.INTER_AREA)
        write_png(out / f"U+{cp:04X}.png", box)
    write_png(out / "U+0041.png", box)
    return out


def test_pretrain_resumes_from_the_lean_state(tmp_path: Path) -> None:
    data = quick_glyphset(n_syllables=20)
    cfg = PretrainConfig(
        ngf=8, ndf=8, style_dim=16, jamo_dim=4, synthetic_per_font=2, batch=4, shift=1, max_steps=5,
        threads=1, precision="fp32",
    )
    first = pretrain(data, tmp_path, cfg)
    blob = torch.load(first, weights_only=False)
    assert blob["step"] == 5 and blob["images"] == 20
    assert all(v.dtype == torch.float16 for v in blob["generator"].values() if v.is_floating_point())
    second = pretrain(data, tmp_path, PretrainConfig(**{**cfg.__dict__, "max_steps": 3}), resume=True)
    assert second == first  # one current state, replaced
    blob = torch.load(second, weights_only=False)
    assert blob["step"] == 8 and blob["images"] == 32 and blob["config"]["ngf"] == 8
    handwriting = [f for f in data.fonts if f["style_class"].startswith("handwriting")]
    assert handwriting and len(blob["writers"]) == 2 * len(handwriting)  # two writers per handwriting face
    assert (tmp_path / "state.json").is_file() and (tmp_path / "samples.png").is_file()


def test_resume_refuses_other_glyphs(tmp_path: Path) -> None:
    cfg = PretrainConfig(ngf=8, ndf=8, style_dim=16, jamo_dim=0, synthetic_per_font=0, batch=2, max_steps=1,
                         threads=1, precision="fp32")
    pretrain(quick_glyphset(n_syllables=20), tmp_path, cfg)
    with pytest.raises(ValueError, match="different glyph cache"):
        pretrain(quick_glyphset(n_syllables=30), tmp_path, cfg, resume=True)


def test_warm_start_draws_what_the_old_generator_drew(tmp_path: Path) -> None:
    """A generator without jamo inputs (like v1), warm-started into one with them, draws the same glyphs."""
    from models.checkpoints import export_generator
    from models.networks import Generator, init_weights
    from models.pretrain import Trainer

    data = quick_glyphset()
    old = Generator(data.size, 8, len(data.fonts), 16)
    init_weights(old)
    meta = {"fonts": data.fonts, "source_font": data.source_font}
    weights = export_generator(old, meta, tmp_path / "v1.pt")
    old, _ = load_generator(weights)  # as stored (fp16 weights)
    cfg = PretrainConfig(ngf=8, ndf=8, style_dim=16, jamo_dim=6, synthetic_per_font=3, precision="fp32")
    trainer = Trainer.fresh(data, cfg, torch.device("cpu"))
    trainer.warm_start(weights, data)
    source = to_tensor(data.source[:4])
    styles = torch.tensor([0, 1, 2, 0])
    jamo = torch.from_numpy(hangul.jamo_ids([int(c) for c in data.codepoints[:4]]))
    with torch.no_grad():
        before = old(source, styles)
        after = trainer.g.eval()(source, styles, jamo)
    assert torch.allclose(before, after, atol=1e-5)
    assert trainer.g.styles.num_embeddings == len(data.fonts) + len(trainer.writers)


def test_finetune_then_generate_subset(base_weights: Path, writer_dir: Path, tmp_path: Path) -> None:
    glyphs = read_glyph_dir(writer_dir)
    calls: list[tuple[int, int]] = []
    result = finetune(
        glyphs,
        base_weights,
        tmp_path / "writer.pt",
        steps=15,
        batch=4,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls[-1] == (15, 15)
    assert len(result.seeds) == 3 and abs(sum(w for _, w in result.seeds) - 1) < 1e-6
    generator, meta = load_generator(result.checkpoint)
    assert generator.styles.num_embeddings == 1 and meta["writer_scale"] > 0
    assert MASS_WEIGHT > 0 and meta["finetune"]["mass_weight"] == MASS_WEIGHT  # the ink charge is on
    assert meta["finetune"]["adversarial"] == ADVERSARIAL_WEIGHT

    wanted = [*hangul.all_syllables()[:150], min(c for c in glyphs if hangul.is_syllable(c))]
    out = generate(result.checkpoint, tmp_path / "glyphs", written=glyphs, codepoints=wanted)
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted({f"U+{cp:04X}.png" for cp in wanted})
    assert not list(tmp_path.glob(".glyphs*"))  # the temp dir was renamed, nothing left beside it
    image = cv2.imread(str(out / files[0]), cv2.IMREAD_GRAYSCALE)
    assert image.shape == (glyph_space.SIZE, glyph_space.SIZE)
    kept = cv2.imread(str(out / f"U+{wanted[-1]:04X}.png"), cv2.IMREAD_GRAYSCALE)
    expected = glyph_space.to_canonical(glyphs[wanted[-1]], meta["writer_scale"])
    assert np.array_equal(kept, expected)  # the written syllable is kept as written


def test_finetuning_stops_once_the_held_back_loss_stops_improving(
    base_weights: Path, writer_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(finetuning, "CHECK_EVERY", 2)
    calls: list[tuple[int, int]] = []
    glyphs = read_glyph_dir(writer_dir)
    # lr 0: the decoder never changes, so no check after step 0 beats it and patience 4 ends it at step 4
    result = finetune(glyphs, base_weights, tmp_path / "w.pt", steps=60, batch=2, lr=0.0, patience=4,
                      adversarial=0.1, progress=lambda done, total: calls.append((done, total)))
    _, meta = load_generator(result.checkpoint)
    assert meta["finetune"]["adversarial"] == 0.1  # the exported base weights carry the critic
    assert result.steps == meta["finetune"]["steps_run"] == 4 and meta["finetune"]["kept_step"] == 0
    assert [step for step, _ in meta["finetune"]["held_back_losses"]] == [0, 2, 4]
    assert calls[-1] == (60, 60) and len(calls) == 4  # the bar ends full
    learning = finetune(glyphs, base_weights, tmp_path / "w2.pt", steps=6, batch=2, patience=0)
    assert learning.steps == 6  # patience 0: every step runs


def test_too_few_glyphs(base_weights: Path, writer_dir: Path, tmp_path: Path) -> None:
    glyphs = dict(list(read_glyph_dir(writer_dir).items())[:3])
    with pytest.raises(TooFewGlyphsError, match="at least"):
        finetune(glyphs, base_weights, tmp_path / "w.pt", steps=1)


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert cli(["finetune", str(tmp_path / "empty"), "--out", str(tmp_path / "w.pt")]) == 2
    assert "holds no glyph images" in capsys.readouterr().err
    assert cli(["finetune", str(tmp_path / "nope"), "--out", str(tmp_path / "w.pt")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    assert cli(["generate", str(tmp_path / "bad.pt"), "--out", str(tmp_path / "o")]) == 2
    assert "not a readable checkpoint" in capsys.readouterr().err
    assert cli(["pretrain", "--quick", "--threads", "-1", "--state-dir", str(tmp_path / "s")]) == 2
    assert "--threads must be 1 or more" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_cli_quick_pretrain_finetune_generate(writer_dir: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    assert cli(["pretrain", "--quick", "--max-steps", "10", "--state-dir", str(ckpt), "--threads", "1"]) == 0
    assert json.loads((ckpt / "state.json").read_text())["config"]["threads"] == 1
    assert (
        cli(
            [
                "finetune",
                str(writer_dir),
                "--out",
                str(tmp_path / "w.pt"),
                "--base",
                str(ckpt / "generator.pt"),
                "--steps",
                "5",
            ]
        )
        == 0
    )
    assert (tmp_path / "w.pt").is_file()


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("GEULSSI_SLOW"), reason="slow: set GEULSSI_SLOW=1")
def test_generate_all_syllables(base_weights: Path, writer_dir: Path, tmp_path: Path) -> None:
    out = generate(base_weights, tmp_path / "all", written=read_glyph_dir(writer_dir))
    assert len(os.listdir(out)) == hangul.N_SYLLABLES


def test_committed_weights_load_if_present() -> None:
    from models import WEIGHTS_FILE

    if not WEIGHTS_FILE.is_file():
        pytest.skip("weights not committed yet")
    generator, meta = load_generator(WEIGHTS_FILE)
    assert generator.size == glyph_space.SIZE
    assert len(meta["fonts"]) == generator.styles.num_embeddings
    assert WEIGHTS_FILE.stat().st_size < 40 * 2**20
