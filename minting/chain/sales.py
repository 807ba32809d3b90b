"""Sale settings in Python: prices with units, windows, allowlists, and their on-chain encoding.

:class:`SaleSpec` is what a label writes (``price = "0.01 ether"``, ISO start/end, per-wallet limit,
an allowlist file); :meth:`SaleSpec.config` is the ``SaleConfig`` tuple of SongmintEditions.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from minting.chain.errors import ChainError
from minting.chain.merkle import MerkleTree, allowlist_leaf

ZERO_ADDRESS = "0x" + "00" * 20
MAX_PRICE = 2**88 - 1
MAX_TIME = 2**40 - 1
_UNITS = {"wei": 0, "gwei": 9, "ether": 18, "eth": 18}
SALE_CONFIG_TYPE = "(uint88,uint40,uint40,uint40,uint32,bool,address,bytes32)"
LAZY_TOKEN_TYPE = f"(uint256,uint64,uint32,{SALE_CONFIG_TYPE})"


def parse_price(text: str | int) -> int:
    """``"0.01 ether"``, ``"5 gwei"``, ``"1000 wei"`` or an int of wei → wei."""
    if isinstance(text, int):
        wei = text
    else:
        parts = str(text).strip().lower().split()
        if len(parts) not in (1, 2) or (len(parts) == 2 and parts[1] not in _UNITS):
            raise ChainError(
                f'price {text!r}: write an amount and a unit, e.g. "0.01 ether" (units: wei, gwei, ether)'
            )
        unit = _UNITS[parts[1]] if len(parts) == 2 else 0
        try:
            amount = Decimal(parts[0])
        except InvalidOperation:
            raise ChainError(f"price {text!r} is not a number") from None
        wei_d = amount * (Decimal(10) ** unit)
        if wei_d != wei_d.to_integral_value():
            raise ChainError(f"price {text!r} is not a whole number of wei")
        wei = int(wei_d)
    if not 0 <= wei <= MAX_PRICE:
        raise ChainError(f"price {text!r} must be 0 … {MAX_PRICE} wei")
    return wei


def parse_time(text: str | int | None) -> int:
    """An ISO 8601 time (``2026-12-24T18:00:00Z``; no zone = UTC) or Unix seconds → Unix seconds; None → 0."""
    if text is None or text == "" or text == 0:
        return 0
    if isinstance(text, int):
        t = text
    elif isinstance(text, datetime):
        t = int((text if text.tzinfo else text.replace(tzinfo=UTC)).timestamp())
    else:
        s = str(text).strip()
        if s.isdigit():
            t = int(s)
        else:
            try:
                dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
            except ValueError:
                raise ChainError(f"time {text!r}: use ISO 8601, e.g. 2026-12-24T18:00:00Z") from None
            t = int((dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp())
    if not 0 <= t <= MAX_TIME:
        raise ChainError(f"time {text!r} is out of range")
    return t


@dataclass(frozen=True)
class AllowEntry:
    """One allowlisted wallet: how many editions it may buy, at what price (wei)."""

    address: str
    max_quantity: int
    price: int

    @property
    def leaf(self) -> bytes:
        return allowlist_leaf(self.address, self.max_quantity, self.price)


@dataclass(frozen=True)
class Allowlist:
    """Entries, their merkle tree, and a proof for each wallet."""

    entries: tuple[AllowEntry, ...]

    @classmethod
    def parse_csv(cls, text: str, *, default_price: int, source: str = "allowlist") -> Allowlist:
        """Rows ``address,max[,price]`` (a header row and ``#`` comments are skipped)."""
        entries: list[AllowEntry] = []
        seen: set[str] = set()
        for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if not row or not row[0].strip() or row[0].strip().startswith("#"):
                continue
            cells = [c.strip() for c in row]
            if n == 1 and cells[0].lower() in ("address", "wallet"):
                continue
            where = f"{source}:{n}"
            if len(cells) not in (2, 3):
                raise ChainError(f"{where}: expected address,max[,price], got {len(cells)} column(s)")
            try:
                address = to_checksum_address(cells[0])
            except ValueError:
                raise ChainError(f"{where}: {cells[0]!r} is not an Ethereum address") from None
            if address in seen:
                raise ChainError(f"{where}: {address} is listed twice")
            seen.add(address)
            if not cells[1].isdigit() or int(cells[1]) < 1:
                raise ChainError(f"{where}: max {cells[1]!r} must be a whole number ≥ 1")
            try:
                price = parse_price(cells[2]) if len(cells) == 3 and cells[2] else default_price
            except ChainError as exc:
                raise ChainError(f"{where}: {exc}") from None
            entries.append(AllowEntry(address, int(cells[1]), price))
        if not entries:
            raise ChainError(f"{source}: no allowlist entries")
        return cls(tuple(entries))

    @classmethod
    def load(cls, path: Path, *, default_price: int) -> Allowlist:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ChainError(f"cannot read allowlist {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ChainError(f"allowlist {path} is not UTF-8 text; save it as a CSV of address,max") from None
        return cls.parse_csv(text, default_price=default_price, source=str(path))

    @property
    def tree(self) -> MerkleTree:
        return MerkleTree.build([e.leaf for e in self.entries])

    @property
    def root(self) -> bytes:
        return self.tree.root

    def proofs(self) -> dict[str, dict[str, Any]]:
        """Wallet → {max_quantity, price (wei, as a string), proof (0x hex list)}: what a mint page needs."""
        tree = self.tree
        return {
            e.address: {
                "max_quantity": e.max_quantity,
                "price": str(e.price),
                "proof": ["0x" + p.hex() for p in tree.proof(i)],
            }
            for i, e in enumerate(self.entries)
        }

    def to_dict(self) -> dict[str, Any]:
        return {"root": "0x" + self.root.hex(), "entries": self.proofs()}


@dataclass(frozen=True)
class SaleBase:
    """The terms every form of a token's primary sale states alike (times in Unix seconds, price in
    wei): :class:`SaleSpec` (what is set on chain) and the release spec's ``SaleTerms`` extend it."""

    price: int = 0
    start: int = 0
    end: int = 0
    presale_start: int = 0
    per_wallet: int = 0
    paused: bool = False


@dataclass(frozen=True)
class SaleSpec(SaleBase):
    """A token's primary sale, as a label writes it: the :class:`SaleBase` terms, who is paid and
    the allowlist (a loaded :class:`Allowlist`, or only its root)."""

    recipient: str | None = None
    allowlist: Allowlist | None = field(default=None, compare=False)
    allowlist_root: bytes = b""

    def check(self) -> None:
        if self.end and self.end <= self.start:
            raise ChainError("the sale must end after it starts")
        if self.presale_start and self.end and self.presale_start >= self.end:
            raise ChainError("the presale must start before the sale ends")
        if not 0 <= self.per_wallet < 2**32:
            raise ChainError(f"per_wallet must be 0 … 2**32-1 (got {self.per_wallet})")

    @property
    def root(self) -> bytes:
        if self.allowlist is not None:
            return self.allowlist.root
        return self.allowlist_root or b"\0" * 32

    def config(self) -> tuple[Any, ...]:
        """The ``SaleConfig`` tuple (price, presaleStart, start, end, perWallet, paused, recipient, root)."""
        self.check()
        recipient = to_checksum_address(self.recipient) if self.recipient else ZERO_ADDRESS
        return (
            self.price,
            self.presale_start,
            self.start,
            self.end,
            self.per_wallet,
            self.paused,
            recipient,
            self.root,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "price_wei": str(self.price),
            "start": self.start,
            "end": self.end,
            "presale_start": self.presale_start,
            "per_wallet": self.per_wallet,
            "paused": self.paused,
            "recipient": self.recipient,
            "allowlist_root": "0x" + self.root.hex(),
        }


def sale_from_chain(sale: tuple[Any, ...], recipient: str) -> dict[str, Any]:
    """``saleInfo``'s Sale struct as a dict."""
    price, presale, start, end, per_wallet, paused, configured, _own, root = sale
    return {
        "configured": configured,
        "price_wei": str(price),
        "price_eth": price / 1e18,
        "presale_start": presale,
        "start": start,
        "end": end,
        "per_wallet": per_wallet,
        "paused": paused,
        "recipient": recipient,
        "allowlist_root": "0x" + bytes(root).hex(),
    }


def lazy_leaf(token_id: int, cap: int, prefix: int, sale: SaleSpec) -> bytes:
    """The leaf of a lazily registered token: ``keccak256(abi.encode(LazyToken))``."""
    return keccak(abi_encode([LAZY_TOKEN_TYPE], [(token_id, cap, prefix, sale.config())]))
