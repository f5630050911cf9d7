"""The GPU training kit on CPU with a tiny setting: packed fonts render the same, pieces round-trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models import device_train, fontset, hangul
from models.dataset import fingerprint, render_glyphset
from models.pretrain import PretrainConfig

pytestmark = pytest.mark.skipif(not fontset.SOURCE.local_path().is_file(), reason="fonts-noto-cjk missing")
QUICK = [e.face() for e in fontset.PRETRAIN if e.name in fontset.QUICK_FONTS]
CODEPOINTS = list(hangul.ksx1001_syllables()[::200])


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pack")
    device_train.pack(QUICK, fontset.SOURCE.face(), out, CODEPOINTS)
    return out


def test_packed_fonts_render_the_same_glyphs(packed: Path, tmp_path: Path) -> None:
    faces, source, codepoints = device_train.packed_faces(packed, tmp_path)
    assert codepoints == CODEPOINTS and [f.name for f in faces] == [f.name for f in QUICK]
    original = render_glyphset(QUICK, fontset.SOURCE.face(), CODEPOINTS, size=64)
    again = render_glyphset(faces, source, codepoints, size=64)
    assert np.array_equal(original.targets, again.targets) and np.array_equal(original.source, again.source)
    assert fingerprint(original) == fingerprint(again)
    sizes = sum(p.stat().st_size for p in packed.iterdir())
    full = sum(f.path.stat().st_size for f in [*QUICK, fontset.SOURCE.face()])
    assert sizes < full / 10  # the point of packing: small enough to carry


def test_unpacking_nothing_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="device_train pack"):
        device_train.packed_faces(tmp_path, tmp_path / "fonts")


def test_pieces_round_trip_and_detect_damage(tmp_path: Path) -> None:
    blob = np.random.default_rng(0).bytes(10_000)
    (tmp_path / "state.pt").write_bytes(blob)
    (tmp_path / "out").mkdir()
    manifest = device_train.split_file(tmp_path / "state.pt", tmp_path / "out", piece_bytes=3_000)
    assert len(list((tmp_path / "out").glob("state.pt.part*"))) == 4
    assert device_train.join_file(manifest, tmp_path / "joined.pt").read_bytes() == blob
    piece = tmp_path / "out" / "state.pt.part01"
    piece.write_bytes(b"x" + piece.read_bytes()[1:])
    with pytest.raises(ValueError, match="checksum"):
        device_train.join_file(manifest, tmp_path / "bad.pt")
    assert not (tmp_path / "bad.pt").exists()


def test_train_on_cpu_with_a_tiny_setting(packed: Path, tmp_path: Path) -> None:
    tiny = PretrainConfig(ngf=8, ndf=8, style_dim=16, jamo_dim=4, synthetic_per_font=1, precision="fp32")
    out = tmp_path / "OUT"
    device_train.train(packed, out, minutes=0.02, batch=4, state_dir=tmp_path / "none", config=tiny)
    assert (out / "samples.png").is_file() and (out / "state.json").is_file()
    state = device_train.join_file(out / f"state.pt.{device_train.MANIFEST}", tmp_path / "state.pt")
    blob = torch.load(state, weights_only=False)
    assert blob["step"] >= 1 and blob["images"] == 4 * blob["step"] and blob["config"]["batch"] == 4
