"""One way to run an engine on a request: generate, or continue a source recording.

The release pipeline and ``songmint verify`` both render takes through :func:`run_request`, so a
re-render for verification takes exactly the path the release took.
"""

from __future__ import annotations

import os
from typing import Any

from music.engines import Request, Take, get_engine, require
from music.engines.finish import Finish, finish_settings, finish_take
from music.takes import load_mix_and_stems

__all__ = ["require_models", "run_request"]


def _prepared(engine_name: str, request: Request, engine_options: dict[str, Any], *,
              require_weights: bool = False) -> tuple[Any, Finish | None, Request]:
    """The engine built for ``request`` (``params["model"]`` its weights, found first with
    ``require_weights``), its finishing settings (their models found: :func:`finish_settings`),
    and the request without either."""
    params = dict(request.params)
    model = params.pop("model", None)
    if model is not None:
        engine_options = {**engine_options, "model": model}
    engine = get_engine(engine_name, **engine_options)
    if require_weights and hasattr(engine, "require_weights"):
        engine.require_weights()
    finishing = finish_settings(engine, params)
    return engine, finishing, Request(prompt=request.prompt, seconds=request.seconds, seed=request.seed,
                                      params=params)


def require_models(engine_name: str, request: Request, **engine_options: Any) -> None:
    """Find, without loading them, the models :func:`run_request` would load for ``request``: the
    engine's weights (``require_weights``) and the separation and transcription models of its
    finishing; what a release checks of every track before it does any work.

    Raises
    ------
    ModelNotFoundError
        The first one missing, naming ``songmint models pull …`` (or how to install it).
    """
    _prepared(engine_name, request, engine_options, require_weights=True)


def run_request(
    engine_name: str,
    request: Request,
    *,
    source: str | os.PathLike[str] | None = None,
    source_stems: str | os.PathLike[str] | None = None,
    **engine_options: Any,
) -> Take:
    """``engine.generate(request)``, or ``engine.continue_(source, request, stems=…)`` with a source,
    then finished as the CLI finishes it (:func:`music.engines.finish.finish_settings`: neural takes
    mastered, with measured tempo and key; the composer finishes its own).

    ``request.params["model"]`` names the weights of a neural engine (a name, a Hugging Face id in
    the local cache, or a folder); the remaining finishing keys (``lufs``, ``bpm``, ``key``,
    ``loop``, ``stems``) are taken out for the finishing step.

    Parameters
    ----------
    engine_name : str
        A registered engine (:func:`music.engines.engine_names`).
    request : Request
        Prompt, length, seed and parameters.
    source, source_stems : path-like, optional
        A recording to continue, and a folder of its stems.
    **engine_options
        Passed to the engine's constructor.

    Raises
    ------
    EngineError
        For an unknown engine or one that cannot do the operation (naming those that can).
    """
    engine, finishing, request = _prepared(engine_name, request, engine_options)
    if source is None:
        take = require(engine, "generate")(request)
    else:
        audio, stems = load_mix_and_stems(source, source_stems)
        take = require(engine, "continue_")(audio, request, stems=stems or None)
    return take if finishing is None else finish_take(take, finishing)
