"""Calls, plans and the estimator: what an operation would send, and what it would cost.

An operation of the client is a *planner* (it reads the chain and returns a list of :class:`Call`),
then either the :class:`Estimator` (``dry_run``: gas of each call and its cost in ETH at current
fees; nothing is signed) or the journalled :class:`~minting.chain.executor.Executor` (send each
call, never twice). A dry run is therefore exactly "plan + estimate", with no branch inside any
operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from minting.chain.transactions import TxSender


@dataclass(frozen=True)
class Call:
    """One transaction an operation means to send.

    Attributes
    ----------
    kind : str
        Journal kind (``factory``, ``deploy``, ``prefix``, ``create``, ``mint``, ``sale``, …).
    description : str
        One line for a person.
    to : str or None
        Target contract (None: contract creation).
    data : str
        0x-hex call data.
    value : int
        Wei sent with the call.
    payload : dict
        What the journal records (enough to tell, on resume, whether the effect is on chain).
    result : dict, optional
        Known before sending and journalled with the signed transaction (e.g. the CREATE2 address).
    gas_hint : int, optional
        Gas to assume instead of an estimate: the planner sets it when the call cannot be estimated
        yet because an earlier call of the same plan has not been sent (e.g. a release on a factory
        not deployed yet), and leaves it None otherwise.
    note : str, optional
        Said with the estimate (why it is a hint, what it assumes).
    """

    kind: str
    description: str
    to: str | None
    data: str
    value: int = 0
    payload: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    gas_hint: int | None = None
    note: str | None = None

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(self.payload.get("ids", ()))

    def tx(self) -> dict[str, Any]:
        """The ``to``/``data``/``value`` fields of the transaction."""
        call: dict[str, Any] = {"data": self.data}
        if self.to:
            call["to"] = self.to
        if self.value:
            call["value"] = self.value
        return call


@dataclass(frozen=True)
class PlannedTx:
    """A transaction a dry run would send, with its estimated gas."""

    kind: str
    description: str
    to: str | None
    gas: int
    ids: tuple[int, ...] = ()
    value: int = 0


@dataclass
class Plan:
    """The result of ``dry_run=True``: the transactions, their gas and the fee bounds (wei)."""

    network: str
    chain_id: int
    sender: str
    txs: list[PlannedTx]
    max_fee_per_gas: int
    expected_fee_per_gas: int
    notes: list[str] = field(default_factory=list)

    @property
    def total_gas(self) -> int:
        return sum(t.gas for t in self.txs)

    @property
    def total_value(self) -> int:
        return sum(t.value for t in self.txs)

    @property
    def max_cost_wei(self) -> int:
        return self.total_gas * self.max_fee_per_gas

    @property
    def expected_cost_wei(self) -> int:
        return self.total_gas * self.expected_fee_per_gas

    def summary(self) -> str:
        lines = [
            f"{len(self.txs)} transaction(s) from {self.sender} on {self.network} (chain id {self.chain_id}):"
        ]
        lines += [f"  {t.kind:<8} {t.description}  ~{t.gas:,} gas" for t in self.txs]
        lines.append(
            f"  total ~{self.total_gas:,} gas at {self.expected_fee_per_gas / 1e9:.3f} gwei: expected "
            f"{self.expected_cost_wei / 1e18:.6f} ETH, at most {self.max_cost_wei / 1e18:.6f} ETH"
            + (f" (plus {self.total_value / 1e18:.6f} ETH sent as value)" if self.total_value else "")
        )
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "chain_id": self.chain_id,
            "sender": self.sender,
            "txs": [asdict(t) for t in self.txs],
            "total_gas": self.total_gas,
            "max_fee_per_gas": self.max_fee_per_gas,
            "expected_fee_per_gas": self.expected_fee_per_gas,
            "max_cost_wei": self.max_cost_wei,
            "expected_cost_wei": self.expected_cost_wei,
            "expected_cost_eth": self.expected_cost_wei / 1e18,
            "max_cost_eth": self.max_cost_wei / 1e18,
            "notes": self.notes,
        }

    def __add__(self, other: Plan) -> Plan:
        return Plan(
            self.network,
            self.chain_id,
            self.sender,
            self.txs + other.txs,
            self.max_fee_per_gas,
            self.expected_fee_per_gas,
            self.notes + [n for n in other.notes if n not in self.notes],
        )


class Estimator:
    """Gas and cost of a list of calls, from one account, at today's fees; sends nothing.

    Parameters
    ----------
    tx : TxSender
        The account's transaction layer (its ``estimate`` decodes reverts).
    network, chain_id : str, int
        Named in the plan.
    """

    def __init__(self, tx: TxSender, *, network: str, chain_id: int) -> None:
        self.tx = tx
        self.network = network
        self.chain_id = chain_id

    def estimate(self, calls: Sequence[Call], *, notes: Sequence[str] = ()) -> Plan:
        """A :class:`Plan` of ``calls``: each estimated from this account, except those with a
        ``gas_hint`` (they depend on an earlier call of the plan), costed at it with its note."""
        txs: list[PlannedTx] = []
        out_notes = list(notes)
        for c in calls:
            if c.gas_hint is not None:
                gas = c.gas_hint
                if c.note and c.note not in out_notes:
                    out_notes.append(c.note)
            else:
                gas = self.tx.estimate(c.tx())
            txs.append(PlannedTx(c.kind, c.description, c.to, gas, c.ids, c.value))
        max_fee, expected = self.tx.fee_bounds()
        return Plan(self.network, self.chain_id, self.tx.signer.address, txs, max_fee, expected, out_notes)
