"""`songmint release` on a real anvil: killed mid-release (SIGKILL) and resumed without minting twice;
`--dry-run` sends nothing; `songmint verify` checks the chain."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from minting.chain.anvil import Anvil, free_port, rpc
from minting.chain.journal import Journal
from songmint.cli import main
from songmint.release import Options, run_release
from tests.release_fixture import make_spec

pytestmark = pytest.mark.anvil
SONGMINT = Path(sys.executable).parent / "songmint"


@pytest.fixture(scope="module")
def anvil(tmp_path_factory: pytest.TempPathFactory, release_cache: Path):  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("songmint-data")
    node = Anvil(port=free_port(), state_file=data / "anvil.json")
    node.start()
    yield node, data
    node.stop()


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SONGMINT), *args], env=env, capture_output=True, text=True, timeout=300)


def _killed(spec: Path, out: Path, env: dict[str, str], fault: str) -> subprocess.CompletedProcess[str]:
    """The release run in a subprocess that SIGKILLs itself at ``fault`` (tests/release_helper.py)."""
    cmd = [sys.executable, "-m", "tests.release_helper", str(spec), str(out), "local", fault]
    root = Path(__file__).resolve().parents[1]
    return subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True, timeout=300)


def _supply(url: str, contract: str, token_id: int) -> int:
    selector = "bd85b039"  # totalSupply(uint256)
    data = "0x" + selector + f"{token_id:064x}"
    return int(rpc(url, "eth_call", [{"to": contract, "data": data}, "latest"]), 16)


def test_killed_release_resumes_without_minting_twice(anvil, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    node, data = anvil
    spec = make_spec(tmp_path / "spec")
    out = tmp_path / "out"
    env = {**os.environ, "SONGMINT_ANVIL_PORT": str(node.port), "SONGMINT_DATA_DIR": str(data)}
    args = [
        "release",
        str(spec),
        "--network",
        "local",
        "--out",
        str(out),
        "--cover-size",
        "256",
        "--no-preview",
    ]

    # Killed right after the deploy transaction is broadcast; then, resumed, right after the
    # createBatch is (the 2nd broadcast of that run: the URI prefix comes first).
    for point in ("sent:1", "sent:2"):
        killed = _killed(spec, out, env, point)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert not (out / "manifest.json").exists()
    journal = out / ".songmint" / "journal.sqlite"
    assert journal.exists()

    done = _run(args, env)
    assert done.returncode == 0, done.stderr
    assert "finished by an earlier run" in done.stderr
    m = json.loads((out / "manifest.json").read_text())
    contract = m["chain"]["contract"]
    assert m["chain"]["chain_id"] == 31337
    for t in m["tokens"]:
        assert t["minted"] == t["initial"]
        assert _supply(node.url, contract, t["id"]) == t["initial"]  # once, not twice
    with Journal(journal) as j:
        deploys = [e for e in j.entries() if e.kind == "deploy" and e.status == "mined"]
        creates = [e for e in j.entries() if e.kind == "create" and e.status == "mined"]
    assert len(deploys) == 1 and len(creates) == 1
    assert {tx["kind"] for tx in m["transactions"]} == {"deploy", "prefix", "create"}

    # In process from here (same chain): a finished release re-run sends nothing new ...
    for key in ("SONGMINT_ANVIL_PORT", "SONGMINT_DATA_DIR"):
        monkeypatch.setenv(key, env[key])
    block = int(rpc(node.url, "eth_blockNumber"), 16)
    again = run_release(spec, Options(out=out, network="local", cover_size=256, build_preview=False))
    assert [t["minted"] for t in again["tokens"]] == [t["initial"] for t in m["tokens"]]
    assert int(rpc(node.url, "eth_blockNumber"), 16) == block

    # ... and neither does --dry-run, even into a fresh folder.
    runner = CliRunner()
    dry = runner.invoke(
        main,
        [
            "release",
            str(spec),
            "--network",
            "local",
            "--out",
            str(tmp_path / "dry"),
            "--dry-run",
            "--cover-size",
            "256",
            "--no-preview",
        ],
    )
    assert dry.exit_code == 0, dry.output
    assert "nothing was sent" in dry.output
    assert int(rpc(node.url, "eth_blockNumber"), 16) == block
    plan = json.loads((tmp_path / "dry" / "manifest.json").read_text())["plan"]
    assert [t["kind"] for t in plan["txs"]] == ["deploy", "prefix", "create"]

    # verify checks uri(id), totalSupply and cap on the chain.
    checked = runner.invoke(main, ["verify", str(out), "--no-render", "--json"])
    assert checked.exit_code == 0, checked.output
    rows = json.loads(checked.stdout)["rows"]
    assert sum(r["check"] == "on chain" and r["status"] == "ok" for r in rows) == len(m["tokens"])


def test_keystore_account_is_the_published_royalty_receiver(anvil, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The account that deploys (from a keystore, its password asked by the prompt) is the one
    collection.json names as fee recipient and the one royaltyInfo returns on chain."""
    import secrets

    from eth_account import Account

    from minting.chain import write_keystore

    node, data = anvil
    for key, value in (("SONGMINT_ANVIL_PORT", str(node.port)), ("SONGMINT_DATA_DIR", str(data))):
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SONGMINT_KEYSTORE_PASSWORD", raising=False)
    monkeypatch.delenv("SONGMINT_PRIVATE_KEY", raising=False)
    key = "0x" + secrets.token_hex(32)
    address = Account.from_key(key).address
    keystore = write_keystore(tmp_path / "key.json", key, "pw", iterations=2)
    rpc(node.url, "anvil_setBalance", [address, hex(10**21)])
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "pw"

    spec = make_spec(tmp_path / "spec")
    opts = Options(out=tmp_path / "out", network="local", cover_size=256, build_preview=False,
                   keystore=keystore, password_prompt=prompt)
    m = run_release(spec, opts)
    assert len(asked) == 1 and "key.json" in asked[0]  # asked once, before any work
    assert m["chain"]["account"] == address
    collection = json.loads((tmp_path / "out" / "collection.json").read_text())
    assert collection["fee_recipient"] == address and collection["seller_fee_basis_points"] == 250
    selector = "2a55205a"  # royaltyInfo(uint256,uint256)
    call = "0x" + selector + f"{m['tokens'][0]['id']:064x}" + f"{10_000:064x}"
    answer = rpc(node.url, "eth_call", [{"to": m["chain"]["contract"], "data": call}, "latest"])
    assert int(answer[2:66], 16) == int(address, 16) and int(answer[66:130], 16) == 250
