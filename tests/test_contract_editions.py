"""SongmintEditions on eth-tester: the gas target against the URIStorage baseline, interfaces, URI
events, contract URI, freeze and royalties."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from web3.contract import Contract
from web3.logs import DISCARD

from minting.chain import ChainClient, ContractRevert, Plan, TokenSpec, connect, load_artifact

ROOT = Path(__file__).resolve().parents[1]


def _gas_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gas", ROOT / "benchmarks" / "gas.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _gas_bench()


@pytest.fixture(scope="module")
def client() -> ChainClient:
    return connect("memory")


@pytest.fixture(scope="module")
def editions(client: ChainClient) -> Contract:
    dep = client.deploy(name="Songs", symbol="SONG", base_uri="https://x.test/{id}.json",
                        contract_uri="ipfs://bafyC/contract.json", royalty_bps=500)
    return client.editions(dep.address)  # type: ignore[union-attr]


def _send(client: ChainClient, c: Contract, fn: str, *args: Any) -> Any:
    return bench.send(client, c.address, c.abi, fn, *args)


def test_gas_per_new_token_in_a_batch_of_ten_meets_the_target(client: ChainClient) -> None:
    me = client.address
    ours, base = load_artifact("SongmintEditions"), load_artifact("BaselineEditions")
    dep = client.deploy(name="S", symbol="S", royalty_bps=500)  # a clone of the factory's implementation
    assert not isinstance(dep, Plan)
    a = dep.address
    b = bench.send(client, None, base.abi, "", me, me, 500, bytecode=base.bytecode)["contractAddress"]
    bench.send(client, a, ours.abi, "addUriPrefix", bench.PREFIX)
    ids = list(range(100, 110))
    ours_gas = bench.send(client, a, ours.abi, "createBatch", me, ids, [10] * 10, [100] * 10, 1,
                          b"")["gasUsed"]
    uris = [bench.PREFIX + f"{i:064x}.json" for i in ids]
    base_gas = bench.send(client, b, base.abi, "createBatch", me, ids, [10] * 10, [100] * 10, uris)["gasUsed"]
    assert ours_gas / 10 <= bench.TARGET_PER_TOKEN
    assert base_gas / ours_gas > 2  # the baseline stores 139-character strings per token
    # and both expose the same URI
    ca = client.w3.eth.contract(address=a, abi=ours.abi)
    cb = client.w3.eth.contract(address=b, abi=base.abi)
    assert ca.functions.uri(105).call() == cb.functions.uri(105).call() == uris[5]


def test_interfaces(editions: Contract) -> None:
    f = editions.functions
    for iid in ("d9b67a26", "0e89341c", "2a55205a", "01ffc9a7", "7965db0b", "49064906"):
        assert f.supportsInterface(bytes.fromhex(iid)).call(), iid
    assert not f.supportsInterface(bytes.fromhex("ffffffff")).call()


def test_uri_events_on_creation_and_change(client: ChainClient, editions: Contract) -> None:
    prefix = "ipfs://bafyEV/metadata/"
    client.add_uri_prefix(editions.address, prefix)
    result = client.create_and_mint(editions.address, [TokenSpec(id=i, amount=1, cap=5) for i in (7, 8)],
                                    uri_prefix=prefix)
    receipt = client.w3.eth.get_transaction_receipt(result.txs[0].tx_hash)  # type: ignore[union-attr]
    events = editions.events.URI().process_receipt(receipt, errors=DISCARD)  # skip the TransferBatch log
    assert [(e["args"]["id"], e["args"]["value"]) for e in events] == [
        (7, prefix + f"{7:064x}.json"), (8, prefix + f"{8:064x}.json")]
    r = _send(client, editions, "setTokenURI", 7, "ar://own-7")
    (ev,) = editions.events.URI().process_receipt(r, errors=DISCARD)
    (update,) = editions.events.MetadataUpdate().process_receipt(r, errors=DISCARD)  # ERC-4906
    assert update["args"]["_tokenId"] == 7
    assert ev["args"]["value"] == "ar://own-7" and editions.functions.uri(7).call() == "ar://own-7"
    r = _send(client, editions, "setContractURI", "ipfs://bafyNEW/contract.json")
    assert len(editions.events.ContractURIUpdated().process_receipt(r)) == 1
    assert editions.functions.contractURI().call() == "ipfs://bafyNEW/contract.json"


def test_freeze_pins_metadata(client: ChainClient, editions: Contract) -> None:
    client.create_and_mint(editions.address, [TokenSpec(id=30, amount=1, cap=1)])  # on the {id} base URI
    r = _send(client, editions, "freezeMetadata", 30)
    (ev,) = editions.events.PermanentURI().process_receipt(r)
    assert ev["args"]["value"] == "https://x.test/{id}.json"
    _send(client, editions, "setBaseURI", "https://moved.test/{id}")
    assert editions.functions.uri(30).call() == "https://x.test/{id}.json"
    data = editions.encode_abi("setTokenURI", args=[30, "ar://x"])
    with pytest.raises(ContractRevert, match="metadata of token 30 is frozen") as info:
        client.tx.estimate({"to": editions.address, "data": data})
    assert info.value.error == "MetadataIsFrozen"
    assert client.token_info(editions.address, 30)["frozen"] is True


def test_royalties_default_and_per_token(client: ChainClient, editions: Contract) -> None:
    client.create_and_mint(editions.address, [TokenSpec(id=40, amount=1, cap=1)])
    f = editions.functions
    assert f.royaltyInfo(40, 10_000).call() == [client.address, 500]
    other = "0x" + "cd" * 20
    _send(client, editions, "setTokenRoyalty", 40, client.w3.to_checksum_address(other), 1_000)
    receiver, amount = f.royaltyInfo(40, 12_345).call()
    assert receiver.lower() == other and amount == 12_345 * 1_000 // 10_000
    with pytest.raises(ContractRevert, match="over 100 %"):
        client.tx.estimate({"to": editions.address,
                            "data": editions.encode_abi("setDefaultRoyalty", args=[client.address, 10_001])})
