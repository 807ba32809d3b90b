"""The procedural engine: a style from :data:`cover_art.styles.STYLES` painted on a skia canvas.

Pipeline: traits → :class:`~cover_art.palette.Palette` and :class:`~cover_art.params.Params`;
audio → :class:`~cover_art.motif.Motif`; a seeded RNG from (seed, style, traits, audio hash);
the style paints a skia raster canvas; optional typography; print finish (mottle, vignette,
film grain); :func:`cover_art.cover.finish` encodes it with its provenance.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import skia

from cover_art.cover import FORMAT_VERSION, Cover, finish
from cover_art.motif import Motif, motif_for
from cover_art.palette import Palette, palette_for
from cover_art.params import Params, params_for
from cover_art.scene import Scene, grain, print_finish, snapshot
from cover_art.styles import STYLES


def rng_for(seed: int, style: str, traits: dict[str, Any], digest: str) -> np.random.Generator:
    """The layout RNG of a cover: seeded by (format version, seed, style, traits, audio digest)."""
    blob = json.dumps([FORMAT_VERSION, seed, style, traits, digest], sort_keys=True, default=str).encode()
    words = np.frombuffer(hashlib.sha256(blob).digest(), dtype="<u4").tolist()
    return np.random.default_rng(words)


def scene_for(traits: dict[str, Any], audio: Any, *, style: str, seed: int, width: int,
              height: int | None = None) -> tuple[Scene, skia.Surface, Palette, Params, Motif]:
    """A fresh canvas and the :class:`Scene` a style paints on, as :func:`render_procedural` builds it.

    The video treatments use it to draw grounds and figures with the cover's palette, parameters,
    motif and RNG stream. ``height`` defaults to ``width`` (a square).
    """
    pal = palette_for(traits)
    prm = params_for(traits)
    motif = motif_for(audio, seed)
    rng = rng_for(seed, style, traits, motif.digest)
    surface = skia.Surface(width, height or width)
    scene = Scene(canvas=surface.getCanvas(), n=width, palette=pal, params=prm, motif=motif, rng=rng)
    return scene, surface, pal, prm, motif


def render_procedural(traits: dict[str, Any], audio: Any = None, *, style: str, seed: int, size: int,
                      title: str | None = None, artist: str | None = None) -> Cover:
    """Render a procedural cover; see :func:`cover_art.render` for the parameters."""
    scene, surface, pal, prm, motif = scene_for(traits, audio, style=style, seed=seed, width=size)
    STYLES[style](scene)
    finish_rng = np.random.default_rng(scene.rng.integers(0, 2**63 - 1, 2).tolist())
    scene.rng = finish_rng
    # Texture: grain from the timbre's darkness (brightness), mottling from how full the
    # spectrum is (mean band level: noisy, broadband music gets a rougher paper).
    fullness = float(motif.spectrum.mean())
    print_finish(scene, mottle=0.3 + prm.texture + 0.8 * fullness,
                 vignette=0.16 + 0.12 * (1 - pal.warmth) / 2)
    fonts = None
    if title or artist:
        from cover_art.typography import set_type

        fonts = set_type(scene, title=title, artist=artist, traits=traits)
    rgb = grain(snapshot(surface), sigma=2.5 + 5.0 * prm.texture, rng=finish_rng)
    return finish(rgb, engine="procedural", style=style, seed=seed, traits=traits, digest=motif.digest,
                  palette=pal, params=prm, extra={"fonts": fonts, "title": title, "artist": artist})
