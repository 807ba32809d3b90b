"""Key names as written: parse a user's or an engine's spelling, spell a measured key by convention.

>>> parse_key("Bb major").name, parse_key("ebm").name, parse_key("F# minor").tonic
('Bb major', 'Eb minor', 6)
>>> spell_key(10, "major"), spell_key(3, "minor"), spell_key(5, "major")
('Bb major', 'Eb minor', 'F major')

Conventional spelling (:func:`spell_key`) is the key signature with fewer accidentals:
Db (5 ♭) not C# major (7 ♯), Ab/Eb/Bb major, Bb/Eb minor, C# and G# minor (4–5 ♯), F major not
E# major. The two keys with six accidentals either way are spelled **F# major** (not Gb
major: key charts and DJ software print 2B / 7d that way) and **Eb minor** (not D# minor: its
neighbours Bb and F minor are flat-side, and labels write it so). A key that was *written*
(a spec, a prompt, the engine's parameter) keeps the spelling it was written with
(:func:`parse_key`).

Camelot and Open Key codes come from :func:`music.traits.camelot` and
:func:`music.traits.open_key`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from music.traits.model import MODES, TraitsError, camelot, open_key

_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTALS = {"": 0, "#": 1, "♯": 1, "sharp": 1, "b": -1, "♭": -1, "flat": -1, "##": 2, "bb": -2}
_KEY_RE = re.compile(
    r"^\s*([A-Ga-g])\s*(##|bb|#|♯|b|♭|sharp|flat)?[\s-]*(major|minor|maj|min|m|M|ionian|aeolian)?\s*$"
)
MAJOR_SPELLING = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
"""Conventional tonic of each major key by pitch class (the signature with fewer accidentals; F# at 6)."""
MINOR_SPELLING = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
"""Conventional tonic of each minor key by pitch class (Eb at 3, the six-accidental tie)."""
_ASCII = {"♯": "#", "♭": "b", "sharp": "#", "flat": "b", "##": "##", "bb": "bb", "#": "#", "b": "b", "": ""}


@dataclass(frozen=True)
class SpelledKey:
    """A key with its spelling.

    Attributes
    ----------
    tonic : int
        Pitch class of the tonic, 0–11 (C = 0).
    mode : {"major", "minor"}
    tonic_name : str
        The tonic as written (``"Bb"``, ``"A#"``, ``"Eb"``), ASCII accidentals.
    """

    tonic: int
    mode: str
    tonic_name: str

    @property
    def name(self) -> str:
        """``"Bb major"``: the key as written."""
        return f"{self.tonic_name} {self.mode}"

    @property
    def conventional(self) -> str:
        """The conventional spelling of the same key (:func:`spell_key`)."""
        return spell_key(self.tonic, self.mode)

    @property
    def camelot(self) -> str:
        return camelot(self.name)

    @property
    def open_key(self) -> str:
        return open_key(self.name)

    @property
    def slug(self) -> str:
        """File-name form, ``"Bb-major"``, ``"Fsharp-minor"`` (``#`` is unsafe in URLs)."""
        return f"{self.tonic_name.replace('#', 'sharp')}-{self.mode}"

    def same_as(self, other: SpelledKey) -> bool:
        """Same tonic pitch class and mode, whatever the spelling (Bb major is A# major)."""
        return self.tonic == other.tonic and self.mode == other.mode


def parse_key(text: str) -> SpelledKey:
    """Parse a key name and keep its spelling.

    Accepts ``"Bb major"``, ``"B flat minor"``, ``"Ebm"``, ``"c#m"``, ``"F# min"``, ``"A"``
    (a bare letter is major), ``"Bb-major"`` (a file-name slug), unicode ♭/♯ and
    ``"Fsharp-minor"``.

    Raises
    ------
    TraitsError
        For anything else, with an example of the expected form.
    """
    if not isinstance(text, str):
        raise TraitsError(f"not a key name: {text!r} (expected e.g. 'Bb major' or 'F# minor')")
    m = _KEY_RE.match(text.replace("_", " "))
    if m is None:
        raise TraitsError(f"not a key name: {text!r} (expected e.g. 'Bb major' or 'F# minor')")
    letter, acc, mode = m.group(1).upper(), m.group(2) or "", m.group(3) or ""
    acc_key = acc if acc in ("#", "♯", "b", "♭", "##", "bb", "") else acc.lower()
    pc = (_LETTER_PC[letter] + _ACCIDENTALS[acc_key]) % 12
    minor = mode in ("m", "min", "minor", "aeolian")
    return SpelledKey(pc, "minor" if minor else "major", letter + _ASCII[acc_key])


def spell_key(tonic: int, mode: str) -> str:
    """Conventional name of a key given by pitch class: ``spell_key(10, "major") == "Bb major"``."""
    if mode not in MODES:
        raise TraitsError(f"mode must be 'major' or 'minor', got {mode!r}")
    names = MAJOR_SPELLING if mode == "major" else MINOR_SPELLING
    return f"{names[tonic % 12]} {mode}"


def conventional(text: str) -> str:
    """Any key name → its conventional spelling: ``"A# major"`` → ``"Bb major"``."""
    k = parse_key(text)
    return spell_key(k.tonic, k.mode)


def as_written(text: str) -> str:
    """A written key, tidied but with its spelling kept: ``"bbm"`` → ``"Bb minor"``."""
    return parse_key(text).name


def key_slug(text: str) -> str:
    """File-name form of a key in its conventional spelling: ``"A# major"`` → ``"Bb-major"``."""
    k = parse_key(conventional(text))
    return k.slug
