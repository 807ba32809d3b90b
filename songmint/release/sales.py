"""Stage 9, after minting: the release's split, its sales and their allowlists.

For a spec with ``[collection.splits]`` the split is created (or found: its address depends only on
payees and shares) and made the release's funds recipient and ERC-2981 receiver; every track with
a ``sale`` gets it set on chain. Each step is journalled under an op of the release and its
planner compares with the chain first, so a killed run resumes and a finished one sends nothing.
Allowlist roots and every wallet's proof are written to ``sales/allowlist-<id>.json`` (what a
mint page needs) and summarised in the manifest. A dry run writes the files and sends nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minting.chain import Journal, connect, deployments
from minting.chain.sales import SaleSpec
from songmint.errors import SongmintError
from songmint.files import write_atomic
from songmint.release.chain import ChainResult, Sender
from songmint.release.metadata import planned_split, royalty_receiver
from songmint.release.options import Log, Options
from songmint.release.publish import Published
from songmint.release.tokens import Token
from songmint.spec import ReleaseSpec


@dataclass(frozen=True)
class SalesResult:
    """What the sales stage did: the split, each token's sale, the transactions sent."""

    split: str | None = None
    sales: dict[int, dict[str, Any]] = field(default_factory=dict)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    payees: tuple[tuple[str, int], ...] = ()
    plan: dict[str, Any] | None = None  # a dry run: the stage's transactions, gas and cost

    def to_manifest(self) -> dict[str, Any]:
        extra = {"plan": self.plan} if self.plan else {}
        return {
            **extra,
            "split": self.split,
            "payees": [{"address": a, "bps": b} for a, b in self.payees],
            "tokens": {str(i): s for i, s in sorted(self.sales.items())},
            "transactions": self.transactions,
        }


def sale_specs(spec: ReleaseSpec, tokens: list[Token], split: str | None) -> dict[int, SaleSpec]:
    """Token id → its sale (track tokens whose track has one; stem tokens are not sold)."""
    out = {}
    for t in tokens:
        terms = t.track.sale
        if t.stem is not None or terms is None:
            continue
        out[t.id] = terms.to_spec(recipient=split)
    return out


def _write_allowlists(out: Path, sales: dict[int, SaleSpec]) -> dict[int, str]:
    files = {}
    for token_id, s in sales.items():
        if s.allowlist is None:
            continue
        rel = f"sales/allowlist-{token_id:064x}.json"
        (out / "sales").mkdir(parents=True, exist_ok=True)
        doc = {"token_id": str(token_id), **s.allowlist.to_dict()}
        write_atomic(out / rel, json.dumps(doc, indent=2, sort_keys=True) + "\n")
        files[token_id] = rel
    return files


def configure_sales(
    spec: ReleaseSpec,
    tokens: list[Token],
    published: Published,
    chain: ChainResult,
    sender: Sender,
    opts: Options,
    out: Path,
    log: Log,
) -> SalesResult:
    """Create the split, point revenue and royalties at it, set every sale; never twice."""
    c = spec.collection
    if not c.splits and not any(t.track.sale for t in tokens):
        return SalesResult()
    payees = [a for a, _ in c.splits]
    bps = [b for _, b in c.splits]
    client = None
    split = None
    if c.splits:
        if opts.dry_run:
            from minting.chain.artifacts import load_artifact

            factory = deployments.factory_address(
                bytes.fromhex(load_artifact("SongmintFactory").bytecode[2:])
            )
            split = deployments.split_address(factory, payees, bps)
        else:
            client = _client(spec, sender, opts) if sender.network.name != "memory" else None
            factory = client.factory_address if client else _default_factory()
            split = deployments.split_address(factory, payees, bps)
            if split != planned_split(spec):
                raise SongmintError(
                    f"{sender.network.name} has its split factory at {factory}, not where songmint's is: "
                    "the royalty receiver published in collection.json would be wrong; nothing was set"
                )
    sales = sale_specs(spec, tokens, split)
    files = _write_allowlists(out, sales)
    summary = {}
    for token_id, s in sales.items():
        entry = s.to_dict()
        if token_id in files:
            entry["allowlist_file"] = files[token_id]
            entry["allowlist_entries"] = len(s.allowlist.entries) if s.allowlist else 0
        summary[token_id] = entry
    if opts.dry_run or not chain.chain.get("contract") or sender.network.name == "memory":
        why = "dry run" if opts.dry_run else "the memory chain ended with the mint stage; use local"
        log(f"sales: {len(sales)} sale(s)" + (f", split {split}" if split else "") + f" (not sent: {why})")
        plan = _plan(spec, tokens, sales, split) if opts.dry_run else None
        if plan is not None:
            for t in plan.txs:
                log(f"  would send {t.kind:<7} {t.description}  ~{t.gas:,} gas")
            log(
                f"sales: ~{plan.total_gas:,} gas, ~{plan.expected_cost_wei / 1e18:.6f} ETH"
            )
        return SalesResult(split, summary, [], c.splits, plan.to_dict() if plan else None)
    client = client or _client(spec, sender, opts)
    address = chain.chain["contract"]
    journal_path: str | Path = (
        ":memory:" if sender.network.name == "memory" else out / ".songmint" / "journal.sqlite"
    )
    txs: list[dict[str, Any]] = []
    with Journal(journal_path) as journal:
        base = f"release:{published.root}:{address}"
        if split:
            client.create_split(payees, bps, journal=journal, op=f"{base}:split")
            royalty = (split, c.royalty_bps) if c.royalty_bps else None
            recs = client.set_recipients(
                address, funds=split, royalty=royalty, journal=journal, op=f"{base}:recipients"
            )
            txs += [_tx(r) for r in recs]  # type: ignore[union-attr]
        if sales:
            txs += [_tx(r) for r in client.set_sales(address, sales, journal=journal, op=f"{base}:sales")]  # type: ignore[union-attr]
        for e in journal.entries(f"{base}:split", status="mined"):
            txs.insert(0, {"kind": e.kind, "hash": e.tx_hash, "block": e.block, "gas_used": e.gas_used})
    log(f"sales: {len(sales)} sale(s) set" + (f"; revenue and royalties to split {split}" if split else ""))
    return SalesResult(split, summary, txs, c.splits)


def _plan(spec: ReleaseSpec, tokens: list[Token], sales: dict[int, SaleSpec], split: str | None) -> Any:
    """The stage's transactions estimated on a throwaway in-memory chain (the release does not
    exist yet where it will go): the split, the recipients, every sale."""
    from minting.chain import TokenSpec

    sim = connect("memory")
    c = spec.collection
    royalty_to = royalty_receiver(spec, sim.address)
    dep = sim.deploy(name=c.name, symbol=c.symbol, royalty_receiver=royalty_to, royalty_bps=c.royalty_bps)
    sim.create_and_mint(dep.address, [TokenSpec(id=t.id, amount=0, cap=t.editions.cap) for t in tokens])
    plan = sim.estimator.estimate([])
    if split:
        plan = plan + sim.create_split([a for a, _ in c.splits], [b for _, b in c.splits], dry_run=True)
        royalty = (split, c.royalty_bps) if c.royalty_bps else None
        plan = plan + sim.set_recipients(dep.address, funds=split, royalty=royalty, dry_run=True)
    if sales:
        plan = plan + sim.set_sales(dep.address, sales, dry_run=True)
    plan.notes.append("estimated on an in-memory chain")
    return plan


def _default_factory() -> str:
    from minting.chain.artifacts import load_artifact

    return deployments.factory_address(bytes.fromhex(load_artifact("SongmintFactory").bytecode[2:]))


def _client(spec: ReleaseSpec, sender: Sender, opts: Options) -> Any:
    return connect(
        sender.endpoint,
        chain_id=sender.network.chain_id,
        yes=opts.yes,
        signer=sender.signer,
        confirmations=max(1, spec.network.confirmations),
        checkpoint=opts.checkpoint,
    )


def _tx(r: Any) -> dict[str, Any]:
    return {"kind": r.kind, "hash": r.tx_hash, "block": r.block, "gas_used": r.gas_used, "ids": list(r.ids)}


def check_sales(manifest: dict[str, Any], client: Any, root: Path) -> list[tuple[bool, str, str, str]]:
    """What ``songmint verify`` checks of a release that sells: (ok, check, subject, detail) rows.

    Each token's sale on chain against the manifest (price, window, wallet limit, pause,
    recipient, allowlist root), each allowlist file's root recomputed from its entries, the
    split's payees and shares, and that revenue and ``royaltyInfo`` go to the split.
    """
    from minting.chain.merkle import MerkleTree, allowlist_leaf

    sales = manifest.get("sales") or {}
    address = (manifest.get("chain") or {}).get("contract")
    rows: list[tuple[bool, str, str, str]] = []
    if not sales or not address:
        return rows
    for token_id, want in sorted(sales.get("tokens", {}).items()):
        got = client.sale_info(address, int(token_id))
        problems = [
            f"{k} {got[k]!r} ≠ {want[k]!r}"
            for k in ("price_wei", "start", "end", "presale_start", "per_wallet", "paused", "allowlist_root")
            if got[k] != want[k]
        ]
        if not got["configured"]:
            problems.insert(0, "no sale on chain")
        if want.get("recipient") and got["recipient"] != want["recipient"]:
            problems.append(f"recipient {got['recipient']} ≠ {want['recipient']}")
        if want.get("allowlist_file"):
            doc = json.loads((root / want["allowlist_file"]).read_text(encoding="utf-8"))
            leaves = [
                allowlist_leaf(a, int(e["max_quantity"]), int(e["price"])) for a, e in doc["entries"].items()
            ]
            recomputed = "0x" + MerkleTree.build(leaves).root.hex()
            if recomputed != want["allowlist_root"] or doc["root"] != want["allowlist_root"]:
                problems.append(f"allowlist file root {recomputed} ≠ {want['allowlist_root']}")
        subject = f"token {token_id}"
        rows.append(
            (not problems, "sale", subject, "; ".join(problems) or f"{int(want['price_wei']) / 1e18:g} ETH")
        )
    split = sales.get("split")
    if split:
        want = [(p["address"], p["bps"]) for p in sales.get("payees", [])]
        info = client.split_info(split)
        got = [(p["address"], p["bps"]) for p in info["payees"]]
        rows.append((got == want, "split", split, "payees and shares" if got == want else f"{got} ≠ {want}"))
        contract = client.contract_info(address)
        royalty_ok = contract["royalty_receiver"] == split or contract["royalty_bps"] == 0
        ok = contract["funds_recipient"] == split and royalty_ok
        detail = f"funds to {contract['funds_recipient']}, royaltyInfo to {contract['royalty_receiver']}"
        rows.append((ok, "split", "recipients", detail))
    return rows
