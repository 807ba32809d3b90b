"""Separation through demucs' real loader on a tiny randomly initialised HTDemucs (7 k parameters,
8 kHz), saved in the Hugging Face layout Meta publishes (``NAME.yaml`` + ``SIG.safetensors`` with
the class and its arguments in the metadata), pulled from a local hub, and run by ``separate``."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from music.audio import save
from music.errors import ModelNotFoundError
from music.separation import load_separator, separate
from songmint.cli import main
from tests import hub_server, synth


def _encode(value):  # type: ignore[no-untyped-def]
    if isinstance(value, Fraction):
        return {"_type": "fraction", "numerator": value.numerator, "denominator": value.denominator}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def save_tiny_htdemucs(folder: Path, *, name: str = "htdemucs", sig: str = "0123abcd") -> Path:
    from demucs.htdemucs import HTDemucs
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = HTDemucs(sources=["drums", "bass", "other", "vocals"], audio_channels=2, channels=4, depth=2,
                     nfft=512, t_layers=1, t_heads=1, segment=Fraction(1, 1), samplerate=8000,
                     dconv_comp=2, t_hidden_scale=1.0)
    args, kwargs = model._init_args_kwargs
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"klass": "demucs.htdemucs.HTDemucs", "args": json.dumps(_encode(list(args))),
            "kwargs": json.dumps(_encode(kwargs))}
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / f"{sig}.safetensors"), metadata=meta)
    (folder / f"{name}.yaml").write_text(f"models: ['{sig}']\n")
    return folder


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_htdemucs(tmp_path_factory.mktemp("htdemucs"))


def test_stems_are_aligned_and_sum_to_the_mix(tiny: Path) -> None:
    sep = load_separator(tiny)
    assert sep.sources == ("drums", "bass", "other", "vocals") and sep.sample_rate == 8000
    mix = synth.mix(synth.drums(bpm=120, bars=1, sr=22_050, seed=1),
                    synth.tone(110.0, seconds=2.0, sr=22_050))
    stems = separate(mix, separator=sep)
    assert list(stems) == ["drums", "bass", "other", "vocals"]
    for s in stems.values():
        assert (s.sr, s.channels, s.n) == (mix.sr, mix.channels, mix.n)
    total = np.sum([s.samples.astype(np.float64) for s in stems.values()], axis=0)
    assert np.max(np.abs(total - mix.samples)) < 1e-6
    assert np.std(stems["drums"].samples) > 0  # the model's output, not a copy of zeros
    again = separate(mix, separator=sep)
    assert all(np.array_equal(again[k].samples, v.samples) for k, v in stems.items())


def test_pulled_by_name_then_separate_cli(tiny: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    files = {p.name: p.read_bytes() for p in tiny.iterdir()}
    lfs = tuple(f for f in files if f.endswith(".safetensors"))
    hub = hub_server.Hub({"adefossez/HTDemucs": hub_server.Repo(files, lfs=lfs)})
    server = hub_server.start(hub)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))
    try:
        with pytest.raises(ModelNotFoundError, match=r"`songmint models pull htdemucs`"):
            load_separator()
        res = CliRunner().invoke(main, ["models", "pull", "htdemucs", "--json"], env={"HF_ENDPOINT": hub.url})
        assert res.exit_code == 0, res.output
    finally:
        server.shutdown()
    wav = tmp_path / "song.wav"
    save(synth.mix(synth.drums(bpm=120, bars=1, sr=16_000, seed=2),
                   synth.tone(220.0, seconds=2.0, sr=16_000)), wav)
    out = tmp_path / "sep"
    res = CliRunner().invoke(main, ["separate", str(wav), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert sorted(doc["stems"]) == ["bass", "drums", "other", "vocals"]
    assert doc["provenance"]["separation"]["model"] == "htdemucs"
    assert len(doc["provenance"]["separation"]["weights_sha256"]) == 64
    res = CliRunner().invoke(main, ["separate", str(tmp_path / "nope.wav"), "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "no such file or take folder" in res.stderr
    assert not (tmp_path / "x").exists()
