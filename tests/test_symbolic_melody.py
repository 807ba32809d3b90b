"""``generate --genre G --melody-engine symbolic``: the composer's take with the symbolic model's lead.

Runs the shipped weights (a 16-bar one-voice line is a few hundred tokens, well under a second).
"""

from __future__ import annotations

import hashlib
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("safetensors")

from music.engines.base import Request
from music.engines.composer import ComposerEngine
from music.engines.composer.arrangement import chord_at, section_at
from music.engines.composer.patterns import Context
from music.engines.symbolic import melody
from music.engines.symbolic.engine import WEIGHTS
from music.errors import EngineError

pytestmark = pytest.mark.ml


def _plan(genre: str, key: str, engine: str, seed: int = 3, bars: int = 16):
    return ComposerEngine().plan(Request(seed=seed, params={"genre": genre, "key": key, "bars": bars,
                                                            "melody_engine": engine}))


@pytest.mark.parametrize(("genre", "key"), [("house", "A minor"), ("ballad", "Eb major")])
def test_the_lead_comes_from_the_model_and_the_rest_from_the_composer(genre: str, key: str) -> None:
    sym, own = _plan(genre, key, "symbolic"), _plan(genre, key, "composer")
    for part in ("drums", "bass", "chords"):
        assert sym.notes[part] == own.notes[part], part
    assert sym.progression == own.progression and sym.key == own.key and sym.bpm == own.bpm
    lead = [(round(n.start, 2), n.pitch) for n in sym.notes["lead"]]
    assert len(lead) > 8 and lead != [(round(n.start, 2), n.pitch) for n in own.notes["lead"]]
    rec = sym.params["melody"]
    assert sym.params["melody_engine"] == "symbolic" and "melody_engine" not in own.params
    assert rec["sha256"] == hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()
    assert rec["style"] == ("fiddle" if genre == "house" else "folk") and rec["notes"] == len(lead)
    assert "melody" not in own.params
    # same seed, same notes; another seed, another line
    assert _plan(genre, key, "symbolic").notes["lead"] == sym.notes["lead"]
    assert _plan(genre, key, "symbolic", seed=4).notes["lead"] != sym.notes["lead"]


def test_the_line_keeps_to_the_key_the_chords_the_grid_and_the_form() -> None:
    plan = _plan("house", "F# minor", "symbolic", bars=24)
    ctx = Context(genre=plan.genre, key=plan.key, bars=plan.bars, sections=plan.sections, chords=plan.chords,
                  loop=plan.loop)
    notes, rec = melody.compose_lead(ctx, seed=11)
    assert notes and rec["grid_beats"] == 0.25
    scale = set(plan.key.scale_pcs())
    low, high = plan.genre.lead_range
    for n in notes:
        tones = set(chord_at(plan.chords, n.start).chord.pcs[:3])
        assert n.pitch % 12 in scale | tones
        if n.start == int(n.start):  # on a beat: a tone of the chord sounding there
            assert n.pitch % 12 in tones, (n, tones)
        assert (n.start / 0.25).is_integer() and low <= n.pitch <= high
        assert "lead" in section_at(plan.sections, int(n.start // 4)).parts
        assert n.start + n.dur <= plan.beats
    starts = [n.start for n in notes]
    assert starts == sorted(set(starts))  # one voice


def test_cli_genre_with_the_symbolic_melody_same_bytes_for_a_seed(tmp_path, runner) -> None:
    from songmint.cli import main as cli

    args = ["generate", "--genre", "house", "--key", "A minor", "--bars", "8", "--melody-engine", "symbolic",
            "--seed", "2", "--param", "sample_rate=22050"]
    docs = []
    for name in ("a", "b"):
        res = runner.invoke(cli, [*args, "--out", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        docs.append(json.loads((tmp_path / name / "take.json").read_text()))
    a, b = docs
    assert a == b and set(a["stems"]) == {"drums", "bass", "chords", "lead"}
    for rel in [a["mix"], *a["stems"].values(), *a["midi"].values()]:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    import soundfile as sf

    lengths = {sf.info(str(tmp_path / "a" / rel)).frames for rel in [a["mix"], *a["stems"].values()]}
    assert len(lengths) == 1  # stems aligned with the mix
    params = a["provenance"]["params"]
    assert params["melody_engine"] == "symbolic" and params["melody"]["engine"] == "symbolic"
    assert params["melody"]["weights"] == WEIGHTS.name and a["key"] == "A minor"


def test_bad_melody_settings_are_one_line(tmp_path, runner) -> None:
    from songmint.cli import main as cli

    res = runner.invoke(cli, ["generate", "--genre", "house", "--style", "chorale",
                              "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "--melody-engine symbolic" in res.output
    assert len(res.output.strip().splitlines()) == 1 and not (tmp_path / "x").exists()
    res = runner.invoke(cli, ["generate", "--genre", "house", "--melody-engine", "symbolic",
                              "--style", "jazz", "--out", str(tmp_path / "y")])
    assert res.exit_code == 2 and "unknown style" in res.output and not (tmp_path / "y").exists()
    with pytest.raises(EngineError, match="choose composer or symbolic"):
        _plan("house", "A minor", "musenet")
