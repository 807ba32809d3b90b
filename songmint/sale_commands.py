"""``songmint sale``, ``songmint splits`` and ``songmint freeze``: sales, revenue splits, frozen metadata.

Thin click wrappers over :mod:`minting.chain` (see docs/chain.md), with the options of the other
chain commands: ``--network``, ``--dry-run`` (the transactions, their gas and their cost in ETH at
current fees; nothing is sent), ``--yes`` on non-local networks, ``--journal``/``--op`` (a rerun
resumes and sends nothing twice) and ``--json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from songmint.chain_commands import ChainSession, address_or_last, reads_chain, sends_chain
from songmint.console import print_json, print_table
from songmint.errors import SongmintError

_TOKENS = click.option(
    "-t", "--token", "tokens", type=int, multiple=True, required=True, help="Token id (repeat for several)."
)


def _report(records: list[Any] | None, what: str, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    if records is None:
        return
    rows = [{"kind": r.kind, "tx_hash": r.tx_hash, "block": r.block, "gas_used": r.gas_used} for r in records]
    if as_json:
        print_json({"sent": rows, **(extra or {})})
        return
    click.echo(f"{what}: {len(rows)} transaction(s) sent" + ("" if rows else " (already done)"))
    for r in rows:
        click.echo(f"  {r['kind']:<8} {r['tx_hash']}  {r['gas_used'] or 0:,} gas")


# ---- songmint sale -----------------------------------------------------------------------------


@click.group()
def sale() -> None:
    """Primary sales: set a token's price, window, wallet limit and allowlist; read; pause."""


@sale.command("set")
@click.argument("address", required=False)
@_TOKENS
@click.option("--price", required=True, help='Price per edition with its unit, e.g. "0.01 ether", "0 wei".')
@click.option(
    "--start", default=None, help="Public sale opens (ISO 8601, e.g. 2026-12-24T18:00:00Z; default now)."
)
@click.option(
    "--end",
    default=None,
    help="Sale closes (ISO 8601; default never). With an unlimited cap: an open edition.",
)
@click.option("--presale-start", default=None, help="Allowlisted wallets may buy from this time (ISO 8601).")
@click.option(
    "--per-wallet",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Public editions per wallet (0 = no limit).",
)
@click.option(
    "--allowlist",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="CSV of address,max[,price]: a merkle allowlist (price defaults to --price).",
)
@click.option(
    "--proofs-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the allowlist root and every wallet's proof to this JSON file.",
)
@click.option("--recipient", default=None, help="Funds recipient of this sale (default the release's).")
@click.option("--paused", is_flag=True, help="Set the sale up paused.")
@sends_chain
def sale_set(
    address: str | None,
    tokens: tuple[int, ...],
    price: str,
    start: str | None,
    end: str | None,
    presale_start: str | None,
    per_wallet: int,
    allowlist: Path | None,
    proofs_out: Path | None,
    recipient: str | None,
    paused: bool,
    chain: ChainSession,
) -> None:
    """Set (or replace) the sale of one or more tokens of a release.

    Tokens whose sale on chain already matches are left alone, so the same command run again
    sends nothing.
    """
    from minting.chain.sales import Allowlist, SaleSpec, parse_price, parse_time
    from minting.files import atomic_write

    wei = parse_price(price)
    alist = Allowlist.load(allowlist, default_price=wei) if allowlist else None
    spec = SaleSpec(
        price=wei,
        start=parse_time(start),
        end=parse_time(end),
        presale_start=parse_time(presale_start),
        per_wallet=per_wallet,
        paused=paused,
        recipient=recipient,
        allowlist=alist,
    )
    spec.check()
    if proofs_out and alist:
        atomic_write(proofs_out, (json.dumps(alist.to_dict(), indent=2) + "\n").encode())
    client = chain.client
    address = address_or_last(address, client.network.chain_id)
    sales = dict.fromkeys(tokens, spec)
    records = chain.send(lambda **kw: client.set_sales(address, sales, op=chain.op, **kw))
    _report(
        records,
        f"sale of {len(tokens)} token(s) on {address}",
        chain.as_json,
        {"sale": spec.to_dict(), "tokens": list(tokens)},
    )


@sale.command("info")
@click.argument("address", required=False)
@_TOKENS
@click.option("--wallet", default=None, help="Also show what this wallet bought (default the account).")
@reads_chain
def sale_info(address: str | None, tokens: tuple[int, ...], wallet: str | None, chain: ChainSession) -> None:
    """Show the sale of each token: price, window, limit, pause, editions left, recipient."""
    client = chain.client
    address = address_or_last(address, client.network.chain_id)
    infos = [client.sale_info(address, t, wallet) for t in tokens]
    if chain.as_json:
        print_json({"address": address, "sales": infos})
        return
    print_table(
        f"sales on {address}",
        [
            {
                "token": i["id"],
                "on sale": "paused" if i["paused"] else ("yes" if i["configured"] else "no"),
                "price ETH": f"{i['price_eth']:g}",
                "start": i["start"] or "-",
                "end": i["end"] or "-",
                "per wallet": i["per_wallet"] or "-",
                "left": "open" if i["left"] is None else i["left"],
                "allowlist": "yes" if int(i["allowlist_root"], 16) else "no",
                "recipient": i["recipient"],
            }
            for i in infos
        ]
    )


@sale.command("pause")
@click.argument("address", required=False)
@_TOKENS
@click.option("--resume", is_flag=True, help="Resume paused sales instead.")
@sends_chain
def sale_pause(address: str | None, tokens: tuple[int, ...], resume: bool, chain: ChainSession) -> None:
    """Pause (or, with --resume, resume) the sales of tokens."""
    client = chain.client
    address = address_or_last(address, client.network.chain_id)
    records = chain.send(
        lambda **kw: client.pause_sales(address, tokens, paused=not resume, op=chain.op, **kw)
    )
    _report(records, f"{'resumed' if resume else 'paused'} {len(tokens)} sale(s)", chain.as_json)


# ---- songmint splits ---------------------------------------------------------------------------


def _payee(text: str) -> tuple[str, int]:
    """``ADDRESS:70%`` or ``ADDRESS:7000`` (basis points)."""
    addr, _, share = text.rpartition(":")
    share = share.strip()
    try:
        bps = round(float(share[:-1]) * 100) if share.endswith("%") else int(share)
    except ValueError:
        raise SongmintError(
            f"--payee {text!r}: write ADDRESS:SHARE, e.g. 0xabc…:70% or 0xabc…:7000"
        ) from None
    if not addr:
        raise SongmintError(f"--payee {text!r}: write ADDRESS:SHARE")
    return addr, bps


@click.group()
def splits() -> None:
    """Revenue splits: payees and shares that receive sales and royalties; pull withdrawals."""


@splits.command("create")
@click.option(
    "--payee",
    "payees",
    multiple=True,
    required=True,
    help="ADDRESS:SHARE, the share in % (70%) or basis points (7000); repeat. Shares sum to 100 %.",
)
@sends_chain
def splits_create(payees: tuple[str, ...], chain: ChainSession) -> None:
    """Create a split (or find the one with the same payees and shares) and print its address."""
    parsed = [_payee(p) for p in payees]
    if sum(b for _, b in parsed) != 10_000:
        raise SongmintError(f"split shares sum to {sum(b for _, b in parsed) / 100:g} %, not 100 %")
    client = chain.client
    accounts, bps = [a for a, _ in parsed], [b for _, b in parsed]
    address = chain.send(lambda **kw: client.create_split(accounts, bps, op=chain.op, **kw),
                         plan=lambda: client.create_split(accounts, bps, dry_run=True))
    if address is None:
        return
    if chain.as_json:
        print_json({"address": address, "payees": [{"address": a, "bps": b} for a, b in parsed]})
    else:
        click.echo(address)


@splits.command("info")
@click.argument("split")
@reads_chain
def splits_info(split: str, chain: ChainSession) -> None:
    """Show a split's payees, shares, what each withdrew and may withdraw now."""
    client = chain.client
    info = client.split_info(split)
    if chain.as_json:
        print_json(info)
        return
    print_table(
        f"split {info['address']}",
        [
            {
                "payee": p["address"],
                "share": f"{p['bps'] / 100:g} %",
                "withdrawn ETH": p["released"] / 1e18,
                "withdrawable ETH": p["releasable"] / 1e18,
            }
            for p in info["payees"]
        ]
    )


@splits.command("withdraw")
@click.argument("split")
@click.option("--payee", "payees", multiple=True, help="Pay only this payee (repeat); default every payee.")
@sends_chain
def splits_withdraw(split: str, payees: tuple[str, ...], chain: ChainSession) -> None:
    """Pay each payee what the split owes them now (anyone may send this; the money goes to the payees)."""
    client = chain.client
    records = chain.send(lambda **kw: client.withdraw(split, list(payees) or None, op=chain.op, **kw))
    _report(records, f"withdrawals from {split}", chain.as_json)


# ---- songmint freeze ---------------------------------------------------------------------------


@click.command()
@click.argument("address", required=False)
@_TOKENS
@sends_chain
def freeze(address: str | None, tokens: tuple[int, ...], chain: ChainSession) -> None:
    """Freeze the metadata of tokens for good (PermanentURI); frozen tokens are skipped."""
    client = chain.client
    address = address_or_last(address, client.network.chain_id)
    records = chain.send(lambda **kw: client.freeze(address, tokens, op=chain.op, **kw))
    _report(records, f"froze {len(tokens)} token(s)", chain.as_json)
