"""``songmint check SPEC``: every problem of a release spec in one pass, before any work."""

from __future__ import annotations

from pathlib import Path

import click

from songmint.console import json_option, output, print_json
from songmint.spec import load_spec


@click.command("check")
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def check(spec_path: Path, as_json: bool) -> None:
    """Check SPEC and every file it names: values, paths, readable audio, rates, channels, stem
    lengths against their mix, images, allowlists, splits.

    Prints every problem, one line each with file:line, key and fix, and exits with 2; nothing is
    written. `songmint release` runs the same check before it does anything.
    """
    spec = load_spec(spec_path)
    summary = {"spec": str(spec.path), "ok": True, "tracks": len(spec.tracks)}
    if as_json:
        print_json(summary)
    else:
        output().info(f"{spec.path.name}: ok ({len(spec.tracks)} tracks)")
