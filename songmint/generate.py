"""``songmint generate``: make takes (mix, stems, MIDI, take.json) with any engine.

The command is engine-generic: every engine option that is given lands in
``Request.params`` under its own name (``--genre`` -> ``params["genre"]``), and any
engine-specific parameter can be passed as ``--param KEY=VALUE``. An engine that wants a
dedicated option adds one ``click.option`` to :data:`ENGINE_OPTIONS` (and its name to
:data:`PARAM_OPTIONS`); nothing else here changes.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from music.engines import ENGINES, Request, require
from music.engines.finish import finish_settings, finish_take
from music.takes import TAKE_FILE, read_take_json, slugify, write_take
from songmint.console import json_option, output, print_json
from songmint.errors import SongmintError
from songmint.models_commands import deprecated, engine_with_model, model_option

ENGINE_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--genre", help="Genre or alias (composer: house, techno, lofi, trap, dnb, ambient, "
                 "synthwave, ballad, reggaeton)."),
    click.option("--bpm", type=float, help="Tempo in BPM (overrides the prompt)."),
    click.option("--key", help="Key, e.g. 'F# minor' or 'Bb major' (overrides the prompt)."),
    click.option("--bars", type=click.IntRange(1, 512), help="Length in 4/4 bars (instead of --seconds)."),
    click.option("--style", help="Style of the symbolic engine (or of --melody-engine symbolic): chorale, "
                 "fiddle, folk, renaissance."),
    click.option("--stems", is_flag=False, flag_value="all",
                 help="Stems: the composer renders these parts (drums,bass,chords,lead); a neural engine's "
                      "mix is separated with HTDemucs (drums,bass,other,vocals). Alone: all of them."),
    click.option("--loop", is_flag=True, default=None, help="A seamless, bar-aligned loop."),
    click.option("--soundfont", type=click.Path(path_type=Path), help="SoundFont .sf2 (composer; default "
                 "FluidR3_GM)."),
    click.option("--lufs", type=float, help="Master loudness target in LUFS (default -14, every engine)."),
    click.option("--melody", type=click.Path(path_type=Path, dir_okay=False),
                 help="Audio whose melody (chroma) conditions a musicgen-melody checkpoint."),
    click.option("--melody-engine", type=click.Choice(["composer", "symbolic"]),
                 help="Who writes the composer's lead: its own motifs (default) or the symbolic transformer "
                      "(in the take's key, on its chords; --style picks the corpus style)."),
    # waveform diffusion (dance-diffusion, stable-audio); see docs/diffusion.md
    click.option("--steps", type=click.IntRange(min=1), help="Diffusion sampler steps."),
    click.option("--sampler", type=click.Choice(["ipndm", "ddim", "dpmpp-2m"]),
                 help="Dance Diffusion sampler (default dpmpp-2m)."),
    click.option("--variations", "n", type=click.IntRange(1, 64), help="Variations per take (diffusion)."),
    click.option("--init-audio", type=click.Path(path_type=Path, dir_okay=False),
                 help="Start from this audio (diffusion: vary, inpaint, extend, loop it)."),
    click.option("--strength", type=click.FloatRange(0, 1), help="How far to re-noise --init-audio (0..1)."),
    click.option("--inpaint", metavar="START:END", help="Regenerate this span in seconds, keep the rest."),
    click.option("--repaint", type=click.IntRange(1, 50), metavar="U",
                 help="RePaint resamplings per step for --inpaint/--extend/--loop (dance-diffusion; "
                      "U UNet calls per step; default 1 = off)."),
    click.option("--extend", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
                 help="Outpaint: grow the audio by SECONDS with seamless joins (dance-diffusion)."),
    click.option("--negative-prompt", help="What to steer away from (stable-audio)."),
]
"""Options that become ``Request.params`` entries (applied bottom-up, shown in this order)."""

PARAM_OPTIONS: tuple[str, ...] = ("genre", "bpm", "key", "bars", "style", "stems", "loop", "soundfont",
                                   "lufs", "melody", "melody_engine", "steps", "sampler", "n", "init_audio",
                                   "strength", "inpaint", "repaint", "extend", "negative_prompt")
"""Names of the click parameters collected into ``Request.params`` when given."""


def _engine_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed(ENGINE_OPTIONS):
        f = opt(f)
    return f


def check_take_out(out: Path) -> Path:
    """Refuse, before any work, a take folder ``--out`` that cannot become one: a file, a folder
    that holds something other than a take, a place under a file, or a name too long for the
    temporary sibling the take is assembled in."""
    if len(out.name.encode()) > 240:  # write_take assembles it in ".<name>.XXXXXXXX"
        raise SongmintError(f"--out {out.name[:40]}…: folder name is too long; choose a shorter one")
    if out.exists() and not out.is_dir():
        raise SongmintError(f"--out {out}: is a file; give a folder for the take")
    if out.is_dir() and any(out.iterdir()) and not (out / TAKE_FILE).exists():
        raise SongmintError(f"--out {out}: folder is not empty and holds no take; choose another --out")
    parent = next((p for p in out.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise SongmintError(f"--out {out}: {parent} is a file, not a folder")
    return out


def save_take(take: Any, folder: Path, *, title: str, fmt: str, number: int | None = None) -> Path:
    """:func:`music.takes.write_take`, with a file-system failure as one line."""
    try:
        return write_take(take, folder, title=title, fmt=fmt, number=number)
    except OSError as exc:
        raise SongmintError(f"--out {folder}: cannot write the take here ({exc.strerror or exc})") from exc


def parse_param(text: str) -> tuple[str, Any]:
    """``"steps=50"`` -> ``("steps", 50)``: values are JSON scalars when they parse, else text."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SongmintError(f"--param {text!r}: write it as KEY=VALUE")
    try:
        value: Any = json.loads(raw)
        if isinstance(value, dict | list):
            value = raw
    except json.JSONDecodeError:
        value = raw
    return key, value


def request_params(options: dict[str, Any], pairs: tuple[str, ...]) -> dict[str, Any]:
    """Engine parameters from the given options plus ``--param`` pairs.

    Raises
    ------
    SongmintError
        When a ``--param`` repeats a key already set by an option or another ``--param``.
    """
    params: dict[str, Any] = {}
    for name in PARAM_OPTIONS:
        value = options.get(name)
        if value is not None:
            params[name] = os.fspath(value) if isinstance(value, Path) else value
    for pair in pairs:
        key, value = parse_param(pair)
        if key in params:
            raise SongmintError(f"parameter {key!r} is given twice (an option and --param, or two --param)")
        params[key] = value
    return params


def model_from_params(params: dict[str, Any], model: str | None) -> str | None:
    """``--model``, or the old ``--param model=``/``--param checkpoint=`` spellings (taken out of
    ``params`` with a deprecation line)."""
    for old in ("model", "checkpoint"):
        if old in params:
            deprecated(f"--param {old}=", "--model")
            value = str(params.pop(old))
            if model is not None and value != model:
                raise SongmintError(f"--model and --param {old}= name different models; give --model only")
            model = value
    return model


@click.command("generate")
@click.argument("prompt", required=False)
@click.option("--engine", type=click.Choice(list(ENGINES)), default="composer", show_default=True,
              help="Generation engine.")
@_engine_options
@click.option("--seconds", type=click.FloatRange(min=0, min_open=True), help="Length in seconds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed; take i uses seed+i.")
@click.option("--count", type=click.IntRange(1, 999), default=1, show_default=True,
              help="Number of takes; with more than one they go to OUT/01, OUT/02, ... and each file name "
                   "carries the take number.")
@click.option("--format", "fmt", type=click.Choice(["wav", "flac", "mp3"]), default="wav",
              show_default=True, help="Audio format of mix and stems.")
@click.option("--param", "pairs", multiple=True, metavar="KEY=VALUE",
              help="Engine-specific parameter (repeatable), e.g. --param swing=0.6.")
@click.option("--midi", is_flag=True, help="Transcribe the take to MIDI, one .mid per pitched stem "
              "(neural engines; the composer always writes its MIDI).")
@click.option("--title", help="Title used in file names (default: from the prompt).")
@model_option("Model of a neural engine: a name from `songmint models list` (fetch it once with "
              "`songmint models pull NAME`), a Hugging Face id in the local cache, or a local folder/file.")
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Take folder to write.")
@json_option
def generate(prompt: str | None, engine: str, seconds: float | None, seed: int, count: int,
             fmt: str, pairs: tuple[str, ...], midi: bool, title: str | None, model: str | None,
             out_dir: Path, as_json: bool, **options: Any) -> None:
    """Generate music from PROMPT (or from a seed alone): a mastered mix, stems and MIDI.

    PROMPT is free text such as "dark techno in F minor at 128 bpm, driving"; tempo, key,
    genre, length and mood words are read from it. Explicit options win over the prompt,
    and the prompt over the genre's defaults. Each take folder holds the mix, one file per
    stem, a .mid per stem plus one with every part, and take.json (provenance included).
    """
    out = output()
    check_take_out(out_dir)
    params = request_params(options, pairs)
    model = model_from_params(params, model)
    eng = engine_with_model(engine, model)
    make = require(eng, "generate")
    finishing = finish_settings(eng, params, midi=midi)
    docs = []
    for i in range(count):
        take = make(Request(prompt=prompt, seconds=seconds, seed=seed + i, params=params))
        if finishing is not None:
            take = finish_take(take, finishing)
        name = title or take.provenance.get("title") or (slugify(prompt) if prompt else engine)
        folder = out_dir if count == 1 else out_dir / f"{i + 1:02d}"
        path = save_take(take, folder, title=str(name), fmt=fmt, number=None if count == 1 else i + 1)
        doc = read_take_json(path)
        docs.append({"path": str(folder), **doc})
        if not as_json:
            from music import loudness

            # Clips under one 400 ms gating block (one-shots) or silent ones have no loudness.
            lufs = loudness.integrated_loudness(take.mix)
            facts = [f"{take.bpm:g} BPM" if take.bpm else None, take.key,
                     f"{lufs:.1f} LUFS" if math.isfinite(lufs) else None,
                     f"stems {', '.join(take.stems)}" if take.stems else None]
            seconds = f"{take.mix.duration:.1f} s" if take.mix.duration >= 1 else f"{take.mix.duration:.3f} s"
            out.info(f"wrote {folder}: {', '.join([seconds, *(f for f in facts if f)])} (seed {seed + i})")
    if as_json:
        print_json(docs if count > 1 else docs[0])
