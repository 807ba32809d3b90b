"""Stage 3: each track's cover and its 512 px thumbnail (``cover_art``), cached.

A stem token wears its track's cover. The palette and typography follow the tempo and key the
release shows (:class:`~songmint.release.analysis.MusicalFacts`), not a second measurement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from songmint import stages as st
from songmint.files import write_atomic
from songmint.release.analysis import Analysis
from songmint.release.cache import audio_hash, content_hash
from songmint.release.options import announce
from songmint.release.tasks import StageContext
from songmint.release.tokens import Token


@dataclass(frozen=True)
class Cover:
    """A cover PNG, its thumbnail PNG and the parameters that made them (JSON-ready)."""

    png: bytes
    thumbnail: bytes
    params: dict[str, Any]


def _key(t: Token, a: Analysis, size: int) -> tuple[str, dict[str, Any]]:
    traits = a.shown
    key = content_hash(
        "cover",
        json.dumps(traits, sort_keys=True),
        audio_hash(t.audio),
        str(t.track.cover_style),
        str(t.track.cover_seed),
        str(size),
        t.track.title,
        t.track.artist,
    )
    return key, traits


def draw_covers(
    tokens: list[Token],
    analyses: dict[int, Analysis],
    ctx: StageContext,
    *,
    size: int,
) -> dict[int, Cover]:
    """Stage 3: a cover per token (one drawing per track; cache misses drawn through ``ctx.tasks``)."""
    drawn: dict[str, Cover] = {}  # track id -> its cover
    jobs: list[tuple[Token, str, tuple[str, str, Any]]] = []
    seen: set[str] = set()
    for t in tokens:
        if t.track.id in seen:
            continue  # a stem token wears its track's cover
        seen.add(t.track.id)
        key, traits = _key(t, analyses[t.id], size)
        png, thumb, meta = (ctx.cache.path("covers", key, s) for s in (".png", ".thumb.png", ".json"))
        if meta.exists():
            drawn[t.track.id] = Cover(png.read_bytes(), thumb.read_bytes(), json.loads(meta.read_text()))
            announce(ctx.log, 3, f"{t.slug} cached")
            continue
        kwargs = {
            "style": t.track.cover_style,
            "seed": t.track.cover_seed,
            "size": size,
            "title": t.track.title,
            "artist": t.track.artist,
        }
        jobs.append((t, key, (t.slug, t.track.id, (st.render_cover, (traits, t.audio), kwargs))))
    for i, (image, small, params) in ctx.tasks.run("cover", [job for _, _, job in jobs]):
        t, key, _ = jobs[i]
        # the same key order as a cache hit reads back, so metadata bytes never depend on it
        cover = Cover(image, small, json.loads(json.dumps(params, sort_keys=True)))
        write_atomic(ctx.cache.path("covers", key, ".png"), cover.png)
        write_atomic(ctx.cache.path("covers", key, ".thumb.png"), cover.thumbnail)
        write_atomic(ctx.cache.path("covers", key, ".json"), json.dumps(cover.params, sort_keys=True))
        drawn[t.track.id] = cover
        announce(ctx.log, 3, f"{t.slug} ({i + 1}/{len(jobs)})")
    return {t.id: drawn[t.track.id] for t in tokens if ctx.tasks.ok(t.track.id)}
