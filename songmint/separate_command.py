"""``songmint separate``: stems for any audio file or take with HTDemucs (:mod:`music.separation`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from music.audio import Audio, load
from music.engines.base import Take
from music.takes import TAKE_FILE, read_take, read_take_json, slugify, write_take
from songmint.console import json_option, output, print_json
from songmint.errors import SongmintError


def separated_take(take: Take, *, model: str | None = None) -> Take:
    """``take`` with its stems from separation (:func:`music.separation.separate_take`), and where the
    model was loaded from (a local take: the path is the user's own)."""
    from music.separation import load_separator, separate_take

    sep = load_separator(model)
    result = separate_take(take, separator=sep)
    result.provenance["separation"]["path"] = str(sep.path)
    return result


def _source(source: Path) -> tuple[Take, str]:
    if source.is_dir():
        if not (source / TAKE_FILE).is_file():
            raise SongmintError(f"{source}: not a take folder (no take.json) and not an audio file")
        doc = read_take_json(source)
        take = read_take(source)
        return Take(mix=take.mix, midi=take.midi, provenance=take.provenance, bpm=take.bpm, key=take.key,
                    seed=take.seed), str(doc.get("title") or source.name)
    if not source.is_file():
        raise SongmintError(f"{source}: no such file or take folder")
    mix: Audio = load(source)
    return Take(mix=mix, provenance={"source": source.name}), slugify(source.stem)


@click.command("separate")
@click.argument("source", metavar="FILE|TAKE", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Take folder to write: the mix, one file per stem, take.json.")
@click.option("--model", metavar="NAME|PATH", help="Separation model (default htdemucs; fetch it once with "
              "`songmint models pull htdemucs`), or a folder with NAME.yaml and its safetensors.")
@click.option("--format", "fmt", type=click.Choice(["wav", "flac", "mp3"]), default="wav", show_default=True,
              help="Audio format of the take's files.")
@json_option
def separate(source: Path, out_dir: Path, model: str | None, fmt: str, as_json: bool) -> None:
    """Split FILE, or TAKE's mix, into drums, bass, other and vocals with Hybrid Transformer Demucs.

    The stems are sample-aligned with the mix and sum to it (what the model leaves out goes to
    "other"). A take keeps its tempo, key and MIDI.
    """
    take, title = _source(source)
    out = output()
    out.debug(f"separating {source} ({take.mix.duration:.2f} s)")
    result = separated_take(take, model=model)
    path = write_take(result, out_dir, title=title, fmt=fmt)
    doc: dict[str, Any] = read_take_json(path)
    if as_json:
        print_json(doc)
    else:
        out.info(f"wrote {out_dir}: {result.mix.duration:.1f} s, stems {', '.join(result.stems)}")
