"""Level traits: integrated loudness, loudness range, true peak, dynamic complexity.

The measurements are those of :mod:`music.loudness` (BS.1770-4 K-weighting and channel
weights, its gates, its true-peak oversampler), driven here in one streaming pass:

- the K-weighting filter runs block by block with its state carried across blocks,
  and the weighted power is summed into 100 ms segments at once, so a 20-minute file
  costs a few MB instead of a float64 copy of the whole signal;
- 400 ms momentary blocks (integrated loudness, dynamic complexity, stem activity) and
  3 s short-term blocks (loudness range) are sums of 4 and 30 consecutive segments,
  exactly the blocks of :mod:`music.loudness` (hop 100 ms);
- the true peak is the oversampled peak of :func:`music.loudness.true_peak`, evaluated
  only where the sample peak comes within 4 dB of the file's sample peak. On music the
  inter-sample overshoot stays well under the ~3 dB of the classic worst case (a
  full-scale tone at fs/4 sampled at 45°), so no other region can hold the maximum;
  contrived sequences built to overshoot more are the known exception.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from music import loudness
from music.audio import Audio

_CHUNK = 1 << 17
_TP_BLOCK = 1024
_TP_MARGIN_DB = 4.0


@dataclass(frozen=True)
class Level:
    """Level facts of a signal (non-finite values mean silence).

    Attributes
    ----------
    integrated_lufs, range_lu, true_peak_dbtp : float
        As in :mod:`music.loudness`.
    momentary_lufs : np.ndarray, shape=(blocks,)
        Loudness of each 400 ms block (hop 100 ms), LUFS (``-inf`` for silent blocks).
    dynamic_complexity_db : float
        Mean absolute deviation of the gated momentary loudness from the integrated
        loudness, dB (after Streich 2007); 0 for silence.
    """

    integrated_lufs: float
    range_lu: float
    true_peak_dbtp: float
    momentary_lufs: np.ndarray
    dynamic_complexity_db: float


def _lufs(p: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return -0.691 + 10.0 * np.log10(p)


def segment_powers(audio: Audio, *, seg_s: float = 0.1) -> tuple[np.ndarray, int]:
    """Sums of channel-weighted K-weighted power over consecutive ``seg_s`` segments.

    Returns
    -------
    sums : np.ndarray, shape=(segments,)
        Only whole segments.
    seg : int
        Segment length in samples.
    """
    b, a = loudness.k_weighting(audio.sr)
    sos = signal.tf2sos(b, a)
    w = loudness.channel_weights(audio.channels)
    seg = round(seg_s * audio.sr)
    zi = np.zeros((sos.shape[0], audio.channels, 2))
    sums: list[np.ndarray] = []
    carry = np.empty(0)
    for start in range(0, audio.n, _CHUNK):
        x = audio.samples[:, start : start + _CHUNK].astype(np.float64)
        y, zi = signal.sosfilt(sos, x, axis=1, zi=zi)
        p = np.einsum("c,cn,cn->n", w, y, y)
        if carry.size:
            p = np.concatenate([carry, p])
        whole = p.size // seg * seg
        sums.append(p[:whole].reshape(-1, seg).sum(axis=1))
        carry = p[whole:]
    return (np.concatenate(sums) if sums else np.empty(0)), seg


def _blocks(seg_sums: np.ndarray, k: int, seg: int) -> np.ndarray:
    if seg_sums.size < k:
        return np.empty(0)
    c = np.concatenate([[0.0], np.cumsum(seg_sums)])
    return (c[k:] - c[:-k]) / (k * seg)


def gated_integrated(momentary_power: np.ndarray) -> float:
    """BS.1770-4 gating (−70 LUFS absolute, −10 LU relative) of 400 ms block powers."""
    p = momentary_power[_lufs(momentary_power) > loudness.ABS_GATE_LUFS]
    if p.size == 0:
        return float("-inf")
    p = p[_lufs(p) > _lufs(p.mean()) - 10.0]
    return float(_lufs(p.mean()))


def gated_range(short_power: np.ndarray) -> float:
    """EBU Tech 3342 loudness range of 3 s block powers (−70 absolute, −20 LU relative)."""
    p = short_power[_lufs(short_power) > loudness.ABS_GATE_LUFS]
    if p.size < 2:
        return 0.0
    levels = _lufs(p)
    levels = levels[levels > _lufs(p.mean()) - 20.0]
    if levels.size < 2:
        return 0.0
    lo, hi = np.percentile(levels, [10, 95])
    return float(hi - lo)


def true_peak(audio: Audio) -> float:
    """True peak in dBTP, as :func:`music.loudness.true_peak`, on candidate regions only."""
    x = audio.samples
    nb = -(-audio.n // _TP_BLOCK)
    bpk = np.empty(nb, np.float32)  # sample peak of each block, computed chunk by chunk
    step = 256
    for b0 in range(0, nb, step):
        b1 = min(nb, b0 + step)
        chunk = np.abs(x[:, b0 * _TP_BLOCK : b1 * _TP_BLOCK]).max(axis=0)
        if chunk.size < (b1 - b0) * _TP_BLOCK:
            chunk = np.pad(chunk, (0, (b1 - b0) * _TP_BLOCK - chunk.size))
        bpk[b0:b1] = chunk.reshape(b1 - b0, _TP_BLOCK).max(axis=1)
    top = float(bpk.max())
    if top <= 0:
        return float("-inf")
    cand = bpk >= top * 10 ** (-_TP_MARGIN_DB / 20)
    # Candidate blocks grouped into runs (gaps of up to 16 blocks bridged, at most 512
    # blocks a run, so calls stay few and memory flat), each measured with 256 samples of
    # context either side.
    idx = np.flatnonzero(cand)
    runs: list[tuple[int, int]] = []
    for i in idx:
        if runs and i - runs[-1][1] <= 16 and i + 1 - runs[-1][0] <= 512:
            runs[-1] = (runs[-1][0], int(i) + 1)
        else:
            runs.append((int(i), int(i) + 1))
    best = float("-inf")
    ctx = 256
    for s, e in runs:
        lo, hi = max(0, s * _TP_BLOCK - ctx), min(audio.n, e * _TP_BLOCK + ctx)
        env = loudness.peak_envelope(Audio(np.ascontiguousarray(x[:, lo:hi]), audio.sr))
        inner = env[s * _TP_BLOCK - lo : min(audio.n, e * _TP_BLOCK) - lo]
        best = max(best, float(inner.max()))
    return float(20 * np.log10(best)) if best > 0 else float("-inf")


def measure(audio: Audio) -> Level:
    """All level facts in one streaming pass (see the module notes)."""
    seg_sums, seg = segment_powers(audio)
    mom = _blocks(seg_sums, 4, seg)
    integrated = gated_integrated(mom)
    lra = gated_range(_blocks(seg_sums, 30, seg))
    mom_lufs = _lufs(mom) if mom.size else np.empty(0)
    dyn = 0.0
    if np.isfinite(integrated):
        gated = mom_lufs[(mom_lufs > loudness.ABS_GATE_LUFS) & (mom_lufs > integrated - 20.0)]
        if gated.size:
            dyn = float(np.mean(np.abs(gated - integrated)))
    return Level(integrated_lufs=integrated, range_lu=lra, true_peak_dbtp=true_peak(audio),
                 momentary_lufs=np.asarray(mom_lufs, np.float64), dynamic_complexity_db=dyn)
