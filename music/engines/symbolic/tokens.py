"""The event vocabulary: notes as (voice·pitch, duration) on a sixteenth-note grid, REMI-style.

A piece is one token sequence::

    BOS STYLE_chorale KEY_G_major METER_4/4 TEMPO_unk VOICES_4
    BAR POS_0 V0_P67 D_4 V1_P62 D_4 V2_P59 D_4 V3_P43 D_4 POS_4 ...  BAR ...  EOS

* a six-token header carries the conditioning (style, key, metre, tempo bin, number of voices);
* ``BAR`` opens every bar, ``POS_k`` gives the onset's place in the bar in sixteenths (the
  time shift on a fixed grid, relative to the bar line, so metre is explicit);
* each note is two tokens: voice and pitch together (``V{v}_P{midi}``) and its duration
  (``D_n``, in sixteenths, from a fixed set of lengths). Notes at one onset are ordered by
  voice, then by pitch, high to low.

This is the "pitch + duration, time shift, bar and position" family of encodings
(Huang & Yang 2020, *Pop Music Transformer*, REMI; Payne 2019, *MuseNet*; Huang et al. 2018,
*Music Transformer*). Transposition (:func:`transpose`) shifts every pitch token and the key
token, which is how training augments the corpus.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from music.errors import EngineError

GRID = 4
"""Grid steps per quarter note (sixteenths)."""

STYLES: tuple[str, ...] = ("chorale", "fiddle", "folk", "renaissance")
TONICS: tuple[str, ...] = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MODES: tuple[str, ...] = ("major", "minor")
METERS: tuple[str, ...] = ("4/4", "3/4", "2/4", "6/8", "3/8", "9/8", "12/8", "2/2", "3/2", "4/2", "6/4",
                           "other")
TEMPI: tuple[int, ...] = (60, 76, 92, 108, 120, 132, 152, 176)
"""Upper edges (bpm, quarter notes) of the tempo bins; ``TEMPO_unk`` when a work has no mark."""
MAX_VOICES = 4
LOW, HIGH = 28, 96
"""MIDI pitch range (inclusive) of the vocabulary."""
MAX_POS = 64
"""Positions per bar (sixteenths): up to a 4/2 bar."""
DURATIONS: tuple[int, ...] = (*range(1, 17), 20, 24, 28, 32, 40, 48, 64)
"""Note lengths in sixteenths."""

SPECIAL = ("PAD", "BOS", "EOS", "BAR")
HEADER_LEN = 6


def _build() -> list[str]:
    names = list(SPECIAL)
    names += [f"STYLE_{s}" for s in STYLES]
    names += [f"KEY_{t}_{m}" for m in MODES for t in TONICS]
    names += [f"METER_{m}" for m in METERS]
    names += [f"TEMPO_{t}" for t in TEMPI] + ["TEMPO_unk"]
    names += [f"VOICES_{n}" for n in range(1, MAX_VOICES + 1)]
    names += [f"POS_{p}" for p in range(MAX_POS)]
    names += [f"V{v}_P{p}" for v in range(MAX_VOICES) for p in range(LOW, HIGH + 1)]
    names += [f"D_{d}" for d in DURATIONS]
    return names


VOCAB: tuple[str, ...] = tuple(_build())
INDEX: dict[str, int] = {name: i for i, name in enumerate(VOCAB)}
PAD, BOS, EOS, BAR = (INDEX[s] for s in SPECIAL)
N_PITCH = HIGH - LOW + 1
POS0 = INDEX["POS_0"]
NOTE0 = INDEX[f"V0_P{LOW}"]
DUR0 = INDEX[f"D_{DURATIONS[0]}"]
KEY0 = INDEX["KEY_C_major"]
_DUR_ARRAY = np.array(DURATIONS)


def vocab_size() -> int:
    """Number of tokens."""
    return len(VOCAB)


@dataclass(frozen=True)
class Event:
    """One note on the grid.

    Attributes
    ----------
    bar : int
        Bar index from 0.
    pos : int
        Onset within the bar, in sixteenths.
    voice : int
        Part index (0 = highest: soprano / melody).
    pitch : int
        MIDI note number.
    dur : int
        Length in sixteenths (one of :data:`DURATIONS`).
    """

    bar: int
    pos: int
    voice: int
    pitch: int
    dur: int


@dataclass(frozen=True)
class Header:
    """The conditioning of one piece."""

    style: str
    tonic: int
    mode: str
    meter: str
    tempo: float | None
    voices: int

    @property
    def key_name(self) -> str:
        """``"G major"`` style name."""
        return f"{TONICS[self.tonic]} {self.mode}"


def quantise_duration(steps: float) -> int:
    """The nearest allowed length (sixteenths) to ``steps``."""
    return int(_DUR_ARRAY[np.argmin(np.abs(_DUR_ARRAY - steps))])


def tempo_token(bpm: float | None) -> str:
    """The tempo bin token for ``bpm`` (``TEMPO_unk`` for ``None``)."""
    if bpm is None:
        return "TEMPO_unk"
    for edge in TEMPI:
        if bpm <= edge:
            return f"TEMPO_{edge}"
    return f"TEMPO_{TEMPI[-1]}"


def meter_token(meter: str) -> str:
    """The metre token (``METER_other`` for unlisted metres)."""
    return f"METER_{meter}" if meter in METERS else "METER_other"


def bar_steps(meter: str) -> int:
    """Sixteenths in one bar of ``meter`` (``"6/8"`` -> 12); 16 for ``"other"``."""
    if meter not in METERS or meter == "other":
        return 16
    num, den = (int(x) for x in meter.split("/"))
    return num * 16 // den


def header_tokens(header: Header) -> list[int]:
    """The six conditioning tokens (BOS first)."""
    if header.style not in STYLES:
        raise EngineError(f"unknown style {header.style!r}; known: {', '.join(STYLES)}")
    if not 1 <= header.voices <= MAX_VOICES:
        raise EngineError(f"voices must be 1..{MAX_VOICES}, not {header.voices}")
    names = ["BOS", f"STYLE_{header.style}", f"KEY_{TONICS[header.tonic % 12]}_{header.mode}",
             meter_token(header.meter), tempo_token(header.tempo), f"VOICES_{header.voices}"]
    return [INDEX[n] for n in names]


def note_token(voice: int, pitch: int) -> int:
    """The voice·pitch token."""
    return NOTE0 + voice * N_PITCH + (pitch - LOW)


def encode(header: Header, events: Iterable[Event], *, eos: bool = True) -> list[int]:
    """Token ids for a piece.

    Events outside the vocabulary (pitch out of range, voice ≥ 4, position past the bar)
    raise; the dataset builder filters them first.
    """
    out = header_tokens(header)
    ordered = sorted(events, key=lambda e: (e.bar, e.pos, e.voice, -e.pitch))
    bar, pos = -1, -1
    n_bars = ordered[-1].bar + 1 if ordered else 0
    by_bar: dict[int, list[Event]] = {}
    for e in ordered:
        by_bar.setdefault(e.bar, []).append(e)
    for b in range(n_bars):
        out.append(BAR)
        bar, pos = b, -1
        for e in by_bar.get(b, []):
            if not (LOW <= e.pitch <= HIGH and 0 <= e.voice < MAX_VOICES and 0 <= e.pos < MAX_POS):
                raise EngineError(f"event outside the vocabulary: {e}")
            if e.pos != pos:
                out.append(POS0 + e.pos)
                pos = e.pos
            out.append(note_token(e.voice, e.pitch))
            out.append(INDEX[f"D_{quantise_duration(e.dur)}"])
    del bar
    if eos:
        out.append(EOS)
    return out


def kind(token: int) -> str:
    """The token's class: ``special``, ``header``, ``pos``, ``note`` or ``dur``."""
    if token < len(SPECIAL):
        return "special"
    if token < POS0:
        return "header"
    if token < NOTE0:
        return "pos"
    if token < DUR0:
        return "note"
    return "dur"


def decode(tokens: Sequence[int]) -> tuple[Header | None, list[Event]]:
    """Header and events from token ids (tolerant: malformed runs are skipped).

    A note token without a following duration gets the shortest length; positions before
    the first ``BAR`` count as bar 0.
    """
    header = _decode_header(tokens)
    events: list[Event] = []
    bar, pos = -1, 0
    pending: tuple[int, int] | None = None
    for t in tokens:
        t = int(t)
        k = kind(t)
        if k == "dur" and pending is not None:
            events.append(Event(max(bar, 0), pos, pending[0], pending[1], DURATIONS[t - DUR0]))
            pending = None
            continue
        if pending is not None:
            events.append(Event(max(bar, 0), pos, pending[0], pending[1], DURATIONS[0]))
            pending = None
        if t == BAR:
            bar += 1
            pos = 0
        elif k == "pos":
            pos = t - POS0
        elif k == "note":
            v, p = divmod(t - NOTE0, N_PITCH)
            pending = (v, p + LOW)
        elif t == EOS:
            break
    if pending is not None:
        events.append(Event(max(bar, 0), pos, pending[0], pending[1], DURATIONS[0]))
    return header, events


def _decode_header(tokens: Sequence[int]) -> Header | None:
    if len(tokens) < HEADER_LEN or int(tokens[0]) != BOS:
        return None
    names = [VOCAB[int(t)] for t in tokens[1:HEADER_LEN]]
    try:
        style = names[0].removeprefix("STYLE_")
        _, tonic, mode = names[1].split("_")
        meter = names[2].removeprefix("METER_")
        tempo_name = names[3].removeprefix("TEMPO_")
        voices = int(names[4].removeprefix("VOICES_"))
    except ValueError:
        return None
    tempo = None if tempo_name == "unk" else float(tempo_name)
    return Header(style, TONICS.index(tonic), mode, meter, tempo, voices)


def transpose(tokens: np.ndarray, semitones: int) -> np.ndarray | None:
    """``tokens`` shifted by ``semitones`` (pitches and the key token), or ``None`` if a pitch
    would leave the vocabulary's range.

    Parameters
    ----------
    tokens : np.ndarray, shape (n,), integer
        A sequence whose first six tokens are a header.
    """
    if semitones == 0:
        return tokens
    out = tokens.copy()
    notes = (out >= NOTE0) & (out < DUR0)
    rel = out[notes] - NOTE0
    voice, pitch = np.divmod(rel, N_PITCH)
    pitch = pitch + semitones
    if pitch.size and (pitch.min() < 0 or pitch.max() >= N_PITCH):
        return None
    out[notes] = NOTE0 + voice * N_PITCH + pitch
    keys = (out >= KEY0) & (out < KEY0 + 24)
    rel = out[keys] - KEY0
    mode, tonic = np.divmod(rel, 12)
    out[keys] = KEY0 + mode * 12 + (tonic + semitones) % 12
    return out
