"""Against a real anvil: revert decoding, persisted state, the --yes gate, and the journal under SIGKILL."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from minting.chain import (
    AccountError,
    Anvil,
    ChainClient,
    ContractRevert,
    Journal,
    Plan,
    TokenSpec,
    connect,
    dev_signer,
    free_port,
)
from minting.chain.accounts import DEV_ADDRESS as DEV
from minting.chain.anvil import rpc
from songmint.cli import main
from tests import chain_helper
from tests.chain_fixtures import anvil  # noqa: F401 - fixture

pytestmark = pytest.mark.anvil
ROOT = Path(__file__).resolve().parents[1]
HELPER = ROOT / "tests" / "chain_helper.py"


def _client(node: Anvil) -> ChainClient:
    return connect(node.url, chain_id=31337, signer=dev_signer())


@pytest.fixture(scope="module")
def deployed(anvil: Anvil) -> str:  # noqa: F811
    return _client(anvil).deploy(name="Kill", symbol="K").address


def test_reverts_decode_on_anvil(anvil: Anvil, deployed: str) -> None:  # noqa: F811
    client = _client(anvil)
    client.create_and_mint(deployed, [TokenSpec(id=1, amount=1, cap=2)])
    with pytest.raises(ContractRevert, match=r"token 1 to 4 editions, over its cap of 2") as info:
        client.mint(deployed, {1: 3})
    assert info.value.error == "EditionCapExceeded"
    assert info.value.error_args == {"id": 1, "cap": 2, "supplyAfter": 4}
    again = client.create_and_mint(deployed, [TokenSpec(id=1, amount=1, cap=2)], op="again")
    assert again.skipped == [1] and again.txs == []  # an existing token is left alone, not re-minted
    c = client.editions(deployed)
    data = c.encode_abi("create", args=[client.address, 1, 1, 2, 0, b""])
    with pytest.raises(ContractRevert, match="token 1 already exists") as info:
        client.tx.estimate({"to": deployed, "data": data})
    assert info.value.error == "TokenAlreadyExists"
    # AccessControl: anvil's second dev account is funded but holds no role
    from eth_account import Account

    # anvil's public dev account #1 (from the "test … junk" mnemonic)
    other = Account.from_key("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
    from minting.chain import Signer

    stranger = connect(anvil.url, chain_id=31337, signer=Signer(other, source="test"))
    with pytest.raises(ContractRevert, match=r"lacks the minter \(MINTER_ROLE\) role") as info:
        stranger.mint(deployed, {1: 1})
    assert info.value.error == "AccessControlUnauthorizedAccount"


def _run_helper(node: Anvil, contract: str, journal: Path, mode: str, n: int, kill_at: str, *,
                fork: bool = True) -> int:
    """Run tests/chain_helper.py until it kills itself at ``kill_at``; return its exit status.

    ``fork=False`` starts a fresh interpreter with ``SONGMINT_KILL_AT`` in its environment;
    ``fork=True`` forks this process (same code, no interpreter start-up) and calls ``run``.
    """
    if not fork:
        env = {**os.environ, "SONGMINT_KILL_AT": kill_at}
        proc = subprocess.run([sys.executable, str(HELPER), node.url, contract, str(journal), mode, str(n)],
                              env=env, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
        return proc.returncode
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=chain_helper.run, args=(node.url, contract, str(journal), mode, n, kill_at))
    child.start()
    child.join(120)
    return int(child.exitcode if child.exitcode is not None else 0)


def _resume_create(client: ChainClient, contract: str, journal: Path, n: int) -> dict[int, int]:
    """What tests/chain_helper.py does, in this process: the resume after the kill."""
    client.max_batch = 3
    tokens = [TokenSpec(id=1000 + i, amount=i + 1, cap=100) for i in range(n)]
    with Journal(journal) as j:
        result = client.create_and_mint(contract, tokens, uri_prefix="ipfs://bafyKILL/metadata/", journal=j,
                                        op="release-1")
    assert not isinstance(result, Plan)
    return result.done


@pytest.mark.parametrize("kill_at", ["intent:1", "signed:1", "sent:2", "receipt:3"])
def test_create_survives_sigkill(anvil: Anvil, tmp_path: Path, kill_at: str) -> None:  # noqa: F811
    """Kill the minting process at a journal step, resume: every token minted exactly once."""
    client = _client(anvil)
    contract = client.deploy(name="K", symbol="K", op=f"deploy-{kill_at}").address
    journal = tmp_path / "journal.sqlite"
    status = _run_helper(anvil, contract, journal, "create", 7, kill_at, fork=kill_at != "signed:1")
    assert status == -signal.SIGKILL
    with Journal(journal) as j:
        assert [e for e in j.entries() if e.open], "the kill left an open entry to reconcile"
    done = _resume_create(client, contract, journal, 7)
    assert sorted(done) == list(range(1000, 1007))
    c = client.editions(contract)
    for i in range(7):
        assert c.functions.totalSupply(1000 + i).call() == i + 1  # never twice, never lost
    with Journal(journal) as j:
        mined = [e for e in j.entries("release-1") if e.status == "mined" and e.kind == "create"]
        assert not [e for e in j.entries() if e.open]
    covered = sorted(i for e in mined for i in e.payload["ids"])
    assert covered == list(range(1000, 1007))  # each id in exactly one mined transaction
    assert len(mined) == 3  # 7 tokens, 3 per transaction
    _resume_create(client, contract, journal, 7)  # a third run changes nothing
    assert c.functions.totalSupply().call() == sum(range(1, 8))


@pytest.mark.parametrize("kill_at", ["signed:1", "sent:1"])
def test_mint_more_survives_sigkill(anvil: Anvil, tmp_path: Path, kill_at: str) -> None:  # noqa: F811
    """mint() is not idempotent on chain; the journal makes it so across a SIGKILL."""
    client = _client(anvil)
    contract = client.deploy(name="M", symbol="M", op=f"deploy-mint-{kill_at}").address
    client.create_and_mint(contract, [TokenSpec(id=1000 + i, amount=1, cap=10) for i in range(4)])
    journal = tmp_path / "journal.sqlite"
    assert _run_helper(anvil, contract, journal, "mint", 4, kill_at) == -signal.SIGKILL
    client.max_batch = 3
    for _ in range(2):  # the resume, then a rerun that must change nothing
        with Journal(journal) as j:
            client.mint(contract, {1000 + i: 2 for i in range(4)}, journal=j, op="more-1")
    c = client.editions(contract)
    assert [c.functions.totalSupply(1000 + i).call() for i in range(4)] == [3, 3, 3, 3]


def test_signed_but_unsent_is_dropped_when_its_nonce_is_taken(anvil: Anvil, deployed: str,  # noqa: F811
                                                              tmp_path: Path) -> None:
    """A signed transaction never broadcast whose nonce another transaction used is redone, once."""
    journal = tmp_path / "j.sqlite"
    client = _client(anvil)
    client.create_and_mint(deployed, [TokenSpec(id=77, amount=1, cap=10)])
    c = client.editions(deployed)

    def die(name: str) -> None:
        if name == "signed":
            raise KeyboardInterrupt

    interrupted = connect(anvil.url, chain_id=31337, signer=dev_signer(), checkpoint=die)
    with Journal(journal) as j, pytest.raises(KeyboardInterrupt):
        interrupted.mint(deployed, {77: 2}, journal=j, op="x")
    client.mint(deployed, {77: 1})  # takes the nonce the interrupted transaction was signed with
    with Journal(journal) as j:
        result = client.mint(deployed, {77: 2}, journal=j, op="x")
        notes = [e.note for e in j.entries("x")]
    assert c.functions.totalSupply(77).call() == 1 + 1 + 2
    assert any(n and "nonce used by another transaction" in n for n in notes)
    assert result.done == {77: 2}


def test_non_local_network_needs_yes_and_a_key(tmp_path: Path, runner: CliRunner) -> None:
    """A chain id that is no dev chain makes the URL non-local: summary, then --yes, and no dev key."""
    node = Anvil(port=free_port(), state_file=tmp_path / "s.json", chain_id=4242)
    node.start()
    try:
        env = {"SONGMINT_DATA_DIR": str(tmp_path / "data"), "SONGMINT_PRIVATE_KEY": None}
        base = ["contract", "deploy", "--name", "N", "--symbol", "N", "-n", node.url, "--chain-id", "4242"]
        no_key = runner.invoke(main, base, env=env)
        assert no_key.exit_code == 2 and "--keystore" in no_key.output
        wrong_id = runner.invoke(main, [*base[:-1], "1"], env=env)
        assert wrong_id.exit_code == 2 and "reports chain id 4242, expected 1" in wrong_id.output
        env["SONGMINT_PRIVATE_KEY"] = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
        refused = runner.invoke(main, base, env=env)
        assert refused.exit_code == 2
        assert "--yes" in refused.output and "gas" in refused.output  # the summary came first
        assert connect(node.url, chain_id=4242, signer=dev_signer()).w3.eth.block_number == 0  # nothing sent
        sent = runner.invoke(main, [*base, "--yes", "--json"], env=env)
        assert sent.exit_code == 0, sent.output
        assert json.loads(sent.stdout)["chain_id"] == 4242
        with pytest.raises(AccountError):
            connect(node.url, chain_id=4242, env={})  # no key and a non-local chain: no default account
    finally:
        node.stop()


def test_cli_chain_lifecycle_persists_state(tmp_path: Path, runner: CliRunner) -> None:
    """`songmint chain start|stop|status`, deploy and mint; a restart resumes the same chain."""
    port = str(free_port())
    env = {"SONGMINT_DATA_DIR": str(tmp_path), "SONGMINT_ANVIL_PORT": port, "SONGMINT_PRIVATE_KEY": None,
           "SONGMINT_NETWORK": None}

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env)

    try:
        assert run("chain", "start").exit_code == 0
        deploy = run("contract", "deploy", "--name", "Songs", "--symbol", "SONG", "--royalty-bps", "250")
        assert deploy.exit_code == 0, deploy.output
        address = deploy.stdout.strip().splitlines()[-1]
        dry = run("mint", "-t", "5:3:10", "--uri-prefix", "ipfs://bafyP/metadata/", "--dry-run")
        assert dry.exit_code == 0 and "createBatch of 1 token(s)" in dry.stdout and "gas" in dry.stdout
        minted = run("mint", "-t", "5:3:10", "--uri-prefix", "ipfs://bafyP/metadata/")
        assert minted.exit_code == 0, minted.output
        assert "1 token(s) minted now" in minted.output
        again = run("mint", "-t", "5:3:10", "--uri-prefix", "ipfs://bafyP/metadata/")
        assert again.exit_code == 0 and "0 token(s) minted now, 1 already done" in again.output
        redeploy = run("contract", "deploy", "--name", "Songs", "--symbol", "SONG", "--royalty-bps", "250")
        assert redeploy.stdout.strip().splitlines()[-1] == address  # journalled: not deployed twice
        assert run("chain", "stop").exit_code == 0
        status = json.loads(run("chain", "status", "--json").stdout)
        assert status["running"] is False and status["state_exists"] is True
        # a real subprocess of the installed console script: the restarted chain kept everything
        songmint = str(Path(sys.executable).with_name("songmint"))
        full_env = {**os.environ, "SONGMINT_DATA_DIR": str(tmp_path), "SONGMINT_ANVIL_PORT": port}
        full_env.pop("SONGMINT_NETWORK", None)
        proc = subprocess.run([songmint, "contract", "info", "-t", "5", "--json"], env=full_env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr  # `local` starts songmint's anvil when it is down
        info = json.loads(proc.stdout)
        assert info["address"] == address and info["royalty_bps"] == 250
        assert info["tokens"][0]["supply"] == 3
        assert info["tokens"][0]["uri"] == "ipfs://bafyP/metadata/" + f"{5:064x}.json"
    finally:
        run("chain", "stop")
    assert json.loads(run("chain", "status", "--json").stdout)["running"] is False


def test_a_stuck_transaction_is_replaced_with_higher_fees(tmp_path: Path) -> None:
    """anvil --no-mining keeps our transaction pending; after bump_after it is re-sent with the same
    nonce and higher fees, the replacement is what gets mined, and the journal holds its hash."""
    node = Anvil(port=free_port(), state_file=tmp_path / "s.json", extra_args=("--no-mining",))
    node.start()
    try:
        pending: list[dict[str, str]] = []

        def hook(name: str) -> None:
            if name == "sent":  # what the node holds before any bump
                (tx,) = rpc(node.url, "txpool_content")["pending"][DEV.lower()].values()
                pending.append(tx)
            if name == "bumped":
                rpc(node.url, "evm_mine")

        client = connect(node.url, chain_id=31337, signer=dev_signer(), bump_after=0.3, checkpoint=hook)
        with Journal(tmp_path / "j.sqlite") as j:
            dep = client.deploy(name="Bump", symbol="B", journal=j, op="deploy")
            result = client.create_and_mint(dep.address, [TokenSpec(id=1, amount=2, cap=3)],  # type: ignore[union-attr]
                                            journal=j, op="create")
            entries = {e.kind: e for e in j.entries()}
        assert {k: e.status for k, e in entries.items()} == {"deploy": "mined", "create": "mined"}
        assert entries["deploy"].result == {"contractAddress": dep.address}  # type: ignore[union-attr]
        mined = client.w3.eth.get_transaction(result.txs[0].tx_hash)  # type: ignore[union-attr]
        assert result.txs[0].tx_hash == entries["create"].tx_hash  # type: ignore[union-attr]
        original = pending[1]
        assert mined["nonce"] == int(original["nonce"], 16)
        assert mined["maxFeePerGas"] >= int(int(original["maxFeePerGas"], 16) * 1.25)
        assert client.w3.eth.get_block(mined["blockNumber"])["transactions"] == [mined["hash"]]
        assert client.token_info(dep.address, 1)["supply"] == 2  # type: ignore[union-attr]
    finally:
        node.stop()


_SEND_SCRIPT = """
import sys
from minting.chain import connect, dev_signer
client = connect(sys.argv[1], chain_id=31337, signer=dev_signer())
for i in range(6):
    client.deploy(name=f"{sys.argv[2]}-{i}", symbol="P")
"""


def test_two_processes_send_from_one_account_without_nonce_clashes(anvil: Anvil) -> None:  # noqa: F811
    """Two releases sending from one account at once (each reads the pending nonce) must not
    collide: the nonce is held per account from reading it to broadcasting with it."""
    root = Path(__file__).resolve().parents[1]
    procs = [
        subprocess.Popen([sys.executable, "-c", _SEND_SCRIPT, anvil.url, name], cwd=root,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("left", "right")
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
