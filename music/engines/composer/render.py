"""Stereo rendering of note lists with FluidSynth.

pyfluidsynth's ``Synth.get_samples`` returns interleaved 16-bit stereo; we call the
same library's ``fluid_synth_write_float`` (through pyfluidsynth's ``cfunc`` binding)
instead, which writes 32-bit float left and right buffers directly into numpy arrays:
no 16-bit quantisation or dither before mastering, and no clipping inside the synth.

One fresh synthesizer renders each part, so a stem never depends on which other stems
were asked for. Events are applied between render calls; FluidSynth processes audio in
64-sample blocks, so an event lands on the next block boundary (≤ 1.45 ms at 44.1 kHz),
which is deterministic. Chorus and reverb are FluidSynth's own (their send levels come
from CC93/CC91), so each stem carries its own effect returns.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from music.engines.composer.patterns import Note
from music.errors import EngineError

_write_float = None


def _fluidsynth():  # type: ignore[no-untyped-def]
    global _write_float
    from music.soundfont import import_pyfluidsynth

    try:
        fluidsynth = import_pyfluidsynth()
    except (ImportError, OSError) as exc:  # OSError: libfluidsynth itself is missing
        raise EngineError(
            "FluidSynth is not available; install it with `sudo apt-get install libfluidsynth3` "
            "and `pip install pyfluidsynth`"
        ) from exc
    if _write_float is None:
        _write_float = fluidsynth.cfunc(
            "fluid_synth_write_float", ctypes.c_int,
            ("synth", ctypes.c_void_p, 1), ("len", ctypes.c_int, 1),
            ("lout", ctypes.c_void_p, 1), ("loff", ctypes.c_int, 1), ("lincr", ctypes.c_int, 1),
            ("rout", ctypes.c_void_p, 1), ("roff", ctypes.c_int, 1), ("rincr", ctypes.c_int, 1),
        )
    return fluidsynth


@dataclass(frozen=True)
class Voice:
    """How to play a part: channel, bank/program and channel controllers."""

    channel: int
    bank: int
    program: int
    pan: int = 64
    reverb: int = 30
    chorus: int = 0


@dataclass(frozen=True)
class Room:
    """FluidSynth reverb and chorus settings for a take."""

    size: float = 0.5
    damping: float = 0.3
    width: float = 0.9
    level: float = 0.7
    chorus_depth: float = 6.0
    chorus_level: float = 1.2


def render_part(notes: list[Note], *, voice: Voice, soundfont: Path, sr: int, bpm: float,
                n_samples: int, room: Room = Room(), gain: float = 0.5) -> np.ndarray:
    """Render one part.

    Parameters
    ----------
    notes : list of Note
        Onsets and lengths in beats.
    voice : Voice
    soundfont : Path
        A SoundFont 2 file.
    sr : int
        Sample rate (Hz).
    bpm : float
        Tempo for beat → sample conversion.
    n_samples : int
        Length of the output; notes past it are cut, release and reverb tails past it lost.

    Returns
    -------
    np.ndarray, shape=(2, n_samples), dtype=float32
    """
    fs = _fluidsynth()
    synth = fs.Synth(gain=gain, samplerate=float(sr))
    try:
        # One core, no audio driver, samples loaded for the selected preset only.
        synth.setting("synth.cpu-cores", 1)
        synth.setting("synth.dynamic-sample-loading", 1)
        synth.setting("synth.polyphony", 256)
        # The effects run on every sample whether a part sends to them or not: switch off
        # those a part does not use (a dry bass saves a whole reverb).
        synth.setting("synth.reverb.active", int(voice.reverb > 0))
        synth.setting("synth.chorus.active", int(voice.chorus > 0))
        sfid = synth.sfload(os.fspath(soundfont))
        if sfid < 0:
            raise EngineError(f"FluidSynth could not load the SoundFont {soundfont}")
        ch = voice.channel
        if synth.program_select(ch, sfid, voice.bank, voice.program) != 0 and \
                synth.program_select(ch, sfid, 128 if voice.bank == 128 else 0, voice.program) != 0:
            raise EngineError(f"SoundFont {Path(soundfont).name} has no preset {voice.bank}:{voice.program}")
        synth.set_reverb(room.size, room.damping, room.width, room.level)
        synth.set_chorus(3, room.chorus_level, 0.3, room.chorus_depth, 0)
        for control, value in ((7, 100), (11, 127), (10, voice.pan), (91, voice.reverb), (93, voice.chorus)):
            synth.cc(ch, control, value)
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
                _write_float(synth.synth, at - pos, lp + 4 * pos, 0, 1, rp + 4 * pos, 0, 1)
                pos = at
            if on:
                synth.noteon(ch, pitch, vel)
            else:
                synth.noteoff(ch, pitch)
        if pos < n_samples:
            _write_float(synth.synth, n_samples - pos, lp + 4 * pos, 0, 1, rp + 4 * pos, 0, 1)
    finally:
        synth.delete()
    if not np.isfinite(out).all():
        raise EngineError("FluidSynth produced non-finite samples")
    return out
