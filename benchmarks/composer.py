"""Benchmark of the composer engine: render time, real-time factor, peak memory.

Renders a 4-stem, 2-minute take (the issue's reference case) for a few genres and
prints, per take: composition time, render time (FluidSynth, reverb, stem balance),
mastering time, total, real-time factor (audio seconds per CPU second of this process)
and peak memory (traced numpy/Python allocations and the process's peak RSS). Each take is
timed ``--repeat`` times (default 3) and the median is reported, with the mean over the
genres of the best takes: on a shared machine one take can run 20-40 % slow when a
neighbour is busy.

Baselines in the same run:

- ``before``: the engine at an earlier git revision (``--before``, default the last one
  before the note cache), run in a child process from a ``git archive`` of that
  revision's ``music/`` package, on the same takes: the speed-up is measured, not
  remembered. ``--before ''`` skips it.
- ``live FS``: FluidSynth playing every note of the same take in real time, one
  synthesizer per part, effects off (``render_part_live`` in ``tests/fluidsynth_live.py``):
  the floor of any renderer that streams the notes through FluidSynth.

Run: ``.venv/bin/python benchmarks/composer.py [--seconds 120] [--genres lofi,house,techno]``.
Pin it to one core for the one-core figure: ``taskset -c 0 .venv/bin/python benchmarks/composer.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
import tracemalloc
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "adc5d52"
"""The last revision of the composer with FluidSynth streaming every note, its own reverb
and chorus per part, and the scipy mastering chain."""


def run(genre: str, seconds: float, sr: int = 44100, *, baselines: bool = True,
        repeat: int = 3) -> dict[str, float]:
    """Time one take ``repeat`` times (the median's stages, the best total too); with
    ``baselines``, also FluidSynth alone playing its notes live."""
    from music.engines import Request
    from music.engines.composer import ComposerEngine
    from music.engines.composer.engine import master
    from music.soundfont import find_soundfont

    eng = ComposerEngine()
    sf2 = find_soundfont()
    req = Request(seconds=seconds, seed=1, params={"genre": genre})
    # Warm caches (SoundFont hash, imports, compiled kernels) on a one-bar take.
    eng.generate(Request(seed=0, params={"genre": genre, "bars": 1}))
    # CPU time of this process, not wall time: the machine is shared, and wall time would
    # count other jobs' work. Memory is traced in a separate pass (tracemalloc slows
    # every allocation, so it must not sit inside the timed one).
    runs = []
    for _ in range(repeat):
        t0 = time.process_time()
        plan = eng.plan(req)
        t1 = time.process_time()
        rendered = eng.render(plan, sr=sr, soundfont=sf2)
        t2 = time.process_time()
        mix = master(rendered.mix, lufs=-14.0, true_peak_dbtp=-1.0, loop=plan.loop)
        t3 = time.process_time()
        runs.append((t3 - t0, t1 - t0, t2 - t1, t3 - t2))
    # The median take's stages; the best total as well: on a shared machine the slow takes
    # are the neighbours' doing, the fastest the least disturbed.
    total, compose_s, render_s, master_s = sorted(runs)[len(runs) // 2]
    best = min(r[0] for r in runs)
    tracemalloc.start()
    master(eng.render(eng.plan(req), sr=sr, soundfont=sf2).mix, lufs=-14.0, true_peak_dbtp=-1.0,
           loop=plan.loop)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    audio_s = mix.duration
    out = {"audio_s": audio_s, "compose_s": compose_s, "render_s": render_s, "master_s": master_s,
           "total_s": total, "rtf": audio_s / total, "best_rtf": audio_s / best,
           "traced_peak_mb": traced_peak / 2**20, "stems": len(rendered.stems)}
    if baselines:
        from music.engines.composer.render import Voice

        if str(ROOT) not in sys.path:  # the live reference lives with the tests (not with `music`)
            sys.path.append(str(ROOT))
        from tests.fluidsynth_live import render_part_live

        n = round(plan.beats * 60 / plan.bpm * sr)
        t = time.process_time()
        for name in plan.stems:
            v = eng._voice(plan, name)
            render_part_live(plan.notes[name], voice=Voice(v.channel, v.bank, v.program, reverb=0, chorus=0),
                             soundfont=sf2, sr=sr, bpm=plan.bpm, n_samples=n)
        out["live_fs_s"] = time.process_time() - t
    return out


def _before(rev: str, genres: list[str], seconds: float, repeat: int) -> dict[str, dict[str, float]]:
    """Run this benchmark's timing on the engine at ``rev`` in a child process."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "music"], check=True,
                             capture_output=True).stdout
    with tempfile.TemporaryDirectory(prefix="composer-before-") as tmp:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        env = {**os.environ, "PYTHONPATH": tmp}
        cmd = [sys.executable, __file__, "--child", "--seconds", str(seconds), "--genres", ",".join(genres),
               "--repeat", str(repeat)]
        res = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--genres", default="lofi,house,techno")
    ap.add_argument("--before", default=BEFORE, help="git revision to compare with ('' to skip)")
    ap.add_argument("--repeat", type=int, default=3, help="takes per genre: the median is reported")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    genres = [g.strip() for g in args.genres.split(",")]
    if args.child:  # timing only, for _before; `music` comes from PYTHONPATH
        import music

        assert Path(music.__file__).resolve().parents[1] != ROOT, "child imported the working tree"
        print(json.dumps({g: run(g, args.seconds, baselines=False, repeat=args.repeat) for g in genres}))
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"composer benchmark: {args.seconds:g} s takes, 4 stems, 44.1 kHz stereo, "
          f"{cores} core(s) available, load average {os.getloadavg()[0]:.1f}")
    before = _before(args.before, genres, args.seconds, args.repeat) if args.before else {}
    head = (f"{'genre':10s} {'audio s':>8s} {'compose':>8s} {'render':>8s} {'master':>8s} {'total':>8s} "
            f"{'RTF':>7s} {'before':>8s} {'bef. RTF':>8s} {'speed-up':>8s} {'live FS':>8s} {'its RTF':>8s} "
            f"{'traced MB':>9s}")
    print(head)
    rows = []
    for g in genres:
        r = run(g, args.seconds, repeat=args.repeat)
        rows.append(r)
        b = before.get(g)
        bcols = (f"{b['total_s']:8.2f} {b['rtf']:7.1f}x {b['total_s'] / r['total_s']:7.2f}x" if b
                 else f"{'-':>8s} {'-':>8s} {'-':>8s}")
        print(f"{g:10s} {r['audio_s']:8.1f} {r['compose_s']:8.2f} {r['render_s']:8.2f} {r['master_s']:8.2f} "
              f"{r['total_s']:8.2f} {r['rtf']:6.1f}x {bcols} {r['live_fs_s']:8.2f} "
              f"{r['audio_s'] / r['live_fs_s']:7.1f}x {r['traced_peak_mb']:9.1f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mean_rtf = sum(r["rtf"] for r in rows) / len(rows)
    best_rtf = sum(r["best_rtf"] for r in rows) / len(rows)
    line = (f"mean real-time factor {mean_rtf:.1f}x (target 100x; median of {args.repeat} takes each, "
            f"best takes {best_rtf:.1f}x)")
    if before:
        line += f", before {sum(before[g]['rtf'] for g in genres) / len(genres):.1f}x"
    print(f"{line}; peak RSS {rss:.0f} MB; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
