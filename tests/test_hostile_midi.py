"""Prompts and titles in any script reach the composer's MIDI track names without a crash."""

from __future__ import annotations

import io
from pathlib import Path

import mido
import pytest
from click.testing import CliRunner

from music.engines import Request, get_engine
from music.engines.composer.midi import text_charset
from songmint.cli import main


@pytest.mark.parametrize("prompt", ["夜のハウス", "Ночной хаус в ля миноре", "house 🎧 at 124 bpm"])
def test_composer_midi_names_non_latin1_prompts(prompt: str) -> None:
    take = get_engine("composer").generate(Request(prompt=prompt, seconds=2, seed=3))
    mid = mido.MidiFile(file=io.BytesIO(take.midi["all"]), charset="utf-8")
    names = [m.name for m in mid.tracks[0] if m.type == "track_name"]
    assert names and names[0] and prompt.startswith(names[0])


def test_latin1_titles_keep_their_bytes() -> None:
    assert text_charset("café") == "latin-1" and text_charset("夜") == "utf-8"


def test_generate_command_with_a_japanese_prompt(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["generate", "夜のハウス", "--seconds", "2", "--seed", "1",
                                  "--out", str(tmp_path / "t")])
    assert r.exit_code == 0, r.output
    assert list((tmp_path / "t").glob("*.mid"))
