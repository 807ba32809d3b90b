"""Collection rarity: how unusual each token's traits are within its release.

Each token's traits are turned into categorical attribute values (numeric traits are
binned, see :data:`ATTRIBUTES`); the frequency of a value is the share of the release's
tokens that have it. A token's rarity score is its information content, the sum over
attributes of ``−log2(frequency)`` in bits, as in OpenRarity [1]_ before its
normalisation: a value that only one token in ``N`` has adds ``log2 N`` bits, a value
every token has adds 0. Rank 1 is the rarest token (ties share the rank of the first).

References
----------
.. [1] OpenRarity, "Methodology", 2022 (information content scoring of NFT traits).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from music.traits.model import Traits, TraitsError
from music.traits.table import TRAITS

_LEVELS = ("very low", "low", "medium", "high", "very high")
_BRIGHT = ("dark", "warm", "balanced", "bright", "brilliant")


def _level(names: tuple[str, ...]) -> Callable[[float], str]:
    def f(x: float) -> str:
        return names[min(len(names) - 1, max(0, int(float(x) * len(names))))]

    return f


def tempo_bin(bpm: float | None) -> str:
    """10 BPM bins, ``"120–129 BPM"``; ``"no pulse"`` for None (or 0, the old convention)."""
    if bpm is None or bpm <= 0:
        return "no pulse"
    width = int(TRAITS["tempo_bpm"].rarity_bin or 10)
    lo = int(bpm // width * width)
    return f"{lo}–{lo + width - 1} BPM"


def loudness_bin(lufs: float) -> str:
    """3 LU bins (``TRAITS["loudness_lufs"].rarity_bin``), ``"−12 to −9 LUFS"``."""
    width = int(TRAITS["loudness_lufs"].rarity_bin or 3)
    lo = math.floor(lufs / width) * width
    return f"{lo} to {lo + width} LUFS"


def duration_bin(seconds: float) -> str:
    """30 s bins, ``"2:00–2:29"``."""
    lo = int(seconds // 30 * 30)
    hi = lo + 29
    return f"{lo // 60}:{lo % 60:02d}–{hi // 60}:{hi % 60:02d}"


ATTRIBUTES: dict[str, tuple[str, Callable[[Any], str]]] = {
    "Key": ("key", str),
    "Tempo": ("tempo_bpm", tempo_bin),
    "Time signature": ("time_signature", str),
    "Mood": ("mood", str),
    "Energy": ("energy", _level(_LEVELS)),
    "Danceability": ("danceability", _level(_LEVELS)),
    "Brightness": ("brightness", _level(_BRIGHT)),
    "Percussiveness": ("percussiveness", _level(_LEVELS)),
    "Loudness": ("loudness_lufs", loudness_bin),
    "Duration": ("duration_s", duration_bin),
}
"""Attribute name → (trait key, binning). Quintiles for 0–1 traits; 10 BPM, 3 LU, 30 s bins."""


@dataclass(frozen=True)
class TokenRarity:
    """Rarity of one token.

    Attributes
    ----------
    index : int
        Position of the token in the input.
    values : dict[str, str]
        Attribute name → binned value.
    counts : dict[str, int]
        Attribute name → number of tokens in the release with the same value.
    frequencies : dict[str, float]
        Attribute name → ``counts / N`` (0–1].
    score : float
        Information content, bits: ``Σ −log2(frequency)``.
    rank : int
        1 for the rarest token.
    """

    index: int
    values: dict[str, str]
    counts: dict[str, int]
    frequencies: dict[str, float]
    score: float
    rank: int

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "values": dict(self.values), "counts": dict(self.counts),
                "frequencies": dict(self.frequencies), "score": self.score, "rank": self.rank}


def attribute_values(traits: Traits | Mapping[str, Any]) -> dict[str, str]:
    """Binned attribute values of one token (see :data:`ATTRIBUTES`)."""
    data = traits.to_dict() if isinstance(traits, Traits) else traits
    out = {}
    for name, (key, binning) in ATTRIBUTES.items():
        if key not in data or (data[key] is None and key != "tempo_bpm"):
            raise TraitsError(f"traits lack {key!r}, needed for the {name!r} attribute")
        out[name] = binning(data[key])
    return out


def rarity(tokens: Sequence[Traits | Mapping[str, Any]]) -> list[TokenRarity]:
    """Per-token value frequencies and information-content rarity over a release.

    Parameters
    ----------
    tokens : sequence of Traits or their ``to_dict()`` dicts
        The traits of every token of the release, in token order.

    Returns
    -------
    list of TokenRarity
        One per token, in input order.
    """
    values = [attribute_values(t) for t in tokens]
    n = len(values)
    counters = {name: Counter(v[name] for v in values) for name in ATTRIBUTES}
    partial = []
    for i, v in enumerate(values):
        counts = {name: counters[name][v[name]] for name in ATTRIBUTES}
        freqs = {name: c / n for name, c in counts.items()}
        score = sum(-math.log2(f) for f in freqs.values()) + 0.0
        partial.append((i, v, counts, freqs, score))
    order = sorted(partial, key=lambda p: (-round(p[4], 9), p[0]))
    ranks: dict[int, int] = {}
    prev, prev_rank = None, 0
    for pos, p in enumerate(order, start=1):
        key = round(p[4], 9)
        rank = prev_rank if key == prev else pos
        ranks[p[0]] = rank
        prev, prev_rank = key, rank
    return [TokenRarity(index=i, values=v, counts=c, frequencies=f, score=s, rank=ranks[i])
            for i, v, c, f, s in partial]
