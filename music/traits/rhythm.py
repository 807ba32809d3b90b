"""Rhythm: onset envelope, tempo, beat grid, time signature, onset rate, danceability.

Methods
-------
- Onset envelope: half-wave rectified spectral flux of the log mel spectrogram (64
  bands, 80 dB range), averaged over bands, at 86 frames/s [1]_.
- Tempo: autocorrelation (ACF) of the whole onset envelope [2]_; candidate metrical levels
  are the strongest ACF peak in 40–200 BPM times ¼, ⅓, ½ … 4 (and any other strong peak), each
  refined with a parabola, beat-tracked, and scored by a log-normal tempo prior, its
  periodicity, whether every beat carries an accent below 2 kHz, and whether kick-like and
  snare-like beats alternate (a backbeat) [4]_ [5]_ (see :func:`level_score`); the best wins.
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
.. [4] D. Moelants, "Preferred tempo reconsidered", ICMPC 2002.
.. [5] A. Klapuri, A. Eronen, J. Astola, "Analysis of the meter of acoustic musical
   signals", IEEE TASLP 14(1), 2006.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import ndimage

from music.traits.frontend import Features

MIN_BPM = 40.0
MAX_BPM = 240.0
MAX_TACTUS_BPM = 200.0
LEVEL_RATIOS = (1 / 4, 1 / 3, 1 / 2, 1.0, 2.0, 3.0, 4.0)
"""Tempo ratios to the strongest ACF peak at which candidate metrical levels are looked for: the
metrical relatives (beat, half or whole bar, subdivision; duple or triple) of that peak."""
MIN_PERIODICITY = 0.2
"""Candidate levels less periodic than this (relative to the strongest peak) are not considered."""
PEAK_CANDIDATE = 0.75
"""Any other ACF peak in 40–200 BPM at least this high (relative to the strongest) is a candidate too."""
PRIOR_BPM = 120.0
"""Centre of the log-normal tempo prior (BPM): the ~2 Hz resonance of tapping (Moelants 2002)."""
PRIOR_OCTAVES = 0.8
"""Standard deviation of the tempo prior, octaves."""
PERIODICITY_WEIGHT = 2.0
LOUDNESS_WEIGHT = 0.5
LOUDNESS_KNEE = 0.2
HARMONIC_WEIGHT = 2.0
BACKBEAT_WEIGHT = 0.25
ALTERNATION_WEIGHT = 0.5
CROSS_METRICAL_PENALTY = 1.0
"""Log-score taken from a candidate that is no metrical relative (¼ … 4×) of any other candidate:
a dotted or ⅔ pulse of a syncopated pattern is periodic but rarely the tactus."""
HARMONIC_BEATS = (4.0, 8.0)
"""Chord changes every 4 to 8 beats of the tactus cost nothing; beyond, a log-normal fall-off."""
"""Weights and knees of :func:`level_score`, and the centre (beats) of the harmonic-rhythm prior,
chosen on the development split of ``benchmarks/traits_eval.py`` (never on its held-out split)."""
ALT_MIN_WEIGHT = 0.2
"""A runner-up metrical level is reported (``tempo_alt_bpm``) when its posterior weight (softmax of
the level scores) is at least this."""
ONSET_FLOOR_DB = 1.0
MIN_ONSETS = 4
MIN_CONFIDENCE = 0.25
"""Below this tempo confidence there is no tempo (``tempo_bpm`` None, reason ``"no steady pulse"``)."""
NO_PULSE_REASONS = ("too few onsets", "no periodicity in 40-200 BPM", "no steady pulse")
"""The values of ``tempo_reason``: fewer than ``MIN_ONSETS`` onsets (silence, drones, pads, a clip
too short); an onset envelope without periodicity in range; a beat grid that fits the onsets too
poorly (confidence below ``MIN_CONFIDENCE``)."""
BEAT_LATENCY_S = 0.0125
"""Onset-to-detection delay of the centred 46 ms window, measured on click tracks (s)."""
TIGHTNESS = 100.0


@dataclass(frozen=True)
class Rhythm:
    """Rhythm facts. Times in seconds, tempo in BPM, scores 0–1."""

    tempo_bpm: float | None
    tempo_confidence: float
    beats: np.ndarray
    time_signature: str
    onset_rate_hz: float
    danceability: float
    beat_strength: float
    accents: tuple[np.ndarray, ...] = ()
    tempo_reason: str | None = None
    """Why there is no tempo (``tempo_bpm`` is None): see :data:`NO_PULSE_REASONS`."""
    tempo_alt_bpm: float | None = None
    """The runner-up metrical level (usually half or double) when it is not far behind."""
    tempo_alt_weight: float = 0.0
    """Posterior weight (0–1) of the runner-up level against the winner and all other levels."""


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


@dataclass(frozen=True)
class Bands:
    """Band onset envelopes (same frames as the full-band one) that tell metrical levels apart."""

    accents: np.ndarray
    """Below 2 kHz: kick, snare body, bass and chords; not the hi-hats, which subdivide the beat."""
    loudness: np.ndarray
    """Below 2 kHz, rises of the total amplitude (:func:`amplitude_flux`)."""
    low: np.ndarray
    """Below 160 Hz: kick and bass."""
    high: np.ndarray
    """Above 1.5 kHz: snare and clap noise (and hats)."""


def onset_bands(mel: np.ndarray, mel_freqs: np.ndarray) -> Bands:
    """The band envelopes of :class:`Bands` from a mel power spectrogram and its band centres (Hz)."""

    def band(lo: float, hi: float) -> slice:
        return slice(int(np.searchsorted(mel_freqs, lo)), int(np.searchsorted(mel_freqs, hi)))

    below_2k = band(0.0, 2000.0)
    return Bands(accents=onset_envelope(mel, bands=below_2k), loudness=amplitude_flux(mel[below_2k]),
                 low=onset_envelope(mel, bands=band(0.0, 160.0)),
                 high=onset_envelope(mel, bands=band(1500.0, np.inf)))


def amplitude_flux(mel: np.ndarray) -> np.ndarray:
    """Rises of the band's total amplitude (square root of the summed mel power), shape ``(frames,)``.

    Unlike :func:`onset_envelope` (the mean rise in dB over bands, which counts *how many*
    bands rise, however quietly), this measures *how loud* an onset is in the band: a hi-hat
    adds almost nothing below 2 kHz, a kick, snare, bass note or chord a lot.
    """
    amp = np.sqrt(mel.sum(axis=0, dtype=np.float64))
    if amp.size < 2:
        return np.zeros(amp.size, np.float32)
    return np.concatenate([[0.0], np.maximum(0.0, np.diff(amp))]).astype(np.float32)


@dataclass(frozen=True)
class Level:
    """A candidate metrical level and the evidence for it as the tactus (see :func:`level_score`)."""

    bpm: float
    periodicity: float
    """Onset-envelope autocorrelation at the level's period over the strongest peak in 40–200 BPM."""
    coverage: float
    """20th percentile over median of the accent strength (below 2 kHz) at the beats tracked at
    this level: near 1 when every beat carries an accent, near 0 when some beats carry none."""
    backbeat: float
    """Minus the lag-1 autocorrelation of the beats' high-band over low-band log accent: near 1
    when kick-like and snare-like beats alternate, near 0 when the beats all sound alike."""
    loud_coverage: float
    """20th over 65th percentile of the amplitude rise below 2 kHz at the beats: near 0 when a
    fifth of the beats or more add (almost) no loudness there, e.g. hi-hats alone."""
    score: float
    clarity: float = 0.0
    alternation: float = 1.0
    """Weaker over stronger mean loudness rise (below 2 kHz) of the even and the odd beats."""
    harmonic_period: float = float("nan")
    """Median number of beats between chord changes (peaks of the beat-synchronous harmonic
    novelty), NaN when fewer than three changes are seen or no pitch profile was given."""
    """Onset-envelope autocorrelation at the level's period (0–1): the pulse clarity if it wins."""
    beats: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64), compare=False, repr=False)
    """Beat frames tracked at this level (:func:`track_beats`)."""


def level_score(bpm: float, periodicity: float, loud_coverage: float, backbeat: float = 0.0,
                harmonic_period: float = float("nan"), alternation: float = 1.0) -> float:
    """Log-score of a metrical level as the tactus; the highest wins.

    ``−½ (log₂(bpm / PRIOR_BPM) / PRIOR_OCTAVES)² + PERIODICITY_WEIGHT · ln periodicity
    + LOUDNESS_WEIGHT · ln min(1, loud_coverage / LOUDNESS_KNEE)
    + BACKBEAT_WEIGHT · backbeat + ALTERNATION_WEIGHT · ln alternation
    − HARMONIC_WEIGHT · ½ d²``, with ``d`` the distance in octaves of the harmonic period from
    ``HARMONIC_BEATS`` (0 inside it):

    - a log-normal tempo prior: the tempo listeners prefer to tap (a resonance near 2 Hz,
      Moelants 2002; a log-normal tactus prior as in Klapuri et al. 2006);
    - periodicity: a slower level is about as periodic as a faster one it contains, so this
      mostly rules out levels much weaker than the strongest;
    - loudness coverage: a tactus puts a rise of loudness below 2 kHz on (nearly) every beat,
      while a level twice too fast leaves every other beat to a hi-hat or to nothing;
    - backbeat: beats that alternate kick and snare (snare on 2 and 4) mark the tactus; at half
      that tempo the snares fall between the beats, at double on every fourth beat;
    - alternation: the loudness rise below 2 kHz at even against odd beats (the weaker over the
      stronger mean); a level whose beats go strong–weak–strong–weak is a subdivision of the
      tactus (the weak beats are its off-beats);
    - harmonic rhythm: chords change every bar or two, 4–8 beats of the tactus (the harmonic
      period is a metrical level of its own, Klapuri et al.'s measure level). Eighth-note
      arpeggios or sixteenth hats over a slow groove make the double tempo as periodic as the
      beat; at that tempo the chords would change only every 8–16 beats. No term when no chord
      changes are seen (drums alone, one chord).
    """
    prior = -0.5 * (np.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2
    harmonic = 0.0
    if np.isfinite(harmonic_period) and harmonic_period > 0:
        lo, hi = HARMONIC_BEATS
        d = max(0.0, np.log2(lo / harmonic_period), np.log2(harmonic_period / hi))
        harmonic = -0.5 * d**2
    return float(prior + PERIODICITY_WEIGHT * np.log(max(periodicity, 1e-3))
                 + LOUDNESS_WEIGHT * np.log(min(1.0, max(loud_coverage, 1e-3) / LOUDNESS_KNEE))
                 + BACKBEAT_WEIGHT * backbeat + ALTERNATION_WEIGHT * np.log(max(alternation, 1e-2))
                 + HARMONIC_WEIGHT * harmonic)


def alternation(accents: np.ndarray) -> float:
    """Weaker over stronger of the mean accent at even and at odd beats (1: no alternation)."""
    if accents.size < 4:
        return 1.0
    even, odd = float(accents[0::2].mean()), float(accents[1::2].mean())
    return min(even, odd) / max(even, odd, 1e-9)


def harmonic_period(novelty: np.ndarray) -> float:
    """Median beats between chord changes from a per-beat harmonic novelty, NaN when unclear.

    A change is a local maximum of the novelty above 0.4 of its maximum; fewer than three
    changes say nothing about the harmonic rhythm.
    """
    if novelty.size < 5 or novelty.max() <= 0:
        return float("nan")
    z = novelty / novelty.max()
    mid = z[1:-1]
    peaks = np.flatnonzero((mid > 0.4) & (mid >= z[:-2]) & (mid >= z[2:])) + 1
    return float(np.median(np.diff(peaks))) if peaks.size >= 3 else float("nan")


def tempo_levels(o: np.ndarray, fps: float, bands: Bands | None = None,
                 harmony: tuple[np.ndarray, np.ndarray] | None = None) -> list[Level]:
    """Candidate metrical levels of an onset envelope, each with its evidence and score.

    The candidates are the strongest autocorrelation peak in 40–200 BPM times ¼, ⅓, ½, 1, 2,
    3 and 4 (the beat is among them whether that peak is the beat, a subdivision, a half bar
    or a bar, in duple or triple time), each moved to its local ACF maximum, plus every other
    ACF peak in range at least ``PEAK_CANDIDATE`` times as high as the strongest (a pulse
    almost as periodic, whatever its ratio); they are kept when within 40–200 BPM and at
    least ``MIN_PERIODICITY`` times as periodic as the strongest. Cross-metrical ratios (⅔,
    4/3) are not tried as such: in 4/4 they are a dotted level, which syncopated patterns make
    periodic enough to win on periodicity and backbeat alone.
    Each is beat-tracked (:func:`track_beats`) for the evidence at its beats. ``harmony`` is a
    pitch-class profile per frame and the frame times (s), shapes ``(frames, 12)`` and
    ``(frames,)``, for the harmonic rhythm at each level. Empty when the envelope has no
    periodicity in range.
    """
    hi = int(np.ceil(60.0 * fps / MIN_BPM))
    if o.size < 2 * hi or not np.any(o > 0):
        return []
    if bands is None:
        bands = Bands(accents=o, loudness=o, low=o, high=o)
    r = _acf(o.astype(np.float64), hi + 2)
    lo = int(np.floor(60.0 * fps / MAX_TACTUS_BPM))
    top = lo + int(np.argmax(r[lo : hi + 1]))
    if r[top] <= 0:
        return []
    levels: list[Level] = []
    # the metrical relatives of the strongest peak, then any other strong peak in range
    seg = r[lo : hi + 1]
    mid = seg[1:-1]
    peaks = np.flatnonzero((mid > seg[:-2]) & (mid >= seg[2:]) & (mid >= PEAK_CANDIDATE * r[top]))
    for lag in [top / ratio for ratio in LEVEL_RATIOS] + [float(k + lo + 1) for k in peaks]:
        if not 60.0 * fps / (MAX_TACTUS_BPM + 0.5) <= lag <= 60.0 * fps / (MIN_BPM - 0.5):
            continue
        lag = _refine(r, lag)
        bpm = 60.0 * fps / lag
        if any(abs(bpm / lv.bpm - 1) < 0.02 for lv in levels):
            continue  # two ratios reached the same peak
        periodicity = _peak(r, lag) / float(r[top])
        if periodicity < MIN_PERIODICITY:
            continue

        beats = track_beats(o, fps, bpm)
        coverage, loud, backbeat = _beat_evidence(beats, bands)
        alt = alternation(_window_sum(bands.loudness, beats))
        hp = float("nan")
        if harmony is not None and beats.size >= 6:
            from music.traits.tonal import beat_novelty

            hp = harmonic_period(beat_novelty(harmony[0], harmony[1], beats / fps)[1:])
        levels.append(Level(bpm=bpm, periodicity=periodicity, coverage=coverage, loud_coverage=loud,
                            backbeat=backbeat, alternation=alt,
                            score=level_score(bpm, periodicity, loud, backbeat, hp, alt),
                            clarity=float(np.clip(_peak(r, 60.0 * fps / bpm), 0.0, 1.0)), beats=beats,
                            harmonic_period=hp))
    # a level that is no metrical relative (¼ … 4×) of any other candidate is cross-metrical
    out = []
    for lv in levels:
        related = any(abs(lv.bpm / (other.bpm * ratio) - 1) < 0.03 for other in levels if other is not lv
                      for ratio in LEVEL_RATIOS if ratio != 1.0)
        out.append(lv if related else replace(lv, score=lv.score - CROSS_METRICAL_PENALTY))
    return out


def best_level(o: np.ndarray, fps: float, *, bands: Bands | None = None,
               harmony: tuple[np.ndarray, np.ndarray] | None = None) -> Level | None:
    """The tactus: the best-scoring candidate of :func:`tempo_levels` (:func:`level_score`: tempo
    prior, periodicity, accent coverage, backbeat), with its pulse clarity and tracked beats;
    ``None`` when the envelope has no periodicity in 40–200 BPM. ``bands`` gives the band
    envelopes for the evidence (the full-band envelope stands in for all of them when omitted)."""
    levels = tempo_levels(o, fps, bands, harmony)
    return max(levels, key=lambda lv: lv.score) if levels else None


def _beat_evidence(beats: np.ndarray, bands: Bands) -> tuple[float, float, float]:
    """(coverage, loud coverage, backbeat) at the beat frames ``beats`` (see :class:`Level`)."""
    if beats.size < 4:
        return 0.0, 0.0, 0.0
    acc = _window_sum(bands.accents, beats)
    coverage = float(np.percentile(acc, 20) / max(float(np.median(acc)), 1e-9))
    amp = _window_sum(bands.loudness, beats)
    loud = float(np.percentile(amp, 20) / max(float(np.percentile(amp, 65)), 1e-9))
    # + 0.1 dB of band flux: beats with nothing in a band must not blow up the log ratio
    x = np.log(_window_sum(bands.high, beats) + 0.1) - np.log(_window_sum(bands.low, beats) + 0.1)
    backbeat = float(-_acf(x, 1)[1]) if x.std() > 0 else 0.0
    return coverage, loud, backbeat


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


def analyse(feat: Features, *, harmony: tuple[np.ndarray, np.ndarray] | None = None) -> Rhythm:
    """Every rhythm trait of one signal (see the module notes for methods).

    ``harmony``: per-frame pitch-class profiles and their times (s), for the harmonic rhythm
    term of :func:`level_score` (see :func:`music.traits.tonal.chroma_frames`).
    """
    fps = feat.fps
    o = onset_envelope(feat.mel)
    onsets = onset_times(o, fps)
    onset_rate = onsets.size / max(feat.duration, 1e-9)

    def no_pulse(reason: str, confidence: float = 0.0, strength: float = 0.0) -> Rhythm:
        return Rhythm(tempo_bpm=None, tempo_confidence=confidence, beats=np.empty(0), time_signature="4/4",
                      onset_rate_hz=float(onset_rate), danceability=0.0, beat_strength=strength,
                      tempo_reason=reason)

    if onsets.size < MIN_ONSETS:  # silence, drones, pads: no pulse to speak of
        return no_pulse(NO_PULSE_REASONS[0])
    bands = onset_bands(feat.mel, feat.mel_freqs)
    levels = tempo_levels(o, fps, bands, harmony)
    if not levels:
        return no_pulse(NO_PULSE_REASONS[1])
    ranked = sorted(levels, key=lambda lv: lv.score, reverse=True)
    best = ranked[0]  # its beats are already tracked
    scores = np.array([lv.score for lv in ranked])
    post = np.exp(scores - scores.max())
    post /= post.sum()
    bpm, clarity, beats = best.bpm, best.clarity, best.beats
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
    confidence = float(np.sqrt(clarity * aligned))
    if confidence < MIN_CONFIDENCE:  # a grid laid over pads or noise: say there is no pulse
        return no_pulse(NO_PULSE_REASONS[2], confidence, strength)
    alt_bpm, alt_w = None, 0.0
    if len(ranked) > 1 and post[1] >= ALT_MIN_WEIGHT:
        alt_bpm, alt_w = round(float(ranked[1].bpm * bpm / best.bpm), 1), float(post[1])
    ts, accents = "4/4", ()
    if beats.size >= 12:
        accents = (_window_sum(o, beats), _window_sum(bands.low, beats))
        ts = time_signature(list(accents))
    pref = float(np.exp(-0.5 * (np.log2(max(bpm, 1e-3) / 120.0) / 0.6) ** 2))
    dance = (0.35 * clarity + 0.25 * aligned + 0.4 * strength) * (0.5 + 0.5 * pref)
    return Rhythm(tempo_bpm=float(bpm), tempo_confidence=confidence, beats=times,
                  time_signature=ts, onset_rate_hz=float(onset_rate),
                  danceability=float(np.clip(dance, 0.0, 1.0)), beat_strength=strength,
                  accents=accents, tempo_alt_bpm=alt_bpm, tempo_alt_weight=round(alt_w, 3))


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
