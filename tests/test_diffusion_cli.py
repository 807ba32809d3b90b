"""``songmint vary / interpolate / train / models / generate --engine dance-diffusion`` end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from music.audio import Audio, load, save
from music.takes import read_take_json
from songmint.cli import main
from tests.cli_helper import songmint_json, songmint_ok
from tests.test_diffusion import SR, sample_generator_state, tone, write_one_shots

SONGMINT = Path(sys.executable).with_name("songmint")


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    return save(tone(0.1), tmp_path / "in.wav", fmt="wav", wav_depth="float")


def test_vary_writes_a_take_with_provenance(runner, tiny_dd: Path, wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "varied"
    doc = songmint_json(runner, "vary", wav, "--strength", 0.3, "--variations", 2, "--steps", 4, "--seed", 9,
                        "--model", tiny_dd, "--out", out)
    assert doc["sample_rate"] == SR and sorted(doc["extras"]) == ["raw", "variation-02"]
    prov = doc["provenance"]
    assert prov["operation"] == "vary" and prov["seed"] == 9 and prov["params"]["strength"] == 0.3
    assert len(prov["weights_sha256"]) == 64 and prov["params"]["source"] == "in.wav"
    assert load(out / doc["mix"]).n == load(wav).n

    same = tmp_path / "same"
    songmint_ok(runner, "vary", wav, "--strength", 0, "--model", tiny_dd, "--out", same)
    doc = read_take_json(same)
    raw = load(same / doc["extras"]["raw"])  # the model's output, before mastering
    assert np.allclose(raw.samples, load(wav).samples, atol=1e-4)  # 24-bit WAV of the input itself
    assert doc["provenance"]["finish"]["master"]["true_peak"] == -1.0  # mastered (a short clip: to its peak)


def test_vary_finishes_like_generate(runner, tiny_dd: Path, wav: Path, tmp_path: Path, monkeypatch) -> None:
    """--bpm/--key/--loop/--stems/--midi on vary go through the same finishing as generate's."""
    out = tmp_path / "conformed"
    doc = songmint_json(runner, "vary", wav, "--strength", 0.3, "--steps", 2, "--model", tiny_dd,
                        "--bpm", 120, "--key", "A minor", "--midi", "--out", out)
    fin = doc["provenance"]["finish"]
    assert doc["bpm"] == 120 and doc["key"] == "A minor"
    assert "time_stretch" in fin and "pitch_shift" in fin and "transcription" in fin
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf"))
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "no-models"))
    args = ["vary", str(wav), "--model", str(tiny_dd), "--stems", "--out", str(tmp_path / "s")]
    res = runner.invoke(main, args)
    assert res.exit_code != 0 and "songmint models pull htdemucs" in res.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "s").exists()  # refused before the engine ran


def test_interpolate_writes_frames(runner, tiny_dd: Path, tmp_path: Path) -> None:
    a = save(tone(0.1, 220.0), tmp_path / "a.wav")
    b = save(tone(0.1, 440.0), tmp_path / "b.wav")
    out = tmp_path / "morph"
    doc = songmint_json(runner, "interpolate", a, b, "--frames", 3, "--diffusion-steps", 3,
                        "--model", tiny_dd, "--out", out)
    assert sorted(doc["extras"]) == ["frame-00", "frame-01", "frame-02", "raw"]
    assert doc["provenance"]["operation"] == "interpolate"
    assert doc["duration_s"] == pytest.approx(3 * 0.1, abs=1e-3)


def test_missing_checkpoint_is_a_one_line_user_error(runner, wav: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    res = runner.invoke(main, ["vary", str(wav), "--model", "honk-140k", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Dance Diffusion checkpoint 'honk-140k' not found")
    assert lines[0].endswith("fetch it with `songmint models pull honk-140k`")
    assert not (tmp_path / "o").exists()
    # the old spelling still works for one release, with a deprecation line
    res = runner.invoke(main, ["vary", str(wav), "--checkpoint", "honk-140k", "--out", str(tmp_path / "o")])
    lines = res.stderr.strip().splitlines()
    assert res.exit_code == 2 and len(lines) == 2
    assert lines[0] == "warning: --checkpoint is deprecated and goes away in the next release; use --model"
    assert "'honk-140k' not found" in lines[1]


def test_models_convert_then_list_finds_it(runner, tmp_path: Path) -> None:
    ema = sample_generator_state([16, 32, 32, 32], attn_from=2)
    ckpt = tmp_path / "pack-2k.ckpt"
    torch.save({"state_dict": {"diffusion_ema." + k: v for k, v in ema.items()}}, ckpt)
    models = tmp_path / "models"
    doc = songmint_json(runner, "models", "convert", ckpt, models / "pack", "--sample-rate", SR,
                        "--sample-size", 512)
    assert doc["sample_rate"] == SR and doc["sample_size"] == 512 and len(doc["source_sha256"]) == 64
    assert (models / "pack" / "config.json").is_file()

    env = {**os.environ, "SONGMINT_MODELS_DIR": str(models), "HF_HUB_CACHE": str(tmp_path / "hf")}
    proc = subprocess.run(
        [str(SONGMINT), "models", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)
    rows = {r["name"]: r for r in listing["checkpoints"]}
    assert listing["models_dir"] == str(models)
    assert rows["pack"]["found"] and rows["pack"]["path"] == str(models / "pack")
    assert not rows["maestro-150k"]["found"]
    assert str(models / "maestro-150k") in rows["maestro-150k"]["looked_in"]
    assert rows["stable-audio-open-1.0"]["engine"] == "stable-audio"


def test_train_then_generate_loads_the_model(runner, tmp_path: Path) -> None:
    samples = write_one_shots(tmp_path / "kicks", n=4)
    model = tmp_path / "my-kicks"
    train = ["train", samples, "--out", model, "--preset", "tiny", "--batch-size", 2, "--save-every", 3,
             "--demo-every", 0]
    res = songmint_ok(runner, *train, "--sample-rate", SR, "--sample-size", 256, "--max-steps", 6,
                      "--log-every", 2, "--json")
    summary = json.loads(res.stdout)
    assert summary["steps"] == 6 and summary["samples"] == 4 and "broken.wav" in res.stderr
    # no terminal: progress comes as lines, with an estimate first (--device auto: the CPU here)
    err = res.stderr
    assert "training 6 steps of batch 2 on cpu" in err
    assert re.search(r"estimate: [\d.]+ s per step; 4 steps left ≈ \d+ s", err), err
    for k in (4, 6):
        assert re.search(rf"step {k}/6: loss [\d.]+, [\d.]+ steps/s, ETA \d+ s", err), err
    songmint_ok(runner, *train, "--max-steps", 8, "--resume")
    assert json.loads((model / "training.json").read_text())["steps"] == 8

    out = tmp_path / "take"
    doc = songmint_json(runner, "generate", "--engine", "dance-diffusion", "--model", model,
                        "--seconds", 0.05, "--variations", 2, "--steps", 3, "--seed", 1, "--out", out)
    # the model's own output is kept as "raw" next to the mastered mix (music.engines.finish)
    assert doc["sample_rate"] == SR and sorted(doc["extras"]) == ["raw", "variation-02"]
    assert doc["provenance"]["model"] == "my-kicks" and doc["provenance"]["params"]["n"] == 2
    assert doc["provenance"]["finish"]["master"]["true_peak"] == -1.0


def test_generate_inpaint_extend_and_loop_options(runner, tiny_dd: Path, wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "edit"
    doc = songmint_json(runner, "generate", "--engine", "dance-diffusion", "--model", tiny_dd,
                        "--init-audio", wav, "--inpaint", "0.02:0.05", "--extend", 0.05, "--loop",
                        "--repaint", 2, "--sampler", "ddim", "--steps", 3, "--seed", 2, "--out", out)
    params = doc["provenance"]["params"]
    assert params["inpaint"] == "0.02:0.05" and params["extend"] == 0.05 and params["loop"] is True
    assert params["sampler"] == "ddim" and doc["provenance"]["operation"] == "edit+inpaint+extend+loop"
    assert params["repaint"] == 2
    mix: Audio = load(out / doc["mix"])
    assert mix.n == load(wav).n + round(0.05 * SR)


@pytest.mark.parametrize("content", ["nothing", "garbage"])
def test_train_on_no_readable_audio_fails_and_writes_nothing(runner, tmp_path: Path, content: str) -> None:
    samples = tmp_path / "samples"
    samples.mkdir()
    if content == "garbage":
        (samples / "x.wav").write_bytes(b"not audio at all")
    out = tmp_path / "model"
    args = ["train", str(samples), "--out", str(out), "--preset", "tiny", "--max-steps", "2"]
    res = runner.invoke(main, args)
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines()[-1].startswith(f"error: no readable audio under {samples}")
    assert not out.exists()


def test_malformed_inpaint_fails_before_the_model_loads(runner, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    args = ["generate", "--engine", "dance-diffusion", "--model", "honk-140k", "--seed", "1"]
    res = runner.invoke(main, [*args, "--inpaint", "3:1", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    # the span is checked first: the missing checkpoint is not what it reports
    assert res.stderr.strip().splitlines() == ["error: --inpaint '3:1': need 0 <= START < END"]
    assert not (tmp_path / "o").exists()


def test_generate_summary_of_a_one_shot_has_no_loudness(runner, tiny_dd: Path, tmp_path: Path) -> None:
    args = ["generate", "--engine", "dance-diffusion", "--model", str(tiny_dd), "--seconds", "0.05"]
    res = songmint_ok(runner, *args, "--steps", 2, "--seed", 1, "--out", tmp_path / "o")
    said = " ".join(res.stderr.split())
    # 0.05 s is shorter than the 400 ms gating block of BS.1770: no "-inf LUFS"
    assert "wrote " in said and "LUFS" not in said and "inf" not in said
    assert said.endswith(": 0.050 s (seed 1)")  # 400 samples at 8 kHz: a valid length already

