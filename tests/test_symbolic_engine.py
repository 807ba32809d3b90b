"""The ``symbolic`` engine end to end: weights -> tokens -> MIDI per part -> stems and a master.

A tiny randomly initialised model, exported through the same ``training.export`` as the
shipped weights, drives most tests (fast, and independent of the trained weights); the
shipped weights get their own checks (present, hashed, loadable, and a short take).
"""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from music.engines import get_engine  # noqa: E402
from music.engines.base import Request  # noqa: E402
from music.engines.symbolic import engine as sym  # noqa: E402
from music.engines.symbolic import tokens as tk  # noqa: E402
from music.engines.symbolic import training  # noqa: E402
from music.engines.symbolic.configs import TINY  # noqa: E402
from music.errors import EngineError  # noqa: E402

pytestmark = pytest.mark.ml


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    torch.manual_seed(0)
    model = training.SymbolicTransformer(TINY.model_config())
    path = tmp_path_factory.mktemp("w") / "tiny.safetensors"
    training.export(model, path=path, train_config=TINY, manifest={"works": 0}, scores={"held_out_bits": 8.0})
    return path


def _req(**params):
    return Request(seed=1, params={"sample_rate": 22050, "bars": 2, **params})


def test_engine_is_registered_and_makes_a_composer_like_take(tiny_weights) -> None:
    import mido

    eng = get_engine("symbolic", weights=tiny_weights)
    take = eng.generate(_req(style="chorale", key="G major"))
    assert list(take.stems) == ["soprano", "alto", "tenor", "bass"]
    assert set(take.midi) == {"soprano", "alto", "tenor", "bass", "all"}
    assert take.key == "G major" and take.bpm == 72.0 and take.seed == 1
    assert take.mix.sr == 22050 and take.mix.samples.shape[0] == 2
    beats = 2 * 4
    assert take.mix.duration == pytest.approx(beats * 60 / 72 + sym.TAIL_SECONDS, abs=0.01)
    assert all(s.n == take.mix.n for s in take.stems.values())
    assert np.abs(take.mix.samples).max() > 0.05
    prov = take.provenance
    assert prov["engine"] == "symbolic" and prov["engine_version"] == sym.VERSION
    assert prov["model"]["sha256"] == hashlib.sha256(tiny_weights.read_bytes()).hexdigest()
    assert prov["params"]["style"] == "chorale" and prov["params"]["bars"] == 2
    mf = mido.MidiFile(file=io.BytesIO(take.midi["all"]))
    notes = [m for t in mf.tracks for m in t if m.type == "note_on" and m.velocity > 0]
    assert len(notes) == prov["params"]["notes"]
    pcs = {0, 2, 4, 6, 7, 9, 11}  # G major, constrained by default
    assert all(m.note % 12 in pcs for m in notes)


def test_same_seed_same_bytes_other_seed_other_notes(tiny_weights) -> None:
    eng = sym.SymbolicEngine(weights=tiny_weights)
    a = eng.generate(_req(style="fiddle", key="D major", bars=3))
    b = eng.generate(_req(style="fiddle", key="D major", bars=3))
    assert a.mix.samples.tobytes() == b.mix.samples.tobytes()
    assert a.midi == b.midi and list(a.stems) == ["fiddle"]
    c = eng.generate(Request(seed=2, params={"sample_rate": 22050, "bars": 3, "style": "fiddle",
                                             "key": "D major"}))
    assert c.midi["all"] != a.midi["all"]


def test_resolve_params_and_errors() -> None:
    plan = sym.resolve(Request(seconds=20, params={"style": "reel", "key": "E minor", "bpm": 120,
                                                   "meter": "6/8"}))
    assert plan.style == "fiddle" and plan.header.tonic == 4 and plan.header.mode == "minor"
    assert plan.bars == round(20 * 120 / 60 / 3)  # 6/8: three quarter notes a bar
    assert sym.resolve(Request()).bars == 16
    for params, msg in [({"style": "jazz"}, "unknown style"), ({"meter": "7/8"}, "unsupported metre"),
                        ({"bpm": 1000}, "out of range"), ({"key": "H major"}, "malformed key"),
                        ({"colour": 1}, "unknown symbolic parameter"), ({"constrain": "maybe"}, "boolean")]:
        with pytest.raises(EngineError, match=msg):
            sym.resolve(Request(params=params))


def test_missing_or_broken_weights_fail_clearly(tmp_path) -> None:
    with pytest.raises(EngineError, match="not found"):
        sym.load_model(tmp_path / "none.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\0" * 64)
    bad.with_suffix(".json").write_text(json.dumps({"model": {"vocab_size": tk.vocab_size()}}))
    with pytest.raises(EngineError, match="cannot load"):
        sym.load_model(bad)


def test_events_to_notes_cuts_overlaps_within_a_voice() -> None:
    ev = [tk.Event(0, 0, 0, 72, 8), tk.Event(0, 4, 0, 74, 4), tk.Event(0, 0, 1, 60, 16)]
    notes = sym.events_to_notes(ev, meter="4/4", voices=2)
    assert [(n.start, n.dur, n.pitch) for n in notes[0]] == [(0.0, 1.0, 72), (1.0, 1.0, 74)]
    assert [(n.start, n.dur) for n in notes[1]] == [(0.0, 4.0)]


def test_shipped_weights_are_packaged_hashed_and_small() -> None:
    if not sym.WEIGHTS.exists():
        pytest.fail(f"shipped weights missing: {sym.WEIGHTS}")
    card = json.loads(sym.WEIGHTS.with_suffix(".json").read_text())
    assert card["sha256"] == hashlib.sha256(sym.WEIGHTS.read_bytes()).hexdigest()
    assert sym.WEIGHTS.stat().st_size <= 25 * 2**20
    assert {"model", "train", "data", "scores"} <= set(card)
    assert card["data"]["works"] > 1000 and card["scores"]["held_out_bits"] < 4.0
    model, _ = sym.load_model()
    assert model.n_params() == card["params"]


def test_continue_midi_keeps_the_prompt_and_its_key(tiny_weights) -> None:
    eng = sym.SymbolicEngine(weights=tiny_weights)
    first = eng.generate(_req(style="chorale", key="A minor"))
    more = eng.continue_midi(first.midi["all"], Request(seed=5, params={"sample_rate": 22050, "bars": 2}))
    assert more.key == "A minor" and more.bpm == pytest.approx(72.0)
    assert more.provenance["continued"]["prompt_bars"] == 2
    prompt_seconds = 2 * 4 * 60 / 72
    assert more.extras["continuation"].duration == pytest.approx(more.mix.duration - prompt_seconds, abs=0.01)

    before, after = _midi_notes(first.midi["all"]), _midi_notes(more.midi["all"])
    assert after[:len(before)] == before and len(after) > len(before)
    with pytest.raises(EngineError, match="not a readable MIDI"):
        eng.continue_midi(b"junk", Request())


def test_cli_trains_a_tiny_config_and_generates_with_it(tmp_path, runner) -> None:
    """``train-symbolic`` (tiny config, a small corpus) -> exported weights -> ``generate``."""
    from music.engines.symbolic import corpus
    from songmint.cli import main as cli
    from tests.test_symbolic import synthetic_dataset

    data = corpus.save(synthetic_dataset(), tmp_path / "corpus.npz")
    weights = tmp_path / "w.safetensors"
    res = runner.invoke(cli, ["train-symbolic", "--config", "tiny", "--corpus", str(data),
                              "--out", str(tmp_path / "run"), "--export", str(weights)])
    assert res.exit_code == 0, res.output
    assert "ETA" in res.output and "exported" in res.output
    card = json.loads(weights.with_suffix(".json").read_text())
    assert card["train"]["steps"] == TINY.steps and card["data"]["works"] == 24
    assert card["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    res = runner.invoke(cli, ["generate", "--engine", "symbolic", "--param", f"weights={weights}",
                              "--param", "style=chorale", "--key", "G major", "--bars", "2", "--seed", "1",
                              "--param", "sample_rate=22050", "--out", str(tmp_path / "take")])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "take" / "take.json").read_text())
    assert doc["key"] == "G major" and set(doc["stems"]) == {"soprano", "alto", "tenor", "bass"}
    assert doc["provenance"]["model"]["sha256"] == card["sha256"]
    bad = runner.invoke(cli, ["train-symbolic", "--config", "tiny", "--corpus", str(data),
                              "--out", str(tmp_path / "run2"), "--export", str(tmp_path / "w.pt")])
    assert bad.exit_code == 2 and ".safetensors" in bad.output
    assert not (tmp_path / "run2").exists()


def test_generate_takes_style_as_its_own_option(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`generate --engine symbolic --style chorale --key ... --bars N` (the issue's command line)."""
    import json

    from click.testing import CliRunner

    from songmint.cli import main

    out = tmp_path / "chorale"
    args = ["generate", "--engine", "symbolic", "--style", "chorale", "--key", "G major", "--bars", "2"]
    r = CliRunner().invoke(main, [*args, "--seed", "1", "--out", str(out)])
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "take.json").read_text())
    assert doc["key"] == "G major" and doc["provenance"]["request_params"]["style"] == "chorale"
    assert set(doc["stems"]) == {"soprano", "alto", "tenor", "bass"} and doc["midi"]


# --------------------------------------------------------------------------- continue --engine symbolic


def _midi_notes(data: bytes) -> list[tuple[int, int]]:
    import mido

    out = []
    for track in mido.MidiFile(file=io.BytesIO(data)).tracks:
        now = 0
        for m in track:
            now += m.time
            if m.type == "note_on" and m.velocity > 0:
                out.append((now, m.note))
    return sorted(out)


def test_cli_continues_a_midi_file_and_a_take_folder(tiny_weights, tmp_path, runner) -> None:
    """`continue --engine symbolic` on a .mid and on a take folder: the prompt's notes, then new bars."""
    from songmint.cli import main as cli

    first = sym.SymbolicEngine(weights=tiny_weights).generate(_req(style="fiddle", key="D major", bars=2))
    mid = tmp_path / "tune.mid"
    mid.write_bytes(first.midi["all"])
    env: dict[str, str] = {}  # the CLI runs the shipped weights
    res = runner.invoke(cli, ["continue", str(mid), "--engine", "symbolic", "--bars", "2", "--seed", "3",
                              "--lufs", "-16", "--out", str(tmp_path / "more")], env=env)
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "more" / "take.json").read_text())
    prov = doc["provenance"]
    assert prov["engine"] == "symbolic" and prov["params"]["style"] == "folk"  # one part
    assert prov["continued"]["prompt_bars"] == 2 and prov["continued"]["new_bars"] == 2
    assert prov["continued"]["prompt_sha256"] == hashlib.sha256(first.midi["all"]).hexdigest()
    assert prov["model"]["sha256"] == hashlib.sha256(sym.WEIGHTS.read_bytes()).hexdigest()
    assert doc["key"] == "D major" and list(doc["stems"]) == ["melody"] and "continuation" in doc["extras"]
    notes = _midi_notes((tmp_path / "more" / doc["midi"]["all"]).read_bytes())
    before = _midi_notes(first.midi["all"])
    assert notes[:len(before)] == before and len(notes) > len(before)
    bar_ticks = 4 * 480
    assert max(t for t, _ in notes) >= 2 * bar_ticks  # notes in the new bars

    # a take folder: its MIDI, and a symbolic take's own style
    take_dir = tmp_path / "chorale"
    res = runner.invoke(cli, ["generate", "--engine", "symbolic", "--style", "renaissance", "--bars", "1",
                              "--param", "sample_rate=22050", "--out", str(take_dir)], env=env)
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["continue", str(take_dir), "--engine", "symbolic", "--bars", "1", "--json",
                              "--out", str(tmp_path / "chorale2")], env=env)
    assert res.exit_code == 0, res.output
    doc2 = json.loads(res.stdout)
    assert doc2["provenance"]["params"]["style"] == "renaissance"
    assert doc2["provenance"]["params"]["meter"] == "4/2"
    assert set(doc2["stems"]) == {"cantus", "altus", "tenor", "bassus"}
    # the same command twice: the same bytes
    res = runner.invoke(cli, ["continue", str(take_dir), "--engine", "symbolic", "--bars", "1",
                              "--out", str(tmp_path / "chorale3")], env=env)
    assert res.exit_code == 0, res.output
    for rel in [doc2["mix"], *doc2["midi"].values()]:
        assert (tmp_path / "chorale2" / rel).read_bytes() == (tmp_path / "chorale3" / rel).read_bytes()


@pytest.mark.parametrize(("make", "args", "message"), [
    (lambda d: d.joinpath("x.mid").write_bytes(b"not midi at all"), [], "not a readable MIDI"),
    (lambda d: d.joinpath("x.mid").write_bytes(
        b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk\x00\x00\x00\x04\x00\xff\x2f\x00"), [], "no notes"),
    (lambda d: d.joinpath("x.wav").write_bytes(b"RIFF"), [], "MIDI file (.mid) or a take folder"),
    (lambda d: d.joinpath("x.mid").write_bytes(b""), ["--loop"], "--loop does not apply"),
    (lambda d: d.joinpath("x.mid").write_bytes(b""), ["--bars", "2", "--seconds", "3"], "not both"),
    (lambda d: d.joinpath("x").mkdir(), [], "no take.json"),
])
def test_cli_continue_symbolic_refuses_bad_input_in_one_line(tmp_path, runner, make, args, message) -> None:
    from songmint.cli import main as cli

    make(tmp_path)
    src = next(p for p in tmp_path.iterdir())
    res = runner.invoke(cli, ["continue", str(src), "--engine", "symbolic", *args,
                              "--out", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert message in res.output and len(res.output.strip().splitlines()) == 1, res.output
    assert not (tmp_path / "out").exists()


def test_cli_continue_options_stay_with_their_engine(tmp_path, runner) -> None:
    from songmint.cli import main as cli

    src = tmp_path / "a.wav"
    src.write_bytes(b"")
    res = runner.invoke(cli, ["continue", str(src), "--bars", "4", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--bars applies to --engine symbolic, not units" in res.output
    res = runner.invoke(cli, ["continue", str(src), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--seconds is required" in res.output


# --------------------------------------------------------------------------- time signature


@pytest.mark.parametrize(("meter", "click"), [("3/4", 24), ("6/8", 36), ("4/2", 48)])
def test_the_midi_says_the_takes_metre(tiny_weights, meter: str, click: int) -> None:
    import mido

    take = sym.SymbolicEngine(weights=tiny_weights).generate(_req(style="folk", key="G major", meter=meter))
    num, den = map(int, meter.split("/"))
    for name, data in take.midi.items():
        tracks = mido.MidiFile(file=io.BytesIO(data)).tracks
        sigs = [(m.numerator, m.denominator, m.clocks_per_click) for t in tracks for m in t
                if m.type == "time_signature"]
        assert sigs == [(num, den, click)], name
    # continuing the file reads its metre back (no metre given)
    _, facts = sym.midi_events(take.midi["all"])
    assert facts["meter"] == meter


def test_midi_writer_meter_checks_and_keeps_4_4_bytes() -> None:
    from music.engines.composer.midi import Part, midi_bytes, parse_meter
    from music.engines.composer.patterns import Note
    from music.engines.composer.theory import Key

    part = Part("lead", [Note(0.0, 1.0, 60, 90)], channel=0, program=0, bank=0, pan=64, reverb=0, chorus=0)
    four = midi_bytes([part], bpm=120.0, key=Key(0, "major"), title="t", end_beat=4.0)
    assert midi_bytes([part], bpm=120.0, key=Key(0, "major"), title="t", end_beat=4.0, meter="4/4") == four
    assert b"\xff\x58\x04\x04\x02\x18\x08" in four  # FF 58: 4/4, 24 clocks a click, 8 32nds a quarter
    assert parse_meter("12/8") == (12, 8) and parse_meter((3, 4)) == (3, 4)
    for bad in ("3/5", "x/4", "0/4", "7"):
        with pytest.raises(ValueError, match="time signature"):
            parse_meter(bad)
