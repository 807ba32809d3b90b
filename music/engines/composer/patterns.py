"""Pattern generators: drums, bass, chords and lead as lists of :class:`Note`.

Every generator reads the same :class:`Context` (genre, key, form, chord timeline) and
its own seeded ``numpy.random.Generator``, and returns notes on a beat grid. Swing and
humanisation are applied afterwards by :func:`humanize`, the same way for every part,
so that the groove is shared.

The lead is built from motifs: a one- or two-bar rhythmic and melodic cell, repeated
over the phrase with its pitches re-fitted to each chord (strong beats on chord tones,
weak beats on scale tones), varied in the third bar and closed on a chord tone in the
fourth, the classic *sentence* phrase shape [1]_.

References
----------
.. [1] W. E. Caplin, *Classical Form*, Oxford University Press, 1998, ch. 3 (the sentence).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from music.engines.composer import theory
from music.engines.composer.arrangement import (
    BEATS_PER_BAR,
    ChordSpan,
    Section,
    chord_at,
    section_at,
)
from music.engines.composer.genres import (
    CLAP,
    CLOSED_HAT,
    CRASH,
    HIGH_TOM,
    KICK,
    LOW_TOM,
    MID_TOM,
    OPEN_HAT,
    SNARE,
    STEP_VELOCITY,
    Genre,
)

PARTS = ("drums", "bass", "chords", "lead")
"""Parts the composer writes, in render and mix order."""


@dataclass(frozen=True)
class Note:
    """A note on the beat grid.

    Attributes
    ----------
    start, dur : float
        Onset and length in beats (quarter notes) from the top of the take.
    pitch : int
        MIDI key (a GM percussion key on the drum part).
    vel : int
        MIDI velocity 1–127.
    """

    start: float
    dur: float
    pitch: int
    vel: int


@dataclass(frozen=True)
class Context:
    """What every generator knows about the take."""

    genre: Genre
    key: theory.Key
    bars: int
    sections: list[Section]
    chords: list[ChordSpan]
    loop: bool
    register_shift: int = 0

    @property
    def beats(self) -> float:
        return float(self.bars * BEATS_PER_BAR)


def _clamp(x, lo, hi):  # type: ignore[no-untyped-def]
    """``min(max(x, lo), hi)`` for Python scalars (``np.clip`` costs microseconds per call,
    and the generators call it once per note)."""
    return min(max(x, lo), hi)


def _vel(v: float, energy: float) -> int:
    return int(_clamp(round(v * (0.78 + 0.22 * energy)), 1, 127))


# --------------------------------------------------------------------------- drums


def drums(ctx: Context, rng: np.random.Generator) -> list[Note]:
    """The genre's groove bar by bar: sparse in low-energy sections, fills and crashes
    at section boundaries, trap hi-hat rolls where the genre has them."""
    g = ctx.genre
    notes: list[Note] = []
    for bar in range(ctx.bars):
        sec = section_at(ctx.sections, bar)
        if "drums" not in sec.parts:
            continue
        top = bar * BEATS_PER_BAR
        pats = g.drums if sec.energy >= 0.5 else {k: v for k, v in g.drums.items() if k in g.sparse}
        last_bar = bar == sec.end_bar - 1
        fill = sec.fill and last_bar and bar != ctx.bars - 1
        roll_beat = int(rng.integers(1, 4)) if g.hat_rolls and rng.random() < g.hat_rolls else None
        for key, pat in pats.items():
            for step, ch in enumerate(pat):
                if ch == "." or (fill and step >= 8 and key not in (KICK,)):
                    continue
                if roll_beat is not None and key == CLOSED_HAT and step // 4 == roll_beat:
                    continue
                notes.append(Note(top + step / 4, 0.25, key, _vel(STEP_VELOCITY[ch], sec.energy)))
        if roll_beat is not None and CLOSED_HAT in pats:
            div = int(rng.choice([6, 8]))  # sixteenth-triplet or thirty-second roll
            for i in range(div):
                v = 60 + 50 * i / div
                notes.append(Note(top + roll_beat + i / div, 1 / div, CLOSED_HAT, _vel(v, sec.energy)))
        if fill:
            notes += _fill(top, sec.energy, rng)
        if bar == sec.start_bar and bar > 0:
            notes.append(Note(top, 1.0, CRASH, _vel(108, sec.energy)))
    if ctx.loop:
        # A loop has no boundaries; keep the last bar a plain groove (no crash at the top).
        notes = [n for n in notes if n.pitch != CRASH]
    return notes


def _fill(top: float, energy: float, rng: np.random.Generator) -> list[Note]:
    """Two beats of fill at the end of a bar: a snare build or a tom run."""
    kind = int(rng.integers(0, 3))
    out: list[Note] = []
    if kind == 0:  # sixteenth snare build
        for i in range(8):
            out.append(Note(top + 2 + i / 4, 0.25, SNARE, _vel(60 + 7 * i, energy)))
    elif kind == 1:  # toms high to low
        toms = (HIGH_TOM, HIGH_TOM, MID_TOM, MID_TOM, LOW_TOM, LOW_TOM, LOW_TOM, SNARE)
        for i, t in enumerate(toms):
            out.append(Note(top + 2 + i / 4, 0.25, t, _vel(80 + 4 * i, energy)))
    else:  # clap and snare on the off-beats with an open hat lift
        for i, t in enumerate((SNARE, CLAP, SNARE, SNARE, CLAP, SNARE)):
            out.append(Note(top + 2.5 + i / 4, 0.25, t, _vel(70 + 8 * i, energy)))
        out.append(Note(top + 3.5, 0.5, OPEN_HAT, _vel(90, energy)))
    return out


# --------------------------------------------------------------------------- bass


def _bass_pitch(ctx: Context, pc: int) -> int:
    o = ctx.genre.bass_octave
    return theory.nearest_pitch(pc, o + 0.5, low=o - 6, high=o + 7)


def bass(ctx: Context, rng: np.random.Generator) -> list[Note]:
    """A bass line that follows the harmony in the genre's style."""
    g, style = ctx.genre, ctx.genre.bass_style
    notes: list[Note] = []
    kick_steps = [i for i, c in enumerate(g.drums.get(KICK, "x...")) if c != "."] or [0]
    for idx, span in enumerate(ctx.chords):
        nxt = ctx.chords[(idx + 1) % len(ctx.chords)].chord
        root = _bass_pitch(ctx, span.chord.root)
        fifth = root + 7 if root + 7 <= g.bass_octave + 12 else root - 5
        bars = max(1, round(span.dur / BEATS_PER_BAR))
        for b in range(bars):
            top = span.start + b * BEATS_PER_BAR
            if top >= span.start + span.dur:
                break
            sec = section_at(ctx.sections, int(top // BEATS_PER_BAR))
            if "bass" not in sec.parts:
                continue
            length = min(BEATS_PER_BAR, span.dur)
            last = b == bars - 1

            def add(beat: float, dur: float, pitch: int, v: float, top: float = top,
                    length: float = length, sec: Section = sec) -> None:
                if beat < length:
                    notes.append(Note(top + beat, min(dur, length - beat), pitch, _vel(v, sec.energy)))

            if style == "offbeat":
                for beat in range(4):
                    p = root + 12 if (beat == 3 and rng.random() < 0.3) else root
                    add(beat + 0.5, 0.42, p, 104)
            elif style == "rumble":
                for beat in range(4):
                    for s in (1, 2, 3):
                        add(beat + s / 4, 0.2, root, (96, 70, 84)[s - 1])
            elif style == "lofi":
                add(0, 1.4, root, 100)
                add(1.5, 0.45, fifth if rng.random() < 0.6 else root + 12, 70)
                add(2, 1.4, root, 92)
                if last:
                    add(3.5, 0.45, _approach(ctx, root, nxt.root), 80)
                else:
                    add(3.5, 0.45, fifth, 72)
            elif style == "808":
                starts = [s / 4 for s in kick_steps]
                for j, st in enumerate(starts):
                    end = starts[j + 1] if j + 1 < len(starts) else 4.0
                    p = root + 12 if (j == len(starts) - 1 and rng.random() < 0.25) else root
                    add(st, end - st - 0.05, p, 112)
            elif style == "reese":
                add(0, 2.4, root, 108)
                add(2.5, 1.4, root if not last else _approach(ctx, root, nxt.root), 96)
            elif style == "pedal":
                if b == 0:
                    notes.append(Note(span.start, span.dur - 0.05, root, _vel(88, sec.energy)))
            elif style == "octaves":
                for e in range(8):
                    add(e / 2, 0.42, root + 12 if e % 2 else root, 100 if e % 2 == 0 else 86)
            elif style == "ballad":
                add(0, 1.9, root, 96)
                add(2, 1.4 if last else 1.9, fifth if rng.random() < 0.5 else root, 84)
                if last:
                    add(3.5, 0.45, _approach(ctx, root, nxt.root), 80)
            elif style == "follow_kick":
                for beat in range(4):
                    add(beat, 0.8, root, 106 if beat % 2 == 0 else 94)
                add(3.5, 0.35, fifth, 80)
            else:  # pragma: no cover - guarded by the genre table
                raise ValueError(f"unknown bass style {style!r}")
    return notes


def _approach(ctx: Context, root: int, next_pc: int) -> int:
    """A passing note into the next chord's root: the scale step below it."""
    target = _bass_pitch(ctx, next_pc)
    scale = set(ctx.key.scale_pcs())
    for d in (2, 1):
        if (target - d) % 12 in scale:
            return target - d
    return target - 1


# --------------------------------------------------------------------------- chords


def chords(ctx: Context, rng: np.random.Generator) -> list[Note]:
    """The progression, voice-led, in the genre's comping style."""
    style = ctx.genre.chords_style
    notes: list[Note] = []
    stab_bars = {"stabs": "..x..x....x..x..", "pluck": "x...x.x.x...x.x."}
    for span in ctx.chords:
        v = span.voicing
        bars = max(1, round(span.dur / BEATS_PER_BAR))
        if style == "pad":
            sec = section_at(ctx.sections, int(span.start // BEATS_PER_BAR))
            if "chords" in sec.parts:
                notes += [Note(span.start, span.dur - 0.02, p, _vel(84, sec.energy)) for p in v]
            continue
        for b in range(bars):
            top = span.start + b * BEATS_PER_BAR
            length = min(BEATS_PER_BAR, span.dur)
            sec = section_at(ctx.sections, int(top // BEATS_PER_BAR))
            if "chords" not in sec.parts:
                continue

            def hit(beat: float, dur: float, vel: float, spread: float = 0.0, top: float = top,
                    length: float = length, sec: Section = sec, v: tuple[int, ...] = v,
                    notes: list[Note] = notes) -> None:
                if beat >= length:
                    return
                for i, p in enumerate(v):
                    notes.append(Note(top + beat + i * spread, min(dur, length - beat), p,
                                      _vel(vel - 3 * i, sec.energy)))

            if style in stab_bars:
                pat = stab_bars[style]
                for s, c in enumerate(pat):
                    if c != ".":
                        hit(s / 4, 0.35 if style == "stabs" else 0.5, 100 if s % 4 else 110,
                            0.0 if style == "stabs" else 0.02)
            elif style == "stabs_sparse":
                if b % 2 == 0:
                    hit(0, 0.5, 96)
                    hit(3.5, 0.3, 84)
                else:
                    hit(1.5, 0.4, 88)
            elif style == "comp":
                hit(0, 1.8, 92, spread=0.03)
                hit(2, 1.3, 80, spread=0.025)
                if b % 2 == 1:
                    hit(3.5, 0.45, 64, spread=0.02)
            elif style == "broken":
                # Pedalled quarter-note arpeggio: bass of the voicing on the beat, the rest
                # rising through the bar, each note held to the end of its half bar.
                order = (0, 1, 2, 3)
                for e in range(int(length)):
                    p = v[order[e % 4] % len(v)]
                    half_end = 2.0 * (e // 2 + 1)
                    notes.append(Note(top + e, min(half_end, length) - e, p,
                                      _vel(88 if e % 2 == 0 else 74, sec.energy)))
            else:  # pragma: no cover
                raise ValueError(f"unknown chords style {style!r}")
    return notes


# --------------------------------------------------------------------------- lead


def _lead_scale(key: theory.Key, chord: theory.Chord) -> list[int]:
    """Scale pitch classes for a melody over ``chord``: harmonic minor over a major V."""
    pcs = key.scale_pcs()
    if key.mode == "minor" and chord.third == (key.tonic + 11) % 12:
        pcs = [(key.tonic + s) % 12 for s in theory.HARMONIC_MINOR]
    return pcs


def _snap(pitch: float, pcs: list[int], low: int, high: int) -> int:
    best = None
    for p in range(low, high + 1):
        if p % 12 in pcs and (best is None or abs(p - pitch) < abs(best - pitch)):
            best = p
    return int(best if best is not None else round(pitch))


def _motif(rng: np.random.Generator, *, grid: float, length: float, density: float
           ) -> list[tuple[float, float, int]]:
    """A rhythmic cell with a contour: ``(onset, dur, step)`` in beats and scale steps."""
    onsets = []
    n = round(length / grid)
    for i in range(n):
        t = i * grid
        strong = abs(t - round(t)) < 1e-9 and round(t) % 2 == 0
        p = 1.0 if i == 0 else min(1.0, density * (1.5 if strong else 1.0))
        if rng.random() < p:
            onsets.append(t)
    cell = []
    step = 0
    for j, t in enumerate(onsets):
        end = onsets[j + 1] if j + 1 < len(onsets) else length
        if j > 0:
            step += int(rng.choice([-2, -1, -1, 1, 1, 2, 0, 3, -3]))
            step = int(_clamp(step, -4, 5))
        cell.append((t, end - t, step))
    return cell


def lead(ctx: Context, rng: np.random.Generator) -> list[Note]:
    """A motif-based melody (or an arpeggio, for the arp styles) over the chords."""
    g, style = ctx.genre, ctx.genre.lead_style
    low, high = g.lead_range[0] + ctx.register_shift, g.lead_range[1] + ctx.register_shift
    if style in ("arp", "arp_slow"):
        return _arp(ctx, rng, low, high)
    grid = {"riff": 0.25, "bells": 0.25}.get(style, 0.5)
    legato = {"riff": 0.6, "bells": 0.5, "sparse": 0.95, "melody": 0.92}.get(style, 0.8)
    cell_bars = 2 if style in ("bells", "melody", "sparse") else 1
    density = g.lead_density * (0.7 if style == "sparse" else 1.0)
    notes: list[Note] = []
    centre = (low + high) / 2
    motifs: dict[str, list[tuple[float, float, int]]] = {}
    phrase = 4  # bars per phrase: motif, motif refit, variation, cadence
    for bar in range(0, ctx.bars, cell_bars):
        sec = section_at(ctx.sections, bar)
        if "lead" not in sec.parts:
            continue
        sec_key = "B" if sec.name == "B" else "A"
        if sec_key not in motifs:
            d = density * (1.25 if sec_key == "B" else 1.0)
            motifs[sec_key] = _motif(rng, grid=grid, length=cell_bars * BEATS_PER_BAR, density=d)
        cell = motifs[sec_key]
        pos = (bar - sec.start_bar) % phrase
        top = bar * BEATS_PER_BAR
        span0 = chord_at(ctx.chords, top)
        # Anchor: the chord tone nearest the middle of the register (higher in B sections).
        anchor_pc = span0.chord.pcs[[0, 1, 2][(bar // phrase) % 3]]
        anchor = theory.nearest_pitch(anchor_pc, centre + (3 if sec_key == "B" else 0), low=low, high=high)
        this = list(cell)
        if pos == 2 and len(this) > 2:  # variation: new ending on the same rhythm
            tail = [(t, d, s + int(rng.choice([-2, -1, 1, 2]))) for t, d, s in this[-2:]]
            this = this[:-2] + tail
        last_bar_of_phrase = pos + cell_bars >= phrase or bar + cell_bars >= ctx.bars
        if last_bar_of_phrase:  # cadence: first half of the cell, then a long chord tone
            half = cell_bars * BEATS_PER_BAR / 2
            this = [c for c in this if c[0] < half]
            this = [(t, min(d, half - t), s) for t, d, s in this]
            this.append((half, half - 0.1, 0))
        if sec.name == "breakdown":
            this = this[::2]
        pcs_scale = ctx.key.scale_pcs()
        prev = anchor
        for j, (t, d, s) in enumerate(this):
            beat = top + t
            if beat >= ctx.beats:
                break
            span = chord_at(ctx.chords, beat)
            scale = _lead_scale(ctx.key, span.chord)
            idx_pitch = _step_pitch(anchor, s, pcs_scale)
            strong = abs(t - round(t)) < 1e-9
            target = span.chord.pcs[:3] if (strong or j == len(this) - 1) else scale
            p = _snap(idx_pitch, target, low, high)
            if last_bar_of_phrase and j == len(this) - 1:
                p = _snap(prev, span.chord.pcs[:3], low, high)
            dur = max(0.1, min(d * legato, ctx.beats - beat))
            v = (100 if strong else 86) + (8 if sec_key == "B" else 0)
            notes.append(Note(beat, dur, p, _vel(v, sec.energy)))
            prev = p
    return notes


def _step_pitch(anchor: int, steps: int, scale_pcs: list[int]) -> int:
    """Move ``steps`` scale steps from ``anchor`` (which need not be in the scale)."""
    p = anchor
    direction = 1 if steps > 0 else -1
    for _ in range(abs(steps)):
        p += direction
        while p % 12 not in scale_pcs:
            p += direction
    return p


def _arp(ctx: Context, rng: np.random.Generator, low: int, high: int) -> list[Note]:
    """Arpeggios over the chord tones: a three-note cycle on sixteenths (a polymetric
    techno hook) or a rising quarter-note figure over two octaves (ambient)."""
    slow = ctx.genre.lead_style == "arp_slow"
    grid = 1.0 if slow else 0.25  # slow: quarters, so a slow tempo is not heard as double
    notes: list[Note] = []
    order = [0, 1, 2, 3, 4, 5, 4, 2] if slow else [0, 2, 1]
    if not slow and rng.random() < 0.5:
        order = [0, 1, 2, 1]
    steps = int(ctx.beats / grid)
    for i in range(steps):
        beat = i * grid
        sec = section_at(ctx.sections, int(beat // BEATS_PER_BAR))
        if "lead" not in sec.parts:
            continue
        span = chord_at(ctx.chords, beat)
        pcs = span.chord.pcs[:3]
        base = theory.nearest_pitch(pcs[0], low + 4, low=low, high=high)
        tones = sorted({_snap(base + (12 * (k // 3)) + ((pcs[k % 3] - pcs[0]) % 12), pcs, low, high + 12)
                        for k in range(6)})
        p = tones[order[i % len(order)] % len(tones)]
        accent = i % 4 == 0
        v = (92 if accent else 74) if not slow else (80 if accent else 64)
        notes.append(Note(beat, grid * (1.5 if slow else 0.55), p, _vel(v, sec.energy)))
    return notes


GENERATORS = {"drums": drums, "bass": bass, "chords": chords, "lead": lead}

VELOCITY_STEP = 4
"""Humanised velocities land on multiples of this (≈ 0.7 dB apart at forte, under the
jitter itself), so that the renderer meets the same note often and renders it once."""


# --------------------------------------------------------------------------- groove


def humanize(notes: list[Note], *, rng: np.random.Generator, swing: float, timing_ms: float,
             velocity_sd: float, bpm: float, total_beats: float, loop: bool) -> list[Note]:
    """Swing, then seeded timing and velocity humanisation.

    Swing moves every off-beat sixteenth to ``swing`` of the way through its eighth
    (0.5 straight, 2/3 triplet feel). Timing jitter is Gaussian with ``timing_ms``
    standard deviation, clipped at 2.5 σ; notes on the very first downbeat stay at 0 so
    the take starts on the beat. Durations keep their ends on the humanised grid.
    Velocities are rounded to :data:`VELOCITY_STEP` after the jitter.
    """
    sd_beats = timing_ms / 1000.0 * bpm / 60.0
    out = []
    for n in notes:
        start = n.start
        sixteenth = start * 4
        if swing != 0.5 and abs(sixteenth - round(sixteenth)) < 1e-6 and round(sixteenth) % 2 == 1:
            start += (swing - 0.5) * 0.5
        if n.start > 0:
            start += float(_clamp(rng.normal(0.0, sd_beats), -2.5 * sd_beats, 2.5 * sd_beats))
        start = max(0.0, start)
        if loop:
            start = min(start, total_beats - 1e-3)
        vel = n.vel + rng.normal(0.0, velocity_sd)
        vel = int(_clamp(VELOCITY_STEP * round(vel / VELOCITY_STEP), 1, 127))
        out.append(replace(n, start=start, vel=vel))
    return sorted(out, key=lambda n: (n.start, n.pitch, n.vel, n.dur))
