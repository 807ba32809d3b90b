"""Geometric: a Bauhaus / Swiss grid where each cell is one stretch of the track.

* The grid is ``k × k`` with ``k`` from the tempo (3 … 6); cells are read like text,
  left to right, top to bottom, each holding the next ``1/k²`` of the track.
* In each cell the loudness, onset strength and dominant pitch class of that stretch choose
  a primitive (quarter and half discs, full discs, rings, triangles, stripes, dot screens),
  its colour (pitch class → tonic, dominant, subdominant, accent) and its orientation.
  ``curvature`` favours round primitives over straight ones.
* A second, offset ink pass overprints some cells, as in risograph printing
  (multiply on paper, screen on dark grounds); two large translucent discs cut across the
  grid at the track's two strongest onsets.
* A strip of bars along the top margin is the track's loudness envelope: its signature.
"""

from __future__ import annotations

import math

import numpy as np
import skia

from cover_art.motif import N_FRAMES
from cover_art.scene import RGB, Scene, fill, mix, paint_ground, stroke

PRIMITIVES = ("quarter", "half", "disc", "ring", "triangle", "stripes", "dots", "square")


def _primitive(s: Scene, kind: str, x: float, y: float, c: float, col: RGB, alpha: float, turn: int,
               blend: skia.BlendMode | None, detail: int) -> None:
    cv = s.canvas
    paint = fill(col, alpha, blend=blend)
    cv.save()
    cv.translate(x + c / 2, y + c / 2)
    cv.rotate(90.0 * turn)
    h = c / 2
    if kind == "quarter":
        cv.drawArc(skia.Rect.MakeLTRB(-h, -h, 3 * h, 3 * h), 180, 90, True, paint)
    elif kind == "half":
        cv.drawArc(skia.Rect.MakeLTRB(-h, -h, h, h), 180, 180, True, paint)
    elif kind == "disc":
        cv.drawCircle(0, 0, h * 0.84, paint)
    elif kind == "ring":
        cv.drawCircle(0, 0, h * 0.66, stroke(col, alpha, h * 0.28, blend=blend))
    elif kind == "triangle":
        path = skia.Path.Polygon([skia.Point(-h, -h), skia.Point(h, -h), skia.Point(-h, h)], True)
        cv.drawPath(path, paint)
    elif kind == "stripes":
        lines = 3 + detail
        w = c / (2 * lines)
        for i in range(lines):
            x0 = -h + (2 * i + 0.5) * w
            cv.drawRect(skia.Rect.MakeLTRB(x0, -h, x0 + w, h), paint)
    elif kind == "dots":
        k = 3 + detail
        r = c / (k * 3.2)
        for i in range(k):
            for j in range(k):
                cv.drawCircle(-h + (i + 0.5) * c / k, -h + (j + 0.5) * c / k, r, paint)
    else:  # square
        cv.drawRect(skia.Rect.MakeLTRB(-h * 0.62, -h * 0.62, h * 0.62, h * 0.62), paint)
    cv.restore()


def draw(s: Scene) -> None:
    n, p, pal, m, rng, cv = s.n, s.params, s.palette, s.motif, s.rng, s.canvas
    paint_ground(s, angle=math.pi / 4 + rng.uniform(-0.3, 0.3))
    k = int(np.clip(round(1.5 + 1.5 * p.rhythm), 3, 6))
    margin = 0.1 * n
    c = (n - 2 * margin) / k
    segs = np.array_split(np.arange(N_FRAMES), k * k)
    over = s.add_mode

    round_w = 0.35 + 0.5 * p.curvature
    weights = np.array([round_w, round_w, round_w * 0.8, round_w * 0.6,
                        1 - round_w, 0.5, 0.4, (1 - round_w) * 0.6])
    # Behind the grid: a large disc at the strongest onset and a smaller one at the next.
    for rank, f in enumerate(np.argsort(m.onsets)[-2:][::-1]):
        i = int(f) * k * k // N_FRAMES
        x, y = margin + (i % k + 0.5) * c, margin + (i // k + 0.5) * c
        r = c * (0.9 + 0.4 * float(m.onsets[f]) + 0.3 * p.energy) * (1 if rank == 0 else 0.55)
        col = pal.accent if rank == 0 else pal.tonic
        cv.drawCircle(x, y, r, fill(mix(col, pal.ground, 0.25), 0.9))

    # Cell backgrounds: a few cells are solid blocks of colour, as in a poster.
    for i, seg in enumerate(segs):
        x, y = margin + (i % k) * c, margin + (i // k) * c
        e = float(m.envelope[seg].mean())
        pc = int(np.argmax(m.chroma[seg].mean(0)))
        if rng.random() < 0.12 + 0.18 * e * p.density:
            block = mix(s.pc_color(pc), pal.ground, 0.55)
            cv.drawRect(skia.Rect.MakeXYWH(x, y, c, c), fill(block, 0.9))

    for i, seg in enumerate(segs):
        x, y = margin + (i % k) * c, margin + (i // k) * c
        e = float(m.envelope[seg].mean())
        o = float(m.onsets[seg].max())
        chroma = m.chroma[seg].mean(0)
        pc = int(np.argmax(chroma))
        col = s.pc_color(pc)
        if rng.random() > 0.45 + 0.5 * max(e, p.density):
            continue  # rests: silence is part of the composition
        w = weights * (1 + np.array([0, 0, o, o, 0, e, 1 - e, 0]))
        kind = PRIMITIVES[int(rng.choice(len(PRIMITIVES), p=w / w.sum()))]
        turn = int(rng.integers(0, 4))
        detail = round(2 * o + 2 * p.accents)
        _primitive(s, kind, x, y, c, col, 0.95, turn, None, detail)
        if rng.random() < 0.35 + 0.3 * o:  # riso overprint, slightly off register
            second = s.pc_color(int(np.argsort(chroma)[-2]))
            kind2 = PRIMITIVES[int(rng.choice(len(PRIMITIVES), p=w / w.sum()))]
            off = rng.normal(0, 0.012 * c, 2)
            turn2 = (turn + 1 + int(rng.integers(0, 3))) % 4
            _primitive(s, kind2, x + off[0], y + off[1], c, second, 0.85, turn2, over, detail)

    # Grid hairlines and the outer frame.
    hair = stroke(pal.ink, 0.22, 1.0 * s.px, cap=skia.Paint.kButt_Cap)
    for j in range(k + 1):
        t = margin + j * c
        cv.drawLine(t, margin, t, n - margin, hair)
        cv.drawLine(margin, t, n - margin, t, hair)
    # The signature: the loudness envelope as a strip of bars above the grid.
    bars = 96
    env = np.interp(np.linspace(0, N_FRAMES - 1, bars), np.arange(N_FRAMES), m.envelope)
    bw = (n - 2 * margin) / bars
    base = margin * 0.72
    for b, v in enumerate(env):
        hgt = (0.1 + 0.9 * float(v)) * margin * 0.38
        x0 = margin + b * bw
        cv.drawRect(skia.Rect.MakeLTRB(x0 + bw * 0.2, base - hgt, x0 + bw * 0.8, base), fill(pal.ink, 0.75))
    # The tempo as a small ring count in the lower margin: one dot per beat of a bar.
    for b in range(4):
        cv.drawCircle(n - margin - b * 0.022 * n, n - margin * 0.55, 0.0055 * n,
                      fill(pal.accent if b == 3 else pal.ink, 0.85))
