"""Sales, allowlists, splits, freeze and gasless creation through the chain client (memory chain)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak

from minting.chain import ChainClient, ChainError, ContractRevert, Journal, Plan, Signer, TokenSpec, connect
from minting.chain.merkle import MerkleTree, verify
from minting.chain.sales import Allowlist, SaleSpec, lazy_leaf, parse_price, parse_time

PRICE = parse_price("0.01 ether")


def _account(client: ChainClient, name: str) -> ChainClient:
    acct = Account.from_key(keccak(text=name))
    p = client.tx.prepare({"to": acct.address, "data": "0x", "value": 10**20})
    client.tx.broadcast(p.raw)
    client.tx.wait(p.tx_hash)
    return ChainClient(client.network, client.w3, Signer(acct, source="test"))


@pytest.fixture(scope="module")
def world() -> dict:
    label = connect("memory")
    alice, bob, carol = (_account(label, n) for n in ("alice", "bob", "carol"))
    payee_a, payee_b = (Account.from_key(keccak(text=n)).address for n in ("payee a", "payee b"))
    split = label.create_split([payee_a, payee_b], [7_000, 3_000])
    dep = label.deploy(
        name="Sold", symbol="SOLD", royalty_bps=500, royalty_receiver=split, funds_recipient=split
    )
    assert not isinstance(dep, Plan) and isinstance(split, str)
    label.create_and_mint(dep.address, [TokenSpec(id=i, amount=0, cap=10) for i in (1, 2, 3)])
    return {
        "label": label,
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "address": dep.address,
        "split": split,
        "payees": (payee_a, payee_b),
    }


def test_prices_times_and_allowlist_files() -> None:
    assert parse_price("0.01 ether") == 10**16 and parse_price("5 gwei") == 5 * 10**9 and parse_price(7) == 7
    with pytest.raises(ChainError, match="whole number of wei"):
        parse_price("0.01")  # a bare number is wei
    for bad in ("1 dollar", "1e-30 ether", "-1 wei", "many ether"):
        with pytest.raises(ChainError, match="price"):
            parse_price(bad)
    assert parse_time("2026-12-24T18:00:00Z") == parse_time("2026-12-24T18:00:00") == 1798135200
    with pytest.raises(ChainError, match="ISO 8601"):
        parse_time("Christmas")
    with pytest.raises(ChainError, match=r"list.csv:3: .* is listed twice"):
        Allowlist.parse_csv(
            "address,max\n" + f"{'0x' + 'ab' * 20},1\n" * 2, default_price=1, source="list.csv"
        )
    with pytest.raises(ChainError, match=r"list.csv:1: max"):
        Allowlist.parse_csv(f"{'0x' + 'ab' * 20},0\n", default_price=1, source="list.csv")


def test_merkle_proofs_match_openzeppelin_on_odd_trees() -> None:
    leaves = [keccak(bytes([i])) for i in range(7)]
    tree = MerkleTree.build(leaves)
    for i, leaf in enumerate(leaves):
        assert verify(tree.proof(i), tree.root, leaf)
    assert not verify(tree.proof(0), tree.root, leaves[1])


def test_sales_purchases_reverts_and_split_shares(world: dict, tmp_path: Path) -> None:
    label, alice, bob, carol = world["label"], world["alice"], world["bob"], world["carol"]
    address = world["address"]
    alist = Allowlist.parse_csv(
        f"address,max,price\n{bob.address},2,0.004 ether\n{carol.address},1\n", default_price=PRICE
    )
    sales = {1: SaleSpec(price=PRICE, per_wallet=2, allowlist=alist), 2: SaleSpec(price=0)}
    plan = label.set_sales(address, sales, dry_run=True)
    assert (
        isinstance(plan, Plan) and [t.kind for t in plan.txs] == ["sale", "sale"] and "ETH" in plan.summary()
    )
    with Journal(tmp_path / "j.sqlite") as j:
        first = label.set_sales(address, sales, journal=j, op="sales")
        block = label.w3.eth.block_number
        again = label.set_sales(address, sales, journal=j, op="sales")  # idempotent: nothing to send
    assert len(first) == 2 and again == [] and label.w3.eth.block_number == block
    info = label.sale_info(address, 1)
    assert info["price_wei"] == str(PRICE) and info["per_wallet"] == 2 and info["left"] == 10
    assert info["allowlist_root"] == "0x" + alist.root.hex() and info["recipient"] == world["split"]

    alice.purchase(address, 1, 2)  # public
    proof = alist.proofs()[bob.address]
    bob.purchase(address, 1, 2, allowlisted=proof)  # allowlisted at 0.004
    with pytest.raises(ContractRevert, match="a wallet may buy 2 of token 1; this purchase would make 3"):
        alice.purchase(address, 1, 1)  # over the wallet limit
    with pytest.raises(ContractRevert, match="not on the allowlist"):
        carol.purchase(address, 1, 1, allowlisted=proof)  # someone else's proof
    with pytest.raises(ContractRevert, match="token 3 is not on sale"):
        carol.purchase(address, 3, 1)
    label.pause_sales(address, [1])
    with pytest.raises(ContractRevert, match="is paused") as paused:
        carol.purchase(address, 1, 1)
    assert paused.value.error == "SaleIsPaused"
    label.pause_sales(address, [1], paused=False)
    assert label.sale_info(address, 1, alice.address)["bought_public"] == 2

    paid = 2 * PRICE + 2 * parse_price("0.004 ether")
    split = label.split_info(world["split"])
    assert split["balance"] == paid
    assert [p["releasable"] for p in split["payees"]] == [paid * 7_000 // 10_000, paid * 3_000 // 10_000]
    before = [label.w3.eth.get_balance(p) for p in world["payees"]]
    label.withdraw(world["split"])
    after = [label.w3.eth.get_balance(p) for p in world["payees"]]
    assert [a - b for a, b in zip(after, before, strict=True)] == [paid * 7 // 10, paid * 3 // 10]
    assert label.withdraw(world["split"]) == []  # nothing owed: nothing sent
    assert label.contract_info(address)["royalty_receiver"] == world["split"]


def test_time_window_and_freeze(world: dict) -> None:
    label, alice, address = world["label"], world["alice"], world["address"]
    later = int(time.time()) + 86_400
    label.set_sales(address, {3: SaleSpec(price=1, start=later, end=later + 10)})
    with pytest.raises(ContractRevert, match="the sale of token 3 opens at"):
        alice.purchase(address, 3, 1)
    with pytest.raises(ChainError, match="must end after it starts"):
        label.set_sales(address, {3: SaleSpec(price=1, start=later, end=later)})
    plan = label.freeze(address, [2, 3], dry_run=True)
    assert isinstance(plan, Plan) and len(plan.txs) == 2
    label.freeze(address, [2, 3])
    assert label.token_info(address, 2)["frozen"] and label.freeze(address, [2, 3]) == []


def test_gasless_release_is_created_by_its_first_purchase(world: dict) -> None:
    label, carol, address = world["label"], world["carol"], world["address"]
    prefix = label.add_uri_prefix(address, "ipfs://bafyLAZY/metadata/")
    sale = SaleSpec(price=PRICE)
    tokens = [(9000 + i, 50) for i in range(10)]
    tree = MerkleTree.build([lazy_leaf(i, cap, prefix, sale) for i, cap in tokens])
    (rec,) = label.register_tokens(address, tree.root)  # type: ignore[misc]
    assert (rec.gas_used or 0) / 10 <= 10_000
    assert not label.token_info(address, 9003)["exists"]
    ed = label.editions(address)
    lazy = (9003, 50, prefix, sale.config())
    p = carol.tx.prepare(
        {"to": address, "value": PRICE, "data": ed.encode_abi("purchaseLazy", args=[lazy, tree.proof(3), 1])}
    )
    carol.tx.broadcast(p.raw)
    assert carol.tx.wait(p.tx_hash)["status"] == 1
    info = label.token_info(address, 9003)
    assert info["exists"] and info["supply"] == 1 and info["uri"].endswith(f"{9003:064x}.json")
    forged = (9004, 5000, prefix, sale.config())
    with pytest.raises(ContractRevert, match="not in a registered release"):
        carol.tx.estimate(
            {
                "to": address,
                "value": PRICE,
                "data": ed.encode_abi("purchaseLazy", args=[forged, tree.proof(4), 1]),
            }
        )
