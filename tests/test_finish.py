"""Finishing a neural engine's take (``music.engines.finish``): tempo conforming on a tiny engine
whose output has a known pulse, seamless loops, mastering like the composer, MIDI, the raw output
kept, and ``generate --engine musicgen --loop --bpm 90 --midi`` end to end on a tiny MusicGen."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from music import loudness
from music.audio import Audio
from music.engines.base import Take
from music.engines.finish import Finish, finish_take, loop_cut, measure, semitones_to, time_stretch
from music.errors import EngineError
from songmint.cli import main
from tests import synth

SR = 22_050


def pulse_engine(seed: int, bars: int = 4) -> tuple[float, Audio]:
    """A tiny 'engine': a kick on every beat, off-beat hats and a bass tone at a seeded tempo in
    100–140 BPM (a known pulse). Hits have a 3 ms attack, as sampled drums do (an instant step on
    the downbeat would be a step larger than the take's 99th percentile wherever it sits)."""
    rng = np.random.default_rng(seed)
    bpm = float(rng.uniform(100, 140))
    beat = 60 / bpm
    n = round(bars * 4 * beat * SR)
    t = np.arange(n) / SR
    y = 0.2 * np.sin(2 * np.pi * 55 * 2 ** (int(rng.integers(12)) / 12) * t)
    hit_t = np.arange(round(0.25 * SR)) / SR
    attack = np.minimum(1.0, hit_t / 0.003)
    kick = attack * np.exp(-hit_t / 0.08) * np.sin(2 * np.pi * (50 + 80 * np.exp(-hit_t / 0.02)) * hit_t)
    hat = attack * np.exp(-hit_t / 0.015) * rng.standard_normal(hit_t.size) * 0.15
    for k in range(bars * 4):
        for start, sound in ((k * beat, kick), ((k + 0.5) * beat, hat)):
            i = round(start * SR)
            m = min(sound.size, n - i)
            y[i:i + m] += sound[:m]
    y = np.stack([y, y]).astype(np.float32) * 0.5
    return bpm, Audio(y, SR)


def seam_ok(audio: Audio) -> tuple[float, float]:
    """(largest sample step within ±10 ms of the wrap, the take's own 99th-percentile step)."""
    x = audio.samples
    w = round(0.01 * audio.sr)
    around = np.concatenate([x[:, -w:], x[:, :w]], axis=1)
    return float(np.abs(np.diff(around, axis=1)).max()), float(np.percentile(np.abs(np.diff(x, axis=1)), 99))


@pytest.mark.slow
def test_bpm_conforms_within_one_percent_on_twenty_seeds() -> None:
    hits = 0
    for seed in range(20):
        _, audio = pulse_engine(seed)
        take = finish_take(Take(mix=audio), Finish(bpm=124.0))
        got, _ = measure(take.mix)
        hits += got is not None and abs(got - 124.0) <= 1.24
        assert take.bpm == 124.0 and take.provenance["finish"]["time_stretch"]["rate"] > 0
    assert hits >= 18, hits


def test_time_stretch_keeps_pitch_and_moves_hits_whole() -> None:
    n, rate = 2 * SR, 0.8
    t = np.arange(n) / SR
    y = 0.3 * np.sin(2 * np.pi * 440 * t)
    clicks = [round(s * SR) for s in (0.25, 0.75, 1.25)]
    for i in clicks:
        y[i:i + 30] += 0.9 * np.hanning(30)
    out = time_stretch(Audio(np.stack([y, y]).astype(np.float32), SR), rate=rate)
    assert out.channels == 2 and out.n == round(n / rate)
    tone = out.samples[0, round(0.4 * SR):round(0.9 * SR)]  # between hits
    freqs = np.fft.rfftfreq(tone.size, 1 / SR)
    assert freqs[np.argmax(np.abs(np.fft.rfft(tone * np.hanning(tone.size))))] == pytest.approx(440, abs=3)
    for i in clicks:  # each hit lands at its time / rate, within a frame, and stays sharp
        j = round(i / rate)
        w = np.abs(out.samples[0, j - 400:j + 400])
        assert abs(int(np.argmax(w)) - 400) < 200 and w.max() > 0.8


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loops_are_whole_bars_with_a_seamless_seam(seed: int) -> None:
    bpm, audio = pulse_engine(seed)
    take = finish_take(Take(mix=audio), Finish(loop=True, bpm=bpm))
    bar = 4 * 60 / bpm * SR
    assert abs(take.mix.n / bar - round(take.mix.n / bar)) * bar < 1.0  # whole bars, to the sample
    step, p99 = seam_ok(take.mix)
    assert step <= p99, (step, p99)
    # a plain cut at the same length would click: the fold is what makes it seamless
    cut = Audio(np.ascontiguousarray(audio.samples[:, :take.mix.n]), SR)
    assert seam_ok(cut)[0] > seam_ok(loop_cut(audio, bpm=bpm))[0]


def test_mastered_like_the_composer_and_raw_kept() -> None:
    _, audio = pulse_engine(3)
    loud = Audio((audio.samples * 4.0).astype(np.float32), SR)  # +12 dB: clipping, like the DD take
    take = finish_take(Take(mix=loud, provenance={"engine": "x"}), Finish())
    assert loudness.integrated_loudness(take.mix) == pytest.approx(-14.0, abs=0.1)
    assert loudness.true_peak(take.mix) <= -1.0 + 1e-6
    assert take.extras["raw"] is loud and take.provenance["engine"] == "x"
    assert take.provenance["finish"]["master"] == {"lufs": -14.0, "true_peak": -1.0}
    quiet = finish_take(Take(mix=loud), Finish(lufs=-20.0))
    assert loudness.integrated_loudness(quiet.mix) == pytest.approx(-20.0, abs=0.1)
    assert take.bpm is not None and take.key  # measured with music.traits
    mono = Audio(np.ascontiguousarray(loud.samples[:1]), SR)
    m = finish_take(Take(mix=mono), Finish())
    assert m.mix.channels == 1 and loudness.integrated_loudness(m.mix) == pytest.approx(-14.0, abs=0.1)


def test_keys_and_bad_settings() -> None:
    assert semitones_to("A minor", "C minor") == 3 and semitones_to("C major", "A minor") == 0
    assert semitones_to("G major", "F major") == -2 and semitones_to("C major", "F# major") == -6
    with pytest.raises(EngineError, match="LUFS is out of range"):
        Finish(lufs=0.0)
    with pytest.raises(EngineError, match="shorter than one bar"):
        loop_cut(synth.tone(seconds=0.5, sr=SR), bpm=120.0)


def test_midi_per_stem_on_the_take_tempo() -> None:
    _, audio = pulse_engine(4)
    take = finish_take(Take(mix=audio), Finish(midi=True, bpm=120.0))
    assert list(take.midi) == ["mix"] and take.midi["mix"].startswith(b"MThd")
    assert take.provenance["finish"]["transcription"]["skipped"] == []


def test_generate_musicgen_stems_midi_loop_bpm_end_to_end(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_musicgen import build_tiny
    from tests.test_separation import save_tiny_htdemucs

    # a tiny HTDemucs where `songmint models pull htdemucs` puts the real one
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))
    save_tiny_htdemucs(tmp_path / "hub" / "models--adefossez--HTDemucs" / "snapshots" / "c0ffee")
    ckpt = build_tiny(tmp_path / "mg")
    out = tmp_path / "take"
    res = CliRunner().invoke(main, ["generate", "lofi", "--engine", "musicgen", "--model", str(ckpt),
                                    "--seconds", "4", "--stems", "--midi", "--loop", "--bpm", "90",
                                    "--seed", "1", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["bpm"] == 90.0 and sorted(doc["extras"]) == ["raw"]
    assert sorted(doc["stems"]) == ["bass", "drums", "other", "vocals"]
    assert set(doc["midi"]) <= {"bass", "other", "vocals"}  # drums skipped
    assert doc["provenance"]["finish"]["transcription"]["skipped"] == ["drums"]
    fin = doc["provenance"]["finish"]
    assert fin["master"]["lufs"] == -14.0 and fin["loop"]["bars"] >= 1
    from music.audio import load

    mix = load(out / doc["mix"])
    assert mix.n == round(fin["loop"]["bars"] * 4 * 60 / 90 * mix.sr)
    assert all(load(out / rel).n == mix.n for rel in doc["stems"].values())
    step, p99 = seam_ok(mix)
    assert step <= p99, (step, p99)  # the loop's wrap, on the model's own output
    # (a random tiny separator's stems go far past full scale, so their files clip: the sum is
    # checked in memory below)
    tiny = tmp_path / "hub" / "models--adefossez--HTDemucs" / "snapshots" / "c0ffee"
    take = finish_take(Take(mix=mix), Finish(stems=("all",), separator=str(tiny)))
    total = np.sum([s.samples.astype(np.float64) for s in take.stems.values()], axis=0)
    assert np.abs(total - take.mix.samples).max() < 1e-5  # they sum to the mastered mix
    assert loudness.true_peak(mix) <= -1.0 + 0.05


def test_missing_separator_or_transcriber_stops_before_the_engine_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--stems` without HTDemucs and `--midi` without Basic Pitch fail in one line naming how to
    get them before the model generates (not after its minutes of work), on generate and continue."""
    import importlib.util

    from music.audio import save
    from music.engines.musicgen import MusicgenEngine
    from tests.test_musicgen import build_tiny

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    monkeypatch.setenv("SONGMINT_MODELS_DIR", str(tmp_path / "models"))

    def ran(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine ran")

    monkeypatch.setattr(MusicgenEngine, "_run", ran)  # generate and continue_ both run through it
    ckpt = str(build_tiny(tmp_path / "mg"))
    save(synth.tone(seconds=2.0, sr=SR), tmp_path / "in.wav")
    commands = [["generate", "lofi", "--engine", "musicgen", "--seconds", "2"],
                ["continue", str(tmp_path / "in.wav"), "--engine", "musicgen", "--seconds", "1"]]
    for command in commands:
        res = CliRunner().invoke(main, [*command, "--model", ckpt, "--stems", "--out", str(tmp_path / "o")])
        assert res.exit_code == 2, res.output
        assert res.stderr.count("\n") == 1 and "`songmint models pull htdemucs`" in res.stderr, res.stderr
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "basic_pitch" else find_spec(name, *a))
    for command in commands:
        res = CliRunner().invoke(main, [*command, "--model", ckpt, "--midi", "--out", str(tmp_path / "o")])
        assert res.exit_code == 2, res.output
        assert res.stderr.count("\n") == 1 and "pip install --no-deps basic-pitch" in res.stderr, res.stderr
    assert not (tmp_path / "o").exists()
