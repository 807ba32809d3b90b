"""The application's error roots.

The stages (``music``, ``cover_art``, ``minting``) each define their own root error
so that they stay importable on their own. The CLI treats all of them, plus
:class:`SongmintError`, as *user errors*: one line on stderr, exit status 2.
"""

from __future__ import annotations

from cover_art.errors import CoverArtError
from minting.errors import MintingError
from music.errors import MusicError


class SongmintError(Exception):
    """Root of user-facing errors raised by the application layer (spec, pipeline, CLI)."""


class SpecError(SongmintError):
    """A release spec that does not validate; the message names the file, key and fix."""


USER_ERRORS: tuple[type[Exception], ...] = (SongmintError, MusicError, CoverArtError, MintingError)
"""Exception types the CLI reports as one line with exit status 2."""
