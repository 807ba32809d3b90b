"""``songmint release SPEC``: the command line of the release pipeline (:mod:`songmint.release.pipeline`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from songmint.console import output, print_json, short, wide_table
from songmint.release.options import COVER_SIZE, Options
from songmint.release.pipeline import run_release
from songmint.spec import load_spec


def summary_rows(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per token: id, title, key, BPM, editions minted/cap, metadata CID, last tx."""
    rows = []
    for t in manifest["tokens"]:
        rows.append(
            {
                "token id": t["id"],
                "title": t["title"],
                "key": t.get("key") or "–",
                "bpm": round(t["bpm"]) if t.get("bpm") else None,
                "editions": f"{t['minted'] if t.get('minted') is not None else t['initial']}/{t['cap']}",
                "metadata CID": short(t.get("metadata_cid"), 8, 4),
                "tx": short((t.get("txs") or [None])[-1], 8, 4),
            }
        )
    return rows


def _password_prompt(text: str) -> str:
    return click.prompt(text.rstrip(": "), hide_input=True, err=True)


@click.command("release")
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-n", "--network", default=None, help="memory | local | a JSON-RPC URL (overrides the spec's [network])."
)
@click.option(
    "--chain-id", type=int, default=None, help="Expected chain id of a URL network (checked first)."
)
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: out/<spec name> in the current folder).",
)
@click.option(
    "--dry-run", is_flag=True, help="Do everything up to the chain; print the transactions and gas."
)
@click.option(
    "--resume",
    is_flag=True,
    help="Resume an interrupted release (the default behaviour; kept "
    "for scripts: finished work is always skipped).",
)
@click.option("--yes", is_flag=True, help="Send transactions to a non-local network without asking.")
@click.option(
    "--keystore",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Encrypted key file of the sending account (password from $SONGMINT_KEYSTORE_PASSWORD, "
    "else asked on the terminal); else $SONGMINT_PRIVATE_KEY, or anvil's dev account.",
)
@click.option(
    "--cover-size",
    type=click.IntRange(256, 4096),
    default=COVER_SIZE,
    show_default=True,
    help="Cover side in pixels.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    envvar="SONGMINT_CACHE_DIR",
    help="Content-hash cache (default OUT/.cache; $SONGMINT_CACHE_DIR); share one across releases.",
)
@click.option("--no-preview", is_flag=True, help="Do not build the preview site.")
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where generate/traits/cover/encode run: local processes, or Ray (songmint[cluster]).",
)
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), default=None, help="Workers (default: this process)."
)
@click.option("--address", default=None, help="Ray cluster to join (auto, ray://host:10001).")
@click.option("--memory-mb", type=click.IntRange(min=256), default=None, help="Memory limit per worker.")
@click.option("--keep-going", is_flag=True, help="Finish the other tracks when one fails; then exit 2.")
@click.option(
    "--stems",
    is_flag=False,
    flag_value="all",
    metavar="NAMES",
    default=None,
    help="Stems for file tracks given without a stems folder, by HTDemucs separation "
    "(drums,bass,other,vocals); alone: all of them (they sum to the mix). A track with "
    "`separate = true` is separated without it, one with `separate = false` never; NAMES are "
    "the stems kept of every separated track.",
)
@click.option(
    "--model",
    metavar="NAME|PATH",
    default=None,
    help="Separation model of --stems and `separate = true` tracks (default htdemucs; fetch it once with "
    "`songmint models pull htdemucs`), a Hugging Face id in the cache, or a folder with NAME.yaml "
    "and its safetensors.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON on stdout.")
def release(
    spec_path: Path,
    network: str | None,
    chain_id: int | None,
    out: Path | None,
    dry_run: bool,
    resume: bool,
    yes: bool,
    keystore: Path | None,
    cover_size: int,
    cache_dir: Path | None,
    no_preview: bool,
    executor: str,
    jobs: int | None,
    address: str | None,
    memory_mb: int | None,
    keep_going: bool,
    stems: str | None,
    model: str | None,
    as_json: bool,
) -> None:
    """Release SPEC (a TOML catalog spec): generate, analyse, draw, encode, publish and mint.

    Re-running skips finished work (content-hash cache), and an interrupted release resumes
    from its journal without minting anything twice. With --stems (or a track's `separate = true`),
    file tracks given without a stems folder get stems by separation. See docs/release-spec.md.
    """
    o = output()
    spec = load_spec(spec_path)
    if model is not None and stems is None and not any(t.separate for t in spec.tracks):
        raise click.UsageError(
            "--model names the separation model of --stems or of `separate = true` tracks; give --stems too"
        )
    out = out or Path("out") / spec.path.stem
    manifest = run_release(
        spec,
        Options(
            out=out,
            network=network,
            chain_id=chain_id,
            dry_run=dry_run,
            yes=yes,
            keystore=keystore,
            cover_size=cover_size,
            cache_dir=cache_dir,
            build_preview=not no_preview,
            password_prompt=_password_prompt if sys.stdin.isatty() else None,
            executor=executor,
            jobs=jobs,
            address=address,
            memory_mb=memory_mb,
            keep_going=keep_going,
            stems=tuple(n.strip() for n in stems.split(",") if n.strip()) if stems is not None else None,
            model=model,
        ),
        log=o.info,
    )
    if as_json:
        print_json(manifest)
        return
    wide_table(
        f"{spec.collection.name} ({'dry run' if dry_run else manifest['chain'].get('network')})",
        summary_rows(manifest),
    )
    ch = manifest.get("chain") or {}
    if ch:
        o.info(f"contract {ch['contract']} on chain {ch['chain_id']}")
    o.info(f"root CID {manifest['root_cid']}; manifest {out / 'manifest.json'}")
    if not no_preview:
        o.info(f"preview: {(out / 'preview' / 'index.html').resolve().as_uri()}")
