"""Pricing, signing, sending and awaiting one transaction (EIP-1559 when the chain has a base fee)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import TimeExhausted, TransactionNotFound

from minting.chain.accounts import Signer
from minting.chain.errors import ChainError, ContractRevert
from minting.chain.reverts import is_revert, revert_from_exception

GAS_MARGIN = 1.2  # estimates move a little with state; 20 % head-room, capped at the block limit
DEFAULT_TIP = 10**9  # 1 gwei when the node cannot suggest a priority fee
BUMP = 1.25  # fee factor of a replacement (nodes want ≥ 1.10)


@dataclass(frozen=True)
class Prepared:
    """A signed transaction ready to broadcast."""

    nonce: int
    gas: int
    tx_hash: str
    raw: bytes
    tx: dict[str, Any]  # the unsigned fields, for a fee bump with the same nonce


class TxSender:
    """Builds, signs, sends and awaits transactions of one account.

    Parameters
    ----------
    w3 : Web3
        The connection.
    signer : Signer
        The sending account.
    abi : list
        ABI whose custom errors decode reverts.
    confirmations : int
        Blocks on top of (and including) the receipt's block to wait for.
    timeout : float
        Seconds to wait for a receipt.
    """

    def __init__(
        self,
        w3: Web3,
        signer: Signer,
        *,
        abi: list[dict[str, Any]],
        confirmations: int = 1,
        timeout: float = 120.0,
    ) -> None:
        self.w3 = w3
        self.signer = signer
        self.abi = abi
        self.confirmations = max(1, confirmations)
        self.timeout = timeout

    @contextlib.contextmanager
    def nonce_lock(self) -> Iterator[None]:
        """Hold this account's nonce on this machine from reading it to broadcasting with it.

        Two processes sending from one account (two releases on one node) would otherwise both read
        the same pending nonce and one would fail with "nonce too low". An ``flock`` on a file named
        after the chain and the account serialises them; the kernel releases it if a process dies.
        """
        chain_id = int(self.w3.eth.chain_id)
        name = hashlib.sha256(f"{chain_id}:{self.signer.address.lower()}".encode()).hexdigest()[:24]
        path = Path(tempfile.gettempdir()) / f"songmint-nonce-{name}.lock"
        with open(path, "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # ---- chain facts ------------------------------------------------------------------------

    def block_gas_limit(self) -> int:
        return int(self.w3.eth.get_block("latest")["gasLimit"])

    def nonce(self, address: str, block: str = "pending") -> int:
        return int(self.w3.eth.get_transaction_count(to_checksum_address(address), block))

    def create_address(self, nonce: int) -> str:
        """Where a deployment from this account at ``nonce`` lands: keccak(rlp(sender, nonce))[12:]."""
        import rlp
        from eth_utils import keccak

        raw = keccak(rlp.encode([bytes.fromhex(self.signer.address[2:]), nonce]))[12:]
        return to_checksum_address(raw)

    def fees(self) -> dict[str, int]:
        """EIP-1559 fields (max fee = 2 × base fee + tip), or a legacy gas price on pre-London chains."""
        block = self.w3.eth.get_block("latest")
        base = block.get("baseFeePerGas")
        if base is None:
            return {"gasPrice": int(self.w3.eth.gas_price)}
        try:
            tip = int(self.w3.eth.max_priority_fee)
        except Exception:
            tip = DEFAULT_TIP
        return {"maxFeePerGas": 2 * int(base) + tip, "maxPriorityFeePerGas": tip}

    def fee_bounds(self) -> tuple[int, int]:
        """(max fee per gas, expected fee per gas) in wei, for cost estimates."""
        fees = self.fees()
        if "gasPrice" in fees:
            return fees["gasPrice"], fees["gasPrice"]
        base = (fees["maxFeePerGas"] - fees["maxPriorityFeePerGas"]) // 2
        return fees["maxFeePerGas"], base + fees["maxPriorityFeePerGas"]

    # ---- estimate, sign, send ---------------------------------------------------------------

    def estimate(self, call: dict[str, Any]) -> int:
        """Gas of ``call`` (``to``/``data``/``value``) from this account; reverts become ContractRevert."""
        tx = {"from": self.signer.address, **call}
        try:
            return int(self.w3.eth.estimate_gas(tx))
        except Exception as exc:
            if is_revert(exc):
                raise revert_from_exception(exc, self.abi) from None
            raise ChainError(f"gas estimation failed: {_short(exc)}") from None

    def prepare(self, call: dict[str, Any]) -> Prepared:
        """Estimate, price and sign ``call`` with the next nonce (nothing is sent)."""
        gas = min(int(self.estimate(call) * GAS_MARGIN), self.block_gas_limit())
        nonce = self.nonce(self.signer.address, "pending")
        tx = {
            "from": self.signer.address,
            "nonce": nonce,
            "gas": gas,
            "chainId": int(self.w3.eth.chain_id),
            "value": int(call.get("value", 0)),
            "data": call["data"],
            **self.fees(),
        }
        if call.get("to"):
            tx["to"] = to_checksum_address(call["to"])
        raw, tx_hash = self.signer.sign_transaction(tx)
        return Prepared(nonce=nonce, gas=gas, tx_hash=tx_hash, raw=raw, tx=tx)

    def bump(self, prepared: Prepared) -> Prepared:
        """The same transaction (same nonce) with fees raised by ``BUMP`` and at least today's: a
        node replaces a pending transaction only for ≥ 10 % more on every fee field."""
        now = self.fees()
        tx = dict(prepared.tx)
        for k in ("maxFeePerGas", "maxPriorityFeePerGas", "gasPrice"):
            if k in tx:
                tx[k] = max(int(tx[k] * BUMP) + 1, int(now.get(k, 0)))
        raw, tx_hash = self.signer.sign_transaction(tx)
        return Prepared(nonce=prepared.nonce, gas=prepared.gas, tx_hash=tx_hash, raw=raw, tx=tx)

    def broadcast(self, raw: bytes, *, rebroadcast: bool = False) -> None:
        """Send a signed transaction. A rebroadcast the node already knows is fine."""
        try:
            self.w3.eth.send_raw_transaction(raw)
        except Exception as exc:
            if rebroadcast and "known" in str(exc).lower():
                return
            if is_revert(exc):
                raise revert_from_exception(exc, self.abi) from None
            raise ChainError(f"sending the transaction failed: {_short(exc)}") from None

    def receipt(self, tx_hash: str) -> Any | None:
        try:
            return self.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None

    def is_pending(self, tx_hash: str) -> bool:
        try:
            self.w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            return False
        return True

    def wait(self, tx_hash: str) -> Any:
        """The receipt of ``tx_hash`` once it has ``confirmations`` blocks."""
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self.timeout, poll_latency=0.1
            )
        except TimeExhausted:
            raise ChainError(
                f"transaction {tx_hash} not mined within {self.timeout:.0f} s; run the same "
                "command again to resume (the journal has it)"
            ) from None
        return self.confirm(receipt)

    def confirm(self, receipt: Any) -> Any:
        """Wait until ``receipt``'s block has ``confirmations`` blocks (itself included)."""
        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        deadline = time.monotonic() + self.timeout
        while self.w3.eth.block_number - receipt["blockNumber"] + 1 < self.confirmations:
            if time.monotonic() > deadline:
                raise ChainError(
                    f"transaction {tx_hash} has fewer than {self.confirmations} confirmations "
                    f"after {self.timeout:.0f} s; run again to resume"
                )
            time.sleep(0.5)
        return receipt

    def replay_revert(self, receipt: Any, call: dict[str, Any]) -> ContractRevert:
        """Why a mined transaction reverted: replay it as a call on the state before its block."""
        tx = {"from": self.signer.address, **call}
        try:
            self.w3.eth.call(tx, max(0, int(receipt["blockNumber"]) - 1))
        except Exception as exc:
            if is_revert(exc):
                return revert_from_exception(exc, self.abi)
        return ContractRevert(f"transaction {receipt['transactionHash'].hex()} reverted (out of gas?)")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}"
