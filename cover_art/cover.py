"""The finished cover: :class:`Cover`, :func:`finish` (PNG + thumbnail + provenance) and the
traits a cover reads.

Every engine (procedural styles, Stable Diffusion, anything registered in
:mod:`cover_art.engines`) ends with :func:`finish`, so all covers share one PNG writer, one
thumbnail rule and one provenance layout.
"""

from __future__ import annotations

import hashlib
import io
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from cover_art.errors import CoverArtError
from cover_art.palette import Palette
from cover_art.params import Params
from cover_art.png import PROVENANCE_KEY, encode_png

if TYPE_CHECKING:  # the type only: cover_art never runs trait extraction itself
    from music.traits import Traits

FORMAT_VERSION = 1
"""Bumped whenever a change alters the pixels for the same inputs."""
DEFAULT_SIZE = 2048
THUMBNAIL_SIZE = 512
MIN_SIZE, MAX_SIZE = 64, 8192
TRAIT_KEYS = ("key", "tempo_bpm", "energy", "danceability", "brightness", "brightness_hz", "valence",
              "arousal", "mood", "camelot", "loudness_lufs", "percussiveness", "onset_rate_hz")
"""The traits a cover reads (and records); any others are ignored."""


@dataclass(frozen=True, eq=False)
class Cover:
    """A rendered cover.

    Attributes
    ----------
    png : bytes
        The square PNG (``size`` × ``size``), provenance in its ``songmint:provenance`` iTXt chunk.
    thumbnail : bytes
        A ``THUMBNAIL_SIZE`` px PNG of the same picture, with the same provenance.
    style, seed, size : str, int, int
    palette : Palette
    params : Params
    provenance : dict
        Everything that made the picture: software versions, traits, audio hash, style, seed,
        size, derived parameters and palette, fonts.
    """

    png: bytes
    thumbnail: bytes
    style: str
    seed: int
    size: int
    palette: Palette
    params: Params
    provenance: dict[str, Any] = field(repr=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.png).hexdigest()

    def image(self) -> Image.Image:
        """The cover decoded by Pillow (RGB)."""
        return Image.open(io.BytesIO(self.png)).convert("RGB")

    def save(self, path: str | Path, *, thumbnail: str | Path | None = None) -> tuple[Path, Path]:
        """Write the PNG and its thumbnail (default ``<stem>.thumb.png`` beside it), atomically."""
        path = Path(path)
        thumb = Path(thumbnail) if thumbnail else thumbnail_path(path)
        for target, data in ((path, self.png), (thumb, self.thumbnail)):
            atomic_write(target, data)
        return path, thumb


def thumbnail_path(path: str | Path) -> Path:
    """``cover.png`` → ``cover.thumb.png``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.thumb.png")


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary sibling, then rename it onto ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{np.random.default_rng().integers(1 << 30)}")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


def traits_mapping(traits: Traits | Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict of the traits a cover reads, from a ``Traits`` object or a mapping."""
    if hasattr(traits, "to_dict"):
        d = traits.to_dict()
    elif isinstance(traits, Mapping):
        d = dict(traits)
    else:
        raise CoverArtError(f"traits must be a music.traits.Traits or a mapping, got {type(traits).__name__}")
    out = {}
    for k in TRAIT_KEYS:
        v = d.get(k)
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, str | int | float | bool) or v is None:
            out[k] = v
    if not out.get("key"):
        raise CoverArtError("traits have no 'key' (e.g. 'F# minor'): the palette is built from it")
    return out


def software_version(dist: str) -> str:
    """The installed version of a distribution, or ``"unknown"``."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def finish(rgb: np.ndarray, *, engine: str, style: str, seed: int, traits: dict[str, Any], digest: str,
           palette: Palette, params: Params, extra: dict[str, Any]) -> Cover:
    """Encode an ``(n, n, 3)`` uint8 picture and its thumbnail, with provenance, as a :class:`Cover`.

    Parameters
    ----------
    rgb : np.ndarray, shape=(n, n, 3), uint8
        The finished picture.
    engine, style : str
        Recorded in the provenance (e.g. ``"procedural"``, ``"flow"``).
    seed : int
    traits : dict
        What :func:`traits_mapping` returned.
    digest : str
        The motif's digest (the audio's sha256, or ``"synthetic:<seed>"``).
    palette, params : Palette, Params
    extra : dict
        Engine-specific provenance; ``None`` values are left out.
    """
    size = int(rgb.shape[0])
    provenance = {
        "format": "songmint-cover",
        "format_version": FORMAT_VERSION,
        "engine": engine,
        "style": style,
        "seed": seed,
        "size": size,
        "traits": traits,
        "audio_sha256": None if digest.startswith("synthetic:") else digest,
        "motif": digest if digest.startswith("synthetic:") else "audio",
        "palette": palette.to_dict(),
        "params": params.to_dict(),
        "software": {"songmint": software_version("songmint"), "skia-python": software_version("skia-python"),
                     "numpy": np.__version__, "zlib": zlib.ZLIB_RUNTIME_VERSION,
                     "Pillow": software_version("Pillow")},
        **{k: v for k, v in extra.items() if v is not None},
    }
    text = {PROVENANCE_KEY: json.dumps(provenance, sort_keys=True, separators=(",", ":"), ensure_ascii=False)}
    png = encode_png(rgb, text=text)
    thumb_size = min(THUMBNAIL_SIZE, size)
    img = Image.fromarray(rgb)
    factor = size // thumb_size
    # An exact integer ratio (2048 → 512) is a box (area-average) reduction: correct
    # antialiasing, 6× cheaper than Lanczos; other ratios use Lanczos.
    small = (img.reduce(factor) if factor * thumb_size == size
             else img.resize((thumb_size, thumb_size), Image.Resampling.LANCZOS))
    thumbnail = encode_png(np.asarray(small, dtype=np.uint8), text=text)
    return Cover(png=png, thumbnail=thumbnail, style=style, seed=seed, size=size, palette=palette,
                 params=params, provenance=provenance)
