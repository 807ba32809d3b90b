"""Dance Diffusion checkpoints: where they are looked for, how they load, how they convert.

Two formats are accepted, both local only (never the network):

* diffusers folders, as Harmonai published them (``harmonai/maestro-150k`` …): a
  ``unet/`` folder (or the folder itself) with ``config.json`` and
  ``diffusion_pytorch_model.safetensors`` (or ``.bin``). Their configs predate
  ``time_embedding_dim``; diffusers ≥ 0.36 then builds a 64-wide Fourier projection that
  does not fit the real 16-wide ``time_proj.weight``, so the width is read from the
  weights before loading.
* sample-generator ``.ckpt`` files (PyTorch Lightning; Evans et al., Harmonai 2022). The
  EMA weights (``diffusion_ema.*``) are renamed into diffusers' ``UNet1DModel`` layout and
  the architecture (depth, widths, attention levels) is read from the tensors.

Nothing here imports torch at module import time: ``songmint models list`` stays fast.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from music.engines.weights import hf_cache_dir, models_dir, pull_hint, snapshots
from music.errors import EngineError, ModelNotFoundError

if TYPE_CHECKING:
    import torch
    from diffusers import UNet1DModel

__all__ = [
    "KNOWN_CHECKPOINTS",
    "Checkpoint",
    "KnownCheckpoint",
    "convert_state_dict",
    "find_checkpoint",
    "hf_cache_dir",
    "load_unet",
    "locate_all",
    "models_dir",
    "search_locations",
]

WEIGHT_FILES = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin")
HOW_TO_PROVIDE = (
    "fetch a published model with `songmint models pull NAME`, or pass --model PATH to a diffusers folder "
    "or a sample-generator .ckpt (convert a .ckpt with `songmint models convert`)"
)


@dataclass(frozen=True)
class KnownCheckpoint:
    """A published Harmonai model: name, Hugging Face repository and its audio format."""

    name: str
    repo: str
    sample_rate: int
    sample_size: int
    description: str


KNOWN_CHECKPOINTS: dict[str, KnownCheckpoint] = {
    k.name: k
    for k in (
        KnownCheckpoint("maestro-150k", "harmonai/maestro-150k", 16_000, 65_536, "solo piano (MAESTRO)"),
        KnownCheckpoint("glitch-440k", "harmonai/glitch-440k", 48_000, 65_536, "glitch / IDM textures"),
        KnownCheckpoint(
            "jmann-small-190k",
            "harmonai/jmann-small-190k",
            48_000,
            65_536,
            "Jonathan Mann songs, small window",
        ),
        KnownCheckpoint(
            "jmann-large-580k",
            "harmonai/jmann-large-580k",
            48_000,
            131_072,
            "Jonathan Mann songs, large window",
        ),
        KnownCheckpoint(
            "unlocked-250k", "harmonai/unlocked-250k", 16_000, 65_536, "Unlocked Recordings sound library"
        ),
        KnownCheckpoint("honk-140k", "harmonai/honk-140k", 16_000, 65_536, "Canada goose honks"),
    )
}
"""The Harmonai Dance Diffusion models songmint knows by name."""


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint found on disk.

    Attributes
    ----------
    name : str
        Registry name, or the folder/file name for a path given directly.
    path : Path
        The diffusers folder (holding ``config.json``) or the ``.ckpt`` file.
    format : {"diffusers", "sample-generator"}
    weights : Path
        The file whose sha256 identifies the weights.
    """

    name: str
    path: Path
    format: str
    weights: Path

    def sha256(self) -> str:
        """Hex sha256 of the weights file (cached next to nothing: streamed each call)."""
        from music.soundfont import sha256_file

        return sha256_file(self.weights)


def _diffusers_folder(p: Path) -> Path | None:
    """The folder holding the UNet's ``config.json`` inside ``p`` (``p`` or ``p/unet``)."""
    for cand in (p / "unet", p):
        if (cand / "config.json").is_file() and any((cand / w).is_file() for w in WEIGHT_FILES):
            return cand
    return None


def _as_checkpoint(p: Path, name: str) -> Checkpoint | None:
    if p.is_file() and p.suffix in (".ckpt", ".pt", ".pth"):
        return Checkpoint(name, p, "sample-generator", p)
    if p.is_dir():
        unet = _diffusers_folder(p)
        if unet is not None:
            weights = next(unet / w for w in WEIGHT_FILES if (unet / w).is_file())
            return Checkpoint(name, unet, "diffusers", weights)
    return None


def search_locations(name: str) -> list[Path]:
    """Every path looked at for the registry name ``name``, in order."""
    base = models_dir()
    locs = [base / name, base / f"{name}.ckpt"]
    known = KNOWN_CHECKPOINTS.get(name)
    if known is not None:
        snaps = hf_cache_dir() / ("models--" + known.repo.replace("/", "--")) / "snapshots"
        locs += snapshots(known.repo) or [snaps / "<revision>"]
    return locs


def find_checkpoint(spec: str | os.PathLike[str] | None = None) -> Checkpoint:
    """Resolve a checkpoint: a path (folder or ``.ckpt``) or a registry name.

    ``None`` means ``maestro-150k`` (the CLI passes ``$SONGMINT_DD_CHECKPOINT`` when it is set).

    Raises
    ------
    ModelNotFoundError
        One line naming every place looked at and how to provide the weights.
    """
    if spec is None:
        spec = "maestro-150k"
    text = os.fspath(spec)
    p = Path(text).expanduser()
    if text not in KNOWN_CHECKPOINTS and (p.exists() or os.sep in text or p.suffix == ".ckpt"):
        ck = _as_checkpoint(p, p.stem if p.is_file() else p.name)
        if ck is None:
            raise ModelNotFoundError(
                f"no Dance Diffusion checkpoint at {p} (want a diffusers folder with config.json + "
                f"{WEIGHT_FILES[0]}, or a sample-generator .ckpt); {HOW_TO_PROVIDE}"
            )
        return ck
    if text not in KNOWN_CHECKPOINTS and not re.fullmatch(r"[\w.-]+", text):
        raise ModelNotFoundError(
            f"{text!r} is neither a path nor a known checkpoint name ({', '.join(KNOWN_CHECKPOINTS)})"
        )
    locs = search_locations(text)
    for loc in locs:
        ck = _as_checkpoint(loc, text)
        if ck is not None:
            return ck
    where = ", ".join(str(q) for q in locs)
    how = f"fetch it with {pull_hint(text)}" if text in KNOWN_CHECKPOINTS else HOW_TO_PROVIDE
    raise ModelNotFoundError(
        f"Dance Diffusion checkpoint {text!r} not found locally (looked in {where}); {how}"
    )


def locate_all() -> list[dict[str, Any]]:
    """One row per known checkpoint: whether it was found, where, and where songmint looked."""
    rows = []
    for name, known in KNOWN_CHECKPOINTS.items():
        locs = search_locations(name)
        hit = next((c for c in (_as_checkpoint(q, name) for q in locs) if c is not None), None)
        rows.append(
            {
                "name": name,
                "repo": known.repo,
                "sample_rate": known.sample_rate,
                "sample_size": known.sample_size,
                "description": known.description,
                "found": hit is not None,
                "path": str(hit.path) if hit else None,
                "format": hit.format if hit else None,
                "looked_in": [str(q) for q in locs],
            }
        )
    base = models_dir()
    if base.is_dir():  # the producer's own models (trained or converted) live there too
        for q in sorted(base.iterdir()):
            name = q.stem if q.is_file() else q.name
            if name in KNOWN_CHECKPOINTS:
                continue
            ck = _as_checkpoint(q, name)
            if ck is not None:
                rows.append(
                    {
                        "name": name,
                        "repo": None,
                        "sample_rate": None,
                        "sample_size": None,
                        "description": "local model",
                        "found": True,
                        "path": str(ck.path),
                        "format": ck.format,
                        "looked_in": [str(q)],
                    }
                )
    return rows


# --------------------------------------------------------------------------- loading


def _time_proj_width(folder: Path) -> int | None:
    """Width of the Fourier time projection stored in the weights (``2 × len(time_proj.weight)``)."""
    st = folder / WEIGHT_FILES[0]
    if st.is_file():
        from safetensors import safe_open

        with safe_open(str(st), framework="pt") as f:
            if "time_proj.weight" in f.keys():  # noqa: SIM118 (safe_open is not a mapping)
                return 2 * int(f.get_slice("time_proj.weight").get_shape()[0])
        return None
    import torch

    sd = torch.load(folder / WEIGHT_FILES[1], map_location="cpu", weights_only=True)
    w = sd.get("time_proj.weight")
    return None if w is None else 2 * int(w.shape[0])


def load_unet(ck: Checkpoint, *, trust_pickle: bool = False) -> UNet1DModel:
    """Build the ``UNet1DModel`` of a checkpoint (eval mode, float32, CPU).

    Raises
    ------
    EngineError
        When the files are not a Dance Diffusion UNet.
    """
    from diffusers import UNet1DModel

    if ck.format == "sample-generator":
        return convert_ckpt(ck.path, trust_pickle=trust_pickle)
    cfg = json.loads((ck.path / "config.json").read_text())
    kwargs: dict[str, Any] = {}
    if cfg.get("time_embedding_type", "fourier") == "fourier" and cfg.get("time_embedding_dim") is None:
        width = _time_proj_width(ck.path)
        if width is not None:
            kwargs["time_embedding_dim"] = width
    try:
        unet = UNet1DModel.from_pretrained(ck.path, local_files_only=True, **kwargs)
    except (OSError, ValueError, RuntimeError) as exc:
        raise EngineError(
            f"{ck.path}: cannot load a UNet1DModel ({' '.join(str(exc).split())[:200]})"
        ) from exc
    return unet.eval()


# --------------------------------------------------------------------------- conversion

# sample-generator's DiffusionAttnUnet1D is a chain of nested SkipBlocks: level 0 is an
# nn.Sequential (convs 0-2, inner block 3, convs 4-6); every deeper level is
# SkipBlock(Downsample, conv, attn, conv, attn, conv, attn, <inner>, conv, attn, conv, attn,
# conv, attn, Upsample) reached through ``main.7``. diffusers splits each level into a down
# block (layers 1-6), an up block (8-13) and, for the deepest level, a mid block (1-13).
_RES = {
    "skip": "conv_skip",
    "main.0": "conv_1",
    "main.1": "group_norm_1",
    "main.3": "conv_2",
    "main.4": "group_norm_2",
}


def _level_of(key: str) -> tuple[int, str]:
    """``(depth, remainder)`` of an original key below ``net.``."""
    rest = key[len("net.") :]
    depth = 0
    if rest.startswith("3."):
        depth, rest = 1, rest[2:]
        while rest.startswith("main.7."):
            depth, rest = depth + 1, rest[len("main.7.") :]
        rest = rest[len("main.") :]
    return depth, rest


def _infer_config(sd: dict[str, torch.Tensor]) -> dict[str, Any]:
    """The ``UNet1DModel`` config that fits an original state dict."""
    levels: dict[int, dict[str, Any]] = {}
    for key, v in sd.items():
        if not key.startswith("net."):
            continue
        depth, rest = _level_of(key)
        info = levels.setdefault(depth, {"attn": False})
        if depth == 0 and rest.startswith("0.main.0.weight"):
            info["in"], info["c"] = int(v.shape[1]), int(v.shape[0])
        if depth == 0 and rest.startswith("6.main.3.weight"):
            info["out"] = int(v.shape[0])
        if depth > 0 and rest.startswith("1.main.0.weight"):
            info["c"] = int(v.shape[0])
        if depth > 0 and rest.startswith("2.qkv_proj.weight"):
            info["attn"] = True
    if not levels or "in" not in levels.get(0, {}):
        raise EngineError("not a sample-generator Dance Diffusion state dict (no net.0.main.0.weight)")
    max_depth = max(levels)
    if max_depth < 2:
        raise EngineError("sample-generator state dict too shallow to map onto UNet1DModel")
    temb = sd.get("timestep_embed.weight")
    t_width = 2 * int(temb.shape[0]) if temb is not None else 16
    io = levels[0]["out"]
    channels = [levels[d]["c"] for d in range(max_depth)]
    down = ["DownBlock1DNoSkip"] + [
        "AttnDownBlock1D" if levels[d]["attn"] else "DownBlock1D" for d in range(1, max_depth)
    ]
    up = [b.replace("Down", "Up") for b in reversed(down)]
    return {
        "in_channels": io,
        "out_channels": io,
        "extra_in_channels": levels[0]["in"] - io,
        "time_embedding_type": "fourier",
        "time_embedding_dim": t_width,
        "flip_sin_to_cos": True,
        "use_timestep_embedding": False,
        "block_out_channels": channels,
        "down_block_types": down,
        "up_block_types": up,
        "mid_block_type": "UNetMidBlock1D",
    }, max_depth


def _rename(key: str, max_depth: int) -> list[str]:
    """diffusers key(s) for one original key (attention qkv becomes three)."""
    if key.startswith("timestep_embed."):
        return ["time_proj." + key.split(".", 1)[1]]
    depth, rest = _level_of(key)
    m = re.match(r"(\d+)\.(.*)", rest)
    if m is None:
        raise EngineError(f"unexpected key in sample-generator state dict: {key}")
    num, tail = int(m.group(1)), m.group(2)
    if depth == 0:
        prefix = "down_blocks.0" if num < 3 else f"up_blocks.{max_depth - 1}"
        layer = f"resnets.{num if num < 3 else num - 4}"
    elif depth == max_depth:
        idx = num - 1 if num < 7 else num - 2  # 1..6 -> 0..5, 8..13 -> 6..11
        prefix, layer = "mid_block", f"{'resnets' if idx % 2 == 0 else 'attentions'}.{idx // 2}"
    else:
        idx = num - 1 if num < 7 else num - 8
        prefix = f"down_blocks.{depth}" if num < 7 else f"up_blocks.{max_depth - depth - 1}"
        layer = f"{'resnets' if idx % 2 == 0 else 'attentions'}.{idx // 2}"
    if layer.startswith("resnets"):
        for old, new in _RES.items():
            if tail.startswith(old + "."):
                return [f"{prefix}.{layer}.{new}{tail[len(old) :]}"]
        raise EngineError(f"unexpected conv key in sample-generator state dict: {key}")
    if tail.startswith("norm."):
        return [f"{prefix}.{layer}.group_norm.{tail[5:]}"]
    if tail.startswith("qkv_proj."):
        return [f"{prefix}.{layer}.{p}.{tail[9:]}" for p in ("query", "key", "value")]
    if tail.startswith("out_proj."):
        return [f"{prefix}.{layer}.proj_attn.{tail[9:]}"]
    raise EngineError(f"unexpected attention key in sample-generator state dict: {key}")


def convert_state_dict(state: dict[str, Any]) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Map a sample-generator checkpoint onto diffusers' ``UNet1DModel``.

    Parameters
    ----------
    state : dict
        The loaded ``.ckpt`` (with ``"state_dict"``) or its state dict. EMA weights
        (``diffusion_ema.*``) are preferred over the raw ones (``diffusion.*``).

    Returns
    -------
    config : dict
        ``UNet1DModel`` constructor arguments (``sample_size``/``sample_rate`` not set).
    weights : dict[str, torch.Tensor]
        The renamed tensors: 1×1 attention convs become linear weights, ``qkv`` is split,
        the Fourier weight ``(n, 1)`` is squeezed. Resampling kernels are omitted (fixed buffers).
    """
    sd = state.get("state_dict", state)
    for prefix in ("diffusion_ema.", "diffusion.", ""):
        sub = {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}
        if any(k.startswith("net.") for k in sub):
            break
    else:
        raise EngineError("not a sample-generator checkpoint: no diffusion_ema.net.* weights")
    config, max_depth = _infer_config(sub)
    out: dict[str, torch.Tensor] = {}
    for key, v in sub.items():
        if key.endswith("kernel") or not (key.startswith("net.") or key.startswith("timestep_embed.")):
            continue
        names = _rename(key, max_depth)
        if key.startswith("timestep_embed."):
            out[names[0]] = v.reshape(-1)
        elif len(names) == 3:
            third = v.shape[0] // 3
            for i, n in enumerate(names):
                part = v[i * third : (i + 1) * third]
                out[n] = part[:, :, 0] if part.ndim == 3 else part
        elif ".proj_attn." in names[0] and v.ndim == 3:
            out[names[0]] = v[:, :, 0]
        else:
            out[names[0]] = v
    return config, out


def convert_ckpt(
    path: str | os.PathLike[str],
    *,
    sample_rate: int | None = None,
    sample_size: int | None = None,
    trust_pickle: bool = False,
) -> UNet1DModel:
    """Load a sample-generator ``.ckpt`` as a ``UNet1DModel`` (EMA weights).

    ``sample_rate``/``sample_size`` default to the registry's values for a known file
    name (``maestro-150k.ckpt`` …), else 48000 / 65536. ``trust_pickle`` allows a full
    unpickle for checkpoints that ``torch.load(weights_only=True)`` refuses; only use it
    for files from a source you trust.
    """
    import pickle

    import torch
    from diffusers import UNet1DModel

    p = Path(path)
    try:
        state = torch.load(p, map_location="cpu", weights_only=not trust_pickle)
    except pickle.UnpicklingError as exc:
        raise EngineError(
            f"{p}: holds more than tensors and was not unpickled; if you trust its source, "
            "convert it with `songmint models convert --trust-pickle`"
        ) from exc
    except (OSError, RuntimeError, EOFError) as exc:
        raise EngineError(
            f"{p}: not a readable PyTorch checkpoint ({' '.join(str(exc).split())[:160]})"
        ) from exc
    config, weights = convert_state_dict(state)
    known = next(
        (
            k
            for n, k in KNOWN_CHECKPOINTS.items()
            if p.stem.startswith(n.split("-")[0]) and p.stem.endswith(n.split("-")[-1])
        ),
        None,
    )
    config["sample_rate"] = sample_rate or (known.sample_rate if known else 48_000)
    config["sample_size"] = sample_size or (known.sample_size if known else 65_536)
    unet = UNet1DModel(**config)
    target = unet.state_dict()
    missing = [k for k in target if k not in weights and not k.endswith("kernel")]
    extra = [k for k in weights if k not in target]
    if missing or extra:
        raise EngineError(
            f"{p}: layout does not match UNet1DModel (missing {missing[:3]}, unexpected {extra[:3]})"
        )
    for k, v in weights.items():
        if tuple(target[k].shape) != tuple(v.shape):
            raise EngineError(f"{p}: {k} has shape {tuple(v.shape)}, expected {tuple(target[k].shape)}")
        target[k] = v
    unet.load_state_dict(target)
    return unet.eval()


# --------------------------------------------------------------------------- configurations


def unet_config(
    *,
    channels: list[int] | tuple[int, ...],
    attn_levels: int,
    sample_rate: int,
    sample_size: int,
    io_channels: int = 2,
    time_width: int = 16,
) -> dict[str, Any]:
    """A Harmonai-layout ``UNet1DModel`` config.

    Parameters
    ----------
    channels : sequence of int
        Width of each level, top first (``len(channels)`` halvings; the mid block adds one
        more level at ``channels[-1]``). Attention levels need at least 32 channels
        (one head per 32), and so does the level above the first attention level.
    attn_levels : int
        How many of the deepest levels (besides the mid block) use self-attention.
    sample_rate, sample_size : int
        Audio rate in Hz and training window in samples (a multiple of ``2**len(channels)``).
    io_channels : int
        Audio channels (2 for the published models).
    time_width : int
        Width of the Fourier time features (16 for the published models).
    """
    depth = len(channels)
    down = ["DownBlock1DNoSkip"] + [
        "AttnDownBlock1D" if d >= depth - attn_levels else "DownBlock1D" for d in range(1, depth)
    ]
    up = [b.replace("Down", "Up") for b in reversed(down)]
    return {
        "sample_size": int(sample_size),
        "sample_rate": int(sample_rate),
        "in_channels": io_channels,
        "out_channels": io_channels,
        "extra_in_channels": time_width,
        "time_embedding_type": "fourier",
        "time_embedding_dim": time_width,
        "flip_sin_to_cos": True,
        "use_timestep_embedding": False,
        "block_out_channels": list(channels),
        "down_block_types": down,
        "up_block_types": up,
        "mid_block_type": "UNetMidBlock1D",
    }


PRESETS: dict[str, dict[str, Any]] = {
    # The published Harmonai architecture (221 M parameters): 13 levels, attention in the 5 deepest.
    "maestro": {
        "channels": [128, 128, 256, 256] + [512] * 9,
        "attn_levels": 5,
        "sample_rate": 16_000,
        "sample_size": 65_536,
    },
    # A small model for training on one-shots on a CPU (~1 s windows at 16 kHz).
    "small": {
        "channels": [32, 32, 64, 64, 128, 128, 128],
        "attn_levels": 2,
        "sample_rate": 16_000,
        "sample_size": 16_384,
    },
    # One-shots on a CPU: eight levels, the top one narrow. The full-rate level costs the most
    # per step, so 16 channels there and one level more than "small" (same width below) train
    # 1.8x more steps an hour, and reached a lower validation loss in the same minutes
    # (benchmarks/dd_oneshots.py).
    "oneshot": {
        "channels": [16, 32, 32, 64, 64, 128, 128, 128],
        "attn_levels": 2,
        "sample_rate": 16_000,
        "sample_size": 8_192,
    },
    # A tiny model for tests.
    "tiny": {"channels": [16, 32, 32], "attn_levels": 1, "sample_rate": 8_000, "sample_size": 1_024},
}
"""Named ``unet_config`` arguments."""
