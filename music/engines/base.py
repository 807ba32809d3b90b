"""The engine protocol and the values engines exchange: :class:`Request` in, :class:`Take` out.

One way to run any engine::

    engine = get_engine("composer")          # or "units", "musicgen", "dance-diffusion", ...
    take = engine.generate(Request(prompt="dark techno in F minor", seconds=30, seed=1))

Engines that can also continue, vary or interpolate audio implement ``continue_``,
``vary`` or ``interpolate``; asking one that cannot raises :class:`EngineError` naming
the engines that can (see :func:`music.engines.require`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

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

    def __post_init__(self) -> None:
        for name, stem in self.stems.items():
            if stem.sr != self.mix.sr or stem.n != self.mix.n:
                raise EngineError(
                    f"stem {name!r} is not aligned with the mix "
                    f"({stem.n} samples at {stem.sr} Hz vs {self.mix.n} at {self.mix.sr} Hz)"
                )


@runtime_checkable
class Engine(Protocol):
    """What every engine provides."""

    name: str
    version: str

    def generate(self, request: Request) -> Take:
        """Make a new take."""
        ...
