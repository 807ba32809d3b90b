"""Visual treatments: how a cover comes alive, one frame at a time.

Every treatment precomputes its still layers once (the cover, the ground) as opaque skia images,
so that a frame costs one plain copy (no resampling: skia's raster backend resamples a 1080²
image in ~70 ms, copies it in ~1 ms) plus a few vector figures driven by the
:class:`~cover_art.video.timeline.Timeline`.

``pulse``
    The cover, full stage. The track's waveform outline (the cover's "one turn = the whole
    track" ring) breathes with the bass, its onset beads light up with the drums, a playhead
    travels once around it over the clip, spectrum bars stand on it, and each beat (stronger
    on downbeats) flashes the picture while a chord change washes it in the new root's colour.
``orbit``
    The style's own figures, live, around the cover set as a disc: ``flow`` particles orbiting
    a field, ``radial`` rings released on every beat and a rotating spectrum rose,
    ``geometric`` a grid of cells lit by band and drum hits, ``waves`` ridgelines of the
    spectrum scrolling up (others: the ``radial`` figures).

A 9:16 frame puts the square stage in the middle; the ground above and below carries the
spectrum (bottom) and the waveform scrolling past (top).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import skia

from cover_art.motif import N_FRAMES, Motif
from cover_art.palette import Palette
from cover_art.params import Params
from cover_art.scene import RGB, Scene, c4, fill, mix, paint_ground, polyline, smooth_path, stroke
from cover_art.video.timeline import Timeline

TREATMENTS = ("pulse", "orbit")


@dataclass
class Stage:
    """Everything a treatment draws with, fixed for the whole clip."""

    width: int
    height: int
    side: int
    """Side of the square stage (the cover), px."""
    ox: float
    oy: float
    palette: Palette
    params: Params
    motif: Motif
    style: str
    cover: skia.Image
    """The cover at ``side`` px, opaque."""
    ground: skia.Image
    """The cover's ground (gradient and lights) at ``width`` × ``height``, opaque."""
    scene: Scene
    rng_seed: int

    @property
    def px(self) -> float:
        return self.side / 2048.0

    @property
    def centre(self) -> tuple[float, float]:
        return self.ox + self.side / 2, self.oy + self.side / 2

    @property
    def flash_mode(self) -> skia.BlendMode:
        return skia.BlendMode.kScreen if self.palette.dark else skia.BlendMode.kMultiply


def opaque_image(rgb: np.ndarray) -> skia.Image:
    """An ``(h, w, 3)`` uint8 array as an opaque skia image (copied)."""
    h, w, _ = rgb.shape
    rgba = np.empty((h, w, 4), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = 255
    return skia.Image.fromarray(rgba, colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kOpaque_AlphaType)


def ground_image(scene_factory: Callable[[int], Scene], width: int, height: int) -> skia.Image:
    """The style's ground painted on a square of the longer side, centre-cropped to the frame."""
    n = max(width, height)
    surface = skia.Surface(n, n)
    scene = scene_factory(n)
    scene.canvas = surface.getCanvas()
    paint_ground(scene)
    arr = surface.makeImageSnapshot().toarray(colorType=skia.kRGBA_8888_ColorType)[..., :3]
    y0, x0 = (n - height) // 2, (n - width) // 2
    return opaque_image(np.ascontiguousarray(arr[y0:y0 + height, x0:x0 + width]))


def _band_colour(st: Stage, b: float) -> RGB:
    pal = st.palette
    return mix(pal.tonic, pal.dominant, b * 2) if b < 0.5 else mix(pal.dominant, pal.accent, (b - 0.5) * 2)


def _flash(cv: skia.Canvas, st: Stage, tl: Timeline, k: int) -> None:
    """One full-frame pass: a beat/downbeat flash and a chord wash in the new root's colour."""
    beat, down, chord = float(tl.beat[k]), float(tl.downbeat[k]), float(tl.chord[k])
    alpha = 0.10 * beat + 0.10 * down + 0.16 * chord
    if alpha < 0.01:
        return
    pal = st.palette
    light = mix(pal.ink, pal.tonic, 0.4) if pal.dark else mix(pal.tonic, pal.ground2, 0.3)
    root = st.scene.pc_color(int(tl.chord_root[k]))
    colour = mix(light, root, chord / max(beat + down + chord, 1e-6))
    cv.drawPaint(skia.Paint(Color4f=c4(colour, min(alpha, 0.4)), BlendMode=st.flash_mode))


def _ring(st: Stage, radius: float, wobble: float) -> np.ndarray:
    """The waveform outline as a closed loop around the stage centre, shape (N_FRAMES, 2), px."""
    cx, cy = st.centre
    phi = 2 * math.pi * np.arange(N_FRAMES) / N_FRAMES - math.pi / 2
    rr = (radius + wobble * st.motif.waveform) * st.side
    return np.stack([cx + rr * np.cos(phi), cy + rr * np.sin(phi)], 1)


def _spectrum_bars(cv: skia.Canvas, st: Stage, tl: Timeline, k: int, *, radius: float, length: float,
                   turn: float = 0.0) -> None:
    spec = tl.spectrum[k]
    nb = spec.size
    cx, cy = st.centre
    for side in (0, 1):  # bass at the top, mirrored left and right
        path = skia.Path()
        for b in range(nb):
            a = (-math.pi / 2 + (b + 0.5) / nb * math.pi * (1 if side else -1)) + turn
            r0 = radius * st.side
            r1 = r0 + (0.01 + length * float(spec[b]) ** 1.5) * st.side
            path.moveTo(cx + r0 * math.cos(a), cy + r0 * math.sin(a))
            path.lineTo(cx + r1 * math.cos(a), cy + r1 * math.sin(a))
        col = _band_colour(st, 0.3 + 0.4 * float(tl.bands[k, 1]))
        cv.drawPath(path, stroke(col, 0.55 + 0.35 * float(tl.loudness[k]), 6.0 * st.px,
                                 blend=st.scene.add_mode))


def _margins(cv: skia.Canvas, st: Stage, tl: Timeline, k: int) -> None:
    """9:16: the spectrum as a bar graph under the stage, the recent waveform scrolling above it."""
    if st.height - st.side < 8 and st.width - st.side < 8:
        return
    pal, w = st.palette, st.width
    if st.oy >= 8:
        base = st.height - st.oy * 0.35
        spec = tl.spectrum[k]
        bw = w / spec.size
        path = skia.Path()
        for b, v in enumerate(spec.tolist()):
            hgt = (0.05 + 0.95 * v ** 1.5) * st.oy * 0.5
            path.addRect(skia.Rect.MakeXYWH(b * bw + bw * 0.15, base - hgt, bw * 0.7, hgt))
        cv.drawPath(path, fill(_band_colour(st, 0.5), 0.75, blend=st.scene.add_mode))
        span = max(int(tl.fps * 2), 2)  # the last two seconds of loudness, scrolling leftwards
        idx = np.arange(k - span + 1, k + 1)
        vals = np.where(idx >= 0, tl.loudness[np.clip(idx, 0, None)], 0.0)
        xs = np.linspace(0, w, span)
        ys = st.oy * 0.5 - (vals - 0.5) * st.oy * 0.5
        cv.drawPath(polyline(np.stack([xs, ys], 1)), stroke(pal.ink, 0.6, 4 * st.px))


def draw_pulse(cv: skia.Canvas, st: Stage, tl: Timeline, k: int, base: skia.Image) -> None:
    cv.drawImage(base, 0, 0)
    pal, m = st.palette, st.motif
    bass, drums, loud = float(tl.stems["bass"][k]), float(tl.stems["drums"][k]), float(tl.loudness[k])
    ring = _ring(st, 0.30 + 0.035 * bass, 0.06 + 0.04 * loud)
    cv.drawPath(smooth_path(ring, close=True), stroke(pal.ink, 0.25 + 0.45 * loud, (1.5 + 5 * loud) * st.px))
    _spectrum_bars(cv, st, tl, k, radius=0.42 + 0.02 * bass, length=0.06)
    strong = np.nonzero(m.onsets > np.quantile(m.onsets, 0.9))[0]
    for f in strong.tolist():
        r = (4 + 10 * m.onsets[f] * (0.4 + 1.6 * drums)) * st.px
        cv.drawCircle(float(ring[f, 0]), float(ring[f, 1]), r, fill(pal.accent, 0.35 + 0.6 * drums))
    head = int(tl.progress[k] * N_FRAMES) % N_FRAMES
    cv.drawCircle(float(ring[head, 0]), float(ring[head, 1]), (10 + 8 * float(tl.beat[k])) * st.px,
                  fill(mix(pal.accent, pal.ink, 0.3), 0.95))
    _margins(cv, st, tl, k)
    _flash(cv, st, tl, k)


# ------------------------------------------------------------------ orbit: the style's figures, live


class Orbit:
    """The ``orbit`` treatment's state: particles and grid fixed at the start from the seed."""

    def __init__(self, st: Stage, duration: float) -> None:
        self.st = st
        rng = np.random.default_rng([st.rng_seed, 0x0B17])
        n = int(240 + 360 * st.params.density)
        self.radius = rng.uniform(0.30, 0.70, n)
        self.theta = rng.uniform(0, 2 * math.pi, n)
        # whole turns over the clip (either way, about one every 8 to 16 s), so a loop ends where it started
        per = max(round(duration / 16.0), 1)
        self.turns = rng.integers(1, 3, n) * per * rng.choice([-1, 1], n)
        self.wob = rng.uniform(0, 2 * math.pi, n)
        self.pc = np.argmax(rng.multinomial(1, st.motif.chroma_mean, n), axis=1)
        g = int(min(max(round(2 + st.params.rhythm * 2), 4), 8))
        self.grid = g
        self.cell_band = rng.permutation(np.resize(np.arange(32), g * g))
        self.cell_accent = rng.random(g * g) < 0.2
        self.figure = {"flow": self.flow, "radial": self.radial, "geometric": self.geometric,
                       "waves": self.waves}.get(st.style, self.radial)

    def draw(self, cv: skia.Canvas, tl: Timeline, k: int, base: skia.Image) -> None:
        cv.drawImage(base, 0, 0)
        self.figure(cv, tl, k)
        _margins(cv, self.st, tl, k)
        _flash(cv, self.st, tl, k)

    def flow(self, cv: skia.Canvas, tl: Timeline, k: int) -> None:
        st, p = self.st, float(tl.progress[k])
        cx, cy = st.centre
        bass, drums, loud = float(tl.stems["bass"][k]), float(tl.stems["drums"][k]), float(tl.loudness[k])
        ang = self.theta + 2 * math.pi * self.turns * p
        lag = ang - 0.05 * np.sign(self.turns) * (0.5 + loud)
        r = (self.radius * (1 + 0.06 * bass * np.sin(self.wob + 3 * ang))) * st.side * 0.5
        x0, y0 = cx + r * np.cos(lag), cy + r * np.sin(lag)
        x1, y1 = cx + r * np.cos(ang), cy + r * np.sin(ang)
        for pc in range(12):
            sel = np.nonzero(self.pc == pc)[0]
            if sel.size == 0:
                continue
            path = skia.Path()
            for i in sel.tolist():
                path.moveTo(float(x0[i]), float(y0[i]))
                path.lineTo(float(x1[i]), float(y1[i]))
            w = (2 + 6 * float(tl.chroma[k, pc]) * 12 ** 0.5 + 4 * drums) * st.px
            cv.drawPath(path, stroke(st.scene.pc_color(pc), 0.45 + 0.45 * loud, w, blend=st.scene.add_mode))

    def radial(self, cv: skia.Canvas, tl: Timeline, k: int) -> None:
        st = self.st
        cx, cy = st.centre
        t = k / tl.fps
        beat_s = float(np.median(np.diff(tl.beat_times))) if tl.beat_times.size > 1 else 0.5
        # rings released on the last few beats, expanding outwards and fading
        past = tl.beat_times[(tl.beat_times <= t + 1e-9) & (tl.beat_times > t - 4 * beat_s)]
        down = set(np.round(tl.downbeat_times, 6).tolist())
        for b in past.tolist():
            age = (t - b) / (4 * beat_s)
            r = (0.24 + 0.30 * age) * st.side
            strong = round(b, 6) in down
            colour = st.palette.tonic if strong else st.palette.dominant
            alpha, width = (1 - age) * (0.8 if strong else 0.5), (8 if strong else 4) * st.px
            cv.drawCircle(cx, cy, r, stroke(colour, alpha, width, blend=st.scene.add_mode))
        _spectrum_bars(cv, st, tl, k, radius=0.25, length=0.16, turn=2 * math.pi * float(tl.progress[k]))

    def geometric(self, cv: skia.Canvas, tl: Timeline, k: int) -> None:
        st, g = self.st, self.grid
        cell = st.side / g
        drums = float(tl.stems["drums"][k])
        spec = tl.spectrum[k]
        root = int(tl.chord_root[k])
        for i in range(g * g):
            gx, gy = i % g, i // g
            v = float(spec[self.cell_band[i]]) ** 2
            a = 0.08 + 0.45 * v + (0.4 * drums if self.cell_accent[i] else 0.0)
            col = st.palette.accent if self.cell_accent[i] else st.scene.pc_color((root + i * 7) % 12)
            inset = cell * (0.5 - 0.42 * (0.4 + 0.6 * v))
            rect = skia.Rect.MakeXYWH(st.ox + gx * cell + inset, st.oy + gy * cell + inset,
                                      cell - 2 * inset, cell - 2 * inset)
            if (gx + gy) % 2:
                cv.drawOval(rect, fill(col, a, blend=st.scene.add_mode))
            else:
                cv.drawRect(rect, fill(col, a, blend=st.scene.add_mode))

    def waves(self, cv: skia.Canvas, tl: Timeline, k: int) -> None:
        st = self.st
        lines, step = 12, max(round(tl.fps / 6), 1)
        xs = st.ox + np.linspace(0.08, 0.92, tl.spectrum.shape[1]) * st.side
        for j in range(lines - 1, -1, -1):  # oldest (top, back) to newest (bottom, front)
            f = k - j * step
            spec = tl.spectrum[max(f, 0)] if f >= 0 else np.zeros(tl.spectrum.shape[1])
            y0 = st.oy + (0.30 + 0.045 * (lines - 1 - j)) * st.side
            ys = y0 - (spec ** 2) * 0.22 * st.side
            pts = np.stack([xs, ys], 1)
            ridge = smooth_path(pts)
            body = skia.Path(ridge)
            body.lineTo(float(xs[-1]), y0 + 0.05 * st.side)
            body.lineTo(float(xs[0]), y0 + 0.05 * st.side)
            body.close()
            age = j / lines
            cv.drawPath(body, fill(mix(st.palette.ground, st.palette.ground2, age), 0.85))
            cv.drawPath(ridge, stroke(mix(st.palette.tonic, st.palette.accent, 1 - age), 0.9 - 0.6 * age,
                                      (3 + 3 * float(tl.loudness[max(f, 0)])) * st.px))
