"""Compile the Solidity contracts with the pinned solc-js and write the committed artifacts.

Run ``python -m minting.contracts.build`` (``make contracts``). For each contract it builds a
solc standard-JSON input from the source and every file it imports (OpenZeppelin from the npm
tools), compiles it in-process with solc-js under node, and writes ``<Name>.json`` next to the
source: ABI, creation and runtime bytecode, the compiler version, the settings and a sha256 of
the exact compiler input (``sourceHash``). Python users load the artifact and need no node.

``python -m minting.contracts.build --check`` recompiles and fails when a committed artifact
differs from what the sources produce.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minting.errors import MintingError
from minting.files import atomic_write
from minting.node_tools import SETUP_HINT, node_modules

HERE = Path(__file__).resolve().parent
SOLC_VERSION = "0.8.37"
SETTINGS: dict[str, Any] = {
    "evmVersion": "cancun",  # solc 0.8.37 defaults to osaka, which most chains do not run yet
    "optimizer": {"enabled": True, "runs": 200},
    "metadata": {"bytecodeHash": "ipfs"},
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}


@dataclass(frozen=True)
class Target:
    """One contract to build: its source unit name (relative to this folder) and contract name."""

    unit: str
    name: str

    @property
    def artifact(self) -> Path:
        return HERE / Path(self.unit).with_name(f"{self.name}.json")


TARGETS = (
    Target("SongmintEditions.sol", "SongmintEditions"),
    Target("SongmintSplit.sol", "SongmintSplit"),
    Target("SongmintFactory.sol", "SongmintFactory"),
    Target("baseline/BaselineEditions.sol", "BaselineEditions"),
    Target("baseline/SongmintEditionsV1.sol", "SongmintEditionsV1"),
)

_IMPORT = re.compile(r'^\s*import\s+(?:[^;"]*?from\s+)?"([^"]+)"\s*;', re.MULTILINE)


def _resolve(unit: str, imported: str) -> str:
    if imported.startswith("."):
        parts: list[str] = unit.split("/")[:-1]
        for piece in imported.split("/"):
            if piece == "..":
                parts.pop()
            elif piece != ".":
                parts.append(piece)
        return "/".join(parts)
    return imported


def _read_unit(unit: str) -> str:
    path = node_modules() / unit if unit.startswith("@") else HERE / unit
    if not path.is_file():
        hint = f"; {SETUP_HINT}" if unit.startswith("@") else ""
        raise MintingError(f"Solidity source {unit} not found at {path}{hint}")
    return path.read_text(encoding="utf-8")


def standard_input(target: Target) -> dict[str, Any]:
    """The solc standard-JSON input for ``target``: its source and all it imports, transitively."""
    sources: dict[str, dict[str, str]] = {}
    todo = [target.unit]
    while todo:
        unit = todo.pop()
        if unit in sources:
            continue
        text = _read_unit(unit)
        sources[unit] = {"content": text}
        todo.extend(_resolve(unit, imp) for imp in _IMPORT.findall(text))
    return {"language": "Solidity", "sources": dict(sorted(sources.items())), "settings": SETTINGS}


def source_hash(std_input: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the compiler input (sources + settings)."""
    canon = json.dumps(std_input, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canon.encode()).hexdigest()


_NODE_COMPILE = """
const solc = require(process.argv[1]);
let data = '';
process.stdin.on('data', c => data += c);
process.stdin.on('end', () => {
  const out = solc.compile(data);
  process.stdout.write(JSON.stringify({version: solc.version(), output: JSON.parse(out)}));
});
"""


def compile_input(std_input: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Run solc-js on ``std_input``; return (full compiler version, standard-JSON output)."""
    solc = node_modules() / "solc"
    if not (solc / "soljson.js").exists():
        raise MintingError(f"solc-js not found in {solc}; {SETUP_HINT}")
    try:
        proc = subprocess.run(
            ["node", "-e", _NODE_COMPILE, str(solc / "index.js")],
            input=json.dumps(std_input),
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise MintingError("node not found: install Node.js 20+ to compile the contracts") from exc
    if proc.returncode != 0:
        raise MintingError(f"solc-js failed: {proc.stderr.strip()[-500:]}")
    result = json.loads(proc.stdout)
    version: str = result["version"]
    if not version.startswith(SOLC_VERSION + "+"):
        raise MintingError(f"solc-js {version} found, {SOLC_VERSION} pinned; {SETUP_HINT}")
    errors = [e for e in result["output"].get("errors", []) if e["severity"] == "error"]
    if errors:
        raise MintingError("Solidity compile error: " + errors[0]["formattedMessage"].strip())
    return version, result["output"]


def build(target: Target) -> dict[str, Any]:
    """Compile ``target`` and return its artifact (not written)."""
    std_input = standard_input(target)
    version, output = compile_input(std_input)
    contract = output["contracts"][target.unit][target.name]
    return {
        "contractName": target.name,
        "sourceUnit": f"minting/contracts/{target.unit}",
        "abi": contract["abi"],
        "bytecode": "0x" + contract["evm"]["bytecode"]["object"],
        "deployedBytecode": "0x" + contract["evm"]["deployedBytecode"]["object"],
        "compiler": {"name": "solc-js", "version": version},
        "settings": {k: v for k, v in SETTINGS.items() if k != "outputSelection"},
        "sourceHash": source_hash(std_input),
        "sources": {
            unit: hashlib.sha256(s["content"].encode()).hexdigest()
            for unit, s in std_input["sources"].items()
        },
    }


def write_artifact(artifact: dict[str, Any], path: Path) -> None:
    """Write ``artifact`` as sorted, indented JSON via a temporary file and a rename."""
    text = json.dumps(artifact, indent=1, sort_keys=True) + "\n"
    atomic_write(path, text.encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a committed artifact is stale")
    args = parser.parse_args(argv)
    stale = []
    for target in TARGETS:
        artifact = build(target)
        if args.check:
            committed = json.loads(target.artifact.read_text()) if target.artifact.exists() else None
            if committed != artifact:
                stale.append(target.artifact.name)
            continue
        write_artifact(artifact, target.artifact)
        size = (len(artifact["deployedBytecode"]) - 2) // 2
        print(
            f"{target.artifact.relative_to(HERE.parents[1])}: {size} bytes runtime, "
            f"{artifact['compiler']['version']}, sourceHash {artifact['sourceHash'][:12]}"
        )
    if stale:
        print("stale artifacts: " + ", ".join(stale) + " (run `make contracts`)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
