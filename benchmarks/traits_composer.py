# ruff: noqa: E501  (prompt lists and report lines read best whole)
"""Do the composer's takes measure as declared? And do calm prompts come out calm?

1. **Declared vs measured**: every genre of the composer engine × 5 tempi spread over the
   genre's range × 2 seeds (90 takes of ``--seconds`` s, 22.05 kHz): the share whose measured
   tempo is within ±1 % of the declared one (same octave) and whose measured key equals the
   declared key (pitch class and mode), with every miss listed.
2. **Mood**: takes from calm / chill / dusty prompts (``--mood-takes`` of them, seeded, over
   the genres those words pick), and the share measured ``tense`` (the target is ≤ 20 %),
   next to energetic prompts for contrast.

Usage::

    nice -n 19 .venv/bin/python benchmarks/traits_composer.py [--seconds 16] [--mood-takes 100] [--skip-grid]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CALM_PROMPTS = ("dusty calm lofi", "chill lofi beat", "calm ambient", "chill trap", "dusty and calm lofi hip hop",
                "calm piano ballad", "chill synthwave", "dreamy chill ambient", "calm house", "chill reggaeton")
ENERGETIC_PROMPTS = ("aggressive dark techno", "energetic drum and bass", "hard trap", "driving house")


def grid(genre_range: tuple[float, float]) -> list[float]:
    lo, hi = genre_range
    return [round(lo + (hi - lo) * f) for f in (0.0, 0.25, 0.5, 0.75, 1.0)]


def declared_vs_measured(seconds: float) -> list[tuple[str, float, str, float | None, str, bool, bool]]:
    from music.engines import Request, get_engine
    from music.engines.composer.genres import GENRES
    from music.traits import extract
    from music.traits.keys import parse_key

    engine = get_engine("composer")
    rows = []
    for name, g in GENRES.items():
        for bpm in grid(g.bpm_range):
            for seed in (1, 2):
                take = engine.generate(Request(seed=seed, seconds=seconds,
                                               params={"genre": name, "bpm": bpm, "sample_rate": 22050}))
                tr = extract(take.mix)
                t_ok = tr.tempo_bpm is not None and abs(tr.tempo_bpm / take.bpm - 1) <= 0.01
                k_ok = parse_key(tr.key).same_as(parse_key(take.key))
                rows.append((f"{name}-{bpm}-s{seed}", float(take.bpm), take.key, tr.tempo_bpm, tr.key, t_ok, k_ok))
    return rows


def moods(prompts: tuple[str, ...], n: int, seconds: float) -> Counter[str]:
    from music.engines import Request, get_engine
    from music.traits import extract

    engine = get_engine("composer")
    out: Counter[str] = Counter()
    for i in range(n):
        take = engine.generate(Request(seed=100 + i, seconds=seconds, prompt=prompts[i % len(prompts)],
                                       params={"sample_rate": 22050}))
        out[extract(take.mix).mood] += 1
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=16.0)
    ap.add_argument("--mood-takes", type=int, default=100)
    ap.add_argument("--skip-grid", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if not args.skip_grid:
        rows = declared_vs_measured(args.seconds)
        both = [r for r in rows if r[5] and r[6]]
        print(f"declared vs measured, {len(rows)} takes of {args.seconds:g} s: tempo ±1 % "
              f"{sum(r[5] for r in rows) / len(rows):.3f}, key {sum(r[6] for r in rows) / len(rows):.3f}, "
              f"both {len(both) / len(rows):.3f}")
        for name, bpm, key, est_bpm, est_key, t_ok, k_ok in rows:
            if not (t_ok and k_ok):
                print(f"  miss {name:<20} {bpm:5.0f} {key:<9} → {est_bpm or 0:6.1f} {est_key}")
    if args.mood_takes:
        calm = moods(CALM_PROMPTS, args.mood_takes, args.seconds)
        n = sum(calm.values())
        print(f"calm/chill/dusty prompts, {n} takes: {dict(calm)}; tense {calm['tense'] / n:.3f} (target ≤ 0.20)")
        hot = moods(ENERGETIC_PROMPTS, max(8, args.mood_takes // 5), args.seconds)
        print(f"energetic prompts, {sum(hot.values())} takes: {dict(hot)}")
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
