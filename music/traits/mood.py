"""Mood: valence and arousal heuristics and the quadrant label.

Valence and arousal are the two axes of Russell's circumplex model of affect [1]_. The
heuristics use the cues that music-emotion studies find most consistent [2]_ [3]_:

- ``tension`` (0–1): the share of the pitch-class profile outside the key's scale (major, or
  natural minor plus the raised leading tone), mapped from 10 % (0) to 40 % (1): chromatic,
  dissonant harmony;
- ``valence = 0.35·M + 0.2·T + 0.25·B + 0.2·(1 − tension)`` where ``M = 0.5 ± 0.35·√key_confidence``
  (plus for major, minus for minor: mode is the strongest valence cue, but not the only one),
  ``T`` the tempo mapped from 60 BPM (0) to 180 BPM (1) and ``B`` the brightness;
- ``arousal = 0.15·L + 0.3·T + 0.3·O + 0.25·P`` with ``L`` loudness (−40 → −8 LUFS),
  ``O = 1 − exp(−onset_rate / 4 Hz)`` and ``P`` the percussiveness. Loudness weighs little:
  every mastered track is loud, a calm one as much as a driving one.

The label (vocabulary :data:`music.traits.MOODS`) names the quadrant: ``happy`` (valence
≥ 0.5, arousal ≥ 0.55), ``tense`` (valence < 0.5, arousal ≥ 0.55), ``calm`` (valence ≥ 0.45,
arousal < 0.55), ``sad`` (valence < 0.45, arousal < 0.55). So a slow, sparse minor-key take is
``calm`` or ``sad``, never ``tense``; ``tense`` needs drive (tempo, onsets, percussion) *and* a
dark, minor or chromatic colour. Declared mood words (a prompt, a spec) win over this label
for publication.

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


MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)
AROUSAL_SPLIT = 0.55


def tension(chroma: np.ndarray, *, tonic: int, major: bool) -> float:
    """0–1 harmonic tension: share of the profile outside the key's scale, 10 % → 0, 40 % → 1."""
    c = np.asarray(chroma, float)
    total = float(c.sum())
    if total <= 0:
        return 0.0
    inside = [(tonic + d) % 12 for d in (MAJOR_SCALE if major else MINOR_SCALE)]
    out = 1.0 - float(c[inside].sum()) / total
    return float(np.clip((out - 0.1) / 0.3, 0.0, 1.0))


def valence(*, major: bool, key_confidence: float, tempo_bpm: float | None, brightness: float,
            tension_: float = 0.0) -> float:
    """0–1 valence (see the module notes)."""
    sign = 1.0 if major else -1.0
    m = 0.5 + 0.35 * sign * math.sqrt(max(0.0, min(1.0, key_confidence)))
    v = 0.35 * m + 0.2 * _tempo_term(tempo_bpm) + 0.25 * brightness + 0.2 * (1.0 - tension_)
    return float(np.clip(v, 0.0, 1.0))


def arousal(*, loudness_lufs: float, tempo_bpm: float | None, onset_rate_hz: float,
            percussiveness: float) -> float:
    """0–1 arousal (see the module notes)."""
    lo = float(np.clip((loudness_lufs + 40.0) / 32.0, 0.0, 1.0)) if math.isfinite(loudness_lufs) else 0.0
    on = 1.0 - math.exp(-max(onset_rate_hz, 0.0) / 4.0)
    a = 0.15 * lo + 0.3 * _tempo_term(tempo_bpm) + 0.3 * on + 0.25 * percussiveness
    return float(np.clip(a, 0.0, 1.0))


def mood_label(valence_: float, arousal_: float) -> str:
    """Quadrant label: ``happy``, ``tense``, ``sad`` or ``calm`` (see the module notes)."""
    if arousal_ >= AROUSAL_SPLIT:
        return "happy" if valence_ >= 0.5 else "tense"
    return "calm" if valence_ >= 0.45 else "sad"
