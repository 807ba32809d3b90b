"""Standard MIDI files for the composed parts (written with mido).

One type-1 file per part plus one with every part. Track 0 carries the tempo, the time
signature and the key signature; each part's track names itself, selects its bank and
program, and sets volume, pan and effect sends, so the file sounds the same in a DAW
with a GM SoundFont as it does here. Ticks are 480 per quarter note; events at the same
tick are ordered note-off first, then by pitch, so the bytes are deterministic.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import mido

from music.engines.composer.patterns import Note
from music.engines.composer.theory import Key

TICKS_PER_BEAT = 480
DRUM_CHANNEL = 9


@dataclass(frozen=True)
class Part:
    """A part as MIDI needs it: notes plus channel set-up."""

    name: str
    notes: list[Note]
    channel: int
    program: int
    bank: int
    pan: int
    reverb: int
    chorus: int


def _tick(beat: float) -> int:
    return round(beat * TICKS_PER_BEAT)


def _conductor(*, bpm: float, key: Key, title: str) -> mido.MidiTrack:
    t = mido.MidiTrack()
    t.append(mido.MetaMessage("track_name", name=title[:60], time=0))
    t.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    t.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    t.append(mido.MetaMessage("key_signature", key=key.midi_signature(), time=0))
    return t


def _part_track(part: Part, end_beat: float) -> mido.MidiTrack:
    t = mido.MidiTrack()
    ch = part.channel
    t.append(mido.MetaMessage("track_name", name=part.name, time=0))
    if ch != DRUM_CHANNEL:
        t.append(mido.Message("control_change", channel=ch, control=0, value=part.bank, time=0))
    t.append(mido.Message("program_change", channel=ch, program=part.program, time=0))
    for control, value in ((7, 100), (10, part.pan), (91, part.reverb), (93, part.chorus)):
        t.append(mido.Message("control_change", channel=ch, control=control, value=value, time=0))
    events: list[tuple[int, int, int, int]] = []  # (tick, order, pitch, velocity)
    for n in part.notes:
        on, off = _tick(n.start), max(_tick(n.start + n.dur), _tick(n.start) + 1)
        events.append((on, 1, n.pitch, n.vel))
        events.append((off, 0, n.pitch, 0))
    events.sort()
    now = 0
    for tick, order, pitch, vel in events:
        kind = "note_on" if order == 1 else "note_off"
        t.append(mido.Message(kind, channel=ch, note=pitch, velocity=vel, time=tick - now))
        now = tick
    t.append(mido.MetaMessage("end_of_track", time=max(0, _tick(end_beat) - now)))
    return t


def midi_bytes(parts: list[Part], *, bpm: float, key: Key, title: str, end_beat: float) -> bytes:
    """A type-1 Standard MIDI File holding ``parts``."""
    mf = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    mf.tracks.append(_conductor(bpm=bpm, key=key, title=title))
    for p in parts:
        mf.tracks.append(_part_track(p, end_beat))
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()


def midi_files(parts: list[Part], *, bpm: float, key: Key, title: str, end_beat: float) -> dict[str, bytes]:
    """One type-1 file per part plus ``"all"`` with every part, each track built and
    encoded once: the bytes equal :func:`midi_bytes` of ``[part]`` and of ``parts``."""
    out: dict[str, bytes] = {}
    chunks = []
    head = b""
    for p in parts:
        data = midi_bytes([p], bpm=bpm, key=key, title=title, end_beat=end_beat)
        out[p.name] = data
        # MThd (14 bytes), then the conductor's MTrk chunk, then the part's.
        conductor_len = struct.unpack(">I", data[18:22])[0]
        head = data[14:22 + conductor_len]
        chunks.append(data[22 + conductor_len:])
    if parts:
        out["all"] = (b"MThd" + struct.pack(">IHHH", 6, 1, 1 + len(parts), TICKS_PER_BEAT)
                      + head + b"".join(chunks))
    else:
        out["all"] = midi_bytes([], bpm=bpm, key=key, title=title, end_beat=end_beat)
    return out
