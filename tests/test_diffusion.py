"""Dance Diffusion engine: tiny random UNets saved and loaded through the real loading code.

No test downloads anything or needs a GPU; real checkpoints are not exercised here.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from diffusers import UNet1DModel

from music.audio import Audio, save
from music.engines import Request, get_engine
from music.engines.dance_diffusion import DanceDiffusionEngine, Repainting, parse_range
from music.engines.dd_checkpoints import (
    convert_state_dict,
    find_checkpoint,
    locate_all,
)
from music.errors import EngineError, ModelNotFoundError
from tests import synth
from tests.tiny_diffusers import SR, save_tiny, tiny_unet

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def engine(tiny_dd: Path) -> DanceDiffusionEngine:
    return DanceDiffusionEngine(checkpoint=str(tiny_dd), steps=4)


def tone(seconds: float = 0.2, freq: float = 220.0) -> Audio:
    return synth.tone(freq, seconds=seconds, sr=SR, amp=0.5).with_samples(
        np.repeat(synth.tone(freq, seconds=seconds, sr=SR, amp=0.5).samples[:1], 2, axis=0)
    )


class ConstantDenoiser(torch.nn.Module):
    """The exact v-prediction for data that is one constant level: a smooth stand-in model.

    Whatever the sampler does, generated audio converges to ``level``; joins with kept audio
    (a tone) therefore step by up to ``|tone - level|`` unless they are stitched.
    """

    def __init__(self, level: float = 0.25, size: int = 512) -> None:
        super().__init__()
        self.level = level
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.config = SimpleNamespace(sample_rate=SR, in_channels=2, sample_size=size)
        self.up_blocks = [None, None, None]

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> SimpleNamespace:
        a = torch.cos(t * math.pi / 2)[:, None, None]
        s = torch.sin(t * math.pi / 2)[:, None, None]
        eps = (x - a * self.level) / s.clamp_min(1e-4)
        return SimpleNamespace(sample=a * eps - s * self.level)


# --------------------------------------------------------------------------- loading


def test_registry_resolves_path_and_provenance_has_sha(engine: DanceDiffusionEngine, tiny_dd: Path) -> None:
    ck = find_checkpoint(str(tiny_dd))
    assert ck.format == "diffusers" and ck.weights.name.endswith(".safetensors")
    info = engine.model_info()
    assert info["model_sample_rate"] == SR and info["channels"] == 2
    assert len(info["weights_sha256"]) == 64 and info["weights_sha256"] == ck.sha256()


def test_loading_in_another_dtype_does_not_warn(tiny_dd: Path) -> None:
    # diffusers' library logger does not propagate to the root (caplog's), so listen on it
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("diffusers")
    logger.addHandler(handler)
    try:
        unet = DanceDiffusionEngine(checkpoint=str(tiny_dd), dtype="bfloat16").unet
    finally:
        logger.removeHandler(handler)
    assert next(unet.parameters()).dtype == torch.bfloat16
    assert not [r for r in records if "float32" in r.getMessage()]


def test_missing_checkpoint_is_one_line_naming_where_it_looked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(ModelNotFoundError) as err:
        DanceDiffusionEngine(model="maestro-150k").unet  # noqa: B018 (loads)
    msg = str(err.value)
    assert "\n" not in msg
    assert str(tmp_path / "models" / "maestro-150k") in msg
    assert "models--harmonai--maestro-150k" in msg and "`songmint models pull maestro-150k`" in msg
    with pytest.raises(ModelNotFoundError, match=r"no Dance Diffusion checkpoint at .*--model PATH"):
        find_checkpoint(str(tmp_path / "nothing-here"))


def test_models_dir_and_hf_cache_layouts_are_found(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    save_tiny(tmp_path / "models" / "honk-140k")
    snap = tmp_path / "hf" / "models--harmonai--maestro-150k" / "snapshots" / "abc123"
    save_tiny(snap / "unet")
    (snap / "model_index.json").write_text("{}")
    rows = {r["name"]: r for r in locate_all()}
    assert rows["honk-140k"]["found"] and rows["honk-140k"]["path"] == str(tmp_path / "models" / "honk-140k")
    assert rows["maestro-150k"]["found"] and rows["maestro-150k"]["path"] == str(snap / "unet")
    assert not rows["glitch-440k"]["found"]
    assert find_checkpoint("maestro-150k").path == snap / "unet"


def test_legacy_config_without_time_embedding_dim_loads(tmp_path: Path) -> None:
    # Harmonai's published configs predate time_embedding_dim; the width comes from the weights.
    folder = save_tiny(tmp_path / "legacy")
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg.pop("time_embedding_dim") == 16
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises((RuntimeError, ValueError, OSError)):
        UNet1DModel.from_pretrained(folder)  # what plain diffusers does with it
    e = DanceDiffusionEngine(checkpoint=str(folder), steps=2)
    assert e.unet.time_proj.weight.shape == (8,)
    ref = tiny_unet()
    x, t = torch.randn(1, 2, 64), torch.tensor([0.3])
    with torch.inference_mode():
        assert torch.equal(e.unet(x, t).sample, ref(x, t).sample)


# --------------------------------------------------------------------------- sample-generator checkpoints


def _res(sd: dict, p: str, cin: int, cmid: int, cout: int, last: bool = False) -> None:
    g = torch.Generator().manual_seed(len(sd))
    if cin != cout:
        sd[p + "skip.weight"] = torch.randn(cout, cin, 1, generator=g)
    sd[p + "main.0.weight"], sd[p + "main.0.bias"] = torch.randn(cmid, cin, 5, generator=g), torch.randn(cmid)
    sd[p + "main.1.weight"], sd[p + "main.1.bias"] = torch.randn(cmid, generator=g), torch.randn(cmid)
    sd[p + "main.3.weight"], sd[p + "main.3.bias"] = (
        torch.randn(cout, cmid, 5, generator=g),
        torch.randn(cout),
    )
    if not last:
        sd[p + "main.4.weight"], sd[p + "main.4.bias"] = torch.randn(cout, generator=g), torch.randn(cout)


def _attn(sd: dict, p: str, c: int) -> None:
    g = torch.Generator().manual_seed(len(sd))
    sd[p + "norm.weight"], sd[p + "norm.bias"] = torch.randn(c, generator=g), torch.randn(c)
    sd[p + "qkv_proj.weight"], sd[p + "qkv_proj.bias"] = (
        torch.randn(3 * c, c, 1, generator=g),
        torch.randn(3 * c),
    )
    sd[p + "out_proj.weight"], sd[p + "out_proj.bias"] = torch.randn(c, c, 1, generator=g), torch.randn(c)


def sample_generator_state(c_mults: list[int], attn_from: int, io: int = 2) -> dict[str, torch.Tensor]:
    """A state dict in the layout of sample-generator's DiffusionAttnUnet1D (written from its structure:
    nested SkipBlocks reached through ``main.7``, level 0 an nn.Sequential)."""
    sd: dict[str, torch.Tensor] = {"timestep_embed.weight": torch.randn(8, 1)}
    c0 = c_mults[0]
    _res(sd, "net.0.", io + 16, c0, c0)
    _res(sd, "net.1.", c0, c0, c0)
    _res(sd, "net.2.", c0, c0, c0)
    _res(sd, "net.4.", 2 * c0, c0, c0)
    _res(sd, "net.5.", c0, c0, c0)
    _res(sd, "net.6.", c0, c0, io, last=True)
    depth = len(c_mults)
    for d in range(1, depth):
        p = "net.3." + "main.7." * (d - 1) + "main."
        c, cp = c_mults[d], c_mults[d - 1]
        attn = d >= attn_from
        sd[p + "0.kernel"] = torch.ones(8)
        sd[p + "14.kernel"] = torch.ones(8)
        _res(sd, p + "1.", cp, c, c)
        _res(sd, p + "3.", c, c, c)
        _res(sd, p + "5.", c, c, c)
        _res(sd, p + "8.", c if d == depth - 1 else 2 * c, c, c)
        _res(sd, p + "10.", c, c, c)
        _res(sd, p + "12.", c, c, cp)
        if attn:
            for k in (2, 4, 6, 9, 11):
                _attn(sd, p + f"{k}.", c)
            _attn(sd, p + "13.", cp)
    return sd


def test_sample_generator_checkpoint_converts_ema_weights(tmp_path: Path) -> None:
    ema = sample_generator_state([16, 32, 32, 32], attn_from=2)
    raw = {k: v + 1.0 for k, v in ema.items()}
    state = {
        "state_dict": {
            **{"diffusion." + k: v for k, v in raw.items()},
            **{"diffusion_ema." + k: v for k, v in ema.items()},
        },
        "global_step": 1234,
    }
    ckpt = tmp_path / "mine-1k.ckpt"
    torch.save(state, ckpt)

    config, _weights = convert_state_dict(state)
    assert config["block_out_channels"] == [16, 32, 32]
    assert config["down_block_types"] == ["DownBlock1DNoSkip", "DownBlock1D", "AttnDownBlock1D"]
    assert config["time_embedding_dim"] == 16 and config["extra_in_channels"] == 16

    # loads through the engine (converted on load), strict and shape-checked
    e = DanceDiffusionEngine(checkpoint=str(ckpt), steps=2)
    sd = e.unet.state_dict()
    assert torch.equal(sd["time_proj.weight"], ema["timestep_embed.weight"][:, 0])
    assert torch.equal(sd["down_blocks.1.resnets.0.conv_1.weight"], ema["net.3.main.1.main.0.weight"])
    assert torch.equal(sd["down_blocks.0.resnets.0.conv_skip.weight"], ema["net.0.skip.weight"])
    assert torch.equal(sd["up_blocks.2.resnets.2.conv_2.weight"], ema["net.6.main.3.weight"])
    assert torch.equal(sd["up_blocks.1.resnets.0.conv_1.weight"], ema["net.3.main.8.main.0.weight"])
    qkv = ema["net.3.main.7.main.7.main.2.qkv_proj.weight"]
    assert torch.equal(sd["mid_block.attentions.0.query.weight"], qkv[:32, :, 0])
    assert torch.equal(sd["mid_block.attentions.0.value.weight"], qkv[64:, :, 0])
    assert torch.equal(
        sd["mid_block.resnets.5.conv_2.weight"], ema["net.3.main.7.main.7.main.12.main.3.weight"]
    )
    assert torch.equal(
        sd["up_blocks.0.attentions.2.proj_attn.weight"], ema["net.3.main.7.main.13.out_proj.weight"][:, :, 0]
    )
    assert e.model_info()["checkpoint_format"] == "sample-generator"
    assert len(e.sample(n=1, seconds=0.05, seed=0)) == 1


def test_conversion_rejects_other_state_dicts() -> None:
    with pytest.raises(EngineError, match="not a sample-generator"):
        convert_state_dict({"state_dict": {"model.weight": torch.zeros(1)}})


# --------------------------------------------------------------------------- operations


def test_generate_n_variations_with_rounded_length(engine: DanceDiffusionEngine) -> None:
    take = engine.generate(Request(seconds=0.3, seed=1, params={"n": 3}))
    n = engine.valid_length(round(0.3 * SR))
    assert n % 8 == 0 and abs(n - 0.3 * SR) <= 4
    assert take.mix.sr == SR and take.mix.channels == 2 and take.mix.n == n
    assert sorted(take.extras) == ["variation-02", "variation-03"]
    assert not np.array_equal(take.mix.samples, take.extras["variation-02"].samples)
    prov = take.provenance
    assert prov["engine"] == "dance-diffusion" and prov["seed"] == 1 and len(prov["weights_sha256"]) == 64
    assert prov["params"]["sampler"] == "dpmpp-2m" and prov["params"]["steps"] == 4
    # default length: the model's window; shortest: three halvings' worth
    assert engine.sample(n=1, seed=0)[0].n == 512
    assert engine.sample(n=1, seconds=0.0001, seed=0)[0].n == 24


def test_same_seed_same_bytes(engine: DanceDiffusionEngine) -> None:
    for sampler in ("ipndm", "ddim", "dpmpp-2m"):
        a = engine.sample(n=2, seconds=0.1, seed=7, sampler=sampler, steps=3)
        b = engine.sample(n=2, seconds=0.1, seed=7, sampler=sampler, steps=3)
        c = engine.sample(n=2, seconds=0.1, seed=8, sampler=sampler, steps=3)
        assert all(np.array_equal(x.samples, y.samples) for x, y in zip(a, b, strict=True))
        assert not np.array_equal(a[0].samples, c[0].samples)


def test_vary_strength_zero_is_identity(engine: DanceDiffusionEngine) -> None:
    src = tone()
    take = engine.vary(src, Request(seed=3, params={"strength": 0.0, "n": 2}))
    assert np.array_equal(take.mix.samples, src.samples)
    assert np.array_equal(take.extras["variation-02"].samples, src.samples)


def test_vary_keeps_length_rate_and_moves_with_strength(engine: DanceDiffusionEngine) -> None:
    src = synth.tone(330, seconds=0.15, sr=16_000, amp=0.5)  # mono, other rate: converted
    out = engine.vary_audio(src, strength=0.5, n=2, seed=0)
    assert [(c.sr, c.channels, c.n) for c in out] == [(SR, 2, round(0.15 * SR))] * 2
    ref = engine.vary_audio(src, strength=0.0)[0].samples
    low = engine.vary_audio(src, strength=0.05, seed=0)[0].samples
    assert 0 < np.abs(low - ref).mean() < np.abs(out[0].samples - ref).mean()


def test_inpaint_keeps_everything_outside_the_region(engine: DanceDiffusionEngine) -> None:
    src = tone(0.2)
    out = engine.inpaint_audio(src, start=0.05, end=0.1, n=2, seed=4)
    i0, i1 = round(0.05 * SR), round(0.1 * SR)
    for o in out:
        assert o.n == src.n and o.sr == SR
        assert np.array_equal(o.samples[:, :i0], src.samples[:, :i0])
        assert np.array_equal(o.samples[:, i1:], src.samples[:, i1:])
        assert not np.allclose(o.samples[:, i0:i1], src.samples[:, i0:i1])
    assert parse_range("0.5:") == (0.5, math.inf)
    with pytest.raises(EngineError):
        parse_range("3:1")


class GaussianLevel(ConstantDenoiser):
    """The exact v-prediction for data ``c·1`` with ``c ~ N(0, 1)`` per channel: the posterior mean
    of ``c`` uses every sample, so an inpainted gap should settle on the kept level."""

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> SimpleNamespace:
        a = torch.cos(t * math.pi / 2)[:, None, None]
        s = torch.sin(t * math.pi / 2)[:, None, None]
        x0 = (a * x.sum(-1, keepdim=True) / (a * a * x.shape[-1] + s * s)).expand_as(x)
        return SimpleNamespace(sample=a * (x - a * x0) / s.clamp_min(1e-6) - s * x0)


def test_repaint_makes_the_gap_follow_the_kept_context() -> None:
    """RePaint resampling: with the exact model of level signals the regenerated gap lands on the
    kept level far closer than plain replacement does; the kept part stays sample-exact; seeded."""
    src = Audio(np.full((2, 1600), 0.5, np.float32), SR)
    e = DanceDiffusionEngine(unet=GaussianLevel(), steps=20, sampler="dpmpp-2m")

    def gap_error(u: int) -> float:
        errs, how = [], Repainting(repaint=u, stitch_s=0.0)
        for seed in range(3):
            out = e.inpaint_audio(src, start=0.05, end=0.15, seed=seed, how=how)[0].samples
            assert np.array_equal(out[:, :400], src.samples[:, :400])
            assert np.array_equal(out[:, 1200:], src.samples[:, 1200:])
            errs.append(float(np.abs(out[:, 400:1200] - 0.5).mean()))
        return float(np.mean(errs))

    plain, repainted = gap_error(1), gap_error(4)
    assert repainted < plain / 5, (plain, repainted)
    a = e.inpaint_audio(src, start=0.05, end=0.15, seed=7, how=Repainting(repaint=3))[0].samples
    b = e.inpaint_audio(src, start=0.05, end=0.15, seed=7, how=Repainting(repaint=3))[0].samples
    assert np.array_equal(a, b)
    with pytest.raises(EngineError, match="dpmpp-2m or ddim"):
        e.inpaint_audio(src, start=0.05, end=0.15, how=Repainting(sampler="ipndm", repaint=2))


def test_repaint_costs_u_model_calls_per_step(engine: DanceDiffusionEngine) -> None:
    calls = []
    forward = engine.unet.forward

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return forward(*args, **kwargs)

    engine.unet.forward = counting
    try:
        engine.inpaint_audio(tone(0.1), start=0.02, end=0.05, how=Repainting(sampler="ddim", steps=4,
                                                                             repaint=3))
    finally:
        del engine.unet.forward
    assert len(calls) == 4 * 3


def _jump(y: np.ndarray, i: int) -> float:
    return float(np.abs(y[:, i] - y[:, i - 1]).max())


def test_joins_are_seamless_with_a_smooth_model() -> None:
    e = DanceDiffusionEngine(unet=ConstantDenoiser(0.25), steps=6)
    src = tone(0.2, freq=200.0)  # max step between samples of the tone: 0.5 * 2π·200/8000 ≈ 0.08
    smooth = _jump(src.samples, 1) * 2 + 0.02
    i0, i1 = 410, 810  # where the tone peaks at 0.5, far from the model's 0.25
    out = e.inpaint_audio(src, start=i0 / SR, end=i1 / SR, seed=0)[0].samples
    assert np.array_equal(out[:, :i0], src.samples[:, :i0])
    assert abs(float(out[0, (i0 + i1) // 2]) - 0.25) < 1e-3  # the model's content in the middle
    assert _jump(out, i0) < smooth and _jump(out, i1) < smooth
    raw = e.inpaint_audio(src, start=i0 / SR, end=i1 / SR, seed=0, how=Repainting(stitch_s=0.0))[0].samples
    assert _jump(raw, i0) > smooth or _jump(raw, i1) > smooth  # without stitching the tone steps

    ext = e.extend_audio(src, seconds=0.15, seed=0).samples
    assert ext.shape[1] == src.n + round(0.15 * SR)
    assert np.array_equal(ext[:, : src.n], src.samples)
    joins = [src.n + k * 256 for k in range(3) if src.n + k * 256 < ext.shape[1]]  # window 512, half context
    assert all(_jump(ext, j) < smooth for j in joins)

    loop = e.loop_audio(src, seed=0, seam_s=0.03).samples
    assert loop.shape == src.samples.shape
    assert float(np.abs(loop[:, 0] - loop[:, -1]).max()) < smooth
    mid = slice(src.n // 2 - 100, src.n // 2 + 100)
    assert np.array_equal(loop[:, mid], src.samples[:, mid])


def test_extend_and_loop_shapes_with_the_unet(engine: DanceDiffusionEngine) -> None:
    src = tone(0.1)
    take = engine.generate(Request(seed=2, params={"init_audio": src, "extend": 0.1, "loop": True}))
    assert take.mix.n == src.n + round(0.1 * SR) and take.mix.sr == SR
    assert take.provenance["operation"] == "edit+extend+loop"


def test_interpolate_frames_and_determinism(engine: DanceDiffusionEngine) -> None:
    a, b = tone(0.1, 220.0), tone(0.12, 330.0)
    take = engine.interpolate(a, b, Request(params={"frames": 3, "steps": 3}))
    assert sorted(take.extras) == ["frame-00", "frame-01", "frame-02"]
    assert all(c.n == a.n and c.sr == SR for c in take.extras.values())
    assert take.mix.n == 3 * a.n
    again = engine.interpolate(a, b, Request(params={"frames": 3, "steps": 3}))
    assert np.array_equal(take.mix.samples, again.mix.samples)
    f = [take.extras[k].samples for k in sorted(take.extras)]
    assert not np.array_equal(f[0], f[2])


def test_interpolation_ends_reconstruct_with_an_invertible_model() -> None:
    e = DanceDiffusionEngine(unet=ConstantDenoiser(0.25), steps=40)
    a = Audio(np.full((2, 256), 0.25, np.float32), SR)
    clips = e.interpolate_audio(a, a, frames=2, sampler="dpmpp-2m")
    assert np.allclose(clips[0].samples, a.samples, atol=1e-3)


def test_get_engine_and_bad_options(tiny_dd: Path) -> None:
    e = get_engine("dance-diffusion", checkpoint=str(tiny_dd), sampler="ipndm", steps=2)
    assert isinstance(e, DanceDiffusionEngine) and e.sampler == "ipndm"
    with pytest.raises(EngineError, match="unknown sampler"):
        DanceDiffusionEngine(sampler="heun")
    with pytest.raises(EngineError, match="strength"):
        e.vary_audio(tone(), strength=1.5)
    with pytest.raises(EngineError, match="unconditional"):
        e.generate(Request(params={"negative_prompt": "drums"}))


# --------------------------------------------------------------------------- training


def write_one_shots(folder: Path, n: int = 6) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(SR * 0.05)) / SR
    for i in range(n):
        f = 80.0 * (1 + i % 3)
        y = 0.8 * np.sin(2 * np.pi * f * t * np.exp(-t * 8)) * np.exp(-t * 40)
        save(Audio.from_array(np.stack([y, y]), SR), folder / f"kick-{i}.wav")
    (folder / "broken.wav").write_bytes(b"RIFF not really")
    return folder


def test_training_lowers_the_loss_resumes_and_generate_loads_it(tmp_path: Path) -> None:
    from music.engines.dd_training import TrainConfig, train

    samples = write_one_shots(tmp_path / "kicks")
    warnings: list[str] = []
    cfg = TrainConfig(
        preset="tiny",
        sample_rate=SR,
        sample_size=256,
        steps=24,
        batch_size=4,
        lr=3e-3,
        save_every=12,
        demo_every=24,
        demo_n=1,
        demo_steps=2,
    )
    s = train(samples, tmp_path / "model", cfg, warn=warnings.append)
    assert any("broken.wav" in w for w in warnings)
    assert s["samples"] == 6 and s["steps"] == 24
    assert s["val_loss_end"] < 0.7 * s["val_loss_start"]
    assert (tmp_path / "model" / "demos" / "step-0000024_1.wav").is_file()
    assert sorted(p.name for p in (tmp_path / "model" / "checkpoints").iterdir()) == [
        "step-0000012",
        "step-0000024",
    ]
    cfg.steps = 30
    s2 = train(samples, tmp_path / "model", cfg, resume=True, warn=warnings.append)
    assert s2["steps"] == 30 and [h["step"] for h in s2["history"]] == [12, 24, 30]
    e = DanceDiffusionEngine(checkpoint=str(tmp_path / "model"), steps=2)
    clip = e.sample(n=1, seed=0)[0]
    assert clip.sr == SR and clip.n == 256
    with pytest.raises(EngineError, match="no readable audio"):
        train(tmp_path / "model" / "checkpoints", tmp_path / "m2", cfg)


def test_fine_tuning_starts_from_a_checkpoint(tmp_path: Path) -> None:
    from music.engines.dd_training import TrainConfig, train

    base = save_tiny(tmp_path / "base")
    cfg = TrainConfig(
        checkpoint=str(base), sample_size=250, steps=3, batch_size=2, save_every=3, demo_every=0
    )
    s = train(write_one_shots(tmp_path / "k", 3), tmp_path / "ft", cfg, warn=lambda m: None)
    assert s["origin"].startswith("base (") and s["sample_size"] == 256  # rounded up to a valid window
    assert s["val_loss_end"] < s["val_loss_start"]
