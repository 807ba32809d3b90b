"""The committed contract artifacts (ABI + bytecode), so that Python users never need a compiler."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from minting.chain.errors import ChainError

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "contracts"
_PATHS = {
    "SongmintEditions": CONTRACTS_DIR / "SongmintEditions.json",
    "SongmintSplit": CONTRACTS_DIR / "SongmintSplit.json",
    "SongmintFactory": CONTRACTS_DIR / "SongmintFactory.json",
    "BaselineEditions": CONTRACTS_DIR / "baseline" / "BaselineEditions.json",
    "SongmintEditionsV1": CONTRACTS_DIR / "baseline" / "SongmintEditionsV1.json",
}


@dataclass(frozen=True)
class Artifact:
    """A compiled contract: ``abi``, creation ``bytecode`` (0x hex), compiler version, source hash."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler: str
    source_hash: str


@cache
def load_artifact(name: str = "SongmintEditions") -> Artifact:
    """Load a committed artifact by contract name (``SongmintEditions``, ``SongmintSplit``,
    ``SongmintFactory``; the benchmark's ``BaselineEditions`` and ``SongmintEditionsV1``)."""
    path = _PATHS.get(name)
    if path is None:
        raise ChainError(f"unknown contract {name!r}; known: {', '.join(sorted(_PATHS))}")
    if not path.exists():
        raise ChainError(f"contract artifact {path} is missing; run `make contracts`")
    data = json.loads(path.read_text(encoding="utf-8"))
    return Artifact(
        name=name,
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        compiler=data["compiler"]["version"],
        source_hash=data["sourceHash"],
    )
