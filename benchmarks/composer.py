"""Benchmark of the composer engine: render time, real-time factor, peak memory.

Renders a 4-stem, 2-minute take (the issue's reference case) for a few genres and
prints, per take: composition time, FluidSynth render time, mastering time, total,
real-time factor (audio seconds per CPU second of this process) and peak memory (traced numpy/Python
allocations and the process's peak RSS). The baseline, measured in the same run, is
FluidSynth alone playing the same notes into a single synthesizer with effects off: the
floor the engine cannot go under with this SoundFont.

Run: ``.venv/bin/python benchmarks/composer.py [--seconds 120] [--genres lofi,house,techno]``.
Pin it to one core for the one-core figure: ``taskset -c 0 .venv/bin/python benchmarks/composer.py``.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc

from music.engines import Request
from music.engines.composer import ComposerEngine
from music.engines.composer.engine import master
from music.engines.composer.render import Voice, render_part
from music.soundfont import find_soundfont


def _bare_fluidsynth(plan, sf2, sr: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds for FluidSynth alone (no effects) to play every part."""
    eng = ComposerEngine()
    n = round(plan.beats * 60 / plan.bpm * sr)
    t = time.process_time()
    for name in plan.stems:
        v = eng._voice(plan, name)
        render_part(plan.notes[name], voice=Voice(v.channel, v.bank, v.program, reverb=0, chorus=0),
                    soundfont=sf2, sr=sr, bpm=plan.bpm, n_samples=n)
    return time.process_time() - t


def run(genre: str, seconds: float, sr: int = 44100) -> dict[str, float]:
    eng = ComposerEngine()
    sf2 = find_soundfont()
    req = Request(seconds=seconds, seed=1, params={"genre": genre})
    eng.generate(Request(seed=0, params={"genre": genre, "bars": 1}))  # warm caches (SoundFont hash, imports)
    # CPU time of this process, not wall time: the machine is shared, and wall time would
    # count other jobs' work. Memory is traced in a separate pass (tracemalloc slows
    # every allocation, so it must not sit inside the timed one).
    t0 = time.process_time()
    plan = eng.plan(req)
    t1 = time.process_time()
    rendered = eng.render(plan, sr=sr, soundfont=sf2)
    t2 = time.process_time()
    mix = master(rendered.mix, lufs=-14.0, true_peak_dbtp=-1.0, loop=plan.loop)
    t3 = time.process_time()
    tracemalloc.start()
    master(eng.render(eng.plan(req), sr=sr, soundfont=sf2).mix, lufs=-14.0, true_peak_dbtp=-1.0,
           loop=plan.loop)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    baseline = _bare_fluidsynth(plan, sf2, sr)
    audio_s = mix.duration
    total = t3 - t0
    return {"audio_s": audio_s, "compose_s": t1 - t0, "render_s": t2 - t1, "master_s": t3 - t2,
            "total_s": total, "rtf": audio_s / total, "bare_fluidsynth_s": baseline,
            "bare_fluidsynth_rtf": audio_s / baseline, "traced_peak_mb": traced_peak / 2**20,
            "stems": len(rendered.stems)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--genres", default="lofi,house,techno")
    args = ap.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"composer benchmark: {args.seconds:g} s takes, 4 stems, 44.1 kHz stereo, "
          f"{cores} core(s) available")
    head = (f"{'genre':10s} {'audio s':>8s} {'compose':>8s} {'render':>8s} {'master':>8s} {'total':>8s} "
            f"{'RTF':>7s} {'bare FS':>8s} {'bare RTF':>8s} {'vs bare':>8s} {'traced MB':>9s}")
    print(head)
    rows = []
    for g in args.genres.split(","):
        r = run(g.strip(), args.seconds)
        rows.append(r)
        print(f"{g:10s} {r['audio_s']:8.1f} {r['compose_s']:8.2f} {r['render_s']:8.2f} {r['master_s']:8.2f} "
              f"{r['total_s']:8.2f} {r['rtf']:6.1f}x {r['bare_fluidsynth_s']:8.2f} "
              f"{r['bare_fluidsynth_rtf']:7.1f}x "
              f"{r['total_s'] / r['bare_fluidsynth_s']:7.2f}x {r['traced_peak_mb']:9.1f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mean_rtf = sum(r["rtf"] for r in rows) / len(rows)
    print(f"mean real-time factor {mean_rtf:.1f}x (target 100x); peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
