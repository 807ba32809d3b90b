"""The symbolic model's melody in the composer's genres (``generate --melody-engine symbolic``).

The composer keeps its form, progression, drums, bass, chords and production; the lead part
is sampled from the transformer instead of built from motifs. The model writes one voice in a
corpus style (``fiddle`` for the genres whose lead moves in sixteenths, ``folk`` for the
others), conditioned on the take's key and 4/4, for the take's bars, with sampling held
to the key and, on every beat, to the tones of the composer's chord sounding there (so the
model's line and the composer's harmony agree where the ear checks them); between beats any
note of the key may pass. The line is then fitted to the genre: moved by whole octaves so
its median sits in the middle of the genre's lead range (outliers folded in by octaves),
onsets snapped to the genre's lead grid (the earlier note wins a collision), notes kept only
where the form has the lead play, each held to its next onset (legato as the composer's),
velocities by metric weight and section energy. The composer then humanises it with the
other parts (one groove).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from music.engines.composer.arrangement import BEATS_PER_BAR, chord_at, section_at
from music.engines.composer.patterns import Context, Note
from music.engines.symbolic import tokens as tk
from music.errors import EngineError

ENGINES = ("composer", "symbolic")
"""Who writes the composer's lead: its own motifs or the symbolic model."""

FINE_GRID_STYLES = ("riff", "bells", "arp")
"""Composer lead styles on a sixteenth grid; the others move in eighths or slower."""


def default_style(lead_style: str) -> str:
    """The corpus style that suits a genre's lead style: fiddle tunes for sixteenth riffs, folk songs
    for the rest."""
    return "fiddle" if lead_style in FINE_GRID_STYLES else "folk"


def _grid(lead_style: str) -> float:
    return 0.25 if lead_style in FINE_GRID_STYLES else 0.5


def compose_lead(ctx: Context, *, seed: int, style: str | None = None, weights: str | None = None,
                 temperature: float = 0.9, top_p: float = 0.95) -> tuple[list[Note], dict[str, Any]]:
    """The lead of ``ctx`` from the symbolic model, and what to record of it.

    Parameters
    ----------
    ctx : Context
        The composer's take: genre, key, bars, form and chord timeline (beats).
    seed : int
        Sampling seed (the composer derives it from the take's seed).
    style : str, optional
        Corpus style (or alias) to condition on; default :func:`default_style` of the genre.
    weights : str, optional
        Another ``.safetensors`` from ``train-symbolic --export``.
    temperature, top_p : float
        Sampling.

    Returns
    -------
    notes : list of Note
        Un-humanised notes in beats from the top of the take.
    record : dict
        Engine, style, weights name and sha256, sampled tokens and notes, grid, constraint.
    """
    import torch

    from music.engines.symbolic.engine import STYLE_ALIASES, STYLE_DEFAULTS, VERSION, WEIGHTS, load_model
    from music.engines.symbolic.sampling import SamplingParams, generate

    g = ctx.genre
    name = str(style or default_style(g.lead_style)).strip().lower()
    name = STYLE_ALIASES.get(name, name)
    if name not in STYLE_DEFAULTS:
        raise EngineError(f"unknown style {style!r} for --melody-engine symbolic; choose one of "
                          f"{', '.join(tk.STYLES)}")
    model, card = load_model(weights)
    scale = set(ctx.key.scale_pcs())

    def onset_pcs(bar: int, pos: int) -> set[int]:
        tones = set(chord_at(ctx.chords, bar * BEATS_PER_BAR + pos / tk.GRID).chord.pcs[:3])
        return tones if pos % tk.GRID == 0 else tones | scale

    header = tk.Header(name, ctx.key.tonic, ctx.key.mode, "4/4", None, 1)
    torch.manual_seed(seed)
    toks = generate(model, header, bars=ctx.bars, seed=seed, onset_pcs=onset_pcs,
                    params=SamplingParams(temperature=temperature, top_p=top_p))
    _, events = tk.decode(toks)
    notes = fit_to_genre(events, ctx)
    record = {"engine": "symbolic", "engine_version": VERSION, "style": name,
              "weights": Path(weights).name if weights else WEIGHTS.name, "sha256": card["sha256"],
              "temperature": temperature, "top_p": top_p, "tokens": len(toks), "model_notes": len(events),
              "notes": len(notes), "grid_beats": _grid(g.lead_style),
              "constraint": "key; chord tones on every beat"}
    return notes, record


def fit_to_genre(events: list[tk.Event], ctx: Context) -> list[Note]:
    """The model's one-voice ``events`` (4/4 grid) as the genre's lead: register, grid, form, legato."""
    import numpy as np

    g = ctx.genre
    bar = tk.bar_steps("4/4")
    grid = _grid(g.lead_style)
    low, high = g.lead_range[0] + ctx.register_shift, g.lead_range[1] + ctx.register_shift
    top: dict[float, int] = {}  # onset (beats, on the grid) -> pitch; the highest note of an onset
    for e in sorted(events, key=lambda e: (e.bar * bar + e.pos, -e.pitch)):
        beat = round((e.bar * bar + e.pos) / tk.GRID / grid) * grid
        if beat < ctx.beats and beat not in top:
            top[beat] = e.pitch
    if not top:
        return []
    shift = 12 * round(((low + high) / 2 - float(np.median(list(top.values())))) / 12)
    onsets = sorted(top)
    legato = 0.92 if grid == 0.5 else 0.7
    notes = []
    for i, beat in enumerate(onsets):
        sec = section_at(ctx.sections, int(beat // BEATS_PER_BAR))
        if "lead" not in sec.parts:
            continue
        p = top[beat] + shift
        while p < low:
            p += 12
        while p > high:
            p -= 12
        nxt = onsets[i + 1] if i + 1 < len(onsets) else ctx.beats
        end = min(nxt, sec.end_bar * BEATS_PER_BAR, ctx.beats)
        strong = abs(beat - round(beat)) < 1e-9
        v = (100 if strong else 86) * (0.78 + 0.22 * sec.energy)
        notes.append(Note(beat, max(grid * 0.5, (end - beat) * legato), p, int(min(max(round(v), 1), 127))))
    return notes
