"""Quantising segment descriptors into discrete units with k-means (Lloyd's algorithm, k-means++ seeding)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .segment import FEATURE_BLOCKS

MAX_UNITS = 128


def choose_k(n_segments: int) -> int:
    """Number of units for ``n_segments`` segments: ``round(√(2m))`` within [2, ``MAX_UNITS``].

    Eight seconds at 120 BPM (16 beats) gives 6 units, a 3-minute track (~360 beats) 27, a corpus of
    ten tracks 85: enough to separate the beats of a bar, few enough that every unit recurs.
    """
    return int(np.clip(round(np.sqrt(2.0 * n_segments)), 2, MAX_UNITS))


@dataclass(frozen=True)
class Quantizer:
    """Standardisation + centroids; ``labels(features)`` maps descriptors to unit ids."""

    mean: np.ndarray
    scale: np.ndarray
    centroids: np.ndarray

    @property
    def k(self) -> int:
        return int(self.centroids.shape[0])

    def embed(self, features: np.ndarray) -> np.ndarray:
        """Standardised, block-weighted descriptors ``(m, d)``: timbre and harmony weigh the same."""
        return ((features - self.mean) / self.scale).astype(np.float64)

    def labels(self, features: np.ndarray) -> np.ndarray:
        z = self.embed(features)
        d = ((z[:, None, :] - self.centroids[None]) ** 2).sum(-1)
        return np.argmin(d, axis=1).astype(np.int64)


def fit_quantizer(features: np.ndarray, *, k: int | None = None, seed: int = 0, restarts: int = 4,
                  iterations: int = 50) -> Quantizer:
    """k-means over z-scored descriptors, each feature block scaled to unit total variance.

    Parameters
    ----------
    features : np.ndarray, shape=(m, d)
    k : int, optional
        Units wanted; :func:`choose_k` by default. Clusters left empty are dropped.
    seed : int
        Seed of the k-means++ initialisations (the best of ``restarts`` by inertia is kept).
    """
    from scipy.cluster.vq import kmeans2

    x = np.asarray(features, dtype=np.float64)
    m = x.shape[0]
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std < 1e-6, 1.0, std)
    scale = std.copy()
    for a, b in FEATURE_BLOCKS:
        scale[a:b] *= np.sqrt(b - a)
    z = (x - mean) / scale
    distinct = np.unique(np.round(z, 6), axis=0).shape[0]
    k = min(k or choose_k(m), distinct)
    if k <= 1:
        return Quantizer(mean, scale, z.mean(axis=0, keepdims=True))
    rng = np.random.default_rng(seed)
    best: tuple[float, np.ndarray] | None = None
    for _ in range(restarts):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "one of the clusters is empty": handled below
            cent, lab = kmeans2(z, k, iter=iterations, minit="++", rng=rng)
        inertia = float(((z - cent[lab]) ** 2).sum())
        if best is None or inertia < best[0] - 1e-9:
            best = (inertia, cent[np.unique(lab)])
    assert best is not None
    return Quantizer(mean, scale, best[1])
