"""Gas table: SongmintEditions (clone, sales, gasless creation) next to today's contract and the
straightforward OpenZeppelin URIStorage baseline.

Everything runs on the same in-process chain (eth-tester, cancun rules) in the same run:

1. Creating tokens up front — SongmintEditions (a factory clone), SongmintEditionsV1 (the contract as
   it was before sales: full deploy) and the URIStorage baseline each deploy, create one new token,
   create 10 new tokens in one batch, mint more of one and of 10 existing tokens. Token URIs are
   realistic: ``ipfs://<CIDv1 of a directory>/metadata/<64 hex>.json`` (139 characters).
2. Releases and sales — clone deploy vs full deploy; the label's up-front gas per song token with
   gasless creation (one ``registerTokens`` for a 10-track release) vs ``createBatch`` of 10 today;
   a collector's first purchase of a lazily registered token vs today's create-and-mint of one
   token; a public purchase and an allowlisted purchase vs today's mint of an existing token.

Prints both tables with ratios and the targets of issue 20; run ``python benchmarks/gas.py``
(``--json`` for machine-readable output).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_account import Account
from eth_utils import keccak

from minting.chain import ChainClient, Signer, connect, load_artifact
from minting.chain.merkle import MerkleTree
from minting.chain.sales import AllowEntry, Allowlist, SaleSpec, lazy_leaf

PREFIX = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/metadata/"
CONTRACT_URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/contract.json"
TARGET_PER_TOKEN = 100_000  # createBatch of 10, per token
TARGET_CLONE = 400_000  # a release deploy
TARGET_LAZY_PER_TOKEN = 10_000  # the label's up-front gas per song, 10-track release
TARGET_FIRST_PURCHASE = 1.5  # × today's create-and-mint of one token
PRICE = 10**16  # 0.01 ether


def send(
    client: ChainClient,
    address: str | None,
    abi: list[dict[str, Any]],
    fn: str,
    *args: Any,
    bytecode: str | None = None,
    value: int = 0,
) -> Any:
    """Send one transaction (a call of ``fn`` or, with ``bytecode``, a deployment); return its receipt."""
    c = client.w3.eth.contract(address=address, abi=abi, bytecode=bytecode)
    data = c.constructor(*args).data_in_transaction if bytecode else c.encode_abi(fn, args=list(args))
    call: dict[str, Any] = {"data": data} if bytecode else {"to": address, "data": data}
    if value:
        call["value"] = value
    prepared = client.tx.prepare(call)
    client.tx.broadcast(prepared.raw)
    receipt = client.tx.wait(prepared.tx_hash)
    assert receipt["status"] == 1, f"{fn} reverted"
    return receipt


def _collector(client: ChainClient, key: str) -> ChainClient:
    """Another account on the same chain, funded by the first."""
    acct = Account.from_key(key)
    send_value = {"to": acct.address, "data": "0x", "value": 10**20}
    prepared = client.tx.prepare(send_value)
    client.tx.broadcast(prepared.raw)
    client.tx.wait(prepared.tx_hash)
    return ChainClient(client.network, client.w3, Signer(acct, source="bench"))


def measure_editions(client: ChainClient) -> dict[str, dict[str, int]]:
    """Up-front token creation: ``{"songmint": …, "today": …, "baseline": …}`` (gas per operation)."""
    me = client.address
    ids10 = list(range(100, 110))
    ours, v1, base = (
        load_artifact(n) for n in ("SongmintEditions", "SongmintEditionsV1", "BaselineEditions")
    )
    table: dict[str, dict[str, int]] = {"songmint": {}, "today": {}, "baseline": {}}
    before = client.w3.eth.block_number
    dep = client.deploy(
        name="Songs", symbol="SONG", contract_uri=CONTRACT_URI, royalty_bps=500, salt=b"\1" * 32
    )
    a = dep.address  # type: ignore[union-attr]
    table["songmint"]["deploy"] = client.w3.eth.get_transaction_receipt(dep.tx_hash)["gasUsed"]  # type: ignore[union-attr]
    assert client.w3.eth.block_number - before <= 2
    r = send(client, None, v1.abi, "", "Songs", "SONG", "", CONTRACT_URI, me, me, 500, bytecode=v1.bytecode)
    t = r["contractAddress"]
    table["today"]["deploy"] = r["gasUsed"]
    r = send(client, None, base.abi, "", me, me, 500, bytecode=base.bytecode)
    b = r["contractAddress"]
    table["baseline"]["deploy"] = r["gasUsed"]
    for key, addr, art in (("songmint", a, ours), ("today", t, v1)):
        row = table[key]
        row["register URI prefix (once per release)"] = send(client, addr, art.abi, "addUriPrefix", PREFIX)[
            "gasUsed"
        ]
        row["create 1 new token"] = send(client, addr, art.abi, "create", me, 1, 10, 100, 1, b"")["gasUsed"]
        row["create 10 new tokens (batch)"] = send(
            client, addr, art.abi, "createBatch", me, ids10, [10] * 10, [100] * 10, 1, b""
        )["gasUsed"]
        row["mint more of 1 token"] = send(client, addr, art.abi, "mint", me, 1, 5, b"")["gasUsed"]
        row["mint more of 10 tokens (batch)"] = send(
            client, addr, art.abi, "mintBatch", me, ids10, [5] * 10, b""
        )["gasUsed"]
    row = table["baseline"]
    row["register URI prefix (once per release)"] = 0
    uri = PREFIX + "{:064x}.json"
    row["create 1 new token"] = send(client, b, base.abi, "create", me, 1, 10, 100, uri.format(1))["gasUsed"]
    row["create 10 new tokens (batch)"] = send(
        client, b, base.abi, "createBatch", me, ids10, [10] * 10, [100] * 10, [uri.format(i) for i in ids10]
    )["gasUsed"]
    row["mint more of 1 token"] = send(client, b, base.abi, "mint", me, 1, 5)["gasUsed"]
    row["mint more of 10 tokens (batch)"] = send(client, b, base.abi, "mintBatch", me, ids10, [5] * 10)[
        "gasUsed"
    ]
    return table


def measure_sales(
    client: ChainClient, editions: dict[str, dict[str, int]]
) -> list[tuple[str, int, int, str]]:
    """Rows (what, songmint gas, today's gas, today's operation) for releases and sales."""
    ours = load_artifact("SongmintEditions")
    alice = _collector(client, "0x" + keccak(text="bench alice").hex())
    bob = _collector(client, "0x" + keccak(text="bench bob").hex())
    dep = client.deploy(
        name="Sold", symbol="SOLD", contract_uri=CONTRACT_URI, royalty_bps=500, salt=b"\2" * 32
    )
    addr = dep.address  # type: ignore[union-attr]
    split = client.create_split([alice.address, bob.address], [7000, 3000])
    rows = [("deploy a release", editions["songmint"]["deploy"], editions["today"]["deploy"], "full deploy")]
    send(client, addr, ours.abi, "setFundsRecipient", split)
    # gasless creation: one registerTokens for a 10-track release
    prefix = client.add_uri_prefix(addr, PREFIX)
    sales = [SaleSpec(price=PRICE, per_wallet=0 if i % 2 == 0 else 5) for i in range(10)]
    tracks = [(1000 + i, 100) for i in range(10)]
    leaves = [lazy_leaf(i, cap, prefix, s) for (i, cap), s in zip(tracks, sales, strict=True)]
    tree = MerkleTree.build(leaves)
    reg = send(client, addr, ours.abi, "registerTokens", tree.root, True)["gasUsed"]
    rows.append(
        (
            "up-front gas per song, 10-track release",
            reg // 10,
            editions["today"]["create 10 new tokens (batch)"] // 10,
            "createBatch of 10, per token",
        )
    )
    for k, what in ((0, "first purchase (creates the token)"), (1, "first purchase, wallet limit")):
        lazy = (tracks[k][0], tracks[k][1], prefix, sales[k].config())
        first = send(alice, addr, ours.abi, "purchaseLazy", lazy, tree.proof(k), 1, value=PRICE)["gasUsed"]
        rows.append((what, first, editions["today"]["create 1 new token"], "create + mint 1 new token"))
    # a public purchase of an existing token, and an allowlisted one
    alist = Allowlist((AllowEntry(bob.address, 3, PRICE // 2), AllowEntry(alice.address, 1, 0)))
    client.create_and_mint(addr, [_token(7, 100)], uri_prefix=PREFIX)
    client.set_sales(addr, {7: SaleSpec(price=PRICE, per_wallet=5, allowlist=alist)})
    public = send(alice, addr, ours.abi, "purchase", 7, 1, value=PRICE)["gasUsed"]
    rows.append(
        (
            "public purchase of 1, wallet limit",
            public,
            editions["today"]["mint more of 1 token"],
            "label mints 1",
        )
    )
    proof = alist.proofs()[bob.address]
    allow = send(
        bob,
        addr,
        ours.abi,
        "purchaseAllowlisted",
        7,
        1,
        3,
        PRICE // 2,
        [bytes.fromhex(p[2:]) for p in proof["proof"]],
        value=PRICE // 2,
    )["gasUsed"]
    rows.append(
        ("allowlisted purchase of 1", allow, editions["today"]["mint more of 1 token"], "label mints 1")
    )
    withdraw = client.withdraw(split, [alice.address])
    rows.append(("payee withdraws from the split", withdraw[0].gas_used or 0, 0, "(no sales today)"))  # type: ignore[index, union-attr]
    return rows


def _token(i: int, cap: int) -> Any:
    from minting.chain import TokenSpec

    return TokenSpec(id=i, amount=0, cap=cap)


def measure() -> dict[str, Any]:
    client = connect("memory")
    client.ensure_factory()
    editions = measure_editions(client)
    return {"editions": editions, "sales": measure_sales(client, editions)}


def verdicts(result: dict[str, Any]) -> dict[str, tuple[float, float, bool]]:
    """Target name → (measured, target, met)."""
    ed = result["editions"]["songmint"]
    sales = {row[0]: row for row in result["sales"]}
    per_token = ed["create 10 new tokens (batch)"] / 10
    first = sales["first purchase (creates the token)"]
    return {
        "createBatch of 10, per token (gas)": (per_token, TARGET_PER_TOKEN, per_token <= TARGET_PER_TOKEN),
        "release deploy (gas)": (ed["deploy"], TARGET_CLONE, ed["deploy"] <= TARGET_CLONE),
        "up-front gas per song, gasless (gas)": (
            sales["up-front gas per song, 10-track release"][1],
            TARGET_LAZY_PER_TOKEN,
            sales["up-front gas per song, 10-track release"][1] <= TARGET_LAZY_PER_TOKEN,
        ),
        "first purchase / today's create-and-mint (×)": (
            first[1] / first[2],
            TARGET_FIRST_PURCHASE,
            first[1] / first[2] <= TARGET_FIRST_PURCHASE,
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Gas: SongmintEditions vs today's contract and URIStorage")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure()
    checks = verdicts(result)
    if args.json:
        print(
            json.dumps(
                {
                    **result,
                    "targets": {
                        k: {"measured": m, "target": t, "met": ok} for k, (m, t, ok) in checks.items()
                    },
                },
                indent=2,
            )
        )
    else:
        ed = result["editions"]
        print(
            f"{'operation':<42}{'SongmintEditions':>18}{'today (V1)':>12}{'URIStorage':>12}{'vs today':>10}"
        )
        for op in ed["songmint"]:
            s, t, bl = ed["songmint"][op], ed["today"][op], ed["baseline"][op]
            print(f"{op:<42}{s:>18,}{t:>12,}{bl:>12,}{(f'{s / t:.2f}' if t else '–'):>10}")
        print(f"\n{'releases and sales':<42}{'songmint':>10}{'today':>12}{'ratio':>8}  today's operation")
        for what, s, t, today in result["sales"]:
            print(f"{what:<42}{s:>10,}{t:>12,}{(f'{s / t:.2f}' if t else '–'):>8}  {today}")
        print()
        for name, (m, t, ok) in checks.items():
            print(f"target {name}: {m:,.2f} ≤ {t:,}: {'met' if ok else 'MISSED'}")
    return 0 if all(ok for _, _, ok in checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
