"""Cover art generated from the music: deterministic, procedural, one of a kind per track.

``render(traits, audio=None, *, style, seed, size) -> Cover``: the palette comes from the
key and mode (circle of fifths → hue, mode → warmth and contrast), the drawing parameters
from tempo, energy, danceability and brightness, and a motif from the track's own waveform,
onsets and chroma. See ``docs/cover-art.md``.
"""

from __future__ import annotations

from cover_art.errors import CoverArtError
from cover_art.motif import Motif, motif_from_audio
from cover_art.palette import Palette, palette_for, parse_key
from cover_art.params import Params, params_for
from cover_art.png import read_provenance
from cover_art.render import DEFAULT_SIZE, DEFAULT_STYLE, THUMBNAIL_SIZE, Cover, render, thumbnail_path

STYLE_NAMES = ("flow", "radial", "geometric", "waves")
"""The procedural styles (``cover_art.styles.STYLES``); ``diffusion`` is the optional engine."""

__all__ = [
    "DEFAULT_SIZE", "DEFAULT_STYLE", "STYLE_NAMES", "THUMBNAIL_SIZE", "Cover", "CoverArtError", "Motif",
    "Palette", "Params", "motif_from_audio", "palette_for", "params_for", "parse_key", "read_provenance",
    "render", "thumbnail_path",
]
