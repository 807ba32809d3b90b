"""FluidSynth streaming every note of a part live: the reference the composer's note cache
(:func:`music.engines.composer.render.render_part`) is tested against and the floor
``benchmarks/composer.py`` reports (``live FS``). Test and benchmark code only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from music.engines.composer.patterns import Note
from music.engines.composer.render import Room, Voice, _open_synth, _select, fluidsynth_lib
from music.errors import EngineError


def _live_synth(voice: Voice, *, soundfont: Path, sr: int, room: Room, gain: float):  # type: ignore[no-untyped-def]
    """A synthesizer with ``voice`` selected, its controllers set and its own effects on where
    the voice sends to them."""
    synth, sfid = _open_synth(soundfont=soundfont, sr=sr, room=room, gain=gain,
                              reverb=voice.reverb > 0, chorus=voice.chorus > 0)
    try:
        _select(synth, sfid, voice, soundfont)
    except BaseException:
        synth.delete()
        raise
    return synth


def render_part_live(notes: list[Note], *, voice: Voice, soundfont: Path, sr: int, bpm: float,
                     n_samples: int, room: Room | None = None, gain: float = 0.5) -> np.ndarray:
    """Render one part by streaming its events through one synthesizer (the pre-cache renderer).

    FluidSynth playing every note in real time, with its own reverb and chorus per part when
    the voice sends to them.

    The parameters and the result are :func:`~music.engines.composer.render.render_part`'s
    (``voice.reverb`` and ``voice.chorus`` send to FluidSynth's own effects here).
    """
    write = fluidsynth_lib().write_float
    synth = _live_synth(voice, soundfont=soundfont, sr=sr, room=room or Room(), gain=gain)
    ch = voice.channel
    try:
        spb = 60.0 / bpm * sr
        events: list[tuple[int, int, int, int]] = []  # (sample, on?, pitch, vel); offs first
        for n in notes:
            on = round(n.start * spb)
            off = max(on + 1, round((n.start + n.dur) * spb))
            if on >= n_samples:
                continue
            events.append((on, 1, n.pitch, n.vel))
            events.append((off, 0, n.pitch, 0))
        events.sort()
        # FluidSynth writes straight into the rows of the (2, n) result: no stack copy.
        out = np.zeros((2, n_samples), np.float32)
        left, right = out[0], out[1]
        lp, rp = left.ctypes.data, right.ctypes.data
        pos = 0
        for at, on, pitch, vel in events:
            at = min(at, n_samples)
            if at > pos:
                write(synth.synth, at - pos, lp + 4 * pos, 0, 1, rp + 4 * pos, 0, 1)
                pos = at
            if on:
                synth.noteon(ch, pitch, vel)
            else:
                synth.noteoff(ch, pitch)
        if pos < n_samples:
            write(synth.synth, n_samples - pos, lp + 4 * pos, 0, 1, rp + 4 * pos, 0, 1)
    finally:
        synth.delete()
    if not np.isfinite(out).all():
        raise EngineError("FluidSynth produced non-finite samples")
    return out
