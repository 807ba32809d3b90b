"""The release pipeline's view of the stage libraries: traits, rarity, covers, thumbnails.

Thin adapters that turn ``music.traits`` and ``cover_art`` results into the JSON-ready
dicts the pipeline, the metadata and the preview site use.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from music.audio import Audio
from music.traits.table import TRAITS, opensea_attributes, rarity_bin
from music.traits.table import display_value as _display_value

__all__ = ["INTERNAL_TRAITS", "TRAIT_LABELS", "collection_rarity", "display_value",
           "extract_traits", "opensea_attributes", "render_cover"]

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Labels, units, rarity bins and precision live in one table, music.traits.table.TRAITS.
TRAIT_LABELS: dict[str, tuple[str, str]] = {k: (s.label, s.unit) for k, s in TRAITS.items() if s.buyer}
"""Buyer-facing traits shown as attributes and badges: key → (label, unit), from ``TRAITS``."""
INTERNAL_TRAITS: dict[str, tuple[str, str]] = {k: (s.label, s.unit) for k, s in TRAITS.items() if not s.buyer}
"""Analyser internals (confidences, sample rate, channels …): for ``properties``, not attributes."""


# --------------------------------------------------------------------------- traits


def extract_traits(audio: Audio, *, stems: dict[str, Audio] | None = None) -> dict[str, Any]:
    """Traits of a mix (and its stems) as a JSON-ready dict (``music.traits.extract(...).to_dict()``)."""
    from music.traits import extract

    return dict(extract(audio, stems=stems or None).to_dict())


# --------------------------------------------------------------------------- rarity


def _bin(key: str, value: Any) -> Any:
    return rarity_bin(key, value)


def collection_rarity(traits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per token: ``{"frequency": {trait: share}, "score": float}`` across a release.

    The score and the frequencies of the attributes it ranks come from ``music.traits.rarity``
    (information content, bits). Every other shown trait still gets a frequency, so that each
    badge can say how common its value is: numeric traits are binned (``TRAITS[k].rarity_bin``), and a value's
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
    """The value as a person reads it, ``"124 BPM"``, ``"-14.0 LUFS"`` (``music.traits.table``)."""
    return _display_value(key, value)


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
