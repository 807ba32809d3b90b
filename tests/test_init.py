"""`songmint init`: a spec from a folder of masters (tags, CSV, stems by folder and name), --example."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from music.audio import save
from songmint.cli import main
from songmint.init_command import example_spec, symbol_for, title_from_filename, toml_value
from songmint.spec import load_spec, parse_spec
from tests import synth
from tests.catalog_fixture import make_catalog
from tests.release_fixture import release_args


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("label")
    make_catalog(folder, 20)
    return folder


def _init(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, ["init", *args])
    return r.exit_code, " ".join(r.output.split())  # rich wraps status lines


def test_twenty_masters_with_daw_stems_and_tags_release_as_written(
    catalog: Path, release_cache: Path
) -> None:
    spec_path = catalog / "catalog.toml"
    code, text = _init(
        str(spec_path), "--from", str(catalog / "masters"), "--stems-dir", str(catalog / "stems")
    )
    assert code == 0, text
    assert "20 tracks (20 with stems)" in text
    spec = load_spec(spec_path)
    assert (
        len(spec.tracks) == 20 and spec.collection.name == "Masters" and spec.collection.symbol == "MASTERS"
    )
    first, second = spec.tracks[0], spec.tracks[1]
    assert (first.title, first.artist, first.isrc, first.genre) == (
        "Fixture Song 1",
        "The Fixtures",
        "QZFX12600001",
        "ambient",
    )
    assert {"name": "Ada Writer", "role": "composer"} in first.credits
    assert {"name": "Pat Knobs", "role": "producer"} in first.credits
    # stems: track 1 by folder (DAW names kept), track 2 by name (linked as <role>.wav)
    assert first.stems_dir == (catalog / "stems" / "01 Fixture Song 1 Stems").resolve()
    assert sorted(p.name for p in second.stems_dir.iterdir()) == ["chords.wav", "drums.wav"]
    assert second.stems_dir.parent == (catalog / "catalog-stems").resolve()
    raw = spec_path.read_text()
    assert '[tracks.sale]\nprice = "0.01 ether"' in raw and raw.count("[[tracks]]") == 20
    assert first.sale is not None and first.sale.price == 10**16  # a bare number in a tag is ether
    assert 'artist = "The Fixtures"' in raw.split("[[tracks]]")[0]  # said once, in [defaults]

    out = catalog / "out"
    r = CliRunner().invoke(main, release_args(spec_path, out))
    assert r.exit_code == 0, r.output
    m = json.loads((out / "manifest.json").read_text())
    assert len(m["tokens"]) == 20 and all(t["minted"] == 1 for t in m["tokens"])
    for t in m["tokens"]:
        assert {"stem:drums", "stem:chords", "stem_lossless:drums"} <= set(t["assets"]), t["assets"]
    doc = json.loads((out / m["tokens"][0]["metadata_path"]).read_text())
    assert doc["isrc"] == "QZFX12600001" and doc["artist"] == "The Fixtures"


def test_csv_wins_over_tags(catalog: Path, tmp_path: Path) -> None:
    meta = tmp_path / "meta.csv"
    meta.write_text(
        "File,Title,Artist,ISRC,Credits,Tags,Price\n"
        '01 Fixture Song 1.flac,Opening,Ada,US-AB1-24-00001,"Ada:producer; Bo:mixing",intro; calm,0.5\n'
        "02 Fixture Song 2,,,,,,\n",
        encoding="utf-8",
    )
    spec_path = tmp_path / "c.toml"
    code, text = _init(
        str(spec_path), "--from", str(catalog / "masters"), "--csv", str(meta), "--artist", "X"
    )
    assert code == 0, text
    spec = load_spec(spec_path)
    one, two = spec.tracks[0], spec.tracks[1]
    assert (one.title, one.artist, one.isrc) == ("Opening", "Ada", "USAB12400001")
    assert one.credits == ({"name": "Ada", "role": "producer"}, {"name": "Bo", "role": "mixing"})
    assert one.tags == ("intro", "calm")
    assert (two.title, two.artist) == ("Fixture Song 2", "The Fixtures")  # empty cells: the tags
    assert one.sale is not None and one.sale.price == 5 * 10**17  # the CSV's "0.5": ether
    # no --stems-dir: the stems are looked for in masters/ sub-folders, and there are none
    assert all(t.stems_dir is None for t in spec.tracks)


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        ("title\nX\n", "meta.csv:1: no 'file' column"),
        ("file,colour\n01 Fixture Song 1.flac,red\n", "meta.csv:1: unknown column 'colour'"),
        ("file,title\nnot-there.wav,X\n", "meta.csv:2: file 'not-there.wav' is not a master"),
        ("file,isrc\n01 Fixture Song 1.flac,123\n", "'123' is not an ISRC"),
        ("file,credits\n01 Fixture Song 1.flac,Ada\n", "credit 'Ada' is not 'Name:role'"),
    ],
)
def test_bad_csv_is_one_line_and_writes_nothing(
    catalog: Path, tmp_path: Path, csv_text: str, message: str
) -> None:
    meta = tmp_path / "meta.csv"
    meta.write_text(csv_text)
    spec_path = tmp_path / "c.toml"
    code, text = _init(str(spec_path), "--from", str(catalog / "masters"), "--csv", str(meta))
    assert code == 2 and message in text, text
    assert not spec_path.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["meta.csv"]


def test_untagged_masters_named_from_files_and_stem_folders_in_the_masters_folder(tmp_path: Path) -> None:
    masters = tmp_path / "in"
    d = synth.drums(bpm=120, bars=1)
    save(d, masters / "01 - night_drive.wav")
    save(d, masters / "02 Low Tide.wav")
    save(d, masters / "night drive" / "Kick.wav")  # a folder named like the master (number ignored)
    code, text = _init(str(tmp_path / "s.toml"), "--from", str(masters))
    assert code == 0, text
    assert "no artist tag" in text
    spec = load_spec(tmp_path / "s.toml")
    assert [t.title for t in spec.tracks] == ["night drive", "Low Tide"]
    assert [t.id for t in spec.tracks] == ["night-drive", "low-tide"]
    assert (
        spec.tracks[0].artist == "Unknown artist"
        and spec.tracks[0].stems_dir == (masters / "night drive").resolve()
    )
    assert spec.tracks[1].stems_dir is None


def test_existing_spec_and_bad_folders_are_refused(catalog: Path, tmp_path: Path) -> None:
    spec_path = tmp_path / "c.toml"
    spec_path.write_text("keep me")
    code, text = _init(str(spec_path), "--from", str(catalog / "masters"))
    assert code == 2 and "exists" in text and "--force" in text
    assert spec_path.read_text() == "keep me"
    code, text = _init(str(tmp_path / "d.toml"), "--from", str(tmp_path / "nope"))
    assert code == 2 and "not a folder" in text
    (tmp_path / "empty").mkdir()
    code, text = _init(str(tmp_path / "d.toml"), "--from", str(tmp_path / "empty"))
    assert code == 2 and "no audio files" in text and not (tmp_path / "d.toml").exists()
    code, text = _init(str(tmp_path / "d.toml"))
    assert code == 2 and "--from" in text
    code, text = _init(str(spec_path), "--from", str(catalog / "masters"), "--force")
    assert code == 0 and len(load_spec(spec_path).tracks) == 20


def test_example_spec_validates(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["init", "--example"])
    assert r.exit_code == 0 and "[[tracks]]" in r.output
    spec = parse_spec(r.output, path=tmp_path / "x.toml")
    assert spec.tracks[0].generate is not None and spec.tracks[0].generate.engine == "composer"
    code, text = _init(str(tmp_path / "ep.toml"), "--example")
    assert code == 0, text
    assert load_spec(tmp_path / "ep.toml").collection.symbol == "MYEP"
    assert "songmint release ep.toml" in (tmp_path / "ep.toml").read_text()
    assert example_spec("a.toml") != example_spec("b.toml")
    code, text = _init(str(tmp_path / "ep.toml"), "--example")
    assert code == 2 and "exists" in text


@pytest.mark.parametrize(
    "text", ['say "hi"', "back\\slash", "line\nbreak\ttab", "del\x7fete", "ünï ドラム", ""]
)
def test_toml_strings_round_trip(text: str) -> None:
    assert tomllib.loads(f"k = {toml_value(text)}")["k"] == text
    doc = {"a": [text, 1, 2.5, True], "b": {"name": text, "role": "x"}}
    assert tomllib.loads("\n".join(f"{k} = {toml_value(v)}" for k, v in doc.items())) == doc


def test_small_helpers() -> None:
    assert title_from_filename("03_-_my_song") == "my song"
    assert title_from_filename("(4) Intro") == "Intro"
    assert symbol_for("Night Shift EP") == "NSE"
    assert symbol_for("Ünderground") == "UNDERGROUND"
    assert symbol_for("Blue") == "BLUE" and symbol_for("!!!") == "CATALOG"
