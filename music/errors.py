"""Errors raised by the ``music`` stage.

Every error a user can act on derives from :class:`MusicError`; the CLI prints its
message as one line and exits with status 2. ``music`` imports nothing else of ours,
so the application root (:class:`songmint.errors.SongmintError`) lists this class as
one of its user-error roots rather than subclassing it.
"""

from __future__ import annotations


class MusicError(Exception):
    """Root of every user-facing error raised by ``music``."""


class AudioError(MusicError):
    """Audio that cannot be used: unreadable, empty, non-finite, wrong shape or rate."""


class AudioFormatError(AudioError):
    """A file that no decoder accepts, or an encoding we cannot write."""


class EngineError(MusicError):
    """A generation request that an engine cannot fulfil."""


class ModelNotFoundError(EngineError):
    """Weights that are not in any local location we looked in."""
