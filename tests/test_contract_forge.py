"""Run the Solidity tests (fuzz + invariants) with forge from npm, offline, over the solc-js shim."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from minting.node_tools import find_bin

CONTRACTS = Path(__file__).resolve().parents[1] / "minting" / "contracts"


def test_forge_fuzz_and_invariant_suites_pass(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(find_bin("forge")), "test", "--offline", "--out", str(tmp_path / "out"),
         "--cache-path", str(tmp_path / "cache")],
        cwd=CONTRACTS, capture_output=True, text=True, timeout=600, check=False)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    summary = re.search(r"(\d+) tests passed, (\d+) failed, (\d+) skipped", log)
    assert summary, log[-2000:]
    passed, failed, skipped = map(int, summary.groups())
    assert (failed, skipped) == (0, 0) and passed >= 15
    for name in ("testFuzz_capIsNeverExceeded", "testFuzz_onlyMintersMint", "testFuzz_royaltyMaths",
                 "testFuzz_uriHex", "invariant_supplyWithinCap", "invariant_onlyMintersMint"):
        assert re.search(rf"\[PASS\] {name}\(", log), name
    assert re.search(r"invariant_supplyWithinCap\(\) \(runs: \d+, calls: [1-9]\d*", log)
