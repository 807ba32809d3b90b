"""The values of a validated release spec (frozen dataclasses), its constants and token ids."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from songmint.sale_spec import SaleTerms

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
    # Stems by separation of a file track without a stems folder: True even without `release
    # --stems`, False never (not even with it), None as `--stems` says (docs/release-spec.md).
    separate: bool | None = None

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
