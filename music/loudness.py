"""Loudness measurement and normalisation (ITU-R BS.1770-4, EBU R 128 / Tech 3342).

- integrated loudness (LUFS): K-weighting, 400 ms blocks with 75 % overlap, absolute
  gate at −70 LUFS and relative gate at −10 LU [1]_;
- loudness range (LU): 3 s short-term blocks every 100 ms, gated at −70 LUFS and −20 LU,
  the spread between the 10th and 95th percentiles [2]_;
- true peak (dBTP): 4× oversampled peak (2× at 88.2/96 kHz), as in BS.1770-4 Annex 2;
- :func:`normalize`: gain to a target loudness, then a look-ahead true-peak limiter
  whose gain curve never lets an oversampled peak pass the ceiling.

Everything is vectorised and chunked, so a 20-minute file needs a few tens of MB.

References
----------
.. [1] ITU-R BS.1770-4, "Algorithms to measure audio programme loudness and true-peak
   audio level", 2015.
.. [2] EBU Tech 3342, "Loudness Range: a measure to supplement EBU R 128", 2016.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage, signal

from music.audio import Audio
from music.errors import AudioError

ABS_GATE_LUFS = -70.0
_CHUNK = 1 << 18


def k_weighting(sr: int) -> tuple[np.ndarray, np.ndarray]:
    """K-weighting filter ``(b, a)`` at any rate: the BS.1770 pre-filter (high shelf)
    cascaded with the RLB high-pass, designed by bilinear transform as libebur128 does."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = np.tan(np.pi * f0 / sr)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    b1 = np.array([(vh + vb * k / q + k * k), 2.0 * (k * k - vh), (vh - vb * k / q + k * k)]) / a0
    a1 = np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0])
    f0, q = 38.13547087602444, 0.5003270373238773
    k = np.tan(np.pi * f0 / sr)
    d = 1.0 + k / q + k * k
    b2 = np.array([1.0, -2.0, 1.0])
    a2 = np.array([1.0, 2.0 * (k * k - 1.0) / d, (1.0 - k / q + k * k) / d])
    return np.convolve(b1, b2), np.convolve(a1, a2)


def channel_weights(channels: int) -> np.ndarray:
    """BS.1770 channel weights; 6 channels are read as 5.1 (L R C LFE Ls Rs)."""
    if channels == 6:
        return np.array([1.0, 1.0, 1.0, 0.0, 1.41, 1.41])
    return np.ones(channels)


def _block_powers(audio: Audio, block_s: float, hop_s: float) -> np.ndarray:
    """Channel-weighted mean square of K-weighted audio in each block, shape ``(blocks,)``."""
    b, a = k_weighting(audio.sr)
    y = signal.lfilter(b, a, audio.samples.astype(np.float64), axis=1)
    w = channel_weights(audio.channels)
    power = (w[:, None] * y * y).sum(axis=0)
    block, hop = round(block_s * audio.sr), round(hop_s * audio.sr)
    if audio.n < block:
        return np.empty(0)
    csum = np.concatenate([[0.0], np.cumsum(power)])
    starts = np.arange(0, audio.n - block + 1, hop)
    return (csum[starts + block] - csum[starts]) / block


def _lufs(power: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return -0.691 + 10.0 * np.log10(power)


def integrated_loudness(audio: Audio) -> float:
    """Integrated loudness in LUFS; ``-inf`` for silence or clips under 400 ms."""
    return gated_loudness(_block_powers(audio, 0.4, 0.1))


def gated_loudness(p: np.ndarray) -> float:
    """Integrated loudness in LUFS from the mean-square powers of the 400 ms blocks (75 %
    overlap, channel-weighted, K-weighted): BS.1770's absolute and relative gates.

    Lets a caller that computes the block powers another way (the composer's compiled
    one-pass filter) share the gating; ``-inf`` when no block passes.
    """
    p = p[_lufs(p) > ABS_GATE_LUFS]
    if p.size == 0:
        return float("-inf")
    rel_gate = _lufs(p.mean()) - 10.0
    p = p[_lufs(p) > rel_gate]
    return float(_lufs(p.mean()))


def loudness_range(audio: Audio) -> float:
    """Loudness range (LRA) in LU per EBU Tech 3342; 0 when fewer than two blocks pass."""
    p = _block_powers(audio, 3.0, 0.1)
    p = p[_lufs(p) > ABS_GATE_LUFS]
    if p.size < 2:
        return 0.0
    rel_gate = _lufs(p.mean()) - 20.0
    levels = _lufs(p)
    levels = levels[levels > rel_gate]
    if levels.size < 2:
        return 0.0
    lo, hi = np.percentile(levels, [10, 95])
    return float(hi - lo)


def _oversampling(sr: int) -> int:
    return 4 if sr < 88_200 else 2 if sr < 176_400 else 1


def peak_envelope(audio: Audio) -> np.ndarray:
    """Oversampled absolute peak at each sample position, max over channels, shape ``(n,)``.

    Chunked with overlap, so memory stays bounded on long files.
    """
    up = _oversampling(audio.sr)
    x = audio.samples
    if up == 1:
        return np.abs(x).max(axis=0)
    out = np.empty(audio.n, dtype=np.float32)
    pad = 64
    for start in range(0, audio.n, _CHUNK):
        stop = min(start + _CHUNK, audio.n)
        lo, hi = max(0, start - pad), min(audio.n, stop + pad)
        y = signal.resample_poly(x[:, lo:hi], up, 1, axis=1)
        y = np.abs(y).max(axis=0).reshape(-1, up).max(axis=1)
        out[start:stop] = y[start - lo : start - lo + (stop - start)]
    return np.maximum(out, np.abs(x).max(axis=0))


def true_peak(audio: Audio) -> float:
    """True peak in dBTP (``-inf`` for digital silence)."""
    peak = float(peak_envelope(audio).max())
    return float(20.0 * np.log10(peak)) if peak > 0 else float("-inf")


def sample_peak(audio: Audio) -> float:
    """Sample peak in dBFS."""
    peak = float(np.abs(audio.samples).max())
    return float(20.0 * np.log10(peak)) if peak > 0 else float("-inf")


@dataclass(frozen=True)
class Loudness:
    """Loudness facts of a signal.

    Attributes
    ----------
    integrated_lufs : float
        Integrated loudness, LUFS.
    range_lu : float
        Loudness range, LU.
    true_peak_dbtp : float
        True peak, dBTP.
    sample_peak_dbfs : float
        Sample peak, dBFS.
    """

    integrated_lufs: float
    range_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def measure(audio: Audio) -> Loudness:
    """All loudness facts at once."""
    return Loudness(
        integrated_lufs=integrated_loudness(audio),
        range_lu=loudness_range(audio),
        true_peak_dbtp=true_peak(audio),
        sample_peak_dbfs=sample_peak(audio),
    )


def limit(audio: Audio, *, ceiling_dbtp: float = -1.0, attack_ms: float = 2.0,
          release_ms: float = 40.0) -> Audio:
    """Look-ahead true-peak limiter.

    The wanted gain ``g[n] = min(1, ceiling / oversampled_peak[n])`` is smoothed twice by
    a centred minimum filter of width ``2W+1`` followed by a moving average of the same
    width (``W`` = attack, then release). Each mean runs over values that are minima over
    windows containing ``n``, so the smoothed gain never exceeds ``g[n]``: no peak gets
    through, and the gain moves without steps (no clicks).
    """
    ceiling = 10.0 ** (ceiling_dbtp / 20.0)
    env = peak_envelope(audio)
    with np.errstate(divide="ignore"):
        g = np.minimum(1.0, ceiling * 0.999 / np.maximum(env, 1e-12)).astype(np.float64)
    if g.min() >= 1.0:
        return audio
    for ms in (attack_ms, release_ms):
        w = max(1, round(ms * 1e-3 * audio.sr))
        g = ndimage.minimum_filter1d(g, 2 * w + 1, mode="nearest")
        g = ndimage.uniform_filter1d(g, 2 * w + 1, mode="nearest")
    y = (audio.samples * g[None, :]).astype(np.float32)
    out = Audio(y, audio.sr)
    # Interpolation of the *gained* signal can overshoot by a hair; trim it exactly.
    over = true_peak(out) - ceiling_dbtp
    if over > 0:
        out = Audio((y * 10.0 ** (-(over + 0.01) / 20.0)).astype(np.float32), audio.sr)
    return out


def normalize(audio: Audio, *, lufs: float = -14.0, true_peak_dbtp: float = -1.0,
              max_gain_db: float = 60.0, tolerance_lu: float = 0.05) -> Audio:
    """Normalise to an integrated loudness under a true-peak ceiling.

    Gain is applied, then :func:`limit`; since limiting lowers loudness, the gain is
    refined for a few rounds until the result is within ``tolerance_lu`` of the target
    (or the limiter cannot get there without crushing the signal).

    Raises
    ------
    AudioError
        For silence, clips too short to measure (< 400 ms), or a target that needs more
        than ``max_gain_db`` of gain.
    """
    if not -70.0 < lufs < 0.0:
        raise AudioError(f"target loudness {lufs} LUFS is outside (-70, 0)")
    if true_peak_dbtp > 0.0:
        raise AudioError(f"true-peak ceiling {true_peak_dbtp} dBTP must be at most 0")
    current = integrated_loudness(audio)
    if not np.isfinite(current):
        raise AudioError("cannot normalise: the audio is silent or shorter than 400 ms")
    gain_db = lufs - current
    out = audio
    for _ in range(6):
        if gain_db > max_gain_db:
            raise AudioError(f"normalising would need {gain_db:.1f} dB of gain (max {max_gain_db})")
        gained = Audio((audio.samples * 10.0 ** (gain_db / 20.0)).astype(np.float32), audio.sr)
        out = limit(gained, ceiling_dbtp=true_peak_dbtp)
        got = integrated_loudness(out)
        if abs(got - lufs) <= tolerance_lu:
            break
        gain_db += lufs - got
    return out
