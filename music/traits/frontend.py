"""Analysis front end: one streaming pass that reduces audio to compact features.

Everything downstream (rhythm, key, descriptors, mood) works on these features, never
on the samples, so memory stays bounded on long files:

- the input is downmixed and resampled to a 22.05 kHz mono copy block by block with a
  streaming soxr resampler (5.3 MB per minute of audio);
- spectra are computed 4096 frames at a time and reduced on the spot to a 64-band mel
  power spectrogram at 86 frames/s (1.3 MB per minute), a spectral centroid per frame,
  and the interpolated spectral peaks of a long-window STFT for pitch analysis;
- level is measured on the full-rate input, also block by block (see :mod:`.level`).

So a 20-minute stereo file needs roughly 130 MB of working memory beyond the input.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import fft as sfft

from music.audio import Audio

ANALYSIS_SR = 22_050
"""Rate (Hz) of the mono analysis copy."""
N_FFT = 1024
"""Short-window STFT size (46 ms) for onsets, mel bands and the centroid."""
HOP = 256
"""Short-window hop: 11.6 ms, i.e. 86.13 frames/s; fine enough for ±1 % tempo."""
N_MELS = 64
TONAL_N_FFT = 8192
"""Long-window STFT size (371 ms, 2.7 Hz bins) for pitch analysis."""
TONAL_HOP = 4096
"""Long-window hop (186 ms)."""
TONAL_FMAX = 5000.0
_BLOCK_FRAMES = 4096
_RESAMPLE_CHUNK = 1 << 18


@dataclass(frozen=True)
class Features:
    """Compact features of one signal.

    Attributes
    ----------
    sr : int
        Analysis rate, Hz (``ANALYSIS_SR``).
    n : int
        Length of the analysis signal, samples.
    mel : np.ndarray, shape=(N_MELS, frames), float32
        Mel power spectrogram (Slaney mel scale, 30 Hz–11 kHz), hop ``HOP``.
    mel_freqs : np.ndarray, shape=(N_MELS,)
        Centre frequency of each mel band, Hz.
    centroid : np.ndarray, shape=(frames,)
        Spectral centroid of each short frame (magnitude-weighted), Hz.
    frame_power : np.ndarray, shape=(frames,)
        Mean power of each short frame.
    flux : np.ndarray, shape=(frames,)
        Full-resolution spectral flux: mean over the 513 STFT bins of the rise of
        ``log(1 + |X|)`` from the previous frame (Dixon 2006). Unlike the 64-band mel flux it
        sees a legato voice move a semitone inside one mel band (chorales, organ, strings).
    peak_frame, peak_hz, peak_mag : np.ndarray, shape=(peaks,)
        Spectral peaks of the long-window STFT below ``TONAL_FMAX``: frame index (hop
        ``TONAL_HOP``), interpolated frequency (Hz) and magnitude.
    tonal_frames : int
        Number of long-window frames.
    """

    sr: int
    n: int
    mel: np.ndarray
    mel_freqs: np.ndarray
    centroid: np.ndarray
    frame_power: np.ndarray
    flux: np.ndarray
    peak_frame: np.ndarray
    peak_hz: np.ndarray
    peak_mag: np.ndarray
    tonal_frames: int

    @property
    def fps(self) -> float:
        """Short frames per second."""
        return self.sr / HOP

    @property
    def duration(self) -> float:
        return self.n / self.sr


def analysis_signal(audio: Audio, *, sr: int = ANALYSIS_SR) -> np.ndarray:
    """Mono downmix (channel mean) resampled to ``sr``, built block by block.

    Returns
    -------
    np.ndarray, shape=(n,), float32
    """
    import soxr

    x = audio.samples
    if audio.sr == sr:
        return audio.mono()
    rs = soxr.ResampleStream(audio.sr, sr, 1, dtype="float32", quality="HQ")
    want = round(audio.n * sr / audio.sr)
    y = np.zeros(want, np.float32)  # filled in place: no list of chunks, no second copy
    pos = 0
    for start in range(0, audio.n, _RESAMPLE_CHUNK):
        stop = min(audio.n, start + _RESAMPLE_CHUNK)
        out = rs.resample_chunk(x[:, start:stop].mean(axis=0, dtype=np.float32), last=stop == audio.n)
        take = min(out.size, want - pos)
        y[pos : pos + take] = out[:take]
        pos += take
    return y


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (Auditory Toolbox): linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, np.float64)
    lin = f / (200.0 / 3)
    log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log, lin)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), m * (200.0 / 3))


@lru_cache(maxsize=4)
def _mel_basis(sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Slaney-normalised triangular mel filterbank, 30 Hz–11 kHz, shape ``(N_MELS, N_FFT // 2 + 1)``.

    The same filters as ``librosa.filters.mel(htk=False, norm="slaney")`` (the tests
    check it), built with numpy so that extraction never imports librosa: its first
    call compiles numba kernels, seconds of start-up for one command.
    """
    edges = _mel_to_hz(np.linspace(_hz_to_mel(30.0), _hz_to_mel(min(11_000.0, sr / 2)), N_MELS + 2))
    fft_hz = np.fft.rfftfreq(N_FFT, 1.0 / sr)
    fdiff = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32), edges[1:-1]


@lru_cache(maxsize=4)
def _window(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)


def _n_frames(n: int, hop: int) -> int:
    """Frames of a centred STFT (librosa's ``center=True`` count)."""
    return 1 + n // hop


def _frame_block(y: np.ndarray, n_fft: int, hop: int, start: int, stop: int) -> np.ndarray:
    """Frames ``start … stop-1`` of the centred, zero-padded signal, shape ``(stop - start, n_fft)``.

    Only this block is copied, never a padded copy of the whole signal.
    """
    lo = start * hop - n_fft // 2
    hi = (stop - 1) * hop + n_fft // 2 + (n_fft % 2)
    seg = np.zeros(hi - lo, np.float32)
    a, b = max(lo, 0), min(hi, y.size)
    if b > a:
        seg[a - lo : b - lo] = y[a:b]
    return np.lib.stride_tricks.sliding_window_view(seg, n_fft)[::hop][: stop - start]


def features(y: np.ndarray, *, sr: int = ANALYSIS_SR, tonal: bool = True) -> Features:
    """Compute :class:`Features` of a mono analysis signal.

    Parameters
    ----------
    y : np.ndarray, shape=(n,), float32
        From :func:`analysis_signal`.
    sr : int
    tonal : bool
        Also find the long-window spectral peaks (skip for stems).
    """
    fb, mel_freqs = _mel_basis(sr)
    win = _window(N_FFT)
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / sr).astype(np.float32)
    nf = _n_frames(y.size, HOP)
    mel = np.empty((N_MELS, nf), np.float32)
    centroid = np.empty(nf, np.float32)
    power = np.empty(nf, np.float32)
    flux = np.zeros(nf, np.float32)
    prev: np.ndarray | None = None  # the last log spectrum of the previous block
    for s in range(0, nf, _BLOCK_FRAMES):
        blk = _frame_block(y, N_FFT, HOP, s, min(nf, s + _BLOCK_FRAMES)) * win
        mag = np.abs(sfft.rfft(blk, axis=1)).astype(np.float32)  # (b, bins)
        p = mag * mag
        mel[:, s : s + blk.shape[0]] = fb @ p.T
        msum = mag.sum(axis=1)
        centroid[s : s + blk.shape[0]] = (mag @ freqs) / np.maximum(msum, 1e-12)
        power[s : s + blk.shape[0]] = p.mean(axis=1)
        logmag = np.log1p(mag)
        rise = np.diff(logmag, axis=0, prepend=logmag[:1] if prev is None else prev[None])
        flux[s : s + blk.shape[0]] = np.maximum(rise, 0.0).mean(axis=1)
        prev = logmag[-1]
    pf, ph, pm, tn = _tonal_peaks(y, sr) if tonal else (np.empty(0, np.int64), np.empty(0), np.empty(0), 0)
    return Features(sr=sr, n=int(y.size), mel=mel, mel_freqs=mel_freqs, centroid=centroid,
                    frame_power=power, flux=flux, peak_frame=pf, peak_hz=ph, peak_mag=pm, tonal_frames=tn)


def _tonal_peaks(y: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Local maxima of the long-window magnitude spectrum, quadratically interpolated
    on the log magnitude (Smith & Serra 1987), above −60 dB of the frame maximum."""
    win = _window(TONAL_N_FFT)
    kmax = int(TONAL_FMAX * TONAL_N_FFT / sr) + 2
    nf = _n_frames(y.size, TONAL_HOP)
    out_f, out_hz, out_m = [], [], []
    block = max(1, _BLOCK_FRAMES // 8)
    for s in range(0, nf, block):
        blk = _frame_block(y, TONAL_N_FFT, TONAL_HOP, s, min(nf, s + block)) * win
        mag = np.abs(sfft.rfft(blk, axis=1)[:, :kmax]).astype(np.float32)
        fmax = mag.max(axis=1, keepdims=True)
        thr = np.maximum(fmax * 1e-3, 1e-7)
        c = mag[:, 1:-1]
        is_peak = (c > mag[:, :-2]) & (c >= mag[:, 2:]) & (c > thr)
        fi, ki = np.nonzero(is_peak)
        ki = ki + 1
        a = np.log(mag[fi, ki - 1] + 1e-12)
        b = np.log(mag[fi, ki] + 1e-12)
        g = np.log(mag[fi, ki + 1] + 1e-12)
        den = a - 2 * b + g
        delta = np.where(np.abs(den) > 1e-12, 0.5 * (a - g) / np.where(den == 0, 1, den), 0.0)
        delta = np.clip(delta, -0.5, 0.5)
        out_f.append(fi + s)
        out_hz.append((ki + delta) * sr / TONAL_N_FFT)
        out_m.append(np.exp(b - 0.25 * (a - g) * delta))
    cat = np.concatenate
    return cat(out_f).astype(np.int64), cat(out_hz), cat(out_m).astype(np.float32), nf
