"""Gas table: SongmintEditions next to the straightforward OpenZeppelin URIStorage baseline.

Both contracts are deployed on the same in-process chain (eth-tester, cancun rules) in the same
run, and each does the same work: deploy, create one new token, create 10 new tokens in one
batch, mint more editions of one and of 10 existing tokens. Token URIs are realistic:
``ipfs://<CIDv1 of a directory>/metadata/<64 hex>.json`` (139 characters), stored whole per
token by the baseline, built from a once-stored prefix by SongmintEditions. Prints the table and
the ratio; run ``python benchmarks/gas.py`` (``--json`` for machine-readable output).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from minting.chain import ChainClient, connect, load_artifact

PREFIX = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/metadata/"
TARGET_PER_TOKEN = 100_000


def send(client: ChainClient, address: str | None, abi: list[dict[str, Any]], fn: str, *args: Any,
         bytecode: str | None = None) -> Any:
    """Send one transaction (a call of ``fn`` or, with ``bytecode``, a deployment); return its receipt."""
    c = client.w3.eth.contract(address=address, abi=abi, bytecode=bytecode)
    data = c.constructor(*args).data_in_transaction if bytecode else c.encode_abi(fn, args=list(args))
    call = {"data": data} if bytecode else {"to": address, "data": data}
    prepared = client.tx.prepare(call)
    client.tx.broadcast(prepared.raw)
    receipt = client.tx.wait(prepared.tx_hash)
    assert receipt["status"] == 1, f"{fn} reverted"
    return receipt


def measure() -> dict[str, dict[str, int]]:
    """Gas used by each operation, for both contracts: ``{"songmint": {...}, "baseline": {...}}``."""
    client = connect("memory")
    me = client.address
    ids10 = list(range(100, 110))
    ours, base = load_artifact("SongmintEditions"), load_artifact("BaselineEditions")
    table: dict[str, dict[str, int]] = {"songmint": {}, "baseline": {}}

    r = send(client, None, ours.abi, "", "Songs", "SONG", "", "ipfs://bafyC/contract.json", me, me, 500,
             bytecode=ours.bytecode)
    a = r["contractAddress"]
    table["songmint"]["deploy"] = r["gasUsed"]
    table["songmint"]["register URI prefix (once per release)"] = send(client, a, ours.abi, "addUriPrefix",
                                                                        PREFIX)["gasUsed"]
    table["songmint"]["create 1 new token"] = send(client, a, ours.abi, "create", me, 1, 10, 100, 1,
                                                   b"")["gasUsed"]
    table["songmint"]["create 10 new tokens (batch)"] = send(client, a, ours.abi, "createBatch", me, ids10,
                                                             [10] * 10, [100] * 10, 1, b"")["gasUsed"]
    table["songmint"]["mint more of 1 token"] = send(client, a, ours.abi, "mint", me, 1, 5, b"")["gasUsed"]
    table["songmint"]["mint more of 10 tokens (batch)"] = send(client, a, ours.abi, "mintBatch", me, ids10,
                                                               [5] * 10, b"")["gasUsed"]

    r = send(client, None, base.abi, "", me, me, 500, bytecode=base.bytecode)
    b = r["contractAddress"]
    table["baseline"]["deploy"] = r["gasUsed"]
    table["baseline"]["register URI prefix (once per release)"] = 0
    uri = PREFIX + "{:064x}.json"
    table["baseline"]["create 1 new token"] = send(client, b, base.abi, "create", me, 1, 10, 100,
                                                   uri.format(1))["gasUsed"]
    table["baseline"]["create 10 new tokens (batch)"] = send(client, b, base.abi, "createBatch", me, ids10,
                                                             [10] * 10, [100] * 10,
                                                             [uri.format(i) for i in ids10])["gasUsed"]
    table["baseline"]["mint more of 1 token"] = send(client, b, base.abi, "mint", me, 1, 5)["gasUsed"]
    table["baseline"]["mint more of 10 tokens (batch)"] = send(client, b, base.abi, "mintBatch", me, ids10,
                                                               [5] * 10)["gasUsed"]
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description="Gas: SongmintEditions vs OpenZeppelin URIStorage")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    table = measure()
    per_token = table["songmint"]["create 10 new tokens (batch)"] / 10
    base_per_token = table["baseline"]["create 10 new tokens (batch)"] / 10
    if args.json:
        per = {"songmint": per_token, "baseline": base_per_token}
        print(json.dumps({"gas": table, "per_new_token_in_batch_of_10": per}, indent=2))
    else:
        print(f"{'operation':<42}{'SongmintEditions':>18}{'URIStorage baseline':>22}{'ratio':>8}")
        for op in table["songmint"]:
            s, bl = table["songmint"][op], table["baseline"][op]
            ratio = f"{s / bl:.2f}" if bl else "–"
            print(f"{op:<42}{s:>18,}{bl:>22,}{ratio:>8}")
        print(f"\nper new token in a batch of 10: {per_token:,.0f} gas (baseline {base_per_token:,.0f}, "
              f"{base_per_token / per_token:.2f}× more); target ≤ {TARGET_PER_TOKEN:,}: "
              f"{'met' if per_token <= TARGET_PER_TOKEN else 'MISSED'}")
    return 0 if per_token <= TARGET_PER_TOKEN else 1


if __name__ == "__main__":
    sys.exit(main())
