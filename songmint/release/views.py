"""The token entry that the player, the preview site and the manifest show: built once per token.

The entry holds what a listener sees (title, facts, shown traits with their rarity, waveform,
the stem mixer's gain) and the token's asset paths; the manifest adds the chain fields to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from songmint import stages as st
from songmint.release.analysis import Analysis
from songmint.release.tokens import Token


def shown_traits(a: Analysis) -> list[dict[str, Any]]:
    """The traits a listener sees, each with its label, display text and share of the release."""
    from music.traits.table import round_value, unsure_text

    freq = a.rarity.get("frequency", {})
    traits = a.shown
    unsure = unsure_text(traits)  # "D minor (or F major)" where a measurement has a runner-up
    shown = []
    for k, (label, _unit) in st.TRAIT_LABELS.items():
        v = traits.get(k)
        if v is None or isinstance(v, dict | list):
            continue
        display = st.display_value(k, v)
        if k == "tempo_bpm":
            display = unsure.get("tempo", display)
        elif k == "key":
            v = a.facts.key or v
            alt = traits.get("key_alt")
            display = f"{v} (or {round_value('key', alt)})" if alt else v
        shown.append({"key": k, "label": label, "value": v, "display": display, "rarity": freq.get(k)})
    return shown


def stem_gain(t: Token) -> float:
    """The gain that brings the sum of a track's stems to the loudness (RMS) of its mix (≤ 8)."""
    if not t.stems:
        return 1.0
    mix_rms = float(np.sqrt(np.mean(t.audio.samples**2)) + 1e-12)
    total = sum((s.samples for s in t.stems.values()), np.zeros_like(t.audio.samples))
    return round(min(mix_rms / float(np.sqrt(np.mean(total**2)) + 1e-12), 8.0), 4)


def token_entry(t: Token, a: Analysis) -> dict[str, Any]:
    """The token's entry without assets or chain fields (see :func:`with_assets`)."""
    from songmint.preview import waveform_peaks

    return {
        "id": t.id,
        "id_hex": f"{t.id:064x}",
        "track": t.track.id,
        "number": t.track.number,
        "kind": t.kind,
        "stem": t.stem,
        "title": t.title,
        "artist": t.track.artist,
        "genre": t.track.genre,
        "license": t.track.license,
        "key": a.facts.key,
        "camelot": a.facts.camelot,
        "bpm": a.facts.bpm,
        "duration_s": round(t.audio.duration, 3),
        "traits": shown_traits(a),
        "rarity_score": a.rarity.get("score"),
        "waveform": waveform_peaks(t.audio.samples),
        "stem_gain": stem_gain(t),
        "assets": {},
    }


def with_assets(entry: dict[str, Any], assets: dict[str, str]) -> dict[str, Any]:
    """A copy of ``entry`` pointing at ``assets`` (role -> path relative to the release folder)."""
    return {**entry, "assets": dict(assets)}
