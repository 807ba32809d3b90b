"""Loudness against independent references: pyloudnorm and ffmpeg's ebur128 filter."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from music import loudness
from music.audio import Audio, save
from music.errors import AudioError
from tests import synth


def ffmpeg_ebur128(path: Path) -> dict[str, float]:
    """Integrated loudness, LRA and true peak as ffmpeg's ebur128 filter measures them."""
    err = subprocess.run(
        ["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-af", "ebur128=peak=true",
         "-f", "null", "-"], capture_output=True, text=True, check=True,
    ).stderr
    summary = err[err.rindex("Summary:"):]
    return {
        "I": float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1)),
        "LRA": float(re.search(r"LRA:\s+(-?[\d.]+) LU", summary).group(1)),
        "TP": float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1)),
    }


def test_1khz_reference_tone_reads_minus_3_lufs_per_channel_sum() -> None:
    # BS.1770: a 0 dBFS 997 Hz sine in one channel reads -3.01 LUFS.
    a = synth.tone(997.0, seconds=5.0, sr=48000, amp=1.0)
    assert loudness.integrated_loudness(a) == pytest.approx(-3.01, abs=0.05)


@pytest.mark.parametrize("sr", [44100, 48000, 96000])
def test_matches_pyloudnorm(stereo_music: Audio, sr: int) -> None:
    from music.audio import resample

    a = resample(stereo_music, sr)
    ours = loudness.integrated_loudness(a)
    ref = pyloudnorm.Meter(sr).integrated_loudness(a.samples.T.astype(np.float64))
    assert ours == pytest.approx(ref, abs=0.1)


def test_matches_ffmpeg(tmp_path: Path, stereo_music: Audio) -> None:
    quiet_then_loud = np.concatenate([stereo_music.samples * 0.1, stereo_music.samples], axis=1)
    a = Audio(quiet_then_loud, stereo_music.sr)
    p = save(a, tmp_path / "x.wav", wav_depth="float")
    ref = ffmpeg_ebur128(p)
    m = loudness.measure(a)
    assert m.integrated_lufs == pytest.approx(ref["I"], abs=0.1)
    assert m.range_lu == pytest.approx(ref["LRA"], abs=1.0)
    assert m.true_peak_dbtp == pytest.approx(ref["TP"], abs=0.3)


def test_true_peak_exceeds_sample_peak_for_intersample_overs() -> None:
    # fs/4 sine with a 45° phase: samples at ±0.707 of the true amplitude.
    sr = 44100
    n = np.arange(sr)
    x = np.sin(2 * np.pi * n / 4 + np.pi / 4).astype(np.float32) * 0.9
    a = Audio(x[None], sr)
    assert loudness.sample_peak(a) == pytest.approx(20 * np.log10(0.9 * np.sqrt(0.5)), abs=0.01)
    assert loudness.true_peak(a) == pytest.approx(20 * np.log10(0.9), abs=0.2)


def test_silence_and_short_clips() -> None:
    assert loudness.integrated_loudness(synth.silence()) == float("-inf")
    assert loudness.integrated_loudness(synth.tone(seconds=0.2)) == float("-inf")
    with pytest.raises(AudioError, match="silent"):
        loudness.normalize(synth.silence())


@pytest.mark.parametrize("target", [-23.0, -14.0, -9.0])
def test_normalize_hits_target_under_ceiling(stereo_music: Audio, target: float) -> None:
    out = loudness.normalize(stereo_music, lufs=target, true_peak_dbtp=-1.0)
    m = loudness.measure(out)
    assert m.integrated_lufs == pytest.approx(target, abs=0.1)
    assert m.true_peak_dbtp <= -1.0 + 1e-6
    assert np.abs(out.samples).max() < 1.0


def test_limiter_gain_is_smooth() -> None:
    # A loud tone burst over a quiet bed: the limiter must not introduce steps (clicks).
    sr = 44100
    t = np.arange(sr * 2) / sr
    env = np.where((t > 0.5) & (t < 1.2), 3.0, 0.3)
    x = (np.sin(2 * np.pi * 220 * t) * env).astype(np.float32)
    hot = Audio(x[None], sr)
    out = loudness.limit(hot, ceiling_dbtp=-1.0)
    assert loudness.true_peak(out) <= -1.0 + 1e-6
    big = np.abs(x) > 0.2
    gain = out.samples[0][big] / x[big]
    assert gain.min() > 0.25
    # between neighbouring large samples the gain moves by far less than a step would
    both = big[:-1] & big[1:]
    ratio = out.samples[0] / np.where(np.abs(x) > 1e-9, x, 1.0)
    assert np.abs(np.diff(ratio)[both]).max() < 0.01
    # the quiet bed before the burst is untouched
    assert np.allclose(out.samples[0][: int(0.3 * sr)], x[: int(0.3 * sr)])


def test_bad_targets() -> None:
    with pytest.raises(AudioError, match="outside"):
        loudness.normalize(synth.tone(), lufs=5.0)
    with pytest.raises(AudioError, match="ceiling"):
        loudness.normalize(synth.tone(), true_peak_dbtp=1.0)


def test_six_channel_weights() -> None:
    x = np.zeros((6, 48000 * 3), np.float32)
    x[3] = synth.tone(997, seconds=3, sr=48000, amp=1.0).samples[0]  # LFE only: not counted
    assert loudness.integrated_loudness(Audio(x, 48000)) == float("-inf")
