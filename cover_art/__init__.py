"""Cover art generated from the music: deterministic, procedural, one of a kind per track.

``render(traits, audio=None, *, style, seed, size) -> Cover``: the palette comes from the
key and mode (circle of fifths → hue, mode → warmth and contrast), the drawing parameters
from tempo, energy, danceability and brightness, and a motif from the track's own waveform,
onsets and chroma. See ``docs/cover-art.md``.

The public seam for other engines and for the video (``cover_art.video``): :func:`finish`
(PNG + thumbnail + provenance), :func:`snapshot` (a skia canvas as RGB), :func:`motif_for`
(the motif of audio, or a seeded stand-in), :func:`scene_for` (a canvas with the cover's
palette, parameters, motif and RNG) and the style registry (:data:`ENGINES`,
:func:`register`, :func:`get_engine`, :func:`style_names`).
"""

from __future__ import annotations

from cover_art.cover import Cover, finish, thumbnail_path, traits_mapping
from cover_art.engines import ENGINES, CoverEngine, get_engine, register, style_names
from cover_art.errors import CoverArtError
from cover_art.motif import Motif, motif_for, motif_from_audio
from cover_art.palette import Palette, palette_for, parse_key
from cover_art.params import Params, params_for
from cover_art.png import read_provenance
from cover_art.procedural import scene_for
from cover_art.render import DEFAULT_SIZE, DEFAULT_STYLE, THUMBNAIL_SIZE, render
from cover_art.scene import snapshot
from cover_art.styles import STYLES

STYLE_NAMES = tuple(STYLES)
"""The procedural styles (``cover_art.styles.STYLES``); ``diffusion`` is the optional engine."""

__all__ = [
    "DEFAULT_SIZE", "DEFAULT_STYLE", "ENGINES", "STYLE_NAMES", "THUMBNAIL_SIZE", "Cover", "CoverArtError",
    "CoverEngine", "Motif", "Palette", "Params", "finish", "get_engine", "motif_for", "motif_from_audio",
    "palette_for", "params_for", "parse_key", "read_provenance", "register", "render", "scene_for",
    "snapshot", "style_names", "thumbnail_path", "traits_mapping",
]
