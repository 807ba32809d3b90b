"""``songmint models``: fetch models into the Hugging Face cache, list what is here, convert checkpoints."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from music.engines.dd_checkpoints import locate_all
from music.engines.weights import KNOWN_MODELS, hf_cache_dir, known, models_dir, snapshot
from songmint.console import json_option, output, print_json, wide_table
from songmint.errors import SongmintError
from songmint.vocabulary import deprecated, deprecated_alias  # noqa: F401  (deprecated: re-exported)


def model_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--model`` (the one model option of every command), plus the old ``--checkpoint`` spelling,
    hidden and deprecated, folded into ``model``."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        f = deprecated_alias("--checkpoint", dest="model", replacement="--model")(f)
        return click.option("--model", metavar="NAME|PATH", help=help_text)(f)

    return decorate


def model_size_options(rate_help: str, size_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--sample-rate`` and ``--sample-size`` of a Dance Diffusion UNet (``train`` from scratch,
    ``models convert``): one declaration of their ranges for both commands."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        f = click.option("--sample-size", type=click.IntRange(min=64), help=size_help)(f)
        return click.option("--sample-rate", type=click.IntRange(8000, 96000), help=rate_help)(f)

    return decorate


MODEL_ENVS: dict[str, str] = {
    "musicgen": "SONGMINT_MUSICGEN_MODEL",
    "dance-diffusion": "SONGMINT_DD_CHECKPOINT",
    "stable-audio": "SONGMINT_STABLE_AUDIO",
}
"""Engines that load weights, and the environment variable that gives ``--model``'s default for
each (read here, at the CLI edge, and passed to the engine's constructor)."""


ENGINE_ENVS: dict[str, dict[str, str]] = {"composer": {"soundfont": "SONGMINT_SOUNDFONT"},
                                         "symbolic": {"soundfont": "SONGMINT_SOUNDFONT"}}
"""Constructor options each engine takes from the environment: ``{engine: {option: variable}}``."""


def engine_env_options(engine: str) -> dict[str, str]:
    """The constructor options of ``engine`` set in the environment (:data:`ENGINE_ENVS`): read here,
    at the CLI edge, and passed down."""
    return {k: os.environ[v] for k, v in ENGINE_ENVS.get(engine, {}).items() if os.environ.get(v)}


def engine_with_model(engine: str, model: str | None, **options: Any) -> Any:
    """The engine ``engine``, built with ``model`` (or its ``MODEL_ENVS`` variable) when given; an
    error for engines without weights."""
    from music.engines import get_engine

    if model is not None and engine not in MODEL_ENVS:
        raise SongmintError(f"--model applies to --engine {', '.join(MODEL_ENVS)}; {engine} needs no weights")
    model = model or (os.environ.get(MODEL_ENVS[engine]) or None if engine in MODEL_ENVS else None)
    if model is not None:
        options["model"] = model
    return get_engine(engine, **{**engine_env_options(engine), **options})


@click.group()
def models() -> None:
    """Fetch, list and convert model weights (engines only ever load from disk)."""


def _registry_rows() -> list[dict[str, Any]]:
    """One row per known model: repo id, licence, size, and whether (and where) it is on this machine."""
    from music.engines import stable_audio

    dd = {r["name"]: r for r in locate_all()}
    rows = []
    for m in KNOWN_MODELS.values():
        if m.engine == "dance-diffusion":
            r = dd.pop(m.name)
            found, path, looked = r["found"], r["path"], r["looked_in"]
            extra = {"sample_rate": r["sample_rate"], "sample_size": r["sample_size"], "format": r["format"]}
        elif m.engine == "stable-audio":
            locs = stable_audio.search_locations(m.name)
            hit = next((q for q in locs if stable_audio.is_pipeline(q)), None)
            found, path, looked = hit is not None, str(hit) if hit else None, [str(q) for q in locs]
            extra = {"sample_rate": 44_100, "sample_size": None, "format": "diffusers" if hit else None}
        else:
            hit = snapshot(m.repo)
            found, path = hit is not None, str(hit) if hit else None
            looked = [str(hit)] if hit else [str(hf_cache_dir() / ("models--" + m.repo.replace("/", "--")))]
            extra = {"sample_rate": None, "sample_size": None, "format": "hub" if hit else None}
        rows.append({"engine": m.engine, "name": m.name, "repo": m.repo, "licence": m.licence, "size": m.size,
                     "gated": m.gated, "description": m.description, "found": found, "path": path,
                     "looked_in": looked, "pull": f"songmint models pull {m.name}", **extra})
    # the producer's own Dance Diffusion models (trained or converted) in the models folder
    rows += [{"engine": "dance-diffusion", "licence": None, "size": None, "gated": False, "pull": None, **r}
             for r in dd.values()]
    return rows


@models.command("list")
@json_option
def list_(as_json: bool) -> None:
    """Known models (MusicGen, Stable Audio, Dance Diffusion, HTDemucs) with repo id, licence and size;
    found or not, where, and every place songmint looked."""
    rows = _registry_rows()
    if as_json:
        print_json({"models_dir": str(models_dir()), "hf_cache": str(hf_cache_dir()), "checkpoints": rows})
        return
    wide_table(
        "Models",
        [
            {
                "engine": r["engine"],
                "name": r["name"],
                "repo": r["repo"] or "-",
                "licence": (r["licence"] or "-") + (" (gated)" if r["gated"] else ""),
                "size": r["size"] or "-",
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
        out.info("none found; fetch one with `songmint models pull NAME` (a name above, or OWNER/REPO)")


@models.command("pull")
@click.argument("name")
@click.option("--revision", help="Branch, tag or commit to fetch (default: main); recorded and then used.")
@click.option("--hf-token", "token", envvar="HF_TOKEN", show_envvar=True,
              help="Hugging Face token, for gated or private repositories (never printed or stored).")
@deprecated_alias("--token", dest="token", replacement="--hf-token")
@click.option("--offline", is_flag=True, envvar="HF_HUB_OFFLINE", show_envvar=True,
              help="Use only the local cache; fail if the model is not there.")
@click.option("--endpoint", envvar="HF_ENDPOINT", show_envvar=True, hidden=True,
              help="Hub URL (a mirror).")
@json_option
def pull(name: str, revision: str | None, token: str | None, offline: bool, endpoint: str | None,
         as_json: bool) -> None:
    """Download model NAME (see `songmint models list`) or any repository OWNER/REPO into the Hugging Face
    cache, where every engine finds it. Resumes an interrupted download; checks every file's checksum."""
    from music.engines.weights import pull as pull_model

    out = output()
    entry = known(name)
    if entry is not None and not as_json:
        out.info(f"{entry.repo}: {entry.description}; licence {entry.licence}; {entry.size}")
    pulled = pull_model(name, revision=revision, token=token or None, offline=offline,
                        progress=not as_json and not out.quiet, endpoint=endpoint or None)
    report = {"name": pulled.name, "repo": pulled.repo, "revision": pulled.revision,
              "commit": pulled.commit, "path": str(pulled.path), "files": pulled.files,
              "bytes": pulled.bytes, "licence": pulled.licence}
    if as_json:
        print_json(report)
    else:
        out.info(f"{pulled.repo} at {pulled.commit[:12]} in {pulled.path} ({pulled.files} files, "
                 f"{pulled.bytes / 1e6:.1f} MB, checksums verified)")


@models.command("convert")
@click.argument("ckpt", type=click.Path(path_type=Path))
@click.argument("out_dir", metavar="OUT", type=click.Path(path_type=Path), required=False)
@model_size_options("Model rate (default: by file name, else 48000).",
                    "Model window in samples (default: by name, else 65536).")
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
    `--model NAME` then finds it.
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
