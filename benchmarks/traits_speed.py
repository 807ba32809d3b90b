"""Speed of trait extraction: seconds per minute of audio for each trait group.

Measures, on one core (BLAS/OpenMP threads pinned to 1), a 3-minute stereo 44.1 kHz
song rendered through FluidSynth (a pop arrangement from ``traits_accuracy``):

- the first call in a fresh interpreter (imports + any JIT), in a subprocess;
- warm calls of each trait group, as seconds per minute of audio, and the whole
  ``extract`` as a real-time factor (target ≥ 60×);
- a baseline in the same run: librosa's own path for the same facts (``beat_track``,
  ``feature.tempo``, ``chroma_cqt``, HPSS, spectral centroid) plus ``music.loudness.measure``;
- with ``--against REV`` (default ``main``), the same ``extract()`` timing of the ``music``
  package exported from git revision REV, in a subprocess of its own next to one of this
  tree's, on the same file: the ratio says how much slower (or faster) this revision is.

Usage::

    .venv/bin/python benchmarks/traits_speed.py [--minutes 3] [--repeats 3] [--no-baseline]
        [--against REV|none]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.timing import best_of  # noqa: E402
from music.audio import Audio, save  # noqa: E402


def song(minutes: float) -> Audio:
    """A pop arrangement rendered through FluidSynth, tiled to ``minutes``."""
    from benchmarks.traits_accuracy import FLUID_R3, Clip, render

    clip = render(Clip("speed", "pop", 9, "minor", 112.0, "FluidR3", seed=3), FLUID_R3)
    n = int(minutes * 60 * clip.sr)
    reps = -(-n // clip.n)
    x = np.tile(clip.samples, (1, reps))[:, :n]
    return Audio(np.ascontiguousarray(x), clip.sr)


FIRST_CALL = """
import os, sys, time
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
t0 = time.perf_counter()
from music.audio import load
from music.traits import extract
a = load(sys.argv[1])
t1 = time.perf_counter()
extract(a)
t2 = time.perf_counter()
extract(a)
t3 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {t3 - t2:.3f} {'librosa' in sys.modules} {'numba' in sys.modules}")
"""


TIME_EXTRACT = """
import os, sys, time
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
from music.audio import load
from music.traits import extract
a = load(sys.argv[1])
extract(a)
times = []
for _ in range(int(sys.argv[2])):
    t = time.process_time()
    extract(a)
    times.append(time.process_time() - t)
print(f"{min(times):.4f}")
"""


def against_revision(a: Audio, rev: str, repeats: int) -> tuple[float, float]:
    """Best CPU seconds of ``extract`` on ``a`` with this tree's and with ``rev``'s ``music`` package,
    each in a fresh subprocess (so neither import state nor caches are shared)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as tmp:
        path = save(a, Path(tmp) / "song.wav")
        old = Path(tmp) / "rev"
        old.mkdir()
        archive = subprocess.run(["git", "archive", rev, "music"], cwd=ROOT, capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        out = []
        for tree in (ROOT, old):
            res = subprocess.run([sys.executable, "-c", TIME_EXTRACT, str(path), str(repeats)],
                                 cwd=tree, env=dict(env, PYTHONPATH=str(tree)), capture_output=True,
                                 text=True, check=True)
            out.append(float(res.stdout.split()[-1]))
    return out[0], out[1]


def first_call(a: Audio) -> tuple[float, float, float, bool, bool]:
    with tempfile.TemporaryDirectory() as tmp:
        path = save(Audio(a.samples[:, : 10 * a.sr], a.sr), Path(tmp) / "ten.wav")
        out = subprocess.run([sys.executable, "-c", FIRST_CALL, str(path)], capture_output=True, text=True,
                             cwd=ROOT, check=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2]), out[3] == "True", out[4] == "True"


def baseline(a: Audio) -> dict[str, float]:
    """librosa's stock functions for the same facts, timed per group."""
    import librosa

    from music import loudness

    out: dict[str, float] = {}
    t = time.process_time()
    y = librosa.resample(a.mono(), orig_sr=a.sr, target_sr=22050, res_type="soxr_hq")
    out["resample"] = time.process_time() - t
    t = time.process_time()
    oenv = librosa.onset.onset_strength(y=y, sr=22050)
    librosa.feature.tempo(onset_envelope=oenv, sr=22050)
    librosa.beat.beat_track(onset_envelope=oenv, sr=22050)
    out["rhythm (onset_strength, tempo, beat_track)"] = time.process_time() - t
    t = time.process_time()
    librosa.feature.chroma_cqt(y=y, sr=22050)
    out["tonal (chroma_cqt)"] = time.process_time() - t
    t = time.process_time()
    s = np.abs(librosa.stft(y))
    librosa.decompose.hpss(s)
    librosa.feature.spectral_centroid(S=s, sr=22050)
    out["descriptors (stft, hpss, centroid)"] = time.process_time() - t
    t = time.process_time()
    loudness.measure(a)
    out["level (music.loudness.measure)"] = time.process_time() - t
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--against", default="main", help="git revision to compare extract() with ('none': skip)")
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    from music.traits import descriptors, frontend, level, mood, rhythm, tonal
    from music.traits.pipeline import extract

    a = song(args.minutes)
    minutes = a.duration / 60
    print(f"song: {a.duration:.0f} s, {a.channels} ch, {a.sr} Hz")

    imp, first, warm10, has_librosa, has_numba = first_call(a)
    print(f"fresh interpreter, 10 s clip: imports {imp:.2f} s, first extract {first:.2f} s, "
          f"second {warm10:.2f} s (librosa imported: {has_librosa}, numba imported: {has_numba})")

    extract(a)  # warm-up
    state: dict[str, object] = {}

    def g_resample() -> None:
        state["y"] = frontend.analysis_signal(a)

    def g_spectra() -> None:
        state["feat"] = frontend.features(state["y"])  # type: ignore[arg-type]

    def g_level() -> None:
        state["lev"] = level.measure(a)

    def g_chroma() -> None:
        state["frames"] = tonal.chroma_frames(state["feat"])  # type: ignore[arg-type]

    def g_rhythm() -> None:
        fr = state["frames"]
        state["rh"] = rhythm.analyse(state["feat"], harmony=(fr.harmony, fr.times))  # type: ignore[arg-type, attr-defined]

    def g_tonal() -> None:
        state["to"] = tonal.analyse(state["feat"], state["rh"].beats,  # type: ignore[arg-type, attr-defined]
                                    frames=state["frames"])  # type: ignore[arg-type]

    def g_desc() -> None:
        f = state["feat"]
        b = descriptors.brightness(descriptors.brightness_hz(f))  # type: ignore[arg-type]
        p = descriptors.percussiveness(f)  # type: ignore[arg-type]
        mood.arousal(loudness_lufs=-10, tempo_bpm=120, onset_rate_hz=3, percussiveness=p)
        mood.valence(major=True, key_confidence=0.5, tempo_bpm=120, brightness=b)

    groups = [("front end: downmix + resample", g_resample), ("front end: spectra + peaks", g_spectra),
              ("level (LUFS, LRA, true peak, DC)", g_level), ("pitch-class frames", g_chroma),
              ("rhythm", g_rhythm), ("tonal", g_tonal),
              ("descriptors + mood", g_desc)]
    print(f"\nsongmint, warm, CPU seconds on one core, best of {args.repeats}")
    total = 0.0
    for name, fn in groups:
        s = best_of(fn, args.repeats, clock=time.process_time)
        total += s
        print(f"  {name:<36} {s / minutes:7.3f} s per minute of audio")
    t = time.perf_counter()
    whole = best_of(lambda: extract(a), args.repeats, clock=time.process_time)
    wall = (time.perf_counter() - t) / args.repeats
    print(f"  (wall clock of extract(), mean: {wall / minutes:.3f} s/min; the machine's load inflates it)")
    print(f"  {'sum of groups':<36} {total / minutes:7.3f} s/min")
    rtf = a.duration / whole
    print(f"  {'extract() end to end':<36} {whole / minutes:7.3f} s/min  → {rtf:.0f}× real time")

    if not args.no_baseline:
        baseline(a)  # warm-up (numba JIT)
        b = baseline(a)
        print("\nbaseline: librosa stock functions + music.loudness.measure, warm, CPU seconds")
        for name, s in b.items():
            print(f"  {name:<44} {s / minutes:7.3f} s per minute of audio")
        bt = sum(b.values())
        print(f"  {'total':<44} {bt / minutes:7.3f} s/min  → {a.duration / bt:.0f}× real time")
        print(f"\nsongmint extract() is {bt / whole:.1f}× faster than the baseline")
    if args.against != "none":
        ours, theirs = against_revision(a, args.against, args.repeats)
        print(f"\nthis tree vs {args.against}: extract() {ours / minutes:.3f} vs {theirs / minutes:.3f} "
              f"CPU s/min → {ours / theirs:.2f}× the time of {args.against} (target ≤ 1.20)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
