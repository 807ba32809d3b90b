"""Flow field: streamlines released from the track's waveform, combed by its harmony.

* The field is a sum of twelve plane waves, one per pitch class, pointing 30° apart in
  circle-of-fifths order, each weighted by how much the track uses that pitch class:
  the harmony literally sets the grain of the picture. ``curvature`` sets their
  frequency; a swirl around an off-centre eye gives the composition a focus.
* Particles start on a closed loop whose radius *is* the track's waveform outline
  (one turn = the whole track), so the seed curve is the song's silhouette; a sparser
  cloud fills the rest of the square. Each line takes the colour of the strongest pitch
  class at its moment in the track, its weight from the loudness there.
* ``motion`` sets how far lines travel; ``density`` how many there are.
"""

from __future__ import annotations

import math

import numpy as np

from cover_art.motif import N_FRAMES
from cover_art.scene import Scene, fill, mix, paint_ground, polyline, smooth_path, stroke


def _field(s: Scene) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[float, float], float]:
    rng, p = s.rng, s.params
    weights = np.power(s.motif.chroma_mean * 12.0, 0.8)
    order = (np.arange(12) * 7) % 12  # pitch classes in circle-of-fifths order
    dirs = np.radians(order * 30.0 + rng.uniform(0, 30)) + rng.normal(0, 0.15, 12)
    freq = (0.8 + 2.6 * p.curvature) * rng.uniform(0.7, 1.3, 12)
    phase = rng.uniform(0, 2 * math.pi, 12)
    eye = (rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7))
    swirl = rng.choice([-1.0, 1.0]) * (0.6 + 1.2 * (1 - p.curvature))
    return np.stack([np.cos(dirs), np.sin(dirs)], 1), freq, weights, phase, eye, swirl


def draw(s: Scene) -> None:
    n, p, pal, m, rng, cv = s.n, s.params, s.palette, s.motif, s.rng, s.canvas
    dirs, freq, weights, phase, eye, swirl = _field(s)
    # The ground, with a soft glow in the tonic colour behind the eye.
    paint_ground(s, glows=[(eye, 0.55, pal.tonic, 0.30 if pal.dark else 0.18)])
    wsum = float(weights.sum())
    base = rng.uniform(0, 2 * math.pi)
    gain = math.pi * (0.5 + 1.3 * p.curvature)

    def angle(xy: np.ndarray) -> np.ndarray:
        proj = xy @ dirs.T  # (P, 12)
        f = (np.sin(2 * math.pi * freq * proj + phase) * weights).sum(1) / (wsum or 1.0)  # silence: all 0
        d = xy - eye
        r2 = (d ** 2).sum(1)
        around = np.arctan2(d[:, 1], d[:, 0]) + math.pi / 2 * np.sign(swirl)
        # The swirl dominates near the eye and fades out over ~0.35 of the canvas.
        w = np.exp(-r2 / (2 * 0.18 ** 2)) * min(abs(swirl), 1.0)
        return np.angle((1 - w) * np.exp(1j * (base + gain * 3 * f)) + w * np.exp(1j * around))

    # Seeds: on the waveform loop (the song's silhouette) and a sparser cloud.
    n_loop = int(380 + 800 * p.density)
    n_cloud = int(120 + 320 * p.density)
    t = np.sort(rng.uniform(0, 1, n_loop))
    frames = np.minimum((t * N_FRAMES).astype(int), N_FRAMES - 1)
    theta = 2 * math.pi * t - math.pi / 2
    radius = 0.26 + 0.11 * m.waveform[frames] + rng.normal(0, 0.006, n_loop)
    centre = (0.5 + 0.35 * (eye[0] - 0.5), 0.5 + 0.35 * (eye[1] - 0.5))
    loop = np.stack([centre[0] + radius * np.cos(theta), centre[1] + radius * np.sin(theta)], 1)
    cloud = rng.uniform(-0.05, 1.05, (n_cloud, 2))
    cloud_frames = rng.integers(0, N_FRAMES, n_cloud)
    pos = np.vstack([loop, cloud])
    frm = np.concatenate([frames, cloud_frames])
    on_loop = np.arange(len(pos)) < n_loop

    steps = int(26 + 54 * p.motion)
    h = 0.0042 * rng.uniform(0.8, 1.2)
    traj = np.empty((steps, len(pos), 2))
    x = pos.copy()
    for k in range(steps):
        traj[k] = x
        a = angle(x)
        x = x + h * np.stack([np.cos(a), np.sin(a)], 1)

    # Ink on paper builds up more slowly than light on black: heavier, more opaque lines there.
    weight, opacity = (1.15, 1.4) if pal.dark else (1.35, 1.9)
    env = m.envelope[frm]
    pcs = np.argmax(m.chroma[frm], axis=1)
    blend = s.add_mode
    order = rng.permutation(len(pos))
    for i in order:
        col = s.pc_color(int(pcs[i]))
        e = float(env[i])
        if on_loop[i]:
            width = (0.7 + 3.2 * e ** 2) * s.px
            alpha = 0.10 + 0.32 * e
        else:
            width = (0.5 + 1.2 * e) * s.px
            alpha = 0.05 + 0.12 * e
        if rng.random() < 0.04:  # a few broad, faint brush strokes give depth
            width *= 5
            alpha *= 0.35
        # Every other integration step is vertex enough at this step size (≤ 0.9 % of the side).
        cv.drawPath(polyline(traj[::2, i] * n), stroke(col, alpha * opacity, width * weight, blend=blend))

    # The silhouette itself: a hairline in ink, with onset beads in the accent colour.
    phi = 2 * math.pi * np.arange(N_FRAMES) / N_FRAMES - math.pi / 2
    rr = 0.26 + 0.11 * m.waveform
    ring = np.stack([centre[0] + rr * np.cos(phi), centre[1] + rr * np.sin(phi)], 1)
    cv.drawPath(smooth_path(ring * n, close=True), stroke(pal.ink, 0.35, 1.4 * s.px))
    strong = np.nonzero(m.onsets > np.quantile(m.onsets, 1 - 0.04 - 0.08 * p.accents))[0]
    for f in strong:
        r = (3 + 9 * m.onsets[f]) * s.px
        cv.drawCircle(float(ring[f, 0] * n), float(ring[f, 1] * n), r, fill(pal.accent, 0.9))
        cv.drawCircle(float(ring[f, 0] * n), float(ring[f, 1] * n), r * 2.6,
                      stroke(mix(pal.accent, pal.ink, 0.3), 0.35, 1.0 * s.px))
