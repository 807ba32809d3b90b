"""Shared pytest fixtures: synthetic audio written to temporary files, the CLI runner, one torch thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from music.audio import Audio, save
from tests import synth


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def stereo_music() -> Audio:
    """Four bars of drums over an A-minor chord at 120 BPM, stereo 44.1 kHz."""
    d = synth.drums(bpm=120, bars=4)
    c = synth.chord((57, 60, 64), seconds=d.duration)
    return synth.mix(d, c)


@pytest.fixture
def music_wav(tmp_path: Path, stereo_music: Audio) -> Path:
    return save(stereo_music, tmp_path / "music.wav")


@pytest.fixture(scope="session")
def release_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One `songmint release` cache ($SONGMINT_CACHE_DIR) for the whole session, fresh each run."""
    mp = pytest.MonkeyPatch()
    path = tmp_path_factory.mktemp("release-cache")
    mp.setenv("SONGMINT_CACHE_DIR", str(path))
    yield path
    mp.undo()


@pytest.fixture(scope="module")
def torch_one_thread() -> Iterator[None]:
    """One intra-op torch thread for a module (``pytestmark = pytest.mark.usefixtures(...)``): tiny
    models gain nothing from more, and on a shared CPU spinning OpenMP workers are 10-30x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_dd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Dance Diffusion UNet folder (:func:`tests.tiny_diffusers.save_tiny`), one per module."""
    from tests.tiny_diffusers import save_tiny

    return save_tiny(tmp_path_factory.mktemp("dd") / "tiny-dd")


@pytest.fixture(scope="module")
def tiny_sao(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Stable Audio pipeline folder (:func:`tests.tiny_diffusers.build_tiny_pipeline`), one per
    module."""
    from tests.tiny_diffusers import build_tiny_pipeline

    return build_tiny_pipeline(tmp_path_factory.mktemp("sao") / "tiny-sao")
