"""Every engine in one shape: a frozen ``Params`` parsed by one function (unknown or ill-typed keys are
one-line errors naming the valid ones, before any model loads), ``deterministic`` declared on the
engine, the model fixed at construction."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from music.engines import ENGINES, Request, get_engine
from music.engines.base import params_record, parse_params
from music.errors import EngineError
from songmint.cli import main
from tests import synth


@dataclasses.dataclass(frozen=True)
class Demo:
    steps: int = 4
    scale: float = 1.0
    loop: bool = False
    mode: str | None = None


def test_parse_params_types_and_defaults() -> None:
    p = parse_params(Demo, {"steps": "8", "scale": 2, "loop": "true", "mode": None}, engine="demo")
    assert p == Demo(steps=8, scale=2.0, loop=True, mode=None)
    assert params_record(p) == {"steps": 8, "scale": 2.0, "loop": True, "mode": None}
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.steps = 3  # type: ignore[misc]
    known = r"unknown demo parameter\(s\) device; known: steps, scale, loop, mode"
    for bad, match in [({"device": "x"}, known),
                       ({"steps": 2.5}, r"steps=2.5 is not a whole number"),
                       ({"scale": "big"}, r"scale='big' is not a number"),
                       ({"loop": "maybe"}, r"loop='maybe' is not a boolean"),
                       ({"steps": True}, r"not a whole number")]:
        with pytest.raises(EngineError, match=match) as err:
            parse_params(Demo, bad, engine="demo")
        assert "\n" not in str(err.value)


@pytest.mark.parametrize("engine", ["dance-diffusion", "stable-audio", "musicgen", "composer"])
def test_unknown_param_is_rejected_before_any_model_loads(engine: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))  # empty: a load would fail differently
    eng = get_engine(engine)
    with pytest.raises(EngineError, match=rf"unknown {engine} parameter\(s\) device; known: ") as err:
        eng.generate(Request(prompt="x", seconds=1, params={"device": "bogus"}))
    assert "\n" not in str(err.value)
    names = [f.name for f in dataclasses.fields(eng.Params)]
    assert ", ".join(names) in str(err.value)


@pytest.mark.parametrize(("engine", "pull"), [("musicgen", "musicgen-small"),
                                            ("dance-diffusion", "maestro-150k"),
                                            ("stable-audio", "stable-audio-open-1.0")])
def test_require_weights_names_the_pull_command_without_loading(engine: str, pull: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """What a release asks of each engine before any work: the default model's weights, found or a
    one-line error naming `songmint models pull NAME`; engines without weights have no such method."""
    from music.errors import ModelNotFoundError

    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelNotFoundError, match=f"`songmint models pull {pull}`") as err:
        get_engine(engine).require_weights()
    assert "\n" not in str(err.value)
    assert not any(hasattr(get_engine(e), "require_weights") for e in ("composer", "units"))


def test_units_rejects_unknown_and_ill_typed() -> None:
    eng = get_engine("units")
    audio = synth.tone(seconds=1.0)
    with pytest.raises(EngineError, match=r"unknown units parameter\(s\) device"):
        eng.continue_(audio, Request(seconds=1, params={"device": "bogus"}))
    with pytest.raises(EngineError, match=r"order='high' is not a whole number"):
        eng.continue_(audio, Request(seconds=1, params={"order": "high"}))


def test_cli_param_device_bogus_on_dance_diffusion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    res = CliRunner().invoke(main, ["generate", "--engine", "dance-diffusion", "--param", "device=bogus",
                                    "--seed", "1", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert res.stderr.startswith("error: unknown dance-diffusion parameter(s) device; known: n, steps")
    assert not (tmp_path / "o").exists()


def test_every_engine_declares_determinism_and_params() -> None:
    declared = {}
    for name in ENGINES:
        eng = get_engine(name)
        assert dataclasses.is_dataclass(eng.Params) and eng.Params.__dataclass_params__.frozen
        declared[name] = eng.deterministic
    assert declared == {"composer": True, "units": True, "musicgen": False, "dance-diffusion": False,
                        "stable-audio": False, "symbolic": True}


def test_a_request_cannot_swap_the_model(tmp_path: Path) -> None:
    eng = get_engine("dance-diffusion", model=str(tmp_path / "a"))
    with pytest.raises(EngineError, match="chosen when the engine is built"):
        eng.generate(Request(params={"checkpoint": str(tmp_path / "b")}))
    with pytest.raises(EngineError, match="unknown musicgen parameter"):
        get_engine("musicgen").generate(Request(seconds=1, params={"model": "x"}))


def test_composer_takes_stems_alone_and_is_not_finished_twice(tmp_path: Path) -> None:
    out = tmp_path / "t"
    res = CliRunner().invoke(main, ["generate", "house", "--bars", "2", "--seed", "1", "--stems", "--midi",
                                    "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    import json

    doc = json.loads(res.stdout)
    assert sorted(doc["stems"]) == ["bass", "chords", "drums", "lead"]  # --stems alone: every part
    assert "finish" not in doc["provenance"] and "raw" not in doc.get("extras", {})


def test_model_environment_variables_are_read_at_the_cli_edge(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from music.engines.dd_checkpoints import find_checkpoint
    from music.errors import ModelNotFoundError

    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("SONGMINT_DD_CHECKPOINT", "honk-140k")
    with pytest.raises(ModelNotFoundError, match="'maestro-150k'"):  # the library ignores it
        find_checkpoint(None)
    res = CliRunner().invoke(main, ["generate", "--engine", "dance-diffusion", "--seed", "1",
                                    "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "'honk-140k' not found" in res.stderr  # the CLI passes it down
