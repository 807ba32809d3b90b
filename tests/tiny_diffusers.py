"""Tiny, randomly initialised diffusers models saved where and as the engines look for them: Dance
Diffusion UNets (:func:`save_tiny`) and a Stable Audio pipeline (:func:`build_tiny_pipeline`: DiT,
Oobleck VAE, T5, word-level tokenizer), both at :data:`SR`. The fixtures ``tiny_dd`` and ``tiny_sao``
(``tests/conftest.py``) build one per test module."""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers import UNet1DModel

from music.engines.dd_checkpoints import PRESETS, unet_config

SR = 8000
"""The sample rate of every tiny model."""
TINY = dict(PRESETS["tiny"], sample_rate=SR, sample_size=512)


def tiny_unet(seed: int = 0, **overrides: object) -> UNet1DModel:
    torch.manual_seed(seed)
    return UNet1DModel(**unet_config(**{**TINY, **overrides}))


def save_tiny(folder: Path, seed: int = 0) -> Path:
    tiny_unet(seed).save_pretrained(folder)
    return folder


WORDS = [
    "<pad>",
    "</s>",
    "<unk>",
    *["a", "kick", "drum", "hammer", "hitting", "wooden", "surface", "dark", "techno", "loop", "warm", "pad"],
]


def build_tiny_pipeline(folder: Path) -> Path:
    from diffusers import (
        AutoencoderOobleck,
        CosineDPMSolverMultistepScheduler,
        StableAudioDiTModel,
        StableAudioPipeline,
        StableAudioProjectionModel,
    )
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, T5Config, T5EncoderModel

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=8
    )
    torch.manual_seed(0)
    text_encoder = T5EncoderModel(
        T5Config(vocab_size=len(WORDS), d_model=8, d_kv=4, d_ff=16, num_layers=1, num_heads=2)
    )
    transformer = StableAudioDiTModel(
        sample_size=8,
        in_channels=3,
        num_layers=2,
        attention_head_dim=4,
        num_key_value_attention_heads=2,
        out_channels=3,
        cross_attention_dim=4,
        time_proj_dim=8,
        global_states_input_dim=8,
        cross_attention_input_dim=4,
    )
    scheduler = CosineDPMSolverMultistepScheduler(
        solver_order=2, prediction_type="v_prediction", sigma_data=1.0, sigma_schedule="exponential"
    )
    vae = AutoencoderOobleck(
        encoder_hidden_size=6,
        downsampling_ratios=[2, 4],
        decoder_channels=3,
        decoder_input_channels=3,
        audio_channels=2,
        channel_multiples=[2, 4],
        sampling_rate=SR,
    )
    projection = StableAudioProjectionModel(text_encoder_dim=8, conditioning_dim=4, min_value=0, max_value=32)
    pipe = StableAudioPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        scheduler=scheduler,
        projection_model=projection,
    )
    pipe.save_pretrained(folder)
    return folder
