"""The engine protocol and the values engines exchange: :class:`Request` in, :class:`Take` out.

One way to run any engine::

    engine = get_engine("composer")          # or "units", "musicgen", "dance-diffusion", ...
    take = engine.generate(Request(prompt="dark techno in F minor", seconds=30, seed=1))

Engines that can also continue, vary or interpolate audio implement ``continue_``,
``vary`` or ``interpolate``; asking one that cannot raises :class:`EngineError` naming
the engines that can (see :func:`music.engines.require`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from music.audio import Audio
from music.errors import EngineError


@dataclass(frozen=True)
class Request:
    """What to generate.

    Attributes
    ----------
    prompt : str or None
        Free text ("dark techno in F minor at 128 bpm").
    seconds : float or None
        Wanted length in seconds (engines round to what they can make: bars, sample sizes).
    seed : int
        Random seed; the same request and seed give the same bytes on the CPU.
    params : dict
        Engine-specific parameters (genre, bpm, key, stems, steps, guidance, …); every one
        of them is recorded in the take's provenance.
    """

    prompt: str | None = None
    seconds: float | None = None
    seed: int = 0
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Take:
    """One generated (or loaded) piece of music.

    Attributes
    ----------
    mix : Audio
        The mastered mix.
    stems : dict[str, Audio]
        Named stems, sample-aligned with the mix: same rate and length.
    midi : dict[str, bytes]
        Standard MIDI files by stem name (``"all"`` for the full arrangement), if any.
    provenance : dict
        engine, engine version, model id and weights sha256, seed and every parameter.
    bpm, key, seed
        What was asked for or measured (``key`` as ``"A minor"``); ``None`` if unknown.
    mood : str or None
        The mood words the take was made to (the prompt's ``"calm"``), ``None`` if none were asked.
    extras : dict[str, Audio]
        Further named renders (e.g. ``"continuation"``: the continuation alone).
    """

    mix: Audio
    stems: dict[str, Audio] = field(default_factory=dict)
    midi: dict[str, bytes] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    bpm: float | None = None
    key: str | None = None
    seed: int | None = None
    extras: dict[str, Audio] = field(default_factory=dict)
    mood: str | None = None

    def __post_init__(self) -> None:
        for name, stem in self.stems.items():
            if stem.sr != self.mix.sr or stem.n != self.mix.n:
                raise EngineError(
                    f"stem {name!r} is not aligned with the mix "
                    f"({stem.n} samples at {stem.sr} Hz vs {self.mix.n} at {self.mix.sr} Hz)"
                )


Progress = Callable[..., None]
"""A progress callback ``(done, total[, loss])``, passed as the ``progress=`` keyword of an operation."""


@runtime_checkable
class Engine(Protocol):
    """What every engine provides.

    An engine is configured once, when it is built (its model included: loaded in the constructor
    or on first use, never swapped by a request); per-request settings are its frozen ``Params``
    dataclass, parsed from ``Request.params`` by :func:`parse_params` and recorded whole in the
    take's provenance. ``deterministic`` says whether the same request and seed give the same bytes
    on the CPU (what ``songmint verify`` re-renders). An engine with weights also has
    ``require_weights()``: it finds them without loading them, raising ``ModelNotFoundError``
    (naming ``songmint models pull …``) when they are not here, so that callers can stop before any
    work (:func:`music.engines.run.require_models`).
    """

    name: str
    version: str
    deterministic: bool
    Params: type

    def generate(self, request: Request, *, progress: Progress | None = None) -> Take:
        """Make a new take."""
        ...


P = TypeVar("P")

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _number(name: str, value: Any, what: str) -> float:
    """``value`` read as a float for an int or float field; a bool (an int to Python) is not one,
    and the error says ``what`` the field wanted."""
    if isinstance(value, bool):
        raise ValueError(f"parameter {name}={value!r} is not {what}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"parameter {name}={value!r} is not {what}") from None


def _coerce(name: str, value: Any, hint: Any) -> Any:
    """``value`` as the field type ``hint`` (int, float, bool, str, Literal, ``X | None``, Any)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        errors = []
        for a in args:
            try:
                return _coerce(name, value, a)
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(errors[0] if len(errors) == 1 else f"parameter {name}={value!r} has the wrong type")
    if origin is Literal:
        choices = typing.get_args(hint)
        if value in choices:
            return value
        raise ValueError(f"parameter {name}={value!r} must be one of: {', '.join(map(str, choices))}")
    if hint is Any or hint is object:
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError(f"parameter {name}={value!r} is not a boolean; use true or false")
    if hint is int:
        x = _number(name, value, "a whole number")
        if not x.is_integer():
            raise ValueError(f"parameter {name}={value!r} is not a whole number")
        return int(x)
    if hint is float:
        x = _number(name, value, "a number")
        if not math.isfinite(x):
            raise ValueError(f"parameter {name}={value!r} is not a finite number")
        return x
    if hint is str:
        if isinstance(value, str):
            return value
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise ValueError(f"parameter {name}={value!r} is not text")
    if isinstance(hint, type) and isinstance(value, hint):
        return value
    raise ValueError(f"parameter {name}={value!r} is not a {getattr(hint, '__name__', hint)}")


def reject_request_model(given: Mapping[str, Any], *, engine: str) -> None:
    """An :class:`EngineError` where ``Request.params`` names a model (``model``, ``checkpoint``):
    an engine's weights are chosen when it is built and fixed for its life."""
    if "checkpoint" in given or "model" in given:
        raise EngineError("the model is chosen when the engine is built (--model, or "
                          f"get_engine({engine!r}, model=...)), not per request")


def parse_params(cls: type[P], given: Mapping[str, Any], *, engine: str) -> P:
    """Parse and validate ``Request.params`` into an engine's frozen ``Params`` dataclass.

    Every key must be a field of ``cls`` and every value must convert to the field's type
    (numbers from numeric text, booleans from ``true``/``false``, choices of a ``Literal``);
    ``None`` keeps the default. ``cls.__post_init__`` may check ranges and raise
    :class:`EngineError` itself.

    Raises
    ------
    EngineError
        One line: the unknown keys and the valid ones, or the ill-typed key and what it wants.
    """
    fields = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise EngineError(f"unknown {engine} parameter(s) {', '.join(unknown)}; known: {', '.join(fields)}")
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in given.items():
        if value is None:
            continue
        try:
            values[key] = _coerce(key, value, hints[key])
        except ValueError as exc:
            raise EngineError(f"{engine}: {exc}") from None
    return cls(**values)


def params_record(params: Any) -> dict[str, Any]:
    """A ``Params`` value as JSON-ready provenance: every field, audio and paths named, tensors left out."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(params):
        v = getattr(params, f.name)
        if isinstance(v, os.PathLike):
            v = os.fspath(v)
        elif v is not None and not isinstance(v, str | int | float | bool | list | tuple | dict):
            v = f"<{type(v).__name__}>"
        out[f.name] = list(v) if isinstance(v, tuple) else v
    return out
