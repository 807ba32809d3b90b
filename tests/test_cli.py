"""The CLI skeleton: version, help, doctor, audio commands, error handling and exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from songmint import __version__
from songmint.cli import main
from tests.test_loudness import ffmpeg_ebur128

SONGMINT = [sys.executable, "-m", "songmint.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([*SONGMINT, *args], capture_output=True, text=True, cwd=cwd, env=env, check=False)


def test_version_and_help(runner: CliRunner) -> None:
    r = runner.invoke(main, ["--version"])
    assert r.exit_code == 0 and __version__ in r.output
    r = runner.invoke(main, ["--help"])
    assert r.exit_code == 0
    for cmd in ("doctor", "audio"):
        assert cmd in r.output


def test_doctor_json_lists_every_check(runner: CliRunner) -> None:
    r = runner.invoke(main, ["doctor", "--json"])
    checks = {c["name"]: c for c in json.loads(r.output)}
    for name in ("python", "ffmpeg", "libfluidsynth", "soundfont", "torch", "anvil", "model weights",
                 "demucs", "onnxruntime", "basic-pitch"):
        assert name in checks
    assert "`songmint models pull NAME`" in checks["model weights"]["fix"]
    assert "basic-pitch" in checks["basic-pitch"]["fix"] and checks["basic-pitch"]["required"] is False
    assert checks["python"]["ok"] is True
    missing_required = [c for c in checks.values() if c["required"] and not c["ok"]]
    assert r.exit_code == (2 if missing_required else 0)
    for c in checks.values():
        assert c["ok"] or c["fix"], f"{c['name']} is missing and has no fix"


def test_doctor_json_stays_parseable_under_ci() -> None:
    """pyfluidsynth prints to stdout on import when $CI is set; stdout must stay pure JSON."""
    env = {**os.environ, "CI": "1"}
    code = "from songmint.cli import main; main(['doctor', '--json'])"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    checks = json.loads(r.stdout)
    assert {c["name"] for c in checks} >= {"libfluidsynth", "soundfont"}


def test_audio_info_json(runner: CliRunner, music_wav: Path) -> None:
    r = runner.invoke(main, ["audio", "info", str(music_wav), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["sample_rate"] == 44100 and info["channels"] == 2
    assert info["duration_s"] == pytest.approx(8.0, abs=0.01)
    assert -40 < info["loudness_lufs"] < 0


def test_convert_rate_and_channels(runner: CliRunner, music_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.flac"
    args = ["audio", "convert", str(music_wav), str(out), "--rate", "48000", "--channels", "1"]
    r = runner.invoke(main, args)
    assert r.exit_code == 0, r.output
    i = sf.info(out)
    assert (i.samplerate, i.channels, i.format) == (48000, 1, "FLAC")


def test_normalize_mp3_meets_target_by_ffmpeg(music_wav: Path, tmp_path: Path) -> None:
    """The issue's acceptance check, through a real subprocess and measured by ffmpeg."""
    out = tmp_path / "y.mp3"
    r = run("audio", "normalize", str(music_wav), "-o", str(out), "--lufs", "-14")
    assert r.returncode == 0, r.stderr
    ref = ffmpeg_ebur128(out)
    assert ref["I"] == pytest.approx(-14.0, abs=0.5)
    assert ref["TP"] <= -1.0


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10), "cannot decode"),
        (lambda p: sf.write(p, np.full((4410, 1), np.nan, np.float32), 44100, subtype="FLOAT"), "NaN"),
        (lambda p: sf.write(p, np.zeros((100, 1), np.float32), 1000), "sample rate"),
        (lambda p: sf.write(p, np.zeros((0, 2), np.float32), 44100), "no audio"),
    ],
    ids=["empty", "corrupt", "nan", "absurd-rate", "no-samples"],
)
def test_bad_input_exits_2_one_line_no_output(tmp_path: Path, make, pattern: str) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "bad.wav"
    make(src)
    out = tmp_path / "out" / "y.mp3"
    r = run("audio", "normalize", str(src), "-o", str(out))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and re.search(pattern, lines[0]), r.stderr
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_garbage_mp3_is_one_line_without_decoder_chatter(tmp_path: Path) -> None:
    """mpg123 (inside libsndfile) writes its own notes to fd 2; only our error line remains."""
    src = tmp_path / "bad.mp3"
    src.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00garbage" * 100)
    r = run("audio", "info", str(src))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"error: {src}: cannot decode (no decodable audio frames); the file is corrupt or not audio"]


def test_silence_cannot_be_normalised(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "s.wav"
    sf.write(src, np.zeros((44100, 2), np.float32), 44100)
    r = runner.invoke(main, ["audio", "normalize", str(src), "-o", str(tmp_path / "o.wav")])
    assert r.exit_code == 2 and "silent" in r.output
    assert not (tmp_path / "o.wav").exists()


def test_internal_error_is_exit_1_with_traceback_under_verbose(  # type: ignore[no-untyped-def]
    runner: CliRunner, monkeypatch, music_wav: Path
) -> None:
    import music.loudness

    def bug(*a, **k):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(music.loudness, "measure", bug)
    r = runner.invoke(main, ["audio", "info", str(music_wav)])
    assert r.exit_code == 1 and "internal error" in r.output and "Traceback" not in r.output
    r = runner.invoke(main, ["-v", "audio", "info", str(music_wav)])
    assert r.exit_code == 1 and "Traceback" in r.output


def test_console_script_installed() -> None:
    exe = Path(sys.executable).parent / "songmint"
    r = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
    assert r.returncode == 0 and __version__ in r.stdout
