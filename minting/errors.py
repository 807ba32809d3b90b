"""Errors raised by ``minting``."""

from __future__ import annotations


class MintingError(Exception):
    """Root of every user-facing error raised by ``minting``."""
