"""Training Dance Diffusion on a folder of the producer's own samples.

The objective is sample-generator's: ``t ~ U(0, 1)``, ``x_t = α x + σ ε`` with
``α, σ = cos, sin(πt/2)``, and the UNet regresses ``v = α ε − σ x`` (Salimans & Ho 2022)
with a mean-squared error (optionally with EDM's log-normal noise levels instead of uniform
``t``, :func:`sample_times`). What a run does:

* loads every readable audio file under ``samples_dir`` (unreadable ones are skipped with
  a warning), resampled to the model's rate and converted to its channel count;
* draws random crops of ``sample_size`` (shorter clips — one-shots — are zero-padded at the
  end so the attack stays at the start), with random polarity and, in stereo, channel swaps;
* AdamW with a constant learning rate or a cosine decay to zero over the run (steps or time
  budget, whichever ends it first), an EMA of the weights (decay warmed up as
  ``min(decay, (1+k)/(10+k))``), bf16 autocast on CUDA when supported (opt-in on CPU), gradient clipping;
* every ``save_every`` steps a resumable checkpoint under ``out/checkpoints/step-N/``
  (raw and EMA weights, optimizer, RNG states, loss history); ``resume=True`` continues from
  the newest one;
* every ``demo_every`` steps a few demo samples from the EMA weights under ``out/demos/``;
* at the end, the EMA weights as a diffusers folder in ``out`` (``config.json`` +
  ``diffusion_pytorch_model.safetensors``) that ``--model out`` loads directly.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from music.audio import AUDIO_EXTENSIONS, audio_files, load, save
from music.errors import AudioError, EngineError

if TYPE_CHECKING:
    import torch
    from diffusers import UNet1DModel

__all__ = [
    "TrainConfig",
    "load_samples",
    "loss_weights",
    "lr_scale",
    "sample_times",
    "train",
    "validation_loss",
]

WEIGHTINGS = ("uniform", "min-snr")
"""Loss weightings over noise levels (:func:`loss_weights`)."""
TIME_SAMPLINGS = ("uniform", "log-normal")
"""Distributions of the training noise level (:func:`sample_times`)."""
LR_SCHEDULES = ("constant", "cosine")
"""Learning-rate schedules (:func:`lr_scale`)."""


@dataclass
class TrainConfig:
    """Settings of one training run (all recorded in ``out/training.json``).

    Attributes
    ----------
    checkpoint : str, optional
        Fine-tune from this checkpoint (name or path); ``None`` trains ``preset`` from scratch.
    preset : str
        A :data:`music.engines.dd_checkpoints.PRESETS` name for training from scratch.
    sample_rate, sample_size : int, optional
        Override the preset's rate (Hz) and window (samples, rounded up to a valid size).
    channels : int
        Audio channels when training from scratch (1 or 2).
    steps : int
        Optimizer steps in total (a resumed run stops at the same total).
    max_minutes : float, optional
        Wall-clock budget in minutes for the whole run (a resumed run counts the time already
        spent). The run stops after the step that exhausts it, saves a checkpoint and writes the
        final weights as if ``steps`` had been reached. The step count then depends on the
        machine's speed, so two budgeted runs are not byte-identical.
    batch_size : int
    lr : float
        AdamW learning rate (the peak one under a schedule).
    lr_schedule : {"constant", "cosine"}
        ``cosine`` decays the rate to zero over the run (:func:`lr_scale`); with ``max_minutes``
        the run's progress is the larger of its share of ``steps`` and of the time budget.
    warmup_steps : int
        Linear warm-up of the learning rate over the first steps (0: none).
    ema_decay : float
    save_every, demo_every : int
        Checkpoint / demo interval in steps (0 disables demos).
    demo_n, demo_steps : int
        Demo clips per interval and sampler steps for them (dpmpp-2m).
    weighting : {"uniform", "min-snr"}
        Per-sample weight of the v-objective over noise levels: ``uniform`` (sample-generator's
        plain MSE) or Min-SNR-γ (:func:`loss_weights`).
    min_snr_gamma : float
        γ of the Min-SNR weighting (5 in the paper).
    time_sampling : {"uniform", "log-normal"}
        How the training noise level is drawn (:func:`sample_times`): ``uniform`` in ``t``
        (sample-generator), or EDM's log-normal in the noise-to-signal ratio, which trains the
        low and middle noise levels where the sound's detail is decided.
    log_sigma_mean, log_sigma_std : float
        The log-normal's parameters (EDM's ``P_mean`` = -1.2, ``P_std`` = 1.2).
    precision : {"auto", "fp32", "bf16"}
        ``auto`` is bf16 autocast on CUDA with bf16 support, fp32 otherwise.
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    seed : int
    """

    checkpoint: str | None = None
    preset: str = "small"
    sample_rate: int | None = None
    sample_size: int | None = None
    channels: int = 2
    steps: int = 2000
    max_minutes: float | None = None
    batch_size: int = 8
    lr: float = 1e-4
    lr_schedule: str = "constant"
    warmup_steps: int = 0
    ema_decay: float = 0.995
    save_every: int = 500
    demo_every: int = 500
    demo_n: int = 2
    demo_steps: int = 20
    weighting: str = "uniform"
    min_snr_gamma: float = 5.0
    time_sampling: str = "uniform"
    log_sigma_mean: float = -1.2
    log_sigma_std: float = 1.2
    precision: str = "auto"
    device: str = "cpu"
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def load_samples(
    folder: str | os.PathLike[str], *, sr: int, channels: int, warn: Callable[[str], None] | None = None
) -> list[np.ndarray]:
    """Every readable audio file under ``folder`` as ``(channels, n)`` float32 at ``sr``.

    Unreadable or empty files are skipped with a warning (``warn`` or :mod:`warnings`).

    Raises
    ------
    EngineError
        When the folder holds no usable audio.
    """
    root = Path(folder)
    if not root.is_dir():
        raise EngineError(f"{root} is not a folder of samples")
    out = []
    for p in audio_files(root, recursive=True):
        try:
            a = load(p, sr=sr, channels=channels)
        except AudioError as exc:
            msg = f"skipping {p}: {exc}"
            (warn or warnings.warn)(msg)
            continue
        out.append(np.ascontiguousarray(a.samples))
    if not out:
        raise EngineError(f"no readable audio under {root} (looked for {', '.join(AUDIO_EXTENSIONS)})")
    return out


def _batch(clips: list[np.ndarray], size: int, n: int, rng: random.Random) -> np.ndarray:
    """``n`` random crops of ``size`` samples (short clips padded at the end), augmented."""
    c = clips[0].shape[0]
    out = np.zeros((n, c, size), np.float32)
    for i in range(n):
        clip = clips[rng.randrange(len(clips))]
        if clip.shape[1] > size:
            o = rng.randrange(clip.shape[1] - size + 1)
            seg = clip[:, o : o + size]
        else:
            seg = clip
        out[i, :, : seg.shape[1]] = seg
        if rng.random() < 0.5:
            out[i] *= -1.0
        if c == 2 and rng.random() < 0.5:
            out[i] = out[i, ::-1]
    return out


def _checked(name: str, known: tuple[str, ...], what: str) -> str:
    """``name`` if it is one of ``known``, else a one-line :class:`EngineError` naming ``what``."""
    if name not in known:
        raise EngineError(f"unknown {what} {name!r}; choose one of: {', '.join(known)}")
    return name


def lr_scale(*, step: int, progress: float, schedule: str = "constant", warmup_steps: int = 0) -> float:
    """The learning rate of optimizer step ``step`` (0-based) as a fraction of the peak rate.

    Parameters
    ----------
    step : int
        Steps taken so far.
    progress : float
        The run's progress in [0, 1] before this step.
    schedule : {"constant", "cosine"}
        ``cosine`` is ``(1 + cos(π · progress)) / 2`` (Loshchilov & Hutter, "SGDR", ICLR 2017,
        without restarts): a short run ends on small steps, which is where an annealed run
        gains most over a constant rate.
    warmup_steps : int
        The first ``warmup_steps`` steps ramp linearly up to the schedule's value.
    """
    scale = 1.0
    if _checked(schedule, LR_SCHEDULES, "learning-rate schedule") == "cosine":
        scale = 0.5 * (1.0 + math.cos(math.pi * min(max(progress, 0.0), 1.0)))
    if step < warmup_steps:
        scale *= (step + 1) / warmup_steps
    return scale


def loss_weights(t: torch.Tensor, *, weighting: str = "uniform", gamma: float = 5.0) -> torch.Tensor:
    """Per-sample weights of the v-objective at times ``t`` (shape ``(batch,)``, in [0, 1]).

    ``min-snr`` is Min-SNR-γ weighting (Hang et al., "Efficient Diffusion Training via
    Min-SNR Weighting Strategy", ICCV 2023) written for v-prediction: with
    ``SNR = cos²(πt/2) / sin²(πt/2)``, the weight ``min(SNR, γ) / (SNR + 1)`` is the x₀-loss
    weight ``min(SNR, γ)`` carried over to the v-loss. It takes weight off nearly clean
    samples (high SNR), where the loss pays for inaudible detail, and off pure noise, so
    that the steps go to the noise levels where the sound takes shape.
    """
    import torch

    if _checked(weighting, WEIGHTINGS, "loss weighting") == "uniform":
        return torch.ones_like(t)
    snr = (torch.cos(t * math.pi / 2) / torch.sin(t * math.pi / 2).clamp_min(1e-6)) ** 2
    return torch.clamp(snr, max=gamma) / (snr + 1.0)


def sample_times(
    n: int,
    *,
    generator: torch.Generator,
    sampling: str = "uniform",
    log_sigma_mean: float = -1.2,
    log_sigma_std: float = 1.2,
) -> torch.Tensor:
    """``n`` training times in [0, 1) (shape ``(n,)``, float32) drawn from ``generator``.

    ``uniform`` is ``t ~ U(0, 1)`` (sample-generator). ``log-normal`` is the noise-level
    distribution of EDM (Karras et al., "Elucidating the Design Space of Diffusion-Based
    Generative Models", NeurIPS 2022, §5): ``ln σ ~ N(log_sigma_mean, log_sigma_std²)`` for the
    noise-to-signal ratio ``σ = tan(πt/2)`` of the cosine schedule, mapped back with
    ``t = 2/π · atan(σ)``. With EDM's -1.2 and 1.2 the median time is 0.19 and two thirds of
    the draws fall in 0.06-0.50, where uniform sampling spends half its steps above 0.5. The
    one-shot hours (docs/diffusion.md) traced the noise floor under generated tails to the
    model's error at those levels.
    """
    import torch

    if _checked(sampling, TIME_SAMPLINGS, "time sampling") == "uniform":
        return torch.rand(n, generator=generator)
    z = torch.randn(n, generator=generator, dtype=torch.float64)
    sigma = torch.exp(log_sigma_mean + log_sigma_std * z)
    return (torch.atan(sigma) * (2 / math.pi)).float()


def _v_loss(unet: UNet1DModel, x: torch.Tensor, t: torch.Tensor, noise: torch.Tensor,
            weights: torch.Tensor | None = None) -> torch.Tensor:
    import torch

    a = torch.cos(t * math.pi / 2)[:, None, None]
    s = torch.sin(t * math.pi / 2)[:, None, None]
    v = a * noise - s * x
    pred = unet(a * x + s * noise, t).sample
    if weights is None:
        return torch.nn.functional.mse_loss(pred.float(), v)
    per_sample = ((pred.float() - v) ** 2).mean(dim=(1, 2))
    return (weights * per_sample).mean()


def validation_loss(unet: UNet1DModel, x: np.ndarray, *, seed: int = 0, n_t: int = 8) -> float:
    """The v-objective loss on ``x`` at ``n_t`` fixed times with fixed noise (deterministic).

    Parameters
    ----------
    x : np.ndarray, shape (batch, channels, n)
    """
    import torch

    dev = next(unet.parameters()).device
    g = torch.Generator("cpu").manual_seed(seed)
    xb = torch.from_numpy(np.ascontiguousarray(x)).float()
    total = 0.0
    with torch.inference_mode():
        for t in (torch.arange(n_t, dtype=torch.float32) + 0.5) / n_t:
            noise = torch.randn(xb.shape, generator=g)
            tt = torch.full((xb.shape[0],), float(t))
            total += float(_v_loss(unet, xb.to(dev), tt.to(dev), noise.to(dev)))
    return total / n_t


def _initial_model(cfg: TrainConfig) -> tuple[UNet1DModel, str]:
    from diffusers import UNet1DModel

    from music.engines.dd_checkpoints import PRESETS, find_checkpoint, load_unet, unet_config

    if cfg.checkpoint:
        ck = find_checkpoint(cfg.checkpoint)
        unet = load_unet(ck)
        if cfg.sample_size:  # a training window rounded up to a size the UNet accepts
            f = 2 ** len(unet.up_blocks)
            unet.register_to_config(sample_size=max(3 * f, -(-int(cfg.sample_size) // f) * f))
        return unet, f"{ck.name} ({ck.sha256()[:12]})"
    if cfg.preset not in PRESETS:
        raise EngineError(f"unknown preset {cfg.preset!r}; choose one of: {', '.join(PRESETS)}")
    args = dict(PRESETS[cfg.preset])
    if cfg.sample_rate:
        args["sample_rate"] = int(cfg.sample_rate)
    factor = 2 ** len(args["channels"])
    size = int(cfg.sample_size or args["sample_size"])
    args["sample_size"] = max(3 * factor, -(-size // factor) * factor)
    if cfg.channels not in (1, 2):
        raise EngineError("channels must be 1 or 2")
    import torch

    torch.manual_seed(cfg.seed)
    return UNet1DModel(**unet_config(**args, io_channels=cfg.channels)), f"preset {cfg.preset}"


def _latest(out: Path) -> Path | None:
    ck = out / "checkpoints"
    steps = (
        sorted(
            (p for p in ck.glob("step-*") if (p / "state.json").is_file()),
            key=lambda p: int(p.name.split("-")[1]),
        )
        if ck.is_dir()
        else []
    )
    return steps[-1] if steps else None


def _save_checkpoint(
    out: Path, step: int, unet: UNet1DModel, ema: UNet1DModel, opt: Any, state: dict[str, Any]
) -> Path:
    import torch

    final = out / "checkpoints" / f"step-{step:07d}"
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    unet.save_pretrained(tmp / "raw")
    ema.save_pretrained(tmp / "ema")
    torch.save(opt.state_dict(), tmp / "optimizer.pt")
    (tmp / "state.json").write_text(json.dumps(state, indent=2))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    return final


def train(
    samples_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    cfg: TrainConfig,
    *,
    resume: bool = False,
    progress: Callable[[int, int, float], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train (or fine-tune) a Dance Diffusion UNet on ``samples_dir``; see the module docs.

    Returns
    -------
    dict
        The run summary also written to ``out/training.json``: steps, losses (validation
        loss before and after, running training loss per interval), seconds, device.
    """
    import copy

    import torch
    from diffusers import UNet1DModel

    from music.engines.sampling import resolve_device

    # before any data is read or any file written
    _checked(cfg.weighting, WEIGHTINGS, "loss weighting")
    _checked(cfg.lr_schedule, LR_SCHEDULES, "learning-rate schedule")
    _checked(cfg.time_sampling, TIME_SAMPLINGS, "time sampling")
    out = Path(out_dir)
    device = resolve_device(cfg.device)
    latest = _latest(out) if resume else None
    if resume and latest is None:
        raise EngineError(f"--resume: no checkpoint under {out / 'checkpoints'}")
    if latest is not None:
        state = json.loads((latest / "state.json").read_text())
        unet = UNet1DModel.from_pretrained(latest / "raw")
        ema = UNet1DModel.from_pretrained(latest / "ema")
        origin = state["origin"]
    else:
        unet, origin = _initial_model(cfg)
        ema = copy.deepcopy(unet)
        state = {"step": 0, "history": [], "origin": origin, "seconds": 0.0}
    sr = int(unet.config.sample_rate)
    ch = int(unet.config.in_channels)
    size = int(unet.config.sample_size)
    clips = load_samples(samples_dir, sr=sr, channels=ch, warn=warn)
    # Only now, with a model and data: a run that fails on its input leaves no folder behind.
    out.mkdir(parents=True, exist_ok=True)
    unet.to(device).train()
    ema.to(device).eval().requires_grad_(False)
    opt = torch.optim.AdamW(unet.parameters(), lr=cfg.lr, weight_decay=0.0)
    if latest is not None:
        opt.load_state_dict(torch.load(latest / "optimizer.pt", map_location=device, weights_only=True))
    bf16 = cfg.precision == "bf16" or (
        cfg.precision == "auto" and device == "cuda" and torch.cuda.is_bf16_supported()
    )
    rng = random.Random(cfg.seed)
    gen = torch.Generator("cpu").manual_seed(cfg.seed)
    if latest is not None:
        rng.setstate(_tuple_state(state["py_rng"]))
        gen.set_state(torch.tensor(state["torch_rng"], dtype=torch.uint8))
    val = _batch(clips, size, min(8, max(2, len(clips))), random.Random(cfg.seed + 1))
    if latest is None:
        state["val_loss_start"] = validation_loss(ema, val, seed=cfg.seed)
    t0 = time.perf_counter()
    running: list[float] = []
    step = int(state["step"])
    budget = None if cfg.max_minutes is None else 60.0 * cfg.max_minutes
    stopped = "steps"
    # A budget already spent (a resumed run) still ends with final weights, but trains no step.
    if budget is not None and step < cfg.steps and state["seconds"] >= budget:
        stopped = "time budget"
    while step < cfg.steps and stopped == "steps":
        progress_now = step / cfg.steps
        if budget is not None:
            progress_now = max(progress_now, (state["seconds"] + time.perf_counter() - t0) / budget)
        for group in opt.param_groups:
            group["lr"] = cfg.lr * lr_scale(
                step=step, progress=progress_now, schedule=cfg.lr_schedule, warmup_steps=cfg.warmup_steps
            )
        x = torch.from_numpy(_batch(clips, size, cfg.batch_size, rng)).to(device)
        t = sample_times(
            cfg.batch_size, generator=gen, sampling=cfg.time_sampling,
            log_sigma_mean=cfg.log_sigma_mean, log_sigma_std=cfg.log_sigma_std,
        ).to(device)
        noise = torch.randn(x.shape, generator=gen).to(device)
        weights = None if cfg.weighting == "uniform" else loss_weights(
            t, weighting=cfg.weighting, gamma=cfg.min_snr_gamma)
        with torch.autocast(
            device_type="cuda" if device == "cuda" else "cpu", dtype=torch.bfloat16, enabled=bf16
        ):
            loss = _v_loss(unet, x, t, noise, weights)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        step += 1
        decay = min(cfg.ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pr in zip(ema.parameters(), unet.parameters(), strict=True):
                pe.lerp_(pr, 1.0 - decay)
        running.append(loss.item())
        if progress is not None:
            progress(step, cfg.steps, float(np.mean(running[-20:])))
        # The budget covers everything the run does (demos, checkpoints), as a wall clock would.
        if budget is not None and state["seconds"] + time.perf_counter() - t0 >= budget:
            stopped = "time budget"
        last = step == cfg.steps or stopped != "steps"
        if cfg.demo_every and (step % cfg.demo_every == 0 or last):
            _demos(ema, out, step, cfg)
        if step % cfg.save_every == 0 or last:
            state.update(
                step=step,
                seconds=state["seconds"] + time.perf_counter() - t0,
                py_rng=rng.getstate(),
                torch_rng=gen.get_state().tolist(),
                origin=origin,
            )
            state["history"].append({"step": step, "loss": float(np.mean(running))})
            running, t0 = [], time.perf_counter()
            _save_checkpoint(out, step, unet, ema, opt, state)
    summary = {
        "origin": origin,
        "steps": step,
        "stopped_by": stopped,
        "seconds": round(state["seconds"], 2),
        "device": device,
        "precision": "bf16" if bf16 else "fp32",
        "samples": len(clips),
        "sample_rate": sr,
        "sample_size": size,
        "channels": ch,
        "val_loss_start": state.get("val_loss_start"),
        "val_loss_end": validation_loss(ema, val, seed=cfg.seed),
        "history": state["history"],
        "config": asdict(cfg),
        "parameters": sum(p.numel() for p in ema.parameters()),
    }
    _write_final(ema, out, summary)
    return summary


def _tuple_state(s: Any) -> Any:
    return tuple(_tuple_state(v) for v in s) if isinstance(s, list) else s


def _demos(ema: UNet1DModel, out: Path, step: int, cfg: TrainConfig) -> None:
    from music.engines.dance_diffusion import DanceDiffusionEngine

    engine = DanceDiffusionEngine(unet=ema, device=str(next(ema.parameters()).device))
    clips = engine.sample(n=cfg.demo_n, seed=cfg.seed, sampler="dpmpp-2m", steps=cfg.demo_steps)
    folder = out / "demos"
    folder.mkdir(exist_ok=True)
    for i, c in enumerate(clips):
        save(c, folder / f"step-{step:07d}_{i + 1}.wav")


def _write_final(ema: UNet1DModel, out: Path, summary: dict[str, Any]) -> None:
    """The EMA weights as a diffusers folder in ``out`` (written aside, then moved in)."""
    tmp = out / ".final.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    ema.save_pretrained(tmp)
    for f in tmp.iterdir():
        os.replace(f, out / f.name)
    tmp.rmdir()
    (out / "training.json").write_text(json.dumps(summary, indent=2) + "\n")
