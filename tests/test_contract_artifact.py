"""The committed contract artifacts are exactly what the pinned compiler makes of the sources."""

from __future__ import annotations

import json

import pytest

from minting.contracts import build


@pytest.mark.parametrize("target", build.TARGETS, ids=lambda t: t.name)
def test_source_hash_matches_the_sources(target: build.Target) -> None:
    """Any edit of the contract or an OpenZeppelin file it imports changes the hash: rebuild then."""
    artifact = json.loads(target.artifact.read_text())
    std_input = build.standard_input(target)
    assert artifact["sourceHash"] == build.source_hash(std_input), "stale artifact: run `make contracts`"
    assert set(artifact["sources"]) == set(std_input["sources"])
    assert artifact["compiler"]["version"].startswith(build.SOLC_VERSION + "+commit.")
    assert artifact["settings"]["evmVersion"] == "cancun"
    assert artifact["settings"]["optimizer"] == {"enabled": True, "runs": 200}


def test_recompiling_reproduces_the_committed_artifact() -> None:
    target = build.TARGETS[0]
    committed = json.loads(target.artifact.read_text())
    fresh = build.build(target)
    assert fresh["abi"] == committed["abi"]
    assert fresh["bytecode"] == committed["bytecode"]
    assert fresh["deployedBytecode"] == committed["deployedBytecode"]
    assert fresh == committed


def test_imports_resolve_to_pinned_openzeppelin() -> None:
    units = build.standard_input(build.TARGETS[0])["sources"]
    assert "@openzeppelin/contracts/token/ERC1155/extensions/ERC1155Supply.sol" in units
    assert "@openzeppelin/contracts/token/common/ERC2981.sol" in units
    pkg = json.loads((build.node_modules() / "@openzeppelin" / "contracts" / "package.json").read_text())
    assert pkg["version"] == "5.7.0"
