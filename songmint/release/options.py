"""How to run a release: the CLI's flags as one frozen value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

COVER_SIZE = 2048
STAGES = ("generate", "traits", "cover", "encode", "metadata", "store", "contract", "mint")

Log = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """How to run a release (the CLI's flags).

    ``checkpoint`` is called with ``"intent"``, ``"signed"``, ``"sent"`` and ``"receipt"`` at each
    journal step of every transaction (see :func:`minting.chain.connect`); tests pass one that
    kills the process at a chosen point. ``password_prompt`` asks for a keystore's password when
    ``$SONGMINT_KEYSTORE_PASSWORD`` is not set (the CLI passes a hidden terminal prompt).
    """

    out: Path
    network: str | None = None  # overrides the spec's [network]
    chain_id: int | None = None
    dry_run: bool = False
    yes: bool = False
    cover_size: int = COVER_SIZE
    video_size: tuple[int, int] = (1080, 1080)  # clips of tracks with `video = true` (docs/video.md)
    video_fps: float = 30.0
    keystore: Path | None = None  # encrypted key file; password from $SONGMINT_KEYSTORE_PASSWORD or a prompt
    build_preview: bool = True
    cache_dir: Path | None = None  # default OUT/.cache; --cache-dir ($SONGMINT_CACHE_DIR) shares one
    checkpoint: Callable[[str], None] | None = None
    password_prompt: Callable[[str], str] | None = None
    executor: str = "local"  # where stages 1–4 run: local | ray (songmint.executor, release.tasks)
    jobs: int | None = None  # workers; None: this process, encoders on a thread per core
    address: str | None = None  # a Ray cluster to join (auto, ray://host:10001); None: a local instance
    memory_mb: int | None = None  # memory limit per worker
    keep_going: bool = False  # a failed track is reported, the others finish stages 1–4; then exit 2
    stems: tuple[str, ...] | None = None  # separate file tracks without a stems folder: these stems ("all")
    model: str | None = None  # their separation model (default htdemucs; a name, repo id or folder)


def announce(log: Log, n: int, detail: str = "") -> None:
    """``[n/8] <stage> <detail>``: one progress line for stage ``n`` (1-based) of :data:`STAGES`."""
    log(f"[{n}/{len(STAGES)}] {STAGES[n - 1]}{(' ' + detail) if detail else ''}")
