"""``songmint init``: a release spec from a folder of masters (:mod:`songmint.catalog`), or a
commented example spec.

``songmint init catalog.toml --from masters/ [--stems-dir DIR] [--csv meta.csv]`` writes one
``[[tracks]]`` table per audio file directly in ``masters/``; how masters, stems and metadata are
matched is in :mod:`songmint.catalog` and ``docs/catalog.md``.
"""

from __future__ import annotations

from pathlib import Path

import click

from music.audio import atomic_path
from songmint.catalog import (
    CSV_COLUMNS,
    plan_catalog,
    symbol_for,
    title_from_filename,
    toml_value,
    write_catalog_spec,
)
from songmint.errors import SongmintError
from songmint.vocabulary import deprecated_alias

__all__ = ["example_spec", "init", "symbol_for", "title_from_filename", "toml_value"]

EXAMPLE = """\
# A songmint release spec: one collection (an ERC-1155 contract) and its tracks (tokens).
# Release it:   songmint release {name} --network memory     (in-process chain, for a try)
#               songmint release {name}                      (a local anvil chain, started for you)
# Every key: docs/release-spec.md. From a folder of masters: songmint init catalog.toml --from masters/
spec_version = 1

[collection]
name = "My First EP"
symbol = "MYEP"                      # 1–11 letters/digits
description = "Sketches, composed and minted by songmint."
image = "generate"                   # the first track's cover, or a path to an image file
royalty_bps = 500                    # ERC-2981: 5 % to the releasing account (or royalty_receiver)
# external_link = "https://example.org"
# contract = "0x…"                  # attach to a SongmintEditions contract you administer

[defaults]                           # any track key except id/token_id/title/file/stems/isrc
artist = "Your Name"
license = "CC-BY-4.0"
editions = {{ cap = 100, initial = 10 }}   # recipient = "0x…" (default: the releasing account)

# A track the composer engine makes (no downloads, no GPU): same seed, same bytes.
[[tracks]]
id = "first-light"
title = "First Light"
genre = "synthwave"
credits = [{{ name = "Your Name", role = "producer" }}]
# isrc = "USAB12400001"
# stems_as_tokens = true            # each stem becomes a token of its own
[tracks.generate]
engine = "composer"                  # `songmint generate --help` lists the engines
prompt = "synthwave in A minor at 100 bpm, driving"
seed = 1
seconds = 12

# A track from your own files: a mix and, optionally, a folder of stems of the same length.
# Stems may be named as your DAW exports them ("01 Drums.wav" is the stem "drums").
# [[tracks]]
# title = "From the Studio"
# file = "mixes/from-the-studio.wav"
# stems = "mixes/from-the-studio-stems/"
# separate = true                   # instead of stems: HTDemucs separates the mix (models pull htdemucs)

[storage]
backend = "local"                    # local | kubo (url) | pinning (url + token_env)

[network]
name = "local"                       # memory | local | an https:// JSON-RPC URL with chain_id
"""


def example_spec(name: str = "release.toml") -> str:
    """The commented starting spec ``init --example`` writes (it validates as it is)."""
    return EXAMPLE.format(name=name)


# --------------------------------------------------------------------------- CLI


@click.command("init")
@click.argument("spec_path", metavar="SPEC", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--from",
    "masters",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of masters: one track per audio file in it (sub-folders: stems).",
)
@click.option(
    "--stems-dir",
    "stems_from",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where stems are: folders named like a master, or files named '<master> - <stem>'.",
)
@deprecated_alias("--stems-from", dest="stems_from", replacement="--stems-dir",
                  type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Metadata per master (columns: " + ", ".join(CSV_COLUMNS) + "); wins over embedded tags.",
)
@click.option("--example", is_flag=True, help="Write a commented example spec (stdout without SPEC).")
@click.option("--name", default=None, help="Collection name (default: the album tag, else the folder name).")
@click.option("--symbol", default=None, help="Collection symbol (default: from the name).")
@click.option("--artist", default=None, help="Artist of masters without an artist tag.")
@click.option("--cap", type=click.IntRange(min=1), default=100, show_default=True, help="Editions cap.")
@click.option("--initial", type=click.IntRange(min=0), default=1, show_default=True, help="Editions minted.")
@click.option("--force", is_flag=True, help="Replace an existing SPEC.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout (the spec written, its tracks).")
def init(
    spec_path: Path | None,
    masters: Path | None,
    stems_from: Path | None,
    csv_path: Path | None,
    example: bool,
    name: str | None,
    symbol: str | None,
    artist: str | None,
    cap: int,
    initial: int,
    force: bool,
    as_json: bool,
) -> None:
    """Start a release spec SPEC: from a folder of masters (--from), or an example (--example).

    With --from, each audio file in the folder becomes a track; titles, artists, ISRCs, genres,
    credits and prices come from a --csv row, else the file's tags, else its name. Stems are
    matched by folder or by name (docs/catalog.md). The spec is validated before it is written.
    """
    from songmint.console import output, print_json

    out = output()
    if example == (masters is not None):
        raise SongmintError("give one of --from FOLDER (a spec from masters) or --example")
    if example:
        text = example_spec(spec_path.name if spec_path else "release.toml")
        if spec_path is None:
            click.echo(text, nl=False)
            return
        if spec_path.exists() and not force:
            raise SongmintError(f"{spec_path} exists; choose another name or pass --force to replace it")
        with atomic_path(spec_path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        if as_json:
            print_json({"spec": str(spec_path), "example": True})
        else:
            out.info(f"wrote {spec_path}; next: songmint release {spec_path} --network memory")
        return
    assert masters is not None
    if spec_path is None:
        raise SongmintError("name the spec to write, e.g. songmint init catalog.toml --from masters/")
    if initial > cap:
        raise SongmintError(f"--initial {initial} is above --cap {cap}; mint at most the cap")
    if csv_path is not None and not csv_path.is_file():
        raise SongmintError(f"--csv {csv_path}: no such file")
    plan = plan_catalog(
        masters,
        stems_from=stems_from,
        csv_path=csv_path,
        name=name,
        symbol=symbol,
        artist=artist,
        cap=cap,
        initial=initial,
    )
    for w in plan.warnings:
        out.info(f"warning: {w}")
    write_catalog_spec(spec_path, plan, force=force)
    with_stems = sum(1 for p in plan.tracks if p.stems_dir or p.stem_files)
    if as_json:
        print_json({"spec": str(spec_path), "name": plan.name, "symbol": plan.symbol,
                    "tracks": len(plan.tracks), "with_stems": with_stems, "warnings": list(plan.warnings)})
        return
    out.info(
        f"wrote {spec_path}: {len(plan.tracks)} tracks ({with_stems} with stems) in "
        f"{plan.name!r} ({plan.symbol}); next: songmint release {spec_path}"
    )
