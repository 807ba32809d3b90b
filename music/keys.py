"""Key names: the one grammar a key is written in, and the conventional spelling of a key.

Both the engines (a key in a prompt or a parameter) and the traits (a key in a spec or a
measured key) read key names, so the grammar and the spelling tables live here, below both,
with nothing heavier than :mod:`re` to import.

>>> read_key("B flat minor"), read_key("c#m"), read_key("H major")
((10, 'minor', 'Bb'), (1, 'minor', 'C#'), None)
>>> Key(10, "major").name, Key(10, "major", "A#").name
('Bb major', 'A# major')

Conventional spelling (:func:`conventional_tonic`) is the key signature with fewer
accidentals: Db (5 ♭) not C# major (7 ♯), Ab/Eb/Bb major, Bb/Eb minor, C# and G# minor (4–5 ♯),
F major not E# major. The two keys with six accidentals either way are spelled **F# major**
(not Gb major: key charts and DJ software print 2B / 7d that way) and **Eb minor** (not D#
minor: its neighbours Bb and F minor are flat-side, and labels write it so). MIDI's
``key_signature`` names keys the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTALS = {"": 0, "#": 1, "♯": 1, "sharp": 1, "b": -1, "♭": -1, "flat": -1, "##": 2, "bb": -2}
_KEY_RE = re.compile(
    r"^\s*([A-Ga-g])\s*(##|bb|#|♯|b|♭|sharp|flat)?[\s-]*(major|minor|maj|min|m|M|ionian|aeolian)?\s*$"
)
_ASCII = {"♯": "#", "♭": "b", "sharp": "#", "flat": "b", "##": "##", "bb": "bb", "#": "#", "b": "b", "": ""}
MAJOR_SPELLING = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
"""Conventional tonic of each major key by pitch class (the signature with fewer accidentals; F# at 6)."""
MINOR_SPELLING = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
"""Conventional tonic of each minor key by pitch class (Eb at 3, the six-accidental tie)."""


@dataclass(frozen=True)
class Key:
    """A tonic pitch class and a mode, with the tonic as written when it was.

    Attributes
    ----------
    tonic : int
        Pitch class of the tonic, 0–11 (C = 0).
    mode : {"major", "minor"}
    tonic_name : str or None
        The tonic as written (``"Bb"``, ``"A#"``), ASCII accidentals; ``None``: spelled by
        key signature. Not compared: Bb major and A# major are the same key.
    """

    tonic: int
    mode: str
    tonic_name: str | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        """``"Bb minor"``: as written, else the conventional spelling (F major, not E# major)."""
        return f"{self.tonic_name or conventional_tonic(self.tonic, self.mode)} {self.mode}"


def read_key(text: str) -> tuple[int, str, str] | None:
    """``(tonic, mode, tonic_name)`` of a key name, or ``None`` when ``text`` is not one.

    Accepts ``"Bb major"``, ``"B flat minor"``, ``"Ebm"``, ``"c#m"``, ``"F# min"``, ``"A"``
    (a bare letter is major), ``"Bb-major"`` (a file-name slug), unicode ♭/♯, double sharps
    and flats, ``"Fsharp-minor"`` and the modes' church names (ionian, aeolian). Callers
    raise their own error for ``None``, naming the form they expect.
    """
    m = _KEY_RE.match(text)
    if m is None:
        return None
    letter, acc, mode = m.group(1).upper(), m.group(2) or "", m.group(3) or ""
    acc_key = acc if acc in ("#", "♯", "b", "♭", "##", "bb", "") else acc.lower()
    pc = (_LETTER_PC[letter] + _ACCIDENTALS[acc_key]) % 12
    minor = mode in ("m", "min", "minor", "aeolian")
    return pc, "minor" if minor else "major", letter + _ASCII[acc_key]


def conventional_tonic(tonic: int, mode: str) -> str:
    """The tonic of a key by its signature: ``conventional_tonic(10, "major") == "Bb"``.

    ``mode`` is ``"major"`` or ``"minor"`` (anything but ``"major"`` reads as minor; callers
    that take a mode from outside check it first).
    """
    return (MAJOR_SPELLING if mode == "major" else MINOR_SPELLING)[tonic % 12]
