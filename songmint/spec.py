"""The release spec: a TOML file that describes a collection and its tracks.

A spec is read with :func:`load_spec` (or :func:`parse_spec` for text) into a frozen
:class:`ReleaseSpec`. Validation is strict and every error is a one-line
:class:`songmint.errors.SpecError` that names the file, the line (when it can be
found) and key, and the fix. The format is documented in ``docs/release-spec.md``.

Token ids are deterministic: a 53-bit integer derived from the collection symbol and the
track's ``id`` (see :func:`token_id_for`), so they survive reordering of the tracks, stay
exact in JavaScript, and never change between runs. An explicit ``token_id`` overrides it;
duplicates are refused.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from songmint.errors import SpecError
from songmint.sale_spec import SaleTerms, parse_sale, parse_splits

SPEC_VERSION = 1
MAX_TOKEN_ID = 2**53 - 1
ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
NETWORK_NAMES = ("memory", "local")
ZERO_ADDRESS = "0x" + "0" * 40
URL_SCHEMES = ("https", "ipfs", "ar")
"""Schemes a URL in the published metadata may have (no ``javascript:``, ``data:`` or ``file:``)."""
URL_RE = re.compile(r"^(https|ipfs|ar)://[^\s<>\"'`\\]+$")
IMAGE_TYPES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
"""Collection image extensions and the format Pillow must find in the file."""
ENGINE_MAX_SECONDS = {"composer": 20 * 60.0, "units": 3600.0}
"""Longest ``seconds`` each engine renders (``music.engines.composer.engine.MAX_SECONDS``, the
units engine's check); the model engines check their own limit, which depends on the checkpoint."""
MAX_SECONDS = 3600.0
STORAGE_BACKENDS = ("local", "kubo", "pinning")
COVER_STYLES_HINT = "a style name of `songmint cover --help`"

_TOP_KEYS = {"spec_version", "collection", "defaults", "tracks", "storage", "network"}
_COLLECTION_KEYS = {
    "name",
    "symbol",
    "description",
    "image",
    "cover_style",
    "external_link",
    "royalty_bps",
    "royalty_receiver",
    "contract",
    "splits",
}
# Keys a track may carry; [defaults] may carry the same ones except the identity keys.
_TRACK_KEYS = {
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
}
_DEFAULT_KEYS = _TRACK_KEYS - {"id", "token_id", "title", "file", "stems", "isrc", "bpm", "key"}
_GENERATE_KEYS = {"engine", "prompt", "seed", "seconds", "params", "source", "source_stems"}
_EDITION_KEYS = {"cap", "initial", "recipient"}
_STORAGE_KEYS = {"backend", "path", "url", "token_env", "timeout_s"}
_NETWORK_KEYS = {"name", "url", "chain_id", "confirmations"}


@dataclass(frozen=True)
class Editions:
    """Edition terms of one token.

    Attributes
    ----------
    cap : int
        Most editions that can ever exist (``>= 1``).
    initial : int
        Editions minted by the release (``0 <= initial <= cap``).
    recipient : str or None
        Address that receives the initial editions; ``None`` means the releasing account.
    """

    cap: int
    initial: int
    recipient: str | None = None


@dataclass(frozen=True)
class Generate:
    """A track made by an engine: ``engine.generate(Request(prompt, seconds, seed, params))``, or,
    with ``source``, ``engine.continue_(load(source), Request(...), stems=<source_stems>)``."""

    engine: str
    prompt: str | None
    seed: int
    seconds: float | None
    params: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None
    source_stems: Path | None = None


@dataclass(frozen=True)
class Track:
    """One track of the release (one token, plus one per stem with ``stems_as_tokens``)."""

    id: str
    token_id: int
    number: int
    title: str
    artist: str
    editions: Editions
    generate: Generate | None = None
    file: Path | None = None
    stems_dir: Path | None = None
    credits: tuple[dict[str, str], ...] = ()
    genre: str | None = None
    license: str | None = None
    description: str | None = None
    stems_as_tokens: bool = False
    stem_editions: Editions | None = None
    cover_style: str | None = None
    cover_seed: int = 0
    isrc: str | None = None
    tags: tuple[str, ...] = ()
    preview_seconds: float = 30.0
    external_url: str | None = None
    bpm: float | None = None  # declared tempo: published instead of the measured one
    key: str | None = None  # declared key, spelled as written ("Bb major")
    mood: str | None = None  # declared mood word(s): published instead of the measured mood
    sale: SaleTerms | None = None  # [tracks.sale] over [defaults.sale]: the token's primary sale
    video: bool = False  # an audio-reactive clip as the token's animation (docs/video.md)

    def stem_token_id(self, symbol: str, stem: str) -> int:
        """The token id of stem ``stem`` when stems are tokens of their own."""
        return token_id_for(symbol, f"{self.id}/stem/{stem}")


@dataclass(frozen=True)
class Collection:
    name: str
    symbol: str
    description: str
    image: Path | None
    cover_style: str | None
    external_link: str | None
    royalty_bps: int
    royalty_receiver: str | None
    contract: str  # "deploy" or a checksummable 0x address
    splits: tuple[tuple[str, int], ...] = ()  # [collection.splits]: (payee, basis points), sum 10 000


@dataclass(frozen=True)
class Storage:
    backend: str = "local"
    path: Path | None = None
    url: str | None = None
    token_env: str | None = None
    timeout_s: float = 60.0


@dataclass(frozen=True)
class Network:
    """``name`` is ``memory``, ``local`` or ``url`` (then ``url`` and ``chain_id`` are set)."""

    name: str = "local"
    url: str | None = None
    chain_id: int | None = None
    confirmations: int = 1

    @property
    def label(self) -> str:
        return self.url if self.name == "url" and self.url else self.name


@dataclass(frozen=True)
class ReleaseSpec:
    """A validated release spec."""

    path: Path
    sha256: str
    collection: Collection
    tracks: tuple[Track, ...]
    storage: Storage
    network: Network
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def base_dir(self) -> Path:
        """Relative paths in the spec are relative to the spec's folder."""
        return self.path.parent

    def token_ids(self) -> list[int]:
        return [t.token_id for t in self.tracks]


# --------------------------------------------------------------------------- ids


def token_id_for(symbol: str, key: str) -> int:
    """Deterministic token id for ``key`` (a track id, or ``"<track>/stem/<name>"``).

    The first 53 bits of ``sha256("songmint:<SYMBOL>:<key>")`` (0 becomes 1): stable across
    runs and reorderings, exact as a JavaScript number, and unique
    within any realistic release (duplicates are still checked).
    """
    digest = hashlib.sha256(f"songmint:{symbol.upper()}:{key}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) or 1


# --------------------------------------------------------------------------- locating keys


class _Locator:
    """Finds the line of a key in the TOML source (tomllib does not keep positions)."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")

    def __init__(self, text: str) -> None:
        # (table path, array index or None, line number, key) for every assignment/header
        self.entries: list[tuple[str, int | None, int, str | None]] = []
        table, index = "", None
        counts: dict[str, int] = {}
        for lineno, line in enumerate(text.splitlines(), start=1):
            m = self._HEADER.match(line)
            if m:
                table = m.group(2).replace(" ", "")
                if m.group(1) == "[[":
                    counts[table] = counts.get(table, -1) + 1
                    index = counts[table]
                elif not table.startswith("tracks."):
                    index = None
                self.entries.append((table, index, lineno, None))
                continue
            k = self._KEY.match(line)
            if k:
                self.entries.append((table, index, lineno, k.group(1).strip("\"'")))

    def line(self, path: str) -> int | None:
        """Line of a dotted ``path`` such as ``tracks[1].editions.cap``."""
        m = re.match(r"^tracks\[(\d+)\](?:\.(.*))?$", path)
        if m:
            idx, rest = int(m.group(1)), m.group(2) or ""
            base = "tracks"
        else:
            idx, rest, base = None, path, ""
        parts = rest.split(".") if rest else []
        best: int | None = None
        for table, index, lineno, key in self.entries:
            if base == "tracks" and (index != idx or not (table == "tracks" or table.startswith("tracks."))):
                continue
            if base == "" and (table.startswith("tracks") or index is not None):
                continue
            full = [p for p in (table.split(".") if table else [])]
            if base == "tracks":
                full = full[1:]
            if key is not None:
                full = [*full, *key.split(".")]
            if full == parts:
                return lineno
            # an inline table or a parent key: remember the closest enclosing entry
            if parts[: len(full)] == full and full:
                best = lineno
        if best is None and base == "tracks":
            for table, index, lineno, key in self.entries:
                if table == "tracks" and index == idx and key is None:
                    return lineno
        return best


class _Checker:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.locator = _Locator(text)

    def fail(self, key: str, problem: str, fix: str) -> SpecError:
        line = self.locator.line(key)
        where = f"{self.path}:{line}" if line else f"{self.path}"
        return SpecError(f"{where}: {key}: {problem}; {fix}")

    # typed getters -----------------------------------------------------------------

    def table(self, doc: dict[str, Any], name: str, key: str, *, required: bool = False) -> dict[str, Any]:
        value = doc.get(name)
        if value is None:
            if required:
                raise self.fail(key, "missing", f"add a [{key}] table")
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, got {type(value).__name__}", f"write it as [{key}]")
        return value

    def unknown(self, doc: dict[str, Any], allowed: set[str], key: str) -> None:
        for k in doc:
            if k not in allowed:
                close = sorted(allowed, key=lambda a: _distance(a, k))[0]
                where = f"{key}.{k}" if key else k
                raise self.fail(where, "unknown key", f"did you mean {close!r}? (see docs/release-spec.md)")

    def string(
        self, doc: dict[str, Any], name: str, key: str, *, required: bool = False, default: str | None = None
    ) -> str | None:
        value = doc.get(name, default)
        if value is None:
            if required:
                raise self.fail(key, "missing", f'add {name} = "..."')
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(key, f"must be a non-empty string, got {value!r}", f'write {name} = "..."')
        return value

    def integer(
        self,
        doc: dict[str, Any],
        name: str,
        key: str,
        *,
        default: int | None = None,
        lo: int | None = None,
        hi: int | None = None,
        required: bool = False,
    ) -> int | None:
        value = doc.get(name, default)
        if value is None:
            if required:
                raise self.fail(key, "missing", f"add {name} = <integer>")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be an integer, got {value!r}", f"write {name} = <integer>")
        if lo is not None and value < lo:
            raise self.fail(key, f"{value} is below the minimum {lo}", f"use a value ≥ {lo}")
        if hi is not None and value > hi:
            raise self.fail(key, f"{value} is above the maximum {hi}", f"use a value ≤ {hi}")
        return value

    def number(
        self,
        doc: dict[str, Any],
        name: str,
        key: str,
        *,
        default: float | None = None,
        lo: float | None = None,
        hi: float | None = None,
    ) -> float | None:
        value = doc.get(name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, got {value!r}", f"write {name} = <number>")
        if not math.isfinite(value):
            raise self.fail(key, f"must be a finite number, got {value!r}", f"write {name} = <number>")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise self.fail(key, f"{value} is outside {lo}–{hi}", f"use a value between {lo} and {hi}")
        return float(value)

    def boolean(self, doc: dict[str, Any], name: str, key: str, *, default: bool) -> bool:
        value = doc.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}", f"write {name} = true|false")
        return value

    def address(self, value: Any, key: str) -> str | None:
        """A ``0x`` address: not the zero address, and EIP-55-checksummed when written in mixed case."""
        if value is None:
            return None
        if not isinstance(value, str) or not ADDRESS_RE.match(value):
            raise self.fail(key, f"{value!r} is not an address", "write a 0x-prefixed 40-hex-digit address")
        if value.lower() == ZERO_ADDRESS:
            raise self.fail(key, "is the zero address (whatever is sent there is lost)",
                            "write the address that should receive it")
        from eth_utils import to_checksum_address

        checksummed = to_checksum_address(value)
        digits = value[2:]
        if digits != digits.lower() and digits != digits.upper() and value != checksummed:
            raise self.fail(key, f"{value!r} fails its EIP-55 checksum (a mistyped address?)",
                            f"check it; the checksummed form of these digits is {checksummed}")
        return checksummed

    def url(self, doc: dict[str, Any], name: str, key: str) -> str | None:
        """An ``https://``, ``ipfs://`` or ``ar://`` URL (what metadata may link to)."""
        link = self.string(doc, name, key)
        if link is not None and not URL_RE.match(link):
            raise self.fail(key, f"{link!r} is not an https://, ipfs:// or ar:// URL",
                            "use an https://, ipfs:// or ar:// URL (other schemes are not published)")
        return link

    def file(self, base: Path, value: Any, key: str, *, folder: bool = False) -> Path:
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"must be a path string, got {value!r}", 'write it as "path/to/file"')
        if "\0" in value:
            raise self.fail(key, "contains a NUL character", 'write it as "path/to/file"')
        p = Path(value).expanduser()
        if not p.is_absolute():
            inside = os.path.normpath(p)
            if inside == ".." or inside.startswith(".." + os.sep):
                raise self.fail(key, f"{value!r} leads outside the spec's folder",
                                "keep files beside the spec, or give an absolute path to mean it")
            p = base / p
        if folder:
            if not p.is_dir():
                raise self.fail(key, f"no folder at {p}", "fix the path (relative to the spec's folder)")
        elif not p.is_file():
            raise self.fail(key, f"no file at {p}", "fix the path (relative to the spec's folder)")
        return p


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (for 'did you mean' hints)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


# --------------------------------------------------------------------------- parsing


def load_spec(path: str | Path, *, check_files: bool = True) -> ReleaseSpec:
    """Read and validate the release spec at ``path``.

    Parameters
    ----------
    path : str or Path
        A ``.toml`` file.
    check_files : bool
        Check that referenced files exist (mixes, stems folders, collection image).

    Raises
    ------
    SpecError
        For a missing or unreadable file, invalid TOML, or any invalid value; the message
        names the file, line and key, and says how to fix it.
    """
    p = Path(path).expanduser()
    try:
        data = p.read_bytes()
    except FileNotFoundError as exc:
        raise SpecError(f"{p}: no such release spec; check the path (see samples/demo-ep.toml)") from exc
    except OSError as exc:
        raise SpecError(f"{p}: cannot read the spec ({exc.strerror})") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{p}: not UTF-8 text; save the spec as UTF-8") from exc
    return parse_spec(text, path=p.resolve(), check_files=check_files)


def parse_spec(text: str, *, path: Path, check_files: bool = True) -> ReleaseSpec:
    """Validate spec ``text`` read from ``path`` (relative paths resolve against its folder)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: invalid TOML: {exc}; fix the syntax at that line") from exc
    c = _Checker(path, text)
    c.unknown(doc, _TOP_KEYS, "")
    version = c.integer(doc, "spec_version", "spec_version", default=SPEC_VERSION)
    if version != SPEC_VERSION:
        raise c.fail(
            "spec_version",
            f"version {version} is not supported",
            f"this songmint reads spec_version = {SPEC_VERSION}",
        )
    base = path.parent
    collection = _collection(c, c.table(doc, "collection", "collection", required=True), base, check_files)
    defaults = c.table(doc, "defaults", "defaults")
    c.unknown(defaults, _DEFAULT_KEYS, "defaults")
    raw_tracks = doc.get("tracks")
    if not isinstance(raw_tracks, list) or not raw_tracks:
        raise c.fail("tracks", "the spec has no tracks", "add at least one [[tracks]] table")
    tracks: list[Track] = []
    seen_ids: dict[str, int] = {}
    seen_tokens: dict[int, str] = {}
    for i, raw in enumerate(raw_tracks):
        key = f"tracks[{i}]"
        if not isinstance(raw, dict):
            raise c.fail(key, "must be a table", "write each track as [[tracks]]")
        c.unknown(raw, _TRACK_KEYS, key)
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
            ids += [
                (track.stem_token_id(collection.symbol, s), f"{track.id}/stem/{s}")
                for s in _declared_stems(track)
            ]
        for tid, label in ids:
            if tid in seen_tokens:
                raise c.fail(
                    f"{key}.token_id",
                    f"duplicate token id {tid} ({label} and {seen_tokens[tid]})",
                    "set a different token_id or change the track id",
                )
            seen_tokens[tid] = label
        tracks.append(track)
    storage = _storage(c, c.table(doc, "storage", "storage"), base)
    network = _network(c, c.table(doc, "network", "network"))
    return ReleaseSpec(
        path=path,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        collection=collection,
        tracks=tuple(tracks),
        storage=storage,
        network=network,
        raw=doc,
    )


def _declared_stems(track: Track) -> list[str]:
    """Stem names known before rendering (from a stems folder or the engine's ``stems`` param)."""
    if track.stems_dir is not None:
        return sorted(p.stem for p in track.stems_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    if track.generate is not None:
        stems = track.generate.params.get("stems")
        if isinstance(stems, str):
            return [s.strip() for s in stems.split(",") if s.strip()]
        if isinstance(stems, list):
            return [str(s) for s in stems]
    return []


def _collection(c: _Checker, doc: dict[str, Any], base: Path, check_files: bool) -> Collection:
    c.unknown(doc, _COLLECTION_KEYS, "collection")
    name = c.string(doc, "name", "collection.name", required=True)
    symbol = c.string(doc, "symbol", "collection.symbol", required=True)
    assert name is not None and symbol is not None
    if not re.fullmatch(r"[A-Za-z0-9]{1,11}", symbol):
        raise c.fail(
            "collection.symbol", f"{symbol!r} is not a token symbol", "use 1–11 letters or digits, e.g. NDEP"
        )
    image = doc.get("image")
    image_path = None
    if image not in (None, "generate"):
        image_path = c.file(base, image, "collection.image") if check_files else base / str(image)
        _check_image(c, image_path, check_files)
    contract = doc.get("contract", "deploy")
    if contract != "deploy":
        contract = c.address(contract, "collection.contract")
    link = c.url(doc, "external_link", "collection.external_link")
    return Collection(
        name=name,
        symbol=symbol.upper(),
        description=c.string(doc, "description", "collection.description", default="") or "",
        image=image_path,
        cover_style=c.string(doc, "cover_style", "collection.cover_style"),
        external_link=link,
        royalty_bps=c.integer(doc, "royalty_bps", "collection.royalty_bps", default=0, lo=0, hi=10_000) or 0,
        royalty_receiver=c.address(doc.get("royalty_receiver"), "collection.royalty_receiver"),
        contract=contract,
        splits=parse_splits(doc["splits"], "collection.splits", c.fail, c.address) if "splits" in doc else (),
    )


def _check_image(c: _Checker, path: Path, check_files: bool) -> None:
    """The collection image must be a PNG or JPEG file whose bytes are what its name says."""
    kind = IMAGE_TYPES.get(path.suffix.lower())
    if kind is None:
        raise c.fail("collection.image", f"{path.name!r} is not a .png or .jpg file",
                     "give a PNG or JPEG image (or leave image out to use the first cover)")
    if not check_files:
        return
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            found = im.format
            im.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise c.fail("collection.image", f"{path} is not a readable image ({' '.join(str(exc).split())})",
                     "give a PNG or JPEG image") from exc
    if found != kind:
        raise c.fail("collection.image", f"{path.name} holds {found} data, not {kind}",
                     f"rename it to match its content or convert it to {kind}")


def _channels(c: _Checker, key: str, path: Path) -> int | None:
    """The channel count in ``path``'s header (``None`` for formats only ffmpeg reads)."""
    from music.audio import SNDFILE_EXTENSIONS

    if path.suffix.lower() not in SNDFILE_EXTENSIONS or path.suffix.lower() == ".mp3":
        return None  # MP3 headers can need a full scan; ffmpeg formats are checked when loaded
    import soundfile as sf

    try:
        return int(sf.info(str(path)).channels)
    except Exception as exc:  # libsndfile's errors are plain RuntimeErrors with its message
        raise c.fail(key, f"{path} is not readable audio ({' '.join(str(exc).split()) or 'no header'})",
                     "re-export it as WAV or FLAC") from exc


def _check_channels(c: _Checker, key: str, mix: Path, stems_dir: Path | None) -> None:
    """Each stem must be mono or have the mix's channel count (a stem is mixed under the mix)."""
    mix_ch = _channels(c, f"{key}.file", mix)
    if stems_dir is None or mix_ch is None:
        return
    for stem in sorted(stems_dir.iterdir()):
        if stem.name.startswith(".") or not stem.is_file():
            continue
        ch = _channels(c, f"{key}.stems", stem)
        if ch is not None and ch not in (1, mix_ch):
            raise c.fail(f"{key}.stems", f"{stem.name} has {ch} channels but the mix has {mix_ch}",
                         f"export the stems as mono or {mix_ch}-channel files, like the mix")


def _editions(c: _Checker, doc: Any, key: str) -> Editions:
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
    c: _Checker,
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
        _check_channels(c, key, mix_path, stems_dir)
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
    )


def _musical_key(c: _Checker, doc: dict[str, Any], key: str) -> str | None:
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


def _generate(c: _Checker, doc: Any, key: str, base: Path, check_files: bool) -> Generate:
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


def _storage(c: _Checker, doc: dict[str, Any], base: Path) -> Storage:
    c.unknown(doc, _STORAGE_KEYS, "storage")
    backend = c.string(doc, "backend", "storage.backend", default="local")
    if backend not in STORAGE_BACKENDS:
        raise c.fail(
            "storage.backend", f"unknown backend {backend!r}", f"use one of: {', '.join(STORAGE_BACKENDS)}"
        )
    url = c.string(doc, "url", "storage.url")
    if backend in ("kubo", "pinning") and not url:
        raise c.fail(
            "storage.url",
            f"the {backend} backend needs a URL",
            'add url = "http://127.0.0.1:5001"' if backend == "kubo" else 'add url = "https://…/pins"',
        )
    token_env = c.string(doc, "token_env", "storage.token_env")
    if backend == "pinning" and not token_env:
        raise c.fail(
            "storage.token_env",
            "the pinning backend needs a token",
            'add token_env = "PINNING_TOKEN" (the variable\'s name, never the token)',
        )
    path = doc.get("path")
    timeout = c.number(doc, "timeout_s", "storage.timeout_s", default=60.0, lo=1.0, hi=3600.0) or 60.0
    return Storage(
        backend=backend or "local",
        path=(base / path) if isinstance(path, str) else None,
        url=url,
        token_env=token_env,
        timeout_s=timeout,
    )


def _network(c: _Checker, doc: dict[str, Any]) -> Network:
    c.unknown(doc, _NETWORK_KEYS, "network")
    name = c.string(doc, "name", "network.name", default="local") or "local"
    url = c.string(doc, "url", "network.url")
    if name.startswith(("http://", "https://")):
        name, url = "url", name
    if name not in (*NETWORK_NAMES, "url"):
        raise c.fail(
            "network.name", f"unknown network {name!r}", 'use "memory", "local", or url = "https://…"'
        )
    chain_id = c.integer(doc, "chain_id", "network.chain_id", lo=1)
    if name == "url" and (not url or chain_id is None):
        raise c.fail(
            "network",
            "a JSON-RPC network needs url and chain_id",
            'add url = "https://…" and chain_id = <the chain\'s id> (checked before sending)',
        )
    return Network(
        name=name,
        url=url,
        chain_id=chain_id,
        confirmations=c.integer(doc, "confirmations", "network.confirmations", default=1, lo=0, hi=64) or 0,
    )
