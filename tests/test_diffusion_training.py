"""``songmint train``: a wall-clock budget ends a run cleanly; Min-SNR weighting; EDM noise levels;
learning-rate schedules."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from music.engines.dance_diffusion import DanceDiffusionEngine
from music.engines.dd_training import loss_weights, lr_scale, sample_times
from music.errors import EngineError
from songmint.cli import main
from tests.test_diffusion import SR, write_one_shots


def test_time_budget_stops_the_run_with_checkpoint_and_final_weights(tmp_path: Path) -> None:
    samples = write_one_shots(tmp_path / "kicks", n=3)
    model = tmp_path / "model"
    args = ["train", str(samples), "--out", str(model), "--preset", "tiny", "--sample-rate", str(SR)]
    args += ["--sample-size", "256", "--batch-size", "2", "--demo-every", "0", "--save-every", "100000"]
    # 1e-5 minutes (0.6 ms) is used up by the first step on any machine, so the run ends far short
    # of its 100 000 steps; the check is on what a stopped run leaves, not on how long it took.
    res = CliRunner().invoke(main, [*args, "--max-steps", "100000", "--max-minutes", "0.00001", "--json"])
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
    res = CliRunner().invoke(main, [*args, "--max-steps", "100000", "--max-minutes", "0.00001", "--resume"])
    assert res.exit_code == 0, res.output
    assert "time budget used up" in res.output
    assert json.loads((model / "training.json").read_text())["steps"] == 1

    # without a budget the step count decides, as before
    res = CliRunner().invoke(main, [*args, "--max-steps", "3", "--resume", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["stopped_by"] == "steps" and summary["steps"] == 3


def test_min_snr_weights_follow_the_snr() -> None:
    t = torch.tensor([0.02, 0.2, 0.5, 0.8, 0.999])
    snr = (torch.cos(t * torch.pi / 2) / torch.sin(t * torch.pi / 2)) ** 2
    w = loss_weights(t, weighting="min-snr", gamma=5.0)
    # capped at gamma where the sample is nearly clean, SNR / (SNR + 1) below it
    assert torch.allclose(w[:2], 5.0 / (snr[:2] + 1))
    assert torch.allclose(w[2:], snr[2:] / (snr[2:] + 1))
    assert float(w[2]) == pytest.approx(0.5)  # SNR 1 at t = 0.5
    assert float(w[-1]) < 1e-5 and float(w[0]) < 0.02  # pure noise and nearly clean: little weight
    assert torch.equal(loss_weights(t), torch.ones(5))
    with pytest.raises(EngineError, match="min-snr"):
        loss_weights(t, weighting="snr+")


def test_min_snr_training_lowers_the_loss(tmp_path: Path) -> None:
    samples = write_one_shots(tmp_path / "kicks", n=4)
    model = tmp_path / "model"
    args = ["train", str(samples), "--out", str(model), "--preset", "tiny", "--sample-rate", str(SR)]
    args += ["--sample-size", "256", "--batch-size", "4", "--demo-every", "0", "--max-steps", "40"]
    args += ["--lr", "3e-3"]
    res = CliRunner().invoke(main, [*args, "--loss-weighting", "min-snr", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["config"]["weighting"] == "min-snr"
    # the validation loss is the unweighted v-loss either way, so runs compare
    assert summary["val_loss_end"] < 0.7 * summary["val_loss_start"]
    # the weighting is applied: the same seed and data without it train other weights
    args[3] = str(tmp_path / "uniform")
    res = CliRunner().invoke(main, [*args, "--json"])
    assert res.exit_code == 0, res.output
    uniform = json.loads(res.stdout)
    assert uniform["val_loss_start"] == summary["val_loss_start"]  # same start, same data
    assert uniform["val_loss_end"] != summary["val_loss_end"]
    bad = CliRunner().invoke(main, [*args, "--loss-weighting", "snr+"])
    assert bad.exit_code != 0 and "snr+" in bad.output


def test_log_normal_times_follow_edm_noise_levels() -> None:
    def draw(n: int, **kw: object) -> torch.Tensor:
        return sample_times(n, generator=torch.Generator().manual_seed(3), **kw)  # type: ignore[arg-type]

    t = draw(20_000, sampling="log-normal")
    assert t.dtype == torch.float32 and t.shape == (20_000,)
    assert float(t.min()) > 0.0 and float(t.max()) < 1.0
    # ln σ of the cosine schedule's noise-to-signal ratio σ = tan(πt/2) is N(-1.2, 1.2²)
    log_sigma = torch.log(torch.tan(t.double() * torch.pi / 2))
    assert float(log_sigma.mean()) == pytest.approx(-1.2, abs=0.03)
    assert float(log_sigma.std()) == pytest.approx(1.2, abs=0.03)
    assert float(t.median()) == pytest.approx(0.186, abs=0.005)
    assert float((t > 0.5).float().mean()) == pytest.approx(0.16, abs=0.01)  # uniform: 0.5
    shifted = draw(20_000, sampling="log-normal", log_sigma_mean=0.0, log_sigma_std=0.5)
    assert float(shifted.median()) == pytest.approx(0.5, abs=0.01)
    assert torch.equal(draw(20_000, sampling="log-normal"), t)  # the generator decides
    other = sample_times(8, generator=torch.Generator().manual_seed(4), sampling="log-normal")
    assert not torch.equal(other, draw(8, sampling="log-normal"))
    # uniform is the draw sample-generator makes, bit for bit
    assert torch.equal(draw(8), torch.rand(8, generator=torch.Generator().manual_seed(3)))
    with pytest.raises(EngineError, match="log-normal"):
        draw(8, sampling="edm")


def test_log_normal_training_lowers_the_loss(tmp_path: Path) -> None:
    samples = write_one_shots(tmp_path / "kicks", n=4)
    args = ["train", str(samples), "--out", str(tmp_path / "log-normal"), "--preset", "tiny"]
    args += ["--sample-rate", str(SR), "--sample-size", "256", "--batch-size", "4", "--demo-every", "0"]
    args += ["--max-steps", "40", "--lr", "3e-3"]
    res = CliRunner().invoke(main, [*args, "--time-sampling", "log-normal", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["config"]["time_sampling"] == "log-normal"
    assert summary["val_loss_end"] < 0.7 * summary["val_loss_start"]
    clip = DanceDiffusionEngine(checkpoint=str(tmp_path / "log-normal"), steps=2).sample(n=1, seed=0)[0]
    assert clip.n == 256 and bool(torch.isfinite(torch.from_numpy(clip.samples)).all())
    args[3] = str(tmp_path / "uniform")
    uniform = json.loads(CliRunner().invoke(main, [*args, "--json"]).stdout)
    assert uniform["config"]["time_sampling"] == "uniform"
    assert uniform["val_loss_start"] == summary["val_loss_start"]
    assert uniform["val_loss_end"] != summary["val_loss_end"]  # other noise levels, other weights
    bad = CliRunner().invoke(main, [*args, "--time-sampling", "edm"])
    assert bad.exit_code != 0 and "edm" in bad.output


def test_cosine_schedule_and_warmup() -> None:
    assert lr_scale(step=0, progress=0.0) == 1.0 and lr_scale(step=9, progress=0.9) == 1.0
    cos = [lr_scale(step=s, progress=p, schedule="cosine") for s, p in ((0, 0.0), (5, 0.5), (10, 1.0))]
    assert cos == pytest.approx([1.0, 0.5, 0.0], abs=1e-12)
    # warm-up: (step + 1) / warmup_steps of the schedule's value, then the schedule alone
    assert lr_scale(step=0, progress=0.0, warmup_steps=4) == pytest.approx(0.25)
    assert lr_scale(step=3, progress=0.0, warmup_steps=4) == 1.0
    assert lr_scale(step=1, progress=0.5, schedule="cosine", warmup_steps=4) == pytest.approx(0.25)
    with pytest.raises(EngineError, match="cosine"):
        lr_scale(step=0, progress=0.0, schedule="linear")


def test_cosine_schedule_is_what_the_optimizer_used(tmp_path: Path) -> None:
    samples = write_one_shots(tmp_path / "kicks", n=3)
    model = tmp_path / "model"
    args = ["train", str(samples), "--out", str(model), "--preset", "tiny", "--sample-rate", str(SR)]
    args += ["--sample-size", "256", "--batch-size", "2", "--demo-every", "0", "--save-every", "4"]
    args += ["--lr", "1e-3", "--warmup-steps", "2"]
    res = CliRunner().invoke(main, [*args, "--max-steps", "8", "--lr-schedule", "cosine", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["config"]["lr_schedule"] == "cosine"
    # the optimizer saved after step k ran step k - 1 (0-based) at the schedule's rate
    for k in (4, 8):
        opt = torch.load(model / "checkpoints" / f"step-{k:07d}" / "optimizer.pt", weights_only=True)
        want = 1e-3 * lr_scale(step=k - 1, progress=(k - 1) / 8, schedule="cosine", warmup_steps=2)
        assert opt["param_groups"][0]["lr"] == pytest.approx(want, rel=1e-12)
    assert 0 < want < 1e-4  # the last step is nearly annealed
    # a run resumed from step 4 goes on along the same schedule: the same weights as in one go
    again = tmp_path / "again"
    shutil.copytree(model / "checkpoints" / "step-0000004", again / "checkpoints" / "step-0000004")
    args[3] = str(again)
    res = CliRunner().invoke(main, [*args, "--max-steps", "8", "--lr-schedule", "cosine", "--resume"])
    assert res.exit_code == 0, res.output
    weights = "diffusion_pytorch_model.safetensors"
    assert (again / weights).read_bytes() == (model / weights).read_bytes()
    bad = CliRunner().invoke(main, [*args, "--max-steps", "4", "--lr-schedule", "linear"])
    assert bad.exit_code != 0 and "linear" in bad.output
