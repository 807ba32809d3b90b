"""Generation engines, registered by name and imported lazily.

Heavy dependencies (torch, diffusers, transformers) are imported inside the engines that
need them, so listing engines or running the composer never imports torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from music.engines.base import Engine, Request, Take
from music.errors import EngineError

__all__ = ["ENGINES", "Engine", "Request", "Take", "engine_class", "engine_names", "get_engine", "require"]

ENGINES: dict[str, str] = {
    "composer": "music.engines.composer:ComposerEngine",
    "units": "music.engines.units:UnitsEngine",
    "musicgen": "music.engines.musicgen:MusicgenEngine",
    "dance-diffusion": "music.engines.dance_diffusion:DanceDiffusionEngine",
    "stable-audio": "music.engines.stable_audio:StableAudioEngine",
    "symbolic": "music.engines.symbolic.engine:SymbolicEngine",
}
"""Engine name -> ``"module:Class"``."""

# Which engines implement which optional operation (kept here so errors can name them).
OPERATIONS: dict[str, tuple[str, ...]] = {
    "generate": ("composer", "symbolic", "musicgen", "dance-diffusion", "stable-audio"),
    "continue_": ("units", "musicgen"),
    "continue_midi": ("symbolic",),
    "vary": ("dance-diffusion", "stable-audio"),
    "interpolate": ("dance-diffusion",),
}


def engine_names() -> list[str]:
    """Registered engine names."""
    return list(ENGINES)


def engine_class(name: str) -> type[Engine]:
    """The class of the engine called ``name``, imported but not instantiated (no weights load):
    what a caller reads class-level facts such as ``deterministic`` from.

    Raises
    ------
    EngineError
        For an unknown name, listing the known ones, or an engine whose dependencies are missing.
    """
    target = ENGINES.get(name)
    if target is None:
        raise EngineError(f"unknown engine {name!r}; known engines: {', '.join(ENGINES)}")
    module, cls = target.split(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise EngineError(
            f"engine {name!r} needs {exc.name}, which is not installed; "
            "install the ml extra: pip install torch==2.13.0 && pip install -e '.[ml]'"
        ) from exc
    return getattr(mod, cls)


def get_engine(name: str, **options: Any) -> Engine:
    """Instantiate the engine called ``name`` (options go to its constructor).

    Raises
    ------
    EngineError
        For an unknown name, listing the known ones.
    """
    return engine_class(name)(**options)


def require(engine: Engine, operation: str) -> Any:
    """The bound method ``operation`` of ``engine``, or an error naming engines that have it."""
    method = getattr(engine, operation, None)
    if method is None:
        able = ", ".join(OPERATIONS.get(operation, ())) or "none"
        op = operation.rstrip("_")
        raise EngineError(f"engine {engine.name!r} cannot {op}; engines that can: {able}")
    return method
