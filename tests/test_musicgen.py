"""The musicgen engine on tiny random checkpoints built from configs (T5 + EnCodec + decoder, no downloads),
saved with ``save_pretrained`` and loaded back through the engine's own loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from music.engines import Request, get_engine
from music.engines.musicgen import MusicgenEngine, melody_chroma, resolve_checkpoint
from music.errors import EngineError, ModelNotFoundError
from tests import synth

SR = 32_000
HOP = 640


def build_tiny(folder: Path, *, channels: int = 1, melody: bool = False) -> Path:
    """A random tiny MusicGen (or MusicGen-Melody) with a word-level tokenizer, saved to ``folder``."""
    import transformers as tf
    from tokenizers import Tokenizer, models, pre_tokenizers

    t5 = tf.T5Config(vocab_size=32, d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2)
    enc = tf.EncodecConfig(sampling_rate=SR, audio_channels=1, num_filters=4, hidden_size=16,
                           upsampling_ratios=[8, 5, 4, 4], codebook_size=64, codebook_dim=16,
                           num_lstm_layers=1, chunk_length_s=None, target_bandwidths=[1.2],
                           use_causal_conv=False, normalize=False)
    if melody:
        dcls, ccls, mcls = (tf.MusicgenMelodyDecoderConfig, tf.MusicgenMelodyConfig,
                            tf.MusicgenMelodyForConditionalGeneration)
    else:
        dcls, ccls, mcls = tf.MusicgenDecoderConfig, tf.MusicgenConfig, tf.MusicgenForConditionalGeneration
    dec = dcls(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, ffn_dim=32,
               num_codebooks=4 * channels, max_position_embeddings=512, pad_token_id=64, bos_token_id=64,
               audio_channels=channels)
    torch.manual_seed(0)
    model = mcls(ccls(text_encoder=t5, audio_encoder=enc, decoder=dec)).eval()
    with torch.no_grad():  # EnCodec codebooks start at zero: every code would decode alike
        for layer in model.audio_encoder.quantizer.layers:
            layer.codebook.embed.normal_()
            layer.codebook.embed_avg.copy_(layer.codebook.embed)
    model.generation_config.pad_token_id = 64
    model.generation_config.decoder_start_token_id = 64
    model.save_pretrained(folder)
    vocab = {w: i for i, w in enumerate(["<pad>", "</s>", "<unk>", "dark", "techno", "calm", "piano"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tf.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>",
                               unk_token="<unk>").save_pretrained(folder)
    return folder


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def mono_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny(tmp_path_factory.mktemp("musicgen-tiny"))


@pytest.fixture(scope="module")
def engine(mono_ckpt: Path) -> MusicgenEngine:
    return MusicgenEngine(model=mono_ckpt)


def test_text_to_music_length_and_provenance(engine: MusicgenEngine, mono_ckpt: Path) -> None:
    take = engine.generate(Request(prompt="dark techno", seconds=0.4, seed=1, params={"top_k": 50}))
    assert take.mix.sr == SR and take.mix.channels == 1
    assert take.mix.n == round(0.4 * 50) * HOP  # (0 prompt frames + 50·s + 3 − 3) × 640
    prov = take.provenance
    assert prov["engine"] == "musicgen" and prov["model_path"] == str(mono_ckpt.resolve())
    assert len(prov["weights_sha256"]) == 64 and prov["seed"] == 1 and prov["params"]["top_k"] == 50


def test_seed_gives_same_output(engine: MusicgenEngine) -> None:
    a = engine.generate(Request(prompt="calm piano", seconds=0.3, seed=5))
    b = engine.generate(Request(prompt="calm piano", seconds=0.3, seed=5))
    c = engine.generate(Request(prompt="calm piano", seconds=0.3, seed=6))
    assert np.array_equal(a.mix.samples, b.mix.samples)
    assert not np.array_equal(a.mix.samples, c.mix.samples)


def test_continuation_keeps_prompt(engine: MusicgenEngine) -> None:
    prompt = synth.drums(bpm=120, bars=1, sr=44_100)  # 2 s, stereo, 44.1 kHz
    take = engine.continue_(prompt, Request(prompt="techno", seconds=0.3, seed=2))
    cont = take.extras["continuation"]
    assert take.mix.sr == prompt.sr and take.mix.channels == prompt.channels
    assert take.mix.n == prompt.n + cont.n
    assert abs(cont.n - round(0.3 * prompt.sr)) <= 2
    xf = round(0.020 * prompt.sr)
    assert np.array_equal(take.mix.samples[:, : prompt.n - xf], prompt.samples[:, : prompt.n - xf])
    assert take.provenance["operation"] == "continue"


def test_long_form_windows_join_without_gap(engine: MusicgenEngine) -> None:
    params = {"window_s": 0.4, "extend_stride_s": 0.2, "crossfade_ms": 5.0}
    take = engine.generate(Request(prompt="dark techno", seconds=1.0, seed=3, params=params))
    assert take.provenance["windows"] == 4  # 0.4 s, then 3 strides of 0.2 s
    assert take.mix.n == 50 * HOP
    x = take.mix.samples[0]
    rms = np.sqrt(np.convolve(x.astype(np.float64) ** 2, np.ones(160) / 160, mode="valid"))
    assert rms.min() > 1e-6  # no silent gap anywhere, joins included
    again = engine.generate(Request(prompt="dark techno", seconds=1.0, seed=3, params=params))
    assert np.array_equal(x, again.mix.samples[0])


def test_stereo_checkpoint_continuation(tmp_path: Path) -> None:
    eng = MusicgenEngine(model=build_tiny(tmp_path / "stereo", channels=2))
    prompt = synth.tone(220, seconds=1.0, sr=SR)  # mono prompt into a stereo model
    take = eng.continue_(prompt, Request(seconds=0.2, seed=0))
    assert take.mix.channels == 1 and take.extras["continuation"].n == round(0.2 * 50) * HOP


def test_melody_conditioning(tmp_path: Path) -> None:
    eng = MusicgenEngine(model=build_tiny(tmp_path / "melody", melody=True))
    melody = synth.tone(440.0, seconds=2.0, sr=SR)
    chroma = melody_chroma(melody)
    assert chroma.shape == (1 + melody.n // 4096, 12) and np.all(chroma.sum(axis=1) == 1)
    assert np.all(np.argmax(chroma, axis=1) == 9)  # A
    loaded = eng.load()
    seen: list[np.ndarray] = []
    real = loaded.model.generate

    def spy(**kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs["input_features"].numpy())
        return real(**kwargs)

    loaded.model.generate = spy
    try:
        take = eng.generate(Request(prompt="piano", seconds=0.3, seed=1, params={"melody": melody}))
    finally:
        del loaded.model.generate
    assert take.mix.n == 15 * HOP
    assert len(seen) == 1 and np.array_equal(seen[0][0], chroma)  # the librosa chroma reaches generate
    plain = get_engine("musicgen", model=build_tiny(tmp_path / "plain"))
    with pytest.raises(EngineError, match="not a melody checkpoint"):
        plain.generate(Request(seconds=0.1, params={"melody": melody}))
    with pytest.raises(EngineError, match="non-melody"):
        eng.continue_(melody, Request(seconds=0.1))


def test_missing_weights_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelNotFoundError) as err:
        resolve_checkpoint("facebook/musicgen-nonexistent")
    msg = str(err.value)
    assert "\n" not in msg and "facebook/musicgen-nonexistent" in msg and "--model" in msg
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match=r"config\.json"):
        MusicgenEngine(model=tmp_path / "empty").generate(Request(seconds=1))


def test_bad_parameters(engine: MusicgenEngine) -> None:
    with pytest.raises(EngineError, match="unknown musicgen parameter"):
        engine.generate(Request(seconds=1, params={"topk": 3}))
    with pytest.raises(EngineError, match="extend_stride_s"):
        engine.generate(Request(seconds=1, params={"window_s": 10, "extend_stride_s": 10}))


def test_cli_continue_musicgen(runner, tmp_path: Path, mono_ckpt: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    from music.audio import save
    from songmint.cli import main

    save(synth.drums(bpm=120, bars=1, sr=SR, channels=1), tmp_path / "p.wav")
    res = runner.invoke(main, ["continue", str(tmp_path / "p.wav"), "--engine", "musicgen", "--model",
                               str(mono_ckpt), "--seconds", "0.2", "--seed", "1", "--int8",
                               "--out", str(tmp_path / "t"), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["provenance"]["engine"] == "musicgen" and "continuation" in doc["extras"]
    assert doc["provenance"]["quantize"] == "int8" and doc["provenance"]["params"]["quantize"] == "int8"
    assert doc["duration_s"] == pytest.approx(2.0 + 0.2, abs=1e-3)


def test_cli_generate_with_melody(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    from music.audio import save
    from songmint.cli import main

    ckpt = build_tiny(tmp_path / "melody", melody=True)
    save(synth.tone(440.0, seconds=2.0, sr=SR), tmp_path / "hum.wav")
    res = runner.invoke(main, ["generate", "calm piano", "--engine", "musicgen", "--param", f"model={ckpt}",
                               "--melody", str(tmp_path / "hum.wav"), "--seconds", "0.2", "--seed", "1",
                               "--out", str(tmp_path / "t"), "--json"])
    assert res.exit_code == 0, res.output
    assert "warning: --param model= is deprecated" in res.stderr  # the old spelling, for one release
    out = res.stdout
    doc = json.loads(out[out.index("{"):])
    prov = doc["provenance"] if "provenance" in doc else doc["takes"][0]["provenance"]
    assert prov["params"]["melody"] == str(tmp_path / "hum.wav") and prov["engine"] == "musicgen"


def test_bf16_static_cache_and_in_memory_model(mono_ckpt: Path) -> None:
    import transformers

    model = transformers.MusicgenForConditionalGeneration.from_pretrained(mono_ckpt, local_files_only=True)
    eng = MusicgenEngine.from_model(model, model_id="tiny")
    req = Request(seconds=0.2, seed=4)
    a = eng.generate(req)
    b = eng.generate(Request(seconds=0.2, seed=4, params={"cache": "static"}))
    assert np.array_equal(a.mix.samples, b.mix.samples)  # a static cache changes speed, not samples
    assert a.provenance["model_id"] == "tiny" and len(a.provenance["weights_sha256"]) == 64
    bf = MusicgenEngine(model=mono_ckpt, dtype="bfloat16").continue_(synth.tone(seconds=1.0, sr=SR), req)
    assert bf.provenance["dtype"] == "bfloat16" and bf.extras["continuation"].n == 10 * HOP
    with pytest.raises(EngineError, match="dtype"):
        MusicgenEngine(dtype="float16")


def test_int8_decoder(mono_ckpt: Path) -> None:
    eng = MusicgenEngine(model=mono_ckpt, quantize="int8")
    a = eng.generate(Request(prompt="dark techno", seconds=0.2, seed=2))
    b = MusicgenEngine(model=mono_ckpt).generate(Request(prompt="dark techno", seconds=0.2, seed=2,
                                                         params={"quantize": "int8"}))
    assert a.mix.n == 10 * HOP and np.array_equal(a.mix.samples, b.mix.samples)
    assert a.provenance["quantize"] == "int8"
    linear = [m for m in eng.load().model.decoder.modules() if type(m).__name__ == "Linear"]
    assert linear and all("quantized" in type(m).__module__ for m in linear)
    with pytest.raises(EngineError, match="int8"):
        MusicgenEngine(quantize="int4")
