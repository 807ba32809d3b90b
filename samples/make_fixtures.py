"""Write the tiny synthetic audio fixtures the demo uses (deterministic, no downloads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from music.audio import Audio, save

OUT = Path(__file__).parent / "fixtures"


def chord(sr: int = 44_100, seconds: float = 4.0) -> Audio:
    """A decaying A-minor triad with a little stereo spread."""
    t = np.arange(int(sr * seconds)) / sr
    env = np.exp(-t * 0.8)
    left = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 261.63, 329.63))
    right = sum(np.sin(2 * np.pi * f * 1.002 * t) for f in (220.0, 261.63, 329.63))
    return Audio(np.stack([left, right]).astype(np.float32) * env * 0.2, sr)


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    target = OUT / "chord.flac"
    if not target.exists():
        save(chord(), target)
    print(f"fixtures in {OUT}")
