"""The release pipeline's view of the stage libraries: traits, rarity, covers, thumbnails.

Thin adapters that turn ``music.traits`` and ``cover_art`` results into the JSON-ready
dicts the pipeline, the metadata and the preview site use.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from typing import Any

from music.audio import Audio

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Traits shown as attributes, with labels, units and bin widths for rarity of numeric values.
TRAIT_LABELS: dict[str, tuple[str, str]] = {
    "key": ("Key", ""),
    "camelot": ("Camelot", ""),
    "open_key": ("Open Key", ""),
    "tempo_bpm": ("Tempo", "BPM"),
    "time_signature": ("Time signature", ""),
    "mood": ("Mood", ""),
    "energy": ("Energy", ""),
    "danceability": ("Danceability", ""),
    "valence": ("Valence", ""),
    "arousal": ("Arousal", ""),
    "brightness": ("Brightness", ""),
    "brightness_hz": ("Spectral centroid", "Hz"),
    "percussiveness": ("Percussiveness", ""),
    "onset_rate_hz": ("Onset rate", "/s"),
    "chord_change_rate": ("Chord changes", "/s"),
    "loudness_lufs": ("Loudness", "LUFS"),
    "loudness_range_lu": ("Loudness range", "LU"),
    "true_peak_dbtp": ("True peak", "dBTP"),
    "dynamic_complexity_db": ("Dynamic complexity", "dB"),
    "duration_s": ("Duration", "s"),
    "tuning_hz": ("Tuning", "Hz"),
    "tempo_confidence": ("Tempo confidence", ""),
    "key_confidence": ("Key confidence", ""),
    "sample_rate": ("Sample rate", "Hz"),
    "channels": ("Channels", ""),
}
_BINS = {
    "tempo_bpm": 10.0,
    "loudness_lufs": 2.0,
    "loudness_range_lu": 2.0,
    "true_peak_dbtp": 1.0,
    "dynamic_complexity_db": 1.0,
    "duration_s": 30.0,
    "brightness_hz": 500.0,
    "tuning_hz": 2.0,
    "onset_rate_hz": 1.0,
    "chord_change_rate": 0.25,
}


# --------------------------------------------------------------------------- traits


def extract_traits(audio: Audio, *, stems: dict[str, Audio] | None = None) -> dict[str, Any]:
    """Traits of a mix (and its stems) as a JSON-ready dict (``music.traits.extract(...).to_dict()``)."""
    from music.traits import extract

    return dict(extract(audio, stems=stems or None).to_dict())


# --------------------------------------------------------------------------- rarity


def _bin(key: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    width = _BINS.get(key, 0.1 if 0 <= value <= 1 else 1.0)
    lo = math.floor(value / width) * width
    return f"{lo:g}–{lo + width:g}"


def collection_rarity(traits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per token: ``{"frequency": {trait: share}, "score": float}`` across a release.

    The score and the frequencies of the attributes it ranks come from ``music.traits.rarity``
    (information content, bits). Every other shown trait still gets a frequency, so that each
    badge can say how common its value is: numeric traits are binned (``_BINS``), and a value's
    frequency is its share of the release.
    """
    keys = [k for k in TRAIT_LABELS if any(k in t for t in traits)]
    n = len(traits)
    counts = {k: Counter(_bin(k, t.get(k)) for t in traits) for k in keys}
    ours = [{"frequency": {k: counts[k][_bin(k, t.get(k))] / n for k in keys if k in t}} for t in traits]
    from music.traits import rarity
    from music.traits.collection import ATTRIBUTES

    merged = []
    for theirs, local in zip(rarity(traits), ours, strict=True):
        freq = {ATTRIBUTES[k][0] if k in ATTRIBUTES else k: float(v) for k, v in theirs.frequencies.items()}
        merged.append({"frequency": {**local["frequency"], **freq}, "score": round(float(theirs.score), 4),
                       "rank": theirs.rank, "bins": dict(theirs.values)})
    return merged


def display_value(key: str, value: Any) -> str:
    unit = TRAIT_LABELS.get(key, ("", ""))[1]
    if isinstance(value, float):
        text = (
            f"{value:.0f}"
            if key in ("tempo_bpm", "brightness_hz")
            else f"{value:.2f}".rstrip("0").rstrip(".")
        )
    else:
        text = str(value)
    return f"{text} {unit}".strip() if unit and unit != "/s" else f"{text}{unit}"


# --------------------------------------------------------------------------- covers


def render_cover(
    traits: dict[str, Any],
    audio: Audio | None,
    *,
    style: str | None,
    seed: int,
    size: int,
    title: str | None = None,
    artist: str | None = None,
) -> tuple[bytes, bytes, dict[str, Any]]:
    """Cover PNG, 512 px thumbnail PNG and the parameters that made them."""
    from cover_art import render
    from cover_art.diffusion import ENV_MODEL

    kwargs: dict[str, Any] = {"seed": seed, "size": size}
    if style:
        kwargs["style"] = style
    if style == "diffusion" and os.environ.get(ENV_MODEL):  # the application edge reads the variable
        kwargs["model"] = os.environ[ENV_MODEL]
    cover = render(traits, audio, title=title, artist=artist, **kwargs)
    params = {"style": cover.style, "seed": seed, "size": size, "provenance": cover.provenance}
    return bytes(cover.png), bytes(cover.thumbnail), _jsonable(params)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)
