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
from songmint.release.cache import audio_hash, content_hash
from songmint.release.options import announce
from songmint.release.tasks import StageContext
from songmint.release.tokens import Token
from songmint.spec import Track

TEMPO_TOLERANCE = 0.02
"""Declared and measured tempo agree within ±2 % (an octave apart is a disagreement)."""


def _spelled(key: str | None, *, source: str) -> str | None:
    """A declared key as written (tidied: ``"bbm"`` → ``"Bb minor"``); a measured one in its
    conventional spelling (the analyser names pitch classes with sharps: ``"A# major"`` → ``"Bb major"``)."""
    if not key:
        return None
    from music.traits.keys import as_written, conventional
    from music.traits.model import TraitsError

    try:
        return conventional(key) if source == "measured" else as_written(key)
    except TraitsError:
        return key


def _tempo(bpm: float | None) -> float | None:
    """BPM as published: 1 decimal, a whole number when within 0.05 of one (``music.traits.table``)."""
    from music.traits.table import round_value

    return round_value("tempo_bpm", float(bpm)) if bpm else None


def _same_key(a: str, b: str) -> bool:
    from music.traits.keys import parse_key
    from music.traits.model import TraitsError

    try:
        return parse_key(a).same_as(parse_key(b))
    except TraitsError:
        return a.strip().lower() == b.strip().lower()


def _key_codes(key: str | None) -> tuple[str | None, str | None]:
    """Camelot and Open Key codes of a key name (none rather than a wrong one for an odd spelling)."""
    if not key:
        return None, None
    from music.traits.keys import parse_key
    from music.traits.model import TraitsError

    try:
        k = parse_key(key)
        return k.camelot, k.open_key
    except TraitsError:
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
        Beats per minute at 0.1 BPM, whole when within 0.05 (None: no pulse).
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
        mood = pick("mood", track.mood, take.mood, measured["mood"])
        notes = []
        m_bpm, m_key = measured["tempo_bpm"], measured["key"]
        if bpm and m_bpm and sources["bpm"] != "measured" and abs(m_bpm / bpm - 1) > TEMPO_TOLERANCE:
            notes.append(
                f"tempo declared {float(bpm):g} BPM ({sources['bpm']}), measured {float(m_bpm):.1f} BPM"
            )
        if key and m_key and sources["key"] != "measured" and not _same_key(key, m_key):
            notes.append(f"key declared {key} ({sources['key']}), measured {m_key}")
        key = _spelled(key, source=sources.get("key", "measured"))
        camelot, open_key = _key_codes(key)
        return cls(
            _tempo(bpm),
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
        """The traits as a listener sees them: measured, with the token's facts in their place (a
        fact that is unknown — no pulse, say — is not shown at all, rather than as a measured 0)."""
        facts = self.facts.as_traits()
        hidden = {"tempo_bpm", "key", "camelot", "open_key", "mood"} - set(facts)
        # a runner-up belongs to a measurement: a declared fact has none
        for fact, alternates in (
            ("bpm", ("tempo_alt_bpm", "tempo_alt_weight")),
            ("key", ("key_alt", "key_alt_weight")),
        ):
            if self.facts.sources.get(fact, "measured") != "measured":
                hidden.update(alternates)
        return {**self.traits, **dict.fromkeys(hidden & set(self.traits)), **facts}


def analyse(tokens: list[Token], ctx: StageContext) -> dict[int, Analysis]:
    """Stage 2: traits of every token's audio (and a track's stems), then rarity across the release.

    Cache misses run through ``ctx.tasks``; each result is stored here, as its JSON reads back.
    """
    traits: dict[int, dict[str, Any]] = {}
    keys: dict[int, str] = {}
    jobs = []
    for t in tokens:
        keys[t.id] = content_hash(
            "traits", audio_hash(t.audio), *sorted(f"{n}:{audio_hash(a)}" for n, a in t.stems.items())
        )
        path = ctx.cache.path("traits", keys[t.id], ".json")
        if path.exists():
            traits[t.id] = json.loads(path.read_bytes())
            announce(ctx.log, 2, f"{t.slug} cached")
        else:
            jobs.append((t, (t.slug, t.track.id, (st.extract_traits, (t.audio,), {"stems": t.stems}))))
    for i, value in ctx.tasks.run("traits", [job for _, job in jobs]):
        t = jobs[i][0]
        data = json.dumps(value, sort_keys=True).encode()
        write_atomic(ctx.cache.path("traits", keys[t.id], ".json"), data)
        traits[t.id] = json.loads(data)
        announce(ctx.log, 2, f"{t.slug} ({len(traits)}/{len(tokens)})")
    tokens = [t for t in tokens if ctx.tasks.ok(t.track.id)]
    facts: dict[str, MusicalFacts] = {}
    for t in tokens:  # a stem token inherits its track's facts (a stem has no key of its own)
        if t.kind == "track":
            facts[t.track.id] = MusicalFacts.resolve(t.track, t.take, traits[t.id])
            for note in facts[t.track.id].disagreements:
                ctx.log(f"warning: {t.slug}: {note}; publishing the declared value")
    unranked = [Analysis(traits[t.id], {}, facts[t.track.id]) for t in tokens]
    rarity = st.collection_rarity([a.shown for a in unranked])
    return {t.id: Analysis(a.traits, r, a.facts) for t, a, r in zip(tokens, unranked, rarity, strict=True)}
