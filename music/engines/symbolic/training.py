"""Training the symbolic transformer: batches, schedule, checkpoints, held-out scoring, export.

Deterministic given a seed: the batch at step ``s`` is drawn from
``numpy.random.default_rng([seed, s])`` and dropout from ``torch.manual_seed(seed * 1_000_003 + s)``,
so a run resumed from a checkpoint takes the same steps as one that never stopped. Each
training window is the work's six-token header followed by a stretch of its body that
starts at a bar line, transposed by a random interval in ``[-5, +6]`` semitones (when the
pitches stay in range); the loss counts body tokens only.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from music.audio import atomic_path
from music.engines.symbolic import tokens as tk
from music.engines.symbolic.corpus import Dataset
from music.engines.symbolic.model import ModelConfig, SymbolicTransformer
from music.errors import EngineError

STYLE_WEIGHTS: dict[str, float] = {"chorale": 0.35, "fiddle": 0.25, "folk": 0.2, "renaissance": 0.2}
"""How often each style is drawn (works within a style are drawn by length)."""


@dataclass(frozen=True)
class TrainConfig:
    """A training run.

    Attributes
    ----------
    model : dict
        :class:`ModelConfig` fields except ``vocab_size``.
    steps, batch, lr, warmup, weight_decay, grad_clip : training schedule (AdamW, cosine decay
        to 10 % after a linear warm-up).
    seed : int
        Initialisation, batches and dropout.
    bf16 : bool
        Autocast matrix products to bfloat16 (CPU AMX or a GPU); weights stay float32.
    eval_every, checkpoint_every : int
        Steps between held-out evaluations and between checkpoints.
    eval_windows : int
        At most this many held-out windows per evaluation (0 = all).
    transpose : bool
        Random transposition augmentation.
    """

    model: dict[str, Any] = field(default_factory=dict)
    steps: int = 1000
    batch: int = 16
    lr: float = 2e-3
    warmup: int = 50
    weight_decay: float = 0.05
    grad_clip: float = 1.0
    seed: int = 0
    bf16: bool = False
    eval_every: int = 250
    checkpoint_every: int = 50
    eval_windows: int = 0
    transpose: bool = True

    def model_config(self) -> ModelConfig:
        """The model's shape."""
        return ModelConfig(vocab_size=tk.vocab_size(), **self.model)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict` (unknown keys raise)."""
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise EngineError(f"unknown training config keys: {', '.join(sorted(unknown))}")
        return cls(**d)


TINY = TrainConfig(model={"d_model": 32, "n_layers": 1, "n_heads": 2, "d_ff": 64, "context": 64},
                   steps=4, batch=2, warmup=1, eval_every=2, checkpoint_every=2, eval_windows=4)
"""A config for tests and CI: trains through the same code in about a second."""


def _bar_starts(work: np.ndarray) -> np.ndarray:
    return np.flatnonzero(work[tk.HEADER_LEN:] == tk.BAR) + tk.HEADER_LEN


def window(work: np.ndarray, start: int, context: int) -> np.ndarray:
    """Header + ``work[start:]`` cut to ``context`` tokens, padded with ``PAD``."""
    body = work[start:start + context - tk.HEADER_LEN]
    out = np.full(context, tk.PAD, dtype=np.int64)
    out[:tk.HEADER_LEN] = work[:tk.HEADER_LEN]
    out[tk.HEADER_LEN:tk.HEADER_LEN + len(body)] = body
    return out


class Sampler:
    """Draws training windows from a dataset's training split."""

    def __init__(self, ds: Dataset, *, context: int, transpose: bool = True) -> None:
        self.ds = ds
        self.context = context
        self.transpose = transpose
        train = ds.split(False)
        styles = ds.styles()
        self.by_style: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for style in tk.STYLES:
            idx = np.array([i for i in train if styles[i] == style], dtype=np.int64)
            if idx.size:
                lengths = np.diff(ds.offsets)[idx].astype(np.float64)
                self.by_style[style] = (idx, lengths / lengths.sum())
        if not self.by_style:
            raise EngineError("the training split is empty")
        names = list(self.by_style)
        w = np.array([STYLE_WEIGHTS.get(s, 0.1) for s in names])
        self.style_names, self.style_p = names, w / w.sum()
        self._bars: dict[int, np.ndarray] = {}

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One window, shape (context,)."""
        style = self.style_names[rng.choice(len(self.style_names), p=self.style_p)]
        idx, p = self.by_style[style]
        i = int(idx[rng.choice(len(idx), p=p)])
        work = self.ds.work(i)
        bars = self._bars.get(i)
        if bars is None:
            bars = self._bars[i] = _bar_starts(work)
        body = len(work) - tk.HEADER_LEN
        if body <= self.context - tk.HEADER_LEN or bars.size == 0:
            start = tk.HEADER_LEN
        else:
            fits = bars[bars <= len(work) - (self.context - tk.HEADER_LEN) // 2]
            start = int(fits[rng.integers(len(fits))]) if fits.size else tk.HEADER_LEN
        w = work.astype(np.int64)
        if self.transpose:
            shift = int(rng.integers(-5, 7))
            moved = tk.transpose(w, shift)
            w = moved if moved is not None else w
        return window(w, start, self.context)

    def batch(self, seed: int, step: int, size: int) -> torch.Tensor:
        """The batch of step ``step``, shape (size, context), reproducible from ``(seed, step)``."""
        rng = np.random.default_rng([seed, step])
        return torch.from_numpy(np.stack([self.draw(rng) for _ in range(size)]))


def held_out_windows(ds: Dataset, *, context: int, limit: int = 0) -> torch.Tensor:
    """Non-overlapping windows over every held-out work (header + consecutive body chunks).

    Returns
    -------
    torch.Tensor, shape (n_windows, context)
        The same windows score the transformer and the n-gram baseline.
    """
    out = []
    chunk = context - tk.HEADER_LEN
    for i in ds.split(True):
        work = ds.work(i).astype(np.int64)
        for start in range(tk.HEADER_LEN, len(work), chunk):
            out.append(window(work, start, context))
    if not out:
        raise EngineError("the held-out split is empty")
    if limit and len(out) > limit:
        keep = np.linspace(0, len(out) - 1, limit).round().astype(int)
        out = [out[k] for k in keep]
    return torch.from_numpy(np.stack(out))


def loss_terms(model: SymbolicTransformer, ids: torch.Tensor, *,
               bf16: bool = False) -> tuple[torch.Tensor, int]:
    """Summed next-token cross-entropy (nats) over body targets, and their count."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = model(ids[:, :-1])
    targets = ids[:, 1:].clone()
    targets[:, :tk.HEADER_LEN - 1] = -100
    targets[targets == tk.PAD] = -100
    nll = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1),
                          ignore_index=-100, reduction="sum")
    return nll, int((targets != -100).sum())


@torch.no_grad()
def evaluate(model: SymbolicTransformer, windows: torch.Tensor, *, batch: int = 16) -> float:
    """Held-out bits per body token."""
    was = model.training
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(windows), batch):
        nll, n = loss_terms(model, windows[i:i + batch])
        total += float(nll)
        count += n
    model.train(was)
    return total / max(count, 1) / math.log(2)


def lr_at(cfg: TrainConfig, step: int) -> float:
    """Linear warm-up then cosine decay to 10 % of ``cfg.lr``."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))


def _fmt(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def _save_checkpoint(path: Path, model: SymbolicTransformer, opt: torch.optim.Optimizer, step: int,
                     cfg: TrainConfig, log: list[dict[str, Any]], seconds: float) -> None:
    with atomic_path(path) as tmp:
        torch.save({"model": model.state_dict(), "optim": opt.state_dict(), "step": step,
                    "config": cfg.to_dict(), "log": log, "seconds": seconds}, tmp)


def train(ds: Dataset, cfg: TrainConfig, *, out: str | os.PathLike[str],
          progress: Callable[[str], None] | None = None, max_seconds: float | None = None,
          until_step: int | None = None) -> dict[str, Any]:
    """Train (or resume) into ``out``; returns the run summary.

    ``out`` holds ``checkpoint.pt`` (resumed from when present and its config matches) and
    ``log.jsonl``. ``max_seconds`` stops early at a checkpoint boundary (the run resumes later);
    ``until_step`` stops after that step (a deterministic early stop: the schedule is still the
    config's).

    Returns
    -------
    dict
        ``step``, ``seconds``, ``held_out_bits`` (last evaluation), ``log`` (losses by step).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda s: None)
    torch.manual_seed(cfg.seed)
    mcfg = cfg.model_config()
    model = SymbolicTransformer(mcfg)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
    ckpt_path = out / "checkpoint.pt"
    step, log, spent = 0, [], 0.0
    if ckpt_path.exists():
        state = torch.load(ckpt_path, weights_only=True)
        if state["config"] != cfg.to_dict():
            raise EngineError(f"{ckpt_path} was trained with another config; use a new --out")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optim"])
        step, log, spent = int(state["step"]), list(state["log"]), float(state["seconds"])
        say(f"resumed at step {step}/{cfg.steps}")
    sampler = Sampler(ds, context=mcfg.context, transpose=cfg.transpose)
    windows = held_out_windows(ds, context=mcfg.context, limit=cfg.eval_windows)
    say(f"model {model.n_params() / 1e6:.2f} M params; {len(ds.split(False))} training works, "
        f"{len(windows)} held-out windows")
    model.train()
    t0 = time.perf_counter()
    start_step, run_loss, run_n = step, 0.0, 0
    last_eval = next((e["held_out_bits"] for e in reversed(log) if "held_out_bits" in e), None)
    while step < cfg.steps and (until_step is None or step < until_step):
        for g in opt.param_groups:
            g["lr"] = lr_at(cfg, step)
        torch.manual_seed(cfg.seed * 1_000_003 + step)
        ids = sampler.batch(cfg.seed, step, cfg.batch)
        nll, n = loss_terms(model, ids, bf16=cfg.bf16)
        loss = nll / max(n, 1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        run_loss += float(loss.detach())
        run_n += 1
        entry: dict[str, Any] = {"step": step, "loss_bits": float(loss.detach()) / math.log(2),
                                 "lr": lr_at(cfg, step - 1)}
        if step % cfg.eval_every == 0 or step == cfg.steps:
            last_eval = evaluate(model, windows)
            entry["held_out_bits"] = last_eval
        log.append(entry)
        elapsed = time.perf_counter() - t0
        rate = (step - start_step) / elapsed if elapsed > 0 else 0.0
        if step % max(1, min(cfg.checkpoint_every, 10)) == 0 or step == cfg.steps or "held_out_bits" in entry:
            eta = (cfg.steps - step) / rate if rate else 0.0
            held = f" held-out {last_eval:.3f} bits" if last_eval is not None else ""
            say(f"step {step}/{cfg.steps} loss {run_loss / run_n / math.log(2):.3f} bits{held} "
                f"lr {entry['lr']:.2e} {rate:.2f} step/s elapsed {_fmt(spent + elapsed)} ETA {_fmt(eta)}")
            run_loss, run_n = 0.0, 0
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            _save_checkpoint(ckpt_path, model, opt, step, cfg, log, spent + elapsed)
            if max_seconds is not None and elapsed >= max_seconds and step < cfg.steps:
                say(f"stopping at step {step} (time limit); run again to resume")
                break
        if until_step is not None and step >= until_step and step < cfg.steps:
            if step % cfg.checkpoint_every:
                _save_checkpoint(ckpt_path, model, opt, step, cfg, log, spent + elapsed)
            say(f"stopping at step {step} (--until-step); run again to resume")
            break
    seconds = spent + time.perf_counter() - t0
    with atomic_path(out / "log.jsonl") as tmp:
        tmp.write_text("".join(json.dumps(e) + "\n" for e in log))
    return {"step": step, "seconds": seconds, "held_out_bits": last_eval, "log": log,
            "model": model, "done": step >= cfg.steps}


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export(model: SymbolicTransformer, *, path: str | os.PathLike[str], train_config: TrainConfig,
           manifest: dict[str, Any], scores: dict[str, Any], log: list[dict[str, Any]] | None = None) -> Path:
    """Write ``path`` (safetensors, float32) and ``path.with_suffix('.json')`` (config, data
    manifest, held-out scores, loss log and the weights' sha256)."""
    from safetensors.torch import save_file

    path = Path(path)
    tensors = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
    meta = {"format": "songmint-symbolic", "vocab_size": str(tk.vocab_size())}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    card = {"model": model.cfg.to_dict(), "train": train_config.to_dict(), "data": manifest,
            "scores": scores, "vocab": {"size": tk.vocab_size(), "grid_per_quarter": tk.GRID},
            "sha256": sha256_file(path), "params": model.n_params(), "log": log or []}
    with atomic_path(path.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(card, indent=1) + "\n")
    return path


def held_out_scores(model: SymbolicTransformer, ds: Dataset) -> dict[str, Any]:
    """Held-out bits per body token, over all held-out works and per style."""
    ctx = model.cfg.context
    scores: dict[str, Any] = {"held_out_bits": evaluate(model, held_out_windows(ds, context=ctx))}
    styles = ds.styles()
    for style in tk.STYLES:
        keep = [i for i in ds.split(True) if styles[i] == style]
        if keep:
            sub = Dataset(ds.tokens, ds.offsets, ds.work_ids,
                          np.array([i in set(keep) for i in range(len(ds.work_ids))]), ds.manifest)
            scores[f"held_out_bits_{style}"] = evaluate(model, held_out_windows(sub, context=ctx))
    return scores
