"""The entry points: :func:`load_spec` (a file) and :func:`parse_spec` (text), which check every
section, collect the problems found in one pass and return a :class:`ReleaseSpec`."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

from songmint.errors import SpecError
from songmint.spec.checker import Checker
from songmint.spec.sections import check_version, parse_collection, parse_network, parse_storage
from songmint.spec.tracks import DEFAULT_KEYS, TRACK_KEYS, checked_track
from songmint.spec.values import Collection, ReleaseSpec, Track

_TOP_KEYS = {"spec_version", "collection", "defaults", "tracks", "storage", "network"}


class SpecProblems(SpecError):
    """Every problem of a spec found in one pass (each one line with file:line, key and fix)."""

    def __init__(self, problems: list[SpecError]) -> None:
        self.problems = [" ".join(str(p).split()) for p in problems]
        super().__init__(f"{len(self.problems)} problems: " + " | ".join(self.problems))


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
    c = Checker(path, text)
    problems: list[SpecError] = []

    def attempt(fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one section's check; a problem is kept and the next section checked anyway."""
        try:
            return fn(*args, **kwargs)
        except SpecError as exc:
            problems.append(exc)
            return None

    check_version(c, doc)  # another version's spec: its other keys mean other things
    attempt(c.unknown, doc, _TOP_KEYS, "")
    base = path.parent
    collection = attempt(
        lambda: parse_collection(
            c, c.table(doc, "collection", "collection", required=True), base, check_files
        )
    )
    defaults = attempt(c.table, doc, "defaults", "defaults") or {}
    attempt(c.unknown, defaults, DEFAULT_KEYS, "defaults")
    raw_tracks = doc.get("tracks")
    if not isinstance(raw_tracks, list) or not raw_tracks:
        problems.append(c.fail("tracks", "the spec has no tracks", "add at least one [[tracks]] table"))
        raw_tracks = []
    tracks: list[Track] = []
    seen_ids: dict[str, int] = {}
    seen_tokens: dict[int, str] = {}
    # Tracks are checked against the collection as written (its symbol makes the token ids); with
    # a broken [collection], against a stand-in, so that their own problems are still reported.
    against = collection or STAND_IN
    for i, raw in enumerate(raw_tracks):
        if isinstance(raw, dict):  # a misspelt key, and still the track's other problems
            attempt(c.unknown, raw, TRACK_KEYS, f"tracks[{i}]")
        track = attempt(
            checked_track, c, i, raw, defaults, against, base, check_files, seen_ids, seen_tokens
        )
        if track is not None:
            tracks.append(track)
    storage = attempt(lambda: parse_storage(c, c.table(doc, "storage", "storage"), base))
    network = attempt(lambda: parse_network(c, c.table(doc, "network", "network")))
    if problems:
        raise problems[0] if len(problems) == 1 else SpecProblems(problems)
    return ReleaseSpec(
        path=path,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        collection=collection,
        tracks=tuple(tracks),
        storage=storage,
        network=network,
        raw=doc,
    )


STAND_IN = Collection(
    name="?", symbol="SPEC", description="", image=None, cover_style=None, external_link=None,
    royalty_bps=0, royalty_receiver=None, contract="deploy",
)
