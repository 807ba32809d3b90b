"""songmint.executor: local processes and Ray give the same outcomes; failures, --keep-going, memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from music.audio import save
from songmint.cli import main
from songmint.errors import SongmintError
from songmint.executor import LocalExecutor, Outcome, TaskBug, TaskError, get_executor
from tests import synth


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
        with pytest.raises(TaskError, match=r"^item3: three is not welcome$"):
            ex.map(square, range(7), labels=[f"item{i}" for i in range(7)])
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
        with pytest.raises(TaskError, match="three is not welcome"):
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
