"""Helpers for the IPFS tests: deterministic test files and CIDs from npm's ipfs-unixfs-importer."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

from minting.node_tools import node_modules

SCRIPT = Path(__file__).parent / "js" / "unixfs_reference.mjs"


def node_bin() -> str:
    found = shutil.which("node")
    assert found, "node is required for the IPFS reference tests (scripts/setup.sh installs it)"
    return found


def js_import(jobs: list[dict]) -> list[dict]:
    """Run the reference importer once over ``jobs`` ({path, chunkSize?, maxLinks?})."""
    proc = subprocess.run(
        [node_bin(), str(SCRIPT), str(node_modules())],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def ipfs_car(*args: str, cwd: Path | None = None) -> str:
    """Run npm's ``ipfs-car`` CLI and return its stdout."""
    proc = subprocess.run(
        [str(node_modules() / ".bin" / "ipfs-car"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def write_random(path: Path, size: int, *, seed: int) -> Path:
    """Write ``size`` pseudo-random bytes (PCG64 with ``seed``) in 1 MiB pieces: constant memory."""
    rng = np.random.Generator(np.random.PCG64(seed))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(rng.bytes(n))
            left -= n
    return path
