"""User text is never console markup: titles, paths and prompts print exactly as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from music.audio import save
from songmint.cli import main
from songmint.console import Output, print_table, wide_table
from tests import synth

MARKUP_LIKE = ["AC[/]DC", "Probe [/] EP", "o[/x]", "[bold]x[/bold", "[link=javascript:x]y"]


def test_info_prints_markup_like_text_verbatim(capsys) -> None:  # type: ignore[no-untyped-def]
    out = Output(verbose=1)
    for text in MARKUP_LIKE:
        out.info(f"wrote {text}")
        out.debug(f"note {text}")
    err = capsys.readouterr().err
    for text in MARKUP_LIKE:
        assert f"wrote {text}" in err and f"note {text}" in err


def test_tables_print_markup_like_cells_verbatim(capsys) -> None:  # type: ignore[no-untyped-def]
    print_table("t [/] x", [{"title [/]": t} for t in MARKUP_LIKE])
    wide_table("AC[/]DC (memory)", [{"title": t, "tx": None} for t in MARKUP_LIKE])
    stdout = capsys.readouterr().out
    for text in [*MARKUP_LIKE, "t [/] x", "AC[/]DC (memory)", "title [/]"]:
        assert text in stdout


def test_audio_convert_to_a_markup_like_path(tmp_path: Path) -> None:
    src = save(synth.tone(seconds=0.5, sr=8000), tmp_path / "in.wav")
    dst = tmp_path / "o[/x].wav"
    r = CliRunner().invoke(main, ["audio", "convert", str(src), str(dst)])
    assert r.exit_code == 0, r.output
    assert dst.is_file() and f"wrote {dst}" in r.output


def test_generate_with_a_markup_like_title(tmp_path: Path) -> None:
    out = tmp_path / "AC[/]DC"
    r = CliRunner().invoke(main, ["generate", "house", "--seconds", "2", "--seed", "1",
                                  "--title", "AC[/]DC", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert f"wrote {out}" in r.output


@pytest.mark.slow
def test_release_table_with_a_markup_like_title(tmp_path: Path) -> None:
    """The release's summary table prints titles as plain text (fails until songmint/release.py's own
    ``wide_table`` is replaced by :func:`songmint.console.wide_table`; the lead's change)."""
    from tests.release_fixture import make_spec

    spec = make_spec(tmp_path / "spec")
    spec.write_text(spec.read_text().replace('title = "Alpha"', 'title = "AC[/]DC"'))
    out = str(tmp_path / "o[/x]")
    r = CliRunner().invoke(main, ["release", str(spec), "--network", "memory", "--out", out,
                                  "--cover-size", "256", "--no-preview"])
    if "MarkupError" in r.output:
        pytest.xfail("songmint/release.py still renders titles as rich markup (its wide_table)")
    assert r.exit_code == 0, r.output
    assert "AC[/]DC" in r.stdout
