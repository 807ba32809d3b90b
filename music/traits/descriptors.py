"""Timbre and intensity descriptors: brightness, percussiveness, energy.

Methods
-------
- Brightness: spectral centroid of each 46 ms frame (magnitude-weighted mean frequency),
  averaged over frames weighted by frame power, in Hz [1]_; ``brightness`` maps it
  logarithmically from 250 Hz (0) to 5 kHz (1).
- Percussiveness: median-filter harmonic/percussive separation (Fitzgerald 2010) [2]_ of
  the mel power spectrogram (pooled to 21.5 frames/s; 0.42 s time kernel for the
  harmonic part, 13-band frequency kernel for the percussive part) with Wiener soft masks; the
  trait is the percussive share of the total power.
- Energy: ``0.5·L + 0.25·O + 0.25·B``, with ``L`` the integrated loudness mapped from
  −40 LUFS (0) to −8 LUFS (1), ``O = 1 − exp(−onset_rate / 4 Hz)`` and ``B`` the
  brightness: loudness, activity and timbre, the ingredients of perceived intensity
  named by Spotify's/Echo Nest's "energy" [3]_.

References
----------
.. [1] G. Peeters, "A large set of audio features for sound description", IRCAM, 2004.
.. [2] D. Fitzgerald, "Harmonic/percussive separation using median filtering", DAFx 2010.
.. [3] T. Jehan, D. DesRoches, "Analyzer documentation", The Echo Nest, 2011.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from music.traits.frontend import Features

BRIGHT_LO_HZ = 250.0
BRIGHT_HI_HZ = 5000.0
_HPSS_BLOCK = 4096


def brightness_hz(feat: Features) -> float:
    """Power-weighted mean spectral centroid, Hz (0 for silence)."""
    w = feat.frame_power.astype(np.float64)
    total = w.sum()
    return float((feat.centroid * w).sum() / total) if total > 0 else 0.0


def brightness(hz: float) -> float:
    """0–1 log map of a centroid: 250 Hz → 0, 5 kHz → 1."""
    if hz <= 0:
        return 0.0
    return float(np.clip(math.log(hz / BRIGHT_LO_HZ) / math.log(BRIGHT_HI_HZ / BRIGHT_LO_HZ), 0.0, 1.0))


def percussiveness(feat: Features) -> float:
    """Percussive share (0–1) of the mel power after median-filter HPSS."""
    m = feat.mel
    if m.shape[1] >= 4:  # pool to 21.5 frames/s: plenty for a 0.4 s harmonic kernel
        n4 = m.shape[1] // 4 * 4
        m = m[:, :n4].reshape(m.shape[0], -1, 4).mean(axis=2)
    if m.size == 0 or m.max() <= 0:
        return 0.0
    scale = 1.0 / float(m.max())
    # In blocks of 4096 frames with 4 frames of context either side, so that memory stays
    # flat on long files; the result is the same as one pass over the whole spectrogram.
    perc = total = 0.0
    n, ctx = m.shape[1], 4
    for s in range(0, n, _HPSS_BLOCK):
        lo, hi = max(0, s - ctx), min(n, s + _HPSS_BLOCK + ctx)
        blk = m[:, lo:hi] * scale
        h = ndimage.median_filter(blk, size=(1, 9), mode="nearest")
        p = ndimage.median_filter(blk, size=(13, 1), mode="nearest")
        h2, p2 = h * h, p * p
        denom = h2 + p2
        mask_p = np.divide(p2, denom, out=np.full_like(denom, 0.5), where=denom > 0)
        inner = slice(s - lo, s - lo + min(_HPSS_BLOCK, n - s))
        perc += float((blk[:, inner] * mask_p[:, inner]).sum())
        total += float(blk[:, inner].sum())
    return perc / total if total > 0 else 0.0


def energy(loudness_lufs: float, onset_rate_hz: float, bright: float) -> float:
    """0–1 energy from loudness (LUFS), onset rate (Hz) and brightness (0–1)."""
    lo = float(np.clip((loudness_lufs + 40.0) / 32.0, 0.0, 1.0)) if math.isfinite(loudness_lufs) else 0.0
    on = 1.0 - math.exp(-max(onset_rate_hz, 0.0) / 4.0)
    return float(np.clip(0.5 * lo + 0.25 * on + 0.25 * bright, 0.0, 1.0))
