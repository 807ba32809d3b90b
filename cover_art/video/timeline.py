"""The music's features at the video's frame rate: what animates the picture.

One short-time spectrum per video frame (a 2048-sample Hann window centred on the frame's
time, Allen 1977), from which:

* *loudness*: RMS level in dB, mapped −60 … 0 dBFS → 0 … 1, with a fast attack and a
  ~120 ms release (a VU-like ballistic, so the picture breathes instead of flickering);
* *onsets*: half-wave-rectified log-spectral flux (Bello et al. 2005), scaled like
  :data:`cover_art.motif.ONSET_FLOOR` so a sustained chord stays near 0;
* *bands*: low (< 250 Hz), mid (250 Hz–4 kHz) and high (> 4 kHz) energy, each 0 … 1;
* *spectrum*: ``N_BANDS`` log-spaced bands (40 Hz–16 kHz) in dB, rescaled to 0 … 1;
* *chroma*: pitch-class energy (Fujishima 1999) of a longer (~186 ms) window above 100 Hz,
  each frame summing to 1;
* *beat* and *downbeat* pulses: 1 at the first frame at or after each beat (times from
  ``music.traits``), decaying with a time constant of a third of a beat; downbeats are the
  bar phase (of ``meter`` beats) whose beats carry the most low-band onset energy;
* *chord* pulse and *chord_root*: the beat-synchronous chroma matched against the 24 major and
  minor triads; a pulse where the best triad changes;
* per *stem* (a take's drums, bass, …): an onset pulse (drums, percussion) or a loudness envelope
  (everything else). Without stems, ``drums`` is the high-band onset and ``bass`` the low band of
  the mix, so the same elements still move.

``loop=True`` crossfades the last ``LOOP_S`` seconds of every curve into its first frame, so the
last frame of a clip leads into the first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from cover_art.errors import CoverArtError
from cover_art.motif import ONSET_FLOOR, WIN, band_matrix, chroma_matrix

N_BANDS = 32
"""Log-spaced spectral bands of the timeline (40 Hz … 16 kHz)."""
LOW_HZ, HIGH_HZ = 250.0, 4000.0
CHROMA_LOW_HZ = 100.0
"""Chroma starts where the chroma window resolves semitones (two bins or more apart)."""
LOOP_S = 1.0
"""Seconds at the end of a looped clip that crossfade into its first frame."""
RELEASE_S = 0.12
PERCUSSIVE_STEMS = ("drums", "drum", "percussion", "perc", "kit", "beat")
_CHUNK = 256

_TRIADS = np.array([np.roll([1.0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0], r) for r in range(12)]
                   + [np.roll([1.0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0], r) for r in range(12)])
_TRIADS = (_TRIADS - _TRIADS.mean(axis=1, keepdims=True)) / _TRIADS.std(axis=1, keepdims=True)


@dataclass(frozen=True, eq=False)
class Timeline:
    """Per-frame music features, all of shape ``(n_frames, ...)`` and in 0 … 1 unless noted.

    Attributes
    ----------
    fps : float
        Frames per second.
    n_frames : int
    loudness, onsets, beat, downbeat, chord : np.ndarray, shape=(n_frames,)
    bands : np.ndarray, shape=(n_frames, 3)
        Low, mid, high.
    spectrum : np.ndarray, shape=(n_frames, N_BANDS)
    chroma : np.ndarray, shape=(n_frames, 12)
    chord_root : np.ndarray, shape=(n_frames,), int
        Pitch class (0 = C) of the current chord's root.
    stems : dict of str to np.ndarray, shape=(n_frames,)
        One curve per stem, plus ``drums`` and ``bass`` always (from the mix when absent).
    beat_times, downbeat_times, chord_times : np.ndarray
        Event times, s.
    """

    fps: float
    n_frames: int
    loudness: np.ndarray
    onsets: np.ndarray
    bands: np.ndarray
    spectrum: np.ndarray
    chroma: np.ndarray
    beat: np.ndarray
    downbeat: np.ndarray
    chord: np.ndarray
    chord_root: np.ndarray
    stems: dict[str, np.ndarray]
    beat_times: np.ndarray = field(repr=False)
    downbeat_times: np.ndarray = field(repr=False)
    chord_times: np.ndarray = field(repr=False)

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    @property
    def progress(self) -> np.ndarray:
        """Frame index / n_frames, shape ``(n_frames,)``: 0 at the first frame, < 1 at the last."""
        return np.arange(self.n_frames) / self.n_frames

    def digest(self) -> str:
        """sha256 of every curve: what the frames are drawn from."""
        h = hashlib.sha256(f"{self.fps}:{self.n_frames}".encode())
        for name in ("loudness", "onsets", "bands", "spectrum", "chroma", "beat", "downbeat", "chord",
                     "chord_root"):
            h.update(np.ascontiguousarray(getattr(self, name), dtype=np.float32).tobytes())
        for name in sorted(self.stems):
            h.update(name.encode())
            h.update(np.ascontiguousarray(self.stems[name], dtype=np.float32).tobytes())
        return h.hexdigest()


def _mono(audio: Any) -> tuple[np.ndarray, int]:
    samples = getattr(audio, "samples", None)
    sr = getattr(audio, "sr", None)
    if samples is None or sr is None:
        raise CoverArtError(f"audio must be a music.audio.Audio, got {type(audio).__name__}")
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] == 0:
        raise CoverArtError(f"audio must be a non-empty (channels, n) array, got shape {x.shape}")
    return x.mean(axis=0, dtype=np.float32), int(sr)


def _frame_spectra(mono: np.ndarray, sr: int, times: np.ndarray, win: int = WIN):
    """Yield ``(rows, |X|)`` for chunks of frames: the magnitude spectrum centred on each time."""
    pad = win // 2
    x = np.pad(mono, (pad, pad + win))
    window = np.hanning(win).astype(np.float32)
    centres = np.round(times * sr).astype(np.int64)
    for lo in range(0, times.size, _CHUNK):
        c = centres[lo:lo + _CHUNK]
        idx = np.clip(c, 0, mono.size)[:, None] + np.arange(win)[None, :]
        yield slice(lo, lo + c.size), np.abs(np.fft.rfft(x[idx] * window, axis=1)).astype(np.float32)


def _chroma_window(sr: int) -> int:
    """A power of two near 186 ms: 5.4 Hz bins at 44.1 kHz, finer than a semitone above 100 Hz."""
    return 1 << max(round(np.log2(0.186 * sr)), 9)


def _dot(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``x @ m.T`` by numpy's own einsum loops, not BLAS: a threaded BLAS sums in an order that
    depends on its thread count, and the frames must not (measured: OpenBLAS with 1 vs 2 threads
    changed the timeline's float32 band levels in the last bits)."""
    return np.einsum("fk,bk->fb", x, m)


def _ballistic(level: np.ndarray, fps: float, release_s: float = RELEASE_S) -> np.ndarray:
    """Instant attack, exponential release: a VU-like follower of a 0 … 1 curve."""
    out = np.empty_like(level)
    k = float(np.exp(-1.0 / max(release_s * fps, 1e-6)))
    acc = 0.0
    for i, v in enumerate(level.tolist()):
        acc = v if v > acc else acc * k
        out[i] = acc
    return out


def _pulses(times: np.ndarray, n: int, fps: float, tau_s: float) -> np.ndarray:
    """1 at the first frame at or after each event time, decaying as exp(−Δt/τ)."""
    out = np.zeros(n)
    if times.size == 0 or n == 0:
        return out
    t = np.arange(n) / fps
    first = np.ceil(np.asarray(times) * fps - 1e-9).astype(np.int64)
    first = first[(first >= 0) & (first < n)]
    if first.size == 0:
        return out
    last = np.full(n, -1, np.int64)
    last[first] = first
    last = np.maximum.accumulate(last)
    ok = last >= 0
    out[ok] = np.exp(-(t[ok] - last[ok] / fps) / tau_s)
    return out


def _unit(v: np.ndarray, floor: float = 1e-12) -> np.ndarray:
    peak = float(np.max(v)) if v.size else 0.0
    return v / peak if peak > floor else np.zeros_like(v)


def _analyse_signal(mono: np.ndarray, sr: int, times: np.ndarray) -> dict[str, np.ndarray]:
    freqs = np.fft.rfftfreq(WIN, 1.0 / sr)
    bands_m = band_matrix(freqs, N_BANDS, sr).astype(np.float32)
    lmh = np.stack([freqs < LOW_HZ, (freqs >= LOW_HZ) & (freqs < HIGH_HZ),
                    freqs >= HIGH_HZ]).astype(np.float32)
    n = times.size
    spec_db = np.empty((n, N_BANDS), np.float32)
    chroma = np.empty((n, 12), np.float32)
    lmh_e = np.empty((n, 3), np.float32)
    flux = np.zeros(n, np.float32)
    hi_flux = np.zeros(n, np.float32)
    prev_log = None
    hi_sel = freqs >= HIGH_HZ / 2
    for rows, mag in _frame_spectra(mono, sr, times):
        logm = np.log1p(100 * mag)
        both = logm if prev_log is None else np.vstack([prev_log, logm])
        d = np.maximum(np.diff(both, axis=0), 0)
        first = rows.stop - d.shape[0]  # the very first frame has no predecessor: flux 0
        flux[first:rows.stop] = d.sum(axis=1)
        hi_flux[first:rows.stop] = d[:, hi_sel].sum(axis=1)
        prev_log = logm[-1:]
        spec_db[rows] = 20 * np.log10(np.maximum(_dot(mag, bands_m), 1e-7))
        lmh_e[rows] = _dot(mag ** 2, lmh)
    cwin = _chroma_window(sr)
    chroma_m = chroma_matrix(np.fft.rfftfreq(cwin, 1.0 / sr), low_hz=CHROMA_LOW_HZ).astype(np.float32)
    for rows, mag in _frame_spectra(mono, sr, times, cwin):
        c = _dot(mag ** 2, chroma_m)
        chroma[rows] = c / np.maximum(c.sum(axis=1, keepdims=True), 1e-12)
    # RMS level of each frame from its spectrum (Parseval, Hann-weighted): dBFS, −60 … 0 → 0 … 1.
    power = lmh_e.sum(axis=1) / (WIN * np.sum(np.hanning(WIN) ** 2) / 2)
    db = 10 * np.log10(np.maximum(power, 1e-12))
    level = np.clip((db + 60.0) / 60.0, 0, 1)
    band_db = 10 * np.log10(np.maximum(lmh_e, 1e-12))
    band_lvl = np.clip((band_db - (band_db.max(axis=0, keepdims=True) - 40.0)) / 40.0, 0, 1)
    top = float(spec_db.max()) if spec_db.size else 0.0
    spectrum = np.clip((spec_db - (top - 80.0)) / 80.0, 0, 1)
    return {"level": level, "flux": flux, "hi_flux": hi_flux, "bands": band_lvl, "spectrum": spectrum,
            "chroma": chroma}


def _downbeats(beats: np.ndarray, low_onset: np.ndarray, fps: float, meter: int) -> np.ndarray:
    if beats.size < meter * 2 or meter < 2:
        return beats[:1] if beats.size else beats
    frames = np.clip(np.round(beats * fps).astype(np.int64), 0, low_onset.size - 1)
    near = [low_onset[np.clip(frames + d, 0, low_onset.size - 1)] for d in (0, 1, 2)]
    strength = np.max(near, axis=0)
    phase = int(np.argmax([strength[p::meter].mean() for p in range(meter)]))
    return beats[phase::meter]


def _chords(chroma: np.ndarray, fps: float, grid: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Chord-change times and the per-frame chord root, from chroma summed between grid times."""
    root = np.zeros(n, np.int64)
    bounds = np.clip(np.round(np.concatenate([[0.0], grid, [n / fps]]) * fps).astype(np.int64), 0, n)
    bounds = np.unique(bounds)
    changes: list[float] = []
    current = -1
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        if b <= a:
            continue
        prof = chroma[a:b].sum(axis=0)
        if prof.std() <= 1e-9:
            root[a:b] = max(current, 0) % 12
            continue
        z = (prof - prof.mean()) / prof.std()
        scores = _dot(z[None, :], _TRIADS)[0] / 12.0
        best = int(np.argmax(scores))
        if current < 0:
            current = best
        elif best != current and scores[best] > 0.4 and scores[best] > scores[current] + 0.15:
            current = best
            changes.append(a / fps)
        root[a:b] = current % 12
    return np.array(changes), root


def _loop(curve: np.ndarray, fps: float) -> np.ndarray:
    """Crossfade the last LOOP_S seconds toward the first frame (smoothstep weight → 1)."""
    n = curve.shape[0]
    m = min(round(LOOP_S * fps), n // 3)
    if m < 2:
        return curve
    out = np.array(curve, dtype=np.float64)
    u = (np.arange(1, m + 1) / (m + 1))
    w = u * u * (3 - 2 * u)
    w = w.reshape((m,) + (1,) * (curve.ndim - 1))
    # frame n-m+j blends toward frame j-m (before the start: the first frame held), so frame n
    # (the next loop's first frame) would be frame 0 exactly.
    out[n - m:] = (1 - w) * out[n - m:] + w * out[:1]
    return out


def analyse(audio: Any, *, fps: float, n_frames: int | None = None, beats: Sequence[float] = (),
            meter: int = 4, stems: Mapping[str, Any] | None = None, loop: bool = False) -> Timeline:
    """The :class:`Timeline` of a track at ``fps``.

    Parameters
    ----------
    audio : music.audio.Audio
        The mix (anything with ``samples`` of shape ``(channels, n)`` and ``sr``).
    fps : float
        Video frame rate.
    n_frames : int, optional
        Default ``ceil(duration × fps)``.
    beats : sequence of float
        Beat times, s (``music.traits.Traits.beats``). Without beats, the beat pulse follows the
        strongest onsets and there are no downbeats.
    meter : int
        Beats per bar (the numerator of the time signature), for the downbeats.
    stems : mapping of str to Audio, optional
        A take's stems: each gets a curve in :attr:`Timeline.stems`.
    loop : bool
        Crossfade the end into the start (see module notes).
    """
    if not np.isfinite(fps) or fps <= 0:
        raise CoverArtError(f"fps must be positive, got {fps!r}")
    mono, sr = _mono(audio)
    n = int(n_frames if n_frames is not None else np.ceil(mono.size / sr * fps - 1e-9))
    if n < 1:
        raise CoverArtError("the audio is shorter than one video frame")
    times = np.arange(n) / fps
    a = _analyse_signal(mono, sr, times)
    onsets = np.minimum(a["flux"] / max(float(a["flux"].max()), ONSET_FLOOR), 1.0)
    loud = _ballistic(a["level"], fps)
    # to the microsecond: beat trackers built on a threaded BLAS (music.traits) move beats in the last
    # bits with the thread count, and the frames must not follow
    beats_arr = np.round(np.asarray(sorted(float(b) for b in beats if np.isfinite(b)), dtype=np.float64), 6)
    beat_s = float(np.median(np.diff(beats_arr))) if beats_arr.size >= 2 else 0.5
    if beats_arr.size == 0:  # no pulse: let the strongest onsets stand in for beats
        peak = (onsets >= np.roll(onsets, 1)) & (onsets >= np.roll(onsets, -1))
        strong = np.nonzero((onsets > 0.5) & peak)[0]
        beats_arr = strong / fps
    low_on = np.maximum(np.diff(a["bands"][:, 0], prepend=a["bands"][0, 0]), 0)
    downs = _downbeats(beats_arr, low_on, fps, meter)
    grid = beats_arr if beats_arr.size >= 4 else np.arange(0.5, n / fps, 0.5)
    chord_times, chord_root = _chords(a["chroma"], fps, grid, n)
    tau = max(beat_s / 3.0, 0.05)

    stem_curves: dict[str, np.ndarray] = {}
    for name, s in (stems or {}).items():
        sm, ssr = _mono(s)
        sa = _analyse_signal(sm, ssr, times)
        if str(name).lower() in PERCUSSIVE_STEMS:
            stem_curves[str(name)] = _ballistic(np.minimum(sa["flux"] / max(float(sa["flux"].max()),
                                                                            ONSET_FLOOR), 1.0), fps)
        else:
            stem_curves[str(name)] = _ballistic(sa["level"] * (sa["level"] > 0.05), fps)
    drums = next((stem_curves[k] for k in stem_curves if k.lower() in PERCUSSIVE_STEMS), None)
    stem_curves.setdefault("drums", drums if drums is not None else _ballistic(
        np.minimum(a["hi_flux"] / max(float(a["hi_flux"].max()), ONSET_FLOOR / 4), 1.0), fps))
    stem_curves.setdefault("bass", _ballistic(a["bands"][:, 0], fps, 0.2))

    tl = Timeline(fps=float(fps), n_frames=n, loudness=loud, onsets=onsets, bands=a["bands"],
                  spectrum=a["spectrum"], chroma=a["chroma"], beat=_pulses(beats_arr, n, fps, tau),
                  downbeat=_pulses(downs, n, fps, tau * 2), chord=_pulses(chord_times, n, fps, 0.6),
                  chord_root=chord_root, stems=stem_curves, beat_times=beats_arr, downbeat_times=downs,
                  chord_times=chord_times)
    if not loop:
        return tl
    looped = {k: _loop(getattr(tl, k), fps) for k in ("loudness", "onsets", "bands", "spectrum", "chroma",
                                                      "beat", "downbeat", "chord")}
    root = tl.chord_root.copy()
    m = min(round(LOOP_S * fps), n // 3)
    if m >= 2:
        root[n - m // 2:] = root[0]
    return replace(tl, chord_root=root, stems={k: _loop(v, fps) for k, v in tl.stems.items()}, **looped)
