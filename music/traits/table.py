"""The one table of traits: label, unit, range, rarity bin, audience and display precision.

Everything that shows a trait reads it from here: the release's attributes and badges
(``songmint.stages``), the rarity bins of :mod:`music.traits.collection` and the OpenSea
attributes of :func:`opensea_attributes`.

>>> TRAITS["tempo_bpm"].label, TRAITS["tempo_bpm"].unit, TRAITS["tempo_bpm"].rarity_bin
('Tempo', 'BPM', 10.0)
>>> display_value("loudness_lufs", -14.002178138545322)
'-14.0 LUFS'
>>> round_value("energy", 0.6982942431406336), round_value("tuning_hz", 438.69874763700903)
(0.7, 439)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from music.traits.keys import conventional
from music.traits.model import TraitsError


@dataclass(frozen=True)
class TraitSpec:
    """How one trait is named, bounded, binned and shown.

    Attributes
    ----------
    key : str
        Field of :class:`~music.traits.Traits`.
    label : str
        Name shown to people (``"Tempo"``).
    unit : str
        Unit (``"BPM"``, ``"LUFS"``, ``"Hz"``), ``""`` for scores and names.
    range : tuple of float or None
        Typical (min, max) of a number; 0–1 for scores; None for strings.
    rarity_bin : float or None
        Width of the rarity bins of a number (None: the value itself is the bin).
    buyer : bool
        Shown to buyers as an attribute (False: an analyser internal, kept in ``properties``).
    decimals : int or None
        Display precision: 0 for integers, None for strings.
    """

    key: str
    label: str
    unit: str = ""
    range: tuple[float, float] | None = None
    rarity_bin: float | None = None
    buyer: bool = True
    decimals: int | None = None

    @property
    def trait_type(self) -> str:
        """The OpenSea ``trait_type``: the label with its unit, ``"Loudness (LUFS)"``."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


_S = TraitSpec
TRAITS: dict[str, TraitSpec] = {s.key: s for s in (
    _S("key", "Key"),
    _S("camelot", "Camelot"),
    _S("open_key", "Open Key"),
    _S("tempo_bpm", "Tempo", "BPM", (40.0, 200.0), 10.0, decimals=1),
    _S("time_signature", "Time signature"),
    _S("mood", "Mood"),
    _S("energy", "Energy", "", (0.0, 1.0), 0.2, decimals=2),
    _S("danceability", "Danceability", "", (0.0, 1.0), 0.2, decimals=2),
    _S("valence", "Valence", "", (0.0, 1.0), 0.2, decimals=2),
    _S("arousal", "Arousal", "", (0.0, 1.0), 0.2, decimals=2),
    _S("brightness", "Brightness", "", (0.0, 1.0), 0.2, decimals=2),
    _S("percussiveness", "Percussiveness", "", (0.0, 1.0), 0.2, decimals=2),
    _S("loudness_lufs", "Loudness", "LUFS", (-70.0, 0.0), 3.0, decimals=1),
    _S("loudness_range_lu", "Loudness range", "LU", (0.0, 30.0), 2.0, decimals=1),
    _S("duration_s", "Duration", "s", (0.0, 3600.0), 30.0, decimals=0),
    _S("tuning_hz", "Tuning", "Hz", (415.0, 466.0), 2.0, decimals=0),
    _S("brightness_hz", "Spectral centroid", "Hz", (0.0, 11_000.0), 500.0, buyer=False, decimals=0),
    _S("onset_rate_hz", "Onset rate", "/s", (0.0, 20.0), 1.0, buyer=False, decimals=1),
    _S("chord_change_rate", "Chord changes", "/s", (0.0, 4.0), 0.25, buyer=False, decimals=2),
    _S("true_peak_dbtp", "True peak", "dBTP", (-120.0, 3.0), 1.0, buyer=False, decimals=1),
    _S("dynamic_complexity_db", "Dynamic complexity", "dB", (0.0, 20.0), 1.0, buyer=False, decimals=1),
    _S("tempo_confidence", "Tempo confidence", "", (0.0, 1.0), 0.2, buyer=False, decimals=2),
    _S("key_confidence", "Key confidence", "", (0.0, 1.0), 0.2, buyer=False, decimals=2),
    _S("tempo_alt_bpm", "Tempo (alternative)", "BPM", (40.0, 200.0), None, buyer=False, decimals=1),
    _S("tempo_alt_weight", "Tempo alternative weight", "", (0.0, 1.0), None, buyer=False, decimals=2),
    _S("tempo_reason", "Tempo (none because)", buyer=False),
    _S("key_alt", "Key (alternative)", buyer=False),
    _S("key_alt_weight", "Key alternative weight", "", (0.0, 1.0), None, buyer=False, decimals=2),
    _S("sample_rate", "Sample rate", "Hz", (4000.0, 384_000.0), None, buyer=False, decimals=0),
    _S("channels", "Channels", "", (1.0, 64.0), None, buyer=False, decimals=0),
)}
"""Every trait shown anywhere, in display order. Rarity bins: 10 BPM, 3 LU of loudness, 30 s of
duration, fifths of 0–1 scores (the collection's quintile labels)."""

BUYER_TRAITS = tuple(k for k, s in TRAITS.items() if s.buyer)
"""Traits that are buyer-facing attributes; the rest are analyser internals."""


def round_value(key: str, value: Any) -> Any:
    """A number at the trait's display precision (an ``int`` at 0 decimals; a tempo within
    0.05 of a whole BPM is an ``int``); strings and unknown traits unchanged; keys in their
    conventional spelling."""
    spec = TRAITS.get(key)
    if key in ("key", "key_alt") and isinstance(value, str):
        try:
            return conventional(value)
        except TraitsError:
            return value
    if spec is None or spec.decimals is None or isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if not math.isfinite(float(value)):
        return value
    if spec.decimals == 0 or (key.startswith("tempo") and abs(value - round(value)) < 0.05):
        return round(value)
    return round(float(value), spec.decimals)


def display_value(key: str, value: Any) -> str:
    """``"124 BPM"``, ``"-14.0 LUFS"``, ``"0.70"``, ``"Bb major"``: the value as a person reads it."""
    spec = TRAITS.get(key)
    v = round_value(key, value)
    if value is None:
        return "none" if key != "tempo_bpm" else "no pulse"
    text = f"{v:.{spec.decimals}f}" if isinstance(v, float) and spec is not None and spec.decimals else str(v)
    unit = spec.unit if spec is not None else ""
    if not unit:
        return text
    return f"{text}{unit}" if unit.startswith("/") else f"{text} {unit}"


def rarity_bin(key: str, value: Any) -> Any:
    """The rarity bin of a value, ``"120–130"``; strings are their own bin."""
    spec = TRAITS.get(key)
    if value is None:
        return "none"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    width = spec.rarity_bin if spec is not None and spec.rarity_bin else (0.1 if 0 <= value <= 1 else 1.0)
    lo = math.floor(value / width) * width
    return f"{lo:g}–{lo + width:g}"


def opensea_attributes(traits: Mapping[str, Any], *, internal: bool = False) -> list[dict[str, Any]]:
    """OpenSea ``attributes`` a person can read, from a traits dict (``Traits.to_dict()``).

    Buyer-facing traits only (``internal=True`` adds the analyser internals); numbers rounded
    to their precision with ``display_type: "number"`` (and ``max_value: 1`` for 0–1 scores),
    units in the trait name (``"Tempo (BPM)"``, ``"Loudness (LUFS)"``); keys in their
    conventional spelling. A null tempo is shown as ``"no pulse"``. When the estimator is
    unsure, the runner-up follows as ``"Tempo (or) (BPM)"`` / ``"Key (or)"`` so that a reader
    sees "D minor (or F major)". Stems and library-only fields are never attributes.
    """
    out: list[dict[str, Any]] = []
    for key, spec in TRAITS.items():
        if key not in traits or not (spec.buyer or internal):
            continue
        v = traits[key]
        if isinstance(v, dict | list | tuple):
            continue
        if v is None:
            if key == "tempo_bpm":
                out.append({"trait_type": spec.label, "value": "no pulse"})
            continue
        attr: dict[str, Any] = {"trait_type": spec.trait_type, "value": round_value(key, v)}
        if isinstance(attr["value"], int | float) and not isinstance(attr["value"], bool):
            attr["display_type"] = "number"
            if spec.range == (0.0, 1.0):
                attr["max_value"] = 1
        out.append(attr)
        if key == "tempo_bpm" and traits.get("tempo_alt_bpm") is not None:
            alt = round_value("tempo_bpm", traits["tempo_alt_bpm"])
            out.append({"trait_type": "Tempo (or) (BPM)", "value": alt, "display_type": "number"})
        if key == "key" and traits.get("key_alt"):
            out.append({"trait_type": "Key (or)", "value": round_value("key", traits["key_alt"])})
    return out


def unsure_text(traits: Mapping[str, Any]) -> dict[str, str]:
    """``{"tempo": "85 BPM (or 170 BPM)", "key": "D minor (or F major)"}`` for the traits that
    have a runner-up; the plain value for the others (keys spelled by convention)."""
    out = {}
    if "tempo_bpm" in traits:
        t = display_value("tempo_bpm", traits["tempo_bpm"])
        alt = traits.get("tempo_alt_bpm")
        out["tempo"] = t if alt is None else f"{t} (or {display_value('tempo_bpm', alt)})"
    if "key" in traits:
        k = display_value("key", traits["key"])
        alt = traits.get("key_alt")
        out["key"] = k if not alt else f"{k} (or {display_value('key', alt)})"
    return out
