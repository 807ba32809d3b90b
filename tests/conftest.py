"""Shared pytest fixtures: synthetic audio written to temporary files, and the CLI runner."""

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
