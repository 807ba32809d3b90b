"""Inpainting on a trained Dance Diffusion model: replacement alone against RePaint resampling.

Run on demand, after ``benchmarks/dd_oneshots.py`` has trained its model::

    taskset -c 0 .venv/bin/python benchmarks/dd_repaint.py --model /tmp/dd-oneshots/model \\
        --clips /tmp/dd-oneshots/heldout

For each held-out one-shot (never trained on), a gap is cut out of its decay (``--gap``,
seconds) and regenerated from the rest with DPM-Solver++ (``--steps``) and ``--repaint U`` for
each U asked; the same seed gives every U the same starting noise. The regenerated gap is
compared with the one that was cut out:

* log-mel distance: RMS difference of the 64-band log-mel spectrogram (dB) inside the gap;
* envelope error: mean |difference| of the 5 ms RMS envelope (dB, floored at -80 dBFS);
* seam: the largest sample step at the two joins, relative to the clip's own largest step.

Baselines in the same run: the gap filled with silence, and with white noise at the gap's true
RMS (it knows the level, not the content). Lower is better for all three measures; the table
prints each U's ratio against U = 1.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def log_mel(y: np.ndarray, sr: int) -> np.ndarray:
    import librosa

    m = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=512, hop_length=64, n_mels=64, center=False)
    return 10 * np.log10(np.maximum(m, 1e-8))


def envelope_db(y: np.ndarray, sr: int) -> np.ndarray:
    w = max(1, int(0.005 * sr))
    n = y.size // w
    rms = np.sqrt(np.mean(y[: n * w].reshape(n, w) ** 2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-4))


def scores(fill: np.ndarray, ref: np.ndarray, clip_with_fill: np.ndarray, i0: int, i1: int, sr: int
           ) -> tuple[float, float, float]:
    """(log-mel distance dB, envelope error dB, seam step / the clip's largest step) for one gap."""
    lm = float(np.sqrt(np.mean((log_mel(fill, sr) - log_mel(ref, sr)) ** 2)))
    env = float(np.mean(np.abs(envelope_db(fill, sr) - envelope_db(ref, sr))))
    steps = np.abs(np.diff(clip_with_fill))
    own = float(np.abs(np.diff(np.delete(clip_with_fill, np.s_[i0 - 1 : i1 + 1]))).max()) + 1e-9
    seam = max(float(steps[i0 - 1]), float(steps[i1 - 1])) / own
    return lm, env, seam


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="a trained diffusers folder")
    ap.add_argument("--clips", type=Path, help="folder of held-out one-shots (WAV)")
    ap.add_argument("--gap", default="0.06:0.16", help="START:END seconds to regenerate")
    ap.add_argument("--repaint", default="1,2,4", help="comma-separated U values (1 = replacement)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--per-class", type=int, default=2, help="clips per class (from the file names)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if args.model is None or args.clips is None:
        # `make bench` runs every benchmark bare; this one needs a model trained by dd_oneshots.py
        print("dd_repaint: on demand; needs --model (e.g. from benchmarks/dd_oneshots.py) and --clips")
        return

    import torch

    from music.audio import load, resample, to_channels
    from music.engines.dance_diffusion import DanceDiffusionEngine, Repainting, parse_range

    torch.set_num_threads(args.threads)
    engine = DanceDiffusionEngine(checkpoint=str(args.model), sampler="dpmpp-2m", steps=args.steps)
    sr = engine.sample_rate
    start, end = parse_range(args.gap)
    i0, i1 = round(start * sr), round(end * sr)
    us = [int(u) for u in args.repaint.split(",")]

    chosen: dict[str, list[Path]] = {}
    for p in sorted(args.clips.glob("*.wav")):
        chosen.setdefault(p.name.split("_")[0], [])
        if len(chosen[p.name.split("_")[0]]) < args.per_class:
            chosen[p.name.split("_")[0]].append(p)
    files = [p for ps in chosen.values() for p in ps]
    print(f"model {args.model} ({sr} Hz), {len(files)} held-out clips ({', '.join(chosen)}), "
          f"gap {start}-{end} s, dpmpp-2m {args.steps} steps")

    rows: dict[str, list[tuple[float, float, float]]] = {"silence": [], "noise at true RMS": []}
    rows.update({f"repaint U={u}": [] for u in us})
    cpu: dict[str, float] = {f"repaint U={u}": 0.0 for u in us}
    rng = np.random.default_rng(0)
    for k, path in enumerate(files):
        source = load(path)
        clip = to_channels(resample(source, sr), engine.channels).samples[0]  # as the model sees it
        ref = clip[i0:i1].copy()
        for name, fill in (("silence", np.zeros_like(ref)),
                           ("noise at true RMS", rng.normal(0, np.sqrt(np.mean(ref**2)), ref.size))):
            whole = clip.copy()
            whole[i0:i1] = fill
            rows[name].append(scores(fill.astype(np.float32), ref, whole, i0, i1, sr))
        for u in us:
            c0 = time.process_time()
            how = Repainting(repaint=u)
            out = engine.inpaint_audio(source, start=start, end=end, seed=k, how=how)[0].samples[0]
            cpu[f"repaint U={u}"] += time.process_time() - c0
            rows[f"repaint U={u}"].append(scores(out[i0:i1], ref, out, i0, i1, sr))

    base = np.mean(rows[f"repaint U={us[0]}"], axis=0)
    print("\n| fill | log-mel dist (dB) | envelope err (dB) | seam (× own step) | CPU s/clip "
          f"| vs U={us[0]} |")
    print("|---|---|---|---|---|---|")
    for name, vals in rows.items():
        m = np.mean(vals, axis=0)
        c = f"{cpu[name] / len(files):.1f}" if name in cpu else "–"
        ratio = f"{m[0] / base[0]:.2f}× / {m[1] / base[1]:.2f}×" if name.startswith("repaint") else ""
        print(f"| {name} | {m[0]:.2f} | {m[1]:.2f} | {m[2]:.2f} | {c} | {ratio} |")


if __name__ == "__main__":
    main()
