"""Where songmint's contracts live on a chain, computed before anything is sent.

- The factory is deployed through the CREATE2 deployer that most chains carry at
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
