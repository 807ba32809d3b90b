"""Analysing a folder of the producer's tracks for the units language model, with an on-disk cache.

Beat tracking and descriptors are the slow part (about 0.1 s per minute of audio once librosa is warm,
plus decoding); their results are cached per file under the user cache directory, keyed by the sha256
of the file's bytes and the analysis version, so a corpus is analysed once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from music.audio import audio_files, load
from music.errors import EngineError, MusicError
from music.soundfont import sha256_file

from .segment import ANALYSIS_VERSION, segment


def default_cache_dir() -> Path:
    """``<user cache dir>/songmint/units`` (``$XDG_CACHE_HOME`` is honoured on Linux)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("songmint", appauthor=False)) / "units"


@dataclass(frozen=True)
class CorpusTrack:
    """One analysed corpus file: its name, content hash and per-segment descriptors ``(m, d)``."""

    name: str
    sha256: str
    features: np.ndarray
    cached: bool


@dataclass(frozen=True)
class Corpus:
    """The usable tracks of a corpus folder, and those skipped (with the reason)."""

    tracks: tuple[CorpusTrack, ...]
    skipped: tuple[tuple[str, str], ...]


def load_corpus(folder: str | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None) -> Corpus:
    """Analyse (or load from cache) every audio file in ``folder``.

    Files that are too short or have no beat are skipped and reported, not fatal.

    Raises
    ------
    EngineError
        When the folder does not exist or holds no usable audio.
    """
    root = Path(folder)
    if not root.is_dir():
        raise EngineError(f"corpus folder {root} does not exist")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    tracks: list[CorpusTrack] = []
    skipped: list[tuple[str, str]] = []
    for path in audio_files(root):
        digest = sha256_file(path)
        entry = cache / f"{ANALYSIS_VERSION}-{digest}.npz"
        if entry.is_file():
            try:
                with np.load(entry) as z:
                    tracks.append(CorpusTrack(path.name, digest, z["features"], True))
                continue
            except (OSError, ValueError, KeyError):
                pass  # a damaged cache entry: recompute it
        try:
            seg = segment(load(path), what=path.name)
        except MusicError as exc:
            skipped.append((path.name, str(exc)))
            continue
        _write_entry(entry, seg.features)
        tracks.append(CorpusTrack(path.name, digest, seg.features, False))
    if not tracks:
        why = f" ({len(skipped)} skipped: {skipped[0][1]})" if skipped else ""
        raise EngineError(f"corpus folder {root} holds no usable audio{why}")
    return Corpus(tuple(tracks), tuple(skipped))


def _write_entry(entry: Path, features: np.ndarray) -> None:
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}.part")
    with tmp.open("wb") as f:
        np.savez(f, features=features)
    os.replace(tmp, entry)
