"""Fixtures shared by the chain tests: a real anvil on a free port (always stopped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from minting.chain import Anvil, free_port


@pytest.fixture(scope="module")
def anvil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Anvil]:
    """anvil from tools/node on a free port with its state in a temporary folder."""
    folder: Path = tmp_path_factory.mktemp("anvil")
    node = Anvil(port=free_port(), state_file=folder / "state.json")
    node.start()
    try:
        yield node
    finally:
        node.stop()
