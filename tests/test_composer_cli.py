"""``songmint generate``: the CLI contract, errors, and byte-identical output across processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from songmint.cli import main
from songmint.generate import parse_param, request_params

SONGMINT = Path(sys.executable).with_name("songmint")


def test_count_format_params_and_take_json(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "takes"
    res = runner.invoke(main, ["generate", "deep house in G minor", "--bars", "2", "--seed", "3",
                               "--count", "2", "--format", "flac", "--param", "swing=0.55",
                               "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    docs = json.loads(res.stdout)
    assert [d["seed"] for d in docs] == [3, 4]
    for i in range(1, len(docs) + 1):
        folder = out / f"{i:02d}"
        take = json.loads((folder / "take.json").read_text())
        # the take number is in every file name: takes copied into one folder never collide
        assert take["mix"] == f"deep-house-{i:02d}_124bpm_G-minor_mix.flac"
        parts = ("drums", "bass", "chords", "lead")
        assert take["stems"] == {n: f"deep-house-{i:02d}_124bpm_G-minor_{n}.flac" for n in parts}
        assert all(f"-{i:02d}_" in rel for rel in take["midi"].values())
        assert set(take["midi"]) == {"drums", "bass", "chords", "lead", "all"}
        facts = (take["sample_rate"], take["bpm"], take["key"], take["format"])
        assert facts == (44100, 124.0, "G minor", "flac")
        for rel in [take["mix"], *take["stems"].values(), *take["midi"].values()]:
            assert (folder / rel).stat().st_size > 0
        prov = take["provenance"]
        assert prov["engine"] == "composer" and prov["params"]["swing"] == 0.55
        assert prov["params"]["genre"] == "house" and prov["request_params"] == {"bars": 2, "swing": 0.55}
        assert len(prov["soundfont"]["sha256"]) == 64
    a = (out / "01" / docs[0]["mix"]).read_bytes()
    b = (out / "02" / docs[1]["mix"]).read_bytes()
    assert a != b  # seed and seed+1 are different takes


def test_loop_option(runner: CliRunner, tmp_path: Path) -> None:
    res = runner.invoke(main, ["generate", "--genre", "techno", "--bpm", "128", "--key", "F minor",
                               "--bars", "2", "--loop", "--stems", "drums,bass", "--seed", "1",
                               "--out", str(tmp_path / "l")])
    assert res.exit_code == 0, res.output
    take = json.loads((tmp_path / "l" / "take.json").read_text())
    assert take["duration_s"] == pytest.approx(2 * 4 * 60 / 128, abs=1 / 44100)
    assert take["provenance"]["params"]["loop"] is True and list(take["stems"]) == ["bass", "drums"]


@pytest.mark.parametrize(("args", "message"), [
    (["--genre", "polka"], "unknown genre 'polka'; known genres: house, techno, lofi"),
    (["--bpm", "500"], "tempo 500 BPM is impossible"),
    (["--key", "H minor"], "malformed key 'H minor'"),
    (["--soundfont", "/nonexistent/x.sf2"], "apt-get install fluid-soundfont-gm"),
    (["--param", "colour=red"], "unknown composer parameter(s) colour"),
    (["--param", "nokey"], "write it as KEY=VALUE"),
    (["--bpm", "120", "--param", "bpm=121"], "given twice"),
])
def test_bad_requests_are_one_line_and_write_nothing(runner: CliRunner, tmp_path: Path, args: list[str],
                                                     message: str) -> None:
    out = tmp_path / "never"
    res = runner.invoke(main, ["generate", "--bars", "1", "--seed", "0", *args, "--out", str(out)])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not out.exists()


def test_param_values_parse_as_json_scalars() -> None:
    assert parse_param("swing=0.6") == ("swing", 0.6)
    assert parse_param("loop=true") == ("loop", True)
    assert parse_param("key=F# minor") == ("key", "F# minor")
    assert request_params({"genre": "house", "bpm": None}, ("bars=4",)) == {"genre": "house", "bars": 4}


def test_same_args_and_seed_give_identical_bytes_across_processes(tmp_path: Path) -> None:
    args = ["generate", "synthwave night drive in E minor", "--bars", "2", "--seed", "9"]
    for name in ("a", "b"):
        proc = subprocess.run([str(SONGMINT), *args, "--out", str(tmp_path / name)], capture_output=True,
                              text=True, check=False, timeout=300)
        assert proc.returncode == 0, proc.stderr
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert sum(f.endswith(".wav") for f in files) == 5 and sum(f.endswith(".mid") for f in files) == 5
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_soundfont_variable_is_read_at_the_cli_edge(runner: CliRunner, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from music.engines.composer import ComposerEngine
    from music.soundfont import find_soundfont
    from songmint.models_commands import engine_with_model

    bogus = tmp_path / "custom.sf2"
    bogus.write_bytes(b"not a soundfont")
    monkeypatch.setenv("SONGMINT_SOUNDFONT", str(bogus))
    # The command passes $SONGMINT_SOUNDFONT to the engine...
    out = tmp_path / "never"
    res = runner.invoke(main, ["generate", "--bars", "1", "--seed", "0", "--out", str(out)])
    assert res.exit_code == 2 and "custom.sf2 is not a SoundFont 2 file" in res.stderr, res.output
    assert not out.exists()
    eng = engine_with_model("composer", None)
    assert isinstance(eng, ComposerEngine) and eng.soundfont == str(bogus)
    # ... the library reads no environment: its default stays FluidR3_GM.
    assert find_soundfont().name != "custom.sf2"
    assert ComposerEngine().soundfont is None
