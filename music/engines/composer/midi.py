"""Standard MIDI files for the composed parts (set-up events encoded by mido, notes here).

One type-1 file per part plus one with every part. Track 0 carries the tempo, the time
signature (the take's metre: 4/4 for the composer's genres, the requested one for the symbolic
engine) and the key signature; each part's track names itself, selects its bank and
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


def parse_meter(meter: str | tuple[int, int]) -> tuple[int, int]:
    """``"6/8"`` (or ``(6, 8)``) -> ``(6, 8)``; the denominator must be a power of two (SMF stores its log2).

    Raises
    ------
    ValueError
        For anything else.
    """
    if isinstance(meter, str):
        num_s, _, den_s = meter.partition("/")
        try:
            meter = (int(num_s), int(den_s))
        except ValueError:
            raise ValueError(f"time signature {meter!r}: write it as N/D, e.g. 3/4") from None
    num, den = meter
    if not 1 <= num <= 255 or den < 1 or den & (den - 1) or den > 128:
        raise ValueError(f"time signature {num}/{den}: numerator 1-255, denominator a power of two")
    return num, den


def _conductor(*, bpm: float, key: Key, title: str, meter: tuple[int, int] = (4, 4)) -> mido.MidiTrack:
    t = mido.MidiTrack()
    t.append(mido.MetaMessage("track_name", name=title[:60], time=0))
    t.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    # MIDI clocks per metronome click: a quarter is 24; compound metres click on the dotted beat
    num, den = meter
    click = 24 * 4 // den * (3 if num % 3 == 0 and num > 3 and den >= 8 else 1)
    t.append(mido.MetaMessage("time_signature", numerator=num, denominator=den, clocks_per_click=click,
                              time=0))
    t.append(mido.MetaMessage("key_signature", key=key.midi_signature(), time=0))
    return t


def _vlq(n: int) -> bytes:
    """A MIDI variable-length quantity (7 bits a byte, high bit set on all but the last)."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def _part_track(part: Part) -> mido.MidiTrack:
    t = mido.MidiTrack()
    ch = part.channel
    t.append(mido.MetaMessage("track_name", name=part.name, time=0))
    if ch != DRUM_CHANNEL:
        t.append(mido.Message("control_change", channel=ch, control=0, value=part.bank, time=0))
    t.append(mido.Message("program_change", channel=ch, program=part.program, time=0))
    for control, value in ((7, 100), (10, part.pan), (91, part.reverb), (93, part.chorus)):
        t.append(mido.Message("control_change", channel=ch, control=control, value=value, time=0))
    return t


def _note_events(part: Part) -> list[tuple[int, int, int, int]]:
    """``(tick, order, pitch, velocity)`` of every note-on (order 1) and note-off (order 0),
    sorted: note-offs first at a tick, then by pitch."""
    events: list[tuple[int, int, int, int]] = []
    for n in part.notes:
        on, off = _tick(n.start), max(_tick(n.start + n.dur), _tick(n.start) + 1)
        events.append((on, 1, n.pitch, n.vel))
        events.append((off, 0, n.pitch, 0))
    events.sort()
    return events


def _part_chunk(part: Part, end_beat: float) -> bytes:
    """The part's ``MTrk`` chunk, byte for byte what mido writes for the same messages
    (running status within a run of one status byte, none across meta events), with the
    notes encoded here: mido's per-message objects and checks cost ~10 µs a note."""
    data = bytearray()
    running = None
    for msg in _part_track(part):
        data += _vlq(msg.time)
        raw = msg.bytes()
        if msg.is_meta:
            data += bytes(raw)
            running = None
        else:
            data += bytes(raw[1:] if raw[0] == running else raw)
            running = raw[0] if raw[0] < 0xF0 else None
    now = 0
    on_status, off_status = 0x90 | part.channel, 0x80 | part.channel
    for tick, order, pitch, vel in _note_events(part):
        status = on_status if order == 1 else off_status
        data += _vlq(tick - now)
        if status != running:
            data.append(status)
            running = status
        data.append(pitch)
        data.append(vel)
        now = tick
    data += _vlq(max(0, _tick(end_beat) - now)) + bytes(mido.MetaMessage("end_of_track").bytes())
    return b"MTrk" + struct.pack(">I", len(data)) + bytes(data)


def text_charset(text: str) -> str:
    """The encoding of a MIDI text event: Latin-1 (mido's default, so every title that
    encoded before keeps its bytes) when it can hold ``text``, else UTF-8 (``夜のハウス``)."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return "utf-8"
    return "latin-1"


def _conductor_chunk(*, bpm: float, key: Key, title: str, meter: tuple[int, int] = (4, 4)) -> bytes:
    mf = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT, charset=text_charset(title[:60]))
    mf.tracks.append(_conductor(bpm=bpm, key=key, title=title, meter=meter))
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()[14:]  # after MThd


def _smf(conductor: bytes, chunks: list[bytes]) -> bytes:
    """A type-1 Standard MIDI File: header, the conductor track, then ``chunks``."""
    return (b"MThd" + struct.pack(">IHHH", 6, 1, 1 + len(chunks), TICKS_PER_BEAT) + conductor
            + b"".join(chunks))


def midi_bytes(parts: list[Part], *, bpm: float, key: Key, title: str, end_beat: float,
               meter: str | tuple[int, int] = (4, 4)) -> bytes:
    """A type-1 Standard MIDI File holding ``parts``, in time signature ``meter`` (default 4/4)."""
    head = _conductor_chunk(bpm=bpm, key=key, title=title, meter=parse_meter(meter))
    return _smf(head, [_part_chunk(p, end_beat) for p in parts])


def midi_files(parts: list[Part], *, bpm: float, key: Key, title: str, end_beat: float,
               meter: str | tuple[int, int] = (4, 4)) -> dict[str, bytes]:
    """One type-1 file per part plus ``"all"`` with every part, each track encoded once:
    the bytes equal :func:`midi_bytes` of ``[part]`` and of ``parts``. ``meter`` is the time
    signature written in the conductor track (``"3/4"``, ``(6, 8)``; default 4/4)."""
    head = _conductor_chunk(bpm=bpm, key=key, title=title, meter=parse_meter(meter))
    chunks = {p.name: _part_chunk(p, end_beat) for p in parts}

    out = {p.name: _smf(head, [chunks[p.name]]) for p in parts}
    out["all"] = _smf(head, list(chunks.values()))
    return out
