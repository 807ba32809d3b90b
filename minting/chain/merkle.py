"""Merkle trees and proofs as OpenZeppelin's ``MerkleProof`` checks them (sorted pairs, keccak256).

Allowlist leaves bind a wallet, the most editions it may buy and its price:
``keccak256(abi.encode(address, uint256 maxQuantity, uint256 price))`` (96 bytes, so a leaf can
never pass for an inner node, which hashes 64). Lazily registered tokens use
``keccak256(abi.encode(LazyToken))`` (see :func:`minting.chain.sales.lazy_leaf`). Inner nodes are
``keccak256(min(a, b) ‖ max(a, b))``; a level with an odd node carries it up unchanged, which
OpenZeppelin's verifier accepts (a proof simply has one element fewer on that path).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from minting.chain.errors import ChainError


def allowlist_leaf(address: str, max_quantity: int, price: int) -> bytes:
    """The leaf of one allowlist entry (32 bytes)."""
    return keccak(
        abi_encode(["address", "uint256", "uint256"], [to_checksum_address(address), max_quantity, price])
    )


def hash_pair(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin's ``Hashes.commutativeKeccak256``."""
    return keccak(a + b if a < b else b + a)


@dataclass(frozen=True)
class MerkleTree:
    """A tree over ``leaves`` (kept in the given order); ``root`` and ``proof(i)``."""

    leaves: tuple[bytes, ...]
    levels: tuple[tuple[bytes, ...], ...]

    @classmethod
    def build(cls, leaves: Sequence[bytes]) -> MerkleTree:
        if not leaves:
            raise ChainError("a merkle tree needs at least one leaf")
        if len(set(leaves)) != len(leaves):
            raise ChainError("two merkle leaves are identical (a duplicate entry)")
        levels = [tuple(leaves)]
        while len(levels[-1]) > 1:
            prev = levels[-1]
            nxt = tuple(
                hash_pair(prev[i], prev[i + 1]) if i + 1 < len(prev) else prev[i]
                for i in range(0, len(prev), 2)
            )
            levels.append(nxt)
        return cls(tuple(leaves), tuple(levels))

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def proof(self, index: int) -> list[bytes]:
        """The sibling hashes from leaf ``index`` up to the root."""
        out = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                out.append(level[sibling])
            index //= 2
        return out


def verify(proof: Sequence[bytes], root: bytes, leaf: bytes) -> bool:
    """What ``MerkleProof.verify`` answers."""
    node = leaf
    for p in proof:
        node = hash_pair(node, p)
    return node == root
