"""Mood: valence and arousal heuristics and the quadrant label.

Valence and arousal are the two axes of Russell's circumplex model of affect [1]_. The
heuristics use the cues that music-emotion studies find most consistent [2]_ [3]_:

- ``valence = 0.5·M + 0.25·T + 0.25·B`` where ``M = 0.5 ± 0.5·√key_confidence`` (plus for
  major, minus for minor: mode is the strongest valence cue), ``T`` the tempo mapped
  from 60 BPM (0) to 180 BPM (1) and ``B`` the brightness;
- ``arousal = 0.4·L + 0.2·T + 0.2·O + 0.2·P`` with ``L`` loudness (−40 → −8 LUFS),
  ``O = 1 − exp(−onset_rate / 4 Hz)`` and ``P`` the percussiveness.

The label names the quadrant around (0.5, 0.5): ``happy`` (high valence, high
arousal), ``tense`` (low, high), ``sad`` (low, low), ``calm`` (high, low).

References
----------
.. [1] J. A. Russell, "A circumplex model of affect", J. Pers. Soc. Psychol. 39(6), 1980.
.. [2] A. Gabrielsson, E. Lindström, "The role of structure in the musical expression
   of emotions", Handbook of Music and Emotion, OUP, 2010.
.. [3] T. Eerola, O. Lartillot, P. Toiviainen, "Prediction of multidimensional emotional
   ratings in music from audio using multivariate regression models", ISMIR 2009.
"""

from __future__ import annotations

import math

import numpy as np


def _tempo_term(bpm: float | None) -> float:
    return float(np.clip((bpm - 60.0) / 120.0, 0.0, 1.0)) if bpm else 0.0


def valence(*, major: bool, key_confidence: float, tempo_bpm: float, brightness: float) -> float:
    """0–1 valence (see the module notes)."""
    sign = 1.0 if major else -1.0
    m = 0.5 + 0.5 * sign * math.sqrt(max(0.0, min(1.0, key_confidence)))
    return float(np.clip(0.5 * m + 0.25 * _tempo_term(tempo_bpm) + 0.25 * brightness, 0.0, 1.0))


def arousal(*, loudness_lufs: float, tempo_bpm: float, onset_rate_hz: float, percussiveness: float) -> float:
    """0–1 arousal (see the module notes)."""
    lo = float(np.clip((loudness_lufs + 40.0) / 32.0, 0.0, 1.0)) if math.isfinite(loudness_lufs) else 0.0
    on = 1.0 - math.exp(-max(onset_rate_hz, 0.0) / 4.0)
    a = 0.4 * lo + 0.2 * _tempo_term(tempo_bpm) + 0.2 * on + 0.2 * percussiveness
    return float(np.clip(a, 0.0, 1.0))


def mood_label(valence_: float, arousal_: float) -> str:
    """Quadrant label: ``happy``, ``tense``, ``sad`` or ``calm``."""
    if arousal_ >= 0.5:
        return "happy" if valence_ >= 0.5 else "tense"
    return "calm" if valence_ >= 0.5 else "sad"
