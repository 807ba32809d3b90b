"""Errors raised by ``cover_art``."""

from __future__ import annotations


class CoverArtError(Exception):
    """Root of every user-facing error raised by ``cover_art``."""
