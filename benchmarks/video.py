"""Benchmark: frames/s for drawing and for encoding a 1080² clip, against the 2× real-time target.

Run:  nice -n 19 .venv/bin/python benchmarks/video.py [--size 1080x1080] [--fps 30] [--frames 150]

A composer take (house, 8 bars, stems) is generated once into a temporary folder. Then, in
the same run:

* ``draw``: each treatment × style draws ``--frames`` frames into a buffer (no encoder): wall
  and CPU (process) frames/s; CPU is the honest one-core figure on a shared machine;
* ``encode``: 30 drawn frames piped round-robin to ffmpeg (libx264 at each preset, no audio);
  wall frames/s and ffmpeg's CPU frames/s (children's rusage);
* ``end-to-end``: ``render_video`` (draw ‖ encode, AAC audio, the default ``veryfast``):
  wall frames/s and × real time.

The target: ``2 × fps`` frames/s end to end (60 frames/s for 30 fps), i.e. a clip renders in
half its duration on this two-core machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import skia

from cover_art.video import Encoding, parse_size, render_video
from cover_art.video.clip import prepare_frames
from cover_art.video.encode import ffmpeg_command

PRESETS = ("ultrafast", "superfast", "veryfast", "faster")
CASES = (("pulse", "flow"), ("pulse", "waves"), ("orbit", "flow"), ("orbit", "radial"),
         ("orbit", "geometric"), ("orbit", "waves"))


def make_take(folder: Path) -> Path:
    """A composer take with stems (the demo's house genre, 8 bars at 124 BPM)."""
    subprocess.run([sys.executable, "-m", "songmint", "generate", "--genre", "house", "--bars", "8", "--seed",
                    "1", "--out", str(folder)], check=True, capture_output=True)
    return folder


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1080x1080")
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--take", type=Path, help="An existing take folder (default: generate one).")
    args = ap.parse_args()
    from music import audio as aio
    from music.takes import read_take_json
    from music.traits import extract

    size = parse_size(args.size)
    target = 2 * args.fps
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.take or make_take(Path(tmp) / "take")
        doc = read_take_json(folder)
        mix_path = folder / doc["mix"]
        mix = aio.load(mix_path)
        stems = {n: aio.load(folder / r) for n, r in doc["stems"].items()}
        traits = extract(mix)
        print(f"take {folder.name}: {mix.duration:.1f} s, stems {', '.join(stems)}; {args.size} at "
              f"{args.fps:g} fps; target {target:g} frames/s (2x real time)")
        w, h = size
        buf = np.zeros((h, w, 4), np.uint8)
        surface = skia.Surface(buf, colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kPremul_AlphaType)
        cv = surface.getCanvas()
        print(f"\n{'draw':<18}{'prepare s':>10}{'wall f/s':>10}{'cpu f/s':>10}{'cpu/target':>12}")
        sample = None
        for treatment, style in CASES:
            t = time.perf_counter()
            frames = prepare_frames(traits=traits, audio=mix, stems=stems, beats=traits.beats, style=style,
                                    treatment=treatment, size=size, fps=args.fps, max_frames=args.frames)
            prep = time.perf_counter() - t
            w0, c0 = time.perf_counter(), time.process_time()
            for k in range(frames.n_frames):
                frames.draw(cv, k)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            n = frames.n_frames
            print(f"{treatment + '/' + style:<18}{prep:>10.2f}{n / wall:>10.1f}{n / cpu:>10.1f}"
                  f"{n / cpu / target:>11.2f}x")
            if sample is None:
                sample = []
                for k in range(0, min(30, n)):
                    frames.draw(cv, k)
                    sample.append(buf.copy())

        print(f"\n{'encode (no audio)':<18}{'':>10}{'wall f/s':>10}{'cpu f/s':>10}{'cpu/target':>12}")
        for preset in PRESETS:
            out = Path(tmp) / f"enc-{preset}.mp4"
            cmd = ffmpeg_command(out, width=w, height=h, fps=args.fps, audio=None,
                                 duration=args.frames / args.fps, encoding=Encoding(preset=preset, threads=1))
            c0, w0 = children_cpu(), time.perf_counter()
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
            assert proc.stdin is not None
            for k in range(args.frames):
                proc.stdin.write(memoryview(sample[k % len(sample)]).cast("B"))
            proc.stdin.close()
            proc.wait()
            wall, cpu = time.perf_counter() - w0, children_cpu() - c0
            print(f"{'x264 ' + preset:<18}{'':>10}{args.frames / wall:>10.1f}{args.frames / cpu:>10.1f}"
                  f"{args.frames / cpu / target:>11.2f}x")

        print(f"\n{'end-to-end':<18}{'threads':>10}{'wall f/s':>10}{'x real':>10}{'vs target':>12}")
        for threads in (1, 2):
            w0 = time.perf_counter()
            v = render_video(Path(tmp) / "clip.mp4", traits=traits, audio=mix, audio_path=mix_path,
                             stems=stems, beats=traits.beats, style="flow", treatment="pulse", size=size,
                             fps=args.fps, max_frames=args.frames, encoding=Encoding(threads=threads))
            wall = time.perf_counter() - w0
            print(f"{'pulse/flow':<18}{threads:>10}{v.n_frames / wall:>10.1f}"
                  f"{v.n_frames / args.fps / wall:>10.2f}{v.n_frames / wall / target:>11.2f}x")
    print(f"\nload average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
