"""A small release spec over synthetic file tracks (no engine needed): two 2-bar tracks with stems."""

from __future__ import annotations

from pathlib import Path

from music.audio import save
from tests import synth

SPEC = """\
[collection]
name = "Fixture EP"
symbol = "FIX"
royalty_bps = 250

[defaults]
artist = "Fixture"
editions = {{ cap = 10, initial = 3 }}

[[tracks]]
id = "alpha"
title = "Alpha"
file = "alpha.wav"
stems = "alpha-stems"

[[tracks]]
id = "beta"
title = "Beta"
file = "beta.wav"
editions = {{ cap = 5, initial = 1 }}

[network]
name = "{network}"
{extra}
"""


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
    spec.write_text(SPEC.format(network=network, extra=extra))
    return spec


def release_args(spec: Path, out: Path, *more: object, network: str | None = "memory") -> list[str]:
    """``songmint release SPEC`` on ``network`` (None: the spec's), small covers, no preview, into ``out``."""
    chain = ("--network", network) if network else ()
    args = ("release", spec, *chain, "--no-preview", "--cover-size", 256, "--out", out, *more)
    return [str(a) for a in args]
