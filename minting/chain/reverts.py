"""Turn revert data into clear sentences.

Both backends end up here: eth-tester raises ``TransactionFailed`` carrying the raw revert bytes,
a JSON-RPC node (anvil) makes web3 raise ``ContractCustomError`` / ``ContractLogicError`` with
the hex data. :func:`revert_from_exception` takes either and returns a :class:`ContractRevert`
whose message names the error and its arguments in words.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Callable
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

from minting.chain.errors import ContractRevert

_ROLE_NAMES = {
    "0x" + "00" * 32: "admin (DEFAULT_ADMIN_ROLE)",
    "0x" + keccak(text="MINTER_ROLE").hex(): "minter (MINTER_ROLE)",
}


def _role(value: bytes) -> str:
    h = "0x" + value.hex()
    return _ROLE_NAMES.get(h, h)


#: Each custom error in words: a :meth:`str.format` template over the error's arguments, in which
#: ``:eth`` shows wei as ETH, ``:when`` a Unix time in UTC and ``:role`` a role hash by its name.
_MESSAGES: dict[str, str] = {
    "TokenAlreadyExists": "token {id} already exists; mint more of it instead of creating it",
    "TokenDoesNotExist": "token {id} does not exist; create it first",
    "InvalidEditionCap": "token {id} needs an edition cap of at least 1 (got {cap})",
    "EditionCapExceeded": "minting would take token {id} to {supplyAfter} editions, over its cap of {cap}",
    "UnknownUriPrefix": "URI prefix #{index} is not registered; add it with addUriPrefix",
    "EmptyUri": "an empty URI is not allowed",
    "MetadataIsFrozen": "the metadata of token {id} is frozen and cannot change",
    "LengthMismatch": "ids, amounts and caps differ in length ({ids}, {amounts}, {caps})",
    "SaleNotConfigured": "token {id} is not on sale",
    "SaleNotStarted": "the sale of token {id} opens at {start:when}",
    "SaleEnded": "the sale of token {id} ended at {end:when}",
    "SaleIsPaused": "the sale of token {id} is paused",
    "WrongPayment": "token {id} costs {expected:eth} for this quantity; {sent:eth} was sent",
    "WalletLimitExceeded": "a wallet may buy {limit} of token {id}; this purchase would make {boughtAfter}",
    "AllowlistLimitExceeded": (
        "this wallet's allowlist place covers {limit} of token {id}; this purchase would make "
        "{boughtAfter}"
    ),
    "NotOnAllowlist": "{wallet} is not on the allowlist of token {id} at that quantity and price (bad proof)",
    "ZeroQuantity": "buy at least one edition",
    "PaymentFailed": "the funds recipient {recipient} refused the payment",
    "InvalidSaleWindow": "the sale window is empty (presale {presaleStart}, start {start}, end {end})",
    "InvalidTokenProof": (
        "token {id} is not in a registered release (wrong configuration or proof, or revoked)"
    ),
    "SplitLengthMismatch": "{payees} payee(s) but {shares} share(s)",
    "SplitSharesMustSumTo10000": "split shares must sum to 10000 basis points (100 %), not {total}",
    "SplitInvalidPayee": "payee {payee} is the zero address or listed twice",
    "SplitZeroShare": "payee {payee} has a share of 0",
    "NotAPayee": "{account} is not a payee of this split",
    "NothingToWithdraw": "{account} has nothing to withdraw from this split yet",
    "WithdrawalFailed": "the payment to {account} failed (it refuses the native currency)",
    "InvalidInitialization": "this contract is already initialised",
    "FailedDeployment": "the clone already exists at that address (same salt)",
    "AccessControlUnauthorizedAccount": "account {account} lacks the {neededRole:role} role on this contract",
    "ERC2981InvalidDefaultRoyalty": "royalty {numerator} / {denominator} is over 100 %",
    "ERC2981InvalidTokenRoyalty": "royalty {numerator} / {denominator} of token {tokenId} is over 100 %",
    "ERC2981InvalidDefaultRoyaltyReceiver": "the royalty receiver cannot be the zero address",
    "ERC2981InvalidTokenRoyaltyReceiver": "the royalty receiver cannot be the zero address",
    "ERC1155InvalidReceiver": (
        "{receiver} cannot receive ERC-1155 tokens (the zero address, or a contract without "
        "onERC1155Received)"
    ),
    "ERC1155InsufficientBalance": "{sender} holds {balance} of token {tokenId}, needs {needed}",
}


def _eth(wei: int) -> str:
    return f"{wei / 1e18:.18f}".rstrip("0").rstrip(".") + " ETH"


def _when(ts: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_SHOWN: dict[str, Callable[[Any], str]] = {"eth": _eth, "when": _when, "role": _role}


class _Words(string.Formatter):
    """Fills a :data:`_MESSAGES` template: a format spec named in :data:`_SHOWN` picks how a value is
    shown, any other is Python's own."""

    def format_field(self, value: Any, format_spec: str) -> str:
        show = _SHOWN.get(format_spec)
        return show(value) if show else super().format_field(value, format_spec)


_WORDS = _Words()


_PANICS = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow",
    0x12: "division by zero",
    0x32: "array index out of bounds",
    0x41: "out of memory",
}


def _signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"


def error_table(abi: list[dict[str, Any]]) -> dict[bytes, dict[str, Any]]:
    """Selector (4 bytes) → ABI entry of every custom error in ``abi``."""
    return {keccak(text=_signature(e))[:4]: e for e in abi if e.get("type") == "error"}


def decode_revert(data: bytes, abi: list[dict[str, Any]]) -> ContractRevert:
    """Decode raw revert ``data`` against the custom errors of ``abi``."""
    if len(data) < 4:
        return ContractRevert("the transaction reverted without a reason", data=data)
    selector, body = data[:4], data[4:]
    if selector == keccak(text="Error(string)")[:4]:
        (reason,) = abi_decode(["string"], body)
        return ContractRevert(
            f"the contract reverted: {reason}", error="Error", args={"reason": reason}, data=data
        )
    if selector == keccak(text="Panic(uint256)")[:4]:
        (code,) = abi_decode(["uint256"], body)
        return ContractRevert(
            f"the contract panicked: {_PANICS.get(code, hex(code))}",
            error="Panic",
            args={"code": code},
            data=data,
        )
    entry = error_table(abi).get(selector)
    if entry is None:
        return ContractRevert(f"the contract reverted with unknown error 0x{data[:4].hex()}", data=data)
    values = abi_decode([i["type"] for i in entry["inputs"]], body)
    args = {}
    for spec, value in zip(entry["inputs"], values, strict=True):
        args[spec["name"]] = to_checksum_address(value) if spec["type"] == "address" else value
    template = _MESSAGES.get(entry["name"])
    if template is not None:
        text = _WORDS.format(template, **args)
    else:
        text = f"{entry['name']}({', '.join(f'{k}={v}' for k, v in args.items())})"
    return ContractRevert(
        f"the contract refused: {text} [{entry['name']}]", error=entry["name"], args=args, data=data
    )


def _as_bytes(value: Any) -> bytes | None:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("0x"):
            try:
                return bytes.fromhex(text[2:])
            except ValueError:
                return None
    return None


def _own_revert_data(exc: BaseException) -> bytes | None:
    data = getattr(exc, "data", None)
    if isinstance(data, dict):  # some nodes nest it: {"data": "0x…"}
        data = data.get("data")
    raw = _as_bytes(data)
    if raw is not None:
        return raw
    for arg in getattr(exc, "args", ()):
        raw = _as_bytes(arg)
        if raw is None and isinstance(arg, dict):
            raw = _as_bytes(arg.get("data"))
        if raw is None and isinstance(arg, str) and arg.startswith(_TESTER_PREFIX):
            # eth-tester: 'execution reverted: b"\\x08\\xc3…"', the repr of the raw bytes
            try:
                value = ast.literal_eval(arg[len(_TESTER_PREFIX) :].strip())
            except (ValueError, SyntaxError):
                value = None
            raw = _as_bytes(value)
        if raw is not None:
            return raw
    return None


_TESTER_PREFIX = "execution reverted:"


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert bytes carried by a web3 / eth-tester exception (or one it wraps), if any."""
    for e in _chain(exc):
        raw = _own_revert_data(e)
        if raw is not None:
            return raw
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def find_revert(exc: BaseException) -> BaseException | None:
    """The revert inside ``exc`` or the exceptions it wraps (web3's eth-tester provider can fail
    while formatting a custom error, raising e.g. OverflowError with the revert as its context)."""
    from eth_tester.exceptions import TransactionFailed
    from web3.exceptions import ContractLogicError

    for e in _chain(exc):
        if isinstance(e, ContractLogicError | TransactionFailed):
            return e
    return None


def is_revert(exc: BaseException) -> bool:
    """Whether ``exc`` is (or wraps) a contract revert, as opposed to a network or signing failure."""
    return find_revert(exc) is not None


def revert_from_exception(exc: BaseException, abi: list[dict[str, Any]]) -> ContractRevert:
    """A :class:`ContractRevert` with a clear message for a web3 / eth-tester revert exception."""
    raw = revert_data(exc)
    if raw is not None and raw:
        return decode_revert(raw, abi)
    message = getattr(exc, "message", None) or (str(exc.args[0]) if exc.args else type(exc).__name__)
    return ContractRevert(f"the transaction reverted: {message}")
