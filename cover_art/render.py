"""``render``: traits (+ audio) → a finished, deterministic cover, by the style's registered engine.

The engines live in :mod:`cover_art.engines` (procedural styles in :mod:`cover_art.procedural`,
Stable Diffusion in :mod:`cover_art.diffusion`); every one ends with
:func:`cover_art.cover.finish`: our own PNG writer (no timestamps) with the provenance as JSON in
an ``iTXt`` chunk, and a 512 px thumbnail (area average) with the same provenance.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cover_art.cover import (
    DEFAULT_SIZE,
    FORMAT_VERSION,
    MAX_SIZE,
    MIN_SIZE,
    THUMBNAIL_SIZE,
    TRAIT_KEYS,
    Cover,
    finish,
    thumbnail_path,
    traits_mapping,
)
from cover_art.engines import get_engine
from cover_art.errors import CoverArtError
from cover_art.motif import Motif

if TYPE_CHECKING:  # the type only: cover_art never runs trait extraction itself
    from music.audio import Audio
    from music.traits import Traits

DEFAULT_STYLE = "flow"

__all__ = ["DEFAULT_SIZE", "DEFAULT_STYLE", "FORMAT_VERSION", "MAX_SIZE", "MIN_SIZE", "THUMBNAIL_SIZE",
           "TRAIT_KEYS", "Cover", "finish", "render", "thumbnail_path", "traits_mapping"]


def render(traits: Traits | Mapping[str, Any], audio: Audio | Motif | None = None, *,
           style: str = DEFAULT_STYLE, seed: int = 0, size: int = DEFAULT_SIZE,
           title: str | None = None, artist: str | None = None,
           model: str | Path | None = None) -> Cover:
    """Render the cover of a track.

    Parameters
    ----------
    traits : music.traits.Traits or Mapping
        The track's traits (``Traits`` or its ``to_dict()``); ``key`` is required, the rest
        default to neutral values. See ``TRAIT_KEYS``.
    audio : music.audio.Audio or Motif, optional
        The track itself. Its waveform, onsets and chroma become the cover's motif, and its
        hash seeds the layout, so two tracks with equal traits never share a cover. Without
        it the motif is drawn from ``seed``.
    style : str
        A registered style (:func:`cover_art.engines.style_names`): ``flow``, ``radial``,
        ``geometric``, ``waves``, or ``diffusion`` for the optional Stable Diffusion engine
        (needs ``model``).
    seed : int
        Variation within the same track: a different seed, a different cover.
    size : int
        Side of the square image in pixels (64 … 8192).
    title, artist : str, optional
        Typography set on the cover.
    model : str or Path, optional
        Local Stable Diffusion checkpoint folder for ``style="diffusion"``.

    Returns
    -------
    Cover

    Raises
    ------
    CoverArtError
        Unknown style, bad size, traits without a key, or (diffusion) a missing checkpoint.
    """
    if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise CoverArtError(f"size must be an integer from {MIN_SIZE} to {MAX_SIZE} px, got {size!r}")
    if not isinstance(seed, int) or seed < 0:
        raise CoverArtError(f"seed must be a non-negative integer, got {seed!r}")
    t = traits_mapping(traits)
    engine = get_engine(style)
    options = {"model": model} if "model" in engine.options else {}
    return engine.render(t, audio, seed=seed, size=size, title=title, artist=artist, **options)
