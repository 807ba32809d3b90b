"""``songmint traits``: musical traits of audio files (tempo, key, loudness, mood …)."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


def _analyse(args: tuple[str, str | None]) -> tuple[str, dict[str, Any] | None, str | None]:
    return analyse_file(*args)


def _run(files: list[Path], stems: Path | None, jobs: int, executor: str = "local",
         address: str | None = None) -> Iterator[tuple[int, str, dict[str, Any] | None, str | None]]:
    """Results in completion order, from ``songmint.executor`` (local processes or Ray)."""
    from songmint.executor import get_executor

    args = [(str(f), str(stems) if stems else None) for f in files]
    with get_executor(executor, workers=jobs if executor == "local" or address is None else None,
                      address=address) as ex:
        for o in ex.imap(_analyse, args, labels=[a[0] for a in args], keep_going=True):
            yield (o.index, *(o.value if o.ok else (args[o.index][0], None, o.error)))


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--stems-dir", "stems_dir", type=click.Path(path_type=Path),
              help="Folder of stem files (one FILE only): each gets activity, loudness, energy, brightness.")
@deprecated_alias("--stems", dest="stems_dir", replacement="--stems-dir", type=click.Path(path_type=Path))
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Analyse this many files in parallel (processes, or Ray workers).")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Where the analyses run: local processes, or Ray (pip install 'songmint[cluster]').")
@click.option("--address", default=None, help="Ray cluster to join (auto, ray://host:10001); "
              "default: a local Ray instance with --jobs CPUs.")
@json_option
@click.pass_context
def traits(ctx: click.Context, files: tuple[Path, ...], stems_dir: Path | None, jobs: int,
           executor: str, address: str | None, as_json: bool) -> None:
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
    jobs = min(jobs, len(paths)) if executor == "ray" else min(jobs, os.cpu_count() or 1, len(paths))
    results: list[dict[str, Any] | None] = [None] * len(paths)
    failures: list[tuple[str, str]] = []
    with out.progress() as bar:
        task = bar.add_task("traits", total=len(paths))
        for i, path, data, error in _run(paths, stems_dir, jobs, executor, address):
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
        from music.traits.table import TRAITS, display_value, unsure_text

        unsure = unsure_text(done[0])
        rows = [{"trait": k, "value": unsure["tempo"] if k == "tempo_bpm" else unsure["key"] if k == "key"
                 else display_value(k, v) if k in TRAITS else v}
                for k, v in done[0].items() if k != "stems"]
        rows += [{"trait": f"stem {name}: {k}", "value": v} for name, st in done[0]["stems"].items()
                 for k, v in st.items()]
        print_table(done[0]["path"], rows)
    elif done:
        from music.traits.table import round_value, unsure_text

        rows = [{col: round_value(key, r[key]) for col, key in SUMMARY_COLUMNS.items()} for r in done]
        for row, r in zip(rows, done, strict=True):
            row["file"] = Path(row["file"]).name
            row["bpm"] = "none" if r["tempo_bpm"] is None else row["bpm"]
            row["key"] = unsure_text(r)["key"]
        print_table(None, rows)
    if failures:
        if len(paths) > 1:  # one file: its error line is the whole report
            out.info(f"{len(failures)} of {len(paths)} files failed")
        ctx.exit(2)
