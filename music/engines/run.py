"""One way to run an engine on a request: generate, or continue a source recording.

The release pipeline and ``songmint verify`` both render takes through :func:`run_request`, so a
re-render for verification takes exactly the path the release took.
"""

from __future__ import annotations

import os
from typing import Any

from music.engines import Request, Take, get_engine, require
from music.takes import load_mix_and_stems

__all__ = ["run_request"]


def run_request(
    engine_name: str,
    request: Request,
    *,
    source: str | os.PathLike[str] | None = None,
    source_stems: str | os.PathLike[str] | None = None,
    **engine_options: Any,
) -> Take:
    """``engine.generate(request)``, or ``engine.continue_(source, request, stems=…)`` with a source.

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
    engine = get_engine(engine_name, **engine_options)
    if source is None:
        return require(engine, "generate")(request)
    audio, stems = load_mix_and_stems(source, source_stems)
    return require(engine, "continue_")(audio, request, stems=stems or None)
