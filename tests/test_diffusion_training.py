"""``songmint train --max-minutes``: a wall-clock budget ends a run cleanly."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from music.engines.dance_diffusion import DanceDiffusionEngine
from songmint.cli import main
from tests.test_diffusion import SR, write_one_shots


def test_time_budget_stops_the_run_with_checkpoint_and_final_weights(tmp_path: Path) -> None:
    samples = write_one_shots(tmp_path / "kicks", n=3)
    model = tmp_path / "model"
    args = ["train", str(samples), "--out", str(model), "--preset", "tiny", "--sample-rate", str(SR)]
    args += ["--sample-size", "256", "--batch-size", "2", "--demo-every", "0", "--save-every", "100000"]
    # 1e-5 minutes (0.6 ms) is used up by the first step on any machine, so the run ends far short
    # of its 100 000 steps; the check is on what a stopped run leaves, not on how long it took.
    res = CliRunner().invoke(main, [*args, "--steps", "100000", "--max-minutes", "0.00001", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["stopped_by"] == "time budget"
    assert summary["steps"] == 1 and summary["config"]["max_minutes"] == 0.00001
    assert [h["step"] for h in summary["history"]] == [1]
    assert (model / "checkpoints" / "step-0000001" / "ema" / "config.json").is_file()
    assert (model / "diffusion_pytorch_model.safetensors").is_file()
    clip = DanceDiffusionEngine(checkpoint=str(model), steps=2).sample(n=1, seed=0)[0]
    assert clip.sr == SR and clip.n == 256

    # resuming with the budget already spent trains nothing more but still writes the model
    res = CliRunner().invoke(main, [*args, "--steps", "100000", "--max-minutes", "0.00001", "--resume"])
    assert res.exit_code == 0, res.output
    assert "time budget used up" in res.output
    assert json.loads((model / "training.json").read_text())["steps"] == 1

    # without a budget the step count decides, as before
    res = CliRunner().invoke(main, [*args, "--steps", "3", "--resume", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["stopped_by"] == "steps" and summary["steps"] == 3
