"""Run the Solidity tests (fuzz + invariants) with forge from npm, offline, over the solc-js shim."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from minting.node_tools import find_bin

CONTRACTS = Path(__file__).resolve().parents[1] / "minting" / "contracts"


@pytest.mark.slow
@pytest.mark.timeout(1200)  # 10 000 runs of every fuzz test and invariant: ~4 min on 2 idle cores
def test_forge_fuzz_and_invariant_suites_pass(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(find_bin("forge")), "test", "--offline", "--out", str(tmp_path / "out"),
         "--cache-path", str(tmp_path / "cache")],
        cwd=CONTRACTS, capture_output=True, text=True, timeout=1100, check=False)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    summary = re.search(r"(\d+) tests passed, (\d+) failed, (\d+) skipped", log)
    assert summary, log[-2000:]
    passed, failed, skipped = map(int, summary.groups())
    assert (failed, skipped) == (0, 0) and passed >= 36
    for name in ("testFuzz_capIsNeverExceeded", "testFuzz_onlyMintersMint", "testFuzz_royaltyMaths",
                 "testFuzz_uriHex", "invariant_supplyWithinCap", "invariant_onlyMintersMint",
                 "test_allowlistPresale", "test_lazyTokensAreCreatedByTheFirstPurchase",
                 "test_factoryPredictsAndInitialisesOnce", "test_erc4906", "test_splitWithdrawals"):
        assert re.search(rf"\[PASS\] {name}\(", log), name
    # every fuzz test and every invariant at >= 10 000 runs (the default profile in foundry.toml)
    for name in ("testFuzz_onlyAdminsChangeSales", "testFuzz_splitPaysInProportion",
                 "testFuzz_capIsNeverExceeded"):
        runs = re.search(rf"\[PASS\] {name}\([^)]*\) \(runs: (\d+)", log)
        assert runs and int(runs.group(1)) >= 10_000, name
    for name in ("invariant_supplyNeverExceedsTheCap",
                 "invariant_fundsInArePriceTimesQuantityAndSplitInProportion",
                 "invariant_onlyAdminsChangeASale", "invariant_supplyWithinCap"):
        runs = re.search(rf"\[PASS\] {name}\(\) \(runs: (\d+), calls: ([1-9]\d*)", log)
        assert runs and int(runs.group(1)) >= 10_000, name
