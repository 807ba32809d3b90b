"""Stereo rendering of note lists with FluidSynth, one distinct note at a time.

pyfluidsynth's ``Synth.get_samples`` returns interleaved 16-bit stereo; we call the
same library's ``fluid_synth_write_float`` (through pyfluidsynth's ``cfunc`` binding)
instead, which writes 32-bit float left and right buffers directly into numpy arrays:
no 16-bit quantisation or dither before mastering, and no clipping inside the synth.

**Note cache.** A part sets its channel controllers once and never changes them while
notes sound (no pitch bend, no CC automation, no sustain pedal), and FluidSynth's voices
do not interact except in three ways handled here: a new note on a sounding key releases
the old one (its length is cut to the next onset on that key), an exclusive class chokes
the hi-hats (a hat fades out at FluidSynth's kill rate when the next hat starts, on kits
whose hats share a class: probed per kit), and the polyphony limit, which one note alone
never reaches. So a part is the sum of its notes, each rendered alone: :func:`render_part`
renders every distinct ``(key, velocity, length)`` once, from silence, and adds the copies
at their sample-exact onsets (FluidSynth itself would start them on the next 64-sample
block).

**Velocity classes.** On most presets a note's velocity only scales it (FluidSynth's
velocity-to-attenuation curve); others switch samples (velocity layers) or shape the tone
with velocity. A short probe of each velocity a key is played at (:func:`_velocity_classes`)
tells them apart: velocities whose probes are one waveform at two levels share the render
of the loudest, scaled by the measured gain (exact to FluidSynth's float rounding,
~-149 dB); the others are rendered as they are. Humanised velocities would otherwise
multiply the renders several times over.

The parts of a take share synthesizers (:class:`SynthPool`, one channel each); every
voice slot is used once before the first note, so a stem never depends on which other
stems were rendered. A note's render stops once its release has fallen 60 dB under
the note's own peak or under -80 dBFS (far under the balanced, -14 LUFS music), or when
FluidSynth ends it.

FluidSynth's reverb is off (a reverb cannot be rendered per note: :mod:`.reverb` adds one
per stem); its chorus runs per note render, so chorused parts keep their width.
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from music.engines.composer.dsp import overlap_add, sample_peak, zeros
from music.engines.composer.patterns import Note
from music.errors import EngineError

BLOCK = 64
"""FluidSynth's internal block: note renders start and stop on its boundaries."""
TAIL_CUT_DB = -60.0
"""A note render stops when a 4096-sample chunk peaks this far under the note's peak…"""
FLOOR_DBFS = -80.0
"""… or under this level (full scale 1.0; FluidSynth's gain is 0.5)."""
_CHUNK = 64 * BLOCK
PROBE_BLOCKS = 16
"""Velocity probes hold a note this many blocks (23 ms at 44.1 kHz) and render as many of
its release (:func:`_velocity_classes`)."""
_PROBE = 2 * PROBE_BLOCKS * BLOCK
GAIN_MATCH = 1e-5
"""Two probes are one sound at two levels when the residual after the best gain is this far
(-100 dB) under the quieter one; FluidSynth's own rounding leaves ~-149 dB."""
HATS = (42, 44, 46)
"""GM closed, pedal and open hi-hat: one exclusive class, each choking the previous."""
_CHOKE_DB_PER_S = 100.0 / 0.891
"""FluidSynth kills an exclusive-class voice with a release of -200 timecents (0.891 s over
its 100 dB range); the choked hat fades at the same rate here."""


@dataclass(frozen=True)
class FluidSynthLib:
    """pyfluidsynth and the two C functions it does not wrap, bound once a process.

    ``write_float(synth, n, lout, loff, lincr, rout, roff, rincr)`` is
    ``fluid_synth_write_float`` (32-bit float left and right buffers, by address);
    ``active_voices(synth)`` is ``fluid_synth_get_active_voice_count``.
    """

    module: Any
    write_float: Callable[..., int]
    active_voices: Callable[..., int]


@functools.cache
def fluidsynth_lib() -> FluidSynthLib:
    """The process's :class:`FluidSynthLib` (an :class:`EngineError` where FluidSynth is missing)."""
    from music.soundfont import import_pyfluidsynth

    try:
        fluidsynth = import_pyfluidsynth()
    except (ImportError, OSError) as exc:  # OSError: libfluidsynth itself is missing
        raise EngineError(
            "FluidSynth is not available; install it with `sudo apt-get install libfluidsynth3` "
            "and `pip install pyfluidsynth`"
        ) from exc
    write_float = fluidsynth.cfunc(
        "fluid_synth_write_float", ctypes.c_int,
        ("synth", ctypes.c_void_p, 1), ("len", ctypes.c_int, 1),
        ("lout", ctypes.c_void_p, 1), ("loff", ctypes.c_int, 1), ("lincr", ctypes.c_int, 1),
        ("rout", ctypes.c_void_p, 1), ("roff", ctypes.c_int, 1), ("rincr", ctypes.c_int, 1),
    )
    active_voices = fluidsynth.cfunc(
        "fluid_synth_get_active_voice_count", ctypes.c_int, ("synth", ctypes.c_void_p, 1))
    return FluidSynthLib(fluidsynth, write_float, active_voices)


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
    """Reverb (:mod:`.reverb`) and FluidSynth chorus settings for a take."""

    size: float = 0.5
    damping: float = 0.3
    width: float = 0.9
    level: float = 0.7
    chorus_depth: float = 6.0
    chorus_level: float = 1.2


def _open_synth(*, soundfont: Path, sr: int, room: Room, gain: float, reverb: bool, chorus: bool):  # type: ignore[no-untyped-def]
    """A synthesizer with ``soundfont`` loaded; returns ``(synth, sfid)``."""
    synth = fluidsynth_lib().module.Synth(gain=gain, samplerate=float(sr))
    try:
        # One core, no audio driver, samples loaded for the selected presets only.
        synth.setting("synth.cpu-cores", 1)
        synth.setting("synth.dynamic-sample-loading", 1)
        synth.setting("synth.polyphony", 256)
        # The effects run on every sample whether a part sends to them or not: switch off
        # those a part does not use (a dry bass saves a whole reverb).
        synth.setting("synth.reverb.active", int(reverb))
        synth.setting("synth.chorus.active", int(chorus))
        sfid = synth.sfload(os.fspath(soundfont))
        if sfid < 0:
            raise EngineError(f"FluidSynth could not load the SoundFont {soundfont}")
        synth.set_reverb(room.size, room.damping, room.width, room.level)
        synth.set_chorus(3, room.chorus_level, 0.3, room.chorus_depth, 0)
    except BaseException:
        synth.delete()
        raise
    return synth, sfid


def _select(synth, sfid: int, voice: Voice, soundfont: Path) -> None:  # type: ignore[no-untyped-def]
    """Select ``voice``'s preset on its channel and set the channel's controllers."""
    ch = voice.channel
    if synth.program_select(ch, sfid, voice.bank, voice.program) != 0 and \
            synth.program_select(ch, sfid, 128 if voice.bank == 128 else 0, voice.program) != 0:
        raise EngineError(f"SoundFont {Path(soundfont).name} has no preset {voice.bank}:{voice.program}")
    for control, value in ((7, 100), (11, 127), (10, voice.pan), (91, voice.reverb), (93, voice.chorus)):
        synth.cc(ch, control, value)


class NoteStore:
    """Memory for a part's cached notes, reused by the next part of the same take: notes are
    packed into slabs of ``SLAB`` samples a channel, so that the pages a part has written
    (the first write to fresh memory costs a page fault, most of a copy's time) serve the
    parts after it. :meth:`reset` frees every note at once."""

    SLAB = 1 << 21

    def __init__(self) -> None:
        self._slabs: list[np.ndarray] = []
        self._slab = 0
        self._off = 0

    def reset(self) -> None:
        self._slab = 0
        self._off = 0

    def keep(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A copy of stereo ``y`` (shape ``(2, n)``) as two contiguous 1-D channels."""
        n = y.shape[1]
        if n > self.SLAB:
            own = y.copy()
            return own[0], own[1]
        if self._off + n > self.SLAB:
            self._slab += 1
            self._off = 0
        if self._slab == len(self._slabs):
            self._slabs.append(np.empty((2, self.SLAB), np.float32))
        slab = self._slabs[self._slab]
        at = self._off
        slab[:, at:at + n] = y
        self._off = at + n
        return slab[0, at:at + n], slab[1, at:at + n]


class SynthPool:
    """Synthesizers shared by the parts of one render (loading a SoundFont costs tens of ms):
    one per chorus setting, since FluidSynth's chorus runs on every block once it is on.
    Parts must use distinct channels. Use as a context manager; it deletes them on exit.
    ``notes`` is the note memory the parts share (:class:`NoteStore`)."""

    def __init__(self) -> None:
        self._synths: dict[tuple[str, int, float, bool], tuple[object, int]] = {}
        self.notes = NoteStore()

    def get(self, voice: Voice, *, soundfont: Path, sr: int, room: Room, gain: float):  # type: ignore[no-untyped-def]
        key = (os.fspath(soundfont), sr, gain, voice.chorus > 0)
        if key not in self._synths:
            self._synths[key] = _open_synth(soundfont=soundfont, sr=sr, room=room, gain=gain, reverb=False,
                                            chorus=voice.chorus > 0)
        synth, sfid = self._synths[key]
        _select(synth, sfid, voice, soundfont)
        return synth

    def __enter__(self) -> SynthPool:
        return self

    def __exit__(self, *exc: object) -> None:
        for synth, _ in self._synths.values():
            synth.delete()  # type: ignore[attr-defined]
        self._synths.clear()


def _instances(notes: list[Note], *, spb: float, n_samples: int) -> list[tuple[int, int, int, int]]:
    """``(onset, key, velocity, blocks)`` per note that starts before ``n_samples``.

    A note's length is cut at the next onset on the same key, where FluidSynth would
    release it, and rounded up to whole blocks, as FluidSynth applies a note-off.
    """
    spans = []
    for n in notes:
        on = round(n.start * spb)
        if on < n_samples:
            spans.append((on, max(on + 1, round((n.start + n.dur) * spb)), n.pitch, n.vel))
    spans.sort()
    next_on: dict[int, int] = {}
    out = []
    for on, off, pitch, vel in reversed(spans):
        nxt = next_on.get(pitch)
        if nxt is not None and nxt > on:
            off = min(off, nxt)
        next_on[pitch] = on
        out.append((on, pitch, vel, -(-(off - on) // BLOCK)))
    out.reverse()
    return out


def _render_note(synth, ch: int, pitch: int, vel: int, blocks: int, scratch: np.ndarray,  # type: ignore[no-untyped-def]
                 sink: np.ndarray, *, flush: bool) -> tuple[int, bool]:
    """One note from silence into ``scratch[:, :pos]``: held ``blocks`` blocks, then its
    release until it dies away, or to the end of ``scratch``; returns ``(pos, finite)``.
    ``sink`` (shape ``(2, 1)``) takes the discarded silence after the note."""
    lib = fluidsynth_lib()
    lp, rp = scratch[0].ctypes.data, scratch[1].ctypes.data
    cap = scratch.shape[1]
    pos = min(blocks * BLOCK, cap)
    synth.noteon(ch, pitch, vel)
    lib.write_float(synth.synth, pos, lp, 0, 1, rp, 0, 1)
    synth.noteoff(ch, pitch)
    peak = sample_peak(scratch[:, :pos])
    # Every sample lies in a measured stretch: a NaN or inf shows in one of the peaks.
    finite = math.isfinite(peak)
    floor = 10 ** (TAIL_CUT_DB / 20)
    absolute = 10 ** (FLOOR_DBFS / 20)
    while pos + _CHUNK <= cap and lib.active_voices(synth.synth) > 0:
        lib.write_float(synth.synth, _CHUNK, lp + 4 * pos, 0, 1, rp + 4 * pos, 0, 1)
        chunk_peak = sample_peak(scratch[:, pos:pos + _CHUNK])
        finite = finite and math.isfinite(chunk_peak)
        pos += _CHUNK
        peak = max(peak, chunk_peak)
        if chunk_peak <= max(peak * floor, absolute):
            break
    # Silence whatever still sounds and let the chorus line empty, so that the next note
    # starts from the same silent state whatever came before it.
    _silence(synth, ch, sink, blocks=32 if flush else 1)
    return pos, finite


def _silence(synth, ch: int, sink: np.ndarray, *, blocks: int) -> None:  # type: ignore[no-untyped-def]
    """Stop every voice on ``ch`` and render ``blocks`` blocks, discarded: one call, every
    sample written over the one sample per channel of ``sink`` (a zero stride)."""
    synth.all_sounds_off(ch)
    write = fluidsynth_lib().write_float
    write(synth.synth, blocks * BLOCK, sink[0].ctypes.data, 0, 0, sink[1].ctypes.data, 0, 0)


def _hats_choke(synth, ch: int, scratch: np.ndarray, sink: np.ndarray) -> bool:  # type: ignore[no-untyped-def]
    """Whether a closed hat chokes an open one on this kit (some kits, such as FluidR3's 808,
    put the hats in no exclusive class): the two played together against their sum."""
    held, at = 64, 16 * BLOCK
    n = held * BLOCK
    pos, _ = _render_note(synth, ch, 46, 100, held, scratch, sink, flush=False)
    opened = scratch[:, :min(pos, n)].copy()
    pos, _ = _render_note(synth, ch, 42, 100, held, scratch, sink, flush=False)
    closed = scratch[:, :min(pos, n - at)].copy()
    if opened.shape[1] < n or closed.shape[1] < n - at or not np.abs(opened).max() > 0:
        return False
    write = fluidsynth_lib().write_float
    lp, rp = scratch[0].ctypes.data, scratch[1].ctypes.data
    synth.noteon(ch, 46, 100)
    write(synth.synth, at, lp, 0, 1, rp, 0, 1)
    synth.noteon(ch, 42, 100)
    write(synth.synth, n - at, lp + 4 * at, 0, 1, rp + 4 * at, 0, 1)
    both = scratch[:, :n].copy()
    _silence(synth, ch, sink, blocks=1)
    opened[:, at:] += closed
    # The first block of a voice in a slot never used before differs a little from a reused
    # slot's: compare from the block after the closed hat's onset.
    return bool(np.abs(both - opened)[:, at + BLOCK:].max() > 1e-4 * np.abs(both).max())


def _prime(synth, ch: int, scratch: np.ndarray, sink: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """Use 24 keys' worth of voice slots once. A slot's first note plays its first block a
    little differently from every later one; after this (under the polyphony even for presets
    with many layers) every note starts from the same state whatever the synthesizer, shared
    by the take's parts, played before."""
    for k in range(48, 72):
        synth.noteon(ch, k, 100)
    write = fluidsynth_lib().write_float
    write(synth.synth, BLOCK, scratch[0].ctypes.data, 0, 1, scratch[1].ctypes.data, 0, 1)
    _silence(synth, ch, sink, blocks=1)


def _probe(synth, ch: int, key: int, vel: int, out: np.ndarray, sink: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """``out`` (shape ``(2, 2 · PROBE_BLOCKS · BLOCK)``) filled with ``key`` at ``vel`` held
    :data:`PROBE_BLOCKS` blocks from silence, then released for as long."""
    half = PROBE_BLOCKS * BLOCK
    write = fluidsynth_lib().write_float
    lp, rp = out[0].ctypes.data, out[1].ctypes.data
    synth.noteon(ch, key, vel)
    write(synth.synth, half, lp, 0, 1, rp, 0, 1)
    synth.noteoff(ch, key)
    write(synth.synth, half, lp + 4 * half, 0, 1, rp + 4 * half, 0, 1)
    _silence(synth, ch, sink, blocks=1)
    return out


def _velocity_classes(synth, ch: int, velocities: dict[int, set[int]], scratch: np.ndarray,  # type: ignore[no-untyped-def]
                      sink: np.ndarray) -> dict[tuple[int, int], tuple[int, float]]:
    """``{(key, velocity): (reference velocity, gain)}`` for the velocities each key is played at.

    Each velocity of a key played at several, loudest first, is probed (:func:`_probe`, from
    silence, on ``synth``: a dry one, as a chorus would make two renders of one note differ).
    A probe that is a reference probe times one gain (the least-squares gain, residual under
    :data:`GAIN_MATCH`) joins that reference's class; otherwise it becomes a reference itself.
    On 2-minute lofi, techno and house takes the probes are 6, 9 and 16 % of the samples the
    notes render, for 1.9–4.7× fewer renders. What a probe cannot see is a velocity that
    changes the sound only after its first 23 ms or its release's first 23 ms (at 44.1 kHz):
    such a SoundFont would be rendered with its loudest velocity's envelope. Velocity layers
    (other samples) and FluidSynth's velocity curves show at once.
    """
    probe = scratch[:, :_PROBE]
    out: dict[tuple[int, int], tuple[int, float]] = {}
    for key, vels in velocities.items():
        if len(vels) == 1:  # nothing to share
            (vel,) = vels
            out[key, vel] = vel, 1.0
            continue
        refs: list[tuple[int, np.ndarray, float]] = []  # (velocity, probe, energy)
        for vel in sorted(vels, reverse=True):
            y = _probe(synth, ch, key, vel, probe, sink).astype(np.float64)
            energy = float(np.vdot(y, y))
            for ref, ry, re in refs:
                g = float(np.vdot(ry, y)) / re
                if float(np.sum((y - g * ry) ** 2)) <= GAIN_MATCH**2 * energy:
                    out[key, vel] = ref, g
                    break
            else:
                out[key, vel] = vel, 1.0
                if energy > 0:  # a silent probe (a key the preset lacks) is no reference
                    refs.append((vel, y, energy))
    return out


def render_part(notes: list[Note], *, voice: Voice, soundfont: Path, sr: int, bpm: float,
                n_samples: int, room: Room = Room(), gain: float = 0.5,
                pool: SynthPool | None = None) -> np.ndarray:
    """Render one part, dry (no reverb), each distinct note once.

    Parameters
    ----------
    notes : list of Note
        Onsets and lengths in beats.
    voice : Voice
        Channel, preset and controllers; ``voice.reverb`` is ignored here (the engine adds
        the reverb per stem), ``voice.chorus`` is FluidSynth's chorus send.
    soundfont : Path
        A SoundFont 2 file.
    sr : int
        Sample rate (Hz).
    bpm : float
        Tempo for beat → sample conversion.
    n_samples : int
        Length of the output; notes past it are cut, release tails past it lost.
    room : Room
        Chorus settings.
    gain : float
        FluidSynth's master gain.
    pool : SynthPool, optional
        Synthesizers to reuse across the parts of one take (else one is made and deleted).

    Returns
    -------
    np.ndarray, shape=(2, n_samples), dtype=float32
    """
    fluidsynth_lib()  # the error where FluidSynth is missing, before any work
    ch = voice.channel
    insts = _instances(notes, spb=60.0 / bpm * sr, n_samples=n_samples)
    out = zeros((2, n_samples))  # the copies of the notes are added into it
    if not insts:
        return out
    own = pool is None
    pool = SynthPool() if own else pool
    synth = pool.get(voice, soundfont=soundfont, sr=sr, room=room, gain=gain)
    store = pool.notes
    store.reset()  # the previous part's notes are already in its stem
    cache: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = {}
    try:
        # Longest render a note can need: from the earliest onset to the end.
        cap = -(-(n_samples - insts[0][0]) // BLOCK) * BLOCK
        scratch = np.empty((2, max(cap, _PROBE)), np.float32)
        sink = np.empty((2, 1), np.float32)  # where the discarded silence after a note goes
        _prime(synth, ch, scratch, sink)
        velocities: dict[int, set[int]] = {}
        for _, pitch, vel, _ in insts:
            velocities.setdefault(pitch, set()).add(vel)
        dry = synth
        if voice.chorus > 0:  # probe on the take's dry synthesizer, same preset and channel
            dry = pool.get(replace(voice, chorus=0), soundfont=soundfont, sr=sr, room=room, gain=gain)
            _prime(dry, ch, scratch, sink)
        classes = _velocity_classes(dry, ch, velocities, scratch, sink)
        hats = voice.bank == 128 and any(p in HATS for _, p, _, _ in insts)
        choke = hats and _hats_choke(synth, ch, scratch, sink)
        scratch = scratch[:, :cap]
        for _, pitch, vel, blocks in insts:
            key = (pitch, classes[pitch, vel][0], blocks)
            if key not in cache:
                pos, finite = _render_note(synth, ch, key[0], key[1], blocks, scratch, sink,
                                           flush=voice.chorus > 0)
                if not finite:
                    raise EngineError("FluidSynth produced non-finite samples")
                cache[key] = store.keep(scratch[:, :pos])
    finally:
        if own:
            pool.__exit__()
    # Each copy's choke point: the next hat's onset (FluidSynth's exclusive-class kill).
    keys = list(cache)
    index = {k: i for i, k in enumerate(keys)}
    hat_ons = [on for on, pitch, _, _ in insts if choke and pitch in HATS]
    table = np.empty((len(insts), 3), np.int64)  # onset, cache index, choke offset (-1: none)
    gains = np.empty(len(insts), np.float32)
    h = 0
    for row, (on, pitch, vel, blocks) in enumerate(insts):
        cut = -1
        if choke and pitch in HATS:
            while h < len(hat_ons) and hat_ons[h] <= on:
                h += 1
            if h < len(hat_ons):
                cut = hat_ons[h] - on
        ref, g = classes[pitch, vel]
        table[row] = on, index[(pitch, ref, blocks)], cut
        gains[row] = g
    k = round(0.891 * sr)
    fade = 10 ** (-_CHOKE_DB_PER_S / 20 * np.arange(1, k + 1, dtype=np.float32) / sr)
    overlap_add(out, [cache[key][0] for key in keys], [cache[key][1] for key in keys], table, gains, fade)
    return out
