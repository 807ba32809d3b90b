"""Transcription accuracy and speed on composer takes, whose true MIDI is known.

Run: ``.venv/bin/python benchmarks/transcription.py [--bars 8] [--genres house,lofi,...]``

For each genre (one seed each) the composer renders a take; each pitched stem (bass, lead, chords)
is transcribed with Basic Pitch (:mod:`music.transcription`, its per-stem settings) and compared
with the stem's own MIDI: note-onset F1 at 50 ms (``mir_eval.transcription.onset_precision_recall_f1``)
and note F1 with pitch (onset 50 ms, pitch within 50 cents, offsets ignored). The baseline in the
same run is the reference decoder settings (onset 0.5, frame 0.3, Melodia trick, polyphonic) on
the same posteriorgrams. Speed: CPU seconds per audio second of the whole transcription (model
and decoding), one onnxruntime thread.

Targets (issue 24): onset F1 ≥ 0.7 on bass and lead, ≥ 0.5 on chords; ≤ 0.2 CPU s per audio s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")

GENRES = ("house", "lofi", "techno", "trap", "dnb", "synthwave", "ballad", "reggaeton", "ambient")


def scores(ref: list[tuple[float, float, int]], est: list) -> tuple[float, float]:  # type: ignore[type-arg]
    import mir_eval

    hz = lambda p: 440.0 * 2 ** ((np.asarray(p, float) - 69) / 12)  # noqa: E731
    ri = np.array([[a, b] for a, b, _ in ref]).reshape(-1, 2)
    ei = np.array([[n.start, max(n.end, n.start + 1e-3)] for n in est]).reshape(-1, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onset = mir_eval.transcription.onset_precision_recall_f1(ri, ei, onset_tolerance=0.05)[2]
        note = mir_eval.transcription.precision_recall_f1_overlap(
            ri, hz([p for *_, p in ref]), ei, hz([n.pitch for n in est]), offset_ratio=None)[2]
    return float(onset), float(note)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, default=8)
    ap.add_argument("--genres", default=",".join(GENRES))
    args = ap.parse_args()

    from music.engines import Request, get_engine
    from music.transcription import STEM_SETTINGS, Transcriber
    from tests.midi_reader import midi_notes

    composer = get_engine("composer")
    ours: dict[str, list[tuple[float, float]]] = {"bass": [], "lead": [], "chords": []}
    base: dict[str, list[tuple[float, float]]] = {k: [] for k in ours}
    cpu = audio_s = 0.0
    reference = Transcriber()
    print(f"{'genre':<10} {'stem':<7} {'notes':>5}  {'onset F1':>8} {'note F1':>8}  "
          f"{'ref-settings onset F1':>21}")
    for seed, genre in enumerate(args.genres.split(","), start=1):
        take = composer.generate(Request(prompt=genre, seed=seed, params={"bars": args.bars}))
        for stem in ours:
            if stem not in take.stems:
                continue
            ref = midi_notes(take.midi[stem])
            opts = dict(STEM_SETTINGS[stem])
            mono = opts.pop("monophonic", False)
            tr = Transcriber(**opts)
            t0 = time.process_time()
            est = tr.transcribe(take.stems[stem], monophonic=mono)
            cpu += time.process_time() - t0
            audio_s += take.stems[stem].duration
            o, n = scores(ref, est)
            ob, nb = scores(ref, reference.transcribe(take.stems[stem]))
            ours[stem].append((o, n))
            base[stem].append((ob, nb))
            print(f"{genre:<10} {stem:<7} {len(ref):>5}  {o:>8.3f} {n:>8.3f}  {ob:>21.3f}")
    print()
    targets = {"bass": 0.7, "lead": 0.7, "chords": 0.5}
    for stem, rows in ours.items():
        o = float(np.mean([r[0] for r in rows]))
        n = float(np.mean([r[1] for r in rows]))
        ob = float(np.mean([r[0] for r in base[stem]]))
        ok = "meets" if o >= targets[stem] else "MISSES"
        print(f"{stem:<7} mean onset F1 {o:.3f} (note F1 {n:.3f}); reference settings {ob:.3f} "
              f"(x{o / max(ob, 1e-9):.2f}); target {targets[stem]:.1f}: {ok}")
    rate = cpu / audio_s
    print(f"speed: {rate:.3f} CPU s per audio s ({1 / rate:.0f}x real time); target 0.2: "
          f"{'meets' if rate <= 0.2 else 'MISSES'}")


if __name__ == "__main__":
    main()
