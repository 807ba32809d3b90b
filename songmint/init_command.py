"""``songmint init``: a release spec from a folder of masters, or a commented example spec.

``songmint init catalog.toml --from masters/ [--stems-from DIR] [--csv meta.csv]`` writes one
``[[tracks]]`` table per audio file directly in ``masters/`` (sub-folders hold stems, not
masters), with the track's title, artist, ISRC, genre, credits and price taken from the CSV
(where it has a row for the file), else from the file's embedded tags (:mod:`music.tags`),
else from the file name. The written spec is validated with :func:`songmint.spec.parse_spec`
before anything is written, and releases as it is.

Stems of master ``X.wav`` are found in ``DIR`` (``--stems-from``, else the masters folder):

1. **by folder**: a sub-folder of ``DIR`` whose name is ``X``, ``X stems``, ``X_stems``,
   ``X-stems`` or ``X Stem`` (compared as slugs, so case, accents and punctuation do not matter;
   a leading track number on either side is ignored). The spec's ``stems`` points at it.
2. **by name** (``--stems-from`` only): audio files directly in ``DIR`` whose name starts with
   ``X`` and a separator: ``X - Drums.wav``, ``X_drums.flac``. A file goes to the master with the
   longest such name. They are hard-linked (copied where links are impossible) into
   ``<spec name>-stems/<track id>/<role>.<ext>`` next to the spec, since a spec's stems are a folder.

Stem file names as DAWs write them (``01 Drums.wav``) are fine: the release derives each stem's
role with :mod:`music.stem_names`. The rule is documented in ``docs/catalog.md``.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from music.audio import atomic_path
from music.errors import MusicError
from music.stem_names import stem_roles
from music.tags import Tags, normalise_isrc, read_tags
from music.takes import slugify
from songmint.errors import SongmintError
from songmint.vocabulary import deprecated_alias

AUDIO_EXTS = (".wav", ".wave", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".aif", ".aiff", ".m4a")
CSV_COLUMNS = (
    "file",
    "id",
    "title",
    "artist",
    "isrc",
    "genre",
    "credits",
    "price",
    "description",
    "tags",
    "license",
    "cover_style",
)
"""Columns ``--csv`` understands (case-insensitive); ``file`` names the master (with or without
its extension). ``credits`` is ``Name:role; Name:role``; ``tags`` is ``a, b``. Empty cells fall
back to the embedded tags."""
_STEM_FOLDER_SUFFIX = re.compile(r"-(?:stems?|multitracks?|tracks)$")
_LEADING_NUMBER = re.compile(r"^\s*(?:\(\s*\d{1,3}\s*\)|\d{1,3})(?:[\s\-._)]*[\-._)][\s\-._)]*|\s+)")


@dataclass
class TrackPlan:
    """One master and what the spec will say about it."""

    master: Path
    tags: Tags
    title: str
    fields: dict[str, Any] = field(default_factory=dict)  # spec keys besides id/title/file/stems
    stems_dir: Path | None = None  # an existing folder of stems
    stem_files: dict[str, Path] = field(default_factory=dict)  # role -> file, to link (by name)
    price: str | None = None
    id: str = ""


@dataclass
class CatalogPlan:
    """Everything ``init --from`` will write."""

    tracks: list[TrackPlan]
    name: str
    symbol: str
    artist: str
    cap: int
    initial: int
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- discovery


def _audio_in(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in AUDIO_EXTS and not p.name.startswith(".")
    )


def _keys(name: str) -> set[str]:
    """Slugs a master or stems folder may be matched by (with and without a leading number)."""
    keys = {slugify(name, max_len=200)}
    stripped = _LEADING_NUMBER.sub("", name)
    if stripped and stripped != name:
        keys.add(slugify(stripped, max_len=200))
    return keys - {"take"}


def title_from_filename(stem: str) -> str:
    """``"01 - neon_boulevard"`` → ``"neon boulevard"``: a title for a file without a title tag."""
    text = _LEADING_NUMBER.sub("", stem) or stem
    text = re.sub(r"[_]+", " ", text)
    return " ".join(text.split()) or stem


def _read_csv(path: Path, masters: list[Path]) -> dict[Path, dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SongmintError(f"{path}: cannot read the CSV ({exc}); save it as UTF-8 CSV") from exc
    if "file" not in header:
        raise SongmintError(f"{path}:1: no 'file' column; add one naming each master (e.g. 01 Intro.wav)")
    unknown = [h for h in header if h and h not in CSV_COLUMNS]
    if unknown:
        raise SongmintError(
            f"{path}:1: unknown column {unknown[0]!r}; use any of: {', '.join(CSV_COLUMNS)}"
        )
    by_name = {m.name: m for m in masters} | {m.stem: m for m in masters}
    by_fold = {k.casefold(): v for k, v in by_name.items()}
    out: dict[Path, dict[str, str]] = {}
    for line, row in enumerate(rows, start=2):
        clean = {
            (k or "").strip().lower(): (v or "").strip() for k, v in row.items() if isinstance(v, str | None)
        }
        name = clean.get("file", "")
        if not name:
            continue
        master = by_name.get(name) or by_fold.get(name.casefold())
        if master is None:
            raise SongmintError(
                f"{path}:{line}: file {name!r} is not a master in the folder; "
                "fix the name or remove the row"
            )
        if master in out:
            raise SongmintError(f"{path}:{line}: a second row for {master.name}; keep one row per master")
        out[master] = {k: v for k, v in clean.items() if v and k != "file"}
    return out


def _credits(text: str, where: str) -> list[dict[str, str]]:
    credits = []
    for part in re.split(r"\s*;\s*", text.strip()):
        if not part:
            continue
        name, sep, role = part.rpartition(":")
        if not sep or not name.strip() or not role.strip():
            raise SongmintError(f"{where}: credit {part!r} is not 'Name:role'; write e.g. 'Ada:producer'")
        credits.append({"name": name.strip(), "role": role.strip()})
    return credits


def _stems_folders(root: Path, exclude: set[Path]) -> dict[str, Path]:
    folders: dict[str, Path] = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if d.resolve() in exclude:
            continue
        for k in _keys(d.name):
            folders.setdefault(_STEM_FOLDER_SUFFIX.sub("", k), d)
    return folders


def plan_catalog(
    masters_dir: Path,
    *,
    stems_from: Path | None = None,
    csv_path: Path | None = None,
    name: str | None = None,
    symbol: str | None = None,
    artist: str | None = None,
    cap: int = 100,
    initial: int = 1,
    exclude: set[Path] | None = None,
) -> CatalogPlan:
    """Find masters, their stems and metadata (see the module docstring for the rules)."""
    if not masters_dir.is_dir():
        raise SongmintError(f"--from {masters_dir}: not a folder; give the folder of masters")
    masters = _audio_in(masters_dir)
    if not masters:
        raise SongmintError(
            f"--from {masters_dir}: no audio files ({', '.join(AUDIO_EXTS)}) directly in it; "
            "masters go in the folder itself, stems in sub-folders"
        )
    rows = _read_csv(csv_path, masters) if csv_path else {}
    warnings: list[str] = []
    plans: list[TrackPlan] = []
    for m in masters:
        try:
            tags = read_tags(m)
        except MusicError as exc:
            raise SongmintError(f"{exc}; is it an audio file? (masters: {', '.join(AUDIO_EXTS)})") from exc
        row = rows.get(m, {})
        where = f"{csv_path}: {m.name}" if csv_path else str(m)
        title = row.get("title") or tags.title or title_from_filename(m.stem)
        f: dict[str, Any] = {}
        if row.get("artist") or tags.artist:
            f["artist"] = row.get("artist") or tags.artist
        isrc_text = row.get("isrc")
        isrc = normalise_isrc(isrc_text) if isrc_text else tags.isrc
        if isrc_text and isrc is None:
            raise SongmintError(
                f"{where}: {isrc_text!r} is not an ISRC; write 12 characters, e.g. USAB12400001"
            )
        if isrc:
            f["isrc"] = isrc
        if row.get("genre") or tags.genre:
            f["genre"] = row.get("genre") or tags.genre
        credits = _credits(row["credits"], where) if row.get("credits") else list(tags.credits)
        if credits:
            f["credits"] = credits
        for k in ("description", "license", "cover_style"):
            if row.get(k):
                f[k] = row[k]
        if row.get("tags"):
            f["tags"] = [t for t in (x.strip() for x in re.split(r"[,;]", row["tags"])) if t]
        plan = TrackPlan(master=m, tags=tags, title=title, fields=f, price=row.get("price") or tags.price)
        plan.id = row.get("id", "")
        plans.append(plan)
    # order: by (disc, track) when every master has a track number, else by file name
    if all(p.tags.track for p in plans):
        plans.sort(key=lambda p: (p.tags.disc or 0, p.tags.track or 0, p.master.name))
    _assign_ids(plans)
    _find_stems(plans, masters_dir, stems_from, exclude or set(), warnings)
    artists = Counter(p.fields.get("artist") for p in plans if p.fields.get("artist"))
    default_artist = artist or (artists.most_common(1)[0][0] if artists else None)
    if default_artist is None:
        default_artist = "Unknown artist"
        warnings.append("no artist tag on any master and no --artist: wrote artist = \"Unknown artist\"")
    for p in plans:
        if p.fields.get("artist") == default_artist:
            del p.fields["artist"]  # said once, in [defaults]
    albums = {p.tags.album for p in plans}
    coll = name or (albums.pop() if len(albums) == 1 and None not in albums else None)
    coll = coll or title_from_filename(masters_dir.resolve().name).title()
    return CatalogPlan(
        tracks=plans,
        name=coll,
        symbol=symbol or symbol_for(coll),
        artist=default_artist,
        cap=cap,
        initial=initial,
        warnings=warnings,
    )


def symbol_for(name: str) -> str:
    """A token symbol from a collection name: initials of several words, else the word (≤ 11)."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", _ascii(name)) if w]
    sym = "".join(w[0] for w in words) if len(words) >= 3 else "".join(words)
    return (sym.upper()[:11]) or "CATALOG"


def _ascii(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _assign_ids(plans: list[TrackPlan]) -> None:
    seen: set[str] = set()
    for i, p in enumerate(plans, start=1):
        base = p.id or slugify(_ascii(p.title))
        if not p.id and not re.search(r"[a-z0-9]", _ascii(p.title).lower()):  # no ASCII letters
            base = f"track-{i:03d}"
        tid, k = base, 1
        while tid in seen:
            k += 1
            tid = f"{base[: 60 - len(str(k))]}-{k}"
        seen.add(tid)
        p.id = tid


def _find_stems(
    plans: list[TrackPlan],
    masters_dir: Path,
    stems_from: Path | None,
    exclude: set[Path],
    warnings: list[str],
) -> None:
    root = stems_from or masters_dir
    if not root.is_dir():
        raise SongmintError(f"--stems-from {root}: not a folder")
    folders = _stems_folders(root, exclude)
    loose: dict[str, list[Path]] = {}
    if stems_from is not None:
        keyed = sorted(((k, p) for p in plans for k in _keys(p.master.stem)), key=lambda kp: -len(kp[0]))
        for f in _audio_in(stems_from):
            slug = slugify(f.stem, max_len=200)
            owner = next((p for k, p in keyed if slug.startswith(k + "-")), None)
            if owner is not None:
                loose.setdefault(owner.id, []).append(f)
    for p in plans:
        folder = next((folders[k] for k in sorted(_keys(p.master.stem)) if k in folders), None)
        if folder is not None and _audio_in(folder):
            p.stems_dir = folder
        elif p.id in loose:
            roles = stem_roles([f.name for f in loose[p.id]], title=p.master.stem)
            p.stem_files = {roles[f.name]: f for f in loose[p.id]}
        files = _audio_in(p.stems_dir) if p.stems_dir else list(p.stem_files.values())
        for s in files:
            try:
                d = read_tags(s).duration
            except MusicError:
                warnings.append(f"{s}: cannot read it as audio; the release will fail on it")
                continue
            if d and p.tags.duration and abs(d - p.tags.duration) > 0.01 * p.tags.duration + 0.05:
                warnings.append(
                    f"{s}: {d:.2f} s long but its master is {p.tags.duration:.2f} s; "
                    "export stems and mix from the same start to end"
                )


# --------------------------------------------------------------------------- TOML


def toml_value(value: Any) -> str:
    """A TOML literal for a str, bool, int, float, list or (inline) dict."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are TOML basic-string escapes; TOML also forbids a raw DEL
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML literal for {type(value).__name__}")


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_value(key)


def _rel(path: Path, base: Path) -> str:
    """A path as the spec writes it: relative under the spec's folder, absolute outside it (the
    spec confines relative paths to its folder)."""
    target, root = path.resolve(), base.resolve()
    if target.is_relative_to(root):
        return target.relative_to(root).as_posix()
    return target.as_posix()


def sale_price(text: str) -> str:
    """A price from a CSV or a tag as the spec writes it: a bare number is ether (``"0.01"`` →
    ``"0.01 ether"``); an amount with a unit (wei, gwei, ether) stays as written."""
    text = " ".join(str(text).split())
    return f"{text} ether" if re.fullmatch(r"\d+(\.\d+)?", text) else text


def render_spec(plan: CatalogPlan, spec_path: Path, stem_links: dict[str, Path]) -> str:
    """The spec's TOML text; paths relative to ``spec_path``'s folder."""
    base = spec_path.parent
    n_stems = sum(1 for p in plan.tracks if p.stems_dir or p.stem_files)
    lines = [
        f"# Written by `songmint init` from {len(plan.tracks)} masters ({n_stems} with stems).",
        "# Check the titles and editions, then: songmint release " + spec_path.name,
        "# The format: docs/release-spec.md; how masters, stems and tags were matched: docs/catalog.md.",
        "spec_version = 1",
        "",
        "[collection]",
        f"name = {toml_value(plan.name)}",
        f"symbol = {toml_value(plan.symbol)}",
        'image = "generate"                 # the first track\'s cover; or a path to an image',
        "royalty_bps = 0                    # ERC-2981 basis points (500 = 5 %)",
        "",
        "[defaults]",
        f"artist = {toml_value(plan.artist)}",
        f"editions = {toml_value({'cap': plan.cap, 'initial': plan.initial})}",
    ]
    for p in plan.tracks:
        lines += ["", "[[tracks]]", f"id = {toml_value(p.id)}", f"title = {toml_value(p.title)}"]
        lines.append(f"file = {toml_value(_rel(p.master, base))}")
        if p.stems_dir is not None:
            lines.append(f"stems = {toml_value(_rel(p.stems_dir, base))}")
        elif p.id in stem_links:
            lines.append(f"stems = {toml_value(_rel(stem_links[p.id], base))}")
        for k, v in p.fields.items():
            lines.append(f"{k} = {toml_value(v)}")
        if p.price is not None:
            lines += ["[tracks.sale]", f"price = {toml_value(sale_price(p.price))}"]
    lines += ["", "[network]", 'name = "local"                     # memory | local | url + chain_id', ""]
    return "\n".join(lines)


def _link_stems(plan: CatalogPlan, folder: Path) -> dict[str, Path]:
    """Hard-link (or copy) by-name stems into ``folder/<track id>/<role><ext>``."""
    links: dict[str, Path] = {}
    for p in plan.tracks:
        if not p.stem_files:
            continue
        d = folder / p.id
        d.mkdir(parents=True, exist_ok=True)
        for role, src in sorted(p.stem_files.items()):
            dst = d / f"{role}{src.suffix.lower()}"
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
        links[p.id] = d
    return links


def write_catalog_spec(spec_path: Path, plan: CatalogPlan, *, force: bool = False) -> str:
    """Write the spec (and the by-name stems folder), validated first; returns the spec text."""
    from songmint.spec import parse_spec

    spec_path = spec_path.expanduser().resolve()
    links_dir = spec_path.parent / f"{spec_path.stem}-stems"
    needs_links = any(p.stem_files for p in plan.tracks)
    if not force:
        for p in (spec_path, links_dir) if needs_links else (spec_path,):
            if p.exists():
                raise SongmintError(f"{p} exists; choose another name or pass --force to replace it")
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_links = Path(tempfile.mkdtemp(prefix=f".{links_dir.name}.", dir=spec_path.parent))
    try:
        links = _link_stems(plan, tmp_links)
        # validate against the final paths: swap the temporary folder in only once the text is right
        final = {tid: links_dir / d.name for tid, d in links.items()}
        text = render_spec(plan, spec_path, final)
        if links:
            if links_dir.exists():
                shutil.rmtree(links_dir)
            tmp_links.rename(links_dir)
        try:
            parse_spec(text, path=spec_path)
        except SongmintError:
            if links:
                shutil.rmtree(links_dir, ignore_errors=True)
            raise
        with atomic_path(spec_path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    finally:
        shutil.rmtree(tmp_links, ignore_errors=True)
    return text


EXAMPLE = """\
# A songmint release spec: one collection (an ERC-1155 contract) and its tracks (tokens).
# Release it:   songmint release {name} --network memory     (in-process chain, for a try)
#               songmint release {name}                      (a local anvil chain, started for you)
# Every key: docs/release-spec.md. From a folder of masters: songmint init catalog.toml --from masters/
spec_version = 1

[collection]
name = "My First EP"
symbol = "MYEP"                      # 1–11 letters/digits
description = "Sketches, composed and minted by songmint."
image = "generate"                   # the first track's cover, or a path to an image file
royalty_bps = 500                    # ERC-2981: 5 % to the releasing account (or royalty_receiver)
# external_link = "https://example.org"
# contract = "0x…"                  # attach to a SongmintEditions contract you administer

[defaults]                           # any track key except id/token_id/title/file/stems/isrc
artist = "Your Name"
license = "CC-BY-4.0"
editions = {{ cap = 100, initial = 10 }}   # recipient = "0x…" (default: the releasing account)

# A track the composer engine makes (no downloads, no GPU): same seed, same bytes.
[[tracks]]
id = "first-light"
title = "First Light"
genre = "synthwave"
credits = [{{ name = "Your Name", role = "producer" }}]
# isrc = "USAB12400001"
# stems_as_tokens = true            # each stem becomes a token of its own
[tracks.generate]
engine = "composer"                  # `songmint generate --help` lists the engines
prompt = "synthwave in A minor at 100 bpm, driving"
seed = 1
seconds = 12

# A track from your own files: a mix and, optionally, a folder of stems of the same length.
# Stems may be named as your DAW exports them ("01 Drums.wav" is the stem "drums").
# [[tracks]]
# title = "From the Studio"
# file = "mixes/from-the-studio.wav"
# stems = "mixes/from-the-studio-stems/"

[storage]
backend = "local"                    # local | kubo (url) | pinning (url + token_env)

[network]
name = "local"                       # memory | local | an https:// JSON-RPC URL with chain_id
"""


def example_spec(name: str = "release.toml") -> str:
    """The commented starting spec ``init --example`` writes (it validates as it is)."""
    return EXAMPLE.format(name=name)


# --------------------------------------------------------------------------- CLI


@click.command("init")
@click.argument("spec_path", metavar="SPEC", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--from",
    "masters",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of masters: one track per audio file in it (sub-folders: stems).",
)
@click.option(
    "--stems-dir",
    "stems_from",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where stems are: folders named like a master, or files named '<master> - <stem>'.",
)
@deprecated_alias("--stems-from", dest="stems_from", replacement="--stems-dir",
                  type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Metadata per master (columns: " + ", ".join(CSV_COLUMNS) + "); wins over embedded tags.",
)
@click.option("--example", is_flag=True, help="Write a commented example spec (stdout without SPEC).")
@click.option("--name", default=None, help="Collection name (default: the album tag, else the folder name).")
@click.option("--symbol", default=None, help="Collection symbol (default: from the name).")
@click.option("--artist", default=None, help="Artist of masters without an artist tag.")
@click.option("--cap", type=click.IntRange(min=1), default=100, show_default=True, help="Editions cap.")
@click.option("--initial", type=click.IntRange(min=0), default=1, show_default=True, help="Editions minted.")
@click.option("--force", is_flag=True, help="Replace an existing SPEC.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout (the spec written, its tracks).")
def init(
    spec_path: Path | None,
    masters: Path | None,
    stems_from: Path | None,
    csv_path: Path | None,
    example: bool,
    name: str | None,
    symbol: str | None,
    artist: str | None,
    cap: int,
    initial: int,
    force: bool,
    as_json: bool,
) -> None:
    """Start a release spec SPEC: from a folder of masters (--from), or an example (--example).

    With --from, each audio file in the folder becomes a track; titles, artists, ISRCs, genres,
    credits and prices come from a --csv row, else the file's tags, else its name. Stems are
    matched by folder or by name (docs/catalog.md). The spec is validated before it is written.
    """
    from songmint.console import output, print_json

    out = output()
    if example == (masters is not None):
        raise SongmintError("give one of --from FOLDER (a spec from masters) or --example")
    if example:
        text = example_spec(spec_path.name if spec_path else "release.toml")
        if spec_path is None:
            click.echo(text, nl=False)
            return
        if spec_path.exists() and not force:
            raise SongmintError(f"{spec_path} exists; choose another name or pass --force to replace it")
        with atomic_path(spec_path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        if as_json:
            print_json({"spec": str(spec_path), "example": True})
        else:
            out.info(f"wrote {spec_path}; next: songmint release {spec_path} --network memory")
        return
    assert masters is not None
    if spec_path is None:
        raise SongmintError("name the spec to write, e.g. songmint init catalog.toml --from masters/")
    if initial > cap:
        raise SongmintError(f"--initial {initial} is above --cap {cap}; mint at most the cap")
    if csv_path is not None and not csv_path.is_file():
        raise SongmintError(f"--csv {csv_path}: no such file")
    plan = plan_catalog(
        masters,
        stems_from=stems_from,
        csv_path=csv_path,
        name=name,
        symbol=symbol,
        artist=artist,
        cap=cap,
        initial=initial,
    )
    for w in plan.warnings:
        out.info(f"warning: {w}")
    write_catalog_spec(spec_path, plan, force=force)
    with_stems = sum(1 for p in plan.tracks if p.stems_dir or p.stem_files)
    if as_json:
        print_json({"spec": str(spec_path), "name": plan.name, "symbol": plan.symbol,
                    "tracks": len(plan.tracks), "with_stems": with_stems, "warnings": list(plan.warnings)})
        return
    out.info(
        f"wrote {spec_path}: {len(plan.tracks)} tracks ({with_stems} with stems) in "
        f"{plan.name!r} ({plan.symbol}); next: songmint release {spec_path}"
    )
