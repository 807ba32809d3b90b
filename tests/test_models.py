"""``songmint models pull`` through huggingface_hub's real download code, against a local hub
(``tests/hub_server.py``) serving a tiny random MusicGen; and ``models list``'s registry."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from music.engines import weights
from music.errors import ModelNotFoundError
from songmint.cli import main
from tests import hub_server
from tests.test_musicgen import build_tiny

REPO = "facebook/musicgen-small"  # the registry's musicgen-small, served locally with tiny weights


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = build_tiny(tmp_path_factory.mktemp("mg"))
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def hub(tiny_files: dict[str, bytes]):  # type: ignore[no-untyped-def]
    h = hub_server.Hub({REPO: hub_server.Repo(dict(tiny_files), lfs=("model.safetensors",)),
                        "stabilityai/stable-audio-open-1.0": hub_server.Repo({"x.json": b"{}"}, gated=True)})
    server = hub_server.start(h)
    yield h
    server.shutdown()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub: hub_server.Hub) -> dict[str, str]:
    values = {"HF_HUB_CACHE": str(tmp_path / "hub"), "SONGMINT_MODELS_DIR": str(tmp_path / "models"),
              "HF_ENDPOINT": hub.url}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return values


def _error(res) -> str:  # type: ignore[no-untyped-def]
    """The one error line of a failed command (progress and notes may precede it on stderr)."""
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and res.exit_code == 2, res.output
    return lines[0]


def _pull(*args: str, **env: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["models", "pull", *args], env=env or None)


def test_pull_then_generate_finds_the_model(env: dict[str, str], hub: hub_server.Hub, tiny_files,
                                            tmp_path: Path) -> None:
    res = _pull("musicgen-small", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["repo"] == REPO and doc["commit"] == hub.repos[REPO].commit
    assert doc["files"] == len(tiny_files) and doc["licence"] == "CC-BY-NC-4.0"
    snap = Path(doc["path"])
    assert (snap / "model.safetensors").read_bytes() == tiny_files["model.safetensors"]
    pins = json.loads((tmp_path / "models" / "pulled.json").read_text())
    assert pins[REPO] == {"revision": None, "commit": hub.repos[REPO].commit}
    # the engine now loads it from the cache by name, with no network
    hub.requests.clear()
    out = tmp_path / "take"
    res = CliRunner().invoke(main, ["generate", "calm piano", "--engine", "musicgen", "--model",
                                    "musicgen-small", "--seconds", "0.2", "--seed", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert hub.requests == []
    take = json.loads((out / "take.json").read_text())
    assert take["provenance"]["model_id"] == REPO and take["provenance"]["model_path"] == str(snap)


def test_interrupted_download_resumes(env: dict[str, str], hub: hub_server.Hub, tiny_files,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    # huggingface_hub keeps what it has read in 10 MB chunks; smaller ones let a tiny file resume mid-way
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 4096)
    size = len(tiny_files["model.safetensors"])
    assert size > 3 * 4096
    hub.drop_after["model.safetensors"] = size // 2
    pulled = weights.pull("musicgen-small", endpoint=hub.url, progress=False)
    ranges = [r for m, path, r in hub.requests if m == "GET" and path.endswith("/model.safetensors")]
    assert ranges[0] is None and ranges[1] is not None  # the second GET asks only for the rest
    start = int(ranges[1].removeprefix("bytes=").rstrip("-"))
    assert 0 < start <= size // 2
    assert (pulled.path / "model.safetensors").read_bytes() == tiny_files["model.safetensors"]


def test_checksum_mismatch_is_refused(env: dict[str, str], hub: hub_server.Hub) -> None:
    hub.corrupt.add("model.safetensors")
    assert "model.safetensors: checksum mismatch" in _error(_pull("musicgen-small"))
    snaps = weights.snapshots(REPO)
    assert snaps and not (snaps[0] / "model.safetensors").exists()  # nothing corrupt is left to load
    with pytest.raises(ModelNotFoundError, match="models pull musicgen-small"):
        from music.engines.musicgen import resolve_checkpoint

        resolve_checkpoint("musicgen-small")
    hub.corrupt.clear()  # a second pull fetches the file again
    assert _pull("musicgen-small").exit_code == 0


def test_revision_is_pinned_and_unknown_ones_fail(env: dict[str, str], hub: hub_server.Hub) -> None:
    commit = hub.repos[REPO].commit
    res = _pull("musicgen-small", "--revision", commit, "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["revision"] == commit
    assert weights.snapshots(REPO)[0].name == commit
    assert "has no revision 'v9'" in _error(_pull("musicgen-small", "--revision", "v9"))


def test_gated_unknown_and_offline_errors_are_one_line(env: dict[str, str], hub: hub_server.Hub) -> None:
    err = _error(_pull("stable-audio-open-1.0"))
    assert "gated: accept its licence at https://huggingface.co/stabilityai/stable-audio-open-1.0" in err
    assert "HF_TOKEN" in err
    assert "no repository nobody/nothing" in _error(_pull("nobody/nothing"))
    assert "neither a known model" in _error(_pull("not a repo"))
    hub.requests.clear()
    assert "HF_HUB_OFFLINE" in _error(_pull("musicgen-small", HF_HUB_OFFLINE="1"))
    assert hub.requests == []
    assert _pull("musicgen-small").exit_code == 0
    hub.requests.clear()
    res = _pull("musicgen-small", "--json", HF_HUB_OFFLINE="1")  # cached: fine, and still no request
    assert res.exit_code == 0, res.output
    assert hub.requests == []


def test_token_is_sent_and_never_printed(env: dict[str, str], hub: hub_server.Hub) -> None:
    secret = "hf_secretsecretsecret"
    res = _pull("musicgen-small", HF_TOKEN=secret)
    assert res.exit_code == 0, res.output
    assert hub.authorization and set(hub.authorization) == {f"Bearer {secret}"}
    assert secret not in res.output and secret not in res.stderr
    assert secret not in (Path(env["SONGMINT_MODELS_DIR"]) / "pulled.json").read_text()
    hub.authorization.clear()
    assert _pull("musicgen-small").exit_code == 0
    assert set(hub.authorization) == {None}  # no token: none sent (not even a cached login)


def test_missing_model_errors_name_the_pull_command(env: dict[str, str]) -> None:
    from music.engines.dd_checkpoints import find_checkpoint
    from music.engines.musicgen import resolve_checkpoint

    with pytest.raises(ModelNotFoundError, match=r"`songmint models pull musicgen-small`"):
        resolve_checkpoint("facebook/musicgen-small")
    with pytest.raises(ModelNotFoundError, match=r"`songmint models pull maestro-150k`"):
        find_checkpoint("maestro-150k")
    # a local path is a path, not a repo id: no `pull` of a path
    missing = os.path.expanduser("~/models/musicgen-nowhere")
    with pytest.raises(ModelNotFoundError) as err:
        resolve_checkpoint("~/models/musicgen-nowhere")
    assert f"no MusicGen checkpoint folder at {missing}" in str(err.value) and "pull" not in str(err.value)


def test_list_shows_the_registry(env: dict[str, str]) -> None:
    res = CliRunner().invoke(main, ["models", "list", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.stdout)["checkpoints"]}
    for name in ("musicgen-small", "musicgen-medium", "musicgen-melody", "stable-audio-open-1.0",
                 "maestro-150k", "htdemucs"):
        assert rows[name]["repo"] == weights.KNOWN_MODELS[name].repo and rows[name]["licence"]
        assert rows[name]["pull"] == f"songmint models pull {name}" and not rows[name]["found"]
    assert rows["stable-audio-open-1.0"]["gated"]
    res = CliRunner().invoke(main, ["models", "list"], env={"COLUMNS": "220"})
    assert "facebook/musicgen-small" in res.output and "CC-BY-NC-4.0" in res.output
    res = CliRunner().invoke(main, ["models", "list"], env={"COLUMNS": "80"})  # piped, or a narrow terminal
    assert res.exit_code == 0, res.output
    assert all(f" {name} " in res.output for name in weights.KNOWN_MODELS), res.output  # names to pull, uncut
