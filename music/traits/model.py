"""The :class:`Traits` value and the key-notation helpers.

This module is light on purpose (standard library only): ``cover_art`` and the release
pipeline import :class:`Traits` without paying for numpy's signal stack or librosa.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from music.errors import MusicError

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
"""Tonic names, sharps only (``"F#"``, never ``"Gb"``)."""

MODES = ("major", "minor")
MOODS = ("happy", "tense", "sad", "calm")
"""Mood labels, one per valence/arousal quadrant (Russell's circumplex)."""

LOUDNESS_FLOOR_LUFS = -70.0
"""Loudness reported for silence: the BS.1770 absolute gate (nothing quieter is measured)."""
TRUE_PEAK_FLOOR_DBTP = -120.0
"""True peak reported for digital silence (−120 dBTP, below any real converter's noise floor)."""

TRAITS_VERSION = 2
"""Bumped whenever a method changes what a trait means."""


class TraitsError(MusicError):
    """Traits that cannot be computed or parsed (bad JSON, unknown key name, no audio)."""


# --------------------------------------------------------------------------- key notation


def key_name(tonic: int, mode: str) -> str:
    """``"<Tonic> <major|minor>"`` with sharps, e.g. ``key_name(6, "minor") == "F# minor"``."""
    if mode not in MODES:
        raise TraitsError(f"mode must be 'major' or 'minor', got {mode!r}")
    return f"{PITCH_CLASSES[tonic % 12]} {mode}"


def parse_key(key: str) -> tuple[int, str]:
    """``"F# minor"`` → ``(6, "minor")``. Flats (``"Gb minor"``) are accepted too."""
    flats = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#", "Cb": "B", "Fb": "E",
             "E#": "F", "B#": "C"}
    try:
        tonic, mode = key.split()
        tonic = flats.get(tonic, tonic)
        if mode not in MODES:
            raise ValueError(mode)
        return PITCH_CLASSES.index(tonic), mode
    except ValueError:
        raise TraitsError(f"not a key name: {key!r} (expected e.g. 'F# minor')") from None


def _fifths_number(tonic: int, mode: str) -> int:
    """Position 1–12 on the circle of fifths, counted from C major / A minor = 1."""
    major_tonic = tonic if mode == "major" else (tonic + 3) % 12
    return (major_tonic * 7) % 12 + 1


def camelot(key: str) -> str:
    """Camelot wheel code: ``"C major"`` → ``"8B"``, ``"A minor"`` → ``"8A"``, ``"F# minor"`` → ``"11A"``."""
    tonic, mode = parse_key(key)
    n = (_fifths_number(tonic, mode) + 6) % 12 + 1
    return f"{n}{'B' if mode == 'major' else 'A'}"


def open_key(key: str) -> str:
    """Open Key notation (Beatunes / Traktor): ``"C major"`` → ``"1d"``, ``"F# minor"`` → ``"4m"``."""
    tonic, mode = parse_key(key)
    return f"{_fifths_number(tonic, mode)}{'d' if mode == 'major' else 'm'}"


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class StemTraits:
    """Traits of one stem, measured on the stem alone.

    Attributes
    ----------
    activity : float
        Fraction (0–1) of 400 ms blocks in which the stem is audible: momentary
        loudness above −50 LUFS and within 40 LU of the stem's loudest block.
    loudness_lufs : float
        Integrated loudness (ITU-R BS.1770-4), LUFS; ``LOUDNESS_FLOOR_LUFS`` when silent.
    energy : float
        0–1, as :attr:`Traits.energy`.
    brightness : float
        0–1, as :attr:`Traits.brightness`.
    """

    activity: float
    loudness_lufs: float
    energy: float
    brightness: float

    def to_dict(self) -> dict[str, float]:
        return {f.name: _finite(getattr(self, f.name), f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StemTraits:
        try:
            return cls(**{f.name: float(data[f.name]) for f in fields(cls)})
        except (KeyError, TypeError, ValueError) as exc:
            names = [f.name for f in fields(cls)]
            raise TraitsError(f"stem traits need numbers for {names}: {exc}") from None


def _finite(value: float, name: str) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise TraitsError(f"trait {name} is not finite ({v})")
    return v


_LIB = {"json": False}


@dataclass(frozen=True)
class Traits:
    """Musical traits of one clip.

    Every JSON field is a plain ``float``, ``int`` or ``str`` (finite floats only), so the
    whole record round-trips through :meth:`to_dict` / :meth:`from_dict`. Methods and
    references for each trait are in ``docs/traits.md``.

    Attributes
    ----------
    duration_s : float
        Length in seconds.
    sample_rate : int
        Sample rate of the input, Hz.
    channels : int
        Channel count of the input.
    tempo_bpm : float or None
        Rate of the tracked beat (the quarter note in 4/4 and 3/4) in beats per minute,
        about 40–200; ``None`` (JSON null) when no pulse is found, never 0.
    tempo_confidence : float
        0–1: pulse clarity, the normalised autocorrelation of the onset envelope at the period
        of the clearest candidate metrical level (the beat, its half or double, the bar). How
        sure the level is, is ``tempo_alt_weight``.
    tempo_reason : str or None
        Why ``tempo_bpm`` is None (``"too few onsets"``, ``"no periodicity in 40-200 BPM"``,
        ``"no steady pulse"``); None when there is a tempo.
    tempo_alt_bpm : float or None
        The runner-up metrical level (typically half or double the tempo) when the estimator
        is unsure, else None.
    tempo_alt_weight : float
        0–1 posterior weight of ``tempo_alt_bpm`` (0 when there is none).
    time_signature : str
        ``"4/4"`` or ``"3/4"`` (beats per bar over a quarter-note beat).
    key : str
        ``"<Tonic> <major|minor>"``, sharps only, e.g. ``"F# minor"``.
    key_confidence : float
        0–1: the winning key's score (a correlation) scaled by its margin over the runner-up.
    key_alt : str or None
        The runner-up key (often the relative or the parallel key) when it is close, e.g.
        ``"F major"`` for a ``"D minor"`` that might be F major; else None.
    key_alt_weight : float
        0–1 softmax weight of ``key_alt`` against all 24 keys (0 when there is none).
    camelot : str
        Camelot code of ``key`` (``"1A"``–``"12B"``).
    open_key : str
        Open Key code of ``key`` (``"1m"``–``"12d"``).
    tuning_hz : float
        Reference frequency of A4 that the partials fit best, Hz (≈ 415–466).
    loudness_lufs : float
        Integrated loudness, ITU-R BS.1770-4, LUFS; floored at ``LOUDNESS_FLOOR_LUFS``.
    loudness_range_lu : float
        Loudness range, EBU Tech 3342, LU (≥ 0).
    true_peak_dbtp : float
        True peak, BS.1770-4 Annex 2, dBTP; floored at ``TRUE_PEAK_FLOOR_DBTP``.
    dynamic_complexity_db : float
        Mean absolute deviation of gated 400 ms momentary loudness from the integrated
        loudness, dB (≥ 0).
    energy : float
        0–1: loudness, onset density and spectral brightness combined.
    brightness_hz : float
        Spectral centroid, power-weighted over frames, Hz.
    brightness : float
        0–1: ``brightness_hz`` on a log scale from 250 Hz (0) to 5 kHz (1).
    danceability : float
        0–1: pulse clarity, beats on onsets and beat strength (0.35/0.25/0.4), times a
        preference for tempi near 120 BPM.
    onset_rate_hz : float
        Detected note/drum onsets per second.
    percussiveness : float
        0–1: share of spectral energy in the percussive part of a median-filter
        harmonic/percussive separation.
    chord_change_rate : float
        Chord changes per second (beat-synchronous triad labels).
    valence : float
        0–1: musical positivity (mode, tempo, brightness, consonance heuristics).
    arousal : float
        0–1: musical activation (loudness, tempo, onset density, percussiveness).
    mood : str
        Quadrant label of (valence, arousal): ``"happy"``, ``"tense"``, ``"sad"``, ``"calm"``.
    stems : dict[str, StemTraits]
        Per-stem traits (empty when no stems were given).
    beats : tuple[float, ...]
        Library only (not in JSON): beat times in seconds.
    key_scores : tuple[float, ...]
        Library only: correlation with each of the 24 key templates, C major … B major,
        C minor … B minor.
    chroma : tuple[float, ...]
        Library only: the 12-bin pitch-class profile (C … B), max-normalised.
    """

    duration_s: float
    sample_rate: int
    channels: int
    tempo_bpm: float | None
    tempo_confidence: float
    time_signature: str
    key: str
    key_confidence: float
    camelot: str
    open_key: str
    tuning_hz: float
    loudness_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    dynamic_complexity_db: float
    energy: float
    brightness_hz: float
    brightness: float
    danceability: float
    onset_rate_hz: float
    percussiveness: float
    chord_change_rate: float
    valence: float
    arousal: float
    mood: str
    stems: dict[str, StemTraits] = field(default_factory=dict)
    tempo_reason: str | None = None
    tempo_alt_bpm: float | None = None
    tempo_alt_weight: float = 0.0
    key_alt: str | None = None
    key_alt_weight: float = 0.0
    beats: tuple[float, ...] = field(default=(), repr=False, compare=False, metadata=_LIB)
    key_scores: tuple[float, ...] = field(default=(), repr=False, compare=False, metadata=_LIB)
    chroma: tuple[float, ...] = field(default=(), repr=False, compare=False, metadata=_LIB)

    @classmethod
    def json_keys(cls) -> tuple[str, ...]:
        """The JSON field names, in order."""
        return tuple(f.name for f in fields(cls) if f.metadata.get("json", True))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the JSON fields (finite floats, ints, strings, nested stems)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if not f.metadata.get("json", True):
                continue
            v = getattr(self, f.name)
            if f.name == "stems":
                out[f.name] = {name: s.to_dict() for name, s in sorted(v.items())}
            elif isinstance(v, float):
                out[f.name] = _finite(v, f.name)
            else:
                out[f.name] = v
        return out

    def unsure(self) -> dict[str, str]:
        """What a person should read when the estimator is unsure: ``{"tempo": "85 BPM (or 170)",
        "key": "D minor (or F major)"}``, only for the traits that have a runner-up."""
        out = {}
        if self.tempo_bpm is not None and self.tempo_alt_bpm is not None:
            out["tempo"] = f"{self.tempo_bpm:.0f} BPM (or {self.tempo_alt_bpm:.0f})"
        if self.key_alt is not None:
            out["key"] = f"{self.key} (or {self.key_alt})"
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Traits:
        """Inverse of :meth:`to_dict` (library-only fields come back empty)."""
        optional = {f.name for f in fields(cls)
                    if f.default is not MISSING or f.default_factory is not MISSING}
        missing = [k for k in cls.json_keys() if k not in data and k not in optional]
        if missing:
            raise TraitsError(f"traits JSON lacks {', '.join(missing)}")
        nullable = {"tempo_bpm", "tempo_reason", "tempo_alt_bpm", "key_alt"}
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if not f.metadata.get("json", True):
                continue
            if f.name == "stems":
                raw = data.get("stems") or {}
                kwargs["stems"] = {str(k): StemTraits.from_dict(v) for k, v in raw.items()}
                continue
            if f.name not in data:
                continue  # an optional field: its default
            v = data[f.name]
            if v is None:
                if f.name not in nullable:
                    raise TraitsError(f"trait {f.name} is null")
                kwargs[f.name] = None
            elif f.type in ("int",):
                kwargs[f.name] = int(v)
            elif f.type in ("str", "str | None"):
                kwargs[f.name] = str(v)
            else:
                kwargs[f.name] = float(v)
        if kwargs.get("tempo_bpm") == 0.0:  # the old "no pulse" convention
            kwargs["tempo_bpm"] = None
            kwargs["tempo_reason"] = kwargs.get("tempo_reason") or "no steady pulse"
        parse_key(kwargs["key"])
        return cls(**kwargs)
