"""Scanning a folder of masters: each master's title, tags, CSV row, track id and stems
(the rules: :mod:`songmint.catalog`, ``docs/catalog.md``)."""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from music.errors import MusicError
from music.stem_names import stem_roles
from music.tags import Tags, normalise_isrc, read_tags
from music.takes import slugify
from songmint.errors import SongmintError

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
