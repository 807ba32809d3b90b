"""Music theory: keys, scales, roman-numeral chords and voice leading.

Pitches are MIDI note numbers; pitch classes are integers 0–11 with C = 0. Keys are
major or (natural/harmonic) minor; in minor, an upper-case ``V`` is the major dominant
with the raised leading tone, which is what makes a cadence read as minor rather than
as its relative major [1]_.

References
----------
.. [1] W. Piston, *Harmony*, 5th ed., ch. 4–5 (minor mode, dominant function), 1987.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from music import keys
from music.errors import EngineError

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
"""Canonical (sharp) spelling, as used in take.json and file names."""

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
HARMONIC_MINOR = (0, 2, 3, 5, 7, 8, 11)

class Key(keys.Key):
    """A :class:`music.keys.Key` with its scale and MIDI key signature.

    ``tonic_name`` is the tonic as the user wrote it (``"Bb"``, ``"A#"``); ``None``: spelled
    by key signature. Keys compare by tonic and mode only.
    """

    @property
    def scale(self) -> tuple[int, ...]:
        """Scale pitch classes relative to the tonic (natural minor in minor)."""
        return MAJOR_SCALE if self.mode == "major" else MINOR_SCALE

    def scale_pcs(self) -> list[int]:
        """Absolute pitch classes of the scale."""
        return [(self.tonic + s) % 12 for s in self.scale]

    def midi_signature(self) -> str:
        """The key as mido's ``key_signature`` meta message spells it (``"F#m"``, ``"Bb"``)."""
        tonic = keys.conventional_tonic(self.tonic, self.mode)
        return tonic if self.mode == "major" else tonic + "m"


def parse_key(text: str) -> Key:
    """Parse ``"F# minor"``, ``"Bb major"``, ``"Am"``, ``"c#m"``, ``"E flat minor"`` or ``"D"``.

    A bare letter (``"D"``) is major; ``m``/``min``/``minor`` is minor; the grammar is
    :func:`music.keys.read_key`'s, with a hyphen anywhere read as a space (``"E-flat-minor"``).

    Raises
    ------
    EngineError
        For anything else, with an example of the expected form.
    """
    key = keys.read_key(text.replace("-", " ")) if isinstance(text, str) else None
    if key is None:
        raise EngineError(f"malformed key {text!r}; write it like 'F# minor', 'Bb major' or 'Am'")
    return Key(*key)


# --------------------------------------------------------------------------- chords

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7}
_CHORD_RE = re.compile(
    r"^(b|#)?(vii|iii|ii|iv|vi|v|i|VII|III|II|IV|VI|V|I)(°|o|\+)?(maj7|m7|7|9|sus4|sus2|add9|6)?$"
)


@dataclass(frozen=True)
class Chord:
    """A chord as a root pitch class and intervals above it.

    Attributes
    ----------
    numeral : str
        The roman numeral it came from (``"V7"``).
    root : int
        Root pitch class 0–11.
    intervals : tuple of int
        Semitones above the root, starting with 0.
    """

    numeral: str
    root: int
    intervals: tuple[int, ...]

    @property
    def pcs(self) -> list[int]:
        """Pitch classes of the chord tones, root first."""
        return [(self.root + i) % 12 for i in self.intervals]

    @property
    def third(self) -> int:
        """Pitch class of the third (or the suspension)."""
        return (self.root + self.intervals[1]) % 12

    @property
    def fifth(self) -> int:
        return (self.root + self.intervals[2]) % 12


def chord(numeral: str, key: Key) -> Chord:
    """The chord a roman numeral names in ``key``.

    Case gives the quality (``V`` major, ``v`` minor), ``°`` diminished, ``+`` augmented;
    suffixes ``7`` (minor seventh on minor/dominant chords), ``maj7``, ``m7``, ``9``,
    ``sus2``, ``sus4``, ``add9``, ``6``; a ``b``/``#`` prefix alters the root. Degrees count
    in the key's scale (natural minor in minor), so ``VII`` in A minor is G and ``V`` is E
    major (with G#).
    """
    m = _CHORD_RE.match(numeral)
    if m is None:
        raise EngineError(f"cannot read chord numeral {numeral!r}")
    acc, rom, qual, ext = m.group(1), m.group(2), m.group(3), m.group(4) or ""
    degree = _ROMAN[rom.lower()]
    root = (key.tonic + key.scale[degree - 1] + (1 if acc == "#" else -1 if acc == "b" else 0)) % 12
    if qual in ("°", "o"):
        triad = [0, 3, 6]
    elif qual == "+":
        triad = [0, 4, 8]
    elif rom.isupper():
        triad = [0, 4, 7]
    else:
        triad = [0, 3, 7]
    if ext == "sus4":
        triad[1] = 5
    elif ext == "sus2":
        triad[1] = 2
    extra: list[int] = []
    if ext in ("7", "9"):
        extra = [10 if (triad[1] == 3 or rom.isupper()) and triad[2] != 6 else 9]
        if rom.isupper() and rom != "V" and ext == "7" and qual is None:
            extra = [11]  # IV7/I7/VI7 in pop and house voicings mean major sevenths
    if ext == "m7":
        extra = [10]
    if ext == "maj7":
        extra = [11]
    if ext == "6":
        extra = [9]
    if ext in ("9", "add9"):
        extra.append(14)
    return Chord(numeral, root, tuple(triad + extra))


def progression(numerals: list[str] | tuple[str, ...], key: Key) -> list[Chord]:
    """Chords of a list of numerals."""
    return [chord(n, key) for n in numerals]


# --------------------------------------------------------------------------- voicing


def voicings(ch: Chord, *, voices: int, low: int, high: int) -> list[tuple[int, ...]]:
    """Every voicing of ``ch`` with ``voices`` notes inside ``[low, high]`` (MIDI).

    A voicing holds each chord tone at least once (up to ``voices`` of them, the root,
    third and seventh first), may double the root, and spans at most two octaves.
    """
    pcs = ch.pcs
    # With fewer voices than tones, keep the guide tones (root, third, seventh/extension).
    if len(pcs) > voices:
        keep = [pcs[0], pcs[1], *pcs[3:]][:voices]
        if len(keep) < voices:
            keep.append(pcs[2])
        pcs = keep
    out: set[tuple[int, ...]] = set()
    # Double the root; if the register holds only one root, the fifth, then the third.
    for double in (pcs[0], pcs[2 % len(pcs)], pcs[1 % len(pcs)]):
        needed = list(pcs) + [double] * (voices - len(pcs))
        candidates = [[p for p in range(low, high + 1) if p % 12 == pc] for pc in needed]
        for combo in itertools.product(*candidates):
            s = tuple(sorted(combo))
            if len(set(s)) == len(s) and s[-1] - s[0] <= 24:
                out.add(s)
        if out:
            break
    if not out and voices > 1:
        return voicings(ch, voices=voices - 1, low=low, high=high)
    return sorted(out)


def lead_voices(prev: tuple[int, ...] | None, options: list[tuple[int, ...]], *,
                centre: float) -> tuple[int, ...]:
    """The voicing closest to ``prev`` (smallest total motion, then nearest ``centre``).

    With no previous chord, the voicing whose mean pitch is nearest ``centre``. Ties break
    on the voicing tuple itself, so the choice is deterministic.
    """
    if not options:
        raise EngineError("no voicing fits the register; widen it")
    if prev is None:
        return min(options, key=lambda v: (abs(sum(v) / len(v) - centre), v))

    def cost(v: tuple[int, ...]) -> tuple[float, tuple[int, ...]]:
        motion = sum(abs(a - b) for a, b in zip(v, prev, strict=False))
        drift = abs(sum(v) / len(v) - centre)
        return (motion + 0.5 * drift, v)

    return min(options, key=cost)


def voice_lead(chords: list[Chord], *, voices: int = 4, low: int = 52, high: int = 76,
               centre: float = 64.0) -> list[tuple[int, ...]]:
    """Voicings for a progression with smooth voice leading (greedy, minimal motion)."""
    out: list[tuple[int, ...]] = []
    prev: tuple[int, ...] | None = None
    for ch in chords:
        v = lead_voices(prev, voicings(ch, voices=voices, low=low, high=high), centre=centre)
        out.append(v)
        prev = v
    return out


def nearest_pitch(pc: int, target: float, *, low: int = 0, high: int = 127) -> int:
    """The MIDI pitch of class ``pc`` nearest ``target`` within ``[low, high]``."""
    best = None
    for p in range(max(0, low), min(127, high) + 1):
        if p % 12 == pc % 12 and (best is None or abs(p - target) < abs(best - target)):
            best = p
    if best is None:
        raise EngineError(f"no pitch of class {pc} in [{low}, {high}]")
    return best
