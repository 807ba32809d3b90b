"""`songmint verify` checks what the chain says against every published claim: the royalty
(royaltyInfo against collection.json's fee_recipient / seller_fee_basis_points), the contract's
name, symbol and contractURI, each token's uri, cap and supply."""

from __future__ import annotations

from pathlib import Path

import pytest

import minting.chain
from minting.chain.client import memory_web3
from songmint.release import Options, run_release
from songmint.verify import verify_release
from tests.release_fixture import make_spec

OTHER = "0x" + "12" * 20
pytestmark = pytest.mark.slow  # one whole release on the in-memory chain (~5 s)


@pytest.fixture(scope="module")
def _release(tmp_path_factory: pytest.TempPathFactory, release_cache: Path):  # type: ignore[no-untyped-def]
    """A release minted on an in-memory chain that stays alive for verify (one w3 for both)."""
    w3 = memory_web3()
    real = minting.chain.connect
    mp = pytest.MonkeyPatch()
    shared = lambda *a, **k: real(*a, **{**k, "w3": w3})  # noqa: E731
    mp.setattr(minting.chain, "connect", shared)
    import songmint.release.chain as release_chain  # the release's chain stage imports connect by name

    mp.setattr(release_chain, "connect", shared)
    tmp = tmp_path_factory.mktemp("hostile-verify")
    try:
        manifest = run_release(make_spec(tmp / "spec"), Options(out=tmp / "out", cover_size=256,
                                                                build_preview=False))
    finally:
        mp.undo()
    client = real("memory", w3=w3)
    client.contract = manifest["chain"]["contract"]
    return tmp / "out", manifest, client


@pytest.fixture
def minted(_release):  # type: ignore[no-untyped-def]
    """The release, with every test's chain changes reverted after it."""
    client = _release[2]
    snap = client.w3.testing.snapshot()
    yield _release
    client.w3.testing.revert(snap)


def _admin(client, method: str, *args) -> None:  # type: ignore[no-untyped-def]
    """Send one admin call to the release's contract, as its deployer."""
    c = client.editions(client.contract)
    prepared = client.tx.prepare({"to": c.address, "data": c.encode_abi(method, args=list(args))})
    client.tx.broadcast(prepared.raw)
    assert client.tx.wait(prepared.tx_hash)["status"] == 1


def _rows(report, check: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return [r for r in report.rows if r["check"] == check]


def test_a_clean_release_matches_the_chain(minted) -> None:  # type: ignore[no-untyped-def]
    out, manifest, client = minted
    report = verify_release(out, rerender=False, client=client)
    assert not report.mismatches, report.mismatches
    assert [r["status"] for r in _rows(report, "royalty")] == ["ok"]
    assert len(_rows(report, "on chain")) == len(manifest["tokens"])
    assert "250 bps" in _rows(report, "royalty")[0]["detail"]


def test_royalty_changed_on_chain_is_a_mismatch(minted) -> None:  # type: ignore[no-untyped-def]
    out, _manifest, client = minted
    _admin(client, "setDefaultRoyalty", OTHER, 250)
    report = verify_release(out, rerender=False, client=client)
    bad = _rows(report, "royalty")
    assert bad and bad[0]["status"] == "MISMATCH" and "fee_recipient" in bad[0]["detail"]


def test_per_token_royalty_override_is_a_mismatch(minted) -> None:  # type: ignore[no-untyped-def]
    out, manifest, client = minted
    _admin(client, "setTokenRoyalty", manifest["tokens"][0]["id"], OTHER, 9000)
    report = verify_release(out, rerender=False, client=client)
    assert any("royaltyInfo 9000 bps" in r["detail"] for r in report.mismatches)


def test_contract_uri_changed_on_chain_is_a_mismatch(minted) -> None:  # type: ignore[no-untyped-def]
    out, _manifest, client = minted
    _admin(client, "setContractURI", "ipfs://x")
    report = verify_release(out, rerender=False, client=client)
    assert any(r["check"] == "contract" and "contract_uri" in r["detail"] for r in report.mismatches)
