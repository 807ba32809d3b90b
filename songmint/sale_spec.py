"""The sale and split terms of a release spec: ``[tracks.sale]`` / ``[defaults.sale]`` and
``[collection.splits]`` (see docs/release-spec.md).

::

    [defaults.sale]
    price = "0.01 ether"             # wei, gwei or ether
    start = 2026-12-24T18:00:00Z     # TOML time or ISO 8601 string; default: at once
    end = "2027-01-07T00:00:00Z"     # default: never (with a huge cap, an open edition)
    presale_start = 2026-12-23T18:00:00Z
    per_wallet = 3                   # public editions per wallet; 0 = no limit
    allowlist = "list.csv"           # address,max[,price] rows: a merkle presale

    [collection.splits]              # payee = share; shares sum to 100 %
    "0x1111…" = "70%"
    "0x2222…" = 30                   # a bare number is a percentage

Errors name the spec's file and line, like every other key of the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from minting.chain.errors import ChainError
from minting.chain.sales import Allowlist, SaleBase, SaleSpec, parse_price, parse_time

SALE_KEYS = {"price", "start", "end", "presale_start", "per_wallet", "allowlist", "paused"}
Fail = Callable[[str, str, str], Exception]


@dataclass(frozen=True)
class SaleTerms(SaleBase):
    """A token's primary sale as the spec states it: the :class:`SaleBase` terms (``price``
    required here: a spec's sale must name it) and the allowlist CSV's path."""

    price: int = field()  # no default: a bare annotation would inherit SaleBase's 0
    allowlist: Path | None = None

    def to_spec(self, *, recipient: str | None) -> SaleSpec:
        """The sale to set on chain: these terms (the :class:`SaleBase` fields), paid to
        ``recipient``, with the allowlist CSV loaded (a row's price defaults to the sale's)."""
        shared = {f.name: getattr(self, f.name) for f in fields(SaleBase)}
        alist = Allowlist.load(self.allowlist, default_price=self.price) if self.allowlist else None
        return SaleSpec(**shared, recipient=recipient, allowlist=alist)


def parse_sale(doc: Any, key: str, base: Path, fail: Fail, *, check_files: bool = True) -> SaleTerms:
    """``[tracks.sale]`` (already merged over ``[defaults.sale]``) → :class:`SaleTerms`."""
    if not isinstance(doc, dict):
        raise fail(key, "must be a table", 'write sale = { price = "0.01 ether" }')
    for k in doc:
        if k not in SALE_KEYS:
            raise fail(f"{key}.{k}", "is not a sale setting", f"use one of {', '.join(sorted(SALE_KEYS))}")
    if "price" not in doc:
        raise fail(f"{key}.price", "missing", 'add price = "0.01 ether" (or "0 wei" for a free mint)')
    try:
        price = parse_price(doc["price"] if isinstance(doc["price"], str) else str(doc["price"]))
    except ChainError as exc:
        raise fail(f"{key}.price", str(exc), 'write e.g. price = "0.01 ether"') from None
    times = {}
    for k in ("start", "end", "presale_start"):
        value = doc.get(k)
        try:
            times[k] = parse_time(value if isinstance(value, datetime | int | None) else str(value))
        except ChainError as exc:
            raise fail(f"{key}.{k}", str(exc), "write an ISO time, e.g. 2026-12-24T18:00:00Z") from None
    if times["end"] and times["end"] <= times["start"]:
        raise fail(f"{key}.end", "is not after start", "end the sale after it starts (or drop end)")
    per_wallet = doc.get("per_wallet", 0)
    if not isinstance(per_wallet, int) or isinstance(per_wallet, bool) or not 0 <= per_wallet < 2**32:
        raise fail(f"{key}.per_wallet", f"{per_wallet!r} is not a whole number ≥ 0", "write per_wallet = 3")
    paused = doc.get("paused", False)
    if not isinstance(paused, bool):
        raise fail(f"{key}.paused", "must be true or false", "write paused = false")
    allowlist = None
    if doc.get("allowlist") is not None:
        allowlist = base / str(doc["allowlist"])
        if check_files and not allowlist.is_file():
            raise fail(f"{key}.allowlist", f"{allowlist} not found", "give a CSV of address,max[,price] rows")
    return SaleTerms(
        price, times["start"], times["end"], times["presale_start"], per_wallet, paused, allowlist
    )


def parse_splits(
    doc: Any, key: str, fail: Fail, check_address: Callable[[Any, str], Any]
) -> tuple[tuple[str, int], ...]:
    """``[collection.splits]`` → ((address, basis points), …), the shares summing to 10 000."""
    if not isinstance(doc, dict) or not doc:
        raise fail(key, "must be a table of payee = share", '[collection.splits] "0x…" = "70%"')
    out = []
    for address, share in doc.items():
        where = f"{key}.{address}"
        check_address(address, where)
        text = str(share).strip().rstrip("%").strip()
        try:
            pct = Decimal(text)
        except InvalidOperation:
            raise fail(where, f"share {share!r} is not a percentage", 'write "70%" or 70') from None
        bps = pct * 100
        if bps <= 0 or bps != bps.to_integral_value():
            raise fail(where, f"share {share!r} must be above 0 and a multiple of 0.01 %", 'write "12.5%"')
        out.append((address, int(bps)))
    total = sum(b for _, b in out)
    if total != 10_000:
        raise fail(
            key, f"shares sum to {Decimal(total) / 100:g} %, not 100 %", "make the shares add up to 100 %"
        )
    return tuple(out)
