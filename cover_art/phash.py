"""Perceptual hash (DCT pHash) to measure how alike two covers look.

The classic pHash (Zauner, 2010, "Implementation and benchmarking of perceptual image
hash functions"): greyscale, resize to 32 × 32, 2-D DCT-II, keep the 8 × 8 lowest
frequencies without the DC term, threshold at their median. Hamming distance between
hashes is 0 for the same picture at any size and about 32 of 63 for unrelated pictures.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from scipy.fft import dctn


def phash(image: Image.Image | bytes) -> int:
    """The 63-bit pHash of a picture (PIL image or encoded bytes)."""
    if isinstance(image, bytes | bytearray):
        image = Image.open(io.BytesIO(image))
    grey = np.asarray(image.convert("L").resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float64)
    low = dctn(grey, type=2, norm="ortho")[:8, :8].ravel()[1:]
    bits = low > np.median(low)
    return int("".join("1" if b else "0" for b in bits), 2)


def distance(a: int, b: int) -> int:
    """Hamming distance between two hashes (0 … 63)."""
    return int(bin(a ^ b).count("1"))
