"""Where the pinned npm tools live (anvil, forge, solc-js, OpenZeppelin, reference importers).

``make`` installs them into ``tools/node/node_modules`` of the checkout;
``$SONGMINT_NODE_TOOLS`` points elsewhere (a folder that holds ``node_modules``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from minting.errors import MintingError

REPO_NODE_DIR = Path(__file__).resolve().parents[1] / "tools" / "node"
SETUP_HINT = "run `make setup` (it installs the pinned npm tools into tools/node)"


NODE_TOOLS_ENV = "SONGMINT_NODE_TOOLS"


def node_dir(*, env: Mapping[str, str] | None = None) -> Path:
    """The folder holding ``package.json`` and ``node_modules`` of the npm tools.

    ``$SONGMINT_NODE_TOOLS`` when set in ``env`` (default ``os.environ``: the one place it is read),
    else the checkout's ``tools/node``.
    """
    value = (os.environ if env is None else env).get(NODE_TOOLS_ENV)
    return Path(value).expanduser() if value else REPO_NODE_DIR


def node_modules(*, env: Mapping[str, str] | None = None) -> Path:
    return node_dir(env=env) / "node_modules"


def find_bin(name: str, *, env: Mapping[str, str] | None = None) -> Path:
    """The executable ``name`` (``anvil``, ``forge``, ``solcjs`` …) from the npm tools
    (:func:`node_dir` reads ``env``).

    Raises
    ------
    MintingError
        With the set-up command to run when it is not installed.
    """
    bin_dir = node_modules(env=env) / ".bin"
    candidate = bin_dir / name
    if candidate.exists():
        return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise MintingError(f"{name} not found in {bin_dir} or on PATH; {SETUP_HINT}")
