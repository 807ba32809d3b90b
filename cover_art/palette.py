"""Key and mode → colour: the documented palette mapping.

The mapping (see ``docs/cover-art.md``):

* **Hue from the circle of fifths.** The tonic's position on the circle of fifths
  (C = 0, G = 1, D = 2, … F = 11) turns the OKLCH hue wheel by 30° a step, starting at
  C = 25° (a warm red). Neighbouring keys on the circle, which share six of seven
  notes, get neighbouring hues, in the spirit of Scriabin's *clavier à lumières*
  (C red, G orange, D yellow, A green, E sky, B/F♯ blue, D♭ violet …). Enharmonic
  spellings (F♯ = G♭) give the same hue.
* **Secondary colours are the harmonic neighbourhood.** The dominant (one step
  clockwise, +30°) and the subdominant (one step anticlockwise, −30°) give the second and
  third colours; the tritone (+180°) is a small, sparing accent.
* **Mode → warmth and contrast.** Each mode has a warmth ``w`` in [−1, 1] (Lydian 1,
  major/Ionian 0.75, Mixolydian 0.4, Dorian −0.2, minor/Aeolian −0.6, Phrygian −0.8,
  Locrian −1). Warm modes turn every hue up to 10° towards orange (60°) and raise chroma;
  cool modes turn it towards blue (250°), lower the chroma of the ground and widen the
  lightness gap between ground and figures (darker ground, luminous figures): higher
  contrast.
* **Valence and energy** then set the ground's lightness (happy and calm → paper-light,
  sad or intense → ink-dark) and the figures' chroma (energy, arousal).

Colours are designed in OKLab/OKLCH (Ottosson, 2020, "A perceptual color space for image
processing") so that equal steps look equal, then mapped to sRGB with chroma reduced
until the colour is in gamut.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from cover_art.errors import CoverArtError

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_LETTER = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

HUE_OF_C = 25.0
"""OKLCH hue (degrees) of C; every step clockwise on the circle of fifths adds 30°."""
WARM_POLE = 60.0
COOL_POLE = 250.0
MAX_WARM_SHIFT = 10.0
"""Degrees a fully warm (or cool) mode turns hues towards the warm (or cool) pole."""

MODE_WARMTH: dict[str, float] = {
    "lydian": 1.0,
    "major": 0.75,
    "ionian": 0.75,
    "mixolydian": 0.4,
    "dorian": -0.2,
    "minor": -0.6,
    "aeolian": -0.6,
    "phrygian": -0.8,
    "locrian": -1.0,
}
"""Warmth of each mode in [-1, 1]; brighter modes (more raised degrees) are warmer."""

_KEY_RE = re.compile(r"^\s*([A-Ga-g])\s*([#♯b♭]*)\s*(?:[:\-_ ]\s*)?([A-Za-z]*)\s*$")


@dataclass(frozen=True)
class Key:
    """A parsed key: tonic pitch class (0 = C) and mode name."""

    tonic: int
    mode: str

    @property
    def fifths(self) -> int:
        """Position on the circle of fifths, clockwise from C (0 … 11)."""
        return (self.tonic * 7) % 12

    @property
    def name(self) -> str:
        return f"{PITCH_CLASSES[self.tonic]} {self.mode}"


def parse_key(text: str) -> Key:
    """Parse ``"F# minor"``, ``"Bb major"``, ``"A"``, ``"c#m"`` or ``"D dorian"``.

    Parameters
    ----------
    text : str
        Tonic letter, optional accidentals (``#``, ``b``, ``♯``, ``♭``), optional mode
        (major, minor, maj, min, m, or a church-mode name). No mode means major.

    Returns
    -------
    Key

    Raises
    ------
    CoverArtError
        If the text is not a key.
    """
    m = _KEY_RE.match(str(text))
    if not m:
        raise CoverArtError(f"cannot read the key {text!r}: expected e.g. 'F# minor' or 'Bb major'")
    letter, accidentals, mode = m.groups()
    pc = _LETTER[letter.upper()] + accidentals.count("#") + accidentals.count("♯")
    pc -= accidentals.count("b") + accidentals.count("♭")
    mode = mode.lower()
    aliases = {"": "major", "maj": "major", "m": "minor", "min": "minor", "ionian": "major",
               "aeolian": "minor"}
    mode = aliases.get(mode, mode)
    if mode not in MODE_WARMTH:
        raise CoverArtError(f"unknown mode {mode!r} in key {text!r}; use one of {sorted(MODE_WARMTH)}")
    return Key(tonic=pc % 12, mode=mode)


def key_hue(key: Key) -> float:
    """The tonic's hue before the mode's warmth shift: ``25° + 30° × fifths`` (mod 360)."""
    return (HUE_OF_C + 30.0 * key.fifths) % 360.0


def warm_shift(hue: float, warmth: float) -> float:
    """Turn ``hue`` up to ``MAX_WARM_SHIFT`` degrees towards the warm or cool pole."""
    pole = WARM_POLE if warmth >= 0 else COOL_POLE
    delta = (pole - hue + 180.0) % 360.0 - 180.0  # signed shortest turn towards the pole
    step = min(abs(delta), MAX_WARM_SHIFT * abs(warmth))
    return (hue + math.copysign(step, delta)) % 360.0


# --- OKLab ↔ sRGB (Ottosson 2020) -------------------------------------------------------------

_M1 = np.array([[0.4122214708, 0.5363325363, 0.0514459929],
                [0.2119034982, 0.6806995451, 0.1073969566],
                [0.0883024619, 0.2817188376, 0.6299787005]])
_M2 = np.array([[0.2104542553, 0.7936177850, -0.0040720468],
                [1.9779984951, -2.4285922050, 0.4505937099],
                [0.0259040371, 0.7827717662, -0.8086757660]])


def _linear_to_srgb(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.power(np.maximum(c, 0), 1 / 2.4) - 0.055)


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def oklab_to_linear_rgb(lab: np.ndarray) -> np.ndarray:
    """OKLab ``(..., 3)`` → linear sRGB ``(..., 3)`` (may be out of gamut)."""
    lms_ = lab @ np.linalg.inv(_M2).T
    return (lms_ ** 3) @ np.linalg.inv(_M1).T


def srgb_to_oklch(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """sRGB in [0, 1] → OKLCH ``(L, C, h°)``."""
    lin = _srgb_to_linear(np.asarray(rgb, dtype=float))
    lab = np.cbrt(_M1 @ lin) @ _M2.T
    L, a, b = (float(v) for v in lab)
    return L, math.hypot(a, b), math.degrees(math.atan2(b, a)) % 360.0


def oklch(L: float, C: float, h: float) -> tuple[float, float, float]:
    """OKLCH → sRGB in [0, 1], reducing chroma (bisection) until the colour is in gamut.

    Parameters
    ----------
    L : float
        Perceptual lightness in [0, 1].
    C : float
        Chroma (0 … ~0.37).
    h : float
        Hue in degrees.
    """
    L = min(max(L, 0.0), 1.0)
    rad = math.radians(h)

    def rgb(c: float) -> np.ndarray:
        return oklab_to_linear_rgb(np.array([L, c * math.cos(rad), c * math.sin(rad)]))

    lo, hi = 0.0, max(C, 0.0)
    if np.all((rgb(hi) >= -1e-6) & (rgb(hi) <= 1 + 1e-6)):
        lo = hi
    else:
        for _ in range(24):
            mid = (lo + hi) / 2
            x = rgb(mid)
            if np.all((x >= -1e-6) & (x <= 1 + 1e-6)):
                lo = mid
            else:
                hi = mid
    out = np.clip(_linear_to_srgb(np.clip(rgb(lo), 0, 1)), 0, 1)
    return (float(out[0]), float(out[1]), float(out[2]))


def to_hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(v * 255):02x}" for v in rgb)


# --- the palette -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Palette:
    """The colours of one cover, sRGB in [0, 1].

    Attributes
    ----------
    key : Key
    warmth : float
        Mode warmth in [-1, 1].
    hue : float
        The tonic's hue after the warmth shift (degrees, OKLCH).
    ground, ground2 : tuple of float
        The background and the second stop of its gradient.
    tonic, dominant, subdominant, accent : tuple of float
        Figure colours: the key's hue, +30° (fifth up), −30° (fifth down), +180° (tritone).
    ink : tuple of float
        Text and hairlines, chosen for contrast against the ground.
    dark : bool
        Whether the ground is dark (figures then add light: screen/plus blending).
    """

    key: Key
    warmth: float
    hue: float
    ground: tuple[float, float, float]
    ground2: tuple[float, float, float]
    tonic: tuple[float, float, float]
    dominant: tuple[float, float, float]
    subdominant: tuple[float, float, float]
    accent: tuple[float, float, float]
    ink: tuple[float, float, float]
    dark: bool

    @property
    def figures(self) -> list[tuple[float, float, float]]:
        """Tonic, dominant, subdominant: the colours figures cycle through."""
        return [self.tonic, self.dominant, self.subdominant]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key.name, "warmth": self.warmth, "hue": round(self.hue, 3), "dark": self.dark,
            **{name: to_hex(getattr(self, name)) for name in
               ("ground", "ground2", "tonic", "dominant", "subdominant", "accent", "ink")},
        }


def natural_lightness(hue: float) -> float:
    """Lightness offset that lets each hue reach its natural value: yellows are light, blues deep.

    Yellow at mid lightness is olive and blue at high lightness is pastel; following the
    lightness of each hue's most chromatic colour (cf. Munsell value) keeps all twelve keys
    vivid. +0.12 at 105° (yellow), −0.12 at 285° (blue-violet).
    """
    return 0.12 * math.cos(math.radians(hue - 105.0))


def _num(traits: Mapping[str, Any], name: str, default: float) -> float:
    v = traits.get(name)
    try:
        v = float(v)
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


def palette_for(traits: Mapping[str, Any]) -> Palette:
    """Build the palette of a track from its traits (``key``, ``valence``, ``energy``, ``arousal``).

    Parameters
    ----------
    traits : Mapping
        At least ``key`` (e.g. ``"F# minor"``); ``valence``, ``energy``, ``arousal`` in [0, 1]
        refine lightness and chroma (0.5 when absent).

    Returns
    -------
    Palette
    """
    key = parse_key(traits.get("key") or "C major")
    warmth = MODE_WARMTH[key.mode]
    valence = min(max(_num(traits, "valence", 0.5), 0.0), 1.0)
    energy = min(max(_num(traits, "energy", 0.5), 0.0), 1.0)
    arousal = min(max(_num(traits, "arousal", energy), 0.0), 1.0)

    hue = warm_shift(key_hue(key), warmth)
    dom = warm_shift((key_hue(key) + 30.0) % 360, warmth)
    sub = warm_shift((key_hue(key) - 30.0) % 360, warmth)
    tri = warm_shift((key_hue(key) + 180.0) % 360, warmth)

    # Ground lightness: warm modes and happy, calm music lean to paper; cool, sad or intense
    # music to ink. A logistic keeps it decisively light or dark: mid-grey grounds look muddy.
    z = 1.6 * warmth + 3.0 * (valence - 0.5) - 2.2 * (energy - 0.5)
    light = 1.0 / (1.0 + math.exp(-2.2 * z))
    dark = light < 0.5
    contrast = 0.5 * (1.0 - warmth)  # 0 (lydian) … 1 (locrian)
    if dark:
        g_L = 0.17 + 0.10 * light - 0.04 * contrast
        g_C = 0.035 * (1.0 - 0.5 * contrast)
        f_L = 0.72 + 0.08 * contrast
    else:
        g_L = 0.90 + 0.05 * light
        g_C = 0.025 + 0.015 * max(warmth, 0)
        f_L = 0.64 - 0.08 * contrast
    chroma = 0.12 + 0.09 * arousal + 0.03 * max(warmth, 0)

    return Palette(
        key=key,
        warmth=warmth,
        hue=hue,
        ground=oklch(g_L, g_C, hue),
        ground2=oklch(g_L + (0.07 if dark else -0.08), g_C * 1.6, sub),
        # Three lightness tiers (tonic mid, dominant light, subdominant deep) give figures a
        # hierarchy; equal lightness reads as mud once the layers overlap.
        tonic=oklch(f_L + natural_lightness(hue), chroma, hue),
        dominant=oklch(min(f_L + 0.11 + natural_lightness(dom), 0.92), chroma * 0.85, dom),
        subdominant=oklch(f_L - 0.17 + natural_lightness(sub), chroma * 0.95, sub),
        accent=oklch(0.72 if dark else 0.58, 0.16 + 0.05 * arousal, tri),
        ink=oklch(0.95 if dark else 0.2, 0.02, hue),
        dark=dark,
    )
