"""Stems for any audio: source separation with Hybrid Transformer Demucs [1]_ (``demucs`` 4.1, MIT).

Weights load from disk only: ``songmint models pull htdemucs`` puts Meta's published model
(``adefossez/HTDemucs``: a ``htdemucs.yaml`` bag definition and one safetensors file per model,
the class and its arguments in the file's metadata) into the Hugging Face cache, and
:func:`load_separator` reads it there (or from any folder of the same layout) through demucs' own
loader (``demucs.hf.load_safetensors_model``).

:func:`separate` returns stems that are sample-aligned with the input (same rate, channels and
length) and sum to it: the model's four sources (drums, bass, other, vocals) are normalised as
demucs' CLI does (the mono mix's mean and standard deviation), split into overlapping segments,
resampled back to the input's rate, and whatever the model leaves out (the residual) is added to
``other``. Drums and bass are named like the composer's stems.

References
----------
.. [1] S. Rouard, F. Massa, A. Défossez, "Hybrid Transformers for Music Source Separation",
   ICASSP 2023.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from music.audio import Audio, conform, resample
from music.engines import weights
from music.engines.base import Take
from music.errors import EngineError, ModelNotFoundError

__all__ = ["DEFAULT_MODEL", "Located", "Separator", "load_separator", "locate_separator", "separate",
           "separate_take"]

DEFAULT_MODEL = "htdemucs"
RESIDUAL_STEM = "other"


@dataclass(frozen=True)
class Separator:
    """A loaded separation model: the demucs bag, its sources, rate and channels, where it came from."""

    model: Any
    name: str
    path: Path
    weights_sha256: str
    sources: tuple[str, ...]
    sample_rate: int
    channels: int
    repo: str | None = None  # the hub repository, when loaded from the Hugging Face cache
    commit: str | None = None  # its snapshot's commit

    def record(self) -> dict[str, Any]:
        """Provenance of a separation: model, repository, commit, weights sha256, sources (no local path)."""
        return {"model": self.name, "repo": self.repo, "commit": self.commit,
                "weights_sha256": self.weights_sha256, "sources": list(self.sources),
                "residual_in": RESIDUAL_STEM if RESIDUAL_STEM in self.sources else self.sources[-1]}


def _bag_file(folder: Path, name: str) -> Path | None:
    for cand in (folder / f"{name}.yaml", *sorted(folder.glob("*.yaml"))):
        if cand.is_file():
            return cand
    return None


@dataclass(frozen=True)
class Located:
    """Where a separation model's files are, found without loading it (:func:`locate_separator`)."""

    name: str
    folder: Path
    bag: Path
    files: tuple[Path, ...]
    repo: str | None = None
    commit: str | None = None

    def record(self) -> dict[str, Any]:
        """What provenance and cache keys say of the model: name, repository, commit, weights sha256.

        No local path: the record is published with a release's metadata.
        """
        from music.hashing import weights_sha256

        return {"model": self.name, "repo": self.repo, "commit": self.commit,
                "weights_sha256": weights_sha256(self.folder) or ""}


def locate_separator(spec: str | os.PathLike[str] | None = None) -> Located:
    """Find a demucs bag (``NAME.yaml`` and the ``*.safetensors`` it names) without loading it.

    Parameters
    ----------
    spec : str or path-like, optional
        A folder, or a registry name / repository id in the Hugging Face cache (default ``htdemucs``).

    Raises
    ------
    ModelNotFoundError
        Naming the pull command when the weights are not here, or the file a bag lacks.
    """
    text = os.fspath(spec or DEFAULT_MODEL)
    p = Path(text).expanduser()
    name = DEFAULT_MODEL
    repo = commit = None
    if p.is_dir():
        folder = p
    else:
        entry = weights.known(text)
        if entry is None and not weights.is_repo_id(text):
            raise ModelNotFoundError(f"no separation model folder at {p} (want NAME.yaml + *.safetensors)")
        repo = entry.repo if entry else text
        found = weights.snapshot(repo, check=lambda q: _bag_file(q, name) is not None)
        if found is None:
            raise ModelNotFoundError(
                f"separation model {text!r} is not in the Hugging Face cache {weights.hf_cache_dir()}; "
                f"fetch it once with {weights.pull_hint(text)}")
        folder, commit = found, found.name  # a snapshot folder is named by its commit
    bag_path = _bag_file(folder, name)
    if bag_path is None:
        raise ModelNotFoundError(f"{folder} has no demucs bag file (NAME.yaml)")
    try:
        import yaml  # demucs' own dependency (the `ml` extra)
    except ModuleNotFoundError as exc:
        raise ModelNotFoundError(f"separation needs {exc.name}: pip install -e '.[ml]'") from exc
    try:
        bag = yaml.safe_load(bag_path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ModelNotFoundError(f"{bag_path}: not a demucs bag file ({' '.join(str(exc).split())[:120]})"
                                 ) from exc
    sigs = bag.get("models", []) if isinstance(bag, dict) else []
    files = tuple(folder / f"{sig}.safetensors" for sig in sigs)
    missing = [f.name for f in files if not f.is_file()]
    if not files or missing:
        raise ModelNotFoundError(f"{folder}: the bag {bag_path.name} names missing weights "
                                 f"{', '.join(missing) or '(none listed)'}")
    return Located(bag_path.stem, folder, bag_path, files, repo, commit)


def load_separator(spec: str | os.PathLike[str] | Located | None = None) -> Separator:
    """Load HTDemucs (or another demucs bag) from a folder or the Hugging Face cache.

    Parameters
    ----------
    spec : str, path-like or Located, optional
        A folder holding ``NAME.yaml`` and its ``*.safetensors``, or a registry name / repository id
        (default ``htdemucs``, pulled with ``songmint models pull htdemucs``), or what
        :func:`locate_separator` found.

    Raises
    ------
    ModelNotFoundError
        Naming the pull command when the weights are not here.
    """
    where = spec if isinstance(spec, Located) else locate_separator(spec)
    try:
        import yaml
        from demucs.apply import BagOfModels
        from demucs.hf import load_safetensors_model
    except ModuleNotFoundError as exc:
        raise ModelNotFoundError(f"separation needs {exc.name}: pip install -e '.[ml]'") from exc
    bag = yaml.safe_load(where.bag.read_text())
    try:
        models = [load_safetensors_model(f) for f in where.files]
    except Exception as exc:  # a file that is not a demucs model
        raise ModelNotFoundError(f"{where.folder}: cannot load a demucs model "
                                 f"({' '.join(str(exc).split())[:160]})") from exc
    model = BagOfModels(models, bag.get("weights"), bag.get("segment")).eval()
    from music.hashing import weights_sha256

    return Separator(model, where.name, where.folder, weights_sha256(where.folder) or "",
                     tuple(model.sources), int(model.samplerate), int(model.audio_channels),
                     where.repo, where.commit)


def separate(audio: Audio, *, separator: Separator, overlap: float = 0.25, shifts: int = 0,
             segment: float | None = None) -> dict[str, Audio]:
    """Split ``audio`` into the separator's sources.

    Parameters
    ----------
    audio : Audio
        Any rate and channel count.
    separator : Separator
        From :func:`load_separator`.
    overlap : float
        Overlap of the model's segments (demucs' 0.25).
    shifts : int
        Random-shift averaging passes (0: one deterministic pass).
    segment : float, optional
        Segment length in seconds (default: the model's).

    Returns
    -------
    dict of str to Audio
        One stem per source, each ``audio.sr`` Hz, ``audio.channels`` channels and ``audio.n``
        samples; ``sum(stems) == audio`` to float rounding (the residual is in ``other``).
    """
    import torch
    from demucs.apply import apply_model

    if audio.n == 0:
        raise EngineError("cannot separate empty audio")
    x = conform(audio, sr=separator.sample_rate, channels=separator.channels).samples.astype(np.float32)
    wav = torch.from_numpy(np.ascontiguousarray(x))
    ref = wav.mean(0)
    mean, std = ref.mean(), ref.std().clamp_min(1e-8)
    with torch.inference_mode():
        out = apply_model(separator.model, ((wav - mean) / std)[None], shifts=shifts, split=True,
                          overlap=overlap, progress=False, device="cpu", segment=segment)[0]
    out = (out * std + mean).numpy()
    stems: dict[str, np.ndarray] = {}
    for i, name in enumerate(separator.sources):
        s = Audio(np.ascontiguousarray(out[i]), separator.sample_rate)
        s = conform(resample(s, audio.sr), channels=audio.channels)
        y = np.zeros((audio.channels, audio.n), np.float32)
        k = min(audio.n, s.n)
        y[:, :k] = s.samples[:, :k]
        stems[name] = y
    residual_name = RESIDUAL_STEM if RESIDUAL_STEM in stems else separator.sources[-1]
    others = sum(v.astype(np.float64) for n, v in stems.items() if n != residual_name)
    stems[residual_name] = (audio.samples.astype(np.float64) - others).astype(np.float32)
    return {n: Audio(v, audio.sr) for n, v in stems.items()}


def separate_take(take: Take, *, separator: Separator, keep: Collection[str] | None = None) -> Take:
    """``take`` with its stems from separating its mix (mix, tempo, key and MIDI kept).

    Parameters
    ----------
    take : Take
        Any take; stems it has are replaced.
    separator : Separator
        From :func:`load_separator`.
    keep : collection of str, optional
        Stems to keep (default, or ``"all"`` among them: every source; then they sum to the mix).

    Returns
    -------
    Take
        Its provenance gains ``separation``: :meth:`Separator.record` (and ``kept`` for a subset).

    Raises
    ------
    EngineError
        When ``keep`` names a stem the model does not produce.
    """
    stems = separate(take.mix, separator=separator)
    record = separator.record()
    if keep is not None and "all" not in keep:
        unknown = sorted(set(keep) - set(stems))
        if unknown:
            raise EngineError(f"unknown stem(s) {', '.join(unknown)}; separation gives: {', '.join(stems)}")
        stems = {k: v for k, v in stems.items() if k in keep}
        record["kept"] = list(stems)
    provenance = {**take.provenance, "separation": record}
    return Take(mix=take.mix, stems=stems, midi=take.midi, provenance=provenance, bpm=take.bpm, key=take.key,
                seed=take.seed, extras=take.extras)
