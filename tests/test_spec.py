"""Release spec validation: good specs parse, bad ones name the file, line, key and fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from songmint.errors import SpecError
from songmint.spec import MAX_TOKEN_ID, load_spec, token_id_for

REPO = Path(__file__).resolve().parents[1]

BASE = """\
[collection]
name = "Test EP"
symbol = "TEP"

[defaults]
artist = "Tester"
editions = { cap = 10, initial = 2 }

[[tracks]]
id = "one"
title = "One"
[tracks.generate]
engine = "composer"
seed = 1
seconds = 4

[[tracks]]
id = "two"
title = "Two"
file = "two.wav"
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "spec.toml"
    p.write_text(text)
    return p


@pytest.fixture
def folder(tmp_path: Path, music_wav: Path) -> Path:
    (tmp_path / "two.wav").write_bytes(music_wav.read_bytes())
    return tmp_path


def test_demo_spec_is_valid() -> None:
    spec = load_spec(REPO / "samples" / "demo-ep.toml")
    assert len(spec.tracks) == 4
    engines = [t.generate.engine for t in spec.tracks if t.generate is not None]
    assert engines == ["composer", "composer", "composer", "symbolic"]  # no download, no GPU
    assert len(set(spec.token_ids())) == 4
    assert spec.network.name == "local"


def test_parse_defaults_and_sources(folder: Path) -> None:
    spec = load_spec(write(folder, BASE))
    one, two = spec.tracks
    assert one.artist == "Tester" and one.editions.cap == 10 and one.editions.initial == 2
    assert one.generate is not None and one.generate.seed == 1 and one.generate.seconds == 4
    assert two.file == folder / "two.wav" and two.generate is None
    assert one.token_id == token_id_for("TEP", "one") and 1 <= one.token_id <= MAX_TOKEN_ID
    assert (one.number, two.number) == (1, 2)


def test_token_ids_are_deterministic_and_distinct() -> None:
    assert token_id_for("TEP", "one") == token_id_for("tep", "one")
    assert token_id_for("TEP", "one") != token_id_for("TEP", "two")
    assert token_id_for("TEP", "one") != token_id_for("XYZ", "one")


def _error(path: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return str(info.value)


def test_missing_spec_file(tmp_path: Path) -> None:
    msg = _error(tmp_path / "nope.toml")
    assert "nope.toml" in msg and "no such release spec" in msg


def test_missing_mix_file_names_line_and_key(folder: Path) -> None:
    p = write(folder, BASE.replace('"two.wav"', '"missing.wav"'))
    msg = _error(p)
    line = next(i for i, t in enumerate(p.read_text().splitlines(), 1) if "missing.wav" in t)
    assert f"spec.toml:{line}:" in msg
    assert "tracks[1].file" in msg and "no file at" in msg and "fix the path" in msg


def test_unknown_engine(folder: Path) -> None:
    msg = _error(write(folder, BASE.replace('engine = "composer"', 'engine = "wavenet9000"')))
    assert "tracks[0].generate.engine" in msg and "wavenet9000" in msg and "composer" in msg
    assert re.search(r"spec\.toml:13:", msg)


def test_cap_below_initial(folder: Path) -> None:
    text = BASE.replace('title = "Two"', 'title = "Two"\neditions = { cap = 3, initial = 5 }')
    msg = _error(write(folder, text))
    assert "tracks[1].editions.initial" in msg and "above the cap 3" in msg and "raise cap" in msg


def test_duplicate_track_ids(folder: Path) -> None:
    msg = _error(write(folder, BASE.replace('id = "two"', 'id = "one"')))
    assert "duplicate track id 'one'" in msg and "tracks[1].id" in msg


def test_duplicate_token_ids(folder: Path) -> None:
    text = BASE.replace('id = "one"', 'id = "one"\ntoken_id = 7')
    text = text.replace('id = "two"', 'id = "two"\ntoken_id = 7')
    msg = _error(write(folder, text))
    assert "duplicate token id 7" in msg


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('symbol = "TEP"', 'symbol = "T E P"', "collection.symbol"),
        ('title = "One"', 'title = "One"\nflavour = 1', "did you mean"),
        ('title = "One"', 'title = "One"\nfile = "two.wav"', "both generate and file"),
        ("[collection]", "[collection\n", "invalid TOML"),
        ('name = "Test EP"', 'name = "Test EP"\nroyalty_bps = 20000', "above the maximum 10000"),
        ('name = "Test EP"', 'name = "Test EP"\ncontract = "0x12"', "not an address"),
    ],
)
def test_other_errors(folder: Path, old: str, new: str, needle: str) -> None:
    assert needle in _error(write(folder, BASE.replace(old, new, 1)))


def test_network_url_needs_chain_id(folder: Path) -> None:
    msg = _error(write(folder, BASE + '\n[network]\nname = "https://rpc.example"\n'))
    assert "chain_id" in msg
    spec = load_spec(write(folder, BASE + '\n[network]\nname = "https://rpc.example"\nchain_id = 5\n'))
    assert spec.network.name == "url" and spec.network.url == "https://rpc.example"
    assert spec.network.chain_id == 5


def test_continuation_engines_need_a_source(folder: Path) -> None:
    msg = _error(write(folder, BASE.replace('engine = "composer"', 'engine = "units"')))
    assert "cannot generate from a prompt" in msg and 'source = "loop.wav"' in msg
    msg = _error(
        write(folder, BASE.replace('engine = "composer"', 'engine = "composer"\nsource = "two.wav"'))
    )
    assert "cannot continue audio" in msg and "units" in msg
    spec = load_spec(
        write(folder, BASE.replace('engine = "composer"', 'engine = "units"\nsource = "two.wav"'))
    )
    assert spec.tracks[0].generate is not None and spec.tracks[0].generate.source == folder / "two.wav"


def test_declared_stems_name_only_what_is_known_before_rendering(folder: Path) -> None:
    from songmint.spec.tracks import declared_stems

    def stems_of(value: str) -> list[str]:
        text = BASE.replace("seconds = 4", f"seconds = 4\nparams = {{ stems = {value} }}")
        return declared_stems(load_spec(write(folder, text)).tracks[0])

    assert stems_of('"drums, bass"') == ["drums", "bass"]
    assert stems_of('["lead", "pad"]') == ["lead", "pad"]
    assert stems_of('"all"') == []  # the separator's sources: known once it is loaded


def test_separate_key(folder: Path) -> None:
    """`separate` on a file track without a stems folder; in [defaults], only for such tracks."""
    spec = load_spec(write(folder, BASE.replace('file = "two.wav"', 'file = "two.wav"\nseparate = true')))
    assert [t.separate for t in spec.tracks] == [None, True]
    spec = load_spec(write(folder, BASE.replace('file = "two.wav"', 'file = "two.wav"\nseparate = false')))
    assert [t.separate for t in spec.tracks] == [None, False]
    assert [t.separate for t in load_spec(write(folder, BASE)).tracks] == [None, None]  # --stems decides
    spec = load_spec(write(folder, BASE.replace('artist = "Tester"', 'artist = "Tester"\nseparate = true')))
    assert [t.separate for t in spec.tracks] == [None, True]  # the generated track is left as it is


@pytest.mark.parametrize(
    ("old", "new", "needles"),
    [
        ('file = "two.wav"', 'file = "two.wav"\nseparate = "yes"',
         ("tracks[1].separate", "must be true or false, got 'yes'", "write separate = true|false")),
        ('file = "two.wav"', 'file = "two.wav"\nseparate = 1',
         ("tracks[1].separate", "must be true or false")),
        ('title = "One"', 'title = "One"\nseparate = true',
         ("tracks[0].separate", "track 'one' is generated by composer", "drop separate")),
        ('file = "two.wav"', 'file = "two.wav"\nstems = "two-stems"\nseparate = true',
         ("tracks[1].separate", "track 'two' has a stems folder (two-stems)",
          "drop stems to separate the mix")),
        ('title = "One"', 'title = "One"\nseparate = false', ("tracks[0].separate", "is generated by")),
        ('artist = "Tester"', 'artist = "Tester"\nseparate = "no"',
         ("defaults.separate", "must be true or false")),
    ],
)
def test_separate_errors(folder: Path, old: str, new: str, needles: tuple[str, ...]) -> None:
    """A non-bool `separate`, or one on a track with no mix to separate: one line with its file:line."""
    (folder / "two-stems").mkdir()
    (folder / "two-stems" / "drums.wav").write_bytes((folder / "two.wav").read_bytes())
    text = BASE.replace(old, new, 1)
    msg = _error(write(folder, text))
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("separate"))
    assert "\n" not in msg and f"spec.toml:{line}:" in msg and all(n in msg for n in needles), msg
