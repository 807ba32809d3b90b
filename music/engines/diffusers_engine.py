"""What the engines that run a diffusers model share (:mod:`~music.engines.dance_diffusion`,
:mod:`~music.engines.stable_audio`): one way to name, find and load the weights, to place them on a
device at a precision, to parse a request and to account for a take.

The weights are named once, when the engine is built (``model``; ``checkpoint`` is its older name),
found locally without loading (:meth:`DiffusersEngine.require_weights`), loaded on first use and fixed
for the engine's life; an already built model can be passed instead. Torch and diffusers are imported
only when a model is used.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import Any

from music.engines.base import Request, Take, parse_params, reject_request_model
from music.errors import EngineError

__all__ = ["DiffusersEngine"]


class DiffusersEngine:
    """Base of the diffusers engines: weights, device, precision, request parsing and provenance.

    A subclass sets ``name``, ``Params`` and :attr:`DTYPES`, and provides :meth:`_find` (locate the
    weights without loading them), :meth:`_load` (build the model from them), :meth:`_hash_weights` and
    :meth:`model_info`; it overrides :meth:`_parse` to refuse the other engines' parameters first.

    Parameters
    ----------
    model, checkpoint : str or path-like, optional
        What the subclass's :meth:`_find` looks up; ``checkpoint`` is ``model``'s older name.
    loaded : object, optional
        An already built model (then ``model`` only names it).
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"`` (resolved at use: :func:`music.engines.sampling.resolve_device`).
    dtype : str
        One of :attr:`DTYPES`.
    """

    name: str
    version = "1.0"
    deterministic = False
    Params: type
    DTYPES: tuple[str, ...] = ("float32", "bfloat16")
    """The precisions the model may run at."""

    def __init__(
        self, *, model: Any = None, checkpoint: Any = None, loaded: Any = None, device: str, dtype: str
    ) -> None:
        if dtype not in self.DTYPES:
            *others, last = self.DTYPES
            raise EngineError(f"dtype must be {', '.join(others)} or {last}, got {dtype!r}")
        self._spec = model if model is not None else checkpoint
        self._loaded = loaded
        self._sha: str | None = None
        self.device_name = device
        self.dtype_name = dtype

    # ------------------------------------------------------------------ weights

    def _find(self) -> Any:
        """Where the weights named by ``self._spec`` are, found without loading them.

        Raises
        ------
        ModelNotFoundError
            One line naming where the engine looked and how to provide the weights.
        """
        raise NotImplementedError

    def _load(self) -> Any:
        """The model built from the weights (:meth:`_find`), on :attr:`device` at ``dtype_name``."""
        raise NotImplementedError

    def _hash_weights(self) -> str | None:
        """The sha256 of the loaded weights' files; ``None`` for a model passed in built."""
        raise NotImplementedError

    def model_info(self) -> dict[str, Any]:
        """The model's part of a take's provenance: its name, weights sha256 and what it runs at."""
        raise NotImplementedError

    def require_weights(self) -> None:
        """Find the weights without loading them (:meth:`_find`; raises when they are missing)."""
        if self._loaded is None:
            self._find()

    def _model(self) -> Any:
        """The model, loaded on first use."""
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    def _weights_sha256(self) -> str | None:
        """:meth:`_hash_weights`, computed once (hashing the weights reads every byte of them)."""
        if self._sha is None:
            self._sha = self._hash_weights()
        return self._sha

    @property
    def device(self) -> str:
        from music.engines.sampling import resolve_device

        return resolve_device(self.device_name)

    # ------------------------------------------------------------------ requests and takes

    def _parse(self, request: Request) -> Any:
        """``request.params`` as the engine's ``Params`` (the model is not a request's to choose)."""
        reject_request_model(request.params, engine=self.name)
        return parse_params(self.Params, request.params, engine=self.name)

    def _provenance(self, op: str, seed: int | None, params: Mapping[str, Any]) -> dict[str, Any]:
        """A take's provenance, in this order: engine, engine_version, operation, seed, :meth:`model_info`,
        device, dtype, the params, the torch and diffusers versions and the machine."""
        import diffusers
        import torch

        return {"engine": self.name, "engine_version": self.version, "operation": op, "seed": seed,
                **self.model_info(), "device": self.device, "dtype": self.dtype_name, "params": dict(params),
                "torch": torch.__version__, "diffusers": diffusers.__version__, "machine": platform.machine()}

    def _take(self, clips: list[Any], op: str, seed: int | None, params: Mapping[str, Any]) -> Take:
        """A take of variations: the first clip is the mix, the others extras ``variation-02`` …"""
        extras = {f"variation-{i:02d}": c for i, c in enumerate(clips[1:], start=2)}
        return Take(mix=clips[0], extras=extras, provenance=self._provenance(op, seed, params), seed=seed)
