"""Continuation speed: the units engine's real-time factor, and MusicGen's CPU seconds per generated second.

Run: ``.venv/bin/python benchmarks/continuation.py [--units-only] [--musicgen-seconds 2] [--threads 1]``

units
    A 30 s synthetic prompt (drums + an i–iv–V–i progression, 44.1 kHz stereo) continued by 60 s, after a
    warm-up call (librosa's numba JIT). Reports wall and process CPU time and the real-time factor
    (generated seconds per CPU second; target >= 50x). Baseline in the same run: the prompt's analysis
    alone (beat tracking + descriptors), the part of the work that does not depend on the length asked.

musicgen
    A randomly initialised model at musicgen-small dimensions (T5-base text encoder, 24-layer 1024-wide
    decoder, 4 x 2048 codebooks, 32 kHz EnCodec; ~590 M parameters), run through ``MusicgenEngine``
    (tokenised text prompt, top-k 250). Reports CPU seconds per generated second for fp32, bf16 and a
    dynamic-int8 decoder, with and without classifier-free guidance (the CFG pair is batched by
    transformers), and with a static KV cache; the ratio column is the speed-up in CPU time over the
    plain baseline (fp32, CFG 3, dynamic cache), which the field notes put at ~3.4 s per generated
    second on this machine (idle, 2 threads).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from music.audio import Audio  # noqa: E402
from music.engines import Request  # noqa: E402


def _timed(fn):  # type: ignore[no-untyped-def]
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def _prompt(seconds: float = 30.0, sr: int = 44_100) -> tuple[Audio, dict[str, Audio]]:
    from tests import synth

    bars = int(seconds / 2)
    d = synth.drums(bpm=120, bars=bars, sr=sr)
    chords = [(57, 60, 64), (57, 62, 65), (56, 59, 64), (57, 60, 64)]
    c = np.concatenate([synth.chord(chords[i % 4], seconds=2.0, sr=sr, amp=0.25).samples
                        for i in range(bars)], axis=1)
    n = min(d.n, c.shape[1])
    stems = {"drums": Audio(d.samples[:, :n] * 0.8, sr), "chords": Audio(c[:, :n], sr)}
    return Audio(stems["drums"].samples + stems["chords"].samples, sr), stems


def bench_units() -> None:
    from music.engines.units import UnitsEngine
    from music.engines.units.segment import segment

    prompt, stems = _prompt()
    eng = UnitsEngine()
    eng.continue_(prompt, Request(seconds=2, seed=0))  # warm-up: numba JIT
    _, aw, ac = _timed(lambda: segment(prompt))
    take, w, c = _timed(lambda: eng.continue_(prompt, Request(seconds=60, seed=1)))
    _, sw, sc = _timed(lambda: eng.continue_(prompt, Request(seconds=60, seed=1), stems=stems))
    got = take.extras["continuation"].duration
    print("units: 60 s continuation of a 30 s prompt (44.1 kHz stereo)")
    print(f"  {'':<28}{'wall s':>8}{'cpu s':>8}{'x real time (cpu)':>20}")
    print(f"  {'analysis alone (baseline)':<28}{aw:8.3f}{ac:8.3f}{'':>20}")
    print(f"  {'continue (mix)':<28}{w:8.3f}{c:8.3f}{got / c:20.1f}")
    print(f"  {'continue (mix + 2 stems)':<28}{sw:8.3f}{sc:8.3f}{got / sc:20.1f}")
    print(f"  analysis share of the run: {ac / c:.0%}; target >= 50x real time: "
          f"{'met' if got / c >= 50 else 'NOT met'}")


def _small_model():  # type: ignore[no-untyped-def]
    import torch
    import transformers as tf
    from tokenizers import Tokenizer, models, pre_tokenizers

    t5 = tf.T5Config(vocab_size=32128, d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12)
    enc = tf.EncodecConfig(sampling_rate=32_000, audio_channels=1, num_filters=64, hidden_size=128,
                           upsampling_ratios=[8, 5, 4, 4], codebook_size=2048, codebook_dim=128,
                           target_bandwidths=[2.2], num_lstm_layers=2, chunk_length_s=None,
                           use_causal_conv=False, normalize=False)
    dec = tf.MusicgenDecoderConfig(vocab_size=2048, hidden_size=1024, num_hidden_layers=24,
                                   num_attention_heads=16, ffn_dim=4096, num_codebooks=4,
                                   max_position_embeddings=2048, pad_token_id=2048, bos_token_id=2048)
    torch.manual_seed(0)
    model = tf.MusicgenForConditionalGeneration(tf.MusicgenConfig(text_encoder=t5, audio_encoder=enc,
                                                                  decoder=dec)).eval()
    model.generation_config.pad_token_id = 2048
    model.generation_config.decoder_start_token_id = 2048
    words = ["<pad>", "</s>", "<unk>", "dark", "techno", "with", "a", "driving", "bassline"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = tf.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>")
    return model, tokenizer


def bench_musicgen(seconds: float, threads: int) -> None:
    import torch

    from music.engines.musicgen import MusicgenEngine

    torch.set_num_threads(threads)
    model, tokenizer = _small_model()
    params = sum(p.numel() for p in model.parameters())
    fp32 = MusicgenEngine.from_model(model, tokenizer=tokenizer, model_id="musicgen-small-dims(random)")
    bf16 = MusicgenEngine.from_model(_bf16(model), tokenizer=tokenizer,
                                     model_id="musicgen-small-dims(random,bf16)")
    int8 = MusicgenEngine.from_model(model, tokenizer=tokenizer, quantize="int8",
                                     model_id="musicgen-small-dims(random,int8 decoder)")
    text = "dark techno with a driving bassline"
    runs = [
        ("fp32 cfg=3 (baseline)", fp32, {"guidance_scale": 3.0}),
        ("fp32 no cfg", fp32, {"guidance_scale": 1.0}),
        ("fp32 cfg=3 static cache", fp32, {"guidance_scale": 3.0, "cache": "static"}),
        ("bf16 cfg=3", bf16, {"guidance_scale": 3.0}),
        ("bf16 no cfg", bf16, {"guidance_scale": 1.0}),
        ("int8 decoder cfg=3", int8, {"guidance_scale": 3.0}),
        ("int8 decoder no cfg", int8, {"guidance_scale": 1.0}),
    ]
    print(f"musicgen: {params / 1e6:.0f} M parameters (musicgen-small dimensions, random weights), "
          f"{seconds:g} s of audio per run, {threads} thread(s)")
    print(f"  {'':<26}{'wall s/s':>10}{'cpu s/s':>10}{'speed-up (cpu)':>16}")
    fp32.generate(Request(prompt=text, seconds=0.2, seed=0))  # warm-up
    base = None
    for name, eng, p in runs:
        _, w, c = _timed(lambda eng=eng, p=p: eng.generate(Request(prompt=text, seconds=seconds, seed=0,
                                                                   params=p)))
        base = base or c
        print(f"  {name:<26}{w / seconds:10.2f}{c / seconds:10.2f}{base / c:9.2f}x")


def _bf16(model):  # type: ignore[no-untyped-def]
    import copy

    import torch

    return copy.deepcopy(model).to(torch.bfloat16)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units-only", action="store_true", help="Skip the MusicGen part.")
    ap.add_argument("--musicgen-seconds", type=float, default=2.0, help="Audio seconds per MusicGen run.")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads for MusicGen (on a busy machine, more threads spin at OpenMP "
                         "barriers and burn CPU time: 1 is the honest single-core figure).")
    args = ap.parse_args()
    bench_units()
    if not args.units_only:
        bench_musicgen(args.musicgen_seconds, args.threads)


if __name__ == "__main__":
    main()
