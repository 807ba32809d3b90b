"""Errors of the chain client: all :class:`~minting.errors.MintingError`, one line a user can act on."""

from __future__ import annotations

from typing import Any

from minting.errors import MintingError


class ChainError(MintingError):
    """Root of errors raised by :mod:`minting.chain` (network, account, transaction, journal)."""


class NetworkError(ChainError):
    """The network is unreachable, or is not the chain it was expected to be."""


class AccountError(ChainError):
    """No usable signing account (missing, malformed or locked key). Never quotes the key."""


class ConfirmationRequired(ChainError):
    """Sending on a non-local network was not confirmed (``--yes`` / ``connect(..., yes=True)``)."""


class ContractRevert(ChainError):
    """The contract rejected a call; ``error`` and ``args`` hold the decoded custom error."""

    def __init__(
        self, message: str, *, error: str | None = None, args: dict[str, Any] | None = None, data: bytes = b""
    ) -> None:
        super().__init__(message)
        self.error = error
        self.error_args = dict(args or {})
        self.data = data


class JournalError(ChainError):
    """The journal cannot be read or written, or disagrees with the chain in a way we cannot resolve."""
