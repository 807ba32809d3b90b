"""Synthetic audio for tests: tones, chords, drum-like bursts, click tracks, noise, silence.

Everything is deterministic (seeded) and returns :class:`music.audio.Audio`.
"""

from __future__ import annotations

import numpy as np

from music.audio import Audio

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def midi_to_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12)


def tone(freq: float = 440.0, *, seconds: float = 2.0, sr: int = 44_100, amp: float = 0.5,
         channels: int = 1) -> Audio:
    """A sine tone."""
    t = np.arange(int(seconds * sr)) / sr
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return Audio(np.repeat(x[None], channels, axis=0), sr)


def chord(midi_notes: tuple[int, ...] = (57, 60, 64), *, seconds: float = 2.0, sr: int = 44_100,
          amp: float = 0.2, channels: int = 2, harmonics: int = 4) -> Audio:
    """A sustained chord of harmonic tones (decaying partials)."""
    t = np.arange(int(seconds * sr)) / sr
    x = np.zeros_like(t)
    for n in midi_notes:
        f = midi_to_hz(n)
        for h in range(1, harmonics + 1):
            if f * h < sr / 2:
                x += np.sin(2 * np.pi * f * h * t) / h
    x = amp * x / max(1, len(midi_notes))
    return Audio(np.repeat(x[None].astype(np.float32), channels, axis=0), sr)


def _drum_sounds(*, sr: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kick (pitch-swept sine, 0.25 s), noise snare (0.18 s) and closed hat (0.05 s), float64."""
    rng = np.random.default_rng(seed)
    tk = np.arange(int(0.25 * sr)) / sr
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-tk * 30)) * tk) * np.exp(-tk * 12)
    sl = int(0.18 * sr)
    snare = rng.standard_normal(sl) * np.exp(-np.arange(sl) / sr * 25) * 0.5
    hl = int(0.05 * sr)
    hat = np.diff(rng.standard_normal(hl + 1)) * np.exp(-np.arange(hl) / sr * 80) * 0.15
    return kick, snare, hat


def drums(*, bpm: float = 120.0, bars: int = 4, sr: int = 44_100, channels: int = 2,
          seed: int = 0) -> Audio:
    """Kick on every beat, noise snare on 2 and 4, closed hats on eighths (4/4)."""
    beat = 60.0 / bpm
    n = int(bars * 4 * beat * sr)
    x = np.zeros(n, dtype=np.float64)
    kick, snare, hat = _drum_sounds(sr=sr, seed=seed)
    for i in range(bars * 8):
        start = int(i * beat / 2 * sr)
        parts = [hat]
        if i % 2 == 0:
            parts.append(kick)
        if i % 4 == 2:
            parts.append(snare)
        for p in parts:
            end = min(n, start + p.size)
            x[start:end] += p[: end - start]
    x = 0.5 * x / np.abs(x).max()
    return Audio(np.repeat(x[None].astype(np.float32), channels, axis=0), sr)


def groove(*, bpm: float, bars: int = 8, kick: tuple[float, ...] = (0, 1, 2, 3),
           snare: tuple[float, ...] = (1, 3), hats: float = 0.5, bass: tuple[float, ...] = (),
           bass_note: int = 33, sr: int = 22_050, seed: int = 0) -> Audio:
    """A one-bar 4/4 drum pattern repeated ``bars`` times, over a sustained pad.

    ``kick``, ``snare`` and ``bass`` are onset positions in beats within the bar (bass: short
    plucked notes of MIDI ``bass_note``); ``hats`` is the hi-hat step in beats (0: none).
    The drum sounds are those of :func:`drums`. Mono.
    """
    beat = 60.0 / bpm
    n = int(bars * 4 * beat * sr)
    x = np.zeros(n, dtype=np.float64)
    kick_s, snare_s, hat_s = _drum_sounds(sr=sr, seed=seed)
    bl = int(0.3 * sr)
    tb = np.arange(bl) / sr
    f = midi_to_hz(bass_note)
    bass_s = sum(np.sin(2 * np.pi * f * h * tb) / h for h in (1, 2, 3)) * np.exp(-tb * 8) * 0.4

    def put(at: float, sound: np.ndarray) -> None:
        start = int(at * sr)
        end = min(n, start + sound.size)
        if start < n:
            x[start:end] += sound[: end - start]

    for b in range(bars):
        t0 = b * 4 * beat
        for pos, sound in [*((k, kick_s) for k in kick), *((k, snare_s) for k in snare),
                           *((k, bass_s) for k in bass)]:
            put(t0 + pos * beat, sound)
        if hats > 0:
            for k in range(round(4 / hats)):
                put(t0 + k * hats * beat, hat_s)
    t = np.arange(n) / sr
    pad = sum(np.sin(2 * np.pi * midi_to_hz(m) * t) for m in (57, 60, 64)) * 0.02
    x = 0.5 * (x + pad) / np.abs(x + pad).max()
    return Audio(x[None].astype(np.float32), sr)


def clicks(*, bpm: float = 120.0, seconds: float = 8.0, sr: int = 44_100) -> Audio:
    """A click track: 5 ms decaying bursts on each beat."""
    n = int(seconds * sr)
    x = np.zeros(n, dtype=np.float32)
    cl = int(0.005 * sr)
    click = np.sin(2 * np.pi * 1000 * np.arange(cl) / sr) * np.exp(-np.arange(cl) / cl * 4)
    step = 60.0 / bpm * sr
    for k in range(int(n / step) + 1):
        s = round(k * step)
        e = min(n, s + cl)
        x[s:e] += click[: e - s].astype(np.float32)
    return Audio(x[None] * 0.8, sr)


def noise(*, seconds: float = 2.0, sr: int = 44_100, amp: float = 0.1, channels: int = 2,
          seed: int = 0) -> Audio:
    """White Gaussian noise."""
    rng = np.random.default_rng(seed)
    return Audio((amp * rng.standard_normal((channels, int(seconds * sr)))).astype(np.float32), sr)


def silence(*, seconds: float = 2.0, sr: int = 44_100, channels: int = 2) -> Audio:
    """Digital silence."""
    return Audio(np.zeros((channels, int(seconds * sr)), dtype=np.float32), sr)


def mix(*parts: Audio) -> Audio:
    """Sum equal-rate parts (padded to the longest), scaled under full scale."""
    sr = parts[0].sr
    ch = max(p.channels for p in parts)
    n = max(p.n for p in parts)
    out = np.zeros((ch, n), dtype=np.float32)
    for p in parts:
        out[:, : p.n] += p.samples if p.channels == ch else np.repeat(p.samples, ch, axis=0)
    peak = np.abs(out).max()
    return Audio(out / peak * 0.9 if peak > 0.9 else out, sr)
