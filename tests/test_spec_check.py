"""Every problem of a spec in one pass: `songmint check` and `songmint release` report all of them,
one line each with file:line, key and fix, exit 2, and write nothing."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from music.audio import save
from songmint.cli import main
from tests import synth
from tests.release_fixture import make_spec


def _five_mistakes(folder: Path) -> Path:
    spec = make_spec(folder)
    # a stem shorter than its mix: exported from another session
    save(synth.drums(bpm=120, bars=1), folder / "alpha-stems" / "drums.wav")
    text = spec.read_text()
    text = text.replace("royalty_bps = 250", "royalty_bps = 25000")  # 1: out of range
    text = text.replace('file = "beta.wav"', 'file = "missing.wav"\ngenere = "house"')  # 2 + 3
    text = text.replace('name = "memory"', 'name = "https://rpc.example"')  # 4: a URL without chain_id
    text += '\n[storage]\nbackend = "dropbox"\n'  # 5: unknown backend
    spec.write_text(text)
    return spec


def test_check_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    spec = _five_mistakes(tmp_path / "spec")
    r = CliRunner().invoke(main, ["check", str(spec)])
    assert r.exit_code == 2, r.output
    lines = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 6, r.stderr
    assert all(re.match(rf"error: {re.escape(str(spec))}:\d+: ", line) for line in lines), lines
    text = "\n".join(lines)
    for key in ("collection.royalty_bps", "tracks[0].stems", "tracks[1].genere", "tracks[1].file",
                "storage.backend", "network"):
        assert key in text, (key, text)
    assert "drums.wav is 2.00 s long but the mix is 4.00 s" in text


def test_release_reports_them_all_before_any_work(tmp_path: Path) -> None:
    spec = _five_mistakes(tmp_path / "spec")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["release", str(spec), "--out", str(out), "--network", "memory"])
    assert r.exit_code == 2
    assert len([line for line in r.stderr.splitlines() if line.startswith("error: ")]) >= 5
    assert not out.exists()


def test_a_clean_spec_checks_ok(tmp_path: Path) -> None:
    spec = make_spec(tmp_path / "spec")
    r = CliRunner().invoke(main, ["check", str(spec), "--json"])
    assert r.exit_code == 0, r.output
    assert '"ok": true' in r.stdout and '"tracks": 2' in r.stdout
