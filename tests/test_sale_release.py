"""A release with sales, a split and an allowlist, against a real anvil: the spec's sale terms, a
SIGKILL during sale set-up that resumes without duplicate transactions, three collectors (public,
allowlisted, rejected over the wallet limit) and payees withdrawing exactly their shares."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak

from minting.chain import Anvil, ChainClient, ContractRevert, Journal, Signer, connect, dev_signer, free_port
from music.audio import save
from songmint.errors import SpecError
from songmint.release.sales import check_sales
from songmint.spec import load_spec
from tests import synth

pytestmark = pytest.mark.anvil
ROOT = Path(__file__).resolve().parents[1]
PAYEES = [Account.from_key(keccak(text=f"release payee {i}")).address for i in range(2)]
ALICE, BOB, CAROL = (Account.from_key(keccak(text=n)) for n in ("alice", "bob", "carol"))

SPEC = f"""\
[collection]
name = "Sold EP"
symbol = "SOLD"
royalty_bps = 500

[collection.splits]
"{PAYEES[0]}" = "75%"
"{PAYEES[1]}" = 25

[defaults]
artist = "Fixture"
editions = {{ cap = 20, initial = 0 }}

[defaults.sale]
price = "0.01 ether"
per_wallet = 2

[[tracks]]
title = "One"
file = "one.wav"

[[tracks]]
title = "Two"
file = "two.wav"
sale = {{ price = "0.02 ether", per_wallet = 1, allowlist = "list.csv", presale_start = "2020-01-01" }}

[[tracks]]
title = "Three"
file = "three.wav"
sale = {{ price = "0 wei", end = "2100-01-01T00:00:00Z" }}

[network]
name = "local"
"""


def _spec(folder: Path, text: str = SPEC) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(("one", "two", "three")):
        save(
            synth.mix(synth.drums(bpm=100 + 10 * i, bars=1), synth.chord((57, 60, 64), seconds=2.4)),
            folder / f"{name}.wav",
        )
    (folder / "list.csv").write_text(f"address,max,price\n{BOB.address},2,0.005 ether\n{CAROL.address},1\n")
    (folder / "spec.toml").write_text(text)
    return folder / "spec.toml"


def test_spec_errors_name_file_and_line(tmp_path: Path) -> None:
    spec = _spec(tmp_path / "s", SPEC.replace("= 25\n", "= 20\n"))
    with pytest.raises(SpecError, match=r"spec.toml:\d+: collection.splits: shares sum to 95 %, not 100 %"):
        load_spec(spec)
    spec = _spec(tmp_path / "p", SPEC.replace('price = "0.01 ether"', 'price = "0.01 dollar"'))
    with pytest.raises(SpecError, match=r"spec.toml:\d+: tracks\[0\].sale.price: price"):
        load_spec(spec)
    good = load_spec(_spec(tmp_path / "g"))
    assert good.collection.splits == ((PAYEES[0], 7500), (PAYEES[1], 2500))
    assert good.tracks[0].sale and good.tracks[0].sale.price == 10**16 and good.tracks[0].sale.per_wallet == 2
    assert (
        good.tracks[1].sale
        and good.tracks[1].sale.allowlist
        and good.tracks[1].sale.presale_start == 1577836800
    )


def _killed(spec: Path, out: Path, env: dict[str, str], fault: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "tests.release_helper", str(spec), str(out), "local", fault]
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


def _fund(label: ChainClient, who: Account) -> ChainClient:
    p = label.tx.prepare({"to": who.address, "data": "0x", "value": 10**19})
    label.tx.broadcast(p.raw)
    label.tx.wait(p.tx_hash)
    return ChainClient(label.network, label.w3, Signer(who, source="test"))


def test_release_with_sales_resumes_after_sigkill_and_sells(tmp_path: Path, release_cache: Path) -> None:
    data = tmp_path / "data"
    node = Anvil(port=free_port(), state_file=data / "anvil.json")
    node.start()
    try:
        spec, out = _spec(tmp_path / "spec"), tmp_path / "out"
        env = {**os.environ, "SONGMINT_ANVIL_PORT": str(node.port), "SONGMINT_DATA_DIR": str(data)}
        # broadcasts: 1 deploy (royalties already to the split), 2 prefix, 3 create, 4 split,
        # 5 funds recipient, 6-8 sales. Killed after the funds recipient is broadcast; then, resumed,
        # after the second sale is.
        for point in ("sent:5", "sent:2"):
            killed = _killed(spec, out, env, point)
            assert killed.returncode == -signal.SIGKILL, killed.stderr
        done = _killed(spec, out, env, "none:1")  # a checkpoint that never comes: runs to the end
        assert done.returncode == 0, done.stderr
        m = json.loads((out / "manifest.json").read_text())
        with Journal(out / ".songmint" / "journal.sqlite") as j:
            entries = j.entries()
        kinds = [e.kind for e in entries if e.status == "mined"]
        assert sorted(kinds) == sorted(
            ["deploy", "prefix", "create", "split", "recipient", "sale", "sale", "sale"]
        )
        assert all(e.status == "mined" for e in entries)  # nothing failed, dropped or sent twice
        address, split = m["chain"]["contract"], m["sales"]["split"]
        one, two, three = (t["id"] for t in m["tokens"])
        proofs = json.loads((out / m["sales"]["tokens"][str(two)]["allowlist_file"]).read_text())
        assert proofs["root"] == m["sales"]["tokens"][str(two)]["allowlist_root"]

        label = connect(node.url, chain_id=31337, signer=dev_signer())
        assert label.contract_info(address)["funds_recipient"] == split
        assert label.contract_info(address)["royalty_receiver"] == split
        collection = json.loads((out / "collection.json").read_text())
        assert collection["fee_recipient"] == split and collection["seller_fee_basis_points"] == 500
        info = label.sale_info(address, two)
        assert info["price_wei"] == str(2 * 10**16) and info["per_wallet"] == 1 and info["recipient"] == split
        assert info["allowlist_root"] == proofs["root"]
        alice, bob, carol = (_fund(label, a) for a in (ALICE, BOB, CAROL))
        alice.purchase(address, one, 2)  # public, 0.02
        bob.purchase(address, two, 2, allowlisted=proofs["entries"][bob.address])  # 2 × 0.005
        with pytest.raises(ContractRevert, match="a wallet may buy 1 of token"):
            carol.purchase(address, two, 2)  # over the public wallet limit
        carol.purchase(address, three, 5)  # free, open window
        paid = 2 * 10**16 + 2 * 5 * 10**15
        before = [label.w3.eth.get_balance(p) for p in PAYEES]
        label.withdraw(split)
        after = [label.w3.eth.get_balance(p) for p in PAYEES]
        assert [a - b for a, b in zip(after, before, strict=True)] == [paid * 3 // 4, paid // 4]

        rows = check_sales(m, label, out)  # what `songmint verify` checks of the sales
        assert len(rows) == 5 and all(ok for ok, *_ in rows), rows
        payees = [(p["address"], p["bps"]) for p in m["sales"]["payees"]]
        assert payees == [(PAYEES[0], 7500), (PAYEES[1], 2500)]
        from songmint.verify import verify_release

        report = verify_release(out, rerender=False, client=label)  # and verify runs those checks
        sale_rows = [r for r in report.rows if r["check"] in ("sale", "split")]
        assert len(sale_rows) == 5 and all(r["status"] == "ok" for r in sale_rows), sale_rows
        assert not report.mismatches, report.mismatches

        block = label.w3.eth.block_number  # a finished release re-run sends nothing
        again = _killed(spec, out, env, "none:1")  # a checkpoint that never comes: runs to the end
        assert again.returncode == 0, again.stderr
        assert label.w3.eth.block_number == block
        label.pause_sales(address, [one])  # a sale that differs from the manifest is a mismatch
        bad = [r for r in check_sales(m, label, out) if not r[0]]
        assert [(r[1], r[2]) for r in bad] == [("sale", f"token {one}")] and "paused" in bad[0][3]
    finally:
        node.stop()


def test_memory_and_dry_run_write_allowlists_and_send_no_sales(tmp_path: Path, release_cache: Path) -> None:
    from songmint.release import Options, run_release

    spec = _spec(tmp_path / "spec", SPEC.replace('name = "local"', 'name = "memory"'))
    for dry in (False, True):
        out = tmp_path / f"out-{dry}"
        m = run_release(spec, Options(out=out, cover_size=256, build_preview=False, dry_run=dry))
        two = m["tokens"][1]["id"]
        sale = m["sales"]["tokens"][str(two)]
        assert (
            sale["price_wei"] == str(2 * 10**16)
            and sale["per_wallet"] == 1
            and m["sales"]["transactions"] == []
        )
        doc = json.loads((out / sale["allowlist_file"]).read_text())
        assert doc["root"] == sale["allowlist_root"] and set(doc["entries"]) == {BOB.address, CAROL.address}
        assert m["sales"]["split"].startswith("0x")
        if dry:  # the stage's transactions, with gas and cost
            plan = m["sales"]["plan"]
            kinds = [t["kind"] for t in plan["txs"]]
            assert kinds == ["split", "recipient", "sale", "sale", "sale"]
            assert plan["expected_cost_eth"] > 0 and all(t["gas"] > 21_000 for t in plan["txs"])
