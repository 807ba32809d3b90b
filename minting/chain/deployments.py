"""Where songmint's contracts live on a chain, computed before anything is sent.

- Development chains (``memory``, and songmint's anvil from :meth:`Anvil.start
  <minting.chain.anvil.Anvil.start>`) carry the factory from their first block (:func:`predeployed`),
  as anvil carries the CREATE2 deployer: a release there is one transaction.
- Elsewhere the factory is deployed through the CREATE2 deployer that most chains carry at
  :data:`CREATE2_DEPLOYER` (Nick Johnson's deterministic-deployment proxy; anvil has it by default,
  the in-process ``memory`` chain gets it in its genesis), with salt 0: its address is the same
  on every chain for the same compiled factory.
- The factory's constructor creates the two implementations (its nonces 1 and 2).
- Each release is an EIP-1167 clone at CREATE2(factory, keccak256(abi.encode(creator, salt))), each
  split a clone at CREATE2(factory, keccak256(abi.encode(payees, bps))), as
  OpenZeppelin's ``Clones.predictDeterministicAddress`` computes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import rlp
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

CREATE2_DEPLOYER = "0x4e59b44847b379578588920cA78FbF26c0B4956C"
#: Runtime code of the deterministic-deployment proxy: ``calldata = salt ‖ initcode`` → CREATE2.
CREATE2_DEPLOYER_CODE = bytes.fromhex(
    "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe03601600081602082378035828234f58015156039578182fd5b8082525050506014600cf3"
)
FACTORY_SALT = b"\0" * 32
_CLONE_HEAD = bytes.fromhex("3d602d80600a3d3981f3363d3d373d3d3d363d73")
_CLONE_TAIL = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")


def _b(address: str) -> bytes:
    return bytes.fromhex(to_checksum_address(address)[2:])


def create2_address(deployer: str, salt: bytes, initcode_hash: bytes) -> str:
    return to_checksum_address(keccak(b"\xff" + _b(deployer) + salt + initcode_hash)[12:])


def create_address(deployer: str, nonce: int) -> str:
    return to_checksum_address(keccak(rlp.encode([_b(deployer), nonce]))[12:])


def factory_address(factory_initcode: bytes) -> str:
    """The factory deployed by :data:`CREATE2_DEPLOYER` with :data:`FACTORY_SALT`."""
    return create2_address(CREATE2_DEPLOYER, FACTORY_SALT, keccak(factory_initcode))


def implementations(factory: str) -> tuple[str, str]:
    """(SongmintEditions, SongmintSplit) implementations the factory's constructor created."""
    return create_address(factory, 1), create_address(factory, 2)


def clone_address(factory: str, implementation: str, salt: bytes) -> str:
    code = _CLONE_HEAD + _b(implementation) + _CLONE_TAIL
    return create2_address(factory, salt, keccak(code))


def release_address(factory: str, creator: str, salt: bytes) -> str:
    """``SongmintFactory.predictRelease(creator, salt)``."""
    inner = keccak(abi_encode(["address", "bytes32"], [to_checksum_address(creator), salt]))
    return clone_address(factory, implementations(factory)[0], inner)


def split_address(factory: str, payees: Sequence[str], bps: Sequence[int]) -> str:
    """``SongmintFactory.predictSplit(payees, bps)``."""
    inner = keccak(
        abi_encode(["address[]", "uint16[]"], [[to_checksum_address(p) for p in payees], list(bps)])
    )
    return clone_address(factory, implementations(factory)[1], inner)


_INITIALIZABLE_SLOT = 0xF0C57E16840DF040F15088DC2F81FE391C3923BEC73E23A9662EFC9C229C6A00  # ERC-7201


@cache
def predeployed() -> dict[str, tuple[bytes, dict[int, int]]]:
    """Address → (runtime code, storage) of the factory and its two implementations, exactly as the
    CREATE2 deployer leaves them: what development chains (``memory``, songmint's anvil) carry from
    their first block, as anvil carries the CREATE2 deployer. Made by deploying on a scratch
    in-process chain once per process (about a second)."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider, Web3

    from minting.chain.accounts import DEV_ADDRESS, dev_signer
    from minting.chain.artifacts import load_artifact

    genesis = PyEVMBackend.generate_genesis_state(num_accounts=1)
    genesis[bytes.fromhex(DEV_ADDRESS[2:])] = {"balance": 10**24, "storage": {}, "code": b"", "nonce": 0}
    genesis[bytes.fromhex(CREATE2_DEPLOYER[2:])] = {
        "balance": 0,
        "storage": {},
        "code": CREATE2_DEPLOYER_CODE,
        "nonce": 1,
    }
    w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend(genesis_state=genesis))))
    initcode = bytes.fromhex(load_artifact("SongmintFactory").bytecode[2:])
    tx = {
        "from": DEV_ADDRESS,
        "to": CREATE2_DEPLOYER,
        "data": "0x" + (FACTORY_SALT + initcode).hex(),
        "gas": 10_000_000,
        "nonce": 0,
        "chainId": int(w3.eth.chain_id),
        "value": 0,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
    }
    raw, tx_hash = dev_signer().sign_transaction(tx)
    w3.eth.send_raw_transaction(raw)
    assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
    factory = factory_address(initcode)
    out: dict[str, tuple[bytes, dict[int, int]]] = {factory: (bytes(w3.eth.get_code(factory)), {})}
    for impl in implementations(factory):
        value = int.from_bytes(bytes(w3.eth.get_storage_at(impl, _INITIALIZABLE_SLOT)), "big")
        out[impl] = (bytes(w3.eth.get_code(impl)), {_INITIALIZABLE_SLOT: value} if value else {})
    return out


def install_on_anvil(url: str) -> None:
    """Put :func:`predeployed` on a running anvil (``anvil_setCode`` / ``anvil_setStorageAt``)."""
    from minting.chain.anvil import rpc

    for address, (code, storage) in predeployed().items():
        rpc(url, "anvil_setCode", [address, "0x" + code.hex()], timeout=10.0)
        rpc(url, "anvil_setNonce", [address, hex(3 if not storage else 1)], timeout=10.0)
        for slot, value in storage.items():
            rpc(url, "anvil_setStorageAt", [address, hex(slot), "0x" + f"{value:064x}"], timeout=10.0)
