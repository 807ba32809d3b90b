"""``songmint models``: which diffusion checkpoints are on this machine, and converting old ones."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import click

from music.engines.dd_checkpoints import HOW_TO_PROVIDE, hf_cache_dir, locate_all, models_dir
from songmint.console import json_option, output, print_json, print_table
from songmint.errors import SongmintError


@click.group()
def models() -> None:
    """List and convert local diffusion model checkpoints (never downloads)."""


@models.command("list")
@json_option
def list_(as_json: bool) -> None:
    """Known checkpoints (Dance Diffusion, Stable Audio): found or not, and every place songmint looked."""
    from music.engines import stable_audio

    rows = [{"engine": "dance-diffusion", **r} for r in locate_all()]
    for name, repo in stable_audio.REPOS.items():
        locs = stable_audio.search_locations(name)
        hit = next((q for q in locs if stable_audio.is_pipeline(q)), None)
        rows.append(
            {
                "engine": "stable-audio",
                "name": name,
                "repo": repo,
                "sample_rate": 44_100,
                "sample_size": None,
                "description": "Stable Audio Open (text to audio)",
                "found": hit is not None,
                "path": str(hit) if hit else None,
                "format": "diffusers" if hit else None,
                "looked_in": [str(q) for q in locs],
            }
        )
    if as_json:
        print_json({"models_dir": str(models_dir()), "hf_cache": str(hf_cache_dir()), "checkpoints": rows})
        return
    print_table(
        "Diffusion checkpoints",
        [
            {
                "engine": r["engine"],
                "name": r["name"],
                "rate": r["sample_rate"],
                "window": r["sample_size"],
                "found": r["path"] or "no",
            }
            for r in rows
        ],
    )
    out = output()
    out.info(
        f"looked in songmint's models folder {models_dir()} (NAME or NAME.ckpt; set SONGMINT_MODELS_DIR "
        f"to change it) and the Hugging Face cache {hf_cache_dir()} (models--OWNER--NAME/snapshots/*)"
    )
    if not any(r["found"] for r in rows):
        out.info(f"none found; {HOW_TO_PROVIDE}")


@models.command("convert")
@click.argument("ckpt", type=click.Path(path_type=Path))
@click.argument("out_dir", metavar="OUT", type=click.Path(path_type=Path), required=False)
@click.option(
    "--sample-rate", type=click.IntRange(8000, 96000), help="Model rate (default: by file name, else 48000)."
)
@click.option(
    "--sample-size",
    type=click.IntRange(min=64),
    help="Model window in samples (default: by name, else 65536).",
)
@click.option(
    "--trust-pickle",
    is_flag=True,
    help="Allow a full unpickle of the .ckpt (only for files from a source you trust).",
)
@json_option
def convert(
    ckpt: Path,
    out_dir: Path | None,
    sample_rate: int | None,
    sample_size: int | None,
    trust_pickle: bool,
    as_json: bool,
) -> None:
    """Convert a sample-generator CKPT (EMA weights) into a diffusers folder OUT.

    OUT defaults to songmint's models folder under the checkpoint's name, where
    `--checkpoint NAME` then finds it.
    """
    from music.engines.dd_checkpoints import convert_ckpt
    from music.soundfont import sha256_file

    if not ckpt.is_file():
        raise SongmintError(f"{ckpt}: no such file")
    unet = convert_ckpt(ckpt, sample_rate=sample_rate, sample_size=sample_size, trust_pickle=trust_pickle)
    dest = out_dir or models_dir() / ckpt.stem
    if dest.exists() and any(dest.iterdir()) and not (dest / "config.json").is_file():
        raise SongmintError(f"{dest} exists and is not a model folder; choose another OUT")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        unet.save_pretrained(tmp)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report = {
        "source": str(ckpt),
        "source_sha256": sha256_file(ckpt),
        "out": str(dest),
        "sample_rate": unet.config.sample_rate,
        "sample_size": unet.config.sample_size,
        "parameters": sum(p.numel() for p in unet.parameters()),
    }
    if as_json:
        print_json(report)
    else:
        output().info(
            f"wrote {dest} ({report['parameters'] / 1e6:.1f} M parameters, "
            f"{report['sample_rate']} Hz, window {report['sample_size']})"
        )
