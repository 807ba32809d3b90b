"""Writing the application's output files: whole, or not at all.

Every file songmint writes goes through :func:`write_atomic` (a unique temporary name beside
the target, then a rename; :func:`music.audio.atomic_path`), so a crash or a full disk never
leaves half a file, and two processes writing the same content-addressed file never clash.
"""

from __future__ import annotations

import os
from pathlib import Path

from music.audio import atomic_path

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` (text is UTF-8) to ``path`` atomically; nothing happens when it is already there."""
    dest = Path(path)
    raw = data.encode() if isinstance(data, str) else data
    if dest.is_file() and dest.stat().st_size == len(raw) and dest.read_bytes() == raw:
        return
    with atomic_path(dest) as tmp:
        tmp.write_bytes(raw)
