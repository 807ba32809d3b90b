"""Audio I/O: the Audio value, decoding, encoding round trips (checked by ffmpeg), conversion."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from music import audio as aio
from music.audio import Audio
from music.errors import AudioError, AudioFormatError
from tests import synth


def ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout)


def ffmpeg_decode(path: Path) -> np.ndarray:
    """Decode with ffmpeg itself to float32, shape (channels, n)."""
    info = ffprobe(path)["streams"][0]
    ch = int(info["channels"])
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.float32).reshape(-1, ch).T


class TestAudioValue:
    def test_shape_dtype_and_properties(self) -> None:
        a = Audio(np.zeros((2, 441), dtype=np.float64), 44100)
        assert a.samples.dtype == np.float32
        assert (a.channels, a.n, a.sr) == (2, 441, 44100)
        assert a.duration == pytest.approx(0.01)
        with pytest.raises(ValueError):
            a.samples[0, 0] = 1.0  # read-only: Audio is immutable

    @pytest.mark.parametrize(
        ("samples", "sr", "match"),
        [
            (np.zeros((0, 100), np.float32), 44100, "zero channels"),
            (np.zeros((2, 0), np.float32), 44100, "empty"),
            (np.zeros(100, np.float32), 44100, "channels, n"),
            (np.full((1, 100), np.nan, np.float32), 44100, "NaN"),
            (np.full((1, 100), np.inf, np.float32), 44100, "NaN or infinite"),
            (np.zeros((1, 100), np.float32), 100, "sample rate"),
            (np.zeros((1, 100), np.float32), 10_000_000, "sample rate"),
            (np.zeros((1000, 2), np.float32), 44100, "channels"),
        ],
    )
    def test_invalid_values_raise(self, samples: np.ndarray, sr: int, match: str) -> None:
        with pytest.raises(AudioError, match=match):
            Audio(samples, sr)

    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
    def test_one_non_finite_sample_is_found_anywhere(self, bad: float) -> None:
        x = np.random.default_rng(0).uniform(-1, 1, (2, 10_000)).astype(np.float32)
        x[1, 7_777] = bad
        with pytest.raises(AudioError, match="NaN or infinite"):
            Audio(x, 44100)
        with pytest.raises(AudioError, match="NaN or infinite"):  # a strided view too
            Audio(np.asfortranarray(x), 44100)
        x[1, 7_777] = 3e38  # finite, but its square overflows: checked sample by sample
        x[0, 5] = -3e38
        assert Audio(x, 44100).n == 10_000

    def test_from_array_channels_last(self) -> None:
        a = Audio.from_array(np.zeros((100, 2)), 8000, channels_last=True)
        assert (a.channels, a.n) == (2, 100)


class TestRoundTrips:
    @pytest.mark.parametrize(("ext", "tol"), [(".wav", 2e-7), (".flac", 1e-6)])
    def test_lossless_round_trip_bit_accurate(self, tmp_path: Path, stereo_music: Audio, ext: str,
                                              tol: float) -> None:
        p = aio.save(stereo_music, tmp_path / f"x{ext}")
        back = aio.load(p)
        assert (back.channels, back.n, back.sr) == (2, stereo_music.n, 44100)
        # 24-bit quantisation error bound
        assert np.abs(back.samples - stereo_music.samples).max() < 1.0 / 2**23 + tol
        decoded = ffmpeg_decode(p)
        assert decoded.shape == stereo_music.samples.shape
        assert np.abs(decoded - back.samples).max() < 1e-6

    def test_wav_depths(self, tmp_path: Path) -> None:
        a = synth.tone(440, seconds=0.5)
        for depth, subtype in ((16, "PCM_16"), (24, "PCM_24"), ("float", "FLOAT")):
            p = aio.save(a, tmp_path / f"t{depth}.wav", wav_depth=depth)
            assert sf.info(p).subtype == subtype
        assert ffprobe(tmp_path / "t16.wav")["streams"][0]["codec_name"] == "pcm_s16le"
        assert ffprobe(tmp_path / "tfloat.wav")["streams"][0]["codec_name"] == "pcm_f32le"

    @pytest.mark.parametrize(("quality", "check"), [("320k", "320000"), ("v0", None)])
    def test_mp3_encodes_and_decodes_gapless(self, tmp_path: Path, stereo_music: Audio, quality: str,
                                             check: str | None) -> None:
        p = aio.save(stereo_music, tmp_path / "x.mp3", mp3_quality=quality)
        probe = ffprobe(p)
        assert probe["streams"][0]["codec_name"] == "mp3"
        if check:
            assert probe["streams"][0]["bit_rate"] == check
        back = aio.load(p)
        assert back.n == stereo_music.n  # gapless: the LAME header carries the encoder delay
        # a lossy codec still tracks the waveform closely
        corr = np.corrcoef(back.samples[0], stereo_music.samples[0])[0, 1]
        assert corr > 0.99

    def test_opus_and_ogg(self, tmp_path: Path, stereo_music: Audio) -> None:
        p = aio.save(stereo_music, tmp_path / "x.opus")
        assert ffprobe(p)["streams"][0]["codec_name"] == "opus"
        back = aio.load(p)
        assert back.sr == 48000 and back.channels == 2
        assert back.duration == pytest.approx(stereo_music.duration, abs=0.03)
        q = aio.save(stereo_music, tmp_path / "x.ogg")
        assert ffprobe(q)["streams"][0]["codec_name"] == "vorbis"

    def test_deterministic_bytes(self, tmp_path: Path, stereo_music: Audio) -> None:
        for ext in (".wav", ".flac", ".mp3"):
            a = aio.save(stereo_music, tmp_path / f"a{ext}").read_bytes()
            b = aio.save(stereo_music, tmp_path / f"b{ext}").read_bytes()
            assert a == b, ext

    def test_m4a_through_ffmpeg(self, tmp_path: Path, stereo_music: Audio) -> None:
        wav = aio.save(stereo_music, tmp_path / "x.wav")
        m4a = tmp_path / "x.m4a"
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), "-c:a", "aac", "-b:a", "192k", str(m4a)],
                       check=True)
        back = aio.load(m4a)
        assert back.channels == 2 and back.sr == 44100
        assert back.duration == pytest.approx(stereo_music.duration, abs=0.1)


def _wav_with_a_nan(p: Path) -> None:
    x = np.zeros((1000, 1), np.float32)
    x[10] = np.nan
    sf.write(p, x, 44100, subtype="FLOAT")


BAD_FILES = [  # (file name, how to write it, the error load raises, what it says)
    ("empty.wav", lambda p: p.write_bytes(b""), AudioError, "empty"),
    ("corrupt.flac", lambda p: p.write_bytes(b"fLaC" + bytes(range(256)) * 20), AudioFormatError,
     "cannot decode"),
    ("text.m4a", lambda p: p.write_text("hello, I am text"), AudioFormatError, None),
    ("header-only.wav", lambda p: sf.write(p, np.zeros((0, 2), np.float32), 44100), AudioError, "no audio"),
    ("nan-in-float.wav", _wav_with_a_nan, AudioError, "NaN"),
    ("absurd-rate.wav", lambda p: sf.write(p, np.zeros((1000, 1), np.float32), 1000), AudioError,
     "sample rate"),
]


class TestBadInput:
    def test_missing(self, tmp_path: Path) -> None:
        with pytest.raises(AudioError, match="no such file"):
            aio.load(tmp_path / "nope.wav")

    @pytest.mark.parametrize(("name", "write", "error", "match"), BAD_FILES, ids=[r[0] for r in BAD_FILES])
    def test_bad_file(self, tmp_path: Path, name: str, write: Callable[[Path], object],
                      error: type[Exception], match: str | None) -> None:
        p = tmp_path / name
        write(p)
        with pytest.raises(error, match=match):
            aio.load(p)

    def test_garbage_mp3_says_what_is_wrong(self, tmp_path: Path) -> None:
        p = tmp_path / "c.mp3"
        p.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00garbage" * 100)
        with pytest.raises(AudioFormatError, match="no decodable audio frames") as info:
            aio.load(p)
        assert "does not exist" not in str(info.value)  # libsndfile's misleading wording is gone

    def test_over_long(self, tmp_path: Path) -> None:
        p = aio.save(synth.tone(seconds=3.0), tmp_path / "l.wav")
        with pytest.raises(AudioError, match="limit"):
            aio.load(p, max_duration_s=2.0)

    def test_unknown_output_extension(self) -> None:
        with pytest.raises(AudioFormatError, match="cannot write"):
            aio.format_for("x.xyz")

    def test_failed_save_leaves_nothing(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        def boom(*args: object, **kwargs: object) -> bytes:
            raise AudioFormatError("encoder exploded")

        monkeypatch.setattr(aio, "encode", boom)
        with pytest.raises(AudioFormatError):
            aio.save(synth.tone(), tmp_path / "out.wav")
        assert list(tmp_path.iterdir()) == []


class TestConversion:
    def test_resample_preserves_frequency(self) -> None:
        a = synth.tone(1000, seconds=1.0, sr=44100)
        b = aio.resample(a, 48000)
        assert b.sr == 48000 and b.n == 48000
        spec = np.abs(np.fft.rfft(b.samples[0]))
        assert np.argmax(spec) == pytest.approx(1000, abs=1)

    def test_channels(self) -> None:
        mono = synth.tone(seconds=0.1)
        st = aio.to_channels(mono, 2)
        assert st.channels == 2 and np.array_equal(st.samples[0], st.samples[1])
        back = aio.to_channels(st, 1)
        assert np.allclose(back.samples, mono.samples)
        six = Audio(np.ones((6, 100), np.float32) * 0.1, 44100)
        fold = aio.to_channels(six, 2)
        # L + 0.7071 C + 0.7071 Ls, LFE dropped
        assert fold.samples[0, 0] == pytest.approx(0.1 * (1 + 2 * 0.7071), rel=1e-4)

    def test_fold_down_never_clips(self) -> None:
        six = Audio(np.ones((6, 100), np.float32) * 0.9, 44100)
        assert np.abs(aio.to_channels(six, 2).samples).max() <= 1.0


def test_saved_files_get_normal_permissions(tmp_path: Path) -> None:
    import os

    mask = os.umask(0o022)
    try:
        p = aio.save(synth.tone(seconds=0.1), tmp_path / "p.wav")
    finally:
        os.umask(mask)
    assert p.stat().st_mode & 0o777 == 0o644
