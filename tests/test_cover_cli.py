"""``songmint cover`` through click's CliRunner and a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from cover_art import read_provenance
from songmint.cli import main

TRAITS = {"key": "Bb major", "tempo_bpm": 96.0, "energy": 0.4, "danceability": 0.5, "brightness": 0.6,
          "valence": 0.7, "arousal": 0.4, "mood": "warm", "camelot": "6B"}
SONGMINT = Path(sys.executable).with_name("songmint")


def _traits_file(tmp_path: Path, data: object = None) -> Path:
    p = tmp_path / "traits.json"
    p.write_text(json.dumps(TRAITS if data is None else data))
    return p


def test_cover_from_traits_json(runner, tmp_path: Path, music_wav: Path) -> None:
    src = _traits_file(tmp_path, {"traits": TRAITS})  # nested under "traits" is accepted too
    out = tmp_path / "art" / "cover.png"
    r = runner.invoke(main, ["cover", str(src), "--style", "waves", "--seed", "7", "--size", "320",
                             "--audio", str(music_wav), "--title", "Låg sol", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert Path(report["cover"]) == out and Path(report["thumbnail"]) == tmp_path / "art" / "cover.thumb.png"
    assert Image.open(out).size == (320, 320) and Image.open(report["thumbnail"]).size == (320, 320)
    prov = read_provenance(out.read_bytes())
    assert prov["style"] == "waves" and prov["seed"] == 7 and prov["title"] == "Låg sol"
    assert prov["audio_sha256"] == report["audio_sha256"] and len(prov["audio_sha256"]) == 64
    assert report["palette"]["key"] == "A# major"


def test_cover_from_audio_extracts_traits(runner, tmp_path: Path, music_wav: Path) -> None:
    out = tmp_path / "c.png"
    args = ["cover", str(music_wav), "--style", "radial", "--size", "256", "--out", str(out)]
    r = runner.invoke(main, args)
    assert r.exit_code == 0, r.output
    prov = read_provenance(out.read_bytes())
    # The traits came from music.traits.extract: an A-minor chord over drums at 120 BPM.
    assert prov["traits"]["key"] in {"A minor", "C major"}
    assert 100 <= prov["traits"]["tempo_bpm"] <= 140
    assert prov["audio_sha256"] is not None


def test_cover_user_errors_exit_2_and_write_nothing(runner, tmp_path: Path) -> None:
    src = _traits_file(tmp_path, {"tempo_bpm": 120})
    out = tmp_path / "c.png"
    r = runner.invoke(main, ["cover", str(src), "--size", "128", "--out", str(out)])
    assert r.exit_code == 2 and "key" in r.stderr
    r = runner.invoke(main, ["cover", str(_traits_file(tmp_path)), "--out", str(tmp_path / "c.jpg")])
    assert r.exit_code == 2 and ".png" in r.stderr
    r = runner.invoke(main, ["cover", str(tmp_path / "missing.json"), "--out", str(out)])
    assert r.exit_code == 2 and "does not exist" in r.stderr
    r = runner.invoke(main, ["cover", str(_traits_file(tmp_path)), "--style", "diffusion",
                             "--model", str(tmp_path / "no-model"), "--out", str(out)])
    assert r.exit_code == 2 and "no-model" in r.stderr and "model_index.json" in r.stderr
    # --model's default is $SONGMINT_SD_MODEL, read by the command and passed down.
    r = runner.invoke(main, ["cover", str(_traits_file(tmp_path)), "--style", "diffusion", "--out", str(out)],
                      env={"SONGMINT_SD_MODEL": str(tmp_path / "env-model")})
    assert r.exit_code == 2 and "env-model" in r.stderr and "model_index.json" in r.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["traits.json"]


def test_cover_subprocess_is_deterministic(tmp_path: Path) -> None:
    src = _traits_file(tmp_path)
    outs = []
    for name in ("a.png", "b.png"):
        out = tmp_path / name
        args = [str(SONGMINT), "cover", str(src), "--style", "geometric", "--seed", "3", "--size", "256",
                "--title", "Ørsted", "--artist", "Mila", "--out", str(out)]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "wrote" in proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert (tmp_path / "a.thumb.png").is_file()
