"""The chain client on the in-process eth-tester chain: create, mint, resume, dry runs, batches, gates."""

from __future__ import annotations

from pathlib import Path

import pytest

from minting.chain import (
    ChainClient,
    ChainError,
    ConfirmationRequired,
    ContractRevert,
    Journal,
    MintResult,
    Network,
    NetworkError,
    Plan,
    TokenSpec,
    connect,
    decode_revert,
    dev_signer,
    free_port,
    load_artifact,
    memory_web3,
)

PREFIX = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/metadata/"


@pytest.fixture(scope="module")
def client() -> ChainClient:
    return connect("memory")


@pytest.fixture(scope="module")
def contract(client: ChainClient) -> str:
    dep = client.deploy(name="Songs", symbol="SONG", base_uri="https://x.test/{id}.json", royalty_bps=500)
    assert not isinstance(dep, Plan)
    return dep.address


def _mint_result(r: MintResult | Plan) -> MintResult:
    assert isinstance(r, MintResult)
    return r


def test_create_and_mint_then_resume_is_a_no_op(client: ChainClient, contract: str, tmp_path: Path) -> None:
    tokens = [TokenSpec(id=i, amount=i, cap=10 * i) for i in range(1, 6)]
    with Journal(tmp_path / "j.sqlite") as j:
        first = _mint_result(client.create_and_mint(contract, tokens, uri_prefix=PREFIX, journal=j, op="r1"))
        block = client.w3.eth.block_number
        second = _mint_result(client.create_and_mint(contract, tokens, uri_prefix=PREFIX, journal=j, op="r1"))
        kinds = [(e.kind, e.status) for op in ("r1:prefix", "r1") for e in j.entries(op)]
    assert first.done == {i: i for i in range(1, 6)} and first.resumed == []
    assert second.resumed == [1, 2, 3, 4, 5] and client.w3.eth.block_number == block  # nothing sent
    assert kinds == [("prefix", "mined"), ("create", "mined")]
    info = client.token_info(contract, 3)
    assert info["supply"] == 3 and info["cap"] == 30 and info["uri"] == PREFIX + f"{3:064x}.json"
    assert client.token_info(contract, 99)["exists"] is False


def test_mint_more_and_the_cap(client: ChainClient, contract: str, tmp_path: Path) -> None:
    client.create_and_mint(contract, [TokenSpec(id=50, amount=1, cap=3)])
    with Journal(tmp_path / "j.sqlite") as j:
        client.mint(contract, {50: 2}, journal=j)
        again = _mint_result(client.mint(contract, {50: 2}, journal=j))  # same op: already done
        assert again.resumed == [50]
        with pytest.raises(ContractRevert, match="token 50 to 4 editions, over its cap of 3") as info:
            client.mint(contract, {50: 1}, journal=j, op="one-more")
        assert info.value.error == "EditionCapExceeded"
        assert j.entries("one-more") == []  # refused while planning: nothing intended, nothing sent
    assert client.token_info(contract, 50)["supply"] == 3
    with pytest.raises(ContractRevert, match="token 51 does not exist"):
        client.mint(contract, {51: 1})


def test_dry_run_estimates_and_sends_nothing(client: ChainClient, contract: str) -> None:
    block, nonce = client.w3.eth.block_number, client.tx.nonce(client.address)
    tokens = [TokenSpec(id=200 + i, amount=1, cap=5) for i in range(10)]
    plan = client.create_and_mint(contract, tokens, uri_prefix="ipfs://bafyNEW/metadata/", dry_run=True)
    assert isinstance(plan, Plan)
    assert [t.kind for t in plan.txs] == ["prefix", "create"]
    assert all(t.gas > 21_000 for t in plan.txs) and plan.max_cost_wei >= plan.expected_cost_wei > 0
    assert "createBatch of 10 token(s)" in plan.summary() and "gas" in plan.summary()
    assert plan.to_dict()["total_gas"] == plan.total_gas
    deploy_plan = client.deploy(name="X", symbol="X", dry_run=True)  # the factory is on chain: one clone
    assert isinstance(deploy_plan, Plan) and [t.kind for t in deploy_plan.txs] == ["deploy"]
    assert 100_000 < deploy_plan.txs[0].gas <= 400_000
    assert (client.w3.eth.block_number, client.tx.nonce(client.address)) == (block, nonce)
    # a chain without the factory: the plan deploys it first, the clone's gas is the hint
    fresh = connect("memory", w3=memory_web3(factory=False))
    first = fresh.deploy(name="X", symbol="X", dry_run=True)
    assert isinstance(first, Plan) and [t.kind for t in first.txs] == ["factory", "deploy"]
    assert first.txs[0].gas > 4_000_000 and "not deployed yet" in first.summary()
    assert "ETH" in first.summary() and first.to_dict()["expected_cost_eth"] > 0
    assert fresh.w3.eth.block_number == 0
    assert not client.token_info(contract, 200)["exists"]


def test_batches_split_under_the_block_gas_limit(contract: str, client: ChainClient) -> None:
    small = ChainClient(client.network, client.w3, client.signer, block_fraction=0.012)
    limit = client.tx.block_gas_limit() * 0.012
    tokens = [TokenSpec(id=300 + i, amount=2, cap=2) for i in range(5)]
    result = _mint_result(small.create_and_mint(contract, tokens, uri_prefix=PREFIX))
    assert len(result.txs) >= 2
    assert all((t.gas_used or 0) <= limit for t in result.txs)
    assert sorted(i for t in result.txs for i in t.ids) == [t.id for t in tokens]
    c = client.editions(contract)
    assert [c.functions.balanceOf(client.address, t.id).call() for t in tokens] == [2] * 5


def test_interrupted_after_signing_resumes_by_rebroadcasting(client: ChainClient, contract: str,
                                                            tmp_path: Path) -> None:
    seen: list[str] = []

    def stop_after_signing(name: str) -> None:
        seen.append(name)
        if name == "signed":
            raise KeyboardInterrupt

    crashing = ChainClient(client.network, client.w3, client.signer, checkpoint=stop_after_signing)
    with Journal(tmp_path / "j.sqlite") as j:
        with pytest.raises(KeyboardInterrupt):
            crashing.create_and_mint(contract, [TokenSpec(id=400, amount=4, cap=4)], op="crash")
        with pytest.raises(KeyboardInterrupt):
            crashing.create_and_mint(contract, [TokenSpec(id=400, amount=4, cap=4)], op="crash", journal=j)
        (entry,) = j.entries("crash")
        assert entry.status == "signed" and entry.tx_hash and entry.raw_tx
        assert client.tx.receipt(entry.tx_hash) is None  # signed and recorded, never sent
        token = TokenSpec(id=400, amount=4, cap=4)
        result = _mint_result(client.create_and_mint(contract, [token], op="crash", journal=j))
        (entry,) = j.entries("crash")
    assert seen == ["intent", "signed", "intent", "signed"]
    assert entry.status == "mined" and result.resumed == [400] and result.txs[0].tx_hash == entry.tx_hash
    assert client.token_info(contract, 400)["supply"] == 4


def test_deploy_with_a_journal_deploys_once(client: ChainClient, tmp_path: Path) -> None:
    with Journal(tmp_path / "d.sqlite") as j:
        a = client.deploy(name="Once", symbol="O", journal=j, op="deploy-once")
        b = client.deploy(name="Once", symbol="O", journal=j, op="deploy-once")
        assert len(j.entries("deploy-once")) == 1
    assert not isinstance(a, Plan) and not isinstance(b, Plan)
    assert a.address == b.address and client.contract_info(a.address)["name"] == "Once"


def test_token_specs_are_checked_before_anything_is_sent(client: ChainClient, contract: str) -> None:
    with pytest.raises(ChainError, match="edition cap"):
        client.create_and_mint(contract, [TokenSpec(id=1, amount=0, cap=0)])
    with pytest.raises(ChainError, match="amount 5 must be 0"):
        client.create_and_mint(contract, [TokenSpec(id=1, amount=5, cap=4)])
    with pytest.raises(ChainError, match="unique"):
        client.create_and_mint(contract, [TokenSpec(id=9, amount=1, cap=4)] * 2)
    with pytest.raises(ChainError, match="no contract at"):
        client.mint("0x" + "12" * 20, {1: 1})


def test_non_local_networks_need_yes(client: ChainClient, contract: str) -> None:
    remote = Network("https://rpc.example/…", "https://rpc.example/key", client.network.chain_id, local=False)
    refused = ChainClient(remote, client.w3, client.signer)
    with pytest.raises(ConfirmationRequired, match="--yes"):
        refused.mint(contract, {1: 1})
    assert isinstance(refused.mint(contract, {1: 1}, dry_run=True), Plan)  # estimating is fine
    allowed = ChainClient(remote, client.w3, client.signer, yes=True)
    assert _mint_result(allowed.mint(contract, {1: 1})).done == {1: 1}


def test_chain_id_is_checked_and_unreachable_nodes_are_one_line() -> None:
    with pytest.raises(NetworkError, match="reports chain id 131277322940537, expected 5"):
        connect("http://127.0.0.1:1", chain_id=5, w3=memory_web3(), signer=dev_signer())
    with pytest.raises(NetworkError, match="cannot reach"):
        connect(f"http://127.0.0.1:{free_port()}", chain_id=31337, signer=dev_signer())
    with pytest.raises(NetworkError, match="chain id"):
        connect("https://rpc.example")
    with pytest.raises(NetworkError, match="unknown network"):
        connect("mainnet-please")


def test_decode_revert_messages() -> None:
    abi = load_artifact().abi
    err = decode_revert(bytes.fromhex("08c379a0") + _abi_string("nope"), abi)
    assert str(err) == "the contract reverted: nope" and err.error == "Error"
    panic = decode_revert(bytes.fromhex("4e487b71") + (0x11).to_bytes(32, "big"), abi)
    assert "arithmetic overflow" in str(panic)
    unknown = decode_revert(bytes.fromhex("deadbeef"), abi)
    assert "unknown error 0xdeadbeef" in str(unknown)
    assert "without a reason" in str(decode_revert(b"", abi))
    from eth_utils import keccak

    sel = keccak(text="AccessControlUnauthorizedAccount(address,bytes32)")[:4]
    data = sel + bytes(12) + bytes.fromhex("ab" * 20) + keccak(text="MINTER_ROLE")
    denied = decode_revert(data, abi)
    assert "lacks the minter (MINTER_ROLE) role" in str(denied)
    assert denied.error_args["account"].lower() == "0x" + "ab" * 20


def _abi_string(text: str) -> bytes:
    from eth_abi import encode

    return encode(["string"], [text])


def test_one_process_per_journal(tmp_path: Path) -> None:
    import multiprocessing

    path = tmp_path / "j.sqlite"
    with Journal(path):
        ctx = multiprocessing.get_context("fork")
        child = ctx.Process(target=_open_journal_or_exit_3, args=(str(path),))
        child.start()
        child.join(60)
        assert child.exitcode == 3  # refused while this process holds it
    child = multiprocessing.get_context("fork").Process(target=_open_journal_or_exit_3, args=(str(path),))
    child.start()
    child.join(60)
    assert child.exitcode == 0  # free again once closed


def _open_journal_or_exit_3(path: str) -> None:
    import os

    from minting.chain import JournalError

    try:
        Journal(path).close()
    except JournalError as exc:
        os._exit(3 if "in use by another songmint process" in str(exc) else 4)


def test_other_contracts_are_refused_clearly(client: ChainClient) -> None:
    baseline = load_artifact("BaselineEditions")
    factory = client.w3.eth.contract(abi=baseline.abi, bytecode=baseline.bytecode)
    data = factory.constructor(client.address, client.address, 0).data_in_transaction
    prepared = client.tx.prepare({"data": data})
    client.tx.broadcast(prepared.raw)
    address = client.tx.wait(prepared.tx_hash)["contractAddress"]
    with pytest.raises(ChainError, match="not a SongmintEditions contract"):
        client.contract_info(address)
    with pytest.raises(ChainError, match="not an Ethereum address"):
        client.mint("0x1234", {1: 1})


def test_a_transaction_reverting_on_chain_is_decoded_and_journalled(client: ChainClient,
                                                                   contract: str) -> None:
    """Another minter creates the same id between our estimate and our broadcast: our mined
    transaction reverts; the receipt is replayed to say why, and the journal says failed."""
    from eth_account import Account

    from minting.chain import Signer

    other = Account.from_key("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
    ed = client.editions(contract)
    for call in ({"to": other.address, "value": 10**21, "data": b""},
                 {"to": contract, "data": ed.encode_abi("grantRole", args=[ed.functions.MINTER_ROLE().call(),
                                                                           other.address])}):
        tx = {"from": client.address, "nonce": client.tx.nonce(client.address), "gas": 100_000,
              "chainId": client.network.chain_id, **client.tx.fees(), **call}
        raw, tx_hash = client.signer.sign_transaction(tx)
        client.tx.broadcast(raw)
        assert client.tx.wait(tx_hash)["status"] == 1
    rival = ChainClient(client.network, client.w3, Signer(other, source="test"))

    def race(name: str) -> None:
        if name == "signed" and not client.token_info(contract, 500)["exists"]:
            rival.create_and_mint(contract, [TokenSpec(id=500, amount=1, cap=1)])

    racer = ChainClient(client.network, client.w3, client.signer, checkpoint=race)
    with Journal(":memory:") as j:
        with pytest.raises(ContractRevert, match="token 500 already exists") as info:
            racer.create_and_mint(contract, [TokenSpec(id=500, amount=2, cap=2)], journal=j, op="race")
        (entry,) = j.entries("race")
    assert info.value.error == "TokenAlreadyExists"
    assert entry.status == "failed" and entry.block and "already exists" in (entry.note or "")
    assert client.token_info(contract, 500)["supply"] == 1  # the rival's, ours never minted


def test_the_factory_deploys_through_create2_and_dev_chains_carry_it_from_genesis() -> None:
    """On a chain without it, the first deploy puts the factory at its deterministic address
    (journalled as `factory`); what it leaves there is exactly what `memory` (and songmint's anvil)
    carry from their first block, implementations locked included."""
    from minting.chain import deployments

    bare = connect("memory", w3=memory_web3(factory=False))
    with Journal(":memory:") as j:
        dep = bare.deploy(name="F", symbol="F", journal=j, op="first")
        kinds = [(e.kind, e.op.split(":")[0]) for e in j.entries()]
    assert not isinstance(dep, Plan) and kinds == [("factory", "factory"), ("deploy", "first")]
    for address, (code, storage) in deployments.predeployed().items():
        assert bytes(bare.w3.eth.get_code(address)) == code
        for slot, value in storage.items():
            assert int.from_bytes(bytes(bare.w3.eth.get_storage_at(address, slot)), "big") == value
    impl, _ = deployments.implementations(bare.factory_address)
    ed = bare.w3.eth.contract(address=impl, abi=bare.artifact.abi)
    config = ("X", "X", "", "", bare.address, "0x" + "00" * 20, 0, "0x" + "00" * 20)
    with pytest.raises(ContractRevert, match="already initialised"):
        bare.tx.estimate({"to": impl, "data": ed.encode_abi("initialize", args=[config])})
    ready = connect("memory")
    assert ready.w3.eth.get_code(ready.factory_address) and ready.factory_address == bare.factory_address
    with pytest.raises(ContractRevert, match="already initialised"):
        ready.tx.estimate({"to": impl, "data": ed.encode_abi("initialize", args=[config])})
