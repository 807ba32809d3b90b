"""Dance Diffusion samplers: CPU speed at the real model size, and quality against steps.

Run: ``.venv/bin/python benchmarks/diffusion.py [--length 65536] [--repeat 2] [--train-steps 400]
[--checkpoint DIR] [--threads N] [--quick]``

Speed
    A randomly initialised UNet with the published maestro-150k dimensions (221 M parameters,
    16 kHz, 13 levels) is timed for one denoising step on ``--length`` samples, fp32 and bf16
    (median of ``--repeat``). Every sampler makes one UNet call per step and its own arithmetic
    is timed separately (it is < 0.1 % of a step), so seconds per second of audio =
    steps × step time / audio seconds. Reported for each sampler at the step count it needs
    (``music.engines.sampling.DEFAULT_STEPS``) and the ratio to IPNDM at 100 steps (the target
    is ≥ 4× for the fast sampler).

Quality
    Needs a model that has learned something: by default a ``tiny`` model is trained here on
    synthetic one-shots for ``--train-steps`` steps (or pass ``--checkpoint``, e.g. a folder
    written by ``songmint train``). Each deterministic sampler then integrates the same noise
    at several step counts and is compared with IPNDM at 400 steps (the reference solution of
    the same ODE): SNR in dB, higher is closer. "steps to 30 dB" is the fewest steps from the
    grid that reach 30 dB.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from diffusers import UNet1DModel  # noqa: E402

from music.audio import Audio, save  # noqa: E402
from music.engines.dance_diffusion import DanceDiffusionEngine  # noqa: E402
from music.engines.dd_checkpoints import PRESETS, unet_config  # noqa: E402
from music.engines.sampling import DEFAULT_STEPS, SAMPLERS, get_sampler  # noqa: E402

STEP_GRID = (5, 10, 20, 50, 100)


def step_seconds(unet: UNet1DModel, length: int, dtype: torch.dtype, repeat: int) -> float:
    unet = unet.to(dtype)
    x = torch.randn(1, unet.config.in_channels, length, dtype=dtype)
    t = torch.tensor([0.5], dtype=dtype)
    times = []
    with torch.inference_mode():
        unet(x, t)  # warm-up
        for _ in range(repeat):
            t0 = time.perf_counter()
            unet(x, t)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def sampler_overhead(length: int, steps: int = 20) -> float:
    """Seconds of sampler arithmetic per step (no model), on a (1, 2, length) sample."""
    x, v = torch.randn(1, 2, length), torch.randn(1, 2, length)
    sm = get_sampler("ipndm")
    sm.set_timesteps(steps)
    t0 = time.perf_counter()
    for t in sm.timesteps:
        x = sm.step(v, t, x).prev_sample
    return (time.perf_counter() - t0) / steps


def bf16_probe() -> float:
    """How much slower one Conv1d is in bf16 than in fp32 on this CPU."""
    conv = torch.nn.Conv1d(256, 256, 5, padding=2)
    x = torch.randn(1, 256, 1024)
    out = []
    with torch.inference_mode():
        for dt in (torch.float32, torch.bfloat16):
            c, xx = conv.to(dt), x.to(dt)
            c(xx)
            t0 = time.perf_counter()
            c(xx)
            out.append(time.perf_counter() - t0)
    return out[1] / out[0]


def speed(length: int, repeat: int, force_bf16: bool = False) -> None:
    cfg = PRESETS["maestro"]
    torch.manual_seed(0)
    unet = UNet1DModel(**unet_config(**cfg)).eval()
    params = sum(p.numel() for p in unet.parameters())
    secs = length / cfg["sample_rate"]
    print(
        f"\n== speed: maestro-150k dimensions ({params / 1e6:.1f} M parameters), {length} samples "
        f"= {secs:.2f} s at {cfg['sample_rate']} Hz, torch threads {torch.get_num_threads()}"
    )
    per_step = {"float32": step_seconds(unet, length, torch.float32, repeat)}
    ratio = bf16_probe()
    if ratio < 3 or force_bf16:
        per_step["bfloat16"] = step_seconds(unet, length, torch.bfloat16, repeat)
    else:
        print(
            f"bf16 skipped: on this CPU ({torch.backends.cpu.get_cpu_capability()}) a probe Conv1d "
            f"runs {ratio:.0f}x slower in bf16 than in fp32 (no native bf16 kernels); --force-bf16 to time it"
        )
        per_step["bfloat16"] = math.nan
    overhead = sampler_overhead(length)
    print(
        f"one UNet step: fp32 {per_step['float32']:.2f} s, bf16 {per_step['bfloat16']:.2f} s; "
        f"sampler arithmetic {overhead * 1e3:.2f} ms/step"
    )
    base = 100 * per_step["float32"] / secs
    print(f"{'sampler':<10} {'steps':>5} {'fp32 s/s':>9} {'bf16 s/s':>9} {'vs ipndm@100 fp32':>18}")
    for name, steps in DEFAULT_STEPS.items():
        f32 = steps * (per_step["float32"] + overhead) / secs
        b16 = steps * (per_step["bfloat16"] + overhead) / secs
        print(f"{name:<10} {steps:>5} {f32:>9.1f} {b16:>9.1f} {base / f32:>17.1f}x")


def one_shots(folder: Path, sr: int, n: int = 24) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    t = np.arange(int(sr * 0.12)) / sr
    for i in range(n):
        kind = i % 3
        if kind == 0:  # kick: pitch-swept sine
            f0 = rng.uniform(45, 70)
            y = np.sin(2 * np.pi * f0 * t + 40 * (1 - np.exp(-t * 30))) * np.exp(-t * rng.uniform(15, 30))
        elif kind == 1:  # snare: tone + noise burst
            y = 0.5 * np.sin(2 * np.pi * 190 * t) * np.exp(-t * 25) + rng.normal(0, 0.5, t.size) * np.exp(
                -t * 35
            )
        else:  # hat: high-passed noise
            y = np.diff(rng.normal(0, 0.6, t.size + 1)) * np.exp(-t * rng.uniform(60, 120))
        y = 0.8 * y / np.abs(y).max()
        save(Audio.from_array(np.stack([y, y]), sr), folder / f"shot-{i:02d}.wav")
    return folder


def snr_db(x: np.ndarray, ref: np.ndarray) -> float:
    err = float(np.mean((x - ref) ** 2))
    return math.inf if err == 0 else 10 * math.log10(float(np.mean(ref**2)) / err)


def quality(checkpoint: str | None, train_steps: int, n: int) -> None:
    from music.engines.dd_training import TrainConfig, train

    tmp = Path(tempfile.mkdtemp(prefix="dd-bench-"))
    if checkpoint is None:
        samples = one_shots(tmp / "shots", 8000)
        cfg = TrainConfig(
            preset="tiny",
            sample_rate=8000,
            sample_size=1024,
            steps=train_steps,
            batch_size=8,
            lr=2e-3,
            save_every=train_steps,
            demo_every=0,
        )
        t0 = time.perf_counter()
        s = train(samples, tmp / "model", cfg)
        print(
            f"\n== quality: trained a tiny model ({s['parameters'] / 1e6:.2f} M params) for {train_steps} "
            f"steps in {time.perf_counter() - t0:.0f} s; validation loss {s['val_loss_start']:.3f} -> "
            f"{s['val_loss_end']:.3f}"
        )
        checkpoint = str(tmp / "model")
    else:
        print(f"\n== quality: {checkpoint}")
    engine = DanceDiffusionEngine(checkpoint=checkpoint)
    unet = engine.unet
    length = int(unet.config.sample_size)
    noise = torch.randn(n, unet.config.in_channels, length, generator=torch.Generator().manual_seed(0))
    t0 = time.perf_counter()
    ref = engine._run(noise.clone(), sampler="ipndm", steps=400).numpy()
    per_step = (time.perf_counter() - t0) / 400
    print(
        f"reference: ipndm at 400 steps on {n} x {length} samples ({per_step * 1e3:.0f} ms per step); "
        f"SNR in dB against it:"
    )
    print(f"{'sampler':<10} " + " ".join(f"{k:>6}" for k in STEP_GRID) + "   steps to 30 dB")
    for name in SAMPLERS:
        row = []
        for k in STEP_GRID:
            out = engine._run(noise.clone(), sampler=name, steps=k).numpy()
            row.append(snr_db(out, ref))
        need = next((k for k, v in zip(STEP_GRID, row, strict=True) if v >= 30), None)
        print(f"{name:<10} " + " ".join(f"{v:>6.1f}" for v in row) + f"   {need or '>' + str(STEP_GRID[-1])}")
    ipndm100 = snr_db(engine._run(noise.clone(), sampler="ipndm", steps=100).numpy(), ref)
    k = DEFAULT_STEPS["dpmpp-2m"]
    fast_fp32 = engine._run(noise.clone(), sampler="dpmpp-2m", steps=k).numpy()
    fast = snr_db(fast_fp32, ref)
    print(
        f"ipndm@100: {ipndm100:.1f} dB; dpmpp-2m@{k}: {fast:.1f} dB "
        f"({100 / k:.0f}x fewer UNet calls)"
    )
    # bf16 weights and activations, the same sampler and noise: what the precision costs
    bf16 = DanceDiffusionEngine(checkpoint=checkpoint, dtype="bfloat16")
    fast_bf16 = bf16._run(noise.clone(), sampler="dpmpp-2m", steps=k).numpy()
    print(
        f"dpmpp-2m@{k} in bf16: {snr_db(fast_bf16, ref):.1f} dB against the reference, "
        f"{snr_db(fast_bf16, fast_fp32):.1f} dB against the same sampler in fp32"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--length", type=int, default=65_536, help="samples per speed measurement")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--checkpoint", help="model for the quality part (default: train a tiny one here)")
    ap.add_argument("--train-steps", type=int, default=400)
    ap.add_argument("--n", type=int, default=4, help="clips in the quality comparison")
    ap.add_argument(
        "--force-bf16", action="store_true", help="time bf16 even where the CPU lacks bf16 kernels"
    )
    ap.add_argument("--threads", type=int, help="torch intra-op threads (1 on a shared CPU)")
    ap.add_argument(
        "--quick", action="store_true", help="shortest valid length (24576) and 150 training steps"
    )
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.length, args.train_steps, args.repeat = 24_576, 150, 1
    speed(args.length, args.repeat, args.force_bf16)
    quality(args.checkpoint, args.train_steps, args.n)


if __name__ == "__main__":
    main()
