"""A variable-order Markov model over unit sequences, with Witten–Bell backoff.

The probability of the next unit ``w`` after a history ``h`` interpolates the longest matching context
with ever shorter ones [1]_::

    P_n(w | h) = (c(h, w) + T(h) · P_{n-1}(w | h')) / (c(h) + T(h))

where ``c(h)`` counts occurrences of ``h``, ``T(h)`` the distinct units seen after it and ``h'`` drops
the oldest unit; ``P_0`` is the add-one unigram. Long contexts copy what was heard; where a context is
rare, the model backs off to shorter ones and recombines material — the variable-order behaviour of
the continuator [2]_.

References
----------
.. [1] I. H. Witten and T. C. Bell, "The zero-frequency problem", IEEE Trans. Inf. Theory 37(4), 1991.
.. [2] F. Pachet, "The Continuator: musical interaction with style", J. New Music Research 32(3), 2003.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


class UnitLM:
    """Counts of unit n-grams up to ``order`` and their Witten–Bell-smoothed distributions.

    Parameters
    ----------
    k : int
        Vocabulary size (units are ``0 … k-1``).
    order : int
        Longest context length used (>= 1).
    """

    def __init__(self, *, k: int, order: int = 8) -> None:
        if k < 1 or order < 1:
            raise ValueError("k and order must be >= 1")
        self.k = int(k)
        self.order = int(order)
        self._unigram = np.zeros(self.k, dtype=np.float64)
        self._counts: dict[tuple[int, ...], np.ndarray] = {}

    def fit(self, sequences: Iterable[Sequence[int]]) -> UnitLM:
        """Add the n-gram counts of each sequence (units in ``0 … k-1``); returns ``self``."""
        for seq in sequences:
            s = [int(u) for u in seq]
            for i, w in enumerate(s):
                self._unigram[w] += 1
                for n in range(1, min(self.order, i) + 1):
                    h = tuple(s[i - n:i])
                    row = self._counts.get(h)
                    if row is None:
                        row = self._counts[h] = np.zeros(self.k, dtype=np.float64)
                    row[w] += 1
        return self

    def distribution(self, history: Sequence[int]) -> np.ndarray:
        """``P(next | history)``, shape ``(k,)``, summing to 1."""
        p = (self._unigram + 1.0) / (self._unigram.sum() + self.k)
        hist = tuple(int(u) for u in history)
        for n in range(1, min(self.order, len(hist)) + 1):
            row = self._counts.get(hist[len(hist) - n:])
            if row is None:
                break  # a longer context containing an unseen one is unseen too
            total = row.sum()
            types = float(np.count_nonzero(row))
            p = (row + types * p) / (total + types)
        return p

    def matched_order(self, history: Sequence[int]) -> int:
        """Length of the longest suffix of ``history`` seen in training (0 … order)."""
        hist = tuple(int(u) for u in history)
        n = 0
        while n < min(self.order, len(hist)) and hist[len(hist) - n - 1:] in self._counts:
            n += 1
        return n


def sample_next(p: np.ndarray, rng: np.random.Generator, *, temperature: float = 1.0,
                recent: Sequence[int] = (), repeat_penalty: float = 1.0,
                allowed: np.ndarray | None = None) -> int:
    """Draw one unit from ``p`` after temperature, a repeat penalty and a mask.

    Parameters
    ----------
    p : np.ndarray, shape=(k,)
        Model distribution.
    rng : np.random.Generator
    temperature : float
        ``p ** (1 / temperature)``; 0 means greedy (argmax).
    recent : sequence of int
        Recently emitted units; each occurrence divides that unit's probability by ``repeat_penalty``
        (the CTRL penalty, [3]_ applied in the probability domain).
    repeat_penalty : float
        >= 1; 1 disables it.
    allowed : np.ndarray of bool, shape=(k,), optional
        Units that may be emitted (units with audio to decode).

    References
    ----------
    .. [3] N. S. Keskar et al., "CTRL: a conditional transformer language model for controllable
       generation", arXiv:1909.05858, 2019.
    """
    q = np.asarray(p, dtype=np.float64).copy()
    if allowed is not None:
        q = np.where(allowed, q, 0.0)
    for u in recent:
        q[int(u)] /= repeat_penalty
    if q.sum() <= 0:
        q = np.ones_like(q) if allowed is None else allowed.astype(np.float64)
    if temperature <= 0:
        return int(np.argmax(q))
    logq = np.log(np.maximum(q, 1e-300)) / temperature
    logq[q <= 0] = -np.inf
    logq -= logq.max()
    w = np.exp(logq)
    w /= w.sum()
    return int(rng.choice(q.size, p=w))
