"""``songmint traits``: table, JSON (object for one file, list for several), folder walking,
--stems, --jobs, unreadable files reported and skipped with exit status 2, real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from music.audio import save
from music.traits import Traits, camelot
from songmint.cli import main
from tests import synth

SONGMINT = Path(sys.executable).parent / "songmint"


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """Two clips in nested folders, a non-audio file, and a corrupt .wav."""
    root = tmp_path / "lib"
    save(synth.drums(bpm=120, bars=4, sr=22_050), root / "a" / "drums.wav")
    save(synth.chord((57, 60, 64), seconds=3.0, sr=22_050), root / "b" / "c" / "pad.flac")
    (root / "notes.txt").write_text("not audio")
    return root


def test_one_file_table(runner: CliRunner, music_wav: Path) -> None:
    res = runner.invoke(main, ["traits", str(music_wav)])
    assert res.exit_code == 0, res.output
    assert "tempo_bpm" in res.output and "camelot" in res.output and "mood" in res.output


def test_one_file_json_is_an_object_with_the_contract_keys(runner: CliRunner, music_wav: Path) -> None:
    res = runner.invoke(main, ["traits", "--json", str(music_wav)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert isinstance(data, dict) and data["path"] == str(music_wav)
    t = Traits.from_dict(data)
    assert t.tempo_bpm == pytest.approx(120.0, rel=0.01)
    assert t.camelot == camelot(t.key)


def test_folder_walk_json_list_and_jobs(runner: CliRunner, library: Path) -> None:
    res = runner.invoke(main, ["traits", "--json", "--jobs", "2", str(library)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [Path(d["path"]).name for d in data] == ["drums.wav", "pad.flac"]  # sorted, txt skipped
    assert data[0]["percussiveness"] > data[1]["percussiveness"]


def test_several_files_table(runner: CliRunner, library: Path) -> None:
    res = runner.invoke(main, ["traits", str(library)])
    assert res.exit_code == 0, res.output
    assert "drums.wav" in res.output and "pad.flac" in res.output


def test_unreadable_files_are_reported_and_skipped(runner: CliRunner, library: Path) -> None:
    bad = library / "broken.wav"
    bad.write_bytes(b"RIFF junk")
    res = runner.invoke(main, ["traits", "--json", str(library), str(library / "missing.mp3")])
    assert res.exit_code == 2
    data = json.loads(res.stdout)
    assert len(data) == 2  # the two good files still come out
    assert "broken.wav" in res.stderr and "missing.mp3" in res.stderr
    assert "2 of 4 files failed" in res.stderr


def test_stems(runner: CliRunner, tmp_path: Path) -> None:
    d = synth.drums(bpm=120, bars=4, sr=22_050)
    c = synth.chord(seconds=d.duration, sr=22_050)
    mix = save(synth.mix(d, c), tmp_path / "mix.wav")
    save(d, tmp_path / "stems" / "drums.wav")
    save(c, tmp_path / "stems" / "keys.flac")
    res = runner.invoke(main, ["traits", "--json", "--stems-dir", str(tmp_path / "stems"), str(mix)])
    assert res.exit_code == 0, res.output
    stems = json.loads(res.stdout)["stems"]
    assert set(stems) == {"drums", "keys"}
    assert stems["drums"]["activity"] > 0.9
    # --stems-dir with several files is a usage error
    res = runner.invoke(main, ["traits", "--stems-dir", str(tmp_path / "stems"), str(mix), str(mix)])
    assert res.exit_code == 2 and "exactly one FILE" in res.stderr


def test_no_audio_found(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["traits", str(tmp_path)])
    assert res.exit_code == 2 and "no audio files" in res.stderr


def test_real_subprocess(music_wav: Path) -> None:
    out = subprocess.run([str(SONGMINT), "traits", "--json", str(music_wav)], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["key"].endswith(("major", "minor"))
    assert data["tempo_bpm"] == pytest.approx(120.0, rel=0.01)
