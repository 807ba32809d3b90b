"""The optional Stable Diffusion engine, with a tiny randomly initialised pipeline built offline."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from cover_art import read_provenance, render
from cover_art.diffusion import ModelNotFoundError, build_prompt, find_model, render_diffusion
from cover_art.phash import distance, phash
from tests import synth

pytestmark = pytest.mark.ml

TRAITS = {"key": "E minor", "tempo_bpm": 140.0, "energy": 0.85, "valence": 0.2, "arousal": 0.8,
          "mood": "aggressive", "danceability": 0.6, "brightness": 0.4}


def _tiny_tokenizer(folder: Path):
    """A character-level CLIP BPE tokenizer (no merges) written from scratch: no download."""
    from transformers import CLIPTokenizer

    chars = [chr(c) for c in range(33, 127)]
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in chars:
        for tok in (ch, ch + "</w>"):
            vocab.setdefault(tok, len(vocab))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=77,
                         pad_token="<|endoftext|>")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    root = tmp_path_factory.mktemp("tiny-sd")
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=16, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(16, 32),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=16, attention_head_dim=4,
        norm_num_groups=8)
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(16, 32),
                        down_block_types=("DownEncoderBlock2D",) * 2,
                        up_block_types=("UpDecoderBlock2D",) * 2, layers_per_block=1, norm_num_groups=8,
                        sample_size=32)
    tokenizer = _tiny_tokenizer(root / "tok-src")
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=77, bos_token_id=0, eos_token_id=1, pad_token_id=1))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    folder = root / "model"
    pipe.save_pretrained(folder)
    return folder


def test_prompt_follows_the_traits() -> None:
    prompt, negative = build_prompt(TRAITS)
    assert "aggressive" in prompt and "E minor" in prompt and "minor-key" in prompt
    assert "explosive" in prompt and "fast" in prompt and "dark ground" in prompt
    calm, _ = build_prompt({"key": "C major", "energy": 0.2, "tempo_bpm": 70, "valence": 0.9})
    assert "calm" in calm and "slow" in calm and "major-key" in calm and "paper" in calm
    assert "text" in negative


def test_missing_checkpoint_is_one_line_saying_where(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SONGMINT_SD_MODEL", raising=False)
    with pytest.raises(ModelNotFoundError, match="SONGMINT_SD_MODEL"):
        find_model(None)
    with pytest.raises(ModelNotFoundError, match=str(tmp_path / "nowhere")) as err:
        render(TRAITS, style="diffusion", model=tmp_path / "nowhere", size=64)
    assert "\n" not in str(err.value)


def test_tiny_pipeline_renders_deterministic_covers(tiny_model: Path, monkeypatch) -> None:
    d = synth.drums(bpm=140, bars=1, seed=4)
    a = synth.mix(d, synth.chord((52, 55, 59), seconds=d.duration))
    kw = {"seed": 5, "size": 96, "model": tiny_model, "steps": 4}
    one = render_diffusion(TRAITS, a, **kw)
    two = render_diffusion(TRAITS, a, **kw)
    assert one.png == two.png
    img = Image.open(io.BytesIO(one.png))
    assert img.size == (96, 96) and img.mode == "RGB"
    prov = read_provenance(one.png)
    assert prov["engine"] == "stable-diffusion" and prov["model"]["name"] == "model"
    assert prov["prompt"] == build_prompt(TRAITS)[0] and prov["resolution"] == 32 and prov["steps"] == 4
    assert len(prov["model"]["config_sha256"]) == 64
    # Another track with equal traits: another noise seed, another picture.
    b = synth.mix(synth.drums(bpm=140, bars=1, seed=9), synth.noise(seconds=d.duration, amp=0.05))
    other = render_diffusion(TRAITS, b, **kw)
    assert read_provenance(other.png)["noise_seed"] != prov["noise_seed"]
    assert other.png != one.png and distance(phash(one.png), phash(other.png)) > 0
    # $SONGMINT_SD_MODEL is read at the application edge (the release's cover adapter, the
    # command's --model), which passes it down; the library itself reads no environment.
    monkeypatch.setenv("SONGMINT_SD_MODEL", str(tiny_model))
    with pytest.raises(ModelNotFoundError, match="neither set"):
        find_model(None)
    from songmint.stages import render_cover

    png, _, params = render_cover(TRAITS, a, style="diffusion", seed=5, size=96)
    assert png.startswith(b"\x89PNG") and params["provenance"]["model"] == prov["model"]
    monkeypatch.setenv("SONGMINT_SD_MODEL", str(tiny_model.parent / "elsewhere"))
    with pytest.raises(ModelNotFoundError, match="elsewhere"):
        render_cover(TRAITS, a, style="diffusion", seed=5, size=96)
