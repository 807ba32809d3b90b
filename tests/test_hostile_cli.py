"""CLI edges: usage errors in one line, -v after the command, non-finite option values, output
paths that cannot be written, what convert reports, silent audio without numpy warnings."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from music.audio import Audio, save
from songmint.cli import main
from tests import synth


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args))


def _one_line(r) -> str:  # type: ignore[no-untyped-def]
    assert r.exit_code == 2, (r.exit_code, r.output)
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    return lines[0]


@pytest.fixture
def tone(tmp_path: Path) -> Path:
    return save(synth.tone(seconds=1.0, sr=8000), tmp_path / "tone.wav")


@pytest.mark.parametrize("args", [
    ["audio", "info"], ["audio", "convert", "x.wav"], ["nosuch"], ["audio", "info", "--bogus", "x"],
    ["generate", "--out"], ["release"], ["verify"], ["preview"], ["traits"], ["audio", "normalize", "x.wav"],
])
def test_usage_errors_are_one_line(args: list[str]) -> None:
    line = _one_line(_invoke(*args))
    assert "--help" in line


def test_verbose_after_the_command(tone: Path) -> None:
    assert _invoke("audio", "info", str(tone), "-v", "--json").exit_code == 0
    assert _invoke("audio", "info", "-q", str(tone)).exit_code == 0
    r = _invoke("traits", "-v", str(tone.with_name("missing.wav")))
    assert "no such file" in _one_line(r)


@pytest.mark.parametrize("opt", ["--true-peak", "--lufs"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_option_values_are_usage_errors(tone: Path, tmp_path: Path, opt: str, value: str) -> None:
    dst = str(tmp_path / "n.wav")
    line = _one_line(_invoke("audio", "normalize", str(tone), "-o", dst, f"{opt}={value}"))
    assert "not a finite number" in line and "NaN or infinite samples" not in line
    assert not (tmp_path / "n.wav").exists()


def test_generate_seconds_nan_is_a_usage_error(tmp_path: Path) -> None:
    r = _invoke("generate", "--seconds", "nan", "--out", str(tmp_path / "g"))
    assert "not a finite number" in _one_line(r)


def _read_only_dir(tmp_path: Path) -> Path:
    """A folder nobody may write in: chmod 555, or /sys when running as root (root ignores modes)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    return ro if not os.access(ro, os.W_OK) else Path("/sys")


@pytest.mark.parametrize("command", ["convert", "normalize"])
@pytest.mark.parametrize("where", ["folder", "under a file", "read-only", "long name", "too long"])
def test_unwritable_outputs_are_one_line(tone: Path, tmp_path: Path, command: str, where: str) -> None:
    (tmp_path / "folder").mkdir()
    dst = {
        "folder": tmp_path / "folder",
        "under a file": tone / "x.wav",
        "read-only": _read_only_dir(tmp_path) / "x.wav",
        "long name": tmp_path / ("a" * 250 + ".wav"),  # valid, but ".<name>.XXXX.part.wav" was not
        "too long": tmp_path / ("a" * 260 + ".wav"),
    }[where]
    args = [command, str(tone), str(dst)] if command == "convert" else [command, str(tone), "-o", str(dst)]
    before = sorted(p.name for p in tmp_path.iterdir())
    r = _invoke("audio", *args)
    if where == "long name":
        assert r.exit_code == 0, r.output
        assert dst.is_file()
    else:
        _one_line(r)
        assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not [p for p in tmp_path.rglob("*.part*")]


@pytest.mark.parametrize("ext", ["mp3", "opus"])
def test_convert_reports_what_it_wrote(tmp_path: Path, ext: str) -> None:
    src = save(Audio(np.full((8, 9600), 0.1, np.float32), 192_000), tmp_path / "wide.wav")
    dst = tmp_path / f"o.{ext}"
    r = _invoke("audio", "convert", str(src), str(dst))
    assert r.exit_code == 0, r.output
    info = sf.info(dst)
    assert f"({info.channels} ch, {info.samplerate} Hz" in r.output
    assert "8 ch" not in r.output and "192000 Hz" not in r.output


def test_continue_out_file_is_one_line(tone: Path, tmp_path: Path) -> None:
    out = tmp_path / "a-file"
    out.write_text("mine")
    _one_line(_invoke("continue", str(tone), "--seconds", "2", "--out", str(out)))
    assert out.read_text() == "mine"
    _one_line(_invoke("continue", str(tone), "--seconds", "2", "--out", str(out / "take")))
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    _one_line(_invoke("continue", str(tone), "--seconds", "2", "--out", str(full)))
    assert [p.name for p in full.iterdir()] == ["notes.txt"]


def test_traits_one_bad_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\0\0\0\0WAVE")
    _one_line(_invoke("traits", str(bad)))


def test_silent_audio_prints_no_numpy_warnings(tmp_path: Path) -> None:
    silent = save(Audio(np.zeros((2, 16000), np.float32), 16000), tmp_path / "silent.wav")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for args in (["audio", "info", str(silent)], ["traits", str(silent)],
                     ["cover", str(silent), "--out", str(tmp_path / "c.png"), "--size", "256"]):
            r = _invoke(*args)
            assert r.exit_code in (0, 2), (args, r.output)
            assert "Warning" not in r.output, (args, r.output)
