"""Measures of generated music against real works: histograms, key, rhythm, voice leading, copying.

Used by ``benchmarks/symbolic.py``. Every measure works on grid events
(:class:`music.engines.symbolic.tokens.Event`) or on token sequences.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from music.engines.symbolic import tokens as tk
from music.engines.symbolic.theory import scale_pcs


def pc_histogram(events: Sequence[tk.Event], tonic: int) -> np.ndarray:
    """Duration-weighted pitch-class histogram relative to ``tonic``, shape (12,), sum 1."""
    h = np.zeros(12)
    for e in events:
        h[(e.pitch - tonic) % 12] += e.dur
    return h / h.sum() if h.sum() else h


def interval_histogram(events: Sequence[tk.Event], voice: int = 0) -> np.ndarray:
    """Melodic intervals of one voice, clipped to ±12 semitones, shape (25,), sum 1."""
    notes = sorted((e.bar, e.pos, -e.pitch, e.pitch) for e in events if e.voice == voice)
    pitches = [n[3] for n in notes]
    h = np.zeros(25)
    for a, b in itertools.pairwise(pitches):
        h[int(np.clip(b - a, -12, 12)) + 12] += 1
    return h / h.sum() if h.sum() else h


def onset_histogram(events: Sequence[tk.Event], bar_len: int) -> np.ndarray:
    """Where in the bar notes start (the rhythm pattern), shape (bar_len,), sum 1."""
    h = np.zeros(bar_len)
    for e in events:
        if e.pos < bar_len:
            h[e.pos] += 1
    return h / h.sum() if h.sum() else h


def notes_per_bar(events: Sequence[tk.Event]) -> float:
    """Note density: notes per bar (all voices)."""
    if not events:
        return 0.0
    return len(events) / (max(e.bar for e in events) + 1)


def in_key(events: Sequence[tk.Event], tonic: int, mode: str) -> float:
    """Share of notes whose pitch class is in the key (minor with raised 6 and 7)."""
    pcs = scale_pcs(tonic, mode)
    return float(np.mean([e.pitch % 12 in pcs for e in events])) if events else 0.0


def l1(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance (half the L1 norm) of two histograms, 0..1."""
    return 0.5 * float(np.abs(a - b).sum())


def set_distance(gen: Sequence[np.ndarray], real: Sequence[np.ndarray]) -> tuple[float, float]:
    """Mean distance generated-to-real and the real-to-real floor (distinct pairs)."""
    gr = float(np.mean([l1(g, r) for g in gen for r in real]))
    rr = float(np.mean([l1(a, b) for i, a in enumerate(real) for j, b in enumerate(real) if i < j]))
    return gr, rr


def parallels(events: Sequence[tk.Event], bar_len: int) -> tuple[int, int]:
    """Consecutive perfect fifths and octaves/unisons between any two voices.

    At each onset (any voice attacks) the sounding pitch of every voice is taken; between
    consecutive onsets where both voices of a pair move in the same direction and sound the
    same perfect interval class (7 or 0 semitones mod 12) before and after, one parallel
    is counted.

    Returns
    -------
    (count, notes)
        Parallels found and the number of notes (for a rate per 100 notes).
    """
    voices = sorted({e.voice for e in events})
    starts = sorted({e.bar * bar_len + e.pos for e in events})
    sounding: dict[int, list[tuple[int, int, int]]] = {v: [] for v in voices}
    for e in events:
        t = e.bar * bar_len + e.pos
        sounding[e.voice].append((t, t + e.dur, e.pitch))
    for v in voices:
        sounding[v].sort()

    def at(v: int, t: int) -> int | None:
        best = None
        for s, end, p in sounding[v]:
            if s > t:
                break
            if end > t and (best is None or p > best):
                best = p
        return best

    grid = [[at(v, t) for v in voices] for t in starts]
    count = 0
    for prev, cur in itertools.pairwise(grid):
        for i in range(len(voices)):
            for j in range(i + 1, len(voices)):
                a0, b0, a1, b1 = prev[i], prev[j], cur[i], cur[j]
                if None in (a0, b0, a1, b1) or a0 == a1 or b0 == b1:
                    continue
                if np.sign(a1 - a0) != np.sign(b1 - b0):
                    continue
                i0, i1 = (a0 - b0) % 12, (a1 - b1) % 12
                if i0 == i1 and i0 in (0, 7):
                    count += 1
    return count, len(events)


def _kgram_hashes(seq: np.ndarray, k: int) -> np.ndarray:
    """Polynomial rolling hashes of every length-``k`` window of ``seq`` (uint64, wrapping)."""
    if len(seq) < k:
        return np.zeros(0, np.uint64)
    x = seq.astype(np.uint64) + np.uint64(1)
    base = np.uint64(1_000_003)
    h = np.zeros(len(seq) - k + 1, np.uint64)
    with np.errstate(over="ignore"):
        for i in range(k):
            h = h * base + x[i:len(seq) - k + 1 + i]
    return h


def longest_copy(generated: Sequence[np.ndarray], training: Sequence[np.ndarray], *,
                 max_k: int = 512) -> list[tuple[int, int]]:
    """Per generated body, the longest token run that occurs verbatim in a training body,
    under any transposition (-6..+5 semitones), as ``(tokens, bar lines inside the run)``.

    Binary search on the run length with hashed k-grams of all training bodies.
    """
    train = [np.asarray(t, np.int64) for t in training]
    gens = []
    for g in generated:
        g = np.asarray(g, np.int64)
        shifted = [s for s in (tk.transpose(np.concatenate([np.zeros(6, np.int64), g]), k)
                               for k in range(-6, 6)) if s is not None]
        gens.append([s[6:] for s in shifted])
    cache: dict[int, np.ndarray] = {}

    def table(k: int) -> np.ndarray:
        if k not in cache:
            cache[k] = np.unique(np.concatenate([_kgram_hashes(t, k) for t in train]))
        return cache[k]

    def found(variants: list[np.ndarray], k: int) -> int | None:
        tab = table(k)
        for v in variants:
            hs = _kgram_hashes(v, k)
            if not hs.size or not tab.size:
                continue
            idx = np.minimum(np.searchsorted(tab, hs), tab.size - 1)
            hit = np.flatnonzero(tab[idx] == hs)
            if hit.size:
                return int(hit[0])
        return None

    out = []
    for variants in gens:
        lo, hi, where = 0, min(max_k, max(len(v) for v in variants)), None
        while lo < hi:
            mid = (lo + hi + 1) // 2
            at = found(variants, mid)
            if at is not None:
                lo, where = mid, at
            else:
                hi = mid - 1
        bars = 0 if where is None or lo == 0 else int(np.sum(variants[0][where:where + lo] == tk.BAR))
        out.append((lo, bars))
    return out
