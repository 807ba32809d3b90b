"""Where the pinned npm tools live (anvil, forge, solc-js, OpenZeppelin, reference importers).

``make`` installs them into ``tools/node/node_modules`` of the checkout;
``$SONGMINT_NODE_TOOLS`` points elsewhere (a folder that holds ``node_modules``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from minting.errors import MintingError

REPO_NODE_DIR = Path(__file__).resolve().parents[1] / "tools" / "node"
SETUP_HINT = "run `make setup` (it installs the pinned npm tools into tools/node)"


def node_dir() -> Path:
    """The folder holding ``package.json`` and ``node_modules`` of the npm tools."""
    env = os.environ.get("SONGMINT_NODE_TOOLS")
    return Path(env).expanduser() if env else REPO_NODE_DIR


def node_modules() -> Path:
    return node_dir() / "node_modules"


def find_bin(name: str) -> Path:
    """The executable ``name`` (``anvil``, ``forge``, ``solcjs`` …) from the npm tools.

    Raises
    ------
    MintingError
        With the set-up command to run when it is not installed.
    """
    candidate = node_modules() / ".bin" / name
    if candidate.exists():
        return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise MintingError(f"{name} not found in {node_modules() / '.bin'} or on PATH; {SETUP_HINT}")
