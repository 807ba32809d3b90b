"""Musical traits of clips and stems: tempo, key, loudness, timbre, mood, and collection rarity.

>>> from music.traits import extract, Traits, rarity
>>> traits = extract(audio)                      # doctest: +SKIP
>>> traits.key, traits.tempo_bpm, traits.camelot  # doctest: +SKIP
('F# minor', 128.0, '11A')

:class:`Traits`, :func:`rarity`, the trait table (:mod:`.table`: :func:`opensea_attributes`,
:func:`display_value`) and key spelling (:mod:`.keys`: ``keys.parse_key`` keeps a written
spelling, :func:`spell_key` spells a measured key) import nothing heavy; :func:`extract` loads the signal
stack (scipy, soxr, librosa's filters) on first use. Methods and references of every trait
are in ``docs/traits.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from music.traits.collection import TokenRarity, rarity
from music.traits.keys import SpelledKey, conventional, key_slug, spell_key
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
from music.traits.table import TRAITS, TraitSpec, display_value, opensea_attributes, round_value, unsure_text

if TYPE_CHECKING:
    from collections.abc import Mapping

    from music.audio import Audio

__all__ = [
    "LOUDNESS_FLOOR_LUFS", "MOODS", "TRAITS", "TRUE_PEAK_FLOOR_DBTP", "SpelledKey", "StemTraits",
    "TokenRarity", "TraitSpec", "Traits", "TraitsError", "camelot", "conventional", "display_value",
    "extract", "key_name", "key_slug", "open_key", "opensea_attributes", "parse_key", "rarity",
    "round_value", "spell_key", "unsure_text",
]


def extract(audio: Audio, *, stems: Mapping[str, Audio] | None = None) -> Traits:
    """Extract every trait of ``audio`` (see :func:`music.traits.pipeline.extract`)."""
    from music.traits.pipeline import extract as _extract

    return _extract(audio, stems=stems)
