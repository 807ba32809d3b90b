"""The track's own shapes: a cheap audio fingerprint that the styles draw.

Everything here costs O(frames), not O(samples × bins): the spectrum is taken on
``N_FRAMES`` short windows spread evenly over the track (a sparse STFT), each paired
with the window one hop later for spectral flux (onset strength, Bello et al., 2005,
"A tutorial on onset detection in music signals"). Chroma folds the same spectra onto
pitch classes (Fujishima, 1999). A 3-minute stereo track costs a few tens of milliseconds.

Without audio (traits only), :func:`synthetic_motif` draws a smooth stand-in from the seed,
so a cover can still be rendered; then only the seed tells two equal-trait tracks apart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from cover_art.errors import CoverArtError

N_FRAMES = 256
"""Time resolution of every motif curve (frames spread over the whole track)."""
N_BANDS = 48
"""Log-spaced spectral bands, 40 Hz … 16 kHz."""
WIN = 2048
ONSET_FLOOR = 200.0
"""Spectral flux (sum over bins of log-magnitude rises, 2048-point frames) that counts as a full
onset: a sustained chord stays below ~15, a click or drum hit reaches thousands."""


@dataclass(frozen=True, eq=False)
class Motif:
    """Shapes taken from one track.

    Attributes
    ----------
    envelope : np.ndarray, shape=(N_FRAMES,)
        RMS envelope over the whole track, normalised to peak 1.
    waveform : np.ndarray, shape=(N_FRAMES,)
        Signed peak-hold waveform outline (max |x| with the sign of the larger excursion), in [-1, 1].
    onsets : np.ndarray, shape=(N_FRAMES,)
        Half-wave-rectified spectral flux, normalised to peak 1.
    chroma : np.ndarray, shape=(N_FRAMES, 12)
        Per-frame pitch-class energy, each frame summing to 1.
    spectrum : np.ndarray, shape=(N_FRAMES, N_BANDS)
        Per-frame log-band magnitude in dB, rescaled to [0, 1].
    digest : str
        sha256 (hex) of the audio samples and rate, or ``"synthetic:<seed>"``.
    """

    envelope: np.ndarray
    waveform: np.ndarray
    onsets: np.ndarray
    chroma: np.ndarray
    spectrum: np.ndarray
    digest: str

    @property
    def chroma_mean(self) -> np.ndarray:
        """Mean chroma over the track, shape (12,), summing to 1."""
        c = self.chroma.mean(axis=0)
        return c / max(float(c.sum()), 1e-12)

    @property
    def seed_bits(self) -> int:
        """64 bits of the digest, to seed the layout so that the audio moves every element."""
        return int(hashlib.sha256(self.digest.encode()).hexdigest()[:16], 16)


def audio_digest(samples: np.ndarray, sr: int) -> str:
    """sha256 of the float32 samples (C order) and the rate: the audio's identity."""
    h = hashlib.sha256()
    h.update(f"{samples.shape}:{int(sr)}:".encode())
    h.update(np.ascontiguousarray(samples, dtype=np.float32).tobytes())
    return h.hexdigest()


def band_matrix(freqs: np.ndarray, n_bands: int, sr: int) -> np.ndarray:
    """Averaging weights of ``n_bands`` log-spaced bands (40 Hz … 16 kHz) over FFT bins.

    Parameters
    ----------
    freqs : np.ndarray, shape=(bins,)
        Bin centre frequencies, Hz (``np.fft.rfftfreq``).
    n_bands : int
    sr : int
        Sample rate, Hz (the top edge stays under Nyquist).

    Returns
    -------
    np.ndarray, shape=(n_bands, bins)
        Each row averages the bins of its band (a narrow low band takes its nearest bin).
    """
    edges = np.geomspace(40.0, min(16_000.0, sr / 2 * 0.98), n_bands + 1)
    m = np.zeros((n_bands, freqs.size))
    for b in range(n_bands):
        sel = (freqs >= edges[b]) & (freqs < edges[b + 1])
        if not sel.any():  # narrow low bands: take the nearest bin
            sel = np.zeros_like(freqs, dtype=bool)
            sel[np.argmin(np.abs(freqs - np.sqrt(edges[b] * edges[b + 1])))] = True
        m[b, sel] = 1.0 / sel.sum()
    return m


def chroma_matrix(freqs: np.ndarray, *, low_hz: float = 55.0) -> np.ndarray:
    """Weights folding FFT bins from ``low_hz`` to 5 kHz onto the 12 pitch classes (Fujishima 1999).

    Returns
    -------
    np.ndarray, shape=(12, bins)
        A Gaussian weight (σ = ¼ semitone) on each bin's distance to its nearest semitone.
    """
    ok = (freqs >= low_hz) & (freqs <= 5_000.0)
    midi = 69 + 12 * np.log2(np.maximum(freqs, 1e-9) / 440.0)
    pcs = np.mod(np.round(midi), 12).astype(int)
    # A Gaussian weight on the distance to the nearest semitone keeps between-note bins quiet.
    w = np.exp(-0.5 * ((midi - np.round(midi)) / 0.25) ** 2) * ok
    m = np.zeros((12, freqs.size))
    m[pcs[ok], np.nonzero(ok)[0]] = w[ok]
    return m


def motif_from_audio(samples: np.ndarray, sr: int, *, digest: str | None = None) -> Motif:
    """Compute the :class:`Motif` of audio.

    Parameters
    ----------
    samples : np.ndarray, shape=(channels, n)
        Float samples in [-1, 1].
    sr : int
        Sample rate in Hz.
    digest : str, optional
        Precomputed :func:`audio_digest`.

    Returns
    -------
    Motif
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] == 0:
        raise CoverArtError(f"audio must be a non-empty (channels, n) array, got shape {x.shape}")
    digest = digest or audio_digest(x, sr)
    mono = x.mean(axis=0, dtype=np.float64).astype(np.float32)
    n = mono.size
    if n < WIN * 2:
        mono = np.pad(mono, (0, WIN * 2 - n))
        n = mono.size

    # Envelope and waveform outline: block statistics over N_FRAMES equal blocks.
    block = n // N_FRAMES
    if block >= 1:
        blocks = mono[: block * N_FRAMES].reshape(N_FRAMES, block)
    else:
        blocks = np.resize(mono, (N_FRAMES, 1))
    rms = np.sqrt(np.mean(blocks.astype(np.float64) ** 2, axis=1))
    hi, lo = blocks.max(axis=1), blocks.min(axis=1)
    wave = np.where(hi >= -lo, hi, lo).astype(np.float64)

    # Sparse STFT: N_FRAMES windows spread over the track, each with a partner one hop later.
    hop = WIN // 4
    starts = np.linspace(0, n - WIN - hop, N_FRAMES).astype(np.int64)
    idx = starts[:, None] + np.arange(WIN)[None, :]
    window = np.hanning(WIN).astype(np.float32)
    spec_a = np.abs(np.fft.rfft(mono[idx] * window, axis=1))
    spec_b = np.abs(np.fft.rfft(mono[idx + hop] * window, axis=1))
    flux = np.maximum(np.log1p(100 * spec_b) - np.log1p(100 * spec_a), 0).sum(axis=1)

    freqs = np.fft.rfftfreq(WIN, 1.0 / sr)
    bands = spec_a @ band_matrix(freqs, N_BANDS, sr).T
    db = 20 * np.log10(np.maximum(bands, 1e-7))
    top = db.max()
    spectrum = np.clip((db - (top - 80.0)) / 80.0, 0, 1)

    chroma = (spec_a ** 2) @ chroma_matrix(freqs).T
    chroma = chroma / np.maximum(chroma.sum(axis=1, keepdims=True), 1e-12)

    def unit(v: np.ndarray) -> np.ndarray:
        peak = float(np.max(np.abs(v)))
        return v / peak if peak > 1e-12 else np.zeros_like(v)

    onsets = flux / max(float(flux.max()), ONSET_FLOOR)
    return Motif(envelope=unit(rms), waveform=unit(wave), onsets=onsets, chroma=chroma,
                 spectrum=spectrum, digest=digest)


def synthetic_motif(seed: int) -> Motif:
    """A smooth stand-in motif for traits-only renders, drawn from ``seed``."""
    rng = np.random.default_rng([0x5EED, seed])
    t = np.linspace(0, 1, N_FRAMES)

    def smooth(k: int, shape: tuple[int, ...] = ()) -> np.ndarray:
        coeffs = rng.standard_normal((k, *shape)) / (1 + np.arange(k)).reshape((k,) + (1,) * len(shape))
        phases = rng.uniform(0, 2 * np.pi, (k, *shape))
        freq = (1 + np.arange(k)).reshape((k,) + (1,) * len(shape))
        tt = t.reshape((1, -1) + (1,) * len(shape))
        return np.sum(coeffs[:, None] * np.sin(2 * np.pi * freq[:, None] * tt + phases[:, None]), axis=0)

    env = np.abs(smooth(6)) + 0.3
    env /= env.max()
    wave = smooth(24)
    wave /= np.abs(wave).max()
    onsets = np.clip(rng.standard_normal(N_FRAMES), 0, None) ** 2
    onsets /= max(onsets.max(), 1e-12)
    chroma = np.exp(smooth(4, (12,)))
    chroma /= chroma.sum(axis=1, keepdims=True)
    spectrum = np.clip(0.7 - 0.5 * np.linspace(0, 1, N_BANDS)[None, :] + 0.1 * smooth(3, (N_BANDS,)), 0, 1)
    return Motif(envelope=env, waveform=wave, onsets=onsets, chroma=chroma, spectrum=spectrum,
                 digest=f"synthetic:{seed}")


def motif_for(audio: Any, seed: int) -> Motif:
    """The motif a cover draws: of ``audio`` when given, else :func:`synthetic_motif` of ``seed``.

    Parameters
    ----------
    audio : music.audio.Audio, Motif or None
        Anything with ``samples`` (shape ``(channels, n)``) and ``sr``; a ready
        :class:`Motif` is returned as is.
    seed : int
        Seeds the stand-in motif when there is no audio.

    Raises
    ------
    CoverArtError
        If ``audio`` is neither an audio object nor a :class:`Motif`.
    """
    if audio is None:
        return synthetic_motif(seed)
    if isinstance(audio, Motif):
        return audio
    samples = getattr(audio, "samples", None)
    sr = getattr(audio, "sr", None)
    if samples is None or sr is None:
        raise CoverArtError(f"audio must be a music.audio.Audio, got {type(audio).__name__}")
    return motif_from_audio(samples, sr, digest=audio_digest(samples, sr))
