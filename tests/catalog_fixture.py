"""A synthetic label catalog on disk: tagged masters and DAW-named stems (tests and benchmarks).

``make_catalog(folder, n)`` writes ``masters/NN Title.flac`` (tags by ffmpeg ``-metadata``:
title, artist, ISRC, composer, producer, genre, PRICE, track number) and, in ``stems/``, each
master's stems in the two layouts ``songmint init`` matches: even tracks as a folder
``<master name> Stems/01 Drums.wav``, odd tracks as loose files ``<master name> - Drums.wav``.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from music.audio import Audio, ffmpeg_binary, save
from tests import synth

ROOTS = ((57, 60, 64), (50, 53, 57), (55, 59, 62), (52, 55, 59), (53, 57, 60), (48, 52, 55))


@dataclass(frozen=True)
class CatalogTrack:
    master: Path
    title: str
    artist: str
    isrc: str
    stems: tuple[Path, ...]


def _song(i: int, seconds: float, sr: int) -> tuple[Audio, Audio]:
    bpm = 96 + 6 * (i % 8)
    bars = max(1, round(seconds * bpm / 240))
    drums = synth.drums(bpm=bpm, bars=bars, sr=sr, seed=i)
    n = int(seconds * sr)
    x = np.zeros((2, n), dtype=np.float32)
    x[:, : min(n, drums.n)] = drums.samples[:, :n]
    drums = Audio(x, sr)
    chords = synth.chord(ROOTS[i % len(ROOTS)], seconds=seconds, sr=sr)
    return drums, chords


def make_catalog(
    folder: Path,
    n: int,
    *,
    seconds: float | Sequence[float] = 1.5,
    sr: int = 22_050,
    artist: str = "The Fixtures",
) -> list[CatalogTrack]:
    """Write ``n`` tagged masters and their stems under ``folder`` (see the module docstring).

    ``seconds`` is every track's length, or one length per track.
    """
    lengths = [float(seconds)] * n if isinstance(seconds, int | float) else [float(s) for s in seconds]
    if len(lengths) != n:
        raise ValueError("one length per track")
    masters, stems = folder / "masters", folder / "stems"
    masters.mkdir(parents=True, exist_ok=True)
    stems.mkdir(parents=True, exist_ok=True)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            title = f"Fixture Song {i + 1}"
            base = f"{i + 1:02d} {title}"
            drums, chords = _song(i, lengths[i], sr)
            mix = synth.mix(drums, chords)
            wav = save(mix, Path(tmp) / f"{i}.wav")
            isrc = f"QZ-FX1-26-{i + 1:05d}"
            meta = {
                "title": title,
                "artist": artist,
                "ISRC": isrc,
                "composer": "Ada Writer",
                "PRODUCER": "Pat Knobs",
                "genre": "house" if i % 2 else "ambient",
                "PRICE": f"0.0{1 + i % 9}",
                "track": str(i + 1),
            }
            master = masters / f"{base}.flac"
            args = [ffmpeg_binary(), "-v", "error", "-y", "-i", str(wav)]
            for k, v in meta.items():
                args += ["-metadata", f"{k}={v}"]
            subprocess.run([*args, str(master)], check=True)
            if i % 2 == 0:
                d = stems / f"{base} Stems"
                d.mkdir(exist_ok=True)
                files = (save(drums, d / "01 Drums.wav"), save(chords, d / "02 Chords.wav"))
            else:
                files = (
                    save(drums, stems / f"{base} - Drums.wav"),
                    save(chords, stems / f"{base} - Chords.wav"),
                )
            out.append(CatalogTrack(master, title, artist, isrc.replace("-", ""), files))
    return out
