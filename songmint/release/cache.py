"""The release's content-addressed cache: finished stage results keyed by the hashes of their inputs.

A re-run (or another release sharing the cache) finds each take, trait set, cover and encoding
it has made before under ``<root>/<kind>/<key>``; keys include :func:`code_fingerprint`, so results
made by other code are never reused. Entries are written atomically under a unique temporary
name, so two releases filling one cache at once never see half an entry.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from music.audio import Audio
from songmint import __version__
from songmint.files import write_atomic


def content_hash(*parts: bytes | str) -> str:
    """sha256 over length-prefixed parts (a cache key)."""
    h = hashlib.sha256()
    for p in parts:
        b = p.encode() if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return h.hexdigest()


def audio_hash(audio: Audio) -> str:
    """A cache key for decoded audio: its rate, shape and float32 sample bytes."""
    return content_hash(
        str(audio.sr), str(audio.samples.shape), np.ascontiguousarray(audio.samples).tobytes()
    )


@functools.cache
def code_fingerprint() -> str:
    """sha256 over songmint's version and the source of the packages that make a release's bytes.

    Part of every cache key, so that results made by other code (an upgrade, a local edit of an
    engine or of the trait extractor) are never reused.
    """
    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha256(__version__.encode())
    for pkg in ("music", "cover_art", "minting", "songmint"):
        for f in sorted((root / pkg).rglob("*.py")):
            h.update(f.relative_to(root).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()


class Cache:
    """Content-addressed cache under ``<root>/<kind>/<key>`` (root: ``OUT/.cache`` by default)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, kind: str, key: str, suffix: str = "") -> Path:
        key = content_hash(code_fingerprint(), key)
        return self.root / kind / f"{key}{suffix}"

    def bytes(self, kind: str, key: str, suffix: str, make: Callable[[], bytes]) -> tuple[bytes, bool]:
        """The cached bytes, or ``make()`` stored; and whether it was a hit."""
        p = self.path(kind, key, suffix)
        if p.exists():
            return p.read_bytes(), True
        data = make()
        write_atomic(p, data)
        return data, False

    def json(self, kind: str, key: str, make: Callable[[], Any]) -> tuple[Any, bool]:
        """The cached JSON value, or ``make()`` stored; and whether it was a hit."""
        data, hit = self.bytes(kind, key, ".json", lambda: json.dumps(make(), sort_keys=True).encode())
        return json.loads(data), hit
