"""An interpolated Kneser-Ney n-gram model over the same tokens: the baseline the transformer must beat.

Chen & Goodman (1998), *An empirical study of smoothing techniques for language modeling*:
interpolated Kneser-Ney with one absolute discount per order, continuation counts for the
lower orders, and a uniform floor over the vocabulary so that no token has zero probability.
Scored on exactly the transformer's held-out windows (header included as context, body
tokens scored), so the two bits-per-token figures compare like with like.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from music.engines.symbolic import tokens as tk


class KneserNey:
    """Interpolated Kneser-Ney language model of order ``order``.

    Parameters
    ----------
    order : int
        Context length + 1 (5 = four tokens of context).
    vocab_size : int
        Size of the uniform floor.
    """

    def __init__(self, order: int = 5, *, vocab_size: int | None = None) -> None:
        self.order = order
        self.vocab_size = vocab_size or tk.vocab_size()
        # counts[k][context][token] for context length k (highest order uses raw counts,
        # lower orders continuation counts)
        self.counts: list[dict[tuple[int, ...], Counter[int]]] = [defaultdict(Counter) for _ in range(order)]
        self.discount = [0.75] * order

    def fit(self, sequences: Iterable[Sequence[int]]) -> KneserNey:
        """Count n-grams in ``sequences`` (each a full work: header + body)."""
        top = self.order - 1
        raw: dict[tuple[int, ...], Counter[int]] = defaultdict(Counter)
        for seq in sequences:
            s = [int(t) for t in seq]
            for i in range(1, len(s)):
                ctx = tuple(s[max(0, i - top):i])
                raw[ctx][s[i]] += 1
        # highest order: raw counts for contexts of full length (and shorter ones at sequence starts)
        for ctx, c in raw.items():
            self.counts[len(ctx)][ctx].update(c)
        # lower orders: continuation counts N1+(• ctx w) from the next order up
        for k in range(top - 1, -1, -1):
            for ctx, c in list(self.counts[k + 1].items()):
                lower = ctx[1:]
                for w in c:
                    self.counts[k][lower][w] += 1
        for k in range(self.order):
            n1 = n2 = 0
            for c in self.counts[k].values():
                for v in c.values():
                    n1 += v == 1
                    n2 += v == 2
            self.discount[k] = n1 / (n1 + 2 * n2) if n1 + n2 else 0.75
        self._totals = [{ctx: (sum(c.values()), len(c)) for ctx, c in level.items()} for level in self.counts]
        return self

    def prob(self, context: Sequence[int], token: int) -> float:
        """P(token | context), context truncated to ``order - 1`` tokens."""
        ctx = tuple(int(t) for t in context[-(self.order - 1):]) if self.order > 1 else ()
        p = 1.0 / self.vocab_size
        for k in range(0, len(ctx) + 1):
            sub = ctx[len(ctx) - k:]
            c = self.counts[k].get(sub)
            if c is None:
                continue
            total, types = self._totals[k][sub]
            d = self.discount[k]
            p = max(c.get(token, 0) - d, 0.0) / total + d * types / total * p
        return p

    def bits(self, windows: np.ndarray) -> float:
        """Bits per body token over ``windows`` (n, context), like the transformer's evaluation."""
        total, count = 0.0, 0
        for w in windows:
            w = [int(t) for t in w]
            for i in range(tk.HEADER_LEN, len(w)):
                if w[i] == tk.PAD:
                    break
                total -= math.log2(self.prob(w[:i], w[i]))
                count += 1
        return total / max(count, 1)
