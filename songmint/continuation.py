"""``songmint continue``: extend a piece of music with the ``units`` or ``musicgen`` engine (audio), or
the ``symbolic`` engine (a MIDI file or a take's MIDI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from music.audio import Audio, audio_files, load
from music.engines import Request, Take, require
from music.engines.finish import Finish, finish_take
from music.takes import TAKE_FILE, read_take_json, slugify
from songmint.console import json_option, output, print_json
from songmint.errors import SongmintError
from songmint.generate import check_take_out, save_take
from songmint.models_commands import engine_with_model
from songmint.vocabulary import deprecated, deprecated_alias

CONTINUE_ENGINES = ("units", "musicgen", "symbolic")
MIDI_SUFFIXES = (".mid", ".midi", ".smf")


def symbolic_source(path: Path) -> tuple[bytes, dict[str, Any]]:
    """The MIDI bytes to continue with the symbolic engine and the parameters its take implies.

    ``path`` is a Standard MIDI File, a take folder (or its ``take.json``) with an ``all`` MIDI
    (else its only one); a symbolic take also gives its style, metre and
    number of parts.

    Raises
    ------
    SongmintError
        For a missing path, a folder that is no take, or a take without MIDI.
    """
    if not path.exists():
        raise SongmintError(f"{path}: no such file or folder")
    if path.is_dir() or path.name == TAKE_FILE:
        folder = path if path.is_dir() else path.parent
        doc = read_take_json(folder)
        midi = doc.get("midi") or {}
        rel = midi.get("all") or (next(iter(midi.values())) if len(midi) == 1 else None)
        if rel is None:
            raise SongmintError(f"{folder}: the take has no MIDI to continue (an 'all' .mid in take.json)")
        data = (folder / rel).read_bytes()
        prov = doc.get("provenance") or {}
        implied: dict[str, Any] = {}
        if prov.get("engine") == "symbolic":
            for name in ("style", "meter", "voices"):
                if (prov.get("params") or {}).get(name) is not None:
                    implied[name] = prov["params"][name]
        return data, implied
    if path.suffix.lower() not in MIDI_SUFFIXES:
        raise SongmintError(f"{path}: --engine symbolic continues a MIDI file (.mid) or a take folder, "
                            "not audio")
    return path.read_bytes(), {}


def load_stems(folder: Path, *, exclude: Path | None = None) -> dict[str, Audio]:
    """Stems from ``folder``: the ``stems`` of its ``take.json`` if it is a take, else every audio file
    in it (named by file stem), leaving out ``exclude`` (the mix itself)."""
    if not folder.is_dir():
        raise SongmintError(f"--stems-dir {folder}: not a folder")
    if (folder / TAKE_FILE).is_file():
        doc = read_take_json(folder)
        files = {name: folder / rel for name, rel in sorted(doc.get("stems", {}).items())}
    else:
        skip = exclude.resolve() if exclude is not None else None
        files = {p.stem: p for p in audio_files(folder) if p.resolve() != skip}
    if not files:
        raise SongmintError(f"--stems-dir {folder}: no stems found (audio files or a take.json with stems)")
    return {name: load(path) for name, path in files.items()}


def _names(text: str | None) -> tuple[str, ...] | None:
    """``"drums,bass"`` -> ``("drums", "bass")``; None stays None."""
    return None if text is None else tuple(n.strip() for n in text.split(",") if n.strip())


@click.command("continue")
@click.argument("audio_path", metavar="AUDIO|MIDI", type=click.Path(path_type=Path))
@click.option("--seconds", type=click.FloatRange(min=0, min_open=True),
              help="Length of the continuation in seconds (required, except with --engine symbolic).")
@click.option("--bars", type=click.IntRange(1, 256),
              help="Length of the continuation in bars of the piece's metre (symbolic; default 8).")
@click.option("--engine", type=click.Choice(CONTINUE_ENGINES), default="units", show_default=True,
              help="units: offline unit language model (no weights); musicgen: local MusicGen weights; "
                   "symbolic: the shipped music transformer continues a MIDI file or a take's MIDI.")
@click.option("--style", help="Style the symbolic engine continues in: chorale, fiddle, folk, renaissance "
              "(default: a symbolic take's own, else chorale for several parts and folk for one).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Take folder to write.")
@click.option("--stems-dir", "stems_dir", type=click.Path(path_type=Path),
              help="Folder of stems aligned with AUDIO (or a take folder): continue each one (units).")
@click.option("--corpus", type=click.Path(path_type=Path),
              help="Folder of your tracks to train the unit language model on as well (units).")
@click.option("--temperature", type=click.FloatRange(min=0), help="Sampling temperature.")
@click.option("--order", type=click.IntRange(1, 64), help="Longest Markov context in beats (units).")
@click.option("--model", metavar="NAME|PATH",
              help="MusicGen model (musicgen): a name such as musicgen-small (fetch it once with `songmint "
                   "models pull musicgen-small`), a Hugging Face id in the local cache, or a local folder.")
@click.option("--text", help="Text description that steers the continuation (musicgen).")
@click.option("--top-k", type=click.IntRange(min=0), help="Top-k sampling (musicgen).")
@click.option("--top-p", type=click.FloatRange(0, 1), help="Nucleus sampling (musicgen, symbolic).")
@click.option("--cfg", "guidance_scale", type=click.FloatRange(min=1),
              help="Classifier-free guidance scale (musicgen).")
@click.option("--int8", is_flag=True, default=None,
              help="Dynamic int8 decoder weights: ~2.7x less CPU per token (musicgen).")
@click.option("--lufs", type=float, default=-14.0, show_default=True, help="Master loudness target in LUFS.")
@click.option("--bpm", type=float, help="Conform the result to this tempo (time stretch; symbolic: the "
              "tempo the piece is played at).")
@click.option("--key", help="Conform the result to this key (pitch shift), e.g. 'F# minor' (symbolic: the "
              "key the continuation keeps to; default the MIDI's key signature, else its estimated key).")
@click.option("--loop", is_flag=True, help="Cut the result to whole bars with a seamless seam.")
@click.option("--stems", "separate_stems", is_flag=False, flag_value="all", metavar="NAMES",
              help="Stems of the result by HTDemucs separation (drums,bass,other,vocals); alone: all.")
@deprecated_alias("--separate", dest="separate_stems", replacement="--stems", is_flag=True, flag_value="all")
@click.option("--midi", is_flag=True, help="Transcribe the result to MIDI, one .mid per pitched stem.")
@click.option("--title", help="Title used in file names (default: AUDIO's name + '-continued').")
@click.option("--format", "fmt", type=click.Choice(["wav", "flac", "mp3"]), default="wav", show_default=True,
              help="Audio format of the take's files.")
@json_option
def continue_(audio_path: Path, seconds: float | None, bars: int | None, engine: str, style: str | None,
              seed: int, out_dir: Path, stems_dir: Path | None, corpus: Path | None,
              temperature: float | None, order: int | None, model: str | None, text: str | None,
              top_k: int | None, top_p: float | None, guidance_scale: float | None, int8: bool | None,
              lufs: float, bpm: float | None, key: str | None, loop: bool, separate_stems: str | None,
              midi: bool, title: str | None, fmt: str, as_json: bool) -> None:
    """Continue AUDIO by --seconds and write a take: the full piece as the mix, the continuation alone
    as the extra "continuation", and the provenance in take.json.

    The units engine (default) cuts AUDIO at its beats, learns a Markov model of its beat units (and of
    --corpus), samples a new unit path and splices the beats with phase-aligned crossfades; it needs at
    least 8 s of music with a beat. The musicgen engine continues AUDIO with a local MusicGen model.
    The symbolic engine continues a MIDI file (or a take folder's MIDI) by --bars (or --seconds) with
    the shipped transformer and renders prompt and continuation like a symbolic take (stems, MIDI,
    mastered mix).
    """
    if separate_stems is not None and separate_stems != "all" and Path(separate_stems).is_dir():
        # the old meaning of --stems (a folder of input stems), for one release
        deprecated("--stems DIR", "--stems-dir DIR")
        stems_dir, separate_stems = Path(separate_stems), None
    per_engine: dict[str, dict[str, Any]] = {
        "units": {"corpus": corpus, "order": order, "stems_dir": stems_dir},
        "musicgen": {"model": model, "text": text, "top_k": top_k, "cfg": guidance_scale, "int8": int8},
        "symbolic": {"bars": bars, "style": style},
    }
    for other, opts in per_engine.items():
        if other != engine:
            given = [k for k, v in opts.items() if v is not None]
            if given:
                flags = ", ".join("--" + k.replace("_", "-") for k in given)
                raise SongmintError(f"{flags} applies to --engine {other}, not {engine}")
    if engine == "symbolic":
        return _continue_symbolic(audio_path, seconds=seconds, bars=bars, style=style, seed=seed,
                                  out_dir=out_dir, temperature=temperature, top_p=top_p, lufs=lufs, bpm=bpm,
                                  key=key,
                                  finishing={"--loop": loop, "--stems": separate_stems, "--midi": midi},
                                  title=title, fmt=fmt, as_json=as_json)
    if top_p is not None and engine != "musicgen":
        raise SongmintError(f"--top-p applies to --engine musicgen or symbolic, not {engine}")
    if seconds is None:
        raise SongmintError(f"--seconds is required with --engine {engine} (the length of the continuation)")
    params: dict[str, Any] = {}
    if temperature is not None:
        params["temperature"] = temperature
    if engine == "units":
        if corpus is not None:
            params["corpus"] = str(corpus)
        if order is not None:
            params["order"] = order
    else:
        for name, value in (("top_k", top_k), ("top_p", top_p),
                           ("guidance_scale", guidance_scale)):
            if value is not None:
                params[name] = value
        if int8:
            params["quantize"] = "int8"
    out = output()
    check_take_out(out_dir)
    prompt = load(audio_path)
    stems = load_stems(stems_dir, exclude=audio_path) if stems_dir is not None else None
    eng = engine_with_model(engine, model)
    method = require(eng, "continue_")
    finishing = Finish(lufs=lufs, bpm=bpm, key=key, loop=loop, stems=_names(separate_stems), midi=midi)
    finishing.require_models()  # missing HTDemucs or Basic Pitch stop us before the engine runs
    request = Request(prompt=text, seconds=seconds, seed=seed, params=params)
    out.debug(f"continuing {audio_path} ({prompt.duration:.2f} s) by {seconds:g} s with {engine}")
    take = method(prompt, request, stems=stems) if stems is not None else method(prompt, request)
    take = finish_take(take, finishing)
    name = title or f"{slugify(audio_path.stem)}-continued"
    _write(take, out_dir, name=name, fmt=fmt, as_json=as_json, detail=f"{engine}, seed {seed}")


def _write(take: Take, out_dir: Path, *, name: str, fmt: str, as_json: bool, detail: str) -> None:
    """Save a continuation and report it: its take.json with ``--json``, else one line (the length
    added, then ``detail``)."""
    path = save_take(take, out_dir, title=name, fmt=fmt)
    if as_json:
        print_json(read_take_json(path))
        return
    cont = take.extras.get("continuation")
    added = f"+{cont.duration:.2f} s" if cont is not None else ""
    output().info(f"wrote {path} ({take.mix.duration:.2f} s, {added}, {detail})")


def _continue_symbolic(source: Path, *, seconds: float | None, bars: int | None, style: str | None, seed: int,
                       out_dir: Path, temperature: float | None, top_p: float | None, lufs: float,
                       bpm: float | None, key: str | None, finishing: dict[str, Any], title: str | None,
                       fmt: str, as_json: bool) -> None:
    """``continue --engine symbolic``: :meth:`SymbolicEngine.continue_midi` on SOURCE's MIDI."""
    given = [flag for flag, value in finishing.items() if value]
    if given:
        raise SongmintError(f"{', '.join(given)} does not apply to --engine symbolic: its take has its own "
                            "stems and MIDI")
    if seconds is not None and bars is not None:
        raise SongmintError("give --bars or --seconds, not both")
    out = output()
    check_take_out(out_dir)
    data, params = symbolic_source(source)
    for name, value in (("style", style), ("bars", bars), ("temperature", temperature), ("top_p", top_p),
                        ("bpm", bpm), ("key", key), ("lufs", lufs)):
        if value is not None:
            params[name] = value
    eng = engine_with_model("symbolic", None)
    method = require(eng, "continue_midi")
    request = Request(seconds=seconds, seed=seed, params=params)
    out.debug(f"continuing {source} with symbolic ({bars or seconds or 8} {'s' if seconds else 'bars'})")
    take = method(data, request)
    name = title or f"{slugify(source.stem if source.name != TAKE_FILE else source.parent.name)}-continued"
    _write(take, out_dir, name=name, fmt=fmt, as_json=as_json,
           detail=f"symbolic, {take.provenance['continued']['new_bars']} bars in {take.key}, seed {seed}")
