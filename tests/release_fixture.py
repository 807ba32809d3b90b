"""A small release spec over synthetic file tracks (no engine needed): two 2-bar tracks with stems."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from music.audio import save
from songmint.catalog.write import toml_key, toml_value
from tests import synth


def spec_toml(*, collection: Mapping[str, Any], defaults: Mapping[str, Any],
              tracks: Sequence[Mapping[str, Any]], network: str) -> str:
    """The TOML text of a release spec: ``[collection]``, ``[defaults]``, a ``[[tracks]]`` table per
    track and ``[network] name``, each key on its own line as a hand-written spec has it (a dict value
    is an inline table: ``editions = { cap = 5, initial = 1 }``), tables a blank line apart."""
    tables = [("[collection]", collection), ("[defaults]", defaults),
              *(("[[tracks]]", t) for t in tracks), ("[network]", {"name": network})]
    return "\n".join(
        head + "\n" + "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in table.items())
        for head, table in tables
    )


def make_spec(folder: Path, *, network: str = "memory", extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, bpm, notes in (("alpha", 120, (57, 60, 64)), ("beta", 100, (50, 53, 57))):
        drums = synth.drums(bpm=bpm, bars=2)
        chords = synth.chord(notes, seconds=drums.duration)
        save(synth.mix(drums, chords), folder / f"{name}.wav")
        if name == "alpha":
            (folder / "alpha-stems").mkdir(exist_ok=True)
            save(drums, folder / "alpha-stems" / "drums.wav")
            save(chords, folder / "alpha-stems" / "chords.wav")
    spec = folder / "spec.toml"
    spec.write_text(spec_toml(
        collection={"name": "Fixture EP", "symbol": "FIX", "royalty_bps": 250},
        defaults={"artist": "Fixture", "editions": {"cap": 10, "initial": 3}},
        tracks=[
            {"id": "alpha", "title": "Alpha", "file": "alpha.wav", "stems": "alpha-stems"},
            {"id": "beta", "title": "Beta", "file": "beta.wav", "editions": {"cap": 5, "initial": 1}},
        ],
        network=network,
    ) + extra)
    return spec


def release_args(spec: Path, out: Path, *more: object, network: str | None = "memory") -> list[str]:
    """``songmint release SPEC`` on ``network`` (None: the spec's), small covers, no preview, into ``out``."""
    chain = ("--network", network) if network else ()
    args = ("release", spec, *chain, "--no-preview", "--cover-size", 256, "--out", out, *more)
    return [str(a) for a in args]
