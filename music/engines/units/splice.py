"""Joining beat segments: phase-aligned, correlation-adaptive crossfades, planned once and rendered
identically on the mix and on every stem (so stems still sum to the mix).

Each join between two segments that were not neighbours in the source happens in the ``fade`` samples
*before* the new segment's cut, which sits just before its attack: the old segment's tail fades out
while the audio that preceded the new segment in the source fades in, and the new attack then arrives
untouched. The new segment is read up to ``max_lag`` samples early or late, at the lag that maximises the
normalised cross-correlation of the two overlapping signals, so waveforms add in phase. The fade gains
keep the expected power constant for the measured correlation ``ρ``: with a raised-cosine ramp
``x``, ``g_in = x / √(x² + (1-x)² + 2ρx(1-x))`` and ``g_out = (1-x) / …`` — linear (equal-gain) for
identical signals (ρ = 1), equal-power for unrelated ones (ρ = 0). Neighbouring segments are copied as
they were, with no fade at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Piece:
    """Copy ``length`` source samples from ``src`` to output position ``out``."""

    out: int
    src: int
    length: int


@dataclass(frozen=True)
class Fade:
    """Crossfade over ``[out, out + length)``: source ``src_out…`` fades out, ``src_in…`` fades in."""

    out: int
    length: int
    src_out: int
    src_in: int
    rho: float


@dataclass(frozen=True)
class SplicePlan:
    """Everything needed to render a continuation, independent of the signal rendered.

    Attributes
    ----------
    pieces, fades : tuple
        Copies, then crossfades over them (output positions in samples).
    n : int
        Output length in samples.
    prompt_end : int
        Output sample where the continuation starts (the prompt's last cut).
    end_fade : int
        Samples of raised-cosine fade-out at the very end.
    """

    pieces: tuple[Piece, ...]
    fades: tuple[Fade, ...]
    n: int
    prompt_end: int
    end_fade: int

    @property
    def joins(self) -> list[int]:
        """Output positions (samples) where a non-neighbouring segment starts."""
        return [f.out + f.length for f in self.fades]


def _read(x: np.ndarray, start: int, length: int) -> np.ndarray:
    """``x[..., start:start + length]`` with zeros outside the signal."""
    n = x.shape[-1]
    out = np.zeros((*x.shape[:-1], length), dtype=x.dtype)
    a, b = max(start, 0), min(start + length, n)
    if b > a:
        out[..., a - start:b - start] = x[..., a:b]
    return out


def best_lag(x: np.ndarray, tail_start: int, head_cut: int, *, fade: int, max_lag: int) -> tuple[int, float]:
    """Lag ``δ`` in ``[-max_lag, max_lag]`` that best aligns ``x[head_cut+δ-fade : head_cut+δ]`` with
    ``x[tail_start : tail_start+fade]``, and the normalised correlation there (clipped to [0, 1]).

    Parameters
    ----------
    x : np.ndarray, shape=(n,)
        Mono source signal.
    """
    a = _read(x, tail_start, fade).astype(np.float64)
    region = _read(x, head_cut - max_lag - fade, 2 * max_lag + fade).astype(np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(region, fade)[: 2 * max_lag + 1]
    na = float(np.sqrt(np.dot(a, a)))
    nw = np.sqrt(np.einsum("ij,ij->i", windows, windows))
    if na < 1e-9:
        return 0, 0.0
    rho = windows @ a / np.maximum(na * nw, 1e-12)
    lags = np.arange(-max_lag, max_lag + 1)
    # prefer small lags among near-equal scores (keeps timing tight)
    i = int(np.argmax(rho - 1e-3 * np.abs(lags) / max(max_lag, 1)))
    return int(lags[i]), float(np.clip(rho[i], 0.0, 1.0))


def plan(x: np.ndarray, bounds: np.ndarray, path: Sequence[int], *, prompt_end_segment: int,
         fade: int, max_lag: int, end_fade: int) -> SplicePlan:
    """Plan the output: the source up to the end of ``prompt_end_segment``, then ``path``'s segments.

    Parameters
    ----------
    x : np.ndarray, shape=(n,)
        Mono source used for lag search.
    bounds : np.ndarray, shape=(m + 1,)
        Segment cut points in samples.
    path : sequence of int
        Segment indices to play after the prompt.
    prompt_end_segment : int
        Last segment of the prompt; the output starts with ``x[:bounds[prompt_end_segment + 1]]``.
    fade, max_lag, end_fade : int
        Crossfade length, lag-search radius and final fade-out, in samples.
    """
    prompt_end = int(bounds[prompt_end_segment + 1])
    pieces = [Piece(0, 0, prompt_end)]
    fades: list[Fade] = []
    pos, src_end, prev = prompt_end, prompt_end, prompt_end_segment
    for s in path:
        s = int(s)
        length = int(bounds[s + 1] - bounds[s])
        if s == prev + 1:
            src = src_end  # the source's own continuation: copy on, keeping any earlier lag
        else:
            lag, rho = best_lag(x, src_end - fade, int(bounds[s]), fade=fade, max_lag=max_lag)
            src = int(bounds[s]) + lag
            fades.append(Fade(pos - fade, fade, src_end - fade, src - fade, rho))
        pieces.append(Piece(pos, src, length))
        pos += length
        src_end, prev = src + length, s
    return SplicePlan(tuple(pieces), tuple(fades), pos, prompt_end, end_fade)


def fade_gains(length: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """``(g_out, g_in)`` of a crossfade that keeps power constant for correlation ``rho``."""
    x = 0.5 - 0.5 * np.cos(np.pi * (np.arange(length) + 0.5) / length)
    r = float(np.clip(rho, 0.0, 1.0))
    norm = np.sqrt(x * x + (1 - x) ** 2 + 2 * r * x * (1 - x))
    return (1 - x) / norm, x / norm


def render(splice: SplicePlan, x: np.ndarray) -> np.ndarray:
    """Render ``splice`` from the source ``x`` (shape ``(channels, n)``) to ``(channels, splice.n)``.

    The operation is linear in ``x``: rendering stems and summing equals rendering their sum.
    """
    out = np.zeros((x.shape[0], splice.n), dtype=np.float32)
    for p in splice.pieces:
        out[:, p.out:p.out + p.length] = _read(x, p.src, p.length)
    for f in splice.fades:
        g_out, g_in = fade_gains(f.length, f.rho)
        blend = g_out * _read(x, f.src_out, f.length) + g_in * _read(x, f.src_in, f.length)
        out[:, f.out:f.out + f.length] = blend.astype(np.float32)
    if splice.end_fade > 0:
        e = min(splice.end_fade, splice.n - splice.prompt_end)
        ramp = 0.5 + 0.5 * np.cos(np.pi * (np.arange(e) + 0.5) / e)
        out[:, splice.n - e:] *= ramp.astype(np.float32)
    return out
