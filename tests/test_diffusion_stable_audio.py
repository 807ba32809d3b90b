"""Stable Audio engine on a tiny random pipeline (DiT, Oobleck VAE, T5, word-level tokenizer).

The pipeline is saved with ``save_pretrained`` and loaded back through the engine's own
local-only loading; real Stable Audio Open weights are never needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from music.audio import Audio
from music.engines import Request, get_engine
from music.engines.stable_audio import StableAudioEngine, find_pipeline
from music.errors import EngineError, ModelNotFoundError
from tests.tiny_diffusers import SR

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def engine(tiny_sao: Path) -> StableAudioEngine:
    return StableAudioEngine(model=str(tiny_sao), steps=3)


def test_text_to_audio_with_duration_negative_prompt_and_seed(engine: StableAudioEngine) -> None:
    req = Request(
        prompt="dark techno kick", seconds=0.005, seed=3, params={"negative_prompt": "hammer", "n": 2}
    )
    take = engine.generate(req)
    assert take.mix.sr == SR and take.mix.channels == 2 and take.mix.n == 40
    assert list(take.extras) == ["variation-02"]
    again = engine.generate(req)
    assert np.array_equal(take.mix.samples, again.mix.samples)
    other = engine.generate(
        Request(prompt="dark techno kick", seconds=0.005, seed=4, params={"negative_prompt": "hammer"})
    )
    assert not np.array_equal(take.mix.samples, other.mix.samples)
    prov = take.provenance
    assert prov["engine"] == "stable-audio" and len(prov["weights_sha256"]) == 64
    assert prov["params"]["negative_prompt"] == "hammer" and prov["params"]["steps"] == 3
    assert prov["scheduler"] == "CosineDPMSolverMultistepScheduler"


def test_prompt_and_negative_prompt_change_the_output(engine: StableAudioEngine) -> None:
    base = engine.generate(Request(prompt="warm pad", seconds=0.008, seed=1)).mix.samples
    other = engine.generate(
        Request(prompt="hammer hitting wooden surface", seconds=0.008, seed=1)
    ).mix.samples
    neg = engine.generate(
        Request(prompt="warm pad", seconds=0.008, seed=1, params={"negative_prompt": "kick drum"})
    ).mix.samples
    assert base.shape == (2, 64)
    assert not np.array_equal(base, other) and not np.array_equal(base, neg)


def test_duration_is_capped_by_the_model_window(engine: StableAudioEngine) -> None:
    assert engine.max_seconds == pytest.approx(8 * 8 / SR)
    with pytest.raises(EngineError, match="at most"):
        engine.generate(Request(prompt="kick", seconds=1.0))


def test_init_audio_variation(engine: StableAudioEngine) -> None:
    src = engine.generate(Request(prompt="kick", seconds=0.006, seed=5)).mix
    same = engine.vary(src, Request(prompt="kick", params={"strength": 0.0}))
    assert np.array_equal(same.mix.samples, src.samples)
    v = engine.vary(src, Request(prompt="kick", seed=1, params={"strength": 0.4, "n": 2}))
    assert v.mix.n == src.n and v.mix.sr == SR and list(v.extras) == ["variation-02"]
    assert not np.array_equal(v.mix.samples, src.samples)
    assert v.provenance["params"]["strength"] == 0.4
    again = engine.vary(src, Request(prompt="kick", seed=1, params={"strength": 0.4, "n": 2}))
    assert np.array_equal(v.mix.samples, again.mix.samples)
    # through generate(): init_audio + strength
    g = engine.generate(Request(prompt="kick", seed=1, params={"init_audio": src, "strength": 0.4, "n": 2}))
    assert np.array_equal(g.mix.samples, v.mix.samples)
    # the scheduler is restored after a variation
    assert float(engine.pipe.scheduler.config.sigma_max) == 500.0


def test_missing_pipeline_is_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(ModelNotFoundError) as err:
        find_pipeline(None)
    msg = str(err.value)
    assert "\n" not in msg and "models--stabilityai--stable-audio-open-1.0" in msg
    assert str(tmp_path / "models" / "stable-audio-open-1.0") in msg
    with pytest.raises(ModelNotFoundError, match="not a diffusers Stable Audio folder"):
        get_engine("stable-audio", checkpoint=str(tmp_path)).generate(Request(prompt="x"))


def test_found_in_the_models_dir_by_name(tiny_sao: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tiny_sao.parent))
    name, folder = find_pipeline(tiny_sao.name)
    assert folder == tiny_sao and name == tiny_sao.name
    e = StableAudioEngine(model=tiny_sao.name, steps=2)
    clip = e.generate(Request(prompt="loop", seconds=0.002, seed=0)).mix
    assert isinstance(clip, Audio) and clip.n == 16


def test_dance_diffusion_options_are_refused(engine: StableAudioEngine) -> None:
    with pytest.raises(EngineError, match="inpaint, loop apply to --engine dance-diffusion"):
        engine.generate(Request(prompt="kick", params={"inpaint": "0:1", "loop": True}))


def test_cli_generate_and_vary_with_stable_audio(runner, tiny_sao: Path, tmp_path: Path) -> None:
    from music.audio import load
    from songmint.cli import main
    from tests.cli_helper import songmint_json

    out = tmp_path / "kick"
    doc = songmint_json(runner, "generate", "dark techno kick", "--engine", "stable-audio",
                        "--model", tiny_sao, "--seconds", 0.005, "--negative-prompt", "hammer",
                        "--steps", 2, "--seed", 3, "--out", out)
    assert doc["sample_rate"] == SR and doc["provenance"]["params"]["negative_prompt"] == "hammer"
    mix = out / doc["mix"]
    vary = ["vary", mix, "--engine", "stable-audio", "--model", tiny_sao]
    v = songmint_json(runner, *vary, "--prompt", "kick", "--strength", 0.5, "--steps", 2,
                      "--out", tmp_path / "v")
    assert v["provenance"]["operation"] == "vary" and v["provenance"]["params"]["strength"] == 0.5
    assert load(tmp_path / "v" / v["mix"]).n == load(mix).n
    res = runner.invoke(main, [str(a) for a in vary] + ["--sampler", "ddim", "--out", str(tmp_path / "w")])
    assert res.exit_code == 2 and "--sampler applies to --engine dance-diffusion" in res.stderr
