"""Drawing helpers shared by the styles: the scene, paints, grounds and the print finish.

All geometry is in pixels of a square canvas of side ``scene.n``; styles work in unit
coordinates and multiply by ``n`` so that any size gives the same picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import skia

from cover_art.motif import Motif
from cover_art.palette import Palette
from cover_art.params import Params

RGB = tuple[float, float, float]


@dataclass
class Scene:
    """What a style draws with: canvas, size, palette, parameters, motif and a seeded RNG."""

    canvas: skia.Canvas
    n: int
    palette: Palette
    params: Params
    motif: Motif
    rng: np.random.Generator

    @property
    def px(self) -> float:
        """One pixel of the 2048 reference canvas, in this canvas's pixels."""
        return self.n / 2048.0

    def pc_color(self, pc: int) -> RGB:
        """Colour of a pitch class: its distance from the tonic on the circle of fifths picks
        tonic (0), dominant (+1), subdominant (−1) or, further away, the accent."""
        steps = ((pc - self.palette.key.tonic) * 7) % 12
        steps = steps - 12 if steps > 6 else steps
        if steps == 0:
            return self.palette.tonic
        if steps in (1, 2):
            return self.palette.dominant
        if steps in (-1, -2):
            return self.palette.subdominant
        return self.palette.accent if abs(steps) >= 5 else mix(self.palette.tonic, self.palette.accent, 0.35)

    @property
    def add_mode(self) -> skia.BlendMode:
        """Blend for overlapping figures: light adds on dark grounds, ink multiplies on paper."""
        return skia.BlendMode.kScreen if self.palette.dark else skia.BlendMode.kMultiply


def c4(rgb: RGB, alpha: float = 1.0) -> skia.Color4f:
    return skia.Color4f(float(rgb[0]), float(rgb[1]), float(rgb[2]), float(min(max(alpha, 0.0), 1.0)))


def argb(rgb: RGB, alpha: float = 1.0) -> int:
    return c4(rgb, alpha).toColor()


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def fill(rgb: RGB, alpha: float = 1.0, *, blend: skia.BlendMode | None = None,
         blur: float = 0.0) -> skia.Paint:
    p = skia.Paint(AntiAlias=True, Color4f=c4(rgb, alpha))
    if blend is not None:
        p.setBlendMode(blend)
    if blur > 0:
        p.setMaskFilter(skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, blur))
    return p


def stroke(rgb: RGB, alpha: float, width: float, *, blend: skia.BlendMode | None = None,
           cap: skia.Paint.Cap = skia.Paint.kRound_Cap, blur: float = 0.0) -> skia.Paint:
    p = fill(rgb, alpha, blend=blend, blur=blur)
    p.setStyle(skia.Paint.kStroke_Style)
    p.setStrokeWidth(float(width))
    p.setStrokeCap(cap)
    p.setStrokeJoin(skia.Paint.kRound_Join)
    return p


def polyline(points: np.ndarray, *, close: bool = False) -> skia.Path:
    """A path through ``points`` (shape (k, 2), pixels)."""
    return skia.Path.Polygon([skia.Point(x, y) for x, y in np.asarray(points, dtype=float).tolist()], close)


def smooth_path(points: np.ndarray, *, close: bool = False) -> skia.Path:
    """A Catmull–Rom spline through ``points`` as cubic Béziers (shape (k, 2), pixels)."""
    p = np.asarray(points, dtype=float)
    k = len(p)
    path = skia.Path()
    if k < 3:
        return polyline(p, close=close)
    idx = np.arange(k)
    if close:
        p0, p1, p2, p3 = p[(idx - 1) % k], p, p[(idx + 1) % k], p[(idx + 2) % k]
        segs = k
    else:
        pp = np.vstack([p[:1], p, p[-1:]])
        p0, p1, p2, p3 = pp[:-3], pp[1:-2], pp[2:-1], pp[3:]
        segs = k - 1
    c1 = p1 + (p2 - p0) / 6.0
    c2 = p2 - (p3 - p1) / 6.0
    path.moveTo(*p[0])
    for a, b, e in zip(c1[:segs].tolist(), c2[:segs].tolist(), p2[:segs].tolist(), strict=True):
        path.cubicTo(a[0], a[1], b[0], b[1], e[0], e[1])
    if close:
        path.close()
    return path


def linear_gradient(p0: tuple[float, float], p1: tuple[float, float], colors: Sequence[RGB],
                    alphas: Sequence[float] | None = None,
                    stops: Sequence[float] | None = None) -> skia.Shader:
    alphas = alphas or [1.0] * len(colors)
    return skia.GradientShader.MakeLinear(
        [skia.Point(*p0), skia.Point(*p1)], [argb(c, a) for c, a in zip(colors, alphas, strict=True)],
        list(stops) if stops else None)


def radial_gradient(center: tuple[float, float], radius: float, colors: Sequence[RGB],
                    alphas: Sequence[float] | None = None,
                    stops: Sequence[float] | None = None) -> skia.Shader:
    alphas = alphas or [1.0] * len(colors)
    return skia.GradientShader.MakeRadial(
        skia.Point(*center), float(radius), [argb(c, a) for c, a in zip(colors, alphas, strict=True)],
        list(stops) if stops else None)


LOW_RES = 256
"""Side of the small image that holds the print finish (vignette and mottle): it has no
detail, so it is computed small and scaled up once."""


def paint_ground(s: Scene, *, angle: float | None = None,
                 glows: Sequence[tuple[tuple[float, float], float, RGB, float]] = ()) -> None:
    """A two-stop diagonal ground and soft lights, in one pass.

    Parameters
    ----------
    angle : float, optional
        Direction of the ground gradient (radians); random when absent.
    glows : sequence of (centre, radius, colour, alpha)
        Soft radial lights in unit coordinates, composed into the same shader so the whole
        background costs a single full-canvas pass. Without any, a faint off-centre light in
        the ink colour keeps the ground from being flat.
    """
    n, pal = s.n, s.palette
    a = s.rng.uniform(0, 2 * math.pi) if angle is None else angle
    c, r = n / 2, n * 0.75
    p0 = (c - r * math.cos(a), c - r * math.sin(a))
    p1 = (c + r * math.cos(a), c + r * math.sin(a))
    shader = linear_gradient(p0, p1, [pal.ground, pal.ground2])
    if not glows:  # a soft off-centre light, so that no ground is flat
        light = mix(pal.ground, pal.ink, 0.18 if pal.dark else 0.5)
        glows = [((s.rng.uniform(0.3, 0.7), s.rng.uniform(0.25, 0.6)), 0.7, light, 0.55)]
    for centre, radius, rgb, alpha in glows:
        shader = skia.Shaders.Blend(skia.BlendMode.kSrcOver, shader, radial_gradient(
            (centre[0] * n, centre[1] * n), radius * n, [rgb, rgb, rgb], [alpha, alpha * 0.35, 0.0],
            stops=[0.0, 0.45, 1.0]))
    s.canvas.drawPaint(skia.Paint(Shader=shader, BlendMode=skia.BlendMode.kSrc))


def print_finish(s: Scene, *, mottle: float, vignette: float) -> None:
    """Vignette and paper/ink mottling in one soft-light pass (grey 0.5 is neutral)."""
    # Mottling: a random Fourier series of the lowest spatial frequencies (up to 6 cycles across,
    # amplitudes falling as 1/f^1.5): soft blotches like uneven ink on paper.
    # Separable: Re(Σ c_k e^{2πi(kx·x + ky·y)}) = Re(Eyᵀ C Ex), two small matrix products.
    u = np.arange(LOW_RES) / (LOW_RES - 1) - 0.5
    kxs, kys = np.arange(-6, 7), np.arange(0, 7)
    f = np.hypot(kys[:, None], kxs[None, :])
    amp = np.where((f > 0) & (f <= 6.5), 1.0 / np.maximum(f, 1.0) ** 1.5, 0.0)
    coef = amp * s.rng.standard_normal(f.shape) * np.exp(1j * s.rng.uniform(0, 2 * math.pi, f.shape))
    ex = np.exp(2j * math.pi * kxs[:, None] * u[None, :])  # (13, LOW_RES)
    ey = np.exp(2j * math.pi * kys[:, None] * u[None, :])  # (7, LOW_RES)
    field = np.real(ey.T @ coef @ ex)  # rows: y, columns: x
    field = (field - field.mean()) / max(float(field.std()), 1e-9)
    yy, xx = np.meshgrid(u, u, indexing="ij")
    r2 = (xx ** 2 + yy ** 2) / 0.5
    grey = 0.5 + 0.02 * mottle * field - vignette * r2 ** 1.3
    v = np.clip(np.round(grey * 255), 0, 255).astype(np.uint8)
    rgba = np.empty((LOW_RES, LOW_RES, 4), dtype=np.uint8)
    rgba[..., :3] = v[..., None]
    rgba[..., 3] = 255
    img = skia.Image.fromarray(rgba, colorType=skia.kRGBA_8888_ColorType)
    s.canvas.drawImageRect(img, skia.Rect.MakeWH(s.n, s.n), skia.SamplingOptions(skia.FilterMode.kLinear),
                           skia.Paint(BlendMode=skia.BlendMode.kSoftLight))


def snapshot(surface: skia.Surface) -> np.ndarray:
    """The canvas as an ``(h, w, 3)`` uint8 array (RGB of RGBA; the canvas is opaque)."""
    arr = surface.makeImageSnapshot().toarray(colorType=skia.kRGBA_8888_ColorType,
                                               alphaType=skia.kUnpremul_AlphaType)
    return arr[..., :3]


def grain(rgb: np.ndarray, *, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Film grain: the same luminance noise on all channels, RMS ``sigma`` in 8-bit levels.

    The noise is ternary (−a, 0, +a with probabilities ¼, ½, ¼; a = σ√2): at one pixel it
    looks the same as Gaussian grain, but draws 3× faster and leaves the PNG a third smaller
    and faster to compress (fewer distinct residuals after the Sub filter).
    """
    h, w, _ = rgb.shape
    a = round(sigma * math.sqrt(2.0))
    lut = np.array([-a, 0, 0, a], dtype=np.int16)
    noise = lut[rng.integers(0, 4, (h, w), dtype=np.uint8)]
    x = rgb.astype(np.int16)
    x += noise[..., None]
    np.clip(x, 0, 255, out=x)
    return x.astype(np.uint8)
