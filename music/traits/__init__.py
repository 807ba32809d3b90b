"""Musical traits of clips and stems: tempo, key, loudness, timbre, mood, and collection rarity.

>>> from music.traits import extract, Traits, rarity
>>> traits = extract(audio)                      # doctest: +SKIP
>>> traits.key, traits.tempo_bpm, traits.camelot  # doctest: +SKIP
('F# minor', 128.0, '11A')

:class:`Traits` and :func:`rarity` import nothing heavy; :func:`extract` loads the signal
stack (scipy, soxr, librosa's filters) on first use. Methods and references of every trait
are in ``docs/traits.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from music.traits.collection import TokenRarity, rarity
from music.traits.model import (
    LOUDNESS_FLOOR_LUFS,
    MOODS,
    TRUE_PEAK_FLOOR_DBTP,
    StemTraits,
    Traits,
    TraitsError,
    camelot,
    key_name,
    open_key,
    parse_key,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from music.audio import Audio

__all__ = [
    "LOUDNESS_FLOOR_LUFS", "MOODS", "TRUE_PEAK_FLOOR_DBTP", "StemTraits", "TokenRarity", "Traits",
    "TraitsError", "camelot", "extract", "key_name", "open_key", "parse_key", "rarity",
]


def extract(audio: Audio, *, stems: Mapping[str, Audio] | None = None) -> Traits:
    """Extract every trait of ``audio`` (see :func:`music.traits.pipeline.extract`)."""
    from music.traits.pipeline import extract as _extract

    return _extract(audio, stems=stems)
