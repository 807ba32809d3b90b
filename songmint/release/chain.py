"""Stages 7 and 8: deploy the editions contract (or attach to one), then create and mint every
token, journalled so that a killed release resumes without minting twice; or, for a dry run,
plan the same transactions and estimate their gas.

The network and the sending account are resolved once per release (:class:`Sender`), before any
work: the royalty receiver published in ``collection.json`` is the account that deploys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minting.chain import (
    AccountError,
    Journal,
    Network,
    Signer,
    TokenSpec,
    connect,
    load_signer,
    resolve_network,
)
from minting.chain.client import check_chain
from songmint.errors import SongmintError
from songmint.release.metadata import royalty_receiver
from songmint.release.options import Log, Options, announce
from songmint.release.publish import Published
from songmint.release.tokens import Token
from songmint.spec import ReleaseSpec


@dataclass(frozen=True)
class Sender:
    """Where a release sends: the resolved network and, when a key is available, its signer."""

    network: Network
    signer: Signer | None

    @property
    def address(self) -> str | None:
        return None if self.signer is None else self.signer.address

    @property
    def endpoint(self) -> str:
        """What :func:`minting.chain.connect` takes: ``memory``, ``local`` or the RPC URL."""
        net = self.network
        return net.name if net.name in ("memory", "local") or net.rpc_url is None else net.rpc_url

    def will_send(self, opts: Options) -> bool:
        """Transactions go out unless this is a dry run, or a non-local network without ``--yes``."""
        return not opts.dry_run and (opts.yes or self.network.local)


def resolve_sender(spec: ReleaseSpec, opts: Options) -> Sender:
    """The release's network and account, checked before any work.

    A URL network needs its chain id; when the run will send, the node must answer with that chain
    and the account must load (keystore, ``$SONGMINT_PRIVATE_KEY``, or anvil's dev account on a
    local chain). A run that will not send (a dry run, a remote network without ``--yes``) may
    have no key yet: the royalty default then waits for the deploy.
    """
    name = opts.network or spec.network.label
    chain_id = opts.chain_id or (spec.network.chain_id if name == spec.network.label else None)
    net = resolve_network(name, chain_id=chain_id)
    sender = Sender(net, None)
    if net.name not in ("memory", "local") and sender.will_send(opts):
        check_chain(net)
    try:
        signer = load_signer(net, keystore=opts.keystore, prompt=opts.password_prompt)
    except AccountError:
        if sender.will_send(opts) or opts.keystore is not None:
            raise
        signer = None
    return Sender(net, signer)


@dataclass(frozen=True)
class ChainResult:
    """What the chain stages did: transactions, the contract, and per token the supply on chain,
    the recipient and its transactions; or, for a dry run, the plan."""

    transactions: list[dict[str, Any]] = field(default_factory=list)
    chain: dict[str, Any] = field(default_factory=dict)
    minted: dict[int, int] = field(default_factory=dict)
    recipients: dict[int, str] = field(default_factory=dict)
    token_txs: dict[int, list[str]] = field(default_factory=dict)
    plan: dict[str, Any] | None = None


def _groups(tokens: list[Token], sender: str) -> dict[str, list[TokenSpec]]:
    """Token specs per recipient (one create_and_mint per recipient)."""
    groups: dict[str, list[TokenSpec]] = {}
    for t in tokens:
        e = t.editions
        groups.setdefault(e.recipient or sender, []).append(TokenSpec(id=t.id, amount=e.initial, cap=e.cap))
    return groups


def _deploy_args(spec: ReleaseSpec, contract_uri: str, sender: str) -> dict[str, Any]:
    c = spec.collection
    return {
        "name": c.name,
        "symbol": c.symbol,
        "contract_uri": contract_uri,
        "royalty_receiver": royalty_receiver(spec, sender),
        "royalty_bps": c.royalty_bps,
    }


def _tx_json(t: Any) -> dict[str, Any]:
    return {"kind": t.kind, "description": t.description, "to": t.to, "gas": int(t.gas), "ids": list(t.ids)}


def plan(
    spec: ReleaseSpec, tokens: list[Token], published: Published, sender: Sender, opts: Options, log: Log
) -> dict[str, Any]:
    """Plan every transaction with estimated gas; send nothing.

    A new contract's transactions are estimated on a throwaway in-memory chain (the contract does
    not exist yet where it will be deployed); an existing contract's on its own network, where
    fees are priced too.
    """
    c = spec.collection
    net = sender.network
    txs: list[dict[str, Any]] = []
    notes: list[str] = []
    contract_uri = f"ipfs://{published.root}/collection.json"
    if c.contract == "deploy":
        sim = connect("memory")
        args = _deploy_args(spec, contract_uri, sim.address)
        txs += [_tx_json(t) for t in sim.deploy(**args, dry_run=True).txs]
        address = sim.deploy(**args).address
        notes.append(f"estimated on an in-memory chain; the release would go to {net.name}")
    else:
        sim = connect(sender.endpoint, chain_id=net.chain_id, yes=opts.yes, signer=sender.signer)
        address = c.contract
    for to, specs in _groups(tokens, sim.address).items():
        p = sim.create_and_mint(address, specs, to=to, uri_prefix=published.uri_prefix, dry_run=True)
        txs += [
            _tx_json(t) for t in p.txs if not (t.kind == "prefix" and any(x["kind"] == "prefix" for x in txs))
        ]
        notes += p.notes
    for t in txs:
        log(f"  would send {t['kind']:<7} {t['description']}  ~{t['gas']:,} gas")
    total = sum(t["gas"] for t in txs)
    log(f"dry run: {len(txs)} transactions, ~{total:,} gas in all; nothing was sent")
    return {"network": net.name, "txs": txs, "total_gas": total, "notes": notes}


def mint(
    spec: ReleaseSpec,
    tokens: list[Token],
    published: Published,
    sender: Sender,
    opts: Options,
    out: Path,
    log: Log,
) -> ChainResult:
    """Stages 7 + 8: deploy or attach, register the URI prefix, create and mint; never twice."""
    net = sender.network
    if not sender.will_send(opts):
        plan(spec, tokens, published, sender, opts, log)
        raise SongmintError(
            f"{net.name} is not a local chain: the transactions above were not sent; "
            "run again with --yes to send them"
        )
    journal_path: str | Path = ":memory:"
    if net.name != "memory":
        journal_path = out / ".songmint" / "journal.sqlite"
        journal_path.parent.mkdir(parents=True, exist_ok=True)
    client = connect(
        sender.endpoint,
        chain_id=net.chain_id,
        yes=opts.yes,
        signer=sender.signer,
        confirmations=max(1, spec.network.confirmations),
        checkpoint=opts.checkpoint,
    )
    c = spec.collection
    result = ChainResult()
    txs = result.transactions
    with Journal(journal_path) as journal:
        # 7: deploy (the journal returns the first deployment on a resumed run) or attach
        if c.contract == "deploy":
            dep = client.deploy(
                **_deploy_args(spec, f"ipfs://{published.root}/collection.json", client.address),
                journal=journal,
                op=f"release:{published.root}:deploy",
            )
            address = dep.address
            txs.append({"kind": "deploy", "hash": dep.tx_hash, "block": dep.block, "gas_used": dep.gas_used})
            announce(log, 7, f"deployed {address} (tx {str(dep.tx_hash)[:12]}…)")
        else:
            address = client.editions(c.contract).address
            announce(log, 7, f"using {address}")
        # 8: register the URI prefix and create + mint, per recipient; never twice
        for to, specs in _groups(tokens, client.address).items():
            op = f"release:{published.root}:{address}:create:{to}"
            res = client.create_and_mint(
                address, specs, to=to, uri_prefix=published.uri_prefix, journal=journal, op=op
            )
            for e in journal.entries(op + ":prefix", status="mined"):
                if e.tx_hash and all(tx["hash"] != e.tx_hash for tx in txs):
                    txs.append(
                        {"kind": "prefix", "hash": e.tx_hash, "block": e.block, "gas_used": e.gas_used}
                    )
            for rec in res.txs:
                txs.append(
                    {
                        "kind": rec.kind,
                        "hash": rec.tx_hash,
                        "block": rec.block,
                        "gas_used": rec.gas_used,
                        "ids": list(rec.ids),
                        "resumed": bool(set(rec.ids) & set(res.resumed)),
                    }
                )
                for tid in rec.ids:
                    result.token_txs.setdefault(tid, []).append(rec.tx_hash)
            fresh = [i for i in res.done if i not in res.resumed]
            announce(
                log,
                8,
                f"{len(fresh)} tokens minted to {to}"
                + (f"; {len(res.resumed)} finished by an earlier run" if res.resumed else "")
                + (f"; {len(res.skipped)} already on chain, left alone" if res.skipped else ""),
            )
        for t in tokens:
            result.minted[t.id] = int(client.token_info(address, t.id)["supply"])
            result.recipients[t.id] = t.editions.recipient or client.address
        result.chain.update(
            network=net.name, chain_id=client.network.chain_id, contract=address, account=client.address
        )
    return result
