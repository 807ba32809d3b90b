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
from songmint.release.cache import Cache, audio_hash, content_hash
from songmint.release.options import Log, announce
from songmint.release.tokens import Token


@dataclass(frozen=True)
class Cover:
    """A cover PNG, its thumbnail PNG and the parameters that made them (JSON-ready)."""

    png: bytes
    thumbnail: bytes
    params: dict[str, Any]


def _draw(t: Token, a: Analysis, cache: Cache, size: int) -> tuple[Cover, bool]:
    style = t.track.cover_style
    traits = a.shown
    key = content_hash(
        "cover",
        json.dumps(traits, sort_keys=True),
        audio_hash(t.audio),
        str(style),
        str(t.track.cover_seed),
        str(size),
        t.track.title,
        t.track.artist,
    )
    png, thumb, meta = (cache.path("covers", key, s) for s in (".png", ".thumb.png", ".json"))
    if meta.exists():
        return Cover(png.read_bytes(), thumb.read_bytes(), json.loads(meta.read_text())), True
    image, small, params = st.render_cover(
        traits,
        t.audio,
        style=style,
        seed=t.track.cover_seed,
        size=size,
        title=t.track.title,
        artist=t.track.artist,
    )
    # the same key order as a cache hit reads back, so metadata bytes never depend on it
    cover = Cover(image, small, json.loads(json.dumps(params, sort_keys=True)))
    write_atomic(png, cover.png)
    write_atomic(thumb, cover.thumbnail)
    write_atomic(meta, json.dumps(cover.params, sort_keys=True))
    return cover, False


def draw_covers(
    tokens: list[Token], analyses: dict[int, Analysis], cache: Cache, *, size: int, log: Log
) -> dict[int, Cover]:
    """Stage 3: a cover per token (one drawing per track)."""
    by_track: dict[str, Cover] = {}
    covers: dict[int, Cover] = {}
    for t in tokens:
        if t.kind == "stem" and t.track.id in by_track:
            covers[t.id] = by_track[t.track.id]
            continue
        covers[t.id], hit = _draw(t, analyses[t.id], cache, size)
        by_track.setdefault(t.track.id, covers[t.id])
        announce(log, 3, f"{t.slug}{' cached' if hit else ''}")
    return covers
