"""Audio thumbnailing: the excerpt of a track that stands for the whole, and its faded clip.

A release's 30-second preview is the section most similar to the whole song, after Cooper &
Foote, "Automatic music summarization via similarity analysis" (ISMIR 2002).
"""

from __future__ import annotations

import numpy as np

from music.audio import Audio, resample

__all__ = ["preview_clip", "representative_start"]


def representative_start(audio: Audio, seconds: float) -> float:
    """Start (s) of the ``seconds``-long excerpt most similar to the whole track.

    Chroma + log-energy features at ~0.5 s resolution, a cosine self-similarity matrix, and
    the window whose rows have the highest mean similarity to the whole song (its most
    "typical" section), snapped to 0.5 s.

    Parameters
    ----------
    audio : Audio
        The track, any rate and channel count.
    seconds : float
        Length of the excerpt in seconds.

    Returns
    -------
    float
        Start of the excerpt in seconds; 0.0 when the track is not longer than the excerpt.
    """
    if audio.duration <= seconds + 0.5:
        return 0.0
    sr = 11_025
    y = resample(audio, sr).mono() if audio.sr != sr else audio.mono()
    hop = sr // 2
    n_fft = 4096
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(y, (0, n_fft)), n_fft)[::hop]
    spec = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=1)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1 / sr)
    valid = (freqs > 55) & (freqs < 4000)
    pcs = ((np.round(12 * np.log2(freqs[valid] / 440.0)) + 9) % 12).astype(int)
    chroma = np.zeros((spec.shape[0], 12))
    for pc in range(12):
        chroma[:, pc] = spec[:, valid][:, pcs == pc].sum(axis=1)
    energy = np.log1p(spec.sum(axis=1, keepdims=True))
    feats = np.hstack([chroma / (chroma.sum(axis=1, keepdims=True) + 1e-12), energy / (energy.max() + 1e-12)])
    feats /= np.linalg.norm(feats, axis=1, keepdims=True) + 1e-12
    sim = feats @ feats.T
    typical = sim.mean(axis=1)
    w = int(seconds * sr / hop)
    if w >= typical.size:
        return 0.0
    scores = np.convolve(typical, np.ones(w) / w, mode="valid")
    return float(np.argmax(scores) * hop / sr)


def preview_clip(audio: Audio, seconds: float) -> tuple[Audio, float]:
    """The preview excerpt with 0.5 s / 1.5 s fades, and its start time in seconds.

    Parameters
    ----------
    audio : Audio
        The track.
    seconds : float
        Length of the preview in seconds (shorter when the track is).

    Returns
    -------
    clip : Audio
        ``(channels, ≤ seconds · sr)``, same rate and channels as ``audio``.
    start : float
        Where the clip starts in ``audio``, in seconds (:func:`representative_start`).
    """
    start = representative_start(audio, seconds)
    a = int(start * audio.sr)
    b = min(audio.n, a + int(seconds * audio.sr))
    x = audio.samples[:, a:b].copy()
    fin, fout = min(x.shape[1] // 4, int(0.5 * audio.sr)), min(x.shape[1] // 4, int(1.5 * audio.sr))
    if fin:
        x[:, :fin] *= np.linspace(0, 1, fin, dtype=np.float32)
    if fout:
        x[:, -fout:] *= np.linspace(1, 0, fout, dtype=np.float32)
    return Audio(x, audio.sr), start
