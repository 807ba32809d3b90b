"""Stage 4: the files each token publishes, encoded from its take and written under ``assets/<slug>/``.

Per token: FLAC (``lossless``) and MP3 320k (``mix``), a preview MP3 from the most representative
section (:mod:`music.thumbnail`), a track's stems (FLAC + MP3), the cover and its thumbnail, and a
self-contained HTML player. Encodings are cached on the hash of the audio they encode.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from music.audio import Audio, encode
from music.takes import file_stem
from music.thumbnail import preview_clip
from songmint.files import write_atomic
from songmint.release.analysis import Analysis
from songmint.release.cache import Cache, audio_hash, content_hash
from songmint.release.covers import Cover
from songmint.release.options import announce
from songmint.release.tasks import StageContext, Tasks
from songmint.release.tokens import Token
from songmint.release.views import with_assets


@dataclass(frozen=True)
class TokenFiles:
    """A token's published files: role -> path relative to the release folder, and where its
    preview starts in the track (seconds)."""

    paths: dict[str, str]
    preview_start: float

    def duration(self, t: Token, role: str) -> float | None:
        """Seconds of audio behind ``role`` (None for non-audio roles)."""
        if role in ("mix", "lossless", "video") or role.startswith(("stem:", "stem_lossless:")):
            return round(t.audio.duration, 3)
        if role == "preview":
            return round(min(t.audio.duration, t.track.preview_seconds), 3)
        return None


class Encoder:
    """Encodings of audio, cached on the audio's hash."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def __call__(self, audio: Audio, fmt: str) -> bytes:
        key = content_hash("encode", fmt, audio_hash(audio))
        return self.cache.bytes("encoded", key, "." + fmt, lambda: encode(audio, fmt))[0]

    def warm(self, jobs: list[tuple[str, Audio, str]], tasks: Tasks) -> None:
        """Encode ``(track id, audio, fmt)`` jobs into the cache: in this process on a thread per core
        (encoders run outside the GIL), or through the executor, stored here as each arrives."""
        if tasks.threads:
            with ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1))) as pool:
                list(pool.map(lambda job: self(*job[1:]), jobs))
            return
        todo: dict[Path, tuple[str, str, Any]] = {}
        for track_id, audio, fmt in jobs:
            path = self.cache.path("encoded", content_hash("encode", fmt, audio_hash(audio)), "." + fmt)
            if not path.exists() and path not in todo:
                todo[path] = (f"{track_id} {fmt}", track_id, (encode, (audio, fmt), {}))
        paths = list(todo)
        for i, data in tasks.run("encode", list(todo.values())):
            write_atomic(paths[i], data)


def player_html(entry: dict[str, Any], t: Token) -> str:
    """The token's self-contained HTML player, from its entry (no chain fields yet)."""
    from songmint.preview import render_player, token_view

    entry = {**entry, "cap": t.editions.cap, "minted": None, "recipient": t.editions.recipient}
    view = token_view(entry, {"chain": {}})
    view["chain"] = {}
    return render_player(view)


def write_assets(
    tokens: list[Token],
    analyses: dict[int, Analysis],
    covers: dict[int, Cover],
    entries: dict[int, dict[str, Any]],
    out: Path,
    ctx: StageContext,
) -> dict[int, TokenFiles]:
    """Stage 4: encode and write every token's files into ``out``."""
    encoded = Encoder(ctx.cache)
    clips = {t.id: preview_clip(t.audio, t.track.preview_seconds) for t in tokens}
    jobs = [(t.track.id, t.audio, fmt) for t in tokens for fmt in ("flac", "mp3")]
    jobs += [(t.track.id, clips[t.id][0], "mp3") for t in tokens]
    jobs += [(t.track.id, stem, fmt) for t in tokens for stem in t.stems.values() for fmt in ("flac", "mp3")]
    encoded.warm(jobs, ctx.tasks)
    files: dict[int, TokenFiles] = {}
    for t in tokens:
        if not ctx.tasks.ok(t.track.id):
            continue
        folder = Path("assets") / t.slug
        facts = analyses[t.id].facts
        base = file_stem(t.title, round(facts.bpm) if facts.bpm else None, facts.key, as_written=True)
        paths: dict[str, str] = {}

        def put(role: str, rel: Path, data: bytes, paths: dict[str, str] = paths) -> None:
            write_atomic(out / rel, data)
            paths[role] = rel.as_posix()

        put("lossless", folder / f"{base}.flac", encoded(t.audio, "flac"))
        put("mix", folder / f"{base}.mp3", encoded(t.audio, "mp3"))
        clip, start = clips[t.id]
        put("preview", folder / f"{base}_preview.mp3", encoded(clip, "mp3"))
        for name, stem in sorted(t.stems.items()):
            put(f"stem_lossless:{name}", folder / "stems" / f"{base}_{name}.flac", encoded(stem, "flac"))
            put(f"stem:{name}", folder / "stems" / f"{base}_{name}.mp3", encoded(stem, "mp3"))
        put("cover", folder / "cover.png", covers[t.id].png)
        put("cover_thumbnail", folder / "cover-512.png", covers[t.id].thumbnail)
        put("player", folder / "player.html", player_html(with_assets(entries[t.id], paths), t).encode())
        files[t.id] = TokenFiles(paths, start)
        announce(ctx.log, 4, f"{t.slug} ({len(paths)} assets)")
    return files
