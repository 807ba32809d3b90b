"""``cover_art.video`` and ``songmint video``: the clip ffprobe reads, its sound, its beats, its
determinism, its loop, and bad input.

Clips are small (160 px, ~2 s at 30 fps) so the whole file runs in seconds.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cover_art.video import Encoding, VideoError, analyse, parse_size, render_video
from cover_art.video.clip import prepare_frames
from music.audio import Audio
from songmint.cli import main

SR = 44_100
FPS = 30.0
SIDE = 160
BEATS = (0.31, 0.81, 1.31, 1.81)
"""Kick times, s: off the frame grid, so "the first frame at or after the beat" is not trivial."""
TRAITS = {"key": "A minor", "tempo_bpm": 120.0, "energy": 0.7, "danceability": 0.6}


def _kick() -> np.ndarray:
    t = np.arange(int(0.2 * SR)) / SR
    return np.sin(2 * np.pi * (50 + 120 * np.exp(-t * 30)) * t) * np.exp(-t * 14)


def _parts(seconds: float = 2.2) -> tuple[np.ndarray, np.ndarray]:
    """(drums, pad) mono float64: kicks on BEATS over a quiet sustained A-minor pad."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    drums = np.zeros(n)
    k = _kick()
    for b in BEATS:
        s = int(b * SR)
        drums[s:s + k.size] += k[: n - s]
    pad = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 261.63, 329.63)) * 0.03
    return drums * 0.6, pad


@pytest.fixture(scope="module")
def clip_audio(tmp_path_factory: pytest.TempPathFactory) -> tuple[Audio, Path, dict[str, Audio]]:
    drums, pad = _parts()
    mix = np.stack([drums + pad, 0.8 * drums + pad]).astype(np.float32)
    folder = tmp_path_factory.mktemp("clip")
    path = folder / "mix.wav"
    sf.write(path, mix.T, SR, subtype="FLOAT")
    stems = {"drums": Audio(np.stack([drums, drums]).astype(np.float32), SR),
             "bass": Audio(np.stack([pad, pad]).astype(np.float32), SR)}
    return Audio(mix, SR), path, stems


def _render(out: Path, clip_audio, **kw) -> object:
    audio, path, stems = clip_audio
    args = {"traits": TRAITS, "audio": audio, "audio_path": path, "stems": stems, "beats": BEATS,
            "size": (SIDE, SIDE), "fps": FPS, "seed": 1, **kw}
    return render_video(out, **args)


def _probe(path: Path) -> dict:
    cmd = ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def _frames(path: Path, w: int, h: int) -> np.ndarray:
    """Decoded frames, shape (n, h, w, 3) uint8 (ffmpeg's own decoder, RGB)."""
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def _decoded_audio(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-vn", "-f", "f32le", "-ac", "2", "-ar",
                          str(SR), "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32).reshape(-1, 2).T


@pytest.fixture(scope="module")
def pulse_clip(tmp_path_factory: pytest.TempPathFactory, clip_audio) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("pulse") / "clip.mp4"
    return out, _render(out, clip_audio, treatment="pulse", hash_frames=True)


def test_ffprobe_reads_streams_duration_rate_and_size(pulse_clip, clip_audio) -> None:
    path, video = pulse_clip
    info = _probe(path)
    v = next(s for s in info["streams"] if s["codec_type"] == "video")
    a = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (v["codec_name"], v["pix_fmt"], v["width"], v["height"]) == ("h264", "yuv420p", SIDE, SIDE)
    assert v["r_frame_rate"] == "30/1" and int(v["nb_frames"]) == video.n_frames == 66
    assert a["codec_name"] == "aac" and int(a["channels"]) == 2
    assert abs(float(info["format"]["duration"]) - clip_audio[0].duration) < 1.5 / FPS
    # +faststart: the index (moov) comes before the media data (mdat)
    head = path.read_bytes()[:4096]
    assert 0 < head.find(b"moov") < head.find(b"mdat") or b"mdat" not in head
    prov = json.loads(info["format"]["tags"]["comment"])
    assert prov["format"] == "songmint-video" and prov["treatment"] == "pulse"
    assert prov["stems"] == ["bass", "drums"] and prov["n_frames"] == 66


def test_audio_stream_is_the_mix_within_aac_tolerance(pulse_clip, clip_audio) -> None:
    """AAC is lossy: after decoding (encoder delay trimmed by the MP4 edit list) the residual is
    at least 30 dB under the mix, with no time offset."""
    mix = clip_audio[0].samples
    dec = _decoded_audio(pulse_clip[0])
    n = min(mix.shape[1], dec.shape[1])
    assert n >= mix.shape[1] - 1024
    ref, got = mix[:, :n].astype(np.float64), dec[:, :n].astype(np.float64)
    lags = range(-64, 65)
    errs = [np.sum((np.roll(got, lag, axis=1) - ref)[:, 2048:-2048] ** 2) for lag in lags]
    assert list(lags)[int(np.argmin(errs))] == 0
    snr = 10 * np.log10(np.sum(ref ** 2) / np.sum((got - ref) ** 2))
    assert snr > 30.0, snr


def test_a_beat_moves_the_picture(pulse_clip) -> None:
    path, _ = pulse_clip
    f = _frames(path, SIDE, SIDE).astype(np.int16)
    diff = np.abs(np.diff(f, axis=0)).mean(axis=(1, 2, 3))  # diff[k-1]: frame k against k-1
    change = np.concatenate([[0.0], diff])
    beat_frames = [int(np.ceil(b * FPS)) for b in BEATS]
    floor = 4 * float(np.median(change))
    peaks = [k for k in range(1, len(change) - 1)
             if change[k] >= change[k - 1] and change[k] >= change[k + 1] and change[k] > floor]
    assert peaks, change
    for k in peaks:  # every strong change is a beat (within one frame) ...
        assert min(abs(k - b) for b in beat_frames) <= 1, (k, beat_frames)
    for b in beat_frames:  # ... and every beat makes one
        assert min(abs(k - b) for k in peaks) <= 1, (b, peaks)
    quiet = [k for k in range(len(change)) if min(abs(k - b) for b in beat_frames) > 4]
    assert change[quiet].mean() < 0.3 * change[peaks].mean()


def test_same_inputs_same_frames_and_bytes(tmp_path: Path, pulse_clip, clip_audio) -> None:
    path, first = pulse_clip
    again = _render(tmp_path / "again.mp4", clip_audio, treatment="pulse", hash_frames=True)
    assert again.frames_sha256 == first.frames_sha256
    decoded = [hashlib.sha256(_frames(p, SIDE, SIDE).tobytes()).hexdigest() for p in (path, again.path)]
    assert decoded[0] == decoded[1]
    assert again.sha256 == first.sha256  # same ffmpeg build: the container bytes too
    other = _render(tmp_path / "seed2.mp4", clip_audio, treatment="pulse", seed=2, hash_frames=True)
    assert other.frames_sha256 != first.frames_sha256


@pytest.mark.parametrize("style", ["flow", "radial", "geometric", "waves"])
def test_orbit_draws_each_style_differently_from_pulse(tmp_path: Path, clip_audio, style: str) -> None:
    a = _render(tmp_path / "o.mp4", clip_audio, treatment="orbit", style=style, hash_frames=True,
                max_frames=20)
    b = _render(tmp_path / "p.mp4", clip_audio, treatment="pulse", style=style, hash_frames=True,
                max_frames=20)
    assert a.n_frames == 20 and a.frames_sha256 != b.frames_sha256
    fa, fb = _frames(a.path, SIDE, SIDE), _frames(b.path, SIDE, SIDE)
    assert np.abs(fa.astype(int) - fb.astype(int)).mean() > 5  # visibly another picture
    assert np.abs(np.diff(fa.astype(int), axis=0)).mean() > 0.05  # and it moves


@pytest.mark.parametrize("treatment", ["pulse", "orbit"])
def test_loop_last_frame_leads_into_the_first(clip_audio, treatment: str) -> None:
    """On the drawn frames (the encoder's noise would hide a seam this small): with --loop the jump
    from the last frame to the first is no bigger than the steps before it, and much smaller than
    without."""
    audio, _, stems = clip_audio

    def seam(loop: bool) -> tuple[float, float]:
        fr = prepare_frames(traits=TRAITS, audio=audio, stems=stems, beats=BEATS, size=(SIDE, SIDE), fps=FPS,
                            seed=1, treatment=treatment, loop=loop)
        f = np.stack([fr.rgb(k) for k in range(fr.n_frames)]).astype(np.int16)
        steps = np.abs(np.diff(f, axis=0)).mean(axis=(1, 2, 3))
        return float(np.abs(f[-1] - f[0]).mean()), float(np.median(steps[-6:]))

    looped, step = seam(True)
    plain, _ = seam(False)
    assert looped <= 1.2 * step and looped < 0.7 * plain, (looped, step, plain)
    if treatment == "pulse":  # the cover itself holds still: the seam all but vanishes
        assert looped < 0.1 * plain


def test_vertical_and_webm(tmp_path: Path, clip_audio) -> None:
    v = _render(tmp_path / "v.webm", clip_audio, size=parse_size("144x256"), max_frames=15,
                encoding=Encoding(codec="vp9"))
    info = _probe(v.path)
    vs = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (vs["codec_name"], vs["width"], vs["height"]) == ("vp9", 144, 256)
    assert {s["codec_name"] for s in info["streams"]} == {"vp9", "opus"}


def test_timeline_events_and_stems(clip_audio) -> None:
    audio, _, stems = clip_audio
    tl = analyse(audio, fps=FPS, beats=BEATS, stems=stems)
    for b in BEATS:
        k = int(np.ceil(b * FPS))
        assert tl.beat[k] == pytest.approx(1.0) and tl.beat[k - 1] < 0.5
    assert set(tl.stems) == {"drums", "bass"}
    kicks = np.array([int(np.ceil(b * FPS)) for b in BEATS])
    drums = tl.stems["drums"]
    # drums: a pulse at each kick (the window centred on a frame hears up to 23 ms ahead) that decays
    assert np.maximum(drums[kicks - 1], drums[kicks]).min() > 0.7 and drums[kicks - 3].max() < 0.2
    assert tl.stems["bass"].std() < 0.1 < tl.stems["bass"].mean()  # the sustained pad: steady level
    assert tl.loudness.shape == (66,) and tl.spectrum.shape == (66, 32) and tl.chroma.shape == (66, 12)


def test_chord_changes_and_downbeats() -> None:
    t = np.arange(4 * SR) / SR
    roots = [(57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62)]  # Am F C G, a second each
    x = np.zeros_like(t)
    for i, notes in enumerate(roots):
        sel = (t >= i) & (t < i + 1)
        for m in notes:
            x[sel] += np.sin(2 * np.pi * 440 * 2 ** ((m - 69) / 12) * t[sel])
    beats = np.arange(0.0, 4.0, 0.25)
    strong = np.zeros_like(t)  # an accent on every 4th beat, starting at the second beat
    k = _kick()
    for b in beats[1::4]:
        s = int(b * SR)
        strong[s:s + k.size] += k[: t.size - s]
    tl = analyse(Audio(np.stack([0.1 * x + strong]).astype(np.float32), SR), fps=FPS, beats=beats.tolist())
    assert np.allclose(tl.chord_times, [1.0, 2.0, 3.0], atol=0.3), tl.chord_times
    assert [int(tl.chord_root[int(s * FPS + 10)]) for s in range(4)] == [9, 5, 0, 7]
    assert np.allclose(tl.downbeat_times, beats[1::4])


def test_cli_renders_a_take_folder(tmp_path: Path, runner, clip_audio) -> None:
    from music.engines.base import Take
    from music.takes import write_take

    audio, _, stems = clip_audio
    take = write_take(Take(mix=audio, stems=stems, midi={}, provenance={}, bpm=120.0, key="A minor", seed=0),
                      tmp_path / "take", title="beat").parent
    out = tmp_path / "clip.mp4"
    r = runner.invoke(main, ["video", str(take), "--size", "128x128", "--fps", "15", "--treatment", "orbit",
                             "--style", "geometric", "--json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report["stems"] == ["bass", "drums"] and report["frames"] == 33 and out.is_file()
    assert report["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert report["provenance"]["style"] == "geometric"


@pytest.mark.parametrize(("args", "message"), [
    (["missing.wav"], "does not exist"),
    (["{wav}", "--size", "12x"], "size must be WIDTHxHEIGHT"),
    (["{wav}", "--size", "161x160"], "even"),
    (["{wav}", "--size", "32x32"], "64"),
    (["{wav}", "--cover", "nope.png"], "--cover nope.png does not exist"),
    (["{wav}", "--style", "diffusion"], "pass it with --cover"),
])
def test_bad_input_is_one_line_and_leaves_nothing(tmp_path: Path, runner, clip_audio, args, message) -> None:
    out = tmp_path / "clip.mp4"
    argv = ["video", *(a.format(wav=clip_audio[1]) for a in args), "--out", str(out)]
    r = runner.invoke(main, argv)
    assert r.exit_code == 2, r.output
    assert message in r.output and len(r.output.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_bad_suffix_and_failing_ffmpeg_leave_nothing(tmp_path: Path, clip_audio) -> None:
    with pytest.raises(VideoError, match="must end in"):
        _render(tmp_path / "clip.avi", clip_audio)
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"not audio at all" * 100)
    audio = clip_audio[0]
    with pytest.raises(VideoError, match="ffmpeg failed"):
        render_video(tmp_path / "clip.mp4", traits=TRAITS, audio=audio, audio_path=garbage, size=(SIDE, SIDE),
                     fps=FPS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.wav"]


def test_timeline_does_not_depend_on_the_blas_thread_count() -> None:
    """A threaded BLAS sums in a thread-dependent order; the timeline must not (12 s of noise:
    with ``@`` the digests differed between OMP_NUM_THREADS=1 and 2)."""
    import os
    import sys

    code = ("import numpy as np; from cover_art.video import analyse; from music.audio import Audio; "
            "x = (np.random.default_rng(0).standard_normal((2, 44100 * 12)) * 0.1).astype(np.float32); "
            "print(analyse(Audio(x, 44100), fps=30.0).digest())")
    digests = set()
    for n in ("1", "2"):
        env = {**os.environ, "OMP_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n}
        digests.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                   check=True).stdout.strip())
    assert len(digests) == 1
