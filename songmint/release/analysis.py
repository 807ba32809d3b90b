"""Stage 2: what each token's music is — traits, rarity across the release, and the musical facts
(tempo, key, mood) every output shows.

The facts are resolved once per track (:class:`MusicalFacts`) and read by the cover, the file
names, the attributes, the music-NFT fields, the preview and ``verify``; a stem token wears its
track's facts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from music.engines import Take
from songmint import stages as st
from songmint.files import write_atomic
from songmint.release.cache import Cache, audio_hash, content_hash
from songmint.release.options import Log, announce
from songmint.release.tasks import Tasks
from songmint.release.tokens import Token
from songmint.spec import Track

TEMPO_TOLERANCE = 0.02
"""Declared and measured tempo agree within ±2 % (an octave apart is a disagreement)."""


def _same_key(a: str, b: str) -> bool:
    from music.traits import parse_key

    try:
        return parse_key(a) == parse_key(b)
    except Exception:
        return a.strip().lower() == b.strip().lower()


def _key_codes(key: str | None) -> tuple[str | None, str | None]:
    """Camelot and Open Key codes of a key name (none rather than a wrong one for an odd spelling)."""
    if not key:
        return None, None
    from music.traits import camelot, open_key

    try:
        return camelot(key), open_key(key)
    except Exception:
        return None, None


@dataclass(frozen=True)
class MusicalFacts:
    """Tempo, key and mood as published for a token, each with its source.

    *Declared* facts (the spec's ``bpm``/``key``/``mood``, else what the engine states it composed,
    ``Take.bpm``/``Take.key``) win over *measured* ones (``music.traits``), which can be off by a
    metrical level or a relative key; the measured values are kept for reference, and a
    disagreement beyond :data:`TEMPO_TOLERANCE` (tempo) or of key is listed in ``disagreements``.

    Attributes
    ----------
    bpm : float or None
        Beats per minute, rounded to 0.01 (None: no pulse).
    key : str or None
        Key name as written by the spec or engine, or as measured (``"A minor"``).
    camelot, open_key : str or None
        The key in Camelot (``"8A"``) and Open Key (``"1m"``) notation.
    mood : str or None
        Mood word(s).
    sources : dict
        ``{"bpm"|"key"|"mood": "spec"|"engine"|"measured"}`` for each fact that is set.
    measured : dict
        What trait extraction measured (``tempo_bpm``, ``key``, ``mood``), for reference.
    disagreements : tuple of str
        One sentence per declared fact the measurement contradicts.
    """

    bpm: float | None
    key: str | None
    camelot: str | None
    open_key: str | None
    mood: str | None = None
    sources: dict[str, str] = field(default_factory=dict)
    measured: dict[str, Any] = field(default_factory=dict)
    disagreements: tuple[str, ...] = ()

    @classmethod
    def resolve(cls, track: Track, take: Take, traits: dict[str, Any]) -> MusicalFacts:
        """The facts of a track: spec, then engine, then measurement."""
        measured = {k: traits.get(k) or None for k in ("tempo_bpm", "key", "mood")}
        sources: dict[str, str] = {}

        def pick(name: str, spec_value: Any, engine_value: Any, measured_value: Any) -> Any:
            for source, value in (
                ("spec", spec_value),
                ("engine", engine_value),
                ("measured", measured_value),
            ):
                if value:
                    sources[name] = source
                    return value
            return None

        bpm = pick("bpm", track.bpm, take.bpm, measured["tempo_bpm"])
        key = pick("key", track.key, take.key, measured["key"])
        mood = pick("mood", track.mood, None, measured["mood"])
        notes = []
        m_bpm, m_key = measured["tempo_bpm"], measured["key"]
        if bpm and m_bpm and sources["bpm"] != "measured" and abs(m_bpm / bpm - 1) > TEMPO_TOLERANCE:
            notes.append(
                f"tempo declared {float(bpm):g} BPM ({sources['bpm']}), measured {float(m_bpm):.1f} BPM"
            )
        if key and m_key and sources["key"] != "measured" and not _same_key(key, m_key):
            notes.append(f"key declared {key} ({sources['key']}), measured {m_key}")
        if key == measured["key"]:
            camelot, open_key = traits.get("camelot"), traits.get("open_key")
        else:
            camelot, open_key = _key_codes(key)
        return cls(
            (round(float(bpm), 2) if bpm else None),
            key,
            camelot,
            open_key,
            mood,
            sources,
            {k: v for k, v in measured.items() if v is not None},
            tuple(notes),
        )

    def as_traits(self) -> dict[str, Any]:
        """The facts under their trait names: what the cover, attributes and preview show."""
        facts = {
            "tempo_bpm": self.bpm,
            "key": self.key,
            "camelot": self.camelot,
            "open_key": self.open_key,
            "mood": self.mood,
        }
        return {k: v for k, v in facts.items() if v is not None}

    def record(self) -> dict[str, Any]:
        """The facts as published in ``properties.musical_facts`` and the manifest."""
        return {
            "bpm": self.bpm,
            "key": self.key,
            "camelot": self.camelot,
            "open_key": self.open_key,
            "mood": self.mood,
            "sources": dict(self.sources),
            "measured": dict(self.measured),
            "disagreements": list(self.disagreements),
        }


@dataclass(frozen=True)
class Analysis:
    """A token's traits (``music.traits`` as JSON), its rarity in the release, and its facts."""

    traits: dict[str, Any]
    rarity: dict[str, Any]
    facts: MusicalFacts

    @property
    def shown(self) -> dict[str, Any]:
        """The traits as a listener sees them: measured, with the token's facts in their place."""
        return {**self.traits, **self.facts.as_traits()}


def analyse(tokens: list[Token], cache: Cache, log: Log, tasks: Tasks | None = None) -> dict[int, Analysis]:
    """Stage 2: traits of every token's audio (and a track's stems), then rarity across the release.

    Cache misses run through ``tasks``; each result is stored here, as its JSON reads back.
    """
    tasks = tasks or Tasks.inline()
    traits: dict[int, dict[str, Any]] = {}
    keys: dict[int, str] = {}
    jobs = []
    for t in tokens:
        keys[t.id] = content_hash(
            "traits", audio_hash(t.audio), *sorted(f"{n}:{audio_hash(a)}" for n, a in t.stems.items())
        )
        path = cache.path("traits", keys[t.id], ".json")
        if path.exists():
            traits[t.id] = json.loads(path.read_bytes())
            announce(log, 2, f"{t.slug} cached")
        else:
            jobs.append((t, (t.slug, t.track.id, (st.extract_traits, (t.audio,), {"stems": t.stems}))))
    for i, value in tasks.run("traits", [job for _, job in jobs]):
        t = jobs[i][0]
        data = json.dumps(value, sort_keys=True).encode()
        write_atomic(cache.path("traits", keys[t.id], ".json"), data)
        traits[t.id] = json.loads(data)
        announce(log, 2, f"{t.slug} ({len(traits)}/{len(tokens)})")
    tokens = [t for t in tokens if tasks.ok(t.track.id)]
    facts: dict[str, MusicalFacts] = {}
    for t in tokens:  # a stem token inherits its track's facts (a stem has no key of its own)
        if t.kind == "track":
            facts[t.track.id] = MusicalFacts.resolve(t.track, t.take, traits[t.id])
            for note in facts[t.track.id].disagreements:
                log(f"warning: {t.slug}: {note}; publishing the declared value")
    shown = [{**traits[t.id], **facts[t.track.id].as_traits()} for t in tokens]
    rarity = st.collection_rarity(shown)
    return {t.id: Analysis(traits[t.id], r, facts[t.track.id]) for t, r in zip(tokens, rarity, strict=True)}
