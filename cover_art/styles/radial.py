"""Radial spectrum: the whole track wound once around a centre, like the grooves of a record.

* Angle is time: one turn is the track, starting at twelve o'clock.
* Twelve thin rings hold the chromagram, pitch classes in circle-of-fifths order from the
  tonic outwards; each arc's opacity is that pitch class's share of the moment.
* Around them the spectrum blooms: per frame, a petal whose length is the loudness and
  whose layered translucent copies follow the low, mid and high bands.
* Onsets are marked by hairline rays; ``accents`` sets how many.
* ``rhythm`` (beats per second) sets the count of fine grooves; ``sharpness`` how crisp the
  petals are.
"""

from __future__ import annotations

import math

import numpy as np
import skia

from cover_art.motif import N_BANDS, N_FRAMES
from cover_art.scene import Scene, c4, fill, mix, paint_ground, smooth_path, stroke


def _polar(cx: float, cy: float, r: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return np.stack([cx + r * np.cos(theta), cy + r * np.sin(theta)], 1)


def draw(s: Scene) -> None:
    n, p, pal, m, rng, cv = s.n, s.params, s.palette, s.motif, s.rng, s.canvas
    # Composition: energetic tracks fill the square from the centre; calm ones are a smaller
    # record set on a third of the square, its ripples spreading across the rest.
    calm = p.energy < 0.45
    if calm:
        sc = 0.62 + 0.25 * p.density
        thirds = [(1 / 3, 1 / 3), (2 / 3, 1 / 3), (1 / 3, 2 / 3), (2 / 3, 2 / 3)]
        ux, uy = thirds[int(rng.integers(0, 4))]
        cx, cy = n * (0.5 + 0.55 * (ux - 0.5)), n * (0.5 + 0.55 * (uy - 0.5))
    else:
        sc = 0.78 + 0.25 * p.density
        cx = n * (0.5 + rng.uniform(-0.04, 0.04))
        cy = n * (0.5 + rng.uniform(-0.04, 0.04))
    n_sc = n * sc  # all radii below scale with the record
    rot = rng.uniform(-math.pi, math.pi)
    theta = rot - math.pi / 2 + 2 * math.pi * np.arange(N_FRAMES) / N_FRAMES
    paint_ground(s, glows=[((cx / n, cy / n), 0.62, pal.tonic, 0.34 if pal.dark else 0.2)])

    r_in, r_ring = 0.10 * n_sc, 0.205 * n_sc
    blend = s.add_mode

    # Spectral petals: three translucent layers (low, mid, high bands) of a smoothed bloom.
    bands = np.array_split(np.arange(N_BANDS), 3)
    layer_cols = [pal.subdominant, pal.tonic, pal.dominant]
    kernel = np.hanning(5 + int(8 * (1 - p.sharpness)))
    kernel /= kernel.sum()
    for li, (idx, col) in enumerate(zip(bands, layer_cols, strict=True)):
        v = m.spectrum[:, idx].mean(1) * (0.45 + 0.55 * m.envelope)
        v = np.convolve(np.concatenate([v[-8:], v, v[:8]]), kernel, mode="same")[8:-8]
        v = (v - v.min()) / max(float(np.ptp(v)), 1e-9)
        reach = (0.14 + 0.05 * li) * n_sc * (0.55 + 0.6 * p.density)
        r = r_ring + 0.012 * n_sc + reach * v ** (1.2 - 0.5 * p.energy)
        path = smooth_path(_polar(cx, cy, r, theta), close=True)
        # Light adds on dark grounds; on paper the petals are laid like translucent inks
        # (normal blending keeps their hues clean where multiply would turn them to mud).
        paint = fill(col, 0.42 if pal.dark else 0.62, blend=blend if pal.dark else None)
        paint.setShader(skia.GradientShader.MakeRadial(
            skia.Point(cx, cy), float(r.max()),
            [c4(mix(col, pal.ground, 0.2), 0.0).toColor(), c4(col, 0.55).toColor(), c4(col, 0.9).toColor()],
            [0.0, r_ring / float(r.max()), 1.0]))
        cv.drawPath(path, paint)
        cv.drawPath(path, stroke(mix(col, pal.ink, 0.5), 0.5, 1.3 * s.px, blend=blend))
        outer = r

    # Ripples: the outermost bloom echoed outwards, one contour per beat of a bar (or two).
    echoes = 3 + round(3 * (1 - p.curvature)) + (3 if calm else 0)
    for j in range(1, echoes + 1):
        ring = _polar(cx, cy, outer * (1 + 0.13 * j) + 0.01 * n * j, theta)
        cv.drawPath(smooth_path(ring, close=True),
                    stroke(mix(pal.dominant, pal.ink, 0.45), 0.55 * (1 - j / (echoes + 1)) ** 1.2, 1.5 * s.px,
                           blend=blend))

    # The waveform as a fan of hairlines, one per frame: fine detail over the soft petals.
    reach = (0.06 + 0.30 * np.abs(m.waveform) * (0.5 + 0.5 * p.density)) * n_sc
    r0 = r_ring + 0.014 * n_sc
    for f in range(N_FRAMES):
        ct, st = math.cos(theta[f]), math.sin(theta[f])
        cv.drawLine(cx + r0 * ct, cy + r0 * st, cx + (r0 + reach[f]) * ct, cy + (r0 + reach[f]) * st,
                    stroke(pal.ink, 0.16 + 0.2 * float(m.envelope[f]), 0.9 * s.px, blend=blend))

    # Fine grooves: concentric hairlines whose count follows the tempo.
    grooves = int(10 + 10 * p.rhythm)
    for k in range(grooves):
        r = r_in + (r_ring - r_in) * (k + 0.5) / grooves
        cv.drawCircle(cx, cy, r, stroke(pal.ink, 0.05 + 0.05 * (k % 4 == 0), 0.8 * s.px))

    # Chromagram rings: pitch classes in fifths order from the tonic, one arc per frame.
    width = (r_ring - r_in) / 12.0
    span = 360.0 / N_FRAMES
    chroma = m.chroma / np.maximum(m.chroma.max(1, keepdims=True), 1e-9)
    for ring in range(12):
        pc = (pal.key.tonic + 7 * ring) % 12
        col = s.pc_color(pc)
        r = r_in + width * (ring + 0.5)
        rect = skia.Rect.MakeLTRB(cx - r, cy - r, cx + r, cy + r)
        a = chroma[:, pc] ** 1.6
        for f in np.nonzero(a > 0.08)[0]:
            cv.drawArc(rect, math.degrees(theta[f]), span * 1.04, False,
                       stroke(col, 0.15 + 0.8 * float(a[f]), width * 0.82, blend=blend,
                              cap=skia.Paint.kButt_Cap))

    # Onset rays from the ring outwards, and beads where the strongest fall.
    q = np.quantile(m.onsets, 1 - 0.05 - 0.12 * p.accents)
    for f in np.nonzero(m.onsets >= q)[0]:
        o = float(m.onsets[f])
        r0, r1 = r_ring + 0.01 * n_sc, r_ring + (0.12 + 0.28 * o) * n_sc
        ct, st = math.cos(theta[f]), math.sin(theta[f])
        cv.drawLine(cx + r0 * ct, cy + r0 * st, cx + r1 * ct, cy + r1 * st,
                    stroke(pal.ink, 0.25 + 0.35 * o, 1.1 * s.px))
        cv.drawCircle(cx + r1 * ct, cy + r1 * st, (2.5 + 6 * o) * s.px, fill(pal.accent, 0.95))

    # The label: a disc of ground with a hairline, and the spindle hole.
    cv.drawCircle(cx, cy, r_in * 0.92, fill(mix(pal.ground, pal.ground2, 0.5), 1.0))
    cv.drawCircle(cx, cy, r_in * 0.92, stroke(pal.ink, 0.35, 1.2 * s.px))
    cv.drawCircle(cx, cy, r_in * 0.55, stroke(pal.accent, 0.8, 2.2 * s.px))
    cv.drawCircle(cx, cy, 0.008 * n, fill(pal.ink, 0.85))
    # Outer scale: 4 ticks per bar-ish, a quiet frame for the composition.
    r_scale = 0.455 * n_sc
    ticks = int(24 * p.rhythm)
    for k in range(ticks):
        t = rot - math.pi / 2 + 2 * math.pi * k / ticks
        long = k % 4 == 0
        r0 = r_scale - (0.012 if long else 0.006) * n
        cv.drawLine(cx + r0 * math.cos(t), cy + r0 * math.sin(t), cx + r_scale * math.cos(t),
                    cy + r_scale * math.sin(t), stroke(pal.ink, 0.35 if long else 0.18, 1.0 * s.px))
