"""``songmint transcribe``: MIDI from audio with Basic Pitch (see :mod:`music.transcription`)."""

from __future__ import annotations

from pathlib import Path

import click

from music.audio import Audio, atomic_path, load
from music.takes import TAKE_FILE, read_take_json, slugify
from songmint.console import json_option, output, print_json
from songmint.errors import SongmintError


def measured_bpm(audio: Audio) -> float:
    """The tempo of ``audio`` as ``music.traits`` measures it (the one estimator everywhere)."""
    from music.traits import extract

    bpm = extract(audio).tempo_bpm
    if not bpm or bpm <= 0:
        raise SongmintError("no tempo could be measured; give --bpm")
    return float(bpm)


def source_parts(source: Path) -> tuple[dict[str, Audio], float | None, str]:
    """Stems (or the mix alone) of a take folder, or one audio file; the take's tempo if it has one;
    a title."""
    if source.is_dir():
        if not (source / TAKE_FILE).is_file():
            raise SongmintError(f"{source}: not a take folder (no take.json) and not an audio file")
        doc = read_take_json(source)
        stems = doc.get("stems") or {"mix": doc["mix"]}
        title = slugify(str(doc.get("title") or source.name))
        return {n: load(source / rel) for n, rel in sorted(stems.items())}, doc.get("bpm"), title
    if not source.is_file():
        raise SongmintError(f"{source}: no such file or take folder")
    return {slugify(source.stem): load(source)}, None, slugify(source.stem)


@click.command("transcribe")
@click.argument("source", metavar="FILE|TAKE", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Folder for the .mid files (one per pitched stem).")
@click.option("--bpm", type=click.FloatRange(20, 400), help="Tempo of the MIDI files (default: the take's, "
              "else measured).")
@json_option
def transcribe(source: Path, out_dir: Path, bpm: float | None, as_json: bool) -> None:
    """Transcribe FILE, or every pitched stem of TAKE, to standard MIDI files with Spotify's Basic Pitch.

    One .mid per stem (drums are skipped: they have no pitch), on the take's tempo so that the
    notes sit on its bars. Basic Pitch's ONNX model runs on the CPU at about 0.02 s per audio
    second.
    """
    from music.transcription import transcribe_stems

    out = output()
    parts, take_bpm, title = source_parts(source)
    tempo = bpm or take_bpm or measured_bpm(next(iter(parts.values())) if len(parts) == 1 else
                                            _mix(parts))
    midi, skipped = transcribe_stems(parts, bpm=float(tempo), title=title)
    if skipped:
        out.info(f"skipped {', '.join(skipped)}: no pitch to transcribe")
    if not midi:
        raise SongmintError(f"{source}: nothing pitched to transcribe")
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, data in midi.items():
        path = out_dir / f"{title}-{name}.mid"
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
        files[name] = str(path)
    if as_json:
        print_json({"bpm": float(tempo), "midi": files, "skipped": skipped})
    else:
        out.info(f"wrote {len(files)} MIDI file(s) to {out_dir} at {float(tempo):g} BPM: {', '.join(files)}")


def _mix(parts: dict[str, Audio]) -> Audio:
    import numpy as np

    first = next(iter(parts.values()))
    return first.with_samples(np.sum([p.samples for p in parts.values()], axis=0).astype(np.float32))
