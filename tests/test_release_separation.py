"""`songmint release --stems`: a file track given without a stems folder gets stems by separation
(a tiny randomly initialised HTDemucs, 8 kHz, in the Hugging Face cache layout, through demucs'
real loader) and releases them as stem tokens like a stems folder's: minted on songmint's local
anvil (checked there by `songmint verify`), the other cases on the in-memory chain."""

from __future__ import annotations

import dataclasses
import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from safetensors import safe_open
from safetensors.torch import save_file

from minting.chain.anvil import Anvil, free_port
from music.audio import load, save
from songmint.cli import main
from songmint.release import Options
from songmint.release.tokens import Separation, separates, take_key
from songmint.spec import load_spec
from songmint.verify import verify_release
from tests import synth
from tests.release_fixture import make_spec, spec_toml
from tests.test_separation import save_tiny_htdemucs

pytestmark = [pytest.mark.usefixtures("torch_one_thread"), pytest.mark.anvil]

COMMIT = "c0ffee" + "0" * 34
SOURCES = ["bass", "drums", "other", "vocals"]
Released = tuple[Path, Path, Path, dict[str, str], dict[str, Any]]  # OUT, cache, hub, anvil env, manifest


def _hub(root: Path) -> Path:
    """A Hugging Face cache holding the tiny model as `songmint models pull htdemucs` leaves it."""
    save_tiny_htdemucs(root / "models--adefossez--HTDemucs" / "snapshots" / COMMIT)
    return root


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("split")
    drums = synth.drums(bpm=120, bars=1, sr=22_050, seed=3)
    save(synth.mix(drums, synth.chord((50, 57, 62), seconds=drums.duration, sr=22_050)), folder / "gamma.wav")
    (folder / "spec.toml").write_text(spec_toml(
        collection={"name": "Split EP", "symbol": "SPL"},
        defaults={"artist": "Fixture", "editions": {"cap": 4, "initial": 1}},
        tracks=[{"id": "gamma", "title": "Gamma", "file": "gamma.wav", "stems_as_tokens": True}],
        network="memory",
    ))
    return folder / "spec.toml"


def _release(spec: Path, out: Path, cache: Path, hub: Path, *extra: str, env: dict[str, str] | None = None
             ) -> Any:
    return CliRunner().invoke(
        main,
        ["release", str(spec), "--out", str(out), "--cover-size", "256", "--no-preview", "--json", *extra],
        env={"HF_HUB_CACHE": str(hub), "SONGMINT_CACHE_DIR": str(cache),
             "SONGMINT_MODELS_DIR": str(hub.parent / "models"), **(env or {})},
    )


@pytest.fixture(scope="module")
def released(spec: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Released]:
    """Released with `--stems` on songmint's local anvil, then checked by `verify_release` there."""
    root = tmp_path_factory.mktemp("run")
    hub, cache, out = _hub(root / "hub"), root / "cache", root / "out"
    node = Anvil(port=free_port(), state_file=root / "data" / "anvil.json")
    node.start()
    env = {"SONGMINT_ANVIL_PORT": str(node.port), "SONGMINT_DATA_DIR": str(root / "data")}
    mp = pytest.MonkeyPatch()
    try:
        res = _release(spec, out, cache, hub, "--stems", "-n", "local", env=env)
        assert res.exit_code == 0, res.output
        for k, v in env.items():
            mp.setenv(k, v)
        report = verify_release(out, rerender=False, chain=True)
        assert not report.mismatches, report.mismatches
        rows = [r for r in report.rows if r["check"] == "on chain" and r["status"] == "ok"]
        on_chain = sorted(r["subject"] for r in rows)
        assert on_chain == ["Gamma", *(f"Gamma ({s})" for s in SOURCES)], report.rows  # supply, uri, cap
        yield out, cache, hub, env, json.loads(res.stdout)
    finally:
        mp.undo()
        node.stop()


def test_separated_stems_are_stem_tokens_that_sum_to_the_mix(released: Released, spec: Path) -> None:
    out, _, _, _, m = released
    track, *stems = m["tokens"]
    assert track["title"] == "Gamma"
    assert sorted(t["title"] for t in stems) == [f"Gamma ({s})" for s in SOURCES]  # in the spec's order
    assert {f"stem_lossless:{s}" for s in SOURCES} | {f"stem:{s}" for s in SOURCES} <= set(track["assets"])
    assert all(t["minted"] == 1 and t["cap"] == 4 for t in m["tokens"])  # minted on the chain
    assert m["chain"]["network"] == "local" and m["chain"]["chain_id"] == 31337
    assert len({t["id"] for t in m["tokens"]}) == 5
    mix = load(out / track["assets"]["lossless"])
    parts = [load(out / t["assets"]["lossless"]) for t in stems]
    assert all((p.sr, p.channels, p.n) == (mix.sr, mix.channels, mix.n) for p in parts)  # sample-aligned
    total = np.sum([p.samples.astype(np.float64) for p in parts], axis=0)
    assert np.max(np.abs(total - mix.samples)) < 1e-5  # 24-bit FLACs of stems that sum to the mix
    assert np.max(np.abs(mix.samples - load(spec.parent / "gamma.wav").samples)) < 1e-4  # the file's own mix
    assert min(np.std(p.samples) for p in parts) > 0  # the model's output, not silence


def test_provenance_names_the_model(released: Released) -> None:
    out, _, _, _, m = released
    for t in m["tokens"]:
        sep = t["provenance"]["separation"]
        assert (sep["model"], sep["repo"], sep["commit"]) == ("htdemucs", "adefossez/HTDemucs", COMMIT)
        assert len(sep["weights_sha256"]) == 64 and sep["residual_in"] == "other"
        assert "path" not in sep  # no local path in published metadata
        assert t["provenance"]["engine"] == "file"
    doc = json.loads((out / m["tokens"][1]["metadata_path"]).read_text())
    assert "htdemucs" in json.dumps(doc)


def test_rerun_is_a_cache_hit_and_the_model_is_in_the_key(
        released: Released, spec: Path, tmp_path: Path) -> None:
    out, cache, hub, env, m = released
    res = _release(spec, out, cache, hub, "--stems", "-n", "local", env=env)
    assert res.exit_code == 0, res.output
    assert "gamma (gamma.wav, stems by htdemucs) cached" in res.stderr
    again = json.loads(res.stdout)
    assert again["root_cid"] == m["root_cid"]
    assert [t["hash"] for t in again["transactions"]] == [t["hash"] for t in m["transactions"]]  # none new
    # other weights under the same name and commit, same file: another take key, separated anew
    other = _hub(tmp_path / "hub")
    weights = next((other / "models--adefossez--HTDemucs" / "snapshots" / COMMIT).glob("*.safetensors"))
    with safe_open(str(weights), "pt") as f:
        meta, state = f.metadata(), {k: f.get_tensor(k) + 0.01 for k in f.keys()}  # noqa: SIM118
    save_file(state, str(weights), metadata=meta)
    res = _release(spec, tmp_path / "out2", cache, other, "--stems")
    assert res.exit_code == 0, res.output
    stage1 = [line for line in res.stderr.splitlines() if line.startswith("[1/8]")]
    assert stage1 and "cached" not in stage1[0]
    m2 = json.loads(res.stdout)
    assert m2["tokens"][1]["provenance"]["separation"]["weights_sha256"] != \
        m["tokens"][1]["provenance"]["separation"]["weights_sha256"]


def test_missing_weights_stop_before_anything(spec: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = _release(spec, out, tmp_path / "cache", tmp_path / "empty-hub", "--stems", "-n", "local")
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "`songmint models pull htdemucs`" in lines[0], res.stderr
    assert not out.exists() and not (tmp_path / "cache").exists()
    res = _release(spec, out, tmp_path / "cache", tmp_path / "empty-hub", "--stems", "--model",
                   str(tmp_path / "no-such-model"))
    assert res.exit_code == 2 and "no separation model folder" in res.stderr and not out.exists()


def test_model_without_stems_is_a_usage_error(spec: Path, tmp_path: Path) -> None:
    res = _release(spec, tmp_path / "out", tmp_path / "cache", tmp_path / "hub", "--model", "htdemucs")
    assert res.exit_code == 2 and "give --stems too" in res.stderr and not (tmp_path / "out").exists()


def test_kept_stems_from_a_model_folder(spec: Path, tmp_path: Path) -> None:
    folder = save_tiny_htdemucs(tmp_path / "my-htdemucs")
    res = _release(spec, tmp_path / "out", tmp_path / "cache", tmp_path / "hub", "--stems", "drums,bass",
                   "--model", str(folder))
    assert res.exit_code == 0, res.output
    track, *stems = json.loads(res.stdout)["tokens"]
    assert sorted(t["title"] for t in stems) == ["Gamma (bass)", "Gamma (drums)"]
    assert not any(r.startswith("stem") and r.endswith(("other", "vocals")) for r in track["assets"])
    sep = track["provenance"]["separation"]
    assert sep["kept"] == ["drums", "bass"] and sep["repo"] is None and sep["commit"] is None
    res = _release(spec, tmp_path / "out2", tmp_path / "cache", tmp_path / "hub", "--stems", "drums,piano",
                   "--model", str(folder))
    assert res.exit_code == 2, res.output
    assert "unknown stem(s) piano" in res.stderr and not (tmp_path / "out2").exists()


def test_only_bare_file_tracks_are_separated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture EP's alpha has a stems folder, beta none: only beta is separated; a spec whose
    file tracks all have stems needs no model at all."""
    monkeypatch.setenv("HF_HUB_CACHE", str(_hub(tmp_path / "hub")))
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))
    spec = load_spec(make_spec(tmp_path / "ep"))
    sep = Separation.resolve(spec, Options(out=tmp_path / "o", stems=("all",)))
    assert sep is not None and [separates(t) for t in spec.tracks] == [False, True]
    assert sep.tracks == {"beta"} and sep.model["commit"] == COMMIT
    assert pickle.loads(pickle.dumps(sep)) == sep  # it travels to executor workers
    alpha, beta = spec.tracks
    assert take_key(alpha, sep) == take_key(alpha) and take_key(beta, sep) != take_key(beta)
    assert Separation.resolve(spec, Options(out=tmp_path / "o")) is None  # no --stems
    only_alpha = dataclasses.replace(spec, tracks=(alpha,))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    assert Separation.resolve(only_alpha, Options(out=tmp_path / "o", stems=("all",))) is None


def _keyed(spec: Path, name: str, line: str) -> Path:
    """The spec with ``line`` added to its track, written beside it (the same gamma.wav)."""
    path = spec.with_name(name)
    path.write_text(spec.read_text().replace('file = "gamma.wav"', f'file = "gamma.wav"\n{line}', 1))
    return path


def test_separate_true_is_stems_for_that_track(released: Released, spec: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`separate = true` without `--stems` separates the track as `--stems` does: the same take key
    (the take `--stems` made is a cache hit), so the same stem tokens, ids and provenance."""
    _, cache, hub, _, m = released
    keyed = _keyed(spec, "keyed.toml", "separate = true")
    res = _release(keyed, tmp_path / "out", cache, hub)  # the spec's memory network
    assert res.exit_code == 0, res.output
    assert "gamma (gamma.wav, stems by htdemucs) cached" in res.stderr
    tokens = json.loads(res.stdout)["tokens"]
    assert [(t["id"], t["title"]) for t in tokens] == [(t["id"], t["title"]) for t in m["tokens"]]
    assert [t["provenance"] for t in tokens] == [t["provenance"] for t in m["tokens"]]
    assert tokens[0]["provenance"]["separation"]["commit"] == COMMIT
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(hub.parent / "models"))
    gamma = load_spec(keyed).tracks[0]
    sep = Separation.resolve(load_spec(keyed), Options(out=tmp_path / "o"))
    assert sep is not None and sep.tracks == {"gamma"} and sep.keep == ("all",)
    by_flag = Separation.resolve(load_spec(spec), Options(out=tmp_path / "o", stems=("all",)))
    assert take_key(gamma, sep) == take_key(load_spec(spec).tracks[0], by_flag)
    kept = Separation.resolve(load_spec(keyed), Options(out=tmp_path / "o", stems=("drums", "bass")))
    assert kept is not None and kept.keep == ("drums", "bass")
    assert take_key(gamma, kept) != take_key(gamma, sep)


def test_separate_true_with_missing_weights_stops_before_anything(spec: Path, tmp_path: Path) -> None:
    keyed = _keyed(spec, "keyed-missing.toml", "separate = true")
    out, cache, empty = tmp_path / "out", tmp_path / "cache", tmp_path / "empty-hub"
    for extra in ((), ("--model", "htdemucs")):  # --model needs no --stems when a track says separate
        res = _release(keyed, out, cache, empty, *extra)
        assert res.exit_code == 2, res.output
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and "`songmint models pull htdemucs`" in lines[0], res.stderr
        assert not out.exists() and not cache.exists()


def test_separate_false_opts_out_of_stems(spec: Path, tmp_path: Path) -> None:
    """`--stems` leaves a `separate = false` track a bare mix, and then needs no model at all."""
    opted = _keyed(spec, "opted-out.toml", "separate = false")
    assert Separation.resolve(load_spec(opted), Options(out=tmp_path / "o", stems=("all",))) is None
    res = _release(opted, tmp_path / "out", tmp_path / "cache", tmp_path / "empty-hub", "--stems")
    assert res.exit_code == 0, res.output
    assert "--stems: no track to separate" in res.stderr
    (track,) = json.loads(res.stdout)["tokens"]
    assert "separation" not in track["provenance"] and not any(a.startswith("stem") for a in track["assets"])
    res = _release(opted, tmp_path / "out2", tmp_path / "cache", tmp_path / "empty-hub",
                   "--model", "htdemucs")
    assert res.exit_code == 2 and "give --stems too" in res.stderr and not (tmp_path / "out2").exists()


def test_separate_in_defaults_is_for_bare_file_tracks(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture EP with `[defaults] separate = true`: beta (no stems folder) is separated without
    `--stems`, alpha keeps its stems folder."""
    monkeypatch.setenv("HF_HUB_CACHE", str(_hub(tmp_path / "hub")))
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))
    path = make_spec(tmp_path / "ep")
    path.write_text(path.read_text().replace('artist = "Fixture"', 'artist = "Fixture"\nseparate = true'))
    spec = load_spec(path)
    assert [t.separate for t in spec.tracks] == [None, True]
    sep = Separation.resolve(spec, Options(out=tmp_path / "o"))
    assert sep is not None and sep.tracks == {"beta"}


NEURAL = """\
[collection]
name = "Mixed EP"
symbol = "MIX"

[defaults]
artist = "Fixture"

[[tracks]]
id = "first"
title = "First"
[tracks.generate]
engine = "composer"
seconds = 4

[[tracks]]
id = "second"
title = "Second"
[tracks.generate]
engine = "musicgen"
prompt = "lofi"
seconds = 2
params = {params}

[network]
name = "memory"
"""


@pytest.mark.parametrize(("params", "pull"), [
    ("{{ }}", "`songmint models pull musicgen-small`"),  # the engine's default model, not pulled
    ('{{ model = "{ckpt}", stems = "all" }}', "`songmint models pull htdemucs`"),  # its finishing's
])
def test_missing_engine_weights_stop_the_release_before_any_track(
        tmp_path: Path, params: str, pull: str) -> None:
    """A generated track's missing weights (the engine's, or the separator its `params.stems` asks
    for) stop the release before the composer track before it is rendered: nothing in the cache."""
    from tests.test_musicgen import build_tiny

    ckpt = build_tiny(tmp_path / "mg")
    spec = tmp_path / "spec.toml"
    spec.write_text(NEURAL.format(params=params.format(ckpt=ckpt)))
    out, cache = tmp_path / "out", tmp_path / "cache"
    res = _release(spec, out, cache, tmp_path / "empty-hub")
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and pull in lines[0], res.stderr
    assert not out.exists() and not cache.exists()


def test_a_cached_take_needs_no_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A re-run or a resume where the weights are gone: takes in the cache are not rendered again,
    so their engines' weights are not asked for."""
    from songmint.release.cache import Cache
    from songmint.release.tokens import require_models

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))
    (tmp_path / "spec.toml").write_text(NEURAL.format(params="{ }"))
    spec, cache = load_spec(tmp_path / "spec.toml"), Cache(tmp_path / "cache")
    with pytest.raises(Exception, match="songmint models pull musicgen-small"):
        require_models(spec, cache)
    folder = cache.path("takes", take_key(spec.tracks[1]))
    folder.mkdir(parents=True)
    (folder / "take.json").write_text("{}")
    require_models(spec, cache)  # the composer's take needs nothing, the musicgen one is cached
