"""Reading notes back out of standard MIDI files (transcription tests and benchmark)."""

from __future__ import annotations

import io

import mido


def midi_notes(data: bytes) -> list[tuple[float, float, int]]:
    """(start s, end s, pitch) of every note in a standard MIDI file, sorted."""
    mid = mido.MidiFile(file=io.BytesIO(data))
    out, on, t = [], {}, 0.0
    for msg in mid:
        t += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            on[(msg.channel, msg.note)] = t
        elif msg.type in ("note_off", "note_on") and (msg.channel, msg.note) in on:
            out.append((on.pop((msg.channel, msg.note)), t, msg.note))
    return sorted(out)
