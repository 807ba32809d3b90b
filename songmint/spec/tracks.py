"""A spec's ``[[tracks]]``: each track over ``[defaults]``, its editions, declared key and
``[tracks.generate]``, and the checks across tracks (unique ids and token ids)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from songmint.sale_spec import parse_sale
from songmint.spec.checker import Checker
from songmint.spec.media import check_channels
from songmint.spec.values import (
    ENGINE_MAX_SECONDS,
    MAX_SECONDS,
    MAX_TOKEN_ID,
    SLUG_RE,
    Collection,
    Editions,
    Generate,
    Track,
    token_id_for,
)

# Keys a track may carry; [defaults] may carry the same ones except the identity keys.
TRACK_KEYS = {
    "id",
    "token_id",
    "title",
    "artist",
    "credits",
    "genre",
    "license",
    "description",
    "generate",
    "file",
    "stems",
    "editions",
    "stems_as_tokens",
    "stem_editions",
    "cover_style",
    "cover_seed",
    "isrc",
    "tags",
    "preview_seconds",
    "external_url",
    "bpm",
    "key",
    "mood",
    "sale",
    "video",
    "separate",
}
DEFAULT_KEYS = TRACK_KEYS - {"id", "token_id", "title", "file", "stems", "isrc", "bpm", "key"}
_GENERATE_KEYS = {"engine", "prompt", "seed", "seconds", "params", "source", "source_stems"}
_EDITION_KEYS = {"cap", "initial", "recipient"}


def checked_track(
    c: Checker,
    i: int,
    raw: Any,
    defaults: dict[str, Any],
    collection: Collection,
    base: Path,
    check_files: bool,
    seen_ids: dict[str, int],
    seen_tokens: dict[int, str],
) -> Track:
    """Track ``i``, checked on its own and against the tracks before it (ids, token ids)."""
    key = f"tracks[{i}]"
    if not isinstance(raw, dict):
        raise c.fail(key, "must be a table", "write each track as [[tracks]]")
    track = _track(c, i, {**defaults, **raw}, raw, collection, base, check_files)
    if track.id in seen_ids:
        raise c.fail(
            f"{key}.id",
            f"duplicate track id {track.id!r} (also tracks[{seen_ids[track.id]}])",
            "give every track a unique id",
        )
    seen_ids[track.id] = i
    ids = [(track.token_id, track.id)]
    if track.stems_as_tokens:
        stems = declared_stems(track)
        ids += [(track.stem_token_id(collection.symbol, s), f"{track.id}/stem/{s}") for s in stems]
    for tid, label in ids:
        if tid in seen_tokens:
            raise c.fail(
                f"{key}.token_id",
                f"duplicate token id {tid} ({label} and {seen_tokens[tid]})",
                "set a different token_id or change the track id",
            )
        seen_tokens[tid] = label
    return track


def declared_stems(track: Track) -> list[str]:
    """Stem names known before rendering (from a stems folder or the engine's ``stems`` param).

    ``stems = "all"`` names none: the separator's sources are known only once it is loaded (the
    take's stems are checked for token-id collisions when the takes are loaded)."""
    if track.stems_dir is not None:
        return sorted(p.stem for p in track.stems_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    names: list[str] = []
    if track.generate is not None:
        stems = track.generate.params.get("stems")
        if isinstance(stems, str):
            names = [s.strip() for s in stems.split(",") if s.strip()]
        elif isinstance(stems, list):
            names = [str(s) for s in stems]
    return [] if names == ["all"] else names


def _editions(c: Checker, doc: Any, key: str) -> Editions:
    if doc is None:
        return Editions(cap=1, initial=1)
    if not isinstance(doc, dict):
        raise c.fail(key, "must be a table", "write editions = { cap = 100, initial = 10 }")
    c.unknown(doc, _EDITION_KEYS, key)
    cap = c.integer(doc, "cap", f"{key}.cap", default=1, lo=1, hi=2**64 - 1)
    initial = c.integer(doc, "initial", f"{key}.initial", default=cap, lo=0)
    assert cap is not None and initial is not None
    if initial > cap:
        raise c.fail(
            f"{key}.initial",
            f"initial amount {initial} is above the cap {cap}",
            f"raise cap to at least {initial} or mint fewer (initial ≤ cap)",
        )
    return Editions(cap=cap, initial=initial, recipient=c.address(doc.get("recipient"), f"{key}.recipient"))


def _track(
    c: Checker,
    i: int,
    doc: dict[str, Any],
    raw: dict[str, Any],
    collection: Collection,
    base: Path,
    check_files: bool,
) -> Track:
    key = f"tracks[{i}]"
    title = c.string(raw, "title", f"{key}.title", required=True)
    assert title is not None
    from music.takes import slugify

    tid = c.string(raw, "id", f"{key}.id", default=slugify(title))
    assert tid is not None
    if not SLUG_RE.match(tid):
        raise c.fail(
            f"{key}.id",
            f"{tid!r} is not a valid track id",
            "use lowercase letters, digits and hyphens (e.g. night-drive)",
        )
    token_id = c.integer(raw, "token_id", f"{key}.token_id", lo=1, hi=MAX_TOKEN_ID)
    if token_id is None:
        token_id = token_id_for(collection.symbol, tid)
    artist = c.string(doc, "artist", f"{key}.artist", required=True)
    assert artist is not None

    file_value = raw.get("file")
    gen_doc = raw.get("generate", doc.get("generate") if "file" not in raw else None)
    if gen_doc is not None and file_value is not None:
        raise c.fail(key, "has both generate and file", "keep one: an engine to generate, or a file to load")
    if gen_doc is None and file_value is None:
        raise c.fail(
            key,
            "has neither generate nor file",
            'add [tracks.generate] with engine = "composer", or file = "mix.wav"',
        )
    generate = None
    mix_path = stems_dir = None
    if gen_doc is not None:
        generate = _generate(c, gen_doc, f"{key}.generate", base, check_files)
    else:
        mix_path = c.file(base, file_value, f"{key}.file") if check_files else base / str(file_value)
        if raw.get("stems") is not None:
            stems_dir = (
                c.file(base, raw["stems"], f"{key}.stems", folder=True)
                if check_files
                else base / str(raw["stems"])
            )
    if check_files and mix_path is not None:
        check_channels(c, key, mix_path, stems_dir)
    editions = _editions(c, doc.get("editions"), f"{key}.editions")
    stems_as_tokens = c.boolean(doc, "stems_as_tokens", f"{key}.stems_as_tokens", default=False)
    stem_editions = (
        _editions(c, doc["stem_editions"], f"{key}.stem_editions") if "stem_editions" in doc else None
    )
    credits = doc.get("credits", [])
    if not isinstance(credits, list) or not all(
        isinstance(x, dict) and all(isinstance(v, str) for v in x.values()) for x in credits
    ):
        raise c.fail(
            f"{key}.credits",
            "must be a list of tables of strings",
            'write credits = [{ name = "Ada", role = "producer" }]',
        )
    tags = doc.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(x, str) for x in tags):
        raise c.fail(f"{key}.tags", "must be a list of strings", 'write tags = ["synthwave", "night"]')
    return Track(
        id=tid,
        token_id=token_id,
        number=i + 1,
        title=title,
        artist=artist,
        editions=editions,
        generate=generate,
        file=mix_path,
        stems_dir=stems_dir,
        credits=tuple(credits),
        genre=c.string(doc, "genre", f"{key}.genre"),
        license=c.string(doc, "license", f"{key}.license"),
        description=c.string(doc, "description", f"{key}.description"),
        stems_as_tokens=stems_as_tokens,
        stem_editions=stem_editions,
        cover_style=c.string(doc, "cover_style", f"{key}.cover_style") or collection.cover_style,
        cover_seed=c.integer(doc, "cover_seed", f"{key}.cover_seed", default=0, lo=0) or 0,
        isrc=c.string(raw, "isrc", f"{key}.isrc"),
        tags=tuple(tags),
        preview_seconds=c.number(
            doc, "preview_seconds", f"{key}.preview_seconds", default=30.0, lo=5.0, hi=120.0
        )
        or 30.0,
        external_url=c.url(doc, "external_url", f"{key}.external_url"),
        bpm=c.number(raw, "bpm", f"{key}.bpm", lo=20.0, hi=400.0),
        key=_musical_key(c, raw, f"{key}.key"),
        mood=c.string(doc, "mood", f"{key}.mood"),
        sale=parse_sale(doc["sale"], f"{key}.sale", base, c.fail, check_files=check_files)
        if "sale" in doc
        else None,
        video=c.boolean(doc, "video", f"{key}.video", default=False),
        separate=_separate(c, key, tid, doc, raw, generate=generate, stems=raw.get("stems")),
    )


def _separate(
    c: Checker, key: str, tid: str, doc: dict[str, Any], raw: dict[str, Any], *, generate: Generate | None,
    stems: Any,
) -> bool | None:
    """``separate``: ``None`` when not said (then ``release --stems`` decides), else the track's value.

    A track's own ``separate`` is refused where there is no mix to separate into stems (a generated
    track, a track with a stems folder); a ``[defaults]`` value applies to the tracks it can apply to.
    """
    if "separate" not in doc:
        return None
    value = c.boolean(doc, "separate", f"{key}.separate" if "separate" in raw else "defaults.separate",
                      default=False)
    if generate is None and stems is None:
        return value
    if "separate" not in raw:
        return None  # [defaults]' separate is for the file tracks without a stems folder
    if generate is not None:
        why = f"track {tid!r} is generated by {generate.engine}, not given as a file"
        fix = "drop separate (a generated take's stems come from its engine: params.stems)"
    else:
        why = f"track {tid!r} has a stems folder ({stems}), so its stems are those files"
        fix = "drop separate, or drop stems to separate the mix"
    raise c.fail(f"{key}.separate", f"only a file track without a stems folder is separated: {why}", fix)


def _musical_key(c: Checker, doc: dict[str, Any], key: str) -> str | None:
    """A declared key, checked to parse and kept as written (``"Eb minor"`` stays Eb)."""
    text = c.string(doc, "key", key)
    if text is None:
        return None
    from music.traits import parse_key

    try:
        parse_key(text)
    except Exception:
        fix = 'write a tonic and a mode, e.g. key = "Bb major"'
        raise c.fail(key, f"{text!r} is not a key", fix) from None
    return " ".join(text.split())


def _generate(c: Checker, doc: Any, key: str, base: Path, check_files: bool) -> Generate:
    if not isinstance(doc, dict):
        raise c.fail(key, "must be a table", 'write [tracks.generate] with engine = "composer"')
    c.unknown(doc, _GENERATE_KEYS, key)
    from music.engines import ENGINES

    engine = c.string(doc, "engine", f"{key}.engine", default="composer")
    assert engine is not None
    if engine not in ENGINES:
        raise c.fail(f"{key}.engine", f"unknown engine {engine!r}", f"use one of: {', '.join(ENGINES)}")
    params = doc.get("params", {})
    if not isinstance(params, dict):
        raise c.fail(f"{key}.params", "must be a table", 'write params = { genre = "house", bpm = 124 }')
    from music.engines import OPERATIONS

    source = source_stems = None
    if doc.get("source") is not None:
        if engine not in OPERATIONS["continue_"]:
            raise c.fail(
                f"{key}.source",
                f"engine {engine!r} cannot continue audio",
                f"drop source, or use one of: {', '.join(OPERATIONS['continue_'])}",
            )
        source = c.file(base, doc["source"], f"{key}.source") if check_files else base / str(doc["source"])
        if doc.get("source_stems") is not None:
            source_stems = (
                c.file(base, doc["source_stems"], f"{key}.source_stems", folder=True)
                if check_files
                else base / str(doc["source_stems"])
            )
    elif engine not in OPERATIONS["generate"]:
        raise c.fail(
            f"{key}.engine",
            f"engine {engine!r} continues audio and cannot generate from a prompt",
            'add source = "loop.wav" (the audio to continue)',
        )
    return Generate(
        source=source,
        source_stems=source_stems,
        engine=engine,
        prompt=c.string(doc, "prompt", f"{key}.prompt"),
        seed=c.integer(doc, "seed", f"{key}.seed", default=0, lo=0, hi=2**32 - 1) or 0,
        seconds=c.number(
            doc, "seconds", f"{key}.seconds", lo=1.0, hi=ENGINE_MAX_SECONDS.get(engine, MAX_SECONDS)
        ),
        params=dict(params),
    )
