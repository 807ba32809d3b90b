"""Model weights: the registry of known models, the one locator, and ``pull`` (the only download).

Engines load weights from disk only; nothing is fetched implicitly. A user fetches a model once with
``songmint models pull NAME`` (:func:`pull`), which downloads it into the Hugging Face cache with
``huggingface_hub`` (resumable, revision pinned and recorded), and every engine then finds it there
(:func:`snapshot`). Every missing-model error names that command (:func:`pull_hint`).

Locations, in order: songmint's models folder (:func:`models_dir`, for converted or trained models),
then the Hugging Face cache (:func:`hf_cache_dir`): the snapshot recorded by the last ``pull`` of that
repository, else the newest snapshot.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from music.errors import ModelNotFoundError

__all__ = [
    "KNOWN_MODELS",
    "MODELS_DIR_ENV",
    "KnownModel",
    "Pulled",
    "hf_cache_dir",
    "known",
    "models_dir",
    "pull",
    "pull_hint",
    "snapshot",
    "snapshots",
    "verify_snapshot",
]


@dataclass(frozen=True)
class KnownModel:
    """A published model songmint knows by name.

    Attributes
    ----------
    name : str
        Short name (``musicgen-small``), accepted wherever a model is asked for.
    repo : str
        Hugging Face repository id.
    engine : str
        The engine (or stage, ``separate``) that uses it.
    licence : str
        The weights' licence, as the model card states it.
    size : str
        Approximate download size.
    gated : bool
        The repository asks you to accept its licence on huggingface.co first.
    description : str
    files : tuple of str or None
        ``allow_patterns`` for the download (``None``: the whole repository).
    """

    name: str
    repo: str
    engine: str
    licence: str
    size: str
    gated: bool = False
    description: str = ""
    files: tuple[str, ...] | None = None


_DD_FILES = ("*.json", "unet/*.json", "unet/*.safetensors", "*.ckpt")
_SAO_FILES = ("model_index.json", "transformer/*", "vae/*", "text_encoder/*", "tokenizer/*",
              "projection_model/*", "scheduler/*")
_MG_FILES = ("*.json", "*.safetensors", "spiece.model")

KNOWN_MODELS: dict[str, KnownModel] = {
    m.name: m
    for m in (
        KnownModel("musicgen-small", "facebook/musicgen-small", "musicgen", "CC-BY-NC-4.0", "≈2.4 GB",
                   description="MusicGen 300M, text to music", files=_MG_FILES),
        KnownModel("musicgen-medium", "facebook/musicgen-medium", "musicgen", "CC-BY-NC-4.0", "≈8 GB",
                   description="MusicGen 1.5B, text to music", files=_MG_FILES),
        KnownModel("musicgen-melody", "facebook/musicgen-melody", "musicgen", "CC-BY-NC-4.0", "≈6 GB",
                   description="MusicGen 1.5B, text + melody (chroma)", files=_MG_FILES),
        KnownModel("stable-audio-open-1.0", "stabilityai/stable-audio-open-1.0", "stable-audio",
                   "Stability AI Community License", "≈5 GB", gated=True,
                   description="Stable Audio Open, text to audio, 44.1 kHz stereo", files=_SAO_FILES),
        KnownModel("maestro-150k", "harmonai/maestro-150k", "dance-diffusion", "see model card", "≈0.9 GB",
                   description="solo piano (MAESTRO), 16 kHz", files=_DD_FILES),
        KnownModel("glitch-440k", "harmonai/glitch-440k", "dance-diffusion", "see model card", "≈0.9 GB",
                   description="glitch / IDM textures, 48 kHz", files=_DD_FILES),
        KnownModel("jmann-small-190k", "harmonai/jmann-small-190k", "dance-diffusion", "see model card",
                   "≈0.9 GB", description="Jonathan Mann songs, small window, 48 kHz", files=_DD_FILES),
        KnownModel("jmann-large-580k", "harmonai/jmann-large-580k", "dance-diffusion", "see model card",
                   "≈0.9 GB", description="Jonathan Mann songs, large window, 48 kHz", files=_DD_FILES),
        KnownModel("unlocked-250k", "harmonai/unlocked-250k", "dance-diffusion", "see model card",
                   "≈0.9 GB", description="Unlocked Recordings sound library, 16 kHz", files=_DD_FILES),
        KnownModel("honk-140k", "harmonai/honk-140k", "dance-diffusion", "see model card", "≈0.9 GB",
                   description="Canada goose honks, 16 kHz", files=_DD_FILES),
        KnownModel("htdemucs", "adefossez/HTDemucs", "separate", "MIT", "≈170 MB",
                   description="Hybrid Transformer Demucs v4: drums, bass, other, vocals",
                   files=("*.yaml", "*.safetensors")),
    )
}
"""Every model ``songmint models pull NAME`` knows by name (any other repo id works too)."""

PINS_FILE = "pulled.json"
"""In :func:`models_dir`: ``{repo: {"revision": asked, "commit": sha}}`` of every pull."""


MODELS_DIR_ENV = "SONGMINT_MODELS_DIR"
"""The variable that moves songmint's models folder (read by :func:`models_dir` only)."""


def models_dir(*, env: Mapping[str, str] | None = None) -> Path:
    """songmint's own models folder: ``$SONGMINT_MODELS_DIR`` or ``<user data>/songmint/models``.

    Parameters
    ----------
    env : mapping, optional
        The environment to read (default ``os.environ``). This and :func:`hf_cache_dir` are the
        only places the weights' locations are read: every engine's locator calls them when it
        loads, so they stay here rather than being threaded through each engine's constructor
        (``--model PATH`` bypasses them).
    """
    value = (os.environ if env is None else env).get(MODELS_DIR_ENV)
    if value:
        return Path(value).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("songmint")) / "models"


def hf_cache_dir(*, env: Mapping[str, str] | None = None) -> Path:
    """Local Hugging Face hub cache: ``$HF_HUB_CACHE``, ``$HF_HOME/hub`` or ``~/.cache/huggingface/hub``.

    The Hugging Face convention (``huggingface_hub.constants.HF_HUB_CACHE``), resolved in this one
    function for the engines, ``pull``, ``songmint models`` and ``doctor``; ``env`` as in
    :func:`models_dir`.
    """
    env = os.environ if env is None else env
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    return Path("~/.cache/huggingface/hub").expanduser()


def known(spec: str) -> KnownModel | None:
    """The registry entry for a short name or a repository id, if any."""
    if spec in KNOWN_MODELS:
        return KNOWN_MODELS[spec]
    return next((m for m in KNOWN_MODELS.values() if m.repo.lower() == spec.lower()), None)


def is_repo_id(text: str) -> bool:
    """``owner/name`` as the hub spells repository ids (no path of ours looks like one unless it exists)."""
    return re.fullmatch(r"[\w.-]+/[\w.-]+", text) is not None


def pull_hint(spec: str) -> str:
    """The exact command that fetches ``spec`` (a short name or a repo id)."""
    entry = known(spec)
    return f"`songmint models pull {entry.name if entry else spec}`"


def _repo_folder(repo: str) -> Path:
    return hf_cache_dir() / ("models--" + repo.replace("/", "--"))


def _pins() -> dict[str, Any]:
    path = models_dir() / PINS_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def snapshots(repo: str) -> list[Path]:
    """Snapshot folders of ``repo`` in the cache: the pulled (pinned) commit first, then newest first."""
    snaps = _repo_folder(repo) / "snapshots"
    if not snaps.is_dir():
        return []
    found = sorted((q for q in snaps.iterdir() if q.is_dir()), key=lambda q: q.stat().st_mtime, reverse=True)
    pin = _pins().get(repo, {}).get("commit")
    if pin:
        found.sort(key=lambda q: q.name != pin)
    return found


def snapshot(repo: str, *, check: Callable[[Path], bool] | None = None) -> Path | None:
    """The snapshot folder engines load ``repo`` from (first one passing ``check``), or ``None``."""
    return next((q for q in snapshots(repo) if check is None or check(q)), None)


# --------------------------------------------------------------------------- pulling


@dataclass(frozen=True)
class Pulled:
    """What :func:`pull` fetched: repository, asked revision, resolved commit, folder, bytes, files."""

    name: str
    repo: str
    revision: str | None
    commit: str
    path: Path
    files: int
    bytes: int
    licence: str | None


def _git_blob_sha1(path: Path) -> str:
    h = hashlib.sha1(usedforsecurity=False)
    h.update(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_snapshot(folder: Path) -> tuple[int, int]:
    """Check every file of a cached snapshot against the hash it is stored under.

    The cache names each blob by its ETag: the sha256 of a Git LFS file (64 hex digits) or the
    Git blob sha1 of a small file (40). A blob whose bytes do not match is deleted, with its link,
    so that the next pull fetches it again.

    Returns
    -------
    (files, bytes)

    Raises
    ------
    ModelNotFoundError
        Naming the first file whose checksum does not match.
    """
    files = size = 0
    for link in sorted(folder.rglob("*")):
        if link.is_dir():
            continue
        blob = link.resolve()
        want = blob.name
        if re.fullmatch(r"[0-9a-f]{64}", want):
            got = _sha256(blob)
        elif re.fullmatch(r"[0-9a-f]{40}", want):
            got = _git_blob_sha1(blob)
        else:
            got = want
        if got != want:
            blob.unlink(missing_ok=True)
            link.unlink(missing_ok=True)
            raise ModelNotFoundError(
                f"{link.relative_to(folder)}: checksum mismatch (got {got[:12]}…, the hub says "
                f"{want[:12]}…); the file was deleted, pull again"
            )
        files += 1
        size += blob.stat().st_size
    return files, size


def _record_pin(repo: str, revision: str | None, commit: str) -> None:
    from music.audio import atomic_path

    base = models_dir()
    base.mkdir(parents=True, exist_ok=True)
    pins = _pins()
    pins[repo] = {"revision": revision, "commit": commit}
    with atomic_path(base / PINS_FILE) as tmp:
        Path(tmp).write_text(json.dumps(pins, indent=2, sort_keys=True) + "\n")


def pull(spec: str, *, revision: str | None = None, token: str | None = None, offline: bool = False,
         progress: bool = True, endpoint: str | None = None) -> Pulled:
    """Download a model into the Hugging Face cache (the only place songmint downloads weights).

    Parameters
    ----------
    spec : str
        A :data:`KNOWN_MODELS` name or any ``owner/name`` repository id.
    revision : str, optional
        Branch, tag or commit; default the repository's main branch. The resolved commit is recorded
        (``pulled.json`` in :func:`models_dir`) and engines load that snapshot.
    token : str, optional
        Hugging Face token (the CLI passes ``$HF_TOKEN``), for gated or private repositories.
    offline : bool
        ``HF_HUB_OFFLINE``: use only what is cached; fail if it is not there.
    progress : bool
        Show huggingface_hub's progress bars.
    endpoint : str, optional
        Hub URL (the CLI passes ``$HF_ENDPOINT``); default huggingface_hub's.

    Raises
    ------
    ModelNotFoundError
        One line: gated (how to get access), unknown repository or revision, offline and not cached,
        network failure, or a checksum mismatch.
    """
    entry = known(spec)
    if entry is None and not is_repo_id(spec):
        raise ModelNotFoundError(
            f"{spec!r} is neither a known model ({', '.join(KNOWN_MODELS)}) nor a repository id OWNER/NAME"
        )
    repo = entry.repo if entry else spec
    from huggingface_hub import errors, snapshot_download
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    (enable_progress_bars if progress else disable_progress_bars)()
    kwargs: dict[str, Any] = {"revision": revision, "cache_dir": hf_cache_dir(), "token": token or False}
    if entry is not None and entry.files is not None:
        kwargs["allow_patterns"] = list(entry.files)
    if endpoint:
        kwargs["endpoint"] = endpoint
    where = f"{repo}" + (f"@{revision}" if revision else "")
    try:
        folder = Path(snapshot_download(repo, local_files_only=offline, **kwargs))
    except errors.GatedRepoError as exc:
        raise ModelNotFoundError(
            f"{repo} is gated: accept its licence at https://huggingface.co/{repo} with your account, "
            "then set HF_TOKEN to a token of that account and pull again"
        ) from exc
    except errors.RevisionNotFoundError as exc:
        raise ModelNotFoundError(f"{repo} has no revision {revision!r}") from exc
    except errors.RepositoryNotFoundError as exc:
        raise ModelNotFoundError(
            f"no repository {repo} on the hub (or it is private: set HF_TOKEN)"
        ) from exc
    except errors.LocalEntryNotFoundError as exc:
        if offline:
            raise ModelNotFoundError(
                f"HF_HUB_OFFLINE is set and {where} is not in the cache {hf_cache_dir()}; "
                "unset HF_HUB_OFFLINE to download it"
            ) from exc
        raise ModelNotFoundError(f"cannot download {where}: {' '.join(str(exc).split())[:200]}") from exc
    except (errors.HfHubHTTPError, OSError, ValueError) as exc:
        raise ModelNotFoundError(f"cannot download {where}: {' '.join(str(exc).split())[:200]}") from exc
    files, size = verify_snapshot(folder)
    commit = folder.name
    _record_pin(repo, revision, commit)
    return Pulled(entry.name if entry else repo, repo, revision, commit, folder, files, size,
                  entry.licence if entry else None)
