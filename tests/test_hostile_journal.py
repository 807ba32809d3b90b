"""A kill right after the URI-prefix transaction is sent (or its receipt is read) leaves its
journal row open; the resumed run finds the prefix registered and must still settle the row."""

from __future__ import annotations

from pathlib import Path

import pytest

from minting.chain import ChainClient, Journal, TokenSpec, connect


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after the checkpoint runs."""


@pytest.mark.parametrize("point", ["sent", "receipt"])
def test_uri_prefix_row_is_settled_after_a_kill(tmp_path: Path, point: str) -> None:
    client = connect("memory")
    contract = client.deploy(name="J", symbol="J").address  # type: ignore[union-attr]
    calls: list[str] = []

    def kill_at_prefix(name: str) -> None:
        calls.append(name)
        if name == point and len([c for c in calls if c == point]) == 1:
            raise Killed  # the first transaction here is the URI prefix

    crashing = ChainClient(client.network, client.w3, client.signer, checkpoint=kill_at_prefix)
    tokens = [TokenSpec(id=7, amount=1, cap=2)]
    prefix = "ipfs://bafyprefix/metadata/"
    with Journal(tmp_path / "j.sqlite") as j:
        with pytest.raises(Killed):
            crashing.create_and_mint(contract, tokens, uri_prefix=prefix, journal=j, op="rel")
        (row,) = j.entries("rel:prefix")
        assert row.status == "sent"  # mined on chain (eth-tester mines at once), journal open
        client.create_and_mint(contract, tokens, uri_prefix=prefix, journal=j, op="rel")
        assert [e.status for e in j.entries("rel:prefix")] == ["mined"]
        assert j.open_entries() == []
        assert [e.kind for e in j.entries("rel", status="mined")] == ["create"]
    assert client.token_info(contract, 7)["uri"] == prefix + f"{7:064x}.json"


def test_open_entries_are_per_chain(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        a = j.intend(op="a", kind="mint", chain_id=1, contract=None, sender="0x1", payload={})
        j.intend(op="b", kind="mint", chain_id=2, contract=None, sender="0x1", payload={})
        j.dropped(a, note="x")
        j.intend(op="c", kind="mint", chain_id=1, contract=None, sender="0x1", payload={})
        assert [e.op for e in j.open_entries()] == ["b", "c"]
        assert [e.op for e in j.open_entries(chain_id=1)] == ["c"]
