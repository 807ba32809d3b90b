"""Genre definitions: tempo, grooves, harmony, instruments and mix for each style.

Each :class:`Genre` is plain data the pattern generators read, kept in ``genres.toml`` next to
this file (one table a genre) and read once at import. Drum grooves are written as one bar of
sixteenth-note steps per instrument, one character a step:

``X`` accent (vel 118), ``x`` normal (100), ``o`` soft (72), ``g`` ghost (44), ``.`` rest.

Instruments are General MIDI programs (bank 0, bank 8 for GM2 variations, bank 128 for
drum kits), so the MIDI files play in any GM-compatible DAW or SoundFont. Progressions in
minor always include a major ``V`` (raised leading tone) and those in major a ``V`` or
``IV``→``I``: real cadences, so that the key is audible, not just the set of pitches.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from music.errors import EngineError

# General MIDI percussion keys (channel 10).
KICK, RIM, SNARE, CLAP, CLOSED_HAT, PEDAL_HAT, OPEN_HAT = 36, 37, 38, 39, 42, 44, 46
LOW_TOM, MID_TOM, HIGH_TOM, CRASH, RIDE, TAMBOURINE, COWBELL, SHAKER = 45, 47, 50, 49, 51, 54, 56, 70
HAT_CHOKE = (CLOSED_HAT, PEDAL_HAT, OPEN_HAT)
"""GM exclusive class: a closed or pedal hat cuts an open one."""

STEP_VELOCITY = {"X": 118, "x": 100, "o": 72, "g": 44}


@dataclass(frozen=True)
class Instrument:
    """A GM instrument with its channel settings and place in the mix.

    Attributes
    ----------
    program, bank : int
        GM program (0–127) and bank (0, 8 for variations, 128 for drum kits).
    pan : int
        CC10, 0 (left) – 64 (centre) – 127 (right).
    reverb, chorus : int
        CC91 / CC93 effect sends, 0–127.
    level_db : float
        Stem gain in the mix (dB).
    """

    program: int
    bank: int = 0
    pan: int = 64
    reverb: int = 30
    chorus: int = 0
    level_db: float = 0.0


@dataclass(frozen=True)
class Genre:
    """A style: everything the generators need to write in it.

    Attributes
    ----------
    name : str
        Canonical name (``"lofi"``).
    label : str
        Human name (``"lo-fi hip-hop"``).
    aliases : tuple of str
        Words that name it in a prompt (matched longest first).
    bpm, bpm_range : float, (float, float)
        Default tempo and the idiomatic range (BPM); a request may go outside it.
    mode : {"minor", "major"}
        Default mode when the request names none.
    swing : float
        Position of the off-beat sixteenth inside an eighth: 0.5 straight, 0.66 triplet.
    progressions : dict
        ``{"minor": [...], "major": [...]}``: candidate four-chord progressions.
    chord_bars : int
        Bars per chord.
    drums : dict[int, str]
        GM key -> 16-step pattern for the main groove.
    sparse : tuple of int
        Drum keys that keep playing in low-energy sections.
    kit : int
        Drum kit preset (bank 128).
    bass_style, chords_style, lead_style : str
        Names of the generators in :mod:`~music.engines.composer.patterns`.
    bass, chords, lead : Instrument
    bass_octave : int
        MIDI pitch around which the bass sits.
    lead_range : (int, int)
        Lead register (MIDI).
    lead_density : float
        Probability of a note on each eighth of the lead motif.
    hat_rolls : float
        Chance per bar of a trap-style hi-hat roll.
    humanize_ms : float
        Standard deviation of timing humanisation (ms).
    velocity_jitter : float
        Standard deviation of velocity humanisation (MIDI steps).
    room : float
        FluidSynth reverb room size 0–1 for the whole track.
    """

    name: str
    label: str
    aliases: tuple[str, ...]
    bpm: float
    bpm_range: tuple[float, float]
    mode: str
    swing: float
    progressions: dict[str, tuple[tuple[str, ...], ...]]
    chord_bars: int
    drums: dict[int, str]
    sparse: tuple[int, ...]
    kit: int
    bass_style: str
    chords_style: str
    lead_style: str
    bass: Instrument
    chords: Instrument
    lead: Instrument
    bass_octave: int = 36
    chords_range: tuple[int, int] = (52, 76)
    lead_range: tuple[int, int] = (67, 86)
    lead_density: float = 0.55
    hat_rolls: float = 0.0
    humanize_ms: float = 4.0
    velocity_jitter: float = 6.0
    room: float = 0.5
    drums_level_db: float = -2.0
    moods: dict[str, float] = field(default_factory=dict)


DRUM_NAMES = {
    "kick": KICK, "rim": RIM, "snare": SNARE, "clap": CLAP, "closed_hat": CLOSED_HAT, "pedal_hat": PEDAL_HAT,
    "open_hat": OPEN_HAT, "low_tom": LOW_TOM, "mid_tom": MID_TOM, "high_tom": HIGH_TOM, "crash": CRASH,
    "ride": RIDE, "tambourine": TAMBOURINE, "cowbell": COWBELL, "shaker": SHAKER,
}
"""How genres.toml names the GM drum keys."""


def _frozen(value: Any) -> Any:
    """TOML arrays as tuples (all the way down, tables too), as the frozen :class:`Genre` wants them."""
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


def _genre(name: str, table: dict[str, Any]) -> Genre:
    """One ``[name]`` table of genres.toml as a :class:`Genre` (patterns checked to be 16 steps)."""
    t = {k: _frozen(v) for k, v in table.items()}
    drums = {DRUM_NAMES[drum]: pattern for drum, pattern in t.pop("drums").items()}
    for key, pattern in drums.items():
        if len(pattern) != 16:
            raise ValueError(f"{name}: drum pattern for key {key} is not 16 steps")
    return Genre(
        name=name,
        drums=drums,
        sparse=tuple(DRUM_NAMES[drum] for drum in t.pop("sparse")),
        progressions=t.pop("progressions"),
        **{part: Instrument(**t.pop(part)) for part in ("bass", "chords", "lead")},
        **t,
    )


def _load() -> dict[str, Genre]:
    doc = tomllib.loads(Path(__file__).with_name("genres.toml").read_text(encoding="utf-8"))
    return {name: _genre(name, table) for name, table in doc.items()}


GENRES: dict[str, Genre] = _load()
"""Canonical name -> :class:`Genre`, in the order of genres.toml."""

DEFAULT_GENRE = "lofi"


def get_genre(name: str) -> Genre:
    """The genre called ``name`` (canonical name or alias, case-insensitive).

    Raises
    ------
    EngineError
        For an unknown name, listing the known genres.
    """
    key = " ".join(str(name).lower().replace("_", " ").split())
    if key in GENRES:
        return GENRES[key]
    for g in GENRES.values():
        if key in g.aliases:
            return g
    raise EngineError(f"unknown genre {name!r}; known genres: {', '.join(GENRES)}")


def alias_table() -> list[tuple[str, Genre]]:
    """``(alias, genre)`` pairs, longest alias first (for prompt matching)."""
    pairs = [(a, g) for g in GENRES.values() for a in (g.name, *g.aliases)]
    return sorted(pairs, key=lambda p: (-len(p[0]), p[0]))
