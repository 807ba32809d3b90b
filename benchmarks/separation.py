"""Separation quality on composer takes, whose true stems are known: SDR of each separated stem.

Run: ``.venv/bin/python benchmarks/separation.py [--model htdemucs|PATH] [--bars 8] [--genres ...]``

The real HTDemucs weights come from ``songmint models pull htdemucs`` (≈170 MB, MIT); ``--model``
takes any folder of the same layout (e.g. a tiny random model, to check the harness).

For each genre (one seed each) the composer renders a take (drums, bass, chords, lead; the mix is
their sum before mastering) and HTDemucs separates the mix. Compared, per take: drums with drums,
bass with bass, and the composer's chords + lead with HTDemucs' other + vocals ("melodic").
SDR = 10·log10(Σ s² / Σ (s − ŝ)²) over the whole take (the "new" SDR of the MDX challenge; no
scale or filter allowance). The baseline in the same run is the mix itself as every stem's
estimate (the input SDR): the improvement over it (SDRi) is what separation adds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")

GENRES = ("house", "lofi", "techno", "synthwave", "ballad", "reggaeton")


def sdr(ref: np.ndarray, est: np.ndarray) -> float:
    num = float(np.sum(ref.astype(np.float64) ** 2))
    den = float(np.sum((ref.astype(np.float64) - est) ** 2))
    return 10 * np.log10(max(num, 1e-12) / max(den, 1e-12))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="htdemucs (default, pulled) or a folder")
    ap.add_argument("--bars", type=int, default=8)
    ap.add_argument("--genres", default=",".join(GENRES))
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    from music.audio import Audio
    from music.engines import Request, get_engine
    from music.errors import ModelNotFoundError
    from music.separation import load_separator, separate

    try:
        sep = load_separator(args.model)
    except ModelNotFoundError as exc:
        sys.exit(f"{exc}")
    composer = get_engine("composer")
    rows: dict[str, list[tuple[float, float]]] = {"drums": [], "bass": [], "melodic": []}
    cpu = audio_s = 0.0
    print(f"model {sep.name} from {sep.path}")
    print(f"{'genre':<10} {'stem':<8} {'SDR dB':>7} {'mix as estimate':>16} {'SDRi':>6}")
    for seed, genre in enumerate(args.genres.split(","), start=1):
        take = composer.generate(Request(prompt=genre, seed=seed, params={"bars": args.bars}))
        truth = {k: v.samples for k, v in take.stems.items()}
        mix = Audio(np.sum(list(truth.values()), axis=0).astype(np.float32), take.mix.sr)
        t0 = time.process_time()
        est = separate(mix, separator=sep)
        cpu += time.process_time() - t0
        audio_s += mix.duration
        pairs = {
            "drums": (truth.get("drums"), est["drums"].samples),
            "bass": (truth.get("bass"), est["bass"].samples),
            "melodic": (sum(truth[k] for k in ("chords", "lead") if k in truth),
                        est["other"].samples + est["vocals"].samples),
        }
        for name, (ref, guess) in pairs.items():
            if ref is None or not np.any(ref):
                continue
            got, base = sdr(ref, guess), sdr(ref, mix.samples)
            rows[name].append((got, base))
            print(f"{genre:<10} {name:<8} {got:>7.2f} {base:>16.2f} {got - base:>6.2f}")
    print()
    for name, vals in rows.items():
        if vals:
            g, b = np.mean(vals, axis=0)
            print(f"{name:<8} mean SDR {g:.2f} dB; mix as estimate {b:.2f} dB; SDRi {g - b:+.2f} dB")
    print(f"speed: {cpu / audio_s:.2f} CPU s per audio s (one thread)")


if __name__ == "__main__":
    main()
