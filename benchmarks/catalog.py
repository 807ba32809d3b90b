"""A label's catalog released from a folder: local processes against Ray, 1 and 2 workers.

Writes a synthetic catalog of N tracks (default 200, 30–60 s each, 22.05 kHz stereo FLAC masters
with tags, two stems each in the DAW layouts ``songmint init`` matches), runs ``songmint init``
on it, then releases it with ``--network memory --no-preview`` four times, each with a fresh
cache and output folder:

- ``local -j 1`` (the baseline: today's behaviour, in one process), ``local -j 2``,
- ``ray -j 1`` and ``ray -j 2`` (a local Ray instance started by the release).

For each: wall time, tracks per minute, speed-up and scaling efficiency against ``local -j 1``,
Ray's overhead against local at the same worker count, peak memory per worker (the largest
``ru_maxrss`` a task's worker reported) and the per-stage split of the release's own timings
(``manifest.json`` → ``timings_s``). Then an estimate for 20 000 tracks of 3.5 minutes on a
32-core cluster from the measured per-track CPU cost (see ``docs/catalog.md`` for the method).

Usage::

    nice -n 19 .venv/bin/python benchmarks/catalog.py [--tracks 200] [--min-seconds 30]
        [--max-seconds 60] [--configs local:1,local:2,ray:1,ray:2] [--cover-size 512] [--keep DIR]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PARALLEL_STAGES = ("generate", "traits", "cover", "encode")
"""Stages that run through the executor; the rest (metadata, store, chain) stay on the driver."""


def songmint(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "songmint.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)


def make(folder: Path, n: int, lo: float, hi: float) -> tuple[Path, float]:
    from tests.catalog_fixture import make_catalog

    lengths = [lo + (hi - lo) * ((i * 7919) % 101) / 100 for i in range(n)]
    t = time.perf_counter()
    make_catalog(folder, n, seconds=lengths)
    print(
        f"catalog: {n} tracks, {sum(lengths) / 60:.1f} min of audio ({lo:g}–{hi:g} s), "
        f"written in {time.perf_counter() - t:.1f} s",
        flush=True,
    )
    spec = folder / "catalog.toml"
    r = songmint("init", str(spec), "--from", str(folder / "masters"), "--stems-from", str(folder / "stems"))
    if r.returncode != 0:
        raise SystemExit(f"songmint init failed:\n{r.stderr}")
    return spec, sum(lengths)


def release(spec: Path, work: Path, executor: str, workers: int, cover_size: int) -> dict[str, object]:
    out, cache = work / f"out-{executor}-{workers}", work / f"cache-{executor}-{workers}"
    for p in (out, cache):
        shutil.rmtree(p, ignore_errors=True)
    env = {**os.environ, "SONGMINT_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = songmint(
        "-q",
        "release",
        str(spec),
        "--network",
        "memory",
        "--no-preview",
        "--out",
        str(out),
        "--cover-size",
        str(cover_size),
        "--executor",
        executor,
        "-j",
        str(workers),
        env=env,
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of the release and every process it waited for (its workers; ffmpeg encoders): a measure
    # that contention from other users of the machine does not inflate the way it inflates wall time
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode != 0:
        raise SystemExit(f"release {executor} -j {workers} failed:\n{r.stderr[-3000:]}")
    m = json.loads((out / "manifest.json").read_text())
    return {
        "wall": wall,
        "cpu": cpu,
        "timings": m.get("timings_s", {}),
        "executor": m.get("executor", {}),
        "root": m["root_cid"],
        "tokens": len(m["tokens"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tracks", type=int, default=200)
    ap.add_argument("--min-seconds", type=float, default=30.0)
    ap.add_argument("--max-seconds", type=float, default=60.0)
    ap.add_argument("--configs", default="local:1,local:2,ray:1,ray:2")
    ap.add_argument("--cover-size", type=int, default=512)
    ap.add_argument("--keep", type=Path, default=None, help="Work in this folder and keep it.")
    args = ap.parse_args()
    configs = [(c.split(":")[0], int(c.split(":")[1])) for c in args.configs.split(",")]
    work = args.keep or Path(tempfile.mkdtemp(prefix="songmint-catalog-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        spec, audio_s = make(work / "label", args.tracks, args.min_seconds, args.max_seconds)
        runs = {}
        for ex, w in configs:
            print(f"release: {ex} -j {w} …", flush=True)
            runs[(ex, w)] = release(spec, work, ex, w, args.cover_size)
        report(runs, args.tracks, audio_s, os.cpu_count() or 1)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def report(runs: dict[tuple[str, int], dict[str, object]], n: int, audio_s: float, cores: int) -> None:
    base = runs.get(("local", 1)) or next(iter(runs.values()))
    roots = {r["root"] for r in runs.values()}
    print(
        f"\n{n} tracks, {audio_s / 60:.1f} min of audio, {cores} cores; root CID identical in every run: "
        f"{'yes' if len(roots) == 1 else 'NO: ' + ', '.join(map(str, roots))}"
    )
    head = (
        f"{'executor':<9} {'workers':>7} {'wall s':>8} {'tracks/min':>10} {'speed-up':>8} {'efficiency':>10} "
        f"{'vs local':>8} {'peak MiB/worker':>15} {'CPU s':>7} {'task CPU s':>10} {'vs local':>8}"
    )
    print(head)
    print("-" * len(head))
    for (ex, w), r in runs.items():
        speed = float(base["wall"]) / float(r["wall"])
        local = runs.get(("local", w))
        overhead = f"{float(r['wall']) / float(local['wall']) - 1:+.0%}" if local and ex != "local" else "–"
        peak = (r["executor"] or {}).get("peak_rss_mb")  # type: ignore[union-attr]
        task_cpu = float((r["executor"] or {}).get("task_cpu_s", 0.0))  # type: ignore[union-attr]
        local_cpu = float((local["executor"] or {}).get("task_cpu_s", 0.0)) if local else 0.0  # type: ignore[union-attr]
        cpu_over = f"{task_cpu / local_cpu - 1:+.0%}" if local_cpu and ex != "local" else "–"
        tree = (
            f"{float(r['cpu']):>7.1f}" if ex == "local" else f"{'–':>7}"
        )  # Ray's workers are not our children
        print(
            f"{ex:<9} {w:>7} {float(r['wall']):>8.1f} {n / float(r['wall']) * 60:>10.1f} {speed:>7.2f}× "
            f"{speed / w:>10.0%} {overhead:>8} {peak if peak is not None else '–':>15} "
            f"{tree} {task_cpu:>10.1f} {cpu_over:>8}"
        )
    print("\nper-stage split (s, from manifest timings_s):")
    stages = ["generate", "traits", "cover", "encode", "metadata", "store", "chain"]
    print(f"{'run':<10}" + "".join(f"{s:>10}" for s in stages) + f"{'total':>10}")
    for (ex, w), r in runs.items():
        t = r["timings"]  # type: ignore[assignment]
        print(
            f"{ex + ':' + str(w):<10}"
            + "".join(f"{float(t.get(s, 0)):>10.1f}" for s in stages)  # type: ignore[union-attr]
            + f"{float(t.get('total', 0)):>10.1f}"
        )  # type: ignore[union-attr]
    estimate(base, runs, n, audio_s)


def estimate(
    base: dict[str, object], runs: dict[tuple[str, int], dict[str, object]], n: int, audio_s: float
) -> None:
    """20 000 tracks × 3.5 min on 32 cores, from CPU seconds (the machine this runs on is shared).

    Amdahl's law over the one-worker local run: the *tasks'* CPU (take, traits, cover, encode: what
    the executor spreads) and the *driver's* CPU (the rest of the process tree: reading and writing
    the cache, hashing audio, previews, metadata, CAR, chain; serial), both per second of audio
    and scaled to 3.5-minute songs. Tasks divide over the cores at the efficiency
    task-CPU(1 worker) / task-CPU(2 workers) of Ray (local where Ray did not run); the driver adds.
    """
    tree = float(base["cpu"])
    task = float(base["executor"].get("task_cpu_s", 0.0))  # type: ignore[union-attr]
    driver = max(0.0, tree - task)
    two = runs.get(("ray", 2)) or runs.get(("local", 2))
    one = runs.get(("ray", 1)) or base
    t1 = float(one["executor"].get("task_cpu_s", 0.0))  # type: ignore[union-attr]
    t2 = float(two["executor"].get("task_cpu_s", 0.0)) if two else 0.0  # type: ignore[union-attr]
    eff = min(1.0, t1 / t2) if t1 and t2 else 1.0
    tracks, song_s, cores = 20_000, 210.0, 32
    scale = tracks * song_s / audio_s
    par_h, ser_h = task * scale / 3600, driver * scale / 3600
    wall_h = par_h / (cores * eff) + ser_h
    print(
        f"\nestimate, {tracks} tracks × {song_s / 60:.1f} min on {cores} cores: "
        f"tasks {task / audio_s * 60:.2f} CPU-s per audio minute → {par_h:.0f} CPU-h, "
        f"at {eff:.0%} efficiency {par_h / (cores * eff):.1f} h; "
        f"the driver {driver / audio_s * 60:.2f} CPU-s per audio minute → {ser_h:.1f} h serial; "
        f"≈ {wall_h:.1f} h wall (one worker on one machine: {par_h + ser_h:.0f} h); the driver caps the "
        f"speed-up at {(par_h + ser_h) / ser_h if ser_h else float('inf'):.1f}×"
    )


if __name__ == "__main__":
    main()
