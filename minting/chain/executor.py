"""The executor: sends planned calls through the journal, so that none is ever sent twice.

Each call goes intended → signed → sent → mined (see :mod:`minting.chain.journal`), each state
recorded before the next step happens; :meth:`Executor.reconcile` settles what an interrupted run
left open. The executor knows nothing of contracts: whether the effect of a transaction that never
landed is on chain anyway is asked of the ``replaced`` callback the client gives it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from minting.chain.calls import Call
from minting.chain.errors import ChainError, ConfirmationRequired, ContractRevert
from minting.chain.journal import Entry, Journal
from minting.chain.networks import Network
from minting.chain.transactions import Prepared, TxSender


@dataclass(frozen=True)
class TxRecord:
    """A transaction that landed: kind, hash, block, gas used and the token ids it touched."""

    kind: str
    tx_hash: str
    block: int | None
    gas_used: int | None
    ids: tuple[int, ...] = ()

    @classmethod
    def of(cls, e: Entry) -> TxRecord:
        return cls(e.kind, e.tx_hash or "", e.block, e.gas_used, tuple(e.payload.get("ids", ())))


class Executor:
    """Journalled sending for one account on one network.

    Parameters
    ----------
    network : Network
        Where (its ``local`` flag decides whether ``yes`` is needed).
    tx : TxSender
        How one transaction is priced, signed, sent and awaited.
    replaced : callable
        ``replaced(entry) -> bool``: whether the effect of a journalled transaction whose nonce was
        taken by another one is on chain all the same.
    yes : bool
        Sending on a non-local network was confirmed.
    checkpoint : callable, optional
        Called at each journal step (``intent``, ``signed``, ``sent``, ``receipt``, ``bumped``).
    bump_after : float or None
        Seconds without a receipt before a fee-bumped replacement (same nonce) is sent.
    """

    def __init__(
        self,
        network: Network,
        tx: TxSender,
        *,
        replaced: Callable[[Entry], bool],
        yes: bool = False,
        checkpoint: Callable[[str], None] | None = None,
        bump_after: float | None = None,
    ) -> None:
        self.network = network
        self.tx = tx
        self.replaced = replaced
        self.yes = yes
        self.checkpoint = checkpoint or (lambda _name: None)
        self.bump_after = bump_after

    @property
    def sender(self) -> str:
        return self.tx.signer.address

    def require_permission(self) -> None:
        if not (self.network.local or self.yes):
            raise ConfirmationRequired(
                f"{self.network} is not a local chain: review what would be sent "
                "(--dry-run) and confirm with --yes"
            )

    def execute(self, journal: Journal, op: str, calls: Sequence[Call]) -> list[TxRecord]:
        """Send ``calls`` in order under ``op``; return what landed."""
        return [self.send(journal, op, c) for c in calls]

    def send(self, journal: Journal, op: str, call: Call) -> TxRecord:
        """intended → signed → sent → mined, each recorded before the next step happens."""
        self.require_permission()
        seq = journal.intend(
            op=op,
            kind=call.kind,
            chain_id=self.network.chain_id,
            contract=call.to if call.kind not in ("deploy", "factory") else None,
            sender=self.sender,
            payload=call.payload,
        )
        self.checkpoint("intent")
        try:
            prepared = self.tx.prepare(call.tx())
        except ContractRevert as exc:
            journal.dropped(seq, note=f"not sent: {exc}")
            raise
        result = call.result
        if result is None and call.to is None:
            result = {"contractAddress": self.tx.create_address(prepared.nonce)}
        journal.signed(
            seq, nonce=prepared.nonce, tx_hash=prepared.tx_hash, raw_tx=prepared.raw, result=result
        )
        self.checkpoint("signed")
        self.tx.broadcast(prepared.raw)
        journal.sent(seq)
        self.checkpoint("sent")
        receipt = self._await(journal, seq, prepared)
        self.checkpoint("receipt")
        return self._settle(journal, seq, receipt, call.tx())

    def _await(self, journal: Journal, seq: int, prepared: Prepared) -> Any:
        """The receipt of ``prepared`` or of a fee-bumped replacement (same nonce), sent every
        ``bump_after`` seconds while none is mined. A replacement is journalled after it is
        broadcast: if the process dies in between, the journal's hash never lands, its nonce is
        used, and ``replaced`` finds the effect on chain."""
        if self.bump_after is None:
            return self.tx.wait(prepared.tx_hash)
        sent = {prepared.tx_hash: prepared}
        current = prepared
        deadline = time.monotonic() + self.tx.timeout
        next_bump = time.monotonic() + self.bump_after
        while True:
            for tx_hash, p in sent.items():
                receipt = self.tx.receipt(tx_hash)
                if receipt is not None:
                    if tx_hash != current.tx_hash:  # an earlier one won the race: journal that one
                        journal.signed(seq, nonce=p.nonce, tx_hash=tx_hash, raw_tx=p.raw)
                        journal.sent(seq)
                    return self.tx.confirm(receipt)
            now = time.monotonic()
            if now > deadline:
                raise ChainError(
                    f"transaction {current.tx_hash} not mined within {self.tx.timeout:.0f} s "
                    f"({len(sent) - 1} fee bump(s)); run again to resume (the journal has it)"
                )
            if now >= next_bump:
                bumped = self.tx.bump(current)
                try:
                    self.tx.broadcast(bumped.raw)
                except ChainError:
                    pass  # e.g. "replacement underpriced": keep waiting, bump again later
                else:
                    journal.signed(seq, nonce=bumped.nonce, tx_hash=bumped.tx_hash, raw_tx=bumped.raw)
                    journal.sent(seq)
                    sent[bumped.tx_hash] = bumped
                    current = bumped
                    self.checkpoint("bumped")
                next_bump = now + self.bump_after
            time.sleep(0.1)

    def _settle(self, journal: Journal, seq: int, receipt: Any, call: dict[str, Any] | None) -> TxRecord:
        entry = next(e for e in journal.entries() if e.seq == seq)
        if receipt["status"] == 1:
            journal.mined(seq, block=receipt["blockNumber"], gas_used=receipt["gasUsed"])
            return TxRecord(
                entry.kind,
                entry.tx_hash or "",
                receipt["blockNumber"],
                receipt["gasUsed"],
                tuple(entry.payload.get("ids", ())),
            )
        reason = self.tx.replay_revert(receipt, call) if call else ContractRevert("the transaction reverted")
        journal.failed(seq, note=str(reason), block=receipt["blockNumber"], gas_used=receipt["gasUsed"])
        raise reason

    def reconcile(self, journal: Journal, op: str) -> None:
        """Settle every open journal entry of ``op``, and every other open entry of this chain,
        against the chain (see :mod:`minting.chain.journal`)."""
        seen: set[int] = set()
        for e in [*journal.entries(op), *journal.open_entries(chain_id=self.network.chain_id)]:
            if not e.open or e.seq in seen:
                continue
            seen.add(e.seq)
            if e.chain_id != self.network.chain_id:
                raise ChainError(
                    f"journal entry {e.seq} of {op!r} is for chain id {e.chain_id}, "
                    f"not {self.network.chain_id}"
                )
            if e.status == "intended" or not e.tx_hash or e.nonce is None or not e.raw_tx:
                journal.dropped(e.seq, note="never sent (interrupted before signing)")
                continue
            receipt = self.tx.receipt(e.tx_hash)
            if receipt is None and self.tx.is_pending(e.tx_hash):
                receipt = self.tx.wait(e.tx_hash)
            if receipt is None:
                if self.tx.nonce(e.sender, "latest") > e.nonce:
                    if self.replaced(e):
                        journal.mined(
                            e.seq,
                            block=0,
                            gas_used=0,
                            note="nonce used by another transaction with the same effect",
                        )
                    else:
                        journal.dropped(e.seq, note="nonce used by another transaction; redoing")
                    continue
                self.tx.broadcast(bytes.fromhex(e.raw_tx[2:]), rebroadcast=True)
                journal.sent(e.seq)
                receipt = self.tx.wait(e.tx_hash)
            if receipt["status"] == 1:
                journal.mined(e.seq, block=receipt["blockNumber"], gas_used=receipt["gasUsed"])
            else:
                journal.failed(
                    e.seq, note="reverted on chain", block=receipt["blockNumber"], gas_used=receipt["gasUsed"]
                )
