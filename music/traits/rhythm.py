"""Rhythm: onset envelope, tempo, beat grid, time signature, onset rate, danceability.

Methods
-------
- Onset envelope: half-wave rectified spectral flux of the log mel spectrogram (64
  bands, 80 dB range), averaged over bands, at 86 frames/s [1]_.
- Tempo: autocorrelation of the whole onset envelope; from its strongest peak in
  40–100 BPM (often the bar) down to the tactus by halving or thirding the period while
  the faster level stays nearly as periodic [2]_ (see :func:`tempo_from_envelope`);
  the peak is refined with a parabola.
- Beats: dynamic-programming beat tracker (Ellis 2007) [3]_ at that period, vectorised
  over half-period chunks; the final tempo is the least-squares period of the tracked
  grid, which lifts the precision well beyond the 11.6 ms frame hop.
- Time signature: autocorrelation of beat-synchronous sequences (onset accents in the
  full band and the bass band, and the harmonic novelty of the beat-synchronous pitch
  profile, since chords tend to change on the downbeat) at lags 3/6 against 2/4/8 beats.
- Onset rate: peaks of the onset envelope above an adaptive threshold [1]_.

References
----------
.. [1] S. Böck, F. Krebs, M. Schedl, "Evaluating the online capabilities of onset
   detection methods", ISMIR 2012.
.. [2] G. Percival, G. Tzanetakis, "Streamlined tempo estimation based on
   autocorrelation and cross-correlation with pulses", IEEE/ACM TASLP 22(12), 2014.
.. [3] D. P. W. Ellis, "Beat tracking by dynamic programming", JNMR 36(1), 2007.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from music.traits.frontend import Features

MIN_BPM = 40.0
MAX_BPM = 240.0
MAX_TACTUS_BPM = 200.0
OFFBEAT_RATIO = 0.6
START_MAX_BPM = 100.0
ONSET_FLOOR_DB = 1.0
MIN_ONSETS = 4
MIN_CONFIDENCE = 0.25
"""Below this tempo confidence the tempo is reported as 0 (no pulse)."""
BEAT_LATENCY_S = 0.0125
"""Onset-to-detection delay of the centred 46 ms window, measured on click tracks (s)."""
TIGHTNESS = 100.0


@dataclass(frozen=True)
class Rhythm:
    """Rhythm facts. Times in seconds, tempo in BPM, scores 0–1."""

    tempo_bpm: float
    tempo_confidence: float
    beats: np.ndarray
    time_signature: str
    onset_rate_hz: float
    danceability: float
    beat_strength: float
    accents: tuple[np.ndarray, ...] = ()


def onset_envelope(mel: np.ndarray, *, bands: slice = slice(None)) -> np.ndarray:
    """Spectral flux of the log mel spectrogram, shape ``(frames,)``, ≥ 0 (dB per band).

    Parameters
    ----------
    mel : np.ndarray, shape=(n_mels, frames)
        Mel power spectrogram.
    bands : slice
        Mel bands to use (e.g. the bass bands only).
    """
    m = mel[bands]
    if m.shape[1] < 2:
        return np.zeros(m.shape[1], np.float32)
    top = float(m.max())
    if top <= 0:
        return np.zeros(m.shape[1], np.float32)
    db = 10.0 * np.log10(np.maximum(m, top * 1e-8))
    flux = np.maximum(0.0, np.diff(db, axis=1)).mean(axis=0)
    return np.concatenate([[0.0], flux]).astype(np.float32)


def _acf(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Biased autocorrelation of the mean-removed ``x``, normalised so ``r[0] == 1``."""
    x = x - x.mean()
    n = x.size
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    spec = np.fft.rfft(x, nfft)
    r = np.fft.irfft(spec * np.conj(spec), nfft)[: max_lag + 1]
    return r / r[0] if r[0] > 0 else np.zeros(max_lag + 1)


def tempo_from_envelope(o: np.ndarray, fps: float, *, accents: np.ndarray | None = None
                        ) -> tuple[float, float]:
    """Global tempo (BPM) and pulse clarity (0–1) from an onset envelope.

    The search starts at the strongest autocorrelation peak between 40 and 100 BPM, a bar,
    a half bar or a slow beat, and reaches the tactus by moving to faster metrical levels: to a third of the
    period while that level keeps ≥ 45 % of the current periodicity (triple metre, and
    the 3:2 confusions of busy off-beat patterns), else to half the period while it keeps
    ≥ 70 % and the off-beats (folded at the current period) carry at least 60 % of the
    beats' strength in ``accents`` (the envelope below 2 kHz: kick, snare, bass and
    chords, not hi-hats, which subdivide the beat), never above 200 BPM. A faster level that is
    almost as periodic is what listeners tap (Parncutt's pulse salience, Percival &
    Tzanetakis' octave decision); a much weaker one is a subdivision.

    Returns ``(0.0, 0.0)`` when the envelope has no periodicity in 40–240 BPM.
    """
    hi = int(np.ceil(60.0 * fps / MIN_BPM))
    if o.size < 2 * hi or not np.any(o > 0):
        return 0.0, 0.0
    r = _acf(o.astype(np.float64), hi + 2)
    start = int(np.floor(60.0 * fps / START_MAX_BPM))
    lag = float(start + np.argmax(r[start : hi + 1]))
    if r[int(lag)] <= 0:
        return 0.0, 0.0
    lag = _refine(r, lag)
    fastest = 60.0 * fps / MAX_TACTUS_BPM
    smooth = ndimage.maximum_filter1d((o if accents is None else accents).astype(np.float64), 5)
    while True:
        current = _peak(r, lag)
        for div, keep in ((3, 0.45), (2, 0.7)):
            cand = lag / div
            if cand < fastest or _peak(r, cand) < keep * current:
                continue
            if div == 2 and _offbeat_ratio(smooth, lag) < OFFBEAT_RATIO:
                continue  # off-beats much weaker than beats: the faster level is a subdivision
            lag = _refine(r, cand)
            break
        else:
            break
    return 60.0 * fps / lag, float(np.clip(_peak(r, lag), 0.0, 1.0))


def _offbeat_ratio(o: np.ndarray, lag: float) -> float:
    """Fold the envelope at period ``lag`` (frames); for the pair of phases half a period
    apart with the most onset strength, the weaker one's mean strength over the stronger's."""
    k = max(2, round(lag))
    phase = np.floor((np.arange(o.size) % lag) / lag * k).astype(np.int64)
    prof = np.bincount(phase, weights=o, minlength=k) / np.maximum(np.bincount(phase, minlength=k), 1)
    prof = ndimage.maximum_filter1d(prof, 3, mode="wrap")
    other = np.roll(prof, -(k // 2))
    best = int(np.argmax(prof + other))
    hi, lo = max(prof[best], other[best]), min(prof[best], other[best])
    return float(lo / hi) if hi > 0 else 0.0


def _peak(r: np.ndarray, lag: float) -> float:
    """ACF maximum within ±1 frame of a fractional lag."""
    i = round(lag)
    return float(r[max(0, i - 1) : i + 2].max())


def _refine(r: np.ndarray, lag: float) -> float:
    """Move to the local ACF maximum near ``lag`` and interpolate it with a parabola."""
    i = round(lag)
    i = max(1, min(r.size - 2, i - 1 + int(np.argmax(r[max(0, i - 1) : i + 2]))))
    a, b, c = r[i - 1], r[i], r[i + 1]
    den = a - 2 * b + c
    return i + (float(np.clip(0.5 * (a - c) / den, -0.5, 0.5)) if den < 0 else 0.0)


def track_beats(o: np.ndarray, fps: float, bpm: float) -> np.ndarray:
    """Beat frames by dynamic programming (Ellis 2007) at ``bpm``, shape ``(beats,)``."""
    if bpm <= 0 or o.size == 0 or not np.any(o > 0):
        return np.empty(0, np.int64)
    period = 60.0 * fps / bpm
    p = round(period)
    # Local score: onset envelope smoothed by a Gaussian of width ~period/32, unit std.
    t = np.arange(-p, p + 1)
    g = np.exp(-0.5 * (t * 32.0 / period) ** 2)
    local = np.convolve(o / (o.std() + 1e-12), g, mode="same")
    n = local.size
    window = np.arange(-2 * p, -round(period / 2) + 1)
    penalty = -TIGHTNESS * np.log(-window / period) ** 2
    cum = local.astype(np.float64).copy()
    back = np.full(n, -1, np.int64)
    step = max(1, -window[-1])
    for s in range(0, n, step):
        idx = np.arange(s, min(n, s + step))
        cand = idx[:, None] + window[None, :]
        valid = cand >= 0
        z = np.where(valid, cum[np.maximum(cand, 0)] + penalty, -np.inf)
        j = np.argmax(z, axis=1)
        best = z[np.arange(idx.size), j]
        ok = np.isfinite(best)
        cum[idx[ok]] = local[idx[ok]] + best[ok]
        back[idx[ok]] = cand[np.arange(idx.size), j][ok]
    tail = max(0, n - p)
    last = tail + int(np.argmax(cum[tail:]))
    beats = [last]
    while back[beats[-1]] >= 0:
        beats.append(int(back[beats[-1]]))
    b = np.array(beats[::-1], np.int64)
    # Trim beats in the silent head/tail: local score under half the median at beats.
    strong = local[b] > 0.5 * np.median(local[b])
    if strong.any():
        first, lastk = np.argmax(strong), b.size - np.argmax(strong[::-1])
        b = b[first:lastk]
    return b


def grid_tempo(beat_times: np.ndarray) -> float | None:
    """Least-squares period of a beat grid (skipped beats allowed), BPM; None if irregular."""
    if beat_times.size < 4:
        return None
    ibi = np.diff(beat_times)
    med = float(np.median(ibi))
    k = np.maximum(1, np.round(ibi / med))
    good = np.abs(ibi / k - med) < 0.08 * med
    if good.sum() < 3:
        return None
    return 60.0 * float(k[good].sum()) / float(ibi[good].sum())


def time_signature(accents: list[np.ndarray], weights: list[float] | None = None) -> str:
    """``"3/4"`` when beat accents repeat every 3 (or 6) beats more than every 2/4/8.

    Each sequence's vote is scaled by ``weights`` and by its own variability (coefficient of
    variation / 0.2, at most 1): a flat sequence (a kick on every beat) says nothing about
    the bar, however its small wobbles happen to correlate.
    """
    triple = duple = total = 0.0
    for i, a in enumerate(accents):
        if a.size < 12 or a.std() == 0 or a.mean() <= 0:
            continue
        w = (1.0 if weights is None else weights[i]) * min(1.0, float(a.std() / a.mean()) / 0.2)
        r = _acf(a.astype(np.float64), min(8, a.size - 1))
        r = np.pad(r, (0, max(0, 9 - r.size)))
        triple += w * max(r[3], r[6])
        duple += w * max(r[2], r[4], r[8])
        total += w
    return "3/4" if total > 0 and triple > duple + 0.15 * total else "4/4"


def onset_times(o: np.ndarray, fps: float) -> np.ndarray:
    """Onset frames: local maxima (±35 ms) above an adaptive mean + 0.5 std threshold
    (over ±0.25 s) and above a floor (1 dB, twice the median, 10 % of the 99th
    percentile), ≥ 30 ms apart."""
    if o.size < 3 or not np.any(o > 0):
        return np.empty(0, np.int64)
    w = max(1, round(0.035 * fps))
    local_max = ndimage.maximum_filter1d(o, 2 * w + 1) == o
    span = max(3, round(0.5 * fps) | 1)
    mean = ndimage.uniform_filter1d(o, span)
    sq = ndimage.uniform_filter1d(o * o, span)
    std = np.sqrt(np.maximum(sq - mean * mean, 0))
    # absolute floor (dB of mean band flux) and twice the median: stationary noise and
    # sustained tones fluctuate, they do not have onsets
    floor = max(ONSET_FLOOR_DB, 2.0 * float(np.median(o)), 0.1 * float(np.percentile(o, 99)))
    cand = np.flatnonzero(local_max & (o > mean + 0.5 * std) & (o > floor))
    keep: list[int] = []
    gap = round(0.03 * fps)
    for c in cand:
        if not keep or c - keep[-1] >= gap:
            keep.append(int(c))
    return np.array(keep, np.int64)


def analyse(feat: Features) -> Rhythm:
    """Every rhythm trait of one signal (see the module notes for methods)."""
    fps = feat.fps
    o = onset_envelope(feat.mel)
    bass = onset_envelope(feat.mel, bands=slice(0, int(np.searchsorted(feat.mel_freqs, 160.0))))
    onsets = onset_times(o, fps)
    onset_rate = onsets.size / max(feat.duration, 1e-9)
    if onsets.size < MIN_ONSETS:  # silence, drones, pads: no pulse to speak of
        return Rhythm(tempo_bpm=0.0, tempo_confidence=0.0, beats=np.empty(0), time_signature="4/4",
                      onset_rate_hz=float(onset_rate), danceability=0.0, beat_strength=0.0)
    low_mid = onset_envelope(feat.mel, bands=slice(0, int(np.searchsorted(feat.mel_freqs, 2000.0))))
    bpm, clarity = tempo_from_envelope(o, fps, accents=low_mid)
    beats = track_beats(o, fps, bpm)
    times = _beat_times(o, beats, fps)
    refined = grid_tempo(times)
    if refined is not None and abs(refined / bpm - 1) < 0.06:
        bpm = refined
    # share of beats that fall on a detected onset (±50 ms): a grid laid over noise has few
    aligned = 0.0
    if beats.size:
        tol = round(0.05 * fps)
        near = np.abs(beats[:, None] - onsets[None, :]).min(axis=1) <= tol
        aligned = float(near.mean())
    strength = 0.0
    if beats.size and o.mean() > 0:
        ratio = float(_window_sum(o, beats).mean() / (o.mean() * 6))
        strength = float(np.clip((ratio - 1.0) / 3.0, 0.0, 1.0))
    confidence = float(np.sqrt(clarity * aligned)) if bpm > 0 else 0.0
    if confidence < MIN_CONFIDENCE:  # a grid laid over pads or noise: say there is no pulse
        return Rhythm(tempo_bpm=0.0, tempo_confidence=confidence, beats=np.empty(0), time_signature="4/4",
                      onset_rate_hz=float(onset_rate), danceability=0.0, beat_strength=strength)
    ts, accents = "4/4", ()
    if beats.size >= 12:
        accents = (_window_sum(o, beats), _window_sum(bass, beats))
        ts = time_signature(list(accents))
    pref = float(np.exp(-0.5 * (np.log2(max(bpm, 1e-3) / 120.0) / 0.6) ** 2)) if bpm > 0 else 0.0
    dance = (0.35 * clarity + 0.25 * aligned + 0.4 * strength) * (0.5 + 0.5 * pref)
    return Rhythm(tempo_bpm=float(bpm), tempo_confidence=confidence, beats=times,
                  time_signature=ts, onset_rate_hz=float(onset_rate),
                  danceability=float(np.clip(dance, 0.0, 1.0)), beat_strength=strength,
                  accents=accents)


def _window_sum(o: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Onset strength summed over 6 frames (−23…+35 ms) around each frame: a transient's
    flux splits between neighbouring frames depending on where it falls in the hop, and
    the sum does not."""
    c = np.concatenate([[0.0], np.cumsum(o, dtype=np.float64)])
    lo = np.clip(frames - 2, 0, o.size)
    hi = np.clip(frames + 4, 0, o.size)
    return c[hi] - c[lo]


def _beat_times(o: np.ndarray, beats: np.ndarray, fps: float) -> np.ndarray:
    """Beat frames to seconds, refined to the onset-strength centroid of the 6 frames
    around each beat, plus the detection latency of a centred 46 ms window."""
    if beats.size == 0:
        return np.empty(0)
    idx = np.clip(beats[:, None] + np.arange(-2, 4)[None, :], 0, o.size - 1)
    w = o[idx].astype(np.float64)
    tot = w.sum(axis=1)
    centre = np.where(tot > 0, (w * idx).sum(axis=1) / np.where(tot > 0, tot, 1), beats)
    return centre / fps + BEAT_LATENCY_S
