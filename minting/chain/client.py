"""The chain client: releases (factory clones), editions, sales, splits, freezes; never twice.

Layers, each small: :mod:`~minting.chain.networks` (where), :mod:`~minting.chain.accounts` (who),
:mod:`~minting.chain.transactions` (how a transaction is priced, signed, sent and awaited),
:mod:`~minting.chain.journal` (what was intended and what happened),
:mod:`~minting.chain.calls` (planned calls and the estimator), :mod:`~minting.chain.executor`
(the journalled sender), and this module. Every operation here is a *planner* (``plan_*``: reads
the chain, returns :class:`~minting.chain.calls.Call` s) composed with either the estimator
(``dry_run=True`` returns a :class:`Plan`) or the executor (send, journalled, resumable).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract

from minting.chain import deployments
from minting.chain.accounts import DEV_ADDRESS, Signer, load_signer
from minting.chain.artifacts import load_artifact
from minting.chain.calls import Call, Estimator, Plan, PlannedTx
from minting.chain.errors import ChainError, NetworkError
from minting.chain.executor import Executor, TxRecord
from minting.chain.journal import Entry, Journal
from minting.chain.networks import Network, resolve_network
from minting.chain.sales import SaleSpec, sale_from_chain
from minting.chain.transactions import TxSender

__all__ = ["ChainClient", "Deployment", "MintResult", "Plan", "PlannedTx", "TokenSpec", "TxRecord", "connect"]

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
class Deployment:
    """A release contract: its address and the transaction that created it (None: found on chain)."""

    address: str
    tx_hash: str | None
    block: int | None
    gas_used: int | None


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def memory_web3(*, factory: bool = True) -> Web3:
    """A fresh in-process eth-tester chain whose first funded account is anvil's dev account, with
    the CREATE2 deployer and (unless ``factory=False``) songmint's factory from the first block."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider

    genesis = PyEVMBackend.generate_genesis_state(num_accounts=1)
    genesis[bytes.fromhex(DEV_ADDRESS[2:])] = {"balance": 10**24, "storage": {}, "code": b"", "nonce": 0}
    genesis[bytes.fromhex(deployments.CREATE2_DEPLOYER[2:])] = {
        "balance": 0,
        "storage": {},
        "code": deployments.CREATE2_DEPLOYER_CODE,
        "nonce": 1,
    }
    if factory:
        for address, (code, storage) in deployments.predeployed().items():
            nonce = 1 if storage else 3  # the factory made two contracts
            genesis[bytes.fromhex(address[2:])] = {
                "balance": 0,
                "storage": storage,
                "code": code,
                "nonce": nonce,
            }
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
    factory: str | None = None,
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
        Where ``SONGMINT_PRIVATE_KEY`` / ``SONGMINT_KEYSTORE_PASSWORD`` and, for ``local``,
        ``SONGMINT_ANVIL_PORT`` / ``SONGMINT_DATA_DIR`` are read (default ``os.environ``).
    bump_after : float or None
        Seconds without a receipt before the transaction is re-sent with the same nonce and 25 %
        higher fees (repeatedly, until ``timeout``). Default: 90 on non-local networks, never on
        local ones (they mine at once); ``None`` disables it.
    factory : str, optional
        A SongmintFactory already on this chain; default the one at its deterministic address
        (deployed there through the CREATE2 deployer on first use).
    """
    net = resolve_network(network, chain_id=chain_id, env=env)
    if w3 is None:
        if net.name == "memory":
            w3 = memory_web3()
        else:
            if net.name == "local" and autostart:
                from minting.chain.anvil import Anvil

                Anvil(env=env).start()
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
        factory=factory,
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


#: Gas assumed for a release clone when its factory is not on chain yet (measured: benchmarks/gas.py).
RELEASE_GAS_HINT = 330_000
SPLIT_GAS_HINT = 240_000


class ChainClient:
    """Operations on songmint's contracts, journalled; see :func:`connect`.

    Composed of a :class:`~minting.chain.transactions.TxSender` (``tx``), an
    :class:`~minting.chain.calls.Estimator` (``estimator``) and an
    :class:`~minting.chain.executor.Executor` (``executor``); each operation plans calls and hands
    them to one or the other.
    """

    def __init__(
        self,
        network: Network,
        w3: Web3,
        signer: Signer,
        *,
        factory: str | None = None,
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
        self.artifact = load_artifact("SongmintEditions")
        self.split_artifact = load_artifact("SongmintSplit")
        self.factory_artifact = load_artifact("SongmintFactory")
        abi = self.artifact.abi + [
            e for a in (self.split_artifact, self.factory_artifact) for e in a.abi if e["type"] == "error"
        ]
        self.tx = TxSender(w3, signer, abi=abi, confirmations=confirmations, timeout=timeout)
        self.estimator = Estimator(self.tx, network=network.name, chain_id=network.chain_id)
        self.executor = Executor(
            network, self.tx, replaced=self._replaced, yes=yes, checkpoint=checkpoint, bump_after=bump_after
        )
        self.factory_address = to_checksum_address(
            factory or deployments.factory_address(bytes.fromhex(self.factory_artifact.bytecode[2:]))
        )
        self._checked: set[str] = set()
        self.block_fraction = block_fraction
        self.max_batch = max_batch

    def __repr__(self) -> str:
        return f"ChainClient(network={self.network!s}, account={self.signer.address})"

    @property
    def address(self) -> str:
        return self.signer.address

    @property
    def yes(self) -> bool:
        return self.executor.yes

    @property
    def checkpoint(self) -> Callable[[str], None]:
        return self.executor.checkpoint

    def editions(self, address: str) -> Contract:
        """A web3 contract object for the SongmintEditions at ``address`` (checked to hold code that
        answers as SongmintEditions: ERC-1155 via ERC-165 and ``uriPrefixCount``)."""
        address = _address(address)
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

    def split(self, address: str) -> Contract:
        """A web3 contract object for the SongmintSplit at ``address``."""
        address = _address(address)
        c = self.w3.eth.contract(address=address, abi=self.split_artifact.abi)
        try:
            c.functions.TOTAL_BPS().call()
        except Exception:
            raise ChainError(f"the contract at {address} is not a SongmintSplit on {self.network}") from None
        return c

    def factory(self) -> Contract:
        return self.w3.eth.contract(address=self.factory_address, abi=self.factory_artifact.abi)

    # ---- composing: plan → estimate | execute ------------------------------------------------

    def _run(
        self,
        op: str,
        plan: Callable[[], list[Call]],
        *,
        journal: Journal | None,
        dry_run: bool,
        once: bool = True,
    ) -> list[TxRecord] | Plan:
        """Estimate ``plan()`` (dry run) or execute it under ``op``. With ``once`` an ``op`` that has a
        mined entry is done: a rerun sends nothing (planners check the chain as well)."""
        if dry_run:
            return self.estimator.estimate(plan())
        journal = journal or Journal(":memory:")
        self.executor.reconcile(journal, op)
        mined = journal.entries(op, status="mined")
        if once and mined:
            return [TxRecord.of(e) for e in mined]
        return self.executor.execute(journal, op, plan())

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
            "funds_recipient": f.fundsRecipient().call(),
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

    def sale_info(self, address: str, token_id: int, wallet: str | None = None) -> dict[str, Any]:
        """The sale of one token (price, window, limit, pause, recipient, allowlist root), what
        ``wallet`` bought of it, and how many editions are left."""
        c = self.editions(address)
        wallet = _address(wallet or self.address)
        sale, recipient, bought_public, bought_allow = c.functions.saleInfo(token_id, wallet).call()
        cap, _p, _f, _o, supply = c.functions.tokenInfo(token_id).call()
        info = sale_from_chain(sale, recipient)
        info.update(
            {
                "id": token_id,
                "cap": cap,
                "supply": supply,
                "left": (cap - supply) if cap and cap != MAX_UINT64 else None,
                "wallet": wallet,
                "bought_public": bought_public,
                "bought_allowlist": bought_allow,
            }
        )
        return info

    def split_info(self, address: str) -> dict[str, Any]:
        """Payees, shares (bps), what each withdrew and may withdraw now (wei)."""
        s = self.split(address)
        payees, bps = s.functions.payees().call()
        return {
            "address": s.address,
            "balance": self.w3.eth.get_balance(s.address),
            "total_released": s.functions.totalReleased().call(),
            "payees": [
                {
                    "address": p,
                    "bps": b,
                    "released": s.functions.released(p).call(),
                    "releasable": s.functions.releasable(p).call(),
                }
                for p, b in zip(payees, bps, strict=True)
            ],
        }

    # ---- deploy ---------------------------------------------------------------------------

    def plan_factory(self) -> list[Call]:
        """Deploy the factory through the CREATE2 deployer, unless it is on chain already."""
        if self.w3.eth.get_code(self.factory_address):
            return []
        if not self.w3.eth.get_code(deployments.CREATE2_DEPLOYER):
            raise ChainError(
                f"{self.network} has no CREATE2 deployer at {deployments.CREATE2_DEPLOYER} and no "
                "SongmintFactory: deploy one and pass its address (factory=…)"
            )
        data = "0x" + deployments.FACTORY_SALT.hex() + self.factory_artifact.bytecode[2:]
        return [
            Call(
                "factory",
                "SongmintFactory (once per chain) and its implementations",
                deployments.CREATE2_DEPLOYER,
                data,
                payload={"address": self.factory_address},
                result={"contractAddress": self.factory_address},
            )
        ]

    def ensure_factory(self, *, journal: Journal | None = None) -> str:
        """The factory's address, deploying it first where it is missing (journalled)."""
        op = f"factory:{self.network.chain_id}:{self.factory_address}"
        self._run(op, self.plan_factory, journal=journal, dry_run=False)
        return self.factory_address

    def _release_config(
        self,
        name: str,
        symbol: str,
        base_uri: str,
        contract_uri: str,
        admin: str | None,
        royalty_receiver: str | None,
        royalty_bps: int,
        funds_recipient: str | None,
    ) -> tuple[Any, ...]:
        if not 0 <= royalty_bps <= 10_000:
            raise ChainError(f"royalty must be 0 … 10000 basis points (got {royalty_bps})")
        admin = _address(admin or self.address)
        zero = "0x" + "00" * 20
        receiver = _address(royalty_receiver or (admin if royalty_bps else zero))
        funds = _address(funds_recipient or zero)
        return (name, symbol, base_uri, contract_uri, admin, receiver, royalty_bps, funds)

    def plan_deploy(self, config: tuple[Any, ...], salt: bytes) -> list[Call]:
        """Calls that make the release clone with ``config`` at its CREATE2 address."""
        predicted = deployments.release_address(self.factory_address, self.address, salt)
        if self.w3.eth.get_code(predicted):
            return []
        data = self.factory().encode_abi("createRelease", args=[salt, config])
        return [
            Call(
                "deploy",
                f"SongmintEditions {config[0]!r} ({config[1]}): a clone at {predicted}",
                self.factory_address,
                data,
                payload={"args": list(config), "salt": "0x" + salt.hex(), "address": predicted},
                result={"contractAddress": predicted},
                gas_hint=None if self.w3.eth.get_code(self.factory_address) else RELEASE_GAS_HINT,
                note=f"release gas is the measured {RELEASE_GAS_HINT:,}: the factory is not deployed yet",
            )
        ]

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
        funds_recipient: str | None = None,
        journal: Journal | None = None,
        op: str | None = None,
        salt: bytes | None = None,
        dry_run: bool = False,
    ) -> Deployment | Plan:
        """Deploy a release: a SongmintEditions clone (admin and minter: ``admin``, default this
        account) at the CREATE2 address the factory gives ``salt`` (default: derived from ``op``).

        With a ``journal`` and the same ``op`` a resumed deploy returns the first deployment
        instead of deploying again; the journal confirms it by the code at the predicted address.
        Sale revenue goes to ``funds_recipient`` (default the admin), e.g. a split.
        """
        config = self._release_config(
            name, symbol, base_uri, contract_uri, admin, royalty_receiver, royalty_bps, funds_recipient
        )
        if op is None:
            digest = _digest(list(config), self.artifact.source_hash)
            op = f"deploy:{self.network.chain_id}:{self.address}:{digest}"
            if journal is None:  # nothing to resume from: a fresh release each call
                op += f":{self.tx.nonce(self.address)}"
        salt = salt or keccak(text=op)
        if dry_run:
            return self.estimator.estimate(self.plan_factory() + self.plan_deploy(config, salt))
        journal = journal or Journal(":memory:")
        self.ensure_factory(journal=journal)
        predicted = deployments.release_address(self.factory_address, self.address, salt)
        self._run(op, lambda: self.plan_deploy(config, salt), journal=journal, dry_run=False)
        for e in journal.entries(op, status="mined"):
            addr = (e.result or {}).get("contractAddress")
            if addr == predicted:
                return Deployment(addr, e.tx_hash, e.block, e.gas_used)
        if not self.w3.eth.get_code(predicted):
            raise ChainError(f"the release at {predicted} has no code after its deploy")
        return Deployment(predicted, None, None, None)

    # ---- splits -----------------------------------------------------------------------------

    def plan_split(self, payees: Sequence[str], bps: Sequence[int]) -> tuple[str, list[Call]]:
        payees = [_address(p) for p in payees]
        bps = [int(b) for b in bps]
        if len(payees) != len(bps) or not payees:
            raise ChainError("a split needs one share per payee")
        if sum(bps) != 10_000:
            raise ChainError(f"split shares must sum to 10000 basis points (100 %), not {sum(bps)}")
        address = deployments.split_address(self.factory_address, payees, bps)
        if self.w3.eth.get_code(address):
            return address, []
        data = self.factory().encode_abi("createSplit", args=[payees, bps])
        text = ", ".join(f"{p[:10]}… {b / 100:g} %" for p, b in zip(payees, bps, strict=True))
        return address, [
            Call(
                "split",
                f"split {text} at {address}",
                self.factory_address,
                data,
                payload={"payees": payees, "bps": bps, "address": address},
                result={"contractAddress": address},
                gas_hint=None if self.w3.eth.get_code(self.factory_address) else SPLIT_GAS_HINT,
                note="the split's gas is a hint: the factory is not deployed yet",
            )
        ]

    def create_split(
        self,
        payees: Sequence[str],
        bps: Sequence[int],
        *,
        journal: Journal | None = None,
        op: str | None = None,
        dry_run: bool = False,
    ) -> str | Plan:
        """Create the split (payees, shares in basis points summing to 10 000); return its address.
        The address depends only on payees and shares, so the same split is reused, never remade."""
        address, _ = self.plan_split(payees, bps)
        if dry_run:
            return self.estimator.estimate(self.plan_factory() + self.plan_split(payees, bps)[1])
        self.ensure_factory(journal=journal)
        op = op or f"split:{self.network.chain_id}:{address}"
        self._run(op, lambda: self.plan_split(payees, bps)[1], journal=journal, dry_run=False)
        return address

    def plan_withdraw(self, split: str, payees: Sequence[str] | None = None) -> list[Call]:
        """One ``withdraw`` per payee with something to withdraw (default: every payee)."""
        s = self.split(split)
        accounts, _ = s.functions.payees().call()
        chosen = [_address(p) for p in payees] if payees else list(accounts)
        calls = []
        for p in chosen:
            if p not in accounts:
                raise ChainError(f"{p} is not a payee of the split at {s.address}")
            amount = int(s.functions.releasable(p).call())
            if amount:
                calls.append(
                    Call(
                        "withdraw",
                        f"pay {p} {amount / 1e18:.6f} ETH from the split",
                        s.address,
                        s.encode_abi("withdraw", args=[p]),
                        payload={"payee": p, "amount": str(amount)},
                    )
                )
        return calls

    def withdraw(
        self,
        split: str,
        payees: Sequence[str] | None = None,
        *,
        journal: Journal | None = None,
        op: str | None = None,
        dry_run: bool = False,
    ) -> list[TxRecord] | Plan:
        """Pay each payee (default all) what the split owes them now. Not journalled as "once": a
        rerun pays what came in since (the planner skips payees with nothing to withdraw)."""
        op = op or f"withdraw:{self.network.chain_id}:{_address(split)}:{self.tx.nonce(self.address)}"
        return self._run(
            op, lambda: self.plan_withdraw(split, payees), journal=journal, dry_run=dry_run, once=False
        )

    # ---- sales ------------------------------------------------------------------------------

    def plan_sale(self, address: str, sales: Mapping[int, SaleSpec]) -> list[Call]:
        """``setSale`` for each token whose sale on chain differs from ``sales``."""
        c = self.editions(address)
        calls = []
        for token_id, spec in sales.items():
            config = spec.config()
            sale, _r, _b, _a = c.functions.saleInfo(token_id, self.address).call()
            if _same_sale(sale, config):
                continue
            if not c.functions.exists(token_id).call():
                raise ChainError(f"token {token_id} does not exist on {c.address}; create it first")
            calls.append(
                Call(
                    "sale",
                    f"sale of token {token_id}: {spec.price / 1e18:g} ETH"
                    + (f", {spec.per_wallet} per wallet" if spec.per_wallet else "")
                    + (", allowlist" if config[7] != b"\0" * 32 else ""),
                    c.address,
                    c.encode_abi("setSale", args=[token_id, config]),
                    payload={"ids": [token_id], "config": _jsonable(config)},
                )
            )
        return calls

    def set_sales(
        self,
        address: str,
        sales: Mapping[int, SaleSpec],
        *,
        journal: Journal | None = None,
        op: str | None = None,
        dry_run: bool = False,
    ) -> list[TxRecord] | Plan:
        """Set the sale of each token (id → :class:`SaleSpec`); tokens whose sale already matches
        are left alone, so a rerun after an interruption sends only what is missing."""
        c = self.editions(address)
        op = (
            op
            or f"sale:{self.network.chain_id}:{c.address}:"
            f"{_digest({k: _jsonable(v.config()) for k, v in sales.items()})}"
        )
        return self._run(
            op, lambda: self.plan_sale(address, sales), journal=journal, dry_run=dry_run, once=False
        )

    def plan_pause(self, address: str, token_ids: Sequence[int], paused: bool) -> list[Call]:
        c = self.editions(address)
        calls = []
        for i in token_ids:
            sale = c.functions.saleInfo(i, self.address).call()[0]
            if not sale[6]:
                raise ChainError(f"token {i} has no sale to {'pause' if paused else 'resume'}")
            if bool(sale[5]) != paused:
                calls.append(
                    Call(
                        "pause",
                        f"{'pause' if paused else 'resume'} the sale of token {i}",
                        c.address,
                        c.encode_abi("setSalePaused", args=[i, paused]),
                        payload={"ids": [i], "paused": paused},
                    )
                )
        return calls

    def pause_sales(
        self,
        address: str,
        token_ids: Sequence[int],
        *,
        paused: bool = True,
        journal: Journal | None = None,
        op: str | None = None,
        dry_run: bool = False,
    ) -> list[TxRecord] | Plan:
        """Pause (or resume, ``paused=False``) the sales of ``token_ids``."""
        op = op or f"pause:{self.network.chain_id}:{_address(address)}:{_digest(sorted(token_ids), paused)}"
        return self._run(
            op,
            lambda: self.plan_pause(address, token_ids, paused),
            journal=journal,
            dry_run=dry_run,
            once=False,
        )

    def plan_purchase(
        self, address: str, token_id: int, quantity: int, *, allowlisted: dict[str, Any] | None = None
    ) -> list[Call]:
        """A collector's purchase at the public price or, with ``allowlisted`` ({max_quantity,
        price, proof}), through the allowlist. Revert reasons surface at estimation."""
        c = self.editions(address)
        if allowlisted:
            price = int(allowlisted["price"])
            proof = [bytes.fromhex(p[2:]) for p in allowlisted["proof"]]
            args = [token_id, quantity, int(allowlisted["max_quantity"]), price, proof]
            data = c.encode_abi("purchaseAllowlisted", args=args)
        else:
            price = int(c.functions.saleInfo(token_id, self.address).call()[0][0])
            data = c.encode_abi("purchase", args=[token_id, quantity])
        value = price * quantity
        return [
            Call(
                "purchase",
                f"buy {quantity} of token {token_id} for {value / 1e18:g} ETH"
                + (" (allowlist)" if allowlisted else ""),
                c.address,
                data,
                value=value,
                payload={"ids": [token_id], "quantity": quantity, "value": str(value)},
            )
        ]

    def purchase(
        self,
        address: str,
        token_id: int,
        quantity: int,
        *,
        allowlisted: dict[str, Any] | None = None,
        journal: Journal | None = None,
        op: str | None = None,
        dry_run: bool = False,
    ) -> list[TxRecord] | Plan:
        """Buy ``quantity`` editions of ``token_id`` from this account (journalled: one ``op``, one
        purchase)."""
        op = (
            op
            or f"purchase:{self.network.chain_id}:{_address(address)}:{token_id}:"
            f"{self.tx.nonce(self.address)}"
        )
        return self._run(
            op,
            lambda: self.plan_purchase(address, token_id, quantity, allowlisted=allowlisted),
            journal=journal,
            dry_run=dry_run,
        )

    def plan_recipients(
        self, address: str, *, funds: str | None = None, royalty: tuple[str, int] | None = None
    ) -> list[Call]:
        """``setFundsRecipient`` and ``setDefaultRoyalty`` where the chain differs (e.g. both to a split)."""
        c = self.editions(address)
        calls = []
        if funds is not None and c.functions.fundsRecipient().call() != _address(funds):
            calls.append(
                Call(
                    "recipient",
                    f"sale revenue to {funds}",
                    c.address,
                    c.encode_abi("setFundsRecipient", args=[_address(funds)]),
                    payload={"funds": _address(funds)},
                )
            )
        if royalty is not None:
            receiver, bps = _address(royalty[0]), int(royalty[1])
            if list(c.functions.royaltyInfo(0, 10_000).call()) != [receiver, bps]:
                calls.append(
                    Call(
                        "royalty",
                        f"royalties ({bps / 100:g} %) to {receiver}",
                        c.address,
                        c.encode_abi("setDefaultRoyalty", args=[receiver, bps]),
                        payload={"receiver": receiver, "bps": bps},
                    )
                )
        return calls

    def set_recipients(
        self,
        address: str,
        *,
        funds: str | None = None,
        royalty: tuple[str, int] | None = None,
        journal: Journal | None = None,
        op: str | None = None,
        dry_run: bool = False,
    ) -> list[TxRecord] | Plan:
        """Point sale revenue (``funds``) and the default ERC-2981 royalty at an address (a split)."""
        op = op or f"recipients:{self.network.chain_id}:{_address(address)}:{_digest(funds, royalty)}"
        return self._run(
            op,
            lambda: self.plan_recipients(address, funds=funds, royalty=royalty),
            journal=journal,
            dry_run=dry_run,
            once=False,
        )

    # ---- metadata freeze, lazy registration ---------------------------------------------------

    def plan_freeze(self, address: str, token_ids: Sequence[int]) -> list[Call]:
        c = self.editions(address)
        calls = []
        for i in token_ids:
            cap, _p, frozen, _o, _s = c.functions.tokenInfo(i).call()
            if not cap:
                raise ChainError(f"token {i} does not exist on {c.address}")
            if not frozen:
                calls.append(
                    Call(
                        "freeze",
                        f"freeze the metadata of token {i} for good",
                        c.address,
                        c.encode_abi("freezeMetadata", args=[i]),
                        payload={"ids": [i]},
                    )
                )
        return calls

    def freeze(
        self,
        address: str,
        token_ids: Sequence[int],
        *,
        journal: Journal | None = None,
        op: str | None = None,
        dry_run: bool = False,
    ) -> list[TxRecord] | Plan:
        """Freeze the metadata of ``token_ids`` for good (tokens frozen already are skipped)."""
        op = op or f"freeze:{self.network.chain_id}:{_address(address)}:{_digest(sorted(token_ids))}"
        return self._run(
            op, lambda: self.plan_freeze(address, token_ids), journal=journal, dry_run=dry_run, once=False
        )

    def plan_register(self, address: str, root: bytes) -> list[Call]:
        c = self.editions(address)
        if c.functions.tokenRootRegistered(root).call():
            return []
        return [
            Call(
                "register",
                f"register a release's lazily created tokens (root 0x{root.hex()[:12]}…)",
                c.address,
                c.encode_abi("registerTokens", args=[root, True]),
                payload={"root": "0x" + root.hex()},
            )
        ]

    def register_tokens(
        self,
        address: str,
        root: bytes,
        *,
        journal: Journal | None = None,
        op: str | None = None,
        dry_run: bool = False,
    ) -> list[TxRecord] | Plan:
        """Gasless creation: one write registers every token under ``root`` (see
        :func:`minting.chain.sales.lazy_leaf`); each is created by its first purchase."""
        op = op or f"register:{self.network.chain_id}:{_address(address)}:0x{root.hex()}"
        return self._run(op, lambda: self.plan_register(address, root), journal=journal, dry_run=dry_run)

    # ---- URI prefixes -----------------------------------------------------------------------

    def plan_prefix(self, address: str, prefix: str) -> list[Call]:
        c = self.editions(address)
        if int(c.functions.uriPrefixIndex(prefix).call()):
            return []
        return [
            Call(
                "prefix",
                f"register URI prefix {prefix}",
                c.address,
                c.encode_abi("addUriPrefix", args=[prefix]),
                payload={"prefix": prefix},
            )
        ]

    def add_uri_prefix(
        self, address: str, prefix: str, *, journal: Journal | None = None, op: str | None = None
    ) -> int:
        """Register ``prefix`` (e.g. ``ipfs://<dirCID>/metadata/``) once; return its index."""
        c = self.editions(address)
        op = op or f"prefix:{self.network.chain_id}:{c.address}:{_digest(prefix)}"
        self._run(op, lambda: self.plan_prefix(address, prefix), journal=journal, dry_run=False, once=False)
        return int(c.functions.uriPrefixIndex(prefix).call())

    # ---- create and mint ----------------------------------------------------------------------

    def plan_create(
        self,
        address: str,
        tokens: Sequence[TokenSpec],
        *,
        to: str,
        prefix_index: int,
        data: bytes = b"",
    ) -> list[Call]:
        """``createBatch`` calls for ``tokens``, in batches that fit the block (see :meth:`_chunks`)."""
        c = self.editions(address)

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

        calls = []
        for chunk in self._chunks(tokens, lambda ch: call_data(ch, prefix_index), c.address):
            ids = [t.id for t in chunk]
            payload = {
                "ids": ids,
                "amounts": [t.amount for t in chunk],
                "caps": [t.cap for t in chunk],
                "to": to,
                "prefix": prefix_index,
            }
            calls.append(
                Call(
                    "create",
                    f"createBatch of {len(chunk)} token(s) {_ids_text(ids)}",
                    c.address,
                    call_data(chunk, prefix_index),
                    payload=payload,
                )
            )
        return calls

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
        to = _address(to or self.address)
        digest = _digest(to, uri_prefix, [asdict(t) for t in tokens])
        op = op or f"create:{self.network.chain_id}:{c.address}:{digest}"
        result = MintResult(op=op, contract=c.address, to=to)
        journal = journal or Journal(":memory:")
        if not dry_run:
            self.executor.reconcile(journal, op)
            for e in journal.entries(op, status="mined"):
                if e.kind == "create":
                    result.resumed += e.payload["ids"]
                    result.txs.append(TxRecord.of(e))
        pending = [t for t in tokens if t.id not in set(result.resumed)]
        existing = {t.id for t in pending if c.functions.exists(t.id).call()}
        result.skipped = sorted(existing)
        pending = [t for t in pending if t.id not in existing]

        prefix_calls: list[Call] = []
        prefix_index = 0
        if uri_prefix is not None and pending:
            prefix_calls = self.plan_prefix(c.address, uri_prefix)
            if not prefix_calls:
                prefix_index = int(c.functions.uriPrefixIndex(uri_prefix).call())
        if dry_run:
            notes = []
            if prefix_calls:  # createBatch on an unregistered prefix would revert: size it on the base URI
                notes.append("create gas estimated as if on the base URI: the prefix is not registered yet")
            calls = prefix_calls + self.plan_create(
                c.address, pending, to=to, prefix_index=0 if prefix_calls else prefix_index, data=data
            )
            plan = self.estimator.estimate(calls, notes=notes)
            if result.skipped:
                plan.notes.append(f"already on chain, skipped: {_ids_text(result.skipped)}")
            return plan
        if prefix_calls:
            prefix_index = self.add_uri_prefix(
                c.address, uri_prefix or "", journal=journal, op=op + ":prefix"
            )
        for rec in self.executor.execute(
            journal, op, self.plan_create(c.address, pending, to=to, prefix_index=prefix_index, data=data)
        ):
            result.txs.append(rec)
        by_id = {t.id: t.amount for t in tokens}
        result.done = {i: by_id[i] for i in ids if i not in existing}
        return result

    def plan_mint(
        self, address: str, items: Sequence[tuple[int, int]], *, to: str, data: bytes = b""
    ) -> list[Call]:
        c = self.editions(address)

        def call_data(chunk: Sequence[tuple[int, int]]) -> str:
            return c.encode_abi("mintBatch", args=[to, [i for i, _ in chunk], [n for _, n in chunk], data])

        calls = []
        for chunk in self._chunks(items, call_data, c.address):
            ids = [i for i, _ in chunk]
            calls.append(
                Call(
                    "mint",
                    f"mintBatch of {len(chunk)} token(s) {_ids_text(ids)}",
                    c.address,
                    call_data(chunk),
                    payload={
                        "ids": ids,
                        "amounts": [n for _, n in chunk],
                        "to": to,
                        "supply_before": [int(c.functions.totalSupply(i).call()) for i in ids],
                    },
                )
            )
        return calls

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
        to = _address(to or self.address)
        op = op or f"mint:{self.network.chain_id}:{c.address}:{_digest(to, sorted(items))}"
        if dry_run:
            return self.estimator.estimate(self.plan_mint(c.address, items, to=to, data=data))
        result = MintResult(op=op, contract=c.address, to=to)
        journal = journal or Journal(":memory:")
        self.executor.reconcile(journal, op)
        for e in journal.entries(op, status="mined"):
            result.resumed += e.payload["ids"]
            result.txs.append(TxRecord.of(e))
        pending = [(i, n) for i, n in items if i not in set(result.resumed)]
        result.txs += self.executor.execute(journal, op, self.plan_mint(c.address, pending, to=to, data=data))
        result.done = dict(items)
        return result

    # ---- planning helpers ----------------------------------------------------------------------

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

    def _replaced(self, e: Entry) -> bool:
        """Whether the effect of ``e`` is on chain although its own transaction never landed."""
        if e.kind in ("deploy", "factory", "split"):
            addr = (e.result or {}).get("contractAddress") or e.payload.get("address")
            return bool(addr and self.w3.eth.get_code(addr))
        if e.kind in ("withdraw", "purchase"):
            return False  # not idempotent and not recognisable: the planner re-plans what is owed
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
        if e.kind == "sale":
            (i,) = e.payload["ids"]
            sale = c.functions.saleInfo(i, self.address).call()[0]
            return _jsonable(tuple(sale[:6]) + tuple(sale[7:])) == _jsonable(tuple(e.payload["config"]))
        if e.kind == "pause":
            (i,) = e.payload["ids"]
            return bool(c.functions.saleInfo(i, self.address).call()[0][5]) == e.payload["paused"]
        if e.kind == "freeze":
            return all(c.functions.tokenInfo(i).call()[2] for i in e.payload["ids"])
        if e.kind == "recipient":
            return bool(c.functions.fundsRecipient().call() == e.payload["funds"])
        if e.kind == "royalty":
            return list(c.functions.royaltyInfo(0, 10_000).call()) == [
                e.payload["receiver"],
                e.payload["bps"],
            ]
        if e.kind == "register":
            return bool(c.functions.tokenRootRegistered(bytes.fromhex(e.payload["root"][2:])).call())
        return False


def _address(value: str) -> str:
    try:
        return to_checksum_address(value)
    except (ValueError, TypeError):
        raise ChainError(f"{value!r} is not an Ethereum address") from None


def _jsonable(config: Sequence[Any]) -> list[Any]:
    return ["0x" + bytes(v).hex() if isinstance(v, bytes | bytearray) else v for v in config]


def _same_sale(sale: Sequence[Any], config: Sequence[Any]) -> bool:
    """A Sale struct read from chain (with its ``configured`` flag) against a SaleConfig tuple."""
    if not sale[6]:
        return False
    return _jsonable(tuple(sale[:6]) + tuple(sale[7:])) == _jsonable(config)


def _ids_text(ids: Sequence[int]) -> str:
    if not ids:
        return "[]"
    shown = ", ".join(str(i) if i < 10**9 else f"0x{i:x}"[:12] + "…" for i in ids[:4])
    return f"[{shown}{', …' if len(ids) > 4 else ''}]"
