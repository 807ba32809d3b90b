"""The registry of cover styles: name → the engine that renders it.

Each entry is a :class:`CoverEngine`: a renderer with the signature
``render(traits: dict, audio, *, seed, size, title, artist, **options) -> Cover`` and the facts
other stages need (is it deterministic on the CPU, which extra options it takes). The four
procedural styles and the optional Stable Diffusion engine are registered here; the CLI's
``--style`` choices, :func:`cover_art.render` and the video command all read this table.

>>> from cover_art.engines import register, CoverEngine
>>> register(CoverEngine(name="mine", render=my_renderer, engine="mine"))  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from cover_art.cover import Cover
from cover_art.errors import CoverArtError
from cover_art.styles import STYLES

Renderer = Callable[..., Cover]
"""``(traits: dict, audio, *, seed: int, size: int, title, artist, **options) -> Cover``."""


@dataclass(frozen=True)
class CoverEngine:
    """One cover style and how to render it.

    Attributes
    ----------
    name : str
        The style name (``--style``).
    render : Renderer
        Draws the cover; ``traits`` are already reduced by :func:`cover_art.cover.traits_mapping`
        and ``size``/``seed`` validated.
    engine : str
        What the provenance calls the engine (``procedural``, ``stable-diffusion``).
    deterministic : bool
        Same inputs → same bytes on the CPU, so ``verify`` can re-render it.
    options : tuple of str
        Extra keyword options the renderer accepts (e.g. ``("model",)``).
    description : str
    """

    name: str
    render: Renderer
    engine: str
    deterministic: bool = True
    options: tuple[str, ...] = ()
    description: str = field(default="", compare=False)


ENGINES: dict[str, CoverEngine] = {}
"""Registered cover styles, in registration order."""


def register(engine: CoverEngine, *, replace: bool = False) -> CoverEngine:
    """Add a cover style to :data:`ENGINES` (``replace=True`` to override an existing name)."""
    if engine.name in ENGINES and not replace:
        raise CoverArtError(f"cover style {engine.name!r} is already registered")
    ENGINES[engine.name] = engine
    return engine


def style_names() -> tuple[str, ...]:
    """Every registered style name, procedural ones first."""
    return tuple(ENGINES)


def get_engine(name: str) -> CoverEngine:
    """The engine for a style name.

    Raises
    ------
    CoverArtError
        For an unknown name (the message lists the registered ones).
    """
    try:
        return ENGINES[name]
    except (KeyError, TypeError):
        raise CoverArtError(f"unknown style {name!r}; choose one of {', '.join(ENGINES)}") from None


def _procedural(traits: dict[str, Any], audio: Any = None, *, style: str, **kwargs: Any) -> Cover:
    from cover_art.procedural import render_procedural

    return render_procedural(traits, audio, style=style, **kwargs)


def _diffusion(traits: dict[str, Any], audio: Any = None, **kwargs: Any) -> Cover:
    from cover_art.diffusion import render_diffusion

    return render_diffusion(traits, audio, **kwargs)


def _summary(fn: Callable[..., Any]) -> str:
    doc = sys.modules[fn.__module__].__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


for _name, _draw in STYLES.items():
    register(CoverEngine(name=_name, render=partial(_procedural, style=_name), engine="procedural",
                         description=_summary(_draw)))
register(CoverEngine(name="diffusion", render=_diffusion, engine="stable-diffusion", deterministic=True,
                     options=("model",), description="optional Stable Diffusion engine (local weights)"))
