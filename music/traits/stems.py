"""Per-stem traits: activity, loudness, energy, brightness (no key or tempo: a stem alone
often has neither)."""

from __future__ import annotations

import math

import numpy as np

from music.audio import Audio
from music.traits import descriptors, frontend, level, rhythm
from music.traits.model import LOUDNESS_FLOOR_LUFS, StemTraits

ACTIVE_ABS_LUFS = -50.0
ACTIVE_REL_LU = 40.0


def activity(momentary_lufs: np.ndarray) -> float:
    """Fraction (0–1) of 400 ms blocks above −50 LUFS and within 40 LU of the loudest block."""
    m = momentary_lufs[np.isfinite(momentary_lufs)]
    if momentary_lufs.size == 0 or m.size == 0:
        return 0.0
    thr = max(ACTIVE_ABS_LUFS, float(m.max()) - ACTIVE_REL_LU)
    return float(np.count_nonzero(m > thr) / momentary_lufs.size)


def stem_traits(audio: Audio) -> StemTraits:
    """Traits of one stem."""
    lev = level.measure(audio)
    feat = frontend.features(frontend.analysis_signal(audio), tonal=False)
    o = rhythm.onset_envelope(feat.mel)
    rate = rhythm.onset_times(o, feat.fps).size / max(feat.duration, 1e-9)
    b = descriptors.brightness(descriptors.brightness_hz(feat))
    lufs = lev.integrated_lufs if math.isfinite(lev.integrated_lufs) else LOUDNESS_FLOOR_LUFS
    return StemTraits(activity=activity(lev.momentary_lufs), loudness_lufs=max(lufs, LOUDNESS_FLOOR_LUFS),
                      energy=descriptors.energy(lev.integrated_lufs, rate, b), brightness=b)
