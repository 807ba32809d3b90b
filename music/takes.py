"""Writing and reading take folders: audio files, MIDI files and ``take.json``.

``take.json`` is a contract other tools read; its keys:

``mix``
    relative path of the mastered mix;
``stems`` / ``midi`` / ``extras``
    ``{name: relative path}``;
``sample_rate``, ``bpm``, ``key``, ``mood``, ``seed``, ``duration_s``, ``format``
    facts of the take;
``provenance``
    engine, version, model and weights hash, seed, every parameter.

File names are DAW-friendly: ``night-drive_124bpm_A-minor_drums.wav``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from music.audio import Audio, audio_files, load, resample, save
from music.engines.base import Take
from music.errors import MusicError

TAKE_FILE = "take.json"


def slugify(text: str, *, max_len: int = 40) -> str:
    """Lowercase ASCII words joined by hyphens: ``"Night Drive!"`` -> ``"night-drive"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_len].rstrip("-") or "take"


def file_stem(title: str, bpm: float | None, key: str | None, *, as_written: bool = False) -> str:
    """``"night-drive_124bpm_A-minor"``: the common prefix of a take's files.

    The key is spelled by key signature (``"A# major"`` → ``Bb-major``, ``"D# minor"`` →
    ``Eb-minor``; ``#`` becomes ``sharp``: ``Fsharp-minor``), see :func:`music.traits.keys.key_slug`;
    with ``as_written`` it keeps the spelling it is given (a key a user declared as D# minor).
    """
    parts = [slugify(title)]
    if bpm:
        parts.append(f"{bpm:g}bpm" if float(bpm).is_integer() else f"{bpm:.1f}bpm")
    if key:
        from music.traits.keys import key_slug, parse_key
        from music.traits.model import TraitsError

        try:
            parts.append(parse_key(key).slug if as_written else key_slug(key))
        except TraitsError:  # not a key name: as it was, made file-safe
            parts.append(re.sub(r"\s+", "-", key.strip()).replace("#", "sharp"))
    return "_".join(parts)


def write_take(take: Take, out_dir: str | os.PathLike[str], *, title: str = "take",
               fmt: str = "wav", number: int | None = None, **encode_options: Any) -> Path:
    """Write a take into ``out_dir`` atomically and return the path of its ``take.json``.

    The folder is assembled in a temporary sibling and renamed into place, so an error
    never leaves half a take. An existing ``out_dir`` is replaced only when it holds a
    take (has a ``take.json``) or is empty. ``number`` (take 1, 2, … of a batch) goes into every
    file name, so that takes copied into one folder do not overwrite each other.
    """
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not (out / TAKE_FILE).exists():
        raise MusicError(f"{out} exists and is not a take folder; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    stem = file_stem(title if number is None else f"{slugify(title)}-{number:02d}", take.bpm, take.key)
    ext = "mp3" if fmt == "mp3" else fmt
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        doc: dict[str, Any] = {"mix": f"{stem}_mix.{ext}", "stems": {}, "midi": {}, "extras": {}}
        save(take.mix, tmp / doc["mix"], fmt=fmt, **encode_options)
        for name, audio in take.stems.items():
            rel = f"{stem}_{slugify(name)}.{ext}"
            save(audio, tmp / rel, fmt=fmt, **encode_options)
            doc["stems"][name] = rel
        for name, audio in take.extras.items():
            rel = f"{stem}_{slugify(name)}.{ext}"
            save(audio, tmp / rel, fmt=fmt, **encode_options)
            doc["extras"][name] = rel
        for name, data in take.midi.items():
            rel = f"{stem}_{slugify(name)}.mid"
            (tmp / rel).write_bytes(data)
            doc["midi"][name] = rel
        doc.update(
            sample_rate=take.mix.sr,
            channels=take.mix.channels,
            duration_s=round(take.mix.duration, 6),
            bpm=take.bpm,
            key=take.key,
            mood=take.mood,
            seed=take.seed,
            format=fmt,
            title=title,
            provenance=take.provenance,
        )
        (tmp / TAKE_FILE).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out / TAKE_FILE


def read_take_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed ``take.json`` of a take folder (or of the file itself)."""
    p = Path(path)
    if p.is_dir():
        p = p / TAKE_FILE
    try:
        doc = json.loads(p.read_text())
    except FileNotFoundError as exc:
        raise MusicError(f"{p}: no take.json here") from exc
    except json.JSONDecodeError as exc:
        raise MusicError(f"{p}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(doc, dict) or "mix" not in doc:
        raise MusicError(f"{p}: not a take.json (no 'mix' key)")
    return doc


def read_take(path: str | os.PathLike[str]) -> Take:
    """Load a take folder written by :func:`write_take` back into a :class:`Take`."""
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    doc = read_take_json(p)
    mix: Audio = load(folder / doc["mix"])
    stems = {n: load(folder / r) for n, r in doc.get("stems", {}).items()}
    extras = {n: load(folder / r) for n, r in doc.get("extras", {}).items()}
    midi = {n: (folder / r).read_bytes() for n, r in doc.get("midi", {}).items()}
    return Take(mix=mix, stems=stems, midi=midi, provenance=doc.get("provenance", {}),
                bpm=doc.get("bpm"), key=doc.get("key"), seed=doc.get("seed"), extras=extras,
                mood=doc.get("mood"))


def load_mix_and_stems(mix_path: str | os.PathLike[str],
                       stems_dir: str | os.PathLike[str] | None) -> tuple[Audio, dict[str, Audio]]:
    """A mix and the stem files of a folder, conformed to the mix's rate and length.

    Stems are keyed by role, derived from the file name as DAWs write it (``01 Drums.wav`` ->
    ``drums``, ``<mix name> - Bass.wav`` -> ``bass``: :mod:`music.stem_names`), resampled to the
    mix's rate and padded or cut to its length; a stem more than 1 % (+ 50 ms) longer or shorter than the mix
    was not exported from the same session and is refused.

    Raises
    ------
    MusicError
        For a stem whose length does not match the mix.
    """
    from music.stem_names import stem_roles

    mix = load(mix_path)
    stems = {}
    files = audio_files(stems_dir)
    roles = stem_roles([p.name for p in files], title=Path(mix_path).stem)
    for p in files:
        stem = load(p)
        if stem.sr != mix.sr:
            stem = resample(stem, mix.sr)
        if abs(stem.n - mix.n) > 0.01 * mix.n + mix.sr * 0.05:
            raise MusicError(
                f"{p}: stem is {stem.duration:.2f} s long but the mix is {mix.duration:.2f} s; "
                "export stems and mix from the same session start to end"
            )
        x = np.zeros((stem.channels, mix.n), dtype=np.float32)
        x[:, : min(mix.n, stem.n)] = stem.samples[:, : mix.n]
        stems[roles[p.name]] = Audio(x, mix.sr)
    return mix, stems
