"""``songmint cover``: draw a track's cover from its audio or its traits JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cover_art.engines import style_names
from songmint.console import json_option, output, print_json
from songmint.errors import SongmintError

STYLE_CHOICES = style_names()
"""The registered cover styles (``cover_art.engines``)."""


def _load_traits_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SongmintError(f"cannot read traits from {path}: {exc}") from exc
    # Accept a bare traits object or one nested under "traits" (e.g. a take or release record).
    if isinstance(data, dict) and isinstance(data.get("traits"), dict):
        data = data["traits"]
    if not isinstance(data, dict) or "key" not in data:
        raise SongmintError(f"{path} is not a traits JSON object: it needs at least a 'key' "
                            "(e.g. 'F# minor')")
    return data


@click.command()
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--style", type=click.Choice(STYLE_CHOICES), default="flow", show_default=True,
              help="Procedural style, or 'diffusion' for the optional Stable Diffusion engine.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Variation: each seed gives another cover of the same track.")
@click.option("--size", type=click.IntRange(64, 8192), default=2048, show_default=True,
              help="Side of the square PNG in pixels (a 512 px thumbnail is written too).")
@click.option("--title", help="Set the title on the cover.")
@click.option("--artist", help="Set the artist on the cover.")
@click.option("--audio", "audio_path", type=click.Path(path_type=Path, dir_okay=False),
              help="With a traits JSON: the audio whose waveform, onsets and chroma make the motif.")
@click.option("--model", type=click.Path(path_type=Path, file_okay=False), envvar="SONGMINT_SD_MODEL",
              help="Local Stable Diffusion folder for --style diffusion (default: $SONGMINT_SD_MODEL).")
@click.option("-o", "--out", "out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Output PNG; the thumbnail goes beside it as <name>.thumb.png.")
@json_option
def cover(source: Path, style: str, seed: int, size: int, title: str | None, artist: str | None,
          audio_path: Path | None, model: Path | None, out: Path, as_json: bool) -> None:
    """Draw the cover of SOURCE: an audio file (traits are extracted) or a traits JSON.

    The picture is deterministic: the same traits, audio, style, seed and size give the same
    bytes. Its provenance is stored in the PNG (iTXt chunk "songmint:provenance").
    """
    from cover_art import render
    from music import audio as audio_io

    if out.suffix.lower() != ".png":
        raise SongmintError(f"--out must be a .png file, got {out}")
    audio_io.check_output_path(out)  # a folder, a place under a file, a name too long: one line, first
    if not source.is_file():
        raise SongmintError(f"{source} does not exist")
    out_ = output()
    audio = None
    if source.suffix.lower() == ".json":
        traits: Any = _load_traits_json(source)
        if audio_path is not None:
            audio = audio_io.load(audio_path)
    else:
        if audio_path is not None:
            raise SongmintError("--audio is only for a traits JSON source; SOURCE is already audio")
        from music.traits import extract

        audio = audio_io.load(source)
        out_.debug(f"extracting traits of {source}")
        traits = extract(audio)
    result = render(traits, audio, style=style, seed=seed, size=size, title=title, artist=artist, model=model)
    png, thumb = result.save(out)
    report = {"cover": str(png), "thumbnail": str(thumb), "sha256": result.sha256, "style": style,
              "seed": seed, "size": result.size, "palette": result.palette.to_dict(),
              "params": result.params.to_dict(), "audio_sha256": result.provenance.get("audio_sha256")}
    if as_json:
        print_json(report)
    else:
        out_.info(f"wrote {png} and {thumb} ({style}, seed {seed}, {result.palette.key.name})")
