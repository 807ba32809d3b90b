"""Traits → drawing parameters: what every style reads instead of raw traits.

Each parameter is a plain number in a documented range, recorded in the provenance:

=============  ===============================================  =====================================
parameter      from                                             drives
=============  ===============================================  =====================================
density        energy (0 → 0.25, 1 → 1)                         how many lines, cells, layers
motion         tempo (60 → 0, 180+ BPM → 1) and arousal         stroke length, wave amplitude
curvature      1 − danceability, tempo                          how tightly fields curl; grooves
                                                                that dance are drawn in long
                                                                regular sweeps
rhythm         tempo_bpm / 60 (beats per second)                grid and ring counts
sharpness      percussiveness                                   hard edges vs soft glows
texture        1 − brightness, spectral tilt                    grain amount (dark timbres grainier)
accents        onset_rate_hz                                    how many onset marks are drawn
=============  ===============================================  =====================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any


def _num(traits: Mapping[str, Any], name: str, default: float, lo: float = 0.0, hi: float = 1.0) -> float:
    try:
        v = float(traits.get(name, default))
    except (TypeError, ValueError):
        v = default
    if not math.isfinite(v):
        v = default
    return min(max(v, lo), hi)


@dataclass(frozen=True)
class Params:
    """Drawing parameters, each in [0, 1] unless noted."""

    density: float
    motion: float
    curvature: float
    rhythm: float
    """Beats per second (0.5 … 4)."""
    sharpness: float
    texture: float
    accents: float
    valence: float
    energy: float
    tempo_bpm: float
    """Tempo in BPM (30 … 300)."""

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 6) for k, v in asdict(self).items()}


def params_for(traits: Mapping[str, Any]) -> Params:
    """Derive :class:`Params` from traits; absent traits take neutral mid values."""
    energy = _num(traits, "energy", 0.5)
    dance = _num(traits, "danceability", 0.5)
    bright = _num(traits, "brightness", 0.5)
    valence = _num(traits, "valence", 0.5)
    arousal = _num(traits, "arousal", energy)
    perc = _num(traits, "percussiveness", 0.5)
    tempo = _num(traits, "tempo_bpm", 110.0, 30.0, 300.0)
    onset_rate = _num(traits, "onset_rate_hz", 3.0, 0.0, 30.0)
    tempo01 = min(max((tempo - 60.0) / 120.0, 0.0), 1.0)
    return Params(
        density=0.25 + 0.75 * energy,
        motion=min(1.0, 0.7 * tempo01 + 0.3 * arousal),
        curvature=min(1.0, 0.65 * (1.0 - dance) + 0.35 * tempo01),
        rhythm=min(max(tempo / 60.0, 0.5), 4.0),
        sharpness=perc,
        texture=0.25 + 0.75 * (1.0 - bright),
        accents=min(onset_rate / 8.0, 1.0),
        valence=valence,
        energy=energy,
        tempo_bpm=tempo,
    )
