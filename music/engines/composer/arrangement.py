"""Song form and harmonic timeline.

A take is a list of :class:`Section` objects (intro / A / B / breakdown / outro for
longer takes, one full-energy section for short ones and loops) over a timeline of
:class:`ChordSpan` objects: the genre's progression repeated, voice-led, and (for songs,
not loops) closed by an authentic cadence ``V → I``/``i`` so the last thing heard is
the tonic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from music.engines.composer import theory
from music.engines.composer.genres import Genre

BEATS_PER_BAR = 4


@dataclass(frozen=True)
class Section:
    """A stretch of bars with one energy level and set of active parts.

    Attributes
    ----------
    name : str
        ``"intro"``, ``"A"``, ``"B"``, ``"breakdown"``, ``"outro"``, ``"main"`` or ``"loop"``.
    start_bar, bars : int
    energy : float
        0 (sparse, quiet) – 1 (everything, loud).
    parts : frozenset of str
        Parts that play (``"drums"``, ``"bass"``, ``"chords"``, ``"lead"``).
    fill : bool
        Whether the drums play a fill in the last bar (leading into the next section).
    """

    name: str
    start_bar: int
    bars: int
    energy: float
    parts: frozenset[str]
    fill: bool = False

    @property
    def end_bar(self) -> int:
        return self.start_bar + self.bars


@dataclass(frozen=True)
class ChordSpan:
    """A chord sounding from ``start`` for ``dur`` beats, with its voicing (MIDI pitches)."""

    start: float
    dur: float
    chord: theory.Chord
    voicing: tuple[int, ...]


ALL_PARTS = frozenset({"drums", "bass", "chords", "lead"})

# (name, phrases, energy, parts) cycled to fill the middle of a song.
_MIDDLE = (
    ("A", 2, 0.7, ALL_PARTS),
    ("B", 2, 1.0, ALL_PARTS),
    ("breakdown", 1, 0.3, frozenset({"chords", "lead"})),
    ("B", 2, 1.0, ALL_PARTS),
    ("A", 2, 0.75, ALL_PARTS),
)


def phrase_bars(genre: Genre) -> int:
    """Bars in one pass of the progression (4 chords)."""
    return 4 * genre.chord_bars


def plan_form(bars: int, *, genre: Genre, loop: bool, energy_shift: float = 0.0) -> list[Section]:
    """Sections covering ``bars`` bars.

    Loops and takes shorter than four phrases are one full-energy section (so that a
    short render has every part playing); longer takes get intro, a cycle of A / B /
    breakdown sections, and an outro, with fills at the boundaries.
    """
    def e(x: float) -> float:
        return float(np.clip(x + energy_shift, 0.2, 1.0))

    unit = phrase_bars(genre)
    if loop or bars < 4 * unit:
        return [Section("loop" if loop else "main", 0, bars, e(0.9), ALL_PARTS)]
    phrases = bars // unit
    sections: list[Section] = [Section("intro", 0, unit, e(0.45), frozenset({"drums", "chords"}), True)]
    middle = phrases - 2
    i = 0
    while middle > 0:
        name, n, energy, parts = _MIDDLE[i % len(_MIDDLE)]
        n = min(n, middle)
        sections.append(Section(name, sections[-1].end_bar, n * unit, e(energy), parts, True))
        middle -= n
        i += 1
    outro_bars = bars - sections[-1].end_bar
    sections.append(Section("outro", sections[-1].end_bar, outro_bars, e(0.45),
                            frozenset({"drums", "bass", "chords"}), False))
    return sections


def chord_timeline(numerals: tuple[str, ...], *, key: theory.Key, genre: Genre, bars: int,
                   loop: bool, register_shift: int = 0) -> list[ChordSpan]:
    """The progression repeated over ``bars`` bars, voice-led, with a closing cadence.

    Each chord lasts ``genre.chord_bars`` bars, or less when the take is too short for one
    pass of the progression (then the four chords share the take). Songs end ``V – I``:
    the last two chord slots are replaced by the dominant and the tonic.
    """
    total = bars * BEATS_PER_BAR
    length = float(genre.chord_bars * BEATS_PER_BAR)
    if total < len(numerals) * length:
        length = total / len(numerals)
    slots = max(1, round(total / length))
    seq = [numerals[i % len(numerals)] for i in range(slots)]
    if not loop and slots >= 2:
        tonic = "i" if key.mode == "minor" else "I"
        seq[-2:] = ["V7" if "7" in "".join(numerals) else "V", tonic]
    chords = theory.progression(seq, key)
    low, high = genre.chords_range
    voices = theory.voice_lead(chords, voices=4, low=low + register_shift, high=high + register_shift,
                               centre=(low + high) / 2 + register_shift)
    return [ChordSpan(i * length, length, c, v) for i, (c, v) in enumerate(zip(chords, voices, strict=True))]


def section_at(sections: list[Section], bar: int) -> Section:
    """The section holding ``bar``."""
    for s in sections:
        if s.start_bar <= bar < s.end_bar:
            return s
    return sections[-1]


def chord_at(spans: list[ChordSpan], beat: float) -> ChordSpan:
    """The chord sounding at ``beat``."""
    for s in spans:
        if s.start <= beat < s.start + s.dur:
            return s
    return spans[-1]
