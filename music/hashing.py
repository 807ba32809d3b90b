"""Content hashes for provenance: files streamed, model folders summarised."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".pt", ".pth")


def sha256_file(path: str | os.PathLike[str], *, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, streamed in ``chunk``-byte blocks (constant memory)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def weights_sha256(folder: str | os.PathLike[str]) -> str | None:
    """One hash for the weights of a model folder.

    A single weights file gives its own sha256 (the figure model hubs publish); several
    (sharded, or a pipeline's sub-models) give the sha256 of the sorted
    ``"<relative path> <sha256>"`` lines. ``None`` when the folder holds no weights.
    """
    root = Path(folder)
    files = sorted(f for f in root.rglob("*") if f.is_file() and f.suffix in WEIGHT_SUFFIXES)
    if not files:
        return None
    if len(files) == 1:
        return sha256_file(files[0])
    lines = "".join(f"{f.relative_to(root).as_posix()} {sha256_file(f)}\n" for f in files)
    return hashlib.sha256(lines.encode()).hexdigest()
