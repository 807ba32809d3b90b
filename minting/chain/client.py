"""The chain client: deploy SongmintEditions, create-and-mint editions, mint more, never twice.

Layers, each small: :mod:`~minting.chain.networks` (where), :mod:`~minting.chain.accounts` (who),
:mod:`~minting.chain.transactions` (how a transaction is priced, signed, sent and awaited),
:mod:`~minting.chain.journal` (what was intended and what happened), and this module, which
plans contract operations into transactions and reconciles the journal with the chain on resume.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract

from minting.chain.accounts import DEV_ADDRESS, Signer, load_signer
from minting.chain.artifacts import load_artifact
from minting.chain.errors import ChainError, ConfirmationRequired, ContractRevert, NetworkError
from minting.chain.journal import Entry, Journal
from minting.chain.networks import Network, resolve_network
from minting.chain.transactions import Prepared, TxSender

MAX_UINT64 = 2**64 - 1


@dataclass(frozen=True)
class TokenSpec:
    """A token to create: its id, how many editions to mint now, and its edition cap."""

    id: int
    amount: int
    cap: int

    def check(self) -> None:
        if not 0 <= self.id < 2**256:
            raise ChainError(f"token id {self.id} is outside 0 … 2**256-1")
        if not 1 <= self.cap <= MAX_UINT64:
            raise ChainError(f"token {self.id}: edition cap must be 1 … 2**64-1 (got {self.cap})")
        if not 0 <= self.amount <= self.cap:
            raise ChainError(f"token {self.id}: amount {self.amount} must be 0 … its cap {self.cap}")


@dataclass(frozen=True)
class TxRecord:
    """A transaction that landed: kind, hash, block, gas used and the token ids it touched."""

    kind: str
    tx_hash: str
    block: int | None
    gas_used: int | None
    ids: tuple[int, ...] = ()


@dataclass
class MintResult:
    """What :meth:`ChainClient.create_and_mint` / :meth:`ChainClient.mint` did.

    ``done`` maps each token id to the editions minted by this operation (in this run or an
    earlier, interrupted one: ``resumed`` lists those the journal already had); ``skipped`` lists
    ids that already existed on chain before this operation and were left alone.
    """

    op: str
    contract: str
    to: str
    done: dict[int, int] = field(default_factory=dict)
    resumed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    txs: list[TxRecord] = field(default_factory=list)

    @property
    def gas_used(self) -> int:
        return sum(t.gas_used or 0 for t in self.txs)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["done"] = {str(k): v for k, v in self.done.items()}
        d["gas_used"] = self.gas_used
        return d


@dataclass(frozen=True)
class PlannedTx:
    """A transaction a dry run would send, with its estimated gas."""

    kind: str
    description: str
    to: str | None
    gas: int
    ids: tuple[int, ...] = ()


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
            f"  total ~{self.total_gas:,} gas; expected {self.expected_cost_wei / 1e18:.6f} ETH, "
            f"at most {self.max_cost_wei / 1e18:.6f} ETH"
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
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Deployment:
    address: str
    tx_hash: str | None
    block: int | None
    gas_used: int | None


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def memory_web3() -> Web3:
    """A fresh in-process eth-tester chain whose first funded account is anvil's dev account."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider

    genesis = PyEVMBackend.generate_genesis_state(num_accounts=1)
    genesis[bytes.fromhex(DEV_ADDRESS[2:])] = {"balance": 10**24, "storage": {}, "code": b"", "nonce": 0}
    backend = PyEVMBackend(genesis_state=genesis)
    return Web3(EthereumTesterProvider(EthereumTester(backend)))


def connect(
    network: str = "local",
    *,
    chain_id: int | None = None,
    keystore: str | None = None,
    password: str | None = None,
    prompt: Callable[[str], str] | None = None,
    yes: bool = False,
    confirmations: int = 1,
    timeout: float = 120.0,
    autostart: bool = True,
    signer: Signer | None = None,
    w3: Web3 | None = None,
    checkpoint: Callable[[str], None] | None = None,
    env: Mapping[str, str] | None = None,
    bump_after: float | None = -1.0,
) -> ChainClient:
    """Connect to a network with a signing account.

    Parameters
    ----------
    network : str
        ``memory``, ``local`` (songmint's anvil; started if not running and ``autostart``) or a
        JSON-RPC URL (then ``chain_id`` is required and checked).
    keystore, password, prompt
        Account source; see :func:`minting.chain.accounts.load_signer`.
    yes : bool
        Allow sending on a non-local network (the CLI's ``--yes``).
    confirmations : int
        Blocks a receipt must have on top (1 = mined).
    signer : Signer, optional
        Use this account instead of loading one.
    w3 : Web3, optional
        Reuse a connection (e.g. the same ``memory`` chain for two clients).
    checkpoint : callable, optional
        Called with ``"intent"``, ``"signed"``, ``"sent"``, ``"receipt"`` (and ``"bumped"``) at each
        journal step (tests use it to kill the process at a precise point).
    env : mapping, optional
        Where ``SONGMINT_PRIVATE_KEY`` / ``SONGMINT_KEYSTORE_PASSWORD`` are read (default ``os.environ``).
    bump_after : float or None
        Seconds without a receipt before the transaction is re-sent with the same nonce and 25 %
        higher fees (repeatedly, until ``timeout``). Default: 90 on non-local networks, never on
        local ones (they mine at once); ``None`` disables it.
    """
    net = resolve_network(network, chain_id=chain_id)
    if w3 is None:
        if net.name == "memory":
            w3 = memory_web3()
        else:
            if net.name == "local" and autostart:
                from minting.chain.anvil import Anvil

                Anvil().start()
            assert net.rpc_url is not None
            w3 = Web3(Web3.HTTPProvider(net.rpc_url, request_kwargs={"timeout": 30}))
    check_chain(net, w3)
    signer = signer or load_signer(net, keystore=keystore, password=password, prompt=prompt, env=env)
    if bump_after is not None and bump_after < 0:
        bump_after = None if net.local else 90.0
    return ChainClient(
        net,
        w3,
        signer,
        yes=yes,
        confirmations=confirmations,
        timeout=timeout,
        checkpoint=checkpoint,
        bump_after=bump_after,
    )


def check_chain(net: Network, w3: Web3 | None = None, *, timeout: float = 10.0) -> None:
    """The node behind ``net`` must answer ``eth_chainId`` with ``net.chain_id``.

    Called by :func:`connect`, and by the release pipeline before any work, so that an
    unreachable node or the wrong chain is a one-line error and nothing is written or sent.

    Raises
    ------
    NetworkError
        When the node does not answer or reports another chain id.
    """
    if w3 is None:
        assert net.rpc_url is not None, "check_chain needs a URL network or a connection"
        w3 = Web3(Web3.HTTPProvider(net.rpc_url, request_kwargs={"timeout": timeout}))
    try:
        actual = int(w3.eth.chain_id)
    except Exception as exc:
        raise NetworkError(f"cannot reach {net}: {type(exc).__name__}") from None
    if actual != net.chain_id:
        raise NetworkError(f"{net.name} reports chain id {actual}, expected {net.chain_id}; nothing was sent")


class ChainClient:
    """Operations on SongmintEditions contracts, journalled; see :func:`connect`."""

    def __init__(
        self,
        network: Network,
        w3: Web3,
        signer: Signer,
        *,
        yes: bool = False,
        confirmations: int = 1,
        timeout: float = 120.0,
        checkpoint: Callable[[str], None] | None = None,
        block_fraction: float = 0.5,
        max_batch: int = 200,
        bump_after: float | None = None,
    ) -> None:
        self.network = network
        self.w3 = w3
        self.signer = signer
        self.yes = yes
        self.artifact = load_artifact("SongmintEditions")
        self.tx = TxSender(w3, signer, abi=self.artifact.abi, confirmations=confirmations, timeout=timeout)
        self.checkpoint = checkpoint or (lambda _name: None)
        self._checked: set[str] = set()
        self.block_fraction = block_fraction
        self.max_batch = max_batch
        self.bump_after = bump_after

    def __repr__(self) -> str:
        return f"ChainClient(network={self.network!s}, account={self.signer.address})"

    @property
    def address(self) -> str:
        return self.signer.address

    def editions(self, address: str) -> Contract:
        """A web3 contract object for the SongmintEditions at ``address`` (checked to hold code that
        answers as SongmintEditions: ERC-1155 via ERC-165 and ``uriPrefixCount``)."""
        try:
            address = to_checksum_address(address)
        except ValueError:
            raise ChainError(f"{address!r} is not an Ethereum address") from None
        if not self.w3.eth.get_code(address):
            raise ChainError(f"no contract at {address} on {self.network}")
        c = self.w3.eth.contract(address=address, abi=self.artifact.abi)
        if address not in self._checked:
            try:
                ok = bool(c.functions.supportsInterface(bytes.fromhex("d9b67a26")).call())
                c.functions.uriPrefixCount().call()
            except Exception:  # any failure means: not our contract
                ok = False
            if not ok:
                raise ChainError(f"the contract at {address} is not a SongmintEditions contract")
            self._checked.add(address)
        return c

    # ---- reads ----------------------------------------------------------------------------

    def contract_info(self, address: str) -> dict[str, Any]:
        """Name, symbol, contract URI, royalty, prefixes, total supply and roles of a deployment."""
        c = self.editions(address)
        f = c.functions
        receiver, bps = f.royaltyInfo(0, 10_000).call()
        n = f.uriPrefixCount().call()
        minter = f.MINTER_ROLE().call()
        return {
            "address": c.address,
            "network": self.network.name,
            "chain_id": self.network.chain_id,
            "name": f.name().call(),
            "symbol": f.symbol().call(),
            "contract_uri": f.contractURI().call(),
            "base_uri": f.uri(2**256 - 1).call(),
            "royalty_receiver": receiver,
            "royalty_bps": bps,
            "uri_prefixes": [f.uriPrefix(i).call() for i in range(1, n + 1)],
            "total_supply": f.totalSupply().call(),
            "account": self.address,
            "account_is_admin": f.hasRole(b"\0" * 32, self.address).call(),
            "account_is_minter": f.hasRole(minter, self.address).call(),
        }

    def token_info(self, address: str, token_id: int) -> dict[str, Any]:
        """Cap, supply, URI prefix, freeze and URI of one token."""
        c = self.editions(address)
        cap, prefix, frozen, override, supply = c.functions.tokenInfo(token_id).call()
        return {
            "id": token_id,
            "exists": cap > 0,
            "cap": cap,
            "supply": supply,
            "uri_prefix": prefix,
            "frozen": frozen,
            "uri_override": override,
            "uri": c.functions.uri(token_id).call(),
        }

    # ---- deploy ---------------------------------------------------------------------------

    def deploy(
        self,
        *,
        name: str,
        symbol: str,
        base_uri: str = "",
        contract_uri: str = "",
        admin: str | None = None,
        royalty_receiver: str | None = None,
        royalty_bps: int = 0,
        journal: Journal | None = None,
        op: str | None = None,
        dry_run: bool = False,
    ) -> Deployment | Plan:
        """Deploy SongmintEditions (admin and minter: ``admin``, default this account).

        With a ``journal`` and the same ``op`` a resumed deploy returns the first deployment
        instead of deploying again.
        """
        if not 0 <= royalty_bps <= 10_000:
            raise ChainError(f"royalty must be 0 … 10000 basis points (got {royalty_bps})")
        admin = to_checksum_address(admin or self.address)
        receiver = to_checksum_address(royalty_receiver or (admin if royalty_bps else "0x" + "00" * 20))
        args = [name, symbol, base_uri, contract_uri, admin, receiver, royalty_bps]
        factory = self.w3.eth.contract(abi=self.artifact.abi, bytecode=self.artifact.bytecode)
        data = factory.constructor(*args).data_in_transaction
        if dry_run:
            gas = self.tx.estimate({"data": data})
            return self._plan([PlannedTx("deploy", f"SongmintEditions {name!r} ({symbol})", None, gas)])
        journal = journal or Journal(":memory:")
        op = op or f"deploy:{self.network.chain_id}:{self.address}:{_digest(args, self.artifact.source_hash)}"
        self._reconcile(journal, op)
        for e in journal.entries(op, status="mined"):
            addr = (e.result or {}).get("contractAddress")
            if addr and self.w3.eth.get_code(addr):
                return Deployment(addr, e.tx_hash, e.block, e.gas_used)
        rec = self._transact(journal, op, "deploy", None, {"args": args}, {"data": data})
        entry = journal.entries(op, status="mined")[-1]
        return Deployment((entry.result or {})["contractAddress"], rec.tx_hash, rec.block, rec.gas_used)

    # ---- URI prefixes -----------------------------------------------------------------------

    def add_uri_prefix(
        self, address: str, prefix: str, *, journal: Journal | None = None, op: str | None = None
    ) -> int:
        """Register ``prefix`` (e.g. ``ipfs://<dirCID>/metadata/``) once; return its index."""
        c = self.editions(address)
        index = int(c.functions.uriPrefixIndex(prefix).call())
        if index:
            return index
        journal = journal or Journal(":memory:")
        op = op or f"prefix:{self.network.chain_id}:{c.address}:{_digest(prefix)}"
        self._reconcile(journal, op)
        index = int(c.functions.uriPrefixIndex(prefix).call())
        if not index:
            data = c.encode_abi("addUriPrefix", args=[prefix])
            self._transact(
                journal, op, "prefix", c.address, {"prefix": prefix}, {"to": c.address, "data": data}
            )
            index = int(c.functions.uriPrefixIndex(prefix).call())
        return index

    # ---- create and mint ----------------------------------------------------------------------

    def create_and_mint(
        self,
        address: str,
        tokens: Sequence[TokenSpec],
        *,
        to: str | None = None,
        uri_prefix: str | None = None,
        journal: Journal | None = None,
        op: str | None = None,
        dry_run: bool = False,
        data: bytes = b"",
    ) -> MintResult | Plan:
        """Create ``tokens`` (id, amount, cap) and mint them to ``to``, in as few transactions as the
        block gas limit allows.

        Parameters
        ----------
        address : str
            The SongmintEditions contract.
        tokens : sequence of TokenSpec
            Unique ids; ``amount`` editions are minted now, up to ``cap`` later.
        to : str, optional
            Recipient; default this account.
        uri_prefix : str, optional
            E.g. ``ipfs://<dirCID>/metadata/``: ``uri(id)`` becomes ``prefix + hex64(id) + ".json"``.
            Registered first if new. Without it the tokens use the contract's ``{id}`` base URI.
        journal : Journal, optional
            Record and resume; with the same ``op`` a rerun after any interruption mints what is
            missing and nothing twice.
        op : str, optional
            Operation key in the journal (default: derived from contract, tokens, recipient, prefix).
        dry_run : bool
            Return a :class:`Plan` (transactions + estimated gas and cost) and send nothing.
        """
        for t in tokens:
            t.check()
        ids = [t.id for t in tokens]
        if len(set(ids)) != len(ids):
            raise ChainError("token ids must be unique within one create_and_mint")
        c = self.editions(address)
        to = to_checksum_address(to or self.address)
        digest = _digest(to, uri_prefix, [asdict(t) for t in tokens])
        op = op or f"create:{self.network.chain_id}:{c.address}:{digest}"
        result = MintResult(op=op, contract=c.address, to=to)
        journal = journal or Journal(":memory:")
        if not dry_run:
            self._reconcile(journal, op)
            for e in journal.entries(op, status="mined"):
                if e.kind == "create":
                    result.resumed += e.payload["ids"]
                    result.txs.append(
                        TxRecord(e.kind, e.tx_hash or "", e.block, e.gas_used, tuple(e.payload["ids"]))
                    )
        pending = [t for t in tokens if t.id not in set(result.resumed)]
        existing = {t.id for t in pending if c.functions.exists(t.id).call()}
        result.skipped = sorted(existing)
        pending = [t for t in pending if t.id not in existing]

        planned: list[PlannedTx] = []
        notes: list[str] = []
        prefix_index = 0
        if uri_prefix is not None:
            prefix_index = int(c.functions.uriPrefixIndex(uri_prefix).call())
            if not prefix_index and pending:
                if dry_run:
                    gas = self.tx.estimate(
                        {"to": c.address, "data": c.encode_abi("addUriPrefix", args=[uri_prefix])}
                    )
                    planned.append(PlannedTx("prefix", f"register URI prefix {uri_prefix}", c.address, gas))
                    notes.append(
                        "create gas estimated as if on the base URI: the prefix is not registered yet"
                    )
                else:
                    prefix_index = self.add_uri_prefix(
                        c.address, uri_prefix, journal=journal, op=op + ":prefix"
                    )

        def call_data(chunk: Sequence[TokenSpec], prefix: int) -> str:
            return c.encode_abi(
                "createBatch",
                args=[
                    to,
                    [t.id for t in chunk],
                    [t.amount for t in chunk],
                    [t.cap for t in chunk],
                    prefix,
                    data,
                ],
            )

        for chunk in self._chunks(pending, lambda ch: call_data(ch, prefix_index), c.address):
            ch_ids = tuple(t.id for t in chunk)
            payload = {
                "ids": list(ch_ids),
                "amounts": [t.amount for t in chunk],
                "caps": [t.cap for t in chunk],
                "to": to,
                "prefix": prefix_index,
            }
            if dry_run:
                gas = self.tx.estimate({"to": c.address, "data": call_data(chunk, prefix_index)})
                planned.append(
                    PlannedTx(
                        "create",
                        f"createBatch of {len(chunk)} token(s) {_ids_text(ch_ids)}",
                        c.address,
                        gas,
                        ch_ids,
                    )
                )
                continue
            rec = self._transact(
                journal,
                op,
                "create",
                c.address,
                payload,
                {"to": c.address, "data": call_data(chunk, prefix_index)},
            )
            result.txs.append(TxRecord("create", rec.tx_hash, rec.block, rec.gas_used, ch_ids))
        if dry_run:
            plan = self._plan(planned)
            plan.notes += notes + (
                [f"already on chain, skipped: {_ids_text(result.skipped)}"] if result.skipped else []
            )
            return plan
        by_id = {t.id: t.amount for t in tokens}
        result.done = {i: by_id[i] for i in ids if i not in existing}
        return result

    def mint(
        self,
        address: str,
        amounts: Mapping[int, int],
        *,
        to: str | None = None,
        journal: Journal | None = None,
        op: str | None = None,
        dry_run: bool = False,
        data: bytes = b"",
    ) -> MintResult | Plan:
        """Mint more editions of existing tokens (``amounts``: id → editions), each up to its cap.

        Minting is not idempotent on chain, so the journal is what makes it safe to rerun: with
        the same ``op`` (default: derived from contract, recipient and amounts) a rerun completes
        an interrupted mint and never repeats a finished one. Pass a new ``op`` to mint again.
        """
        items = [(int(i), int(n)) for i, n in amounts.items()]
        if not items or any(n <= 0 for _, n in items):
            raise ChainError("mint needs at least one token id with a positive amount")
        c = self.editions(address)
        to = to_checksum_address(to or self.address)
        op = op or f"mint:{self.network.chain_id}:{c.address}:{_digest(to, sorted(items))}"
        result = MintResult(op=op, contract=c.address, to=to)
        journal = journal or Journal(":memory:")
        if not dry_run:
            self._reconcile(journal, op)
            for e in journal.entries(op, status="mined"):
                result.resumed += e.payload["ids"]
                result.txs.append(
                    TxRecord(e.kind, e.tx_hash or "", e.block, e.gas_used, tuple(e.payload["ids"]))
                )
        pending = [(i, n) for i, n in items if i not in set(result.resumed)]

        def call_data(chunk: Sequence[tuple[int, int]]) -> str:
            return c.encode_abi("mintBatch", args=[to, [i for i, _ in chunk], [n for _, n in chunk], data])

        planned: list[PlannedTx] = []
        for chunk in self._chunks(pending, call_data, c.address):
            ch_ids = tuple(i for i, _ in chunk)
            if dry_run:
                gas = self.tx.estimate({"to": c.address, "data": call_data(chunk)})
                planned.append(
                    PlannedTx(
                        "mint",
                        f"mintBatch of {len(chunk)} token(s) {_ids_text(ch_ids)}",
                        c.address,
                        gas,
                        ch_ids,
                    )
                )
                continue
            before = [int(c.functions.totalSupply(i).call()) for i in ch_ids]
            payload = {
                "ids": list(ch_ids),
                "amounts": [n for _, n in chunk],
                "to": to,
                "supply_before": before,
            }
            rec = self._transact(
                journal, op, "mint", c.address, payload, {"to": c.address, "data": call_data(chunk)}
            )
            result.txs.append(TxRecord("mint", rec.tx_hash, rec.block, rec.gas_used, ch_ids))
        if dry_run:
            return self._plan(planned)
        result.done = dict(items)
        return result

    # ---- planning helpers ----------------------------------------------------------------------

    def _plan(self, txs: list[PlannedTx]) -> Plan:
        max_fee, expected = self.tx.fee_bounds()
        return Plan(self.network.name, self.network.chain_id, self.address, txs, max_fee, expected)

    def _chunks(
        self, items: Sequence[Any], call_data: Callable[[Sequence[Any]], str], to: str
    ) -> list[list[Any]]:
        """Split ``items`` into batches whose gas stays under ``block_fraction`` of the block gas limit,
        from the measured gas of a probe batch of up to 10 items."""
        items = list(items)
        if not items:
            return []
        probe = items[: min(10, len(items))]
        gas = self.tx.estimate({"to": to, "data": call_data(probe)})
        per_item = max(1, (gas - 21_000) / len(probe))
        budget = self.tx.block_gas_limit() * self.block_fraction - 21_000
        size = max(1, min(self.max_batch, int(budget / (per_item * 1.25))))
        return [items[i : i + size] for i in range(0, len(items), size)]

    # ---- transactions with the journal -------------------------------------------------------

    def _require_permission(self) -> None:
        if not (self.network.local or self.yes):
            raise ConfirmationRequired(
                f"{self.network} is not a local chain: review what would be sent "
                "(--dry-run) and confirm with --yes"
            )

    def _transact(
        self,
        journal: Journal,
        op: str,
        kind: str,
        contract: str | None,
        payload: dict[str, Any],
        call: dict[str, Any],
    ) -> TxRecord:
        """intended → signed → sent → mined, each recorded before the next step happens."""
        self._require_permission()
        seq = journal.intend(
            op=op,
            kind=kind,
            chain_id=self.network.chain_id,
            contract=contract,
            sender=self.address,
            payload=payload,
        )
        self.checkpoint("intent")
        try:
            prepared = self.tx.prepare(call)
        except ContractRevert as exc:
            journal.dropped(seq, note=f"not sent: {exc}")
            raise
        result = None
        if kind == "deploy":
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
        return self._settle(journal, seq, receipt, call)

    def _await(self, journal: Journal, seq: int, prepared: Prepared) -> Any:
        """The receipt of ``prepared`` or of a fee-bumped replacement (same nonce), sent every
        ``bump_after`` seconds while none is mined. A replacement is journalled after it is
        broadcast: if the process dies in between, the journal's hash never lands, its nonce is
        used, and :meth:`_replaced` finds the effect on chain."""
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

    def _reconcile(self, journal: Journal, op: str) -> None:
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
                    if self._replaced(e):
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

    def _replaced(self, e: Entry) -> bool:
        """Whether the effect of ``e`` is on chain although its own transaction never landed."""
        if e.kind == "deploy":
            addr = (e.result or {}).get("contractAddress")
            return bool(addr and self.w3.eth.get_code(addr))
        c = self.w3.eth.contract(address=e.contract, abi=self.artifact.abi)
        if e.kind == "prefix":
            return bool(c.functions.uriPrefixIndex(e.payload["prefix"]).call())
        if e.kind == "create":
            return all(c.functions.exists(i).call() for i in e.payload["ids"])
        if e.kind == "mint":
            return all(
                c.functions.totalSupply(i).call() >= b + n
                for i, n, b in zip(
                    e.payload["ids"], e.payload["amounts"], e.payload["supply_before"], strict=True
                )
            )
        return False


def _ids_text(ids: Sequence[int]) -> str:
    if not ids:
        return "[]"
    shown = ", ".join(str(i) if i < 10**9 else f"0x{i:x}"[:12] + "…" for i in ids[:4])
    return f"[{shown}{', …' if len(ids) > 4 else ''}]"
