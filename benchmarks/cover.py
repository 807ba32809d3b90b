"""Benchmark: render time per 2048² cover, per style, on one core (target ≤ 1 s).

Run:  .venv/bin/python benchmarks/cover.py [--size 2048] [--repeat 3]

Prints wall and CPU (process) time per style: on a shared machine the CPU time is the honest
one-core figure. Baselines measured in the same run:

* ``pillow-png``: Pillow saving the same 2048² pixels as PNG (its defaults), against our
  deterministic writer (Sub filter, zlib level 2);
* ``motif``: the audio motif of a 3-minute stereo track (what a render adds for the audio);
* ``floor``: a render whose style paints only the ground (grain, finish and encoding included).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PIL import Image

from cover_art import STYLE_NAMES, motif_from_audio, render
from cover_art.png import encode_png
from cover_art.scene import paint_ground
from cover_art.styles import STYLES

TRAITS = {"key": "F# minor", "tempo_bpm": 124.0, "energy": 0.8, "danceability": 0.7, "brightness": 0.5,
          "valence": 0.35, "arousal": 0.7, "percussiveness": 0.6, "onset_rate_hz": 4.0, "camelot": "11A"}


def timed(fn, repeat: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    rng = np.random.default_rng(0)
    sr = 44_100
    t = np.arange(180 * sr) / sr
    track = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 2 * t))
             + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    samples = np.stack([track, track[::-1]])
    from music.audio import Audio

    audio = Audio(samples, sr)
    motif = motif_from_audio(samples, sr)
    render(TRAITS, motif, style="flow", size=256)  # warm-up: imports, font loading

    rows = []
    for style in STYLE_NAMES:
        wall, cpu = timed(lambda s=style: render(TRAITS, motif, style=s, seed=1, size=args.size), args.repeat)
        rows.append((style, wall, cpu))
    STYLES["_floor"] = paint_ground
    try:
        floor = timed(lambda: render(TRAITS, motif, style="_floor", size=args.size), args.repeat)
    finally:
        del STYLES["_floor"]
    full = timed(lambda: render(TRAITS, audio, style="flow", seed=1, size=args.size), 1)
    motif_t = timed(lambda: motif_from_audio(samples, sr), args.repeat)
    pixels = np.asarray(render(TRAITS, motif, style="flow", seed=1, size=args.size).image())
    ours = timed(lambda: encode_png(pixels), args.repeat)

    def pillow() -> None:
        Image.fromarray(pixels).save(io.BytesIO(), "PNG")

    pil = timed(pillow, args.repeat)

    print(f"cover render, {args.size}² px, median of {args.repeat}, one core (wall / CPU seconds)")
    print(f"{'style':<12}{'wall s':>9}{'cpu s':>9}{'vs 1 s':>9}")
    for style, wall, cpu in rows:
        print(f"{style:<12}{wall:9.3f}{cpu:9.3f}{cpu / 1.0:8.2f}×")
    print(f"{'floor':<12}{floor[0]:9.3f}{floor[1]:9.3f}   (ground + finish + encode only)")
    print(f"{'flow+audio':<12}{full[0]:9.3f}{full[1]:9.3f}   (incl. hashing + motif of a 3-min track)")
    print(f"motif of a 3-minute stereo track: {motif_t[1] * 1000:.1f} ms CPU")
    print(f"PNG encode: ours {ours[1]:.3f} s CPU vs Pillow {pil[1]:.3f} s CPU "
          f"({pil[1] / max(ours[1], 1e-9):.2f}× faster)")
    mean_cpu = statistics.mean(r[2] for r in rows)
    print(f"mean over styles: {mean_cpu:.3f} s CPU per cover ({mean_cpu / floor[1]:.2f}× the floor)")


if __name__ == "__main__":
    main()
