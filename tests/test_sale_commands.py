"""`songmint sale set|info|pause`, `songmint splits create|info|withdraw`, `songmint freeze`: on the
in-process memory chain (errors, dry runs) and against a real anvil (the whole flow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from eth_account import Account
from eth_utils import keccak

from minting.chain import Anvil, ChainClient, Signer, TokenSpec, connect, dev_signer
from songmint.cli import main
from tests.chain_fixtures import anvil  # noqa: F401 - fixture

PAYEE_A = Account.from_key(keccak(text="cli payee a")).address
PAYEE_B = Account.from_key(keccak(text="cli payee b")).address


def _run(runner: CliRunner, tmp_path: Path, *args: str) -> Result:
    env = {"SONGMINT_DATA_DIR": str(tmp_path), "SONGMINT_PRIVATE_KEY": None, "SONGMINT_NETWORK": None}
    return runner.invoke(main, list(args), env=env)


def test_memory_dry_runs_and_clear_errors(runner: CliRunner, tmp_path: Path) -> None:
    split = ["splits", "create", "-n", "memory", "--payee", f"{PAYEE_A}:70%", "--payee"]
    dry = _run(runner, tmp_path, *split, f"{PAYEE_B}:30%", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "1 transaction(s)" in dry.stdout and "split" in dry.stdout and "ETH" in dry.stdout
    bad = _run(runner, tmp_path, *split, f"{PAYEE_B}:20%")
    assert bad.exit_code == 2 and "sum to 90 %, not 100 %" in bad.output
    price = _run(
        runner, tmp_path, "sale", "set", "0x" + "11" * 20, "-n", "memory", "-t", "1", "--price", "1 dollar"
    )
    assert price.exit_code == 2 and "write an amount and a unit" in price.output
    nothing = _run(runner, tmp_path, "sale", "info", "0x" + "11" * 20, "-n", "memory", "-t", "1")
    assert nothing.exit_code == 2 and "no contract at" in nothing.output
    lst = tmp_path / "list.csv"
    lst.write_text(f"address,max\n{PAYEE_A},2\n{PAYEE_A},1\n")
    dup = _run(
        runner,
        tmp_path,
        "sale",
        "set",
        "0x" + "11" * 20,
        "-n",
        "memory",
        "-t",
        "1",
        "--price",
        "0 wei",
        "--allowlist",
        str(lst),
    )
    assert dup.exit_code == 2 and "list.csv:3" in dup.output and "listed twice" in dup.output


@pytest.mark.anvil
def test_sale_flow_against_anvil(runner: CliRunner, tmp_path: Path, anvil: Anvil) -> None:  # noqa: F811
    net = ["-n", anvil.url, "--chain-id", "31337", "--journal", str(tmp_path / "j.sqlite")]
    label = connect(anvil.url, chain_id=31337, signer=dev_signer())
    split_out = _run(
        runner, tmp_path, "splits", "create", *net, "--payee", f"{PAYEE_A}:7000", "--payee", f"{PAYEE_B}:3000"
    )
    assert split_out.exit_code == 0, split_out.output
    split = split_out.stdout.strip().splitlines()[-1]
    dep = label.deploy(name="CLI", symbol="CLI", funds_recipient=split)
    address = dep.address  # type: ignore[union-attr]
    label.create_and_mint(address, [TokenSpec(id=i, amount=0, cap=5) for i in (1, 2)])

    buyer = Account.from_key(keccak(text="cli buyer"))
    p = label.tx.prepare({"to": buyer.address, "data": "0x", "value": 10**19})
    label.tx.broadcast(p.raw)
    label.tx.wait(p.tx_hash)
    lst = tmp_path / "list.csv"
    lst.write_text(f"address,max,price\n{buyer.address},2,0.001 ether\n{PAYEE_B},1\n")
    proofs = tmp_path / "proofs.json"
    args = [
        "sale",
        "set",
        address,
        *net,
        "-t",
        "1",
        "-t",
        "2",
        "--price",
        "0.01 ether",
        "--per-wallet",
        "3",
        "--allowlist",
        str(lst),
        "--proofs-out",
        str(proofs),
    ]
    dry = _run(runner, tmp_path, *args, "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    plan = json.loads(dry.stdout)
    assert (
        plan["dry_run"]
        and [t["kind"] for t in plan["txs"]] == ["sale", "sale"]
        and plan["expected_cost_eth"] > 0
    )
    first = _run(runner, tmp_path, *args, "--json")
    assert first.exit_code == 0, first.output
    assert len(json.loads(first.stdout)["sent"]) == 2
    again = _run(runner, tmp_path, *args)
    assert again.exit_code == 0 and "0 transaction(s) sent (already done)" in again.stdout
    written = json.loads(proofs.read_text())
    info = json.loads(_run(runner, tmp_path, "sale", "info", address, *net[:4], "-t", "1", "--json").stdout)
    assert info["sales"][0]["allowlist_root"] == written["root"] and info["sales"][0]["per_wallet"] == 3

    collector = ChainClient(label.network, label.w3, Signer(buyer, source="test"))
    collector.purchase(address, 1, 2, allowlisted=written["entries"][buyer.address])
    collector.purchase(address, 2, 1)
    paused = _run(runner, tmp_path, "sale", "pause", address, *net, "-t", "2")
    assert paused.exit_code == 0, paused.output
    assert label.sale_info(address, 2)["paused"] is True
    table = _run(runner, tmp_path, "sale", "info", address, *net[:4], "-t", "1", "-t", "2")
    assert "paused" in table.stdout and "0.01" in table.stdout

    paid = 2 * 10**15 + 10**16
    before = label.w3.eth.get_balance(PAYEE_A)
    out = _run(runner, tmp_path, "splits", "withdraw", split, *net, "--payee", PAYEE_A)
    assert out.exit_code == 0, out.output
    assert label.w3.eth.get_balance(PAYEE_A) - before == paid * 7 // 10
    shares = json.loads(_run(runner, tmp_path, "splits", "info", split, *net[:4], "--json").stdout)
    assert [p["releasable"] for p in shares["payees"]] == [0, paid * 3 // 10]

    frozen = _run(runner, tmp_path, "freeze", address, *net, "-t", "1")
    assert frozen.exit_code == 0 and label.token_info(address, 1)["frozen"] is True
