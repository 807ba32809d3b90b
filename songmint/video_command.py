"""``songmint video``: an audio-reactive clip of a take or an audio file, drawn from its cover."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cover_art.engines import get_engine, style_names
from cover_art.video import CODECS, FORMATS, TREATMENTS
from songmint.console import json_option, output, print_json
from songmint.errors import SongmintError


def load_source(source: Path) -> tuple[Any, Path, dict[str, Any]]:
    """The mix, its file and the stems of SOURCE: a take folder, its take.json, or an audio file."""
    from music import audio as audio_io
    from music.takes import TAKE_FILE, read_take_json

    if not source.exists():
        raise SongmintError(f"{source} does not exist")
    if source.is_dir() or source.name == TAKE_FILE:
        folder = source if source.is_dir() else source.parent
        doc = read_take_json(folder)
        mix_path = folder / doc["mix"]
        stems = {name: audio_io.load(folder / rel) for name, rel in doc.get("stems", {}).items()}
        return audio_io.load(mix_path), mix_path, stems
    return audio_io.load(source), source, {}


def cover_defaults(cover: Path | None) -> dict[str, Any]:
    """Style and seed recorded in a songmint cover's provenance (empty for any other image)."""
    if cover is None:
        return {}
    from cover_art import read_provenance

    if not cover.is_file():
        raise SongmintError(f"--cover {cover} does not exist")
    try:
        prov = read_provenance(cover.read_bytes()) or {}
    except Exception:  # any PNG or JPEG is welcome; only a songmint cover carries provenance
        prov = {}
    return {k: prov[k] for k in ("style", "seed") if k in prov}


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--cover", "cover_path", type=click.Path(path_type=Path, dir_okay=False),
              help="The still to animate (default: the cover drawn from the traits, style and seed).")
@click.option("--style", type=click.Choice(style_names()),
              help="Cover style: palette, motif and figures (default: the --cover's, else flow).")
@click.option("--seed", type=click.IntRange(min=0), help="Cover seed (default: the --cover's, else 0).")
@click.option("--treatment", type=click.Choice(TREATMENTS), default="pulse", show_default=True,
              help="pulse: the cover breathes with the music; orbit: the style's figures move around it.")
@click.option("--size", "size_text", default="1080x1080", show_default=True,
              help=f"WIDTHxHEIGHT (even) or one of {', '.join(FORMATS)} (1080x1080, 1080x1920).")
@click.option("--fps", type=click.FloatRange(1, 120), default=30.0, show_default=True, help="Frame rate.")
@click.option("--loop", is_flag=True, help="Make the last frame lead into the first.")
@click.option("--codec", type=click.Choice(CODECS),
              help="h264 (MP4, AAC) or vp9 (WebM, Opus); default from --out's suffix.")
@click.option("--crf", type=click.IntRange(0, 63), help="Constant quality (default 23 H.264, 34 VP9).")
@click.option("--preset", default="superfast", show_default=True, help="libx264 preset.")
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Encoder threads (fixed, so the bytes do not depend on the machine).")
@click.option("-o", "--out", "out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Output .mp4 (H.264 + AAC, +faststart) or .webm.")
@json_option
def video(source: Path, cover_path: Path | None, style: str | None, seed: int | None, treatment: str,
          size_text: str, fps: float, loop: bool, codec: str | None, crf: int | None, preset: str,
          threads: int, out: Path, as_json: bool) -> None:
    """Render an audio-reactive clip of SOURCE (a take folder or an audio file).

    The frames come from the same parameters as the cover (palette, motif, style, seed) and move
    with the music: beats and downbeats, onsets, loudness, spectral bands, chord changes and, in a
    take folder, its stems (drums and bass drive different elements). Frames are streamed to
    ffmpeg, never written to disk; the same inputs give the same frames.
    """
    from cover_art.video import Encoding, parse_size, render_video
    from cover_art.video.clip import SUFFIX_CODEC
    from music.traits import extract

    size = parse_size(size_text)
    suffix_codec = SUFFIX_CODEC.get(out.suffix.lower())
    if suffix_codec is None:
        raise SongmintError(f"--out must end in {', '.join(SUFFIX_CODEC)}, got {out.name}")
    defaults = cover_defaults(cover_path)
    style = style or defaults.get("style") or "flow"
    seed = seed if seed is not None else int(defaults.get("seed", 0))
    if cover_path is None and "model" in get_engine(style).options:
        raise SongmintError(f"--style {style} draws with a model: make the cover with `songmint cover "
                            f"--style {style}` and pass it with --cover")
    encoding = Encoding(codec=codec or suffix_codec, crf=crf, preset=preset, threads=threads)
    mix, mix_path, stems = load_source(source)
    out_ = output()
    out_.debug(f"extracting traits of {mix_path}")
    traits = extract(mix)
    meter = int(str(traits.time_signature).split("/")[0]) if traits.time_signature else 4
    result = render_video(out, traits=traits, audio=mix, audio_path=mix_path, stems=stems, beats=traits.beats,
                          meter=meter, cover=cover_path, style=style, seed=seed, size=size, fps=fps,
                          treatment=treatment, loop=loop, encoding=encoding, hash_frames=as_json)
    speed = result.n_frames / result.fps / max(result.timings["total_s"], 1e-9)
    report = {"video": str(result.path), "sha256": result.sha256, "frames_sha256": result.frames_sha256,
              "frames": result.n_frames, "fps": result.fps, "size": f"{result.width}x{result.height}",
              "treatment": treatment, "style": style, "seed": seed, "loop": loop, "stems": sorted(stems),
              "speed_x_realtime": round(speed, 2), "provenance": result.provenance}
    if as_json:
        print_json(report)
    else:
        out_.info(f"wrote {result.path} ({result.width}x{result.height}, {result.n_frames} frames at "
                  f"{result.fps:g} fps, {treatment}/{style}, {speed:.1f}x real time)")
