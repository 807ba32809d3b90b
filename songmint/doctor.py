"""``songmint doctor``: check the machine and say how to fix each missing piece."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

import click

from songmint.console import json_option, print_json, print_table


@dataclass(frozen=True)
class Check:
    """One doctor finding."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def _version_of(cmd: list[str]) -> str | None:
    exe = shutil.which(cmd[0]) if not os.path.isabs(cmd[0]) else cmd[0]
    if not exe or not os.path.exists(exe):
        return None
    try:
        proc = subprocess.run([exe, *cmd[1:]], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (proc.stdout or proc.stderr).strip().splitlines()
    return " ".join(text[0].split()[:3]) if text else "present"


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def run_checks() -> list[Check]:
    """Every check, cheapest first. Nothing here imports torch."""
    checks: list[Check] = []
    py_ok = sys.version_info >= (3, 11)
    checks.append(Check("python", py_ok, sys.version.split()[0], "use Python 3.11 or newer"))

    ff = _version_of(["ffmpeg", "-hide_banner", "-version"])
    checks.append(Check("ffmpeg", ff is not None, ff or "not found", "sudo apt-get install ffmpeg"))

    fs = _version_of(["fluidsynth", "--version"])
    checks.append(Check("fluidsynth", fs is not None, fs or "not found",
                        "sudo apt-get install fluidsynth libfluidsynth3", required=False))
    try:
        from music.soundfont import import_pyfluidsynth

        import_pyfluidsynth()
        lib_ok, lib_detail = True, f"pyfluidsynth {_dist_version('pyfluidsynth')}"
    except (ImportError, OSError) as exc:
        lib_ok, lib_detail = False, f"cannot load libfluidsynth ({exc})"
    checks.append(Check("libfluidsynth", lib_ok, lib_detail, "sudo apt-get install libfluidsynth3"))

    from music.errors import MusicError
    from music.soundfont import find_soundfont

    try:
        sf2 = find_soundfont(os.environ.get("SONGMINT_SOUNDFONT"))
        checks.append(Check("soundfont", True, str(sf2)))
    except MusicError as exc:
        checks.append(Check("soundfont", False, str(exc), "sudo apt-get install fluid-soundfont-gm"))

    for dist in ("numpy", "librosa", "soundfile", "web3", "eth-tester"):
        v = _dist_version(dist)
        checks.append(Check(dist, v is not None, v or "not installed", "make setup"))
    for dist in ("torch", "diffusers", "transformers", "accelerate", "safetensors"):
        v = _dist_version(dist)
        checks.append(Check(dist, v is not None, v or "not installed (neural engines off)",
                            "pip install torch==2.13.0 && pip install -e '.[ml]'", required=False))
    from music.transcription import HOW_TO_INSTALL

    # separation (`separate`, `--stems`) and transcription (`transcribe`, `--midi`)
    for dist, use, fix in (("demucs", "separation", "pip install -e '.[ml]'"),
                           ("onnxruntime", "transcription", HOW_TO_INSTALL),
                           ("basic-pitch", "transcription: its model file", HOW_TO_INSTALL)):
        v = _dist_version(dist)
        checks.append(Check(dist, v is not None, v or f"not installed ({use} off)", fix, required=False))

    from minting.errors import MintingError
    from minting.node_tools import find_bin, node_modules

    for tool, args in (("anvil", ["--version"]), ("forge", ["--version"]), ("solcjs", ["--version"])):
        try:
            exe = find_bin(tool)
            v = _version_of([str(exe), *args])
            checks.append(Check(tool, v is not None, v or f"{exe} does not run", "make setup",
                                required=tool == "anvil"))
        except MintingError as exc:
            checks.append(Check(tool, False, str(exc), "make setup", required=tool == "anvil"))
    oz = node_modules() / "@openzeppelin" / "contracts" / "package.json"
    checks.append(Check("openzeppelin", oz.exists(), str(oz.parent) if oz.exists() else "not installed",
                        "make setup", required=False))

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    checks.append(Check("chromium", chromium is not None, chromium or "not found",
                        "sudo apt-get install chromium (for the preview browser tests)", required=False))

    checks.append(_weights_check())
    return checks


def _weights_check() -> Check:
    """Model weights found in the local Hugging Face cache and songmint's model folder."""
    from music.engines.weights import hf_cache_dir, models_dir

    roots = [hf_cache_dir(), models_dir()]  # the locator's own two places
    found: list[str] = []
    for root in roots:
        if root.is_dir():
            found += sorted(p.name.removeprefix("models--").replace("--", "/")
                            for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    where = ", ".join(str(r) for r in roots)
    detail = f"{len(found)} found ({', '.join(found[:6])})" if found else f"none in {where}"
    return Check("model weights", bool(found), detail,
                 "optional: fetch one with `songmint models pull NAME` (names: `songmint models list`); "
                 "the composer, symbolic and units engines need none", required=False)


@click.command()
@json_option
def doctor(as_json: bool) -> None:
    """Check Python, ffmpeg, FluidSynth, the SoundFont, ML libraries, npm tools and weights.

    Exits 2 when something required is missing; each missing piece comes with its fix.
    """
    checks = run_checks()
    if as_json:
        print_json([c.__dict__ for c in checks])
    else:
        rows = [{"check": c.name, "status": "ok" if c.ok else ("MISSING" if c.required else "optional"),
                 "detail": c.detail, "fix": "" if c.ok else c.fix} for c in checks]
        print_table("songmint doctor", rows)
    missing = [c.name for c in checks if c.required and not c.ok]
    if missing:
        raise click.exceptions.Exit(2)
