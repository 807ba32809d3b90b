"""A small decoder-only transformer over event tokens, with rotary positions.

Pre-norm blocks (RMSNorm, causal self-attention with rotary position embeddings, a GELU
MLP), tied input/output embeddings. Rotary embeddings (Su et al. 2021, *RoFormer*) make
attention depend on relative distance, which is what lets generation slide its window past
the training context. :meth:`SymbolicTransformer.step` runs one token against a key/value
cache, so sampling costs one small matrix product per layer per token.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import erf
from torch import nn


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the transformer.

    Attributes
    ----------
    vocab_size : int
        Number of tokens (:func:`music.engines.symbolic.tokens.vocab_size`).
    d_model, n_layers, n_heads, d_ff : int
        Width, depth, attention heads and MLP width.
    context : int
        Training window in tokens (header included).
    dropout : float
        Dropout on attention output and MLP during training.
    rope_base : float
        Rotary embedding base.
    """

    vocab_size: int
    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 4
    d_ff: int = 768
    context: int = 384
    dropout: float = 0.1
    rope_base: float = 10000.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        """Inverse of :meth:`to_dict` (unknown keys ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


class RMSNorm(nn.Module):
    """Root-mean-square layer norm (Zhang & Sennrich 2019)."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(n: int, head_dim: int, base: float, *, start: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin tables, shape (n, head_dim / 2), for positions ``start .. start + n - 1``."""
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    t = torch.arange(start, start + n, dtype=torch.float32)
    freqs = torch.outer(t, inv)
    return freqs.cos(), freqs.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs of channels of ``x`` (..., n, head_dim) by position."""
    x1, x2 = x[..., 0::2], x[..., 1::2]
    c, s = cos.to(x.dtype), sin.to(x.dtype)
    out = torch.stack((x1 * c - x2 * s, x1 * s + x2 * c), dim=-1)
    return out.flatten(-2)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_heads = cfg.n_heads
        self.head_dim = cfg.d_model // cfg.n_heads
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.out = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.dropout = cfg.dropout

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                cache: list[torch.Tensor] | None = None) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:
            if cache:
                k = torch.cat((cache[0], k), dim=2)
                v = torch.cat((cache[1], v), dim=2)
            cache[:] = [k, v]
        causal = n > 1
        if cache is not None and k.shape[2] != n and n > 1:
            raise ValueError("a cached forward takes one token at a time after the prefill")
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.out(y.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.norm1 = RMSNorm(cfg.d_model)
        self.attn = Attention(cfg)
        self.norm2 = RMSNorm(cfg.d_model)
        self.fc = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.proj = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor,
                cache: list[torch.Tensor] | None = None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), cos, sin, cache))
        return x + self.drop(self.proj(F.gelu(self.fc(self.norm2(x)))))


class SymbolicTransformer(nn.Module):
    """Decoder-only transformer: token ids (batch, n) -> next-token logits (batch, n, vocab)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        if cfg.d_model % cfg.n_heads or (cfg.d_model // cfg.n_heads) % 2:
            raise ValueError("d_model / n_heads must be an even integer")
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.d_model)
        self.apply(self._init)
        for block in self.blocks:  # GPT-2's scaled init of residual projections
            nn.init.normal_(block.attn.out.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))
            nn.init.normal_(block.proj.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear | nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    def n_params(self) -> int:
        """Number of parameters."""
        return sum(p.numel() for p in self.parameters())

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        n = ids.shape[1]
        cos, sin = rope_tables(n, self.cfg.d_model // self.cfg.n_heads, self.cfg.rope_base)
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, cos, sin)
        return self.norm(x) @ self.embed.weight.T

    @torch.no_grad()
    def prefill(self, ids: torch.Tensor) -> tuple[torch.Tensor, list[list[torch.Tensor]]]:
        """Logits of the last position and a fresh key/value cache for ``ids`` (1, n)."""
        caches: list[list[torch.Tensor]] = [[] for _ in self.blocks]
        n = ids.shape[1]
        cos, sin = rope_tables(n, self.cfg.d_model // self.cfg.n_heads, self.cfg.rope_base)
        x = self.embed(ids)
        for block, cache in zip(self.blocks, caches, strict=True):
            x = block(x, cos, sin, cache)
        return (self.norm(x[:, -1:]) @ self.embed.weight.T)[0, -1], caches

    @torch.no_grad()
    def step(self, token: int, pos: int, caches: list[list[torch.Tensor]]) -> torch.Tensor:
        """Logits after appending ``token`` at position ``pos`` (updates ``caches``)."""
        cos, sin = rope_tables(1, self.cfg.d_model // self.cfg.n_heads, self.cfg.rope_base, start=pos)
        x = self.embed(torch.tensor([[token]]))
        for block, cache in zip(self.blocks, caches, strict=True):
            x = block(x, cos, sin, cache)
        return (self.norm(x) @ self.embed.weight.T)[0, -1]


class Decoder:
    """Fast one-token-at-a-time inference for a trained :class:`SymbolicTransformer`, in NumPy.

    The same arithmetic as the model's forward pass on float32 copies of its weights
    (matrices stored transposed for ``x @ W``), with preallocated key/value caches of the
    context length and precomputed rotary tables. A step is about sixty small NumPy calls,
    each a microsecond or so of overhead where a torch call costs several: about half the
    per-token CPU of the torch version (``benchmarks/symbolic.py``). :meth:`prefill` starts
    (or restarts) a window; :meth:`step` appends. Logits match the forward pass to ~1e-5.

    Parameters
    ----------
    model : SymbolicTransformer
        Read once; the decoder keeps its own copies of the weights.
    """

    def __init__(self, model: SymbolicTransformer) -> None:
        cfg = model.cfg
        self.cfg = cfg
        self.h = cfg.n_heads
        self.hd = cfg.d_model // cfg.n_heads
        self.d = cfg.d_model
        self.scale = np.float32(1.0 / math.sqrt(self.hd))

        def arr(t: torch.Tensor, *, transpose: bool = False) -> np.ndarray:
            a = t.detach().to(torch.float32).numpy()
            return np.ascontiguousarray(a.T if transpose else a)

        self.embed = arr(model.embed.weight)
        self.embed_t = arr(model.embed.weight, transpose=True)
        self.layers = [(arr(b.norm1.weight), float(b.norm1.eps), arr(b.attn.qkv.weight, transpose=True),
                        arr(b.attn.out.weight, transpose=True), arr(b.norm2.weight), float(b.norm2.eps),
                        arr(b.fc.weight, transpose=True), arr(b.proj.weight, transpose=True))
                       for b in model.blocks]
        self.norm_w, self.norm_eps = arr(model.norm.weight), float(model.norm.eps)
        cos, sin = (t.numpy() for t in rope_tables(cfg.context, self.hd, cfg.rope_base))
        # (x1, x2) pairs -> (x1 c - x2 s, x1 s + x2 c) = x * cos_full + x[swap] * sin_full
        self.cos_full = np.repeat(cos, 2, axis=-1)
        sign = np.tile(np.array([-1.0, 1.0], dtype=np.float32), self.hd // 2)
        self.sin_full = (np.repeat(sin, 2, axis=-1) * sign).astype(np.float32)
        self.swap = np.arange(self.hd).reshape(-1, 2)[:, ::-1].reshape(-1).copy()
        self.k = np.zeros((cfg.n_layers, self.h, cfg.context, self.hd), dtype=np.float32)
        self.v = np.zeros((cfg.n_layers, self.h, cfg.context, self.hd), dtype=np.float32)
        self.n = 0

    @staticmethod
    def _rms(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
        """RMSNorm of the rows of ``x`` (n, d) or of the vector ``x`` (d,)."""
        if x.ndim == 1:
            return x * np.float32(1.0 / math.sqrt(float(x @ x) / x.shape[0] + eps)) * w
        return x * (1.0 / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + np.float32(eps))) * w

    @staticmethod
    def _gelu(x: np.ndarray) -> np.ndarray:
        """GELU with the exact erf, as :func:`torch.nn.functional.gelu`."""
        return np.float32(0.5) * x * (np.float32(1.0) + erf(x * np.float32(1 / math.sqrt(2))))

    def prefill(self, ids: list[int]) -> np.ndarray:
        """Logits (vocab,), float32, after ``ids`` (at most ``context`` tokens), starting a fresh window."""
        n = len(ids)
        if not 0 < n <= self.cfg.context:
            raise ValueError(f"prefill takes 1..{self.cfg.context} tokens, not {n}")
        x = self.embed[np.asarray(ids)]
        cos, sin = self.cos_full[:n], self.sin_full[:n]
        causal = np.triu(np.full((n, n), -np.inf, dtype=np.float32), 1)
        for i, (w1, e1, wqkv, wo, w2, e2, wfc, wproj) in enumerate(self.layers):
            qkv = (self._rms(x, w1, e1) @ wqkv).reshape(n, 3, self.h, self.hd).transpose(1, 2, 0, 3)
            qk = qkv[:2] * cos + qkv[:2, ..., self.swap] * sin
            self.k[i, :, :n], self.v[i, :, :n] = qk[1], qkv[2]
            s = (qk[0] @ qk[1].transpose(0, 2, 1)) * self.scale + causal
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            x = x + (s @ qkv[2]).transpose(1, 0, 2).reshape(n, -1) @ wo
            x = x + self._gelu(self._rms(x, w2, e2) @ wfc) @ wproj
        self.n = n
        return self._rms(x[-1], self.norm_w, self.norm_eps) @ self.embed_t

    def step(self, token: int) -> np.ndarray:
        """Logits (vocab,), float32, after appending ``token`` to the window."""
        p = self.n
        if p >= self.cfg.context:
            raise ValueError("the window is full: prefill a shorter one")
        x = self.embed[token]
        cos, sin = self.cos_full[p], self.sin_full[p]
        for i, (w1, e1, wqkv, wo, w2, e2, wfc, wproj) in enumerate(self.layers):
            qkv = (self._rms(x, w1, e1) @ wqkv).reshape(3, self.h, self.hd)
            qk = qkv[:2] * cos + qkv[:2, :, self.swap] * sin
            k, v = self.k[i, :, :p + 1], self.v[i, :, :p + 1]
            k[:, p], v[:, p] = qk[1], qkv[2]
            s = np.matmul(k, qk[0][:, :, None])[:, :, 0] * self.scale  # (heads, p + 1)
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            x = x + np.matmul(s[:, None, :], v).reshape(-1) @ wo
            x = x + self._gelu(self._rms(x, w2, e2) @ wfc) @ wproj
        self.n = p + 1
        return self._rms(x, self.norm_w, self.norm_eps) @ self.embed_t
