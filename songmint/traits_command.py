"""``songmint traits``: musical traits of audio files (tempo, key, loudness, mood …)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import click

from songmint.console import json_option, output, print_json, print_table
from songmint.errors import SongmintError
from songmint.vocabulary import deprecated_alias

AUDIO_EXTENSIONS = {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".m4a",
                    ".aac", ".wma", ".webm"}
"""Extensions picked up when a folder is walked (explicit files are tried whatever their name)."""

SUMMARY_COLUMNS = {"file": "path", "bpm": "tempo_bpm", "key": "key", "camelot": "camelot",
                   "lufs": "loudness_lufs", "energy": "energy", "dance": "danceability", "mood": "mood"}
"""Column → trait of the several-files table (kept narrow enough for an 80-column terminal)."""


def collect(paths: tuple[Path, ...]) -> list[Path]:
    """Files to analyse: explicit files as given, folders walked recursively (sorted)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS
                          and not f.name.startswith("."))
        else:
            out.append(p)
    return out


def load_stems(folder: Path) -> dict[str, Any]:
    """Every audio file in ``folder`` (not recursive), named by its file name without extension."""
    from music.audio import load

    if not folder.is_dir():
        raise SongmintError(f"--stems-dir {folder}: not a folder")
    files = sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise SongmintError(f"--stems-dir {folder}: no audio files in it")
    return {f.stem: load(f) for f in files}


def analyse_file(path: str, stems_dir: str | None = None) -> tuple[str, dict[str, Any] | None, str | None]:
    """Traits of one file as ``(path, traits dict, None)``, or ``(path, None, error message)``.

    Runs in worker processes, so it returns plain data and never raises.
    """
    from music.audio import load
    from music.errors import MusicError
    from music.traits import extract

    try:
        stems = load_stems(Path(stems_dir)) if stems_dir else None
        traits = extract(load(path), stems=stems)
        return path, traits.to_dict(), None
    except (MusicError, SongmintError) as exc:
        return path, None, " ".join(str(exc).split())
    except Exception as exc:  # a bug on one file must not lose the others' results
        return path, None, f"internal error: {type(exc).__name__}: {' '.join(str(exc).split())}"


def _run(files: list[Path], stems: Path | None, jobs: int) -> Iterator[tuple[int, str, dict[str, Any] | None,
                                                                                 str | None]]:
    args = [(str(f), str(stems) if stems else None) for f in files]
    if jobs <= 1 or len(files) <= 1:
        for i, a in enumerate(args):
            yield (i, *analyse_file(*a))
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(analyse_file, *a): i for i, a in enumerate(args)}
        for fut in as_completed(futures):
            yield (futures[fut], *fut.result())


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--stems-dir", "stems_dir", type=click.Path(path_type=Path),
              help="Folder of stem files (one FILE only): each gets activity, loudness, energy, brightness.")
@deprecated_alias("--stems", dest="stems_dir", replacement="--stems-dir", type=click.Path(path_type=Path))
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Analyse this many files in parallel processes.")
@json_option
@click.pass_context
def traits(ctx: click.Context, files: tuple[Path, ...], stems_dir: Path | None, jobs: int,
           as_json: bool) -> None:
    """Tempo, key, loudness, timbre and mood of each FILE (folders are walked recursively).

    Prints a table, or with --json one JSON object for one file and a list for several.
    Files that cannot be read are reported on stderr and skipped; the exit status is then 2.
    Methods and units: docs/traits.md.
    """
    out = output()
    paths = collect(files)
    if not paths:
        raise SongmintError("no audio files found in " + ", ".join(str(f) for f in files))
    if stems_dir is not None and len(paths) != 1:
        raise SongmintError(f"--stems-dir goes with exactly one FILE, got {len(paths)} files")
    jobs = min(jobs, os.cpu_count() or 1, len(paths))
    results: list[dict[str, Any] | None] = [None] * len(paths)
    failures: list[tuple[str, str]] = []
    with out.progress() as bar:
        task = bar.add_task("traits", total=len(paths))
        for i, path, data, error in _run(paths, stems_dir, jobs):
            if error is not None:
                failures.append((path, error))
                # library messages about a file usually name it already
                click.echo(f"error: {error}" if path in error else f"error: {path}: {error}", err=True)
            else:
                results[i] = {"path": path, **(data or {})}
            bar.advance(task)
    done = [r for r in results if r is not None]
    if as_json:
        if done:
            print_json(done[0] if len(paths) == 1 else done)
    elif len(paths) == 1 and done:
        rows = [{"trait": k, "value": v} for k, v in done[0].items() if k != "stems"]
        rows += [{"trait": f"stem {name}: {k}", "value": v} for name, st in done[0]["stems"].items()
                 for k, v in st.items()]
        print_table(done[0]["path"], rows)
    elif done:
        rows = [{col: r[key] for col, key in SUMMARY_COLUMNS.items()} for r in done]
        for row in rows:
            row["file"] = Path(row["file"]).name
        print_table(None, rows)
    if failures:
        out.info(f"{len(failures)} of {len(paths)} files failed")
        ctx.exit(2)
