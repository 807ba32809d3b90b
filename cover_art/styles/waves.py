"""Layered waves: the track's spectrum as a range of translucent ridges, back to front.

* Each ridge is one moment of the track (moments spread evenly from start to end, back
  row first): its profile is that moment's log-band spectrum, mirrored about a centre
  that drifts with the chroma, lifted by the loudness there. The stack reads like a
  landscape, or like the classic pulsar plot.
* Ridges are filled with a vertical gradient from their colour to the ground and laid
  over each other with partial transparency, so the deeper rows glow through.
* ``rhythm`` and ``density`` set how many ridges; ``motion`` how tall; ``sharpness`` how
  crisp their crests are. A disc (sun or moon, tonic colour) sits behind the range, its
  height set by valence.
"""

from __future__ import annotations

import math

import numpy as np
import skia

from cover_art.motif import N_BANDS, N_FRAMES
from cover_art.scene import Scene, c4, mix, paint_ground, smooth_path, stroke


def draw(s: Scene) -> None:
    n, p, pal, m, rng, cv = s.n, s.params, s.palette, s.motif, s.rng, s.canvas
    # The disc behind the range: higher for happier music.
    sx = rng.uniform(0.3, 0.7)
    sy = 0.42 - 0.16 * p.valence
    sr = 0.13 + 0.06 * p.energy
    paint_ground(s, angle=math.pi / 2 + rng.uniform(-0.2, 0.2),
                 glows=[((sx, sy), sr * 3.2, pal.dominant, 0.45 if pal.dark else 0.35)])
    disc = skia.Paint(AntiAlias=True)
    disc.setShader(skia.GradientShader.MakeLinear(
        [skia.Point(0, (sy - sr) * n), skia.Point(0, (sy + sr) * n)],
        [c4(pal.dominant).toColor(), c4(mix(pal.dominant, pal.accent, 0.45)).toColor()]))
    cv.drawCircle(sx * n, sy * n, sr * n, disc)

    rows = int(np.clip(round(10 + 10 * p.density + 4 * p.rhythm), 12, 34))
    frames = np.linspace(0, N_FRAMES - 1, rows).astype(int)
    xs = np.linspace(-0.04, 1.04, 160)
    top, bottom = 0.36, 0.93
    amp = (0.12 + 0.18 * p.motion) * (16 / rows) ** 0.5
    band_pos = np.linspace(0, 1, N_BANDS)
    smooth = 0.06 + 0.12 * (1 - p.sharpness)
    cols = [pal.subdominant, pal.tonic, pal.dominant]
    for r, f in enumerate(frames):
        depth = r / max(rows - 1, 1)  # 0 = back row, 1 = front row
        y0 = top + (bottom - top) * depth
        # Mirror the spectrum about a centre that moves with the dominant pitch class.
        pc = float(np.argmax(m.chroma[f]))
        centre = 0.5 + 0.18 * math.sin(2 * math.pi * pc / 12 + rng.uniform(-0.4, 0.4))
        d = np.abs(xs - centre) / 0.55
        prof = np.interp(np.clip(d, 0, 1), band_pos, m.spectrum[f])
        prof *= np.exp(-0.5 * (d / (0.55 + 0.4 * p.energy)) ** 2)  # quiet edges, a peak mid-range
        k = max(3, int(smooth * xs.size))
        win = np.hanning(k)
        prof = np.convolve(np.pad(prof, k, mode="edge"), win / win.sum(), mode="same")[k:-k]
        lift = amp * (0.35 + 0.65 * float(m.envelope[f])) * (0.5 + 0.9 * depth)
        ys = y0 - lift * prof / max(float(prof.max()), 1e-6)
        pts = np.stack([xs * n, ys * n], 1)
        crest = smooth_path(pts)
        # A crest never dips below its baseline, and each fill is opaque from its baseline down,
        # so a body only needs to reach the next row's baseline: the next row covers the rest.
        # That saves filling the lower canvas thirty times over.
        step = (bottom - top) / max(rows - 1, 1)
        floor = n * 1.02 if r == rows - 1 else n * (y0 + step) + 2.0
        body = skia.Path(crest)
        body.lineTo(xs[-1] * n, floor)
        body.lineTo(xs[0] * n, floor)
        body.close()
        # Aerial perspective: dominant (light) far away, tonic mid-way, subdominant (deep) in
        # front; the moment's strongest pitch class tints each ridge a little.
        col = mix(cols[2], cols[1], depth * 2) if depth < 0.5 else mix(cols[1], cols[0], depth * 2 - 1)
        col = mix(col, s.pc_color(int(np.argmax(m.chroma[f]))), 0.25)
        # Far rows fade into the air; near rows are denser.
        far = mix(col, pal.ground, 0.55 * (1 - depth))
        paint = skia.Paint(AntiAlias=True)
        y_top, y_end = float(ys.min() * n), float((y0 + 0.22) * n)
        at_base = (y0 * n - y_top) / max(y_end - y_top, 1e-6)
        paint.setShader(skia.GradientShader.MakeLinear(
            [skia.Point(0, y_top), skia.Point(0, y_end)],
            [c4(far, 0.92).toColor(), c4(mix(far, pal.ground, 0.85 * at_base), 1.0).toColor(),
             c4(mix(far, pal.ground, 0.85), 1.0).toColor()], [0.0, at_base, 1.0]))
        cv.drawPath(body, paint)
        cv.drawPath(crest, stroke(mix(col, pal.ink, 0.35), 0.55 + 0.35 * depth, (0.9 + 1.6 * depth) * s.px))
        # Onsets sparkle on the crest as small beads.
        if m.onsets[f] > 0.6 - 0.3 * p.accents:
            i = int(np.argmin(ys))
            bead = (2.5 + 4 * float(m.onsets[f])) * s.px
            cv.drawCircle(float(pts[i, 0]), float(pts[i, 1]) - 6 * s.px, bead,
                          skia.Paint(AntiAlias=True, Color4f=c4(pal.accent, 0.95)))
