"""Checkpoint files: resumable training state, and the small generator file that fine-tuning loads."""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.networks import Discriminator, Generator

FORMAT = "geulssi-pix2pix-v1"


def atomic_save(obj: Any, path: Path) -> None:
    """torch.save `obj` to `path` through a temp file in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def rng_state() -> dict[str, Any]:
    """Return the Python, NumPy and torch RNG states."""
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore RNG states saved by `rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


STATE_FILE = "state.pt"
STATE_FORMAT = "geulssi-pretrain-state-v2"


def _lean_adam(opt: torch.optim.Optimizer) -> dict[str, Any]:
    """An Adam state without its first moments (with beta1 0.5 they rebuild in a few steps) and with the
    second moments in bf16 (their range matters, not their last digits)."""
    full = opt.state_dict()
    lean = {}
    for key, value in full["state"].items():
        lean[key] = {"step": value["step"], "exp_avg_sq": value["exp_avg_sq"].to(torch.bfloat16)}
    return {"state": lean, "param_groups": full["param_groups"]}


def _full_adam(lean: dict[str, Any], opt: torch.optim.Optimizer) -> None:
    state = {}
    for key, value in lean["state"].items():
        sq = value["exp_avg_sq"].float()
        state[key] = {"step": value["step"], "exp_avg": torch.zeros_like(sq), "exp_avg_sq": sq}
    opt.load_state_dict({"state": state, "param_groups": lean["param_groups"]})


def _halved(module: torch.nn.Module, half: bool) -> dict[str, torch.Tensor]:
    """The module's state on the CPU, floating-point tensors in fp16 when `half`."""
    return {
        k: (v.half() if half and v.is_floating_point() else v).cpu() for k, v in module.state_dict().items()
    }


def save_state(
    path: Path,
    generator: torch.nn.Module,
    discriminator: torch.nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    extra: dict[str, Any],
) -> Path:
    """Write the lean resumable training state (one file, replaced atomically): both networks in fp16,
    the optimizers' second moments in bf16, RNG states and `extra` (config, counters, fonts...)."""
    blob = {
        "format": STATE_FORMAT,
        "generator": _halved(generator, half=True),
        "discriminator": _halved(discriminator, half=True),
        "opt_g": _lean_adam(opt_g),
        "opt_d": _lean_adam(opt_d),
        "rng": rng_state(),
        **extra,
    }
    atomic_save(blob, path)
    summary = {k: extra[k] for k in ("step", "images", "trained_seconds", "config") if k in extra}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    os.replace(tmp, path.with_suffix(".json"))
    return path


def load_state(path: Path) -> dict[str, Any]:
    """Read a training state written by `save_state`; raise ValueError for anything else."""
    try:
        blob = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # corrupt or foreign file
        raise ValueError(f"{path} is not a readable training state ({exc.__class__.__name__})") from exc
    if not isinstance(blob, dict) or blob.get("format") != STATE_FORMAT:
        raise ValueError(f"{path} is not a {STATE_FORMAT} training state")
    return blob


def restore_state(
    blob: dict[str, Any],
    generator: torch.nn.Module,
    discriminator: torch.nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
) -> None:
    """Load a state read by `load_state` into freshly built networks and optimizers (fp32 again)."""
    for module, key in ((generator, "generator"), (discriminator, "discriminator")):
        module.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in blob[key].items()})
    _full_adam(blob["opt_g"], opt_g)
    _full_adam(blob["opt_d"], opt_d)
    device = next(generator.parameters()).device
    for opt in (opt_g, opt_d):
        for st in opt.state.values():
            for k, v in st.items():
                if torch.is_tensor(v) and k != "step":
                    st[k] = v.to(device)


def export_generator(
    generator: Generator, meta: dict[str, Any], path: Path, half: bool = True,
    discriminator: Discriminator | None = None,
) -> Path:
    """Write the generator (fp16 by default, to stay small) with the metadata generation needs, and the
    pretrained discriminator when given (fine-tuning uses it as a critic; generation never loads it).

    `meta` must hold at least 'fonts' (one entry per style row) and 'source_font' (name, path, index, scale).
    """
    state = _halved(generator, half)
    arch = {
        "size": generator.size,
        "ngf": generator.ngf,
        "style_dim": generator.style_dim,
        "n_styles": generator.styles.num_embeddings,
        "jamo_dim": generator.jamo_dim,
    }
    blob = {"format": FORMAT, "arch": arch, "generator": state, **meta}
    if discriminator is not None:
        blob["discriminator"] = _halved(discriminator, half)
        blob["discriminator_arch"] = {
            "ndf": discriminator.ndf, "n_layers": discriminator.n_layers,
            "n_styles": discriminator.category.out_features,
        }  # fmt: skip
    atomic_save(blob, path)
    return path


def load_generator(path: Path | str, device: str | torch.device = "cpu") -> tuple[Generator, dict[str, Any]]:
    """Load a file written by `export_generator`; return (generator in eval mode, float32, metadata).

    Raises ValueError with a readable message for a missing or foreign file.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {path} does not exist")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for a corrupt file; all mean the same to a user
        raise ValueError(f"{path} is not a readable checkpoint ({exc.__class__.__name__})") from exc
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} generator checkpoint")
    arch = blob["arch"]
    generator = Generator(
        arch["size"], arch["ngf"], arch["n_styles"], arch["style_dim"], arch.get("jamo_dim", 0)
    )
    generator.load_state_dict({k: v.float() for k, v in blob["generator"].items()})
    generator.to(device).eval()
    meta = {k: v for k, v in blob.items() if k not in _NETWORK_KEYS}
    return generator, meta


_NETWORK_KEYS = ("generator", "arch", "discriminator", "discriminator_arch")


def load_discriminator(path: Path | str, device: str | torch.device = "cpu") -> Discriminator | None:
    """Load the discriminator stored beside the generator in `path` (float32, train mode), or None if the
    file has none (weights exported before it was kept, and fine-tuned writer checkpoints)."""
    blob = torch.load(Path(path), map_location="cpu", weights_only=False)
    if "discriminator" not in blob:
        return None
    arch = blob["discriminator_arch"]
    discriminator = Discriminator(arch["n_styles"], arch["ndf"], arch["n_layers"])
    discriminator.load_state_dict({k: v.float() for k, v in blob["discriminator"].items()})
    return discriminator.to(device).train()
