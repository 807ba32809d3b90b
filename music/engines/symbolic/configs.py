"""Named training configs: ``shipped`` (the weights in the package), ``tiny`` (tests, CI), ``gpu``."""

from __future__ import annotations

import json
from pathlib import Path

from music.engines.symbolic.training import TINY, TrainConfig
from music.errors import EngineError

SHIPPED = TrainConfig(
    model={"d_model": 192, "n_layers": 4, "n_heads": 4, "d_ff": 768, "context": 256, "dropout": 0.05},
    steps=1800, batch=12, lr=2e-3, warmup=50, seed=0, eval_every=300, checkpoint_every=25, eval_windows=256,
)
"""Sized for under an hour on one CPU thread of a 2-core machine (~1.85 M parameters, ~5.5 M
training tokens seen)."""

GPU = TrainConfig(
    model={"d_model": 512, "n_layers": 8, "n_heads": 8, "d_ff": 2048, "context": 1024, "dropout": 0.1},
    steps=20000, batch=64, lr=6e-4, warmup=500, seed=0, bf16=True, eval_every=1000, checkpoint_every=500,
)
"""For a machine with an accelerator (~25 M parameters; not trained here)."""

NAMED: dict[str, TrainConfig] = {"shipped": SHIPPED, "tiny": TINY, "gpu": GPU}


def resolve(name: str) -> TrainConfig:
    """A named config, or one read from a JSON file of :class:`TrainConfig` fields."""
    if name in NAMED:
        return NAMED[name]
    path = Path(name)
    if not path.is_file():
        raise EngineError(f"unknown training config {name!r}; named configs: {', '.join(NAMED)}, "
                          "or a JSON file")
    try:
        return TrainConfig.from_dict(json.loads(path.read_text()))
    except (json.JSONDecodeError, TypeError) as exc:
        raise EngineError(f"cannot read training config {path}: {exc}") from exc
