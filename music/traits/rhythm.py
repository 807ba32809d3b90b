"""Rhythm: onset envelope, tempo, beat grid, time signature, onset rate, danceability.

Methods
-------
- Onset envelope: half-wave rectified spectral flux of the log mel spectrogram (64
  bands, 80 dB range), averaged over bands, at 86 frames/s [1]_.
- Tempo: autocorrelation (ACF) of the whole onset envelope [2]_; candidate metrical levels
  are the strongest ACF peak in 40–200 BPM times ¼, ⅓, ½ … 4 (and any other strong peak). Each is
  described by where it sits in the metrical hierarchy: the ACF of five onset envelopes (mel
  flux, below 2 kHz, below 160 Hz, above 1.5 kHz, full-resolution flux) at ¼ … 4 of its period
  (tempogram ratios [6]_), the harmonic-novelty ACF at 1–8 of its beats (chords change on the
  bar [5]_), kick/snare alternation and loudness coverage at its tracked beats, its tempo, and
  how it relates to the other levels. A conditional logit [7]_ fitted on clips of known tempo
  (``benchmarks/tempo_fit.py``, ``tempo_levels.json``) weighs that evidence; the softmax of the
  scores is each level's posterior weight (the runner-up is reported when it is not far behind).
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
.. [6] G. Peeters, "Spectral and temporal periodicity representations of rhythm for the
   automatic classification of music audio signal", IEEE TASLP 19(5), 2011.
.. [7] D. McFadden, "Conditional logit analysis of qualitative choice behavior", 1974.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage

from music.traits.frontend import Features
from music.traits.tonal import beat_novelty

MIN_BPM = 40.0
MAX_TACTUS_BPM = 200.0
LEVEL_RATIOS = (1 / 4, 1 / 3, 1 / 2, 1.0, 2.0, 3.0, 4.0)
"""Tempo ratios to the strongest ACF peak at which candidate metrical levels are looked for: the
metrical relatives (beat, half or whole bar, subdivision; duple or triple) of that peak."""
MIN_PERIODICITY = 0.05
"""Candidate levels less periodic than this (relative to the strongest peak) are not considered."""
PEAK_CANDIDATE = 0.75
"""Any other ACF peak in 40–200 BPM at least this high (relative to the strongest) is a candidate too."""
PRIOR_BPM = 120.0
"""Reference of the tempo features (BPM): the ~2 Hz resonance of tapping (Moelants 2002)."""
PRIOR_OCTAVES = 0.8
"""Standard deviation of the tempo prior, octaves."""
PERIODICITY_WEIGHT = 2.0
LOUDNESS_WEIGHT = 0.5
LOUDNESS_KNEE = 0.2
HARMONIC_WEIGHT = 2.0
BACKBEAT_WEIGHT = 0.25
ALTERNATION_WEIGHT = 0.5
HARMONIC_BEATS = (4.0, 8.0)
"""Chord changes every 4 to 8 beats of the tactus cost nothing; beyond, a log-normal fall-off."""
METRICAL_MULTIPLES = (1 / 4, 1 / 3, 1 / 2, 1.0, 2.0, 3.0, 4.0)
"""Multiples of a candidate's beat period at which each onset envelope's autocorrelation is read
(the candidate's "tempogram ratios", Peeters 2011; Prockup et al. 2015): subdivisions, the beat,
half bar, bar and beyond, in duple and triple time."""
HARMONIC_MULTIPLES = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
"""Multiples of a candidate's beat period at which the harmonic-novelty autocorrelation is read:
chords change on the bar or the half bar, so the bar shows there (Klapuri et al. 2006's measure)."""
ENVELOPES = ("full", "accents", "low", "high", "fine")
"""The onset envelopes whose tempogram ratios describe a level (see :class:`Bands`)."""
LEVEL_MODEL = Path(__file__).with_name("tempo_levels.json")
"""Standardisation and weights of the level scorer, fitted by ``benchmarks/tempo_fit.py`` on the
development split of ``benchmarks/traits_eval.py`` and on composer takes outside every benchmark's
seeds (never on the held-out split); the file records what it was fitted on and its scores."""
ANCHOR_RATIOS = (*LEVEL_RATIOS, 2 / 3, 3 / 2)
"""Tempo ratios to the strongest ACF peak that keep a level in its metrical hierarchy: the duple and
triple relatives, and the dotted ones (a 3/4 bar's half against its beat, a 6/8 beat against its
eighths). A ⅘ or ⅗ pulse of a syncopated pattern or a delay is periodic but outside it."""
ALT_MIN_WEIGHT = 0.2
"""A runner-up metrical level is reported (``tempo_alt_bpm``) when its posterior weight (softmax of
the level scores) is at least this."""
ONSET_FLOOR_DB = 1.0
MIN_ONSETS = 4
"""Fewer onsets than this (in the mel flux and in the slow-attack flux) and there is no tempo."""
SLOW_ONSET_LAG = 4
"""Frames (46 ms) over which :func:`slow_onset_envelope` measures a rise."""
GRID_AGREE = 0.02
"""The tracked grid's least-squares tempo replaces the chosen level's only within this fraction
of it (about half a lag frame at 200 BPM, what the ACF peak interpolation can be off by): a grid
further off has drifted (legato chorales tracked 4-5 % fast on the development split), and the
level's period is the better measure."""
MIN_SWELL_ALIGNED = 0.15
"""When the mel flux has too few onsets and the slow-attack flux stands in, the share of beats
(±50 ms) that must fall on one of its onsets. On the development split, legato chorales score
0.21-0.42 and noise whose level drifts 0.03-0.12."""
MIN_CONFIDENCE = 0.16
"""Below this pulse clarity (the clearest candidate level's) there is no tempo (``tempo_bpm`` None,
reason ``"no steady pulse"``).

Chosen on the development split of ``benchmarks/traits_eval.py``: of its material without a pulse
(rubato at log-normal onset intervals, pads changing at random times, Poisson percussion) that
gets this far, 21 of 24 clips are at or under 0.15 (the others 0.22-0.26); of its 228 clips with
a pulse, one is under 0.2 and 95 % are above 0.29. The chosen level's own clarity, used before,
refused clips whose clearest period is a bar or a half note (sparse chords, legato chorales); the
share of beats on an onset, multiplied in before that, refused legato strings and choirs."""
NO_PULSE_REASONS = ("too few onsets", "no periodicity in 40-200 BPM", "no steady pulse")
"""The values of ``tempo_reason``: fewer than ``MIN_ONSETS`` onsets (silence, drones, pads, a clip
too short); an onset envelope without periodicity in range; a beat grid that fits the onsets too
poorly (pulse clarity below ``MIN_CONFIDENCE``)."""
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


def slow_onset_envelope(mel: np.ndarray, *, lag: int = SLOW_ONSET_LAG) -> np.ndarray:
    """Rise of the log mel spectrogram over ``lag`` frames against the maximum of each band and
    its neighbours (SuperFlux, Böck & Widmer 2013), shape ``(frames,)``, ≥ 0 (dB per band).

    A bowed or sung note swells over 100–300 ms: frame to frame it rises too little to clear
    the onset floor, over ``lag`` frames it does; the maximum filter across bands keeps vibrato
    from counting as a rise.
    """
    if mel.shape[1] <= lag:
        return np.zeros(mel.shape[1], np.float32)
    top = float(mel.max())
    if top <= 0:
        return np.zeros(mel.shape[1], np.float32)
    db = 10.0 * np.log10(np.maximum(mel, top * 1e-8))
    ref = ndimage.maximum_filter1d(db, 3, axis=0)
    rise = np.maximum(0.0, db[:, lag:] - ref[:, :-lag]).mean(axis=0)
    return np.concatenate([np.zeros(lag), rise]).astype(np.float32)


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
    fine: np.ndarray | None = None
    """Full-resolution spectral flux (:attr:`~music.traits.frontend.Features.flux`): legato pitch
    changes that the mel bands blur (chorales, strings, organ)."""


def onset_bands(mel: np.ndarray, mel_freqs: np.ndarray, fine: np.ndarray | None = None) -> Bands:
    """The band envelopes of :class:`Bands` from a mel power spectrogram and its band centres (Hz),
    and the full-resolution flux when there is one."""

    def band(lo: float, hi: float) -> slice:
        return slice(int(np.searchsorted(mel_freqs, lo)), int(np.searchsorted(mel_freqs, hi)))

    below_2k = band(0.0, 2000.0)
    return Bands(accents=onset_envelope(mel, bands=below_2k), loudness=amplitude_flux(mel[below_2k]),
                 low=onset_envelope(mel, bands=band(0.0, 160.0)),
                 high=onset_envelope(mel, bands=band(1500.0, np.inf)), fine=fine)


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
    """A candidate metrical level, its evidence as the tactus and its score (:func:`tempo_levels`)."""

    bpm: float
    periodicity: float
    """Onset-envelope autocorrelation at the level's period over the strongest peak in 40–200 BPM."""
    score: float
    """Log-score of the level as the tactus (:class:`LevelModel`); the highest wins."""
    clarity: float = 0.0
    """Autocorrelation at the level's period (0–1) of the clearer of the mel and the full-resolution
    onset envelopes: the pulse clarity if it wins."""
    features: np.ndarray = field(default_factory=lambda: np.empty(0), compare=False, repr=False)
    """The level's evidence, in the order of :func:`feature_names`."""
    beats: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64), compare=False, repr=False)
    """Beat frames tracked at this level (:func:`track_beats`)."""


def feature_names() -> tuple[str, ...]:
    """Names of a level's features: the tempo relative to ``PRIOR_BPM`` (log₂, and squared), the
    tempogram ratios of every onset envelope of ``ENVELOPES`` at ``METRICAL_MULTIPLES``, the
    harmonic-novelty autocorrelation at ``HARMONIC_MULTIPLES``, and the share of the other candidates
    that are its metrical relatives (¼ … 4×): the tactus sits in a hierarchy of levels, while a dotted
    or ⅘ pulse of a syncopated pattern is periodic but relates to few of them; and whether it is a
    metrical relative of the strongest autocorrelation peak (``ANCHOR_RATIOS``)."""
    names = ["log2_tempo_sq", "log2_tempo"]
    names += [f"{e}_acf_x{m:.3g}" for e in ENVELOPES for m in METRICAL_MULTIPLES]
    names += [f"harmonic_acf_x{m:g}" for m in HARMONIC_MULTIPLES]
    names += ["log_loud_coverage", "backbeat", "log_alternation", "rule_score"]
    return (*names, "metrical_support", "relative_of_strongest")


@dataclass(frozen=True)
class LevelModel:
    """A linear scorer of metrical levels: ``((features − mean) / scale) · weights``.

    Fitted as a conditional logit (one choice among each clip's candidates; McFadden 1974) with an
    L2 penalty, so that the softmax of the scores is the posterior weight of each level.
    A feature that cannot be measured (no harmony given; a lag beyond the clip) is NaN and scores
    as its mean.
    """

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray

    def score(self, features: np.ndarray) -> float:
        z = (features - self.mean) / self.scale
        return float(np.where(np.isfinite(z), z, 0.0) @ self.weights)


@lru_cache(maxsize=1)
def level_model(path: Path = LEVEL_MODEL) -> LevelModel:
    """The shipped level scorer (:data:`LEVEL_MODEL`)."""
    doc = json.loads(path.read_text())
    names = tuple(doc["features"])
    if names != feature_names():
        raise RuntimeError(f"{path.name} was fitted on other features; rerun benchmarks/tempo_fit.py")
    return LevelModel(names, np.asarray(doc["mean"], float), np.asarray(doc["scale"], float),
                      np.asarray(doc["weights"], float))


def alternation(accents: np.ndarray) -> float:
    """Weaker over stronger of the mean accent at even and at odd beats (1: no alternation)."""
    if accents.size < 4:
        return 1.0
    even, odd = float(accents[0::2].mean()), float(accents[1::2].mean())
    return min(even, odd) / max(even, odd, 1e-9)


def _beat_evidence(beats: np.ndarray, bands: Bands) -> tuple[float, float]:
    """(loud coverage, backbeat) at the beat frames ``beats`` (see :func:`level_score`)."""
    if beats.size < 4:
        return 0.0, 0.0
    amp = _window_sum(bands.loudness, beats)
    loud = float(np.percentile(amp, 20) / max(float(np.percentile(amp, 65)), 1e-9))
    # + 0.1 dB of band flux: beats with nothing in a band must not blow up the log ratio
    x = np.log(_window_sum(bands.high, beats) + 0.1) - np.log(_window_sum(bands.low, beats) + 0.1)
    backbeat = float(-_acf(x, 1)[1]) if x.std() > 0 else 0.0
    return loud, backbeat


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


def harmonic_novelty(harmony: np.ndarray) -> np.ndarray:
    """Cosine distance of each pitch-class frame from the previous one, shape ``(frames,)``."""
    if harmony.shape[0] < 2:
        return np.zeros(harmony.shape[0])
    unit = harmony / np.maximum(np.linalg.norm(harmony, axis=1, keepdims=True), 1e-9)
    return np.concatenate([[0.0], 1.0 - np.sum(unit[1:] * unit[:-1], axis=1)])


def _ratios(r: np.ndarray, lag: float, multiples: tuple[float, ...]) -> list[float]:
    """Autocorrelation ``r`` near ``lag · m`` for each multiple (NaN beyond ``r``)."""
    return [_peak(r, lag * m) if 1 <= lag * m <= r.size - 2 else float("nan") for m in multiples]


def tempo_levels(o: np.ndarray, fps: float, bands: Bands | None = None,
                 harmony: tuple[np.ndarray, np.ndarray] | None = None,
                 model: LevelModel | None = None) -> list[Level]:
    """Candidate metrical levels of an onset envelope, each with its evidence and score.

    The candidates are the strongest autocorrelation peak in 40–200 BPM times ¼, ⅓, ½, 1, 2,
    3 and 4 (the beat is among them whether that peak is the beat, a subdivision, a half bar
    or a bar, in duple or triple time), each moved to its local ACF maximum, plus every other
    ACF peak in range at least ``PEAK_CANDIDATE`` times as high as the strongest; they are kept
    when within 40–200 BPM and at least ``MIN_PERIODICITY`` times as periodic as the strongest.

    Each level is described by where it sits in the metrical hierarchy (:func:`feature_names`):
    how periodic every onset envelope is at its subdivisions, its beat, its half bar and bar, and
    how periodic the chord changes are at 1–8 of its beats, plus its tempo. A tactus is the level
    at which hats subdivide, kicks and snares alternate and chords change every few beats; a level
    twice too fast puts the bar at 8 beats, one twice too slow the chord changes at every beat.
    ``model`` (default: :func:`level_model`) weighs that evidence. ``harmony`` is a pitch-class
    profile per frame and the frame times (s), shapes ``(frames, 12)`` and ``(frames,)``. Empty
    when the envelope has no periodicity in range.
    """
    hi = int(np.ceil(60.0 * fps / MIN_BPM))
    if o.size < 2 * hi or not np.any(o > 0):
        return []
    model = model or level_model()
    if bands is None:
        bands = Bands(accents=o, loudness=o, low=o, high=o)
    max_lag = int(np.ceil(max(METRICAL_MULTIPLES) * hi)) + 2
    r = _acf(o.astype(np.float64), max_lag)
    envs = {"full": r}
    for name in ENVELOPES[1:]:
        e = getattr(bands, name)
        envs[name] = r if e is None else _acf(e.astype(np.float64), max_lag)
    h_acf, h_fps = None, 0.0
    if harmony is not None and harmony[0].shape[0] >= 8:
        h_fps = 1.0 / float(np.median(np.diff(harmony[1])))
        nov = harmonic_novelty(harmony[0])
        h_acf = _acf(nov, nov.size - 1) if nov.std() > 0 else None
    lo = int(np.floor(60.0 * fps / MAX_TACTUS_BPM))
    top = lo + int(np.argmax(r[lo : hi + 1]))
    if r[top] <= 0:
        return []
    # the metrical relatives of the strongest peak, then any other strong peak in range
    seg = r[lo : hi + 1]
    mid = seg[1:-1]
    peaks = np.flatnonzero((mid > seg[:-2]) & (mid >= seg[2:]) & (mid >= PEAK_CANDIDATE * r[top]))
    found: list[tuple[float, float, list[float], float, np.ndarray]] = []
    for lag in [top / ratio for ratio in LEVEL_RATIOS] + [float(k + lo + 1) for k in peaks]:
        if not 60.0 * fps / (MAX_TACTUS_BPM + 0.5) <= lag <= 60.0 * fps / (MIN_BPM - 0.5):
            continue
        lag = _refine(r, lag)
        bpm = 60.0 * fps / lag
        if any(abs(bpm / f[0] - 1) < 0.02 for f in found):
            continue  # two ratios reached the same peak
        periodicity = _peak(r, lag) / float(r[top])
        if periodicity < MIN_PERIODICITY:
            continue
        x = float(np.log2(bpm / PRIOR_BPM))
        feats = [x * x, x]
        for name in ENVELOPES:
            feats += _ratios(envs[name], lag, METRICAL_MULTIPLES)
        if h_acf is None:
            feats += [float("nan")] * len(HARMONIC_MULTIPLES)
        else:
            feats += _ratios(h_acf, 60.0 * h_fps / bpm, HARMONIC_MULTIPLES)
        beats = track_beats(o, fps, bpm)
        loud, backbeat = _beat_evidence(beats, bands)
        alt = alternation(_window_sum(bands.loudness, beats))
        hp = float("nan")
        if harmony is not None and beats.size >= 6:
            hp = harmonic_period(beat_novelty(harmony[0], harmony[1], beats / fps)[1:])
        feats += [float(np.log(max(loud, 1e-3))), backbeat, float(np.log(max(alt, 1e-2))),
                  level_score(bpm, periodicity, loud, backbeat, hp, alt)]
        clarity = max(_peak(r, lag), _peak(envs["fine"], lag))
        found.append((bpm, periodicity, feats, float(np.clip(clarity, 0.0, 1.0)), beats))
    levels = []
    top_bpm = 60.0 * fps / _refine(r, float(top))
    for bpm, periodicity, feats, clarity, beats in found:
        others = [other[0] for other in found if other[0] != bpm]
        related = sum(any(abs(bpm / (b * ratio) - 1) < 0.03 for ratio in LEVEL_RATIOS) for b in others)
        related = related / len(others) if others else 1.0
        anchored = any(abs(bpm / (top_bpm * ratio) - 1) < 0.03 for ratio in ANCHOR_RATIOS)
        f = np.array([*feats, float(related), float(anchored)])
        levels.append(Level(bpm=bpm, periodicity=periodicity, score=model.score(f), clarity=clarity,
                            features=f, beats=beats))
    return levels


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

    slow = onsets.size < MIN_ONSETS  # legato strings and choirs swell rather than strike
    if slow:
        onsets = onset_times(slow_onset_envelope(feat.mel), fps)
        if onsets.size < MIN_ONSETS:
            return no_pulse(NO_PULSE_REASONS[0])  # silence, drones, a clip too short: no pulse to speak of
    bands = onset_bands(feat.mel, feat.mel_freqs, feat.flux)
    levels = tempo_levels(o, fps, bands, harmony)
    if not levels:
        return no_pulse(NO_PULSE_REASONS[1])
    ranked = sorted(levels, key=lambda lv: lv.score, reverse=True)
    best = ranked[0]
    scores = np.array([lv.score for lv in ranked])
    post = np.exp(scores - scores.max())
    post /= post.sum()
    bpm, clarity, beats = best.bpm, best.clarity, best.beats
    times = _beat_times(o, beats, fps)
    refined = grid_tempo(times)
    if refined is not None and abs(refined / bpm - 1) < GRID_AGREE:
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
    # the pulse is there whichever level is the beat: a clip of half-note chords is clearest at
    # twice the beat period, a shuffle at the bar
    confidence = max(lv.clarity for lv in ranked)
    # a near-silent flux (noise, a held pad) can look periodic: with only swells to go on, the
    # beats must also land on them
    if confidence < MIN_CONFIDENCE:
        return no_pulse(NO_PULSE_REASONS[2], confidence, strength)
    if slow and aligned < MIN_SWELL_ALIGNED:
        return no_pulse(NO_PULSE_REASONS[2], min(confidence, aligned), strength)
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
