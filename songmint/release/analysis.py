"""Stage 2: what each token's music is — traits, rarity across the release, and the musical facts
(tempo, key) every output shows.

The facts are resolved once per token (:class:`MusicalFacts`) and read by the cover, the file
names, the metadata, the preview and ``verify``: what a generating engine states it composed
wins over what trait extraction measured (which can be off by a metrical level or a relative key).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from music.engines import Take
from songmint import stages as st
from songmint.release.cache import Cache, audio_hash, content_hash
from songmint.release.options import Log, announce
from songmint.release.tokens import Token


@dataclass(frozen=True)
class MusicalFacts:
    """Tempo and key as shown for a token.

    Attributes
    ----------
    bpm : float or None
        Beats per minute, rounded to 0.01 (None: no pulse).
    key : str or None
        Key name as written by the engine or measured (``"A minor"``).
    camelot, open_key : str or None
        The key in Camelot (``"8A"``) and Open Key (``"1m"``) notation.
    """

    bpm: float | None
    key: str | None
    camelot: str | None
    open_key: str | None

    @classmethod
    def resolve(cls, take: Take, traits: dict[str, Any]) -> MusicalFacts:
        """Declared (``Take.bpm``/``Take.key``) over measured (``traits``)."""
        bpm = take.bpm or traits.get("tempo_bpm") or None
        key = take.key or traits.get("key") or None
        camelot, open_key = traits.get("camelot"), traits.get("open_key")
        if take.key and take.key != traits.get("key"):
            from music.traits import camelot as to_camelot
            from music.traits import open_key as to_open_key

            try:
                camelot, open_key = to_camelot(take.key), to_open_key(take.key)
            except Exception:  # a spelling the traits module does not parse: none rather than a wrong one
                camelot = open_key = None
        return cls((round(float(bpm), 2) if bpm else None), key, camelot, open_key)

    def as_traits(self) -> dict[str, Any]:
        """The facts under their trait names (for the cover, which draws from traits)."""
        facts = {"tempo_bpm": self.bpm, "key": self.key, "camelot": self.camelot, "open_key": self.open_key}
        return {k: v for k, v in facts.items() if v is not None}


@dataclass(frozen=True)
class Analysis:
    """A token's traits (``music.traits`` as JSON), its rarity in the release, and its facts."""

    traits: dict[str, Any]
    rarity: dict[str, Any]
    facts: MusicalFacts


def analyse(tokens: list[Token], cache: Cache, log: Log) -> dict[int, Analysis]:
    """Stage 2: traits of every token's audio (and a track's stems), then rarity across the release."""
    traits: dict[int, dict[str, Any]] = {}
    for t in tokens:
        key = content_hash(
            "traits", audio_hash(t.audio), *sorted(f"{n}:{audio_hash(a)}" for n, a in t.stems.items())
        )
        traits[t.id], hit = cache.json("traits", key, lambda t=t: st.extract_traits(t.audio, stems=t.stems))
        announce(log, 2, f"{t.slug}{' cached' if hit else ''}")
    rarity = st.collection_rarity([traits[t.id] for t in tokens])
    return {
        t.id: Analysis(traits[t.id], r, MusicalFacts.resolve(t.take, traits[t.id]))
        for t, r in zip(tokens, rarity, strict=True)
    }
