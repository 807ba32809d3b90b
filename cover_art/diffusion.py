"""Optional engine: text-to-image with diffusers' Stable Diffusion, local weights only.

The prompt is built from the traits (mood, key colour words, tempo and energy words, the
style vocabulary of album art); the seed is mixed with the audio's hash so that equal
traits still give different pictures for different tracks. Weights are never downloaded:
pass a diffusers-format folder (``model_index.json`` + components) with ``model=`` (the CLI
passes ``--model`` or ``$SONGMINT_SD_MODEL``: this module reads no environment); a missing
folder is a one-line error saying where we looked.

Determinism: on the CPU in float32 with a seeded ``torch.Generator`` the same inputs give
the same pixels; the output goes through the same PNG writer and provenance as the
procedural styles.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cover_art.cover import finish
from cover_art.errors import CoverArtError
from cover_art.motif import motif_for
from cover_art.palette import palette_for, parse_key
from cover_art.params import params_for
from cover_art.scene import Scene, snapshot

if TYPE_CHECKING:
    from cover_art.cover import Cover

ENV_MODEL = "SONGMINT_SD_MODEL"
"""The variable the CLI reads for ``model`` (``songmint cover --model``, a release's diffusion covers)."""
DEFAULT_STEPS = 30
DEFAULT_GUIDANCE = 7.0

_HUE_WORDS = ["crimson", "vermilion", "amber", "gold", "chartreuse", "emerald", "jade", "teal",
              "azure", "cobalt", "indigo", "violet", "magenta", "rose"]


class ModelNotFoundError(CoverArtError):
    """No local Stable Diffusion checkpoint where we looked."""


def _hue_word(h: float) -> str:
    return _HUE_WORDS[int(((h - 25.0) % 360.0) / 360.0 * len(_HUE_WORDS))]


def build_prompt(traits: Mapping[str, Any]) -> tuple[str, str]:
    """A prompt and a negative prompt for a cover of a track with these traits.

    Returns
    -------
    prompt, negative : str
    """
    pal = palette_for(traits)
    prm = params_for(traits)
    key = parse_key(traits.get("key") or "C major")
    mood = str(traits.get("mood") or ("bright" if pal.warmth > 0 else "brooding"))
    energy = ("explosive, dynamic" if prm.energy > 0.7 else
              "calm, spacious" if prm.energy < 0.35 else "flowing")
    motion = ("fast rhythmic motion" if prm.tempo_bpm > 130 else
              "slow drifting forms" if prm.tempo_bpm < 90 else "steady pulse")
    light = "luminous forms on a dark ground" if pal.dark else "rich pigments on warm paper"
    colours = f"{_hue_word(pal.hue)} and {_hue_word((pal.hue + 30) % 360)} palette with a touch of " \
              f"{_hue_word((pal.hue + 180) % 360)}"
    prompt = (f"abstract album cover art, {mood} mood, {energy}, {motion}, {colours}, {light}, "
              f"{'major-key warmth' if pal.warmth > 0 else 'minor-key melancholy'} ({key.name}), "
              "fine art print, layered translucent shapes, film grain, masterpiece")
    negative = "text, letters, watermark, logo, signature, frame, blurry, low quality, jpeg artifacts"
    return prompt, negative


def find_model(model: str | Path | None = None) -> Path:
    """The local checkpoint folder ``model`` (the CLI passes ``--model`` or ``$SONGMINT_SD_MODEL``).

    Raises
    ------
    ModelNotFoundError
        If ``model`` is not given or not a folder with a ``model_index.json``.
    """
    candidates = [Path(model)] if model else []
    for c in candidates:
        if (c / "model_index.json").is_file():
            return c
    where = ", ".join(str(c) for c in candidates) or f"--model / ${ENV_MODEL} (neither set)"
    raise ModelNotFoundError(
        f"no Stable Diffusion checkpoint found at {where}: put a diffusers-format folder "
        f"(with model_index.json) there and pass --model DIR or set {ENV_MODEL}; nothing is downloaded")


def _config_digest(path: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(path.rglob("*.json")):
        h.update(f.relative_to(path).as_posix().encode())
        h.update(f.read_bytes())
    for f in sorted(path.rglob("*.safetensors")) + sorted(path.rglob("*.bin")):
        h.update(f"{f.relative_to(path).as_posix()}:{f.stat().st_size}".encode())
    return h.hexdigest()


@lru_cache(maxsize=2)
def load_pipeline(path: str) -> Any:
    """Load a ``StableDiffusionPipeline`` from a local folder (float32, CPU, no safety checker)."""
    import torch
    from diffusers import StableDiffusionPipeline

    try:
        pipe = StableDiffusionPipeline.from_pretrained(
            path, local_files_only=True, dtype=torch.float32, safety_checker=None,
            requires_safety_checker=False)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"cannot load a Stable Diffusion pipeline from {path}: {exc}") from exc
    pipe.set_progress_bar_config(disable=True)
    return pipe


def render_diffusion(traits: Mapping[str, Any], audio: Any = None, *, seed: int, size: int,
                     title: str | None = None, artist: str | None = None, model: str | Path | None = None,
                     pipeline: Any = None, steps: int = DEFAULT_STEPS, guidance: float = DEFAULT_GUIDANCE,
                     resolution: int | None = None) -> Cover:
    """Render a cover with Stable Diffusion; see :func:`cover_art.render` for the parameters.

    Parameters
    ----------
    pipeline : StableDiffusionPipeline, optional
        A ready pipeline (tests pass a tiny random one); otherwise loaded from ``model``.
    steps, guidance : int, float
        Denoising steps and classifier-free guidance scale.
    resolution : int, optional
        Side the model renders at (default: the UNet's native size); the result is scaled to
        ``size`` with Lanczos.
    """
    model_id: dict[str, Any]
    path = find_model(model) if pipeline is None else None  # fail fast, before importing torch

    import skia
    import torch
    from PIL import Image

    if path is not None:
        pipeline = load_pipeline(str(path.resolve()))
        model_id = {"name": path.name, "config_sha256": _config_digest(path)}
    else:
        model_id = {"name": type(pipeline.unet).__name__, "config_sha256": hashlib.sha256(
            repr(sorted(pipeline.unet.config.items())).encode()).hexdigest()}
    prompt, negative = build_prompt(traits)
    motif = motif_for(audio, seed)
    # Mix the audio's identity into the noise seed: equal traits, different tracks, different images.
    noise_seed = (seed * 0x9E3779B97F4A7C15 + motif.seed_bits) % (1 << 63)
    native = resolution or int(pipeline.unet.config.sample_size * pipeline.vae_scale_factor)
    generator = torch.Generator("cpu").manual_seed(noise_seed)
    with torch.no_grad():
        result = pipeline(prompt=prompt, negative_prompt=negative, num_inference_steps=steps,
                          guidance_scale=guidance, height=native, width=native, generator=generator,
                          output_type="np")
    img = np.clip(np.rint(result.images[0] * 255.0), 0, 255).astype(np.uint8)
    rgb = np.asarray(Image.fromarray(img).resize((size, size), Image.Resampling.LANCZOS), dtype=np.uint8)

    pal, prm = palette_for(traits), params_for(traits)
    fonts = None
    if title or artist:
        from cover_art.typography import set_type

        rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
        surface = skia.Surface(size, size)
        surface.getCanvas().drawImage(skia.Image.fromarray(rgba, colorType=skia.kRGBA_8888_ColorType), 0, 0)
        scene = Scene(canvas=surface.getCanvas(), n=size, palette=pal, params=prm, motif=motif,
                      rng=np.random.default_rng(seed))
        fonts = set_type(scene, title=title, artist=artist, traits=traits)
        rgb = snapshot(surface)
    extra = {"model": model_id, "prompt": prompt, "negative_prompt": negative, "steps": steps,
             "guidance": guidance, "resolution": native, "noise_seed": noise_seed,
             "torch": torch.__version__, "fonts": fonts, "title": title, "artist": artist}
    return finish(rgb, engine="stable-diffusion", style="diffusion", seed=seed, traits=dict(traits),
                  digest=motif.digest, palette=pal, params=prm, extra=extra)
