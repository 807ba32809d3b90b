"""songmint.executor: local processes and Ray give the same outcomes; failures, --keep-going, memory."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from music.audio import save
from songmint.cli import main
from songmint.errors import SongmintError
from songmint.executor import LocalExecutor, Outcome, TaskBug, get_executor
from tests import synth
from tests.release_fixture import release_args


def square(x: int) -> int:
    if x == 3:
        raise SongmintError("three is not welcome")
    if x == 5:
        raise KeyError("a bug")
    return x * x


def blas_sum(seed: int) -> str:
    """A reduction whose last bits depend on BLAS threading: the executors must agree on them."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((300, 300))
    return (a @ a.T).sum().hex()


def hog(mb: int) -> int:
    return int(np.ones(mb * 2**20 // 8).sum())


def _values(outcomes: list[Outcome[int]]) -> list[tuple[int, int | None, str | None]]:
    return [(o.index, o.value, o.error) for o in outcomes]


@pytest.mark.parametrize("workers", [1, 2])
def test_local_keep_going_reports_each_failure_and_finishes_the_rest(workers: int) -> None:
    seen: list[int] = []
    with LocalExecutor(workers) as ex:
        out = ex.map(
            square,
            range(7),
            labels=[f"item{i}" for i in range(7)],
            keep_going=True,
            progress=lambda o: seen.append(o.index),
        )
    assert sorted(seen) == list(range(7))
    assert [o.value for o in out] == [0, 1, 4, None, 16, None, 36]
    assert out[3].error == "three is not welcome" and out[3].user_error
    assert out[5].error == "KeyError: 'a bug'" and not out[5].user_error
    assert all(o.seconds >= 0 and o.peak_rss_mb > 10 and ":" in o.worker for o in out)
    if workers == 2:
        assert len({o.worker for o in out}) >= 1


def test_without_keep_going_the_first_failure_is_raised() -> None:
    with LocalExecutor(1) as ex:
        with pytest.raises(SongmintError, match=r"^three is not welcome$") as info:
            ex.map(square, range(7), labels=[f"item{i}" for i in range(7)])
        assert type(info.value) is SongmintError  # raised as the task raised it
        with pytest.raises(TaskBug, match=r"^1: KeyError"):
            ex.map(square, [4, 5])


def test_worker_memory_is_bounded() -> None:
    with LocalExecutor(2, memory_mb=1024) as ex:
        out = ex.map(hog, [8, 4096, 8], keep_going=True)
    assert out[0].ok and out[2].ok
    assert out[1].error == "ran out of memory (worker limit 1024 MiB)" and out[1].user_error


def test_unknown_executor() -> None:
    with pytest.raises(SongmintError, match="unknown executor 'dask'"):
        get_executor("dask")
    with pytest.raises(SongmintError, match="--address goes with --executor ray"):
        get_executor("local", address="auto")


# --------------------------------------------------------------------------- Ray

ray = pytest.importorskip("ray")  # in the dev extra: CI has it


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray instance (2 CPUs) in this process for the module; executors join it."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}},
    )
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    for i, (bpm, notes) in enumerate(((120, (57, 60, 64)), (96, (50, 53, 57)), (132, (55, 59, 62)))):
        d = synth.drums(bpm=bpm, bars=2, sr=22_050, seed=i)
        save(synth.mix(d, synth.chord(notes, seconds=d.duration, sr=22_050)), folder / f"clip{i}.wav")
    (folder / "broken.wav").write_bytes(b"RIFF0000WAVEnot audio")
    return folder


@pytest.mark.slow
def test_ray_matches_local(local_ray: None) -> None:
    with get_executor("ray", workers=2) as ex:
        assert ex.describe() == "ray (2 workers)"
        out = ex.map(square, range(7), keep_going=True)
        sums = ex.map(blas_sum, range(4))
        with pytest.raises(SongmintError, match="three is not welcome"):
            ex.map(square, range(7))
    with LocalExecutor(2) as ex:
        assert _values(ex.map(square, range(7), keep_going=True)) == _values(out)
        assert [o.value for o in ex.map(blas_sum, range(4))] == [o.value for o in sums]
    assert [o.value for o in LocalExecutor(1).map(blas_sum, range(4))] == [o.value for o in sums]
    assert ray.is_initialized()  # an executor that joined an instance leaves it running


@pytest.mark.slow
def test_traits_json_is_byte_identical_whichever_executor(local_ray: None, clips: Path) -> None:
    runs = {}
    for args in (["-j", "1"], ["-j", "2"], ["--executor", "ray", "-j", "2"]):
        r = CliRunner().invoke(main, ["traits", str(clips), "--json", *args])
        assert r.exit_code == 2, r.output  # broken.wav fails; the others finish
        runs[" ".join(args)] = r.stdout
        assert "broken.wav" in r.stderr and "1 of 4 files failed" in " ".join(r.stderr.split())
    assert len(set(runs.values())) == 1, runs.keys()
    data = json.loads(runs["-j 1"])
    assert [Path(d["path"]).name for d in data] == ["clip0.wav", "clip1.wav", "clip2.wav"]


# --------------------------------------------------------------------------- the release


def _tree(out: Path) -> dict[str, bytes]:
    """Every published byte of a release folder, and the manifest without run facts."""
    files = {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.relative_to(out).parts[0] not in (".cache", ".songmint", "manifest.json")
    }
    m = json.loads((out / "manifest.json").read_text())
    for k in ("timings_s", "executor"):
        m.pop(k)
    files["manifest.json"] = json.dumps(m, sort_keys=True).encode()
    return files


def _release(spec: Path, out: Path, *args: str) -> str:
    r = CliRunner().invoke(main, release_args(spec, out, *args, network=None))
    assert r.exit_code == 0, r.output
    return r.output


@pytest.mark.slow
def test_release_folders_are_byte_identical_whichever_executor(local_ray: None, tmp_path: Path) -> None:
    from tests.release_fixture import make_spec

    spec = make_spec(tmp_path / "spec")
    trees = {}
    for name, args in {
        "default": [],
        "local-2": ["-j", "2"],
        "ray-2": ["--executor", "ray", "-j", "2"],
    }.items():
        out = tmp_path / name
        _release(spec, out, "--cache-dir", str(tmp_path / f"cache-{name}"), *args)
        trees[name] = _tree(out)
        m = json.loads((out / "manifest.json").read_text())
        assert m["executor"]["name"] == ("ray" if "ray" in name else "local")
        assert m["executor"]["tasks"] > 0 and m["executor"]["peak_rss_mb"] > 10
    assert trees["default"].keys() == trees["ray-2"].keys() and len(trees["default"]) > 20
    for name in ("local-2", "ray-2"):
        diff = [k for k in trees["default"] if trees["default"][k] != trees[name].get(k)]
        assert not diff, (name, diff)


def _catalog_spec(folder: Path, n: int, *, bad: int | None = None) -> Path:
    from tests.catalog_fixture import make_catalog

    tracks = make_catalog(folder, n, seconds=1.0)
    spec = folder / "catalog.toml"
    r = CliRunner().invoke(main, ["init", str(spec), "--from", str(folder / "masters"), "--initial", "1"])
    assert r.exit_code == 0, r.output
    if bad is not None:  # tags read, audio not: a master truncated after init
        data = tracks[bad].master.read_bytes()
        # the header (checked before any work) intact, the audio frames noise: it fails to decode
        noise = bytes((i * 131 + 7) % 256 for i in range(len(data) - 4096))
        tracks[bad].master.write_bytes(data[:4096] + noise)
    return spec


@pytest.mark.slow
def test_keep_going_finishes_the_others_then_a_rerun_does_only_the_fixed_track(tmp_path: Path) -> None:
    spec = _catalog_spec(tmp_path / "label", 3, bad=1)
    good = tmp_path / "label" / "masters" / "02 Fixture Song 2.flac"
    out, cache = tmp_path / "out", tmp_path / "cache"
    common = release_args(spec, out, "--cache-dir", cache, "-j", 2)
    r = CliRunner().invoke(main, common)  # without --keep-going: the first failure stops the run
    assert r.exit_code == 2 and "02 Fixture Song 2.flac: cannot decode" in " ".join(r.output.split())
    r = CliRunner().invoke(main, [*common, "--keep-going"])
    text = " ".join(r.output.split())
    assert r.exit_code == 2, r.output
    assert "1 of 3 tracks failed (fixture-song-2:" in text and "nothing was published" in text
    assert not (out / "manifest.json").exists() and not (out / "release.car").exists()
    assert len(list((cache / "covers").glob("*.json"))) == 2  # the others finished their stages
    # fix the master: the rerun computes only that track
    from tests.catalog_fixture import make_catalog

    make_catalog(tmp_path / "again", 2, seconds=1.0)
    good.write_bytes((tmp_path / "again" / "masters" / "02 Fixture Song 2.flac").read_bytes())
    r = CliRunner().invoke(main, [*common, "--keep-going"])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "manifest.json").read_text())
    assert len(m["tokens"]) == 3
    # one take, one traits, one cover and that track's encodes (mix flac+mp3, preview, 0 stems)
    assert m["executor"]["tasks"] == 1 + 1 + 1 + 3
    assert "fixture-song-1 (" in r.output and "fixture-song-1 cached" in " ".join(r.output.split())


@pytest.mark.slow
def test_a_killed_release_resumes_without_repeating_finished_tracks(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    spec = _catalog_spec(tmp_path / "label", 4)
    out, cache = tmp_path / "out", tmp_path / "cache"
    cmd = [sys.executable, "-m", "songmint.cli",
           *release_args(spec, out, "--cache-dir", cache, "-j", 1, "--executor", "local")]
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        cmd,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not list((cache / "traits").glob("*.json")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "manifest.json").exists(), "the release finished before it was killed"
    done_traits = len(list((cache / "traits").glob("*.json")))
    assert 1 <= done_traits <= 4  # killed during the traits stage or just after it
    r = CliRunner().invoke(main, cmd[3:])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "manifest.json").read_text())
    assert len(m["tokens"]) == 4 and m["chain"]["network"] == "memory"
    text = " ".join(r.output.split())
    assert len(re.findall(r"generate fixture-song-\d \(.*?\) cached", text)) == 4  # every take kept
    # traits ran only for the tracks the killed run had not finished
    assert len(re.findall(r"traits fixture-song-\d cached", text)) == done_traits
    assert "generate" not in m["executor"]["task_s"]
    if done_traits < 4:  # the rest ran on the executor
        assert m["executor"]["task_s"]["traits"] > 0
