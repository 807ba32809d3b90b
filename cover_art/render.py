"""``render``: traits (+ audio) → a finished, deterministic cover.

Pipeline: traits → :class:`~cover_art.palette.Palette` and :class:`~cover_art.params.Params`;
audio → :class:`~cover_art.motif.Motif`; a seeded RNG from (seed, style, traits, audio hash);
the style paints a skia raster canvas; optional typography; print finish (mottle,
vignette, film grain); our own PNG writer (no timestamps) with the provenance as JSON in
an ``iTXt`` chunk; a 512 px thumbnail (area average) with the same provenance.
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
import skia
from PIL import Image

from cover_art.errors import CoverArtError
from cover_art.motif import Motif, audio_digest, motif_from_audio, synthetic_motif
from cover_art.palette import Palette, palette_for
from cover_art.params import Params, params_for
from cover_art.png import PROVENANCE_KEY, encode_png
from cover_art.scene import Scene, grain, print_finish

if TYPE_CHECKING:  # the type only: cover_art never runs trait extraction itself
    from music.audio import Audio
    from music.traits import Traits

FORMAT_VERSION = 1
"""Bumped whenever a change alters the pixels for the same inputs."""
DEFAULT_SIZE = 2048
THUMBNAIL_SIZE = 512
MIN_SIZE, MAX_SIZE = 64, 8192
DEFAULT_STYLE = "flow"
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
            _atomic_write(target, data)
        return path, thumb


def thumbnail_path(path: str | Path) -> Path:
    """``cover.png`` → ``cover.thumb.png``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.thumb.png")


def _atomic_write(path: Path, data: bytes) -> None:
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


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _motif(audio: Audio | Motif | None, seed: int) -> Motif:
    if audio is None:
        return synthetic_motif(seed)
    if isinstance(audio, Motif):
        return audio
    samples = getattr(audio, "samples", None)
    sr = getattr(audio, "sr", None)
    if samples is None or sr is None:
        raise CoverArtError(f"audio must be a music.audio.Audio, got {type(audio).__name__}")
    return motif_from_audio(samples, sr, digest=audio_digest(samples, sr))


def _rng_for(seed: int, style: str, traits: dict[str, Any], digest: str) -> np.random.Generator:
    blob = json.dumps([FORMAT_VERSION, seed, style, traits, digest], sort_keys=True, default=str).encode()
    words = np.frombuffer(hashlib.sha256(blob).digest(), dtype="<u4").tolist()
    return np.random.default_rng(words)


def _snapshot(surface: skia.Surface) -> np.ndarray:
    """The canvas as an ``(n, n, 3)`` uint8 view (RGB of RGBA; the canvas is opaque)."""
    arr = surface.makeImageSnapshot().toarray(colorType=skia.kRGBA_8888_ColorType,
                                               alphaType=skia.kUnpremul_AlphaType)
    return arr[..., :3]


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
        One of :data:`cover_art.STYLES` (``flow``, ``radial``, ``geometric``, ``waves``), or
        ``diffusion`` for the optional Stable Diffusion engine (needs ``model``).
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
    from cover_art.styles import STYLES

    if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise CoverArtError(f"size must be an integer from {MIN_SIZE} to {MAX_SIZE} px, got {size!r}")
    if not isinstance(seed, int) or seed < 0:
        raise CoverArtError(f"seed must be a non-negative integer, got {seed!r}")
    t = traits_mapping(traits)
    if style == "diffusion":
        from cover_art.diffusion import render_diffusion

        return render_diffusion(t, audio, seed=seed, size=size, title=title, artist=artist, model=model)
    if style not in STYLES:
        raise CoverArtError(f"unknown style {style!r}; choose one of {', '.join([*STYLES, 'diffusion'])}")

    pal = palette_for(t)
    prm = params_for(t)
    motif = _motif(audio, seed)
    rng = _rng_for(seed, style, t, motif.digest)

    surface = skia.Surface(size, size)
    canvas = surface.getCanvas()
    scene = Scene(canvas=canvas, n=size, palette=pal, params=prm, motif=motif, rng=rng)
    STYLES[style](scene)
    finish_rng = np.random.default_rng(rng.integers(0, 2**63 - 1, 2).tolist())
    scene.rng = finish_rng
    # Texture: grain from the timbre's darkness (brightness), mottling from how full the
    # spectrum is (mean band level: noisy, broadband music gets a rougher paper).
    fullness = float(motif.spectrum.mean())
    print_finish(scene, mottle=0.3 + prm.texture + 0.8 * fullness,
                 vignette=0.16 + 0.12 * (1 - pal.warmth) / 2)
    fonts = None
    if title or artist:
        from cover_art.typography import set_type

        fonts = set_type(scene, title=title, artist=artist, traits=t)
    rgb = grain(_snapshot(surface), sigma=2.5 + 5.0 * prm.texture, rng=finish_rng)
    return finish(rgb, engine="procedural", style=style, seed=seed, traits=t, digest=motif.digest,
                  palette=pal, params=prm, extra={"fonts": fonts, "title": title, "artist": artist})


def finish(rgb: np.ndarray, *, engine: str, style: str, seed: int, traits: dict[str, Any], digest: str,
           palette: Palette, params: Params, extra: dict[str, Any]) -> Cover:
    """Encode an ``(n, n, 3)`` uint8 picture and its thumbnail, with provenance, as a :class:`Cover`."""
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
        "software": {"songmint": _version("songmint"), "skia-python": _version("skia-python"),
                     "numpy": np.__version__, "zlib": zlib.ZLIB_RUNTIME_VERSION,
                     "Pillow": _version("Pillow")},
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
