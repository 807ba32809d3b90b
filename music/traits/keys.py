"""Key names as written: parse a user's or an engine's spelling, spell a measured key by convention.

>>> parse_key("Bb major").name, parse_key("ebm").name, parse_key("F# minor").tonic
('Bb major', 'Eb minor', 6)
>>> spell_key(10, "major"), spell_key(3, "minor"), spell_key(5, "major")
('Bb major', 'Eb minor', 'F major')

Conventional spelling (:func:`spell_key`) is the key signature with fewer accidentals
(:mod:`music.keys`, where the grammar and the spelling tables live: Db not C# major, F# major,
Eb minor). A key that was *written* (a spec, a prompt, the engine's parameter) keeps the
spelling it was written with (:func:`parse_key`).

Camelot and Open Key codes come from :func:`music.traits.camelot` and
:func:`music.traits.open_key`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from music.keys import Key, conventional_tonic, read_key
from music.traits.model import MODES, TraitsError, camelot, open_key


@dataclass(frozen=True)
class SpelledKey(Key):
    """A :class:`music.keys.Key` whose spelling is always there and is compared.

    ``tonic_name`` is required here; :attr:`name` is the key as written (``"Bb major"``) and
    Bb major is not equal to A# major (:meth:`same_as` is the comparison that ignores spelling).
    """

    tonic_name: str = field()

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
    key = read_key(text.replace("_", " ")) if isinstance(text, str) else None
    if key is None:
        raise TraitsError(f"not a key name: {text!r} (expected e.g. 'Bb major' or 'F# minor')")
    return SpelledKey(*key)


def spell_key(tonic: int, mode: str) -> str:
    """Conventional name of a key given by pitch class: ``spell_key(10, "major") == "Bb major"``."""
    if mode not in MODES:
        raise TraitsError(f"mode must be 'major' or 'minor', got {mode!r}")
    return f"{conventional_tonic(tonic, mode)} {mode}"


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
