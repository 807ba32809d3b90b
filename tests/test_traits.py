"""music.traits: notation, the Traits JSON contract, level equivalence with music.loudness,
tempo/key/metre on synthetic signals of known truth, descriptors, stems, robustness."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from music import loudness
from music.audio import Audio, resample, to_channels
from music.traits import (
    LOUDNESS_FLOOR_LUFS,
    MOODS,
    TRUE_PEAK_FLOOR_DBTP,
    StemTraits,
    Traits,
    TraitsError,
    camelot,
    extract,
    frontend,
    key_name,
    level,
    mood,
    open_key,
    parse_key,
)
from tests import synth

JSON_KEYS = (
    "duration_s", "sample_rate", "channels", "tempo_bpm", "tempo_confidence", "time_signature", "key",
    "key_confidence", "camelot", "open_key", "tuning_hz", "loudness_lufs", "loudness_range_lu",
    "true_peak_dbtp", "dynamic_complexity_db", "energy", "brightness_hz", "brightness", "danceability",
    "onset_rate_hz", "percussiveness", "chord_change_rate", "valence", "arousal", "mood", "stems",
    "tempo_reason", "tempo_alt_bpm", "tempo_alt_weight", "key_alt", "key_alt_weight",
)

MAJ, MIN, DOM7 = (0, 4, 7), (0, 3, 7), (0, 4, 7, 10)


def cadence(tonic: int, mode: str, *, bpm: float = 100.0, sr: int = 22_050, tuning: float = 440.0,
            channels: int = 2) -> Audio:
    """I–IV–V7–I (major) or i–iv–V7–i (minor, raised leading tone) twice, with a bass line:
    a progression whose key is unambiguous."""
    third = MAJ if mode == "major" else MIN
    prog = [(0, third), (5, third), (7, DOM7), (0, third)] * 2
    bar = 4 * 60.0 / bpm
    parts = []
    for root_off, iv in prog:
        root = 55 + ((tonic + root_off - 55) % 12)
        notes = tuple(root + i for i in iv)
        c = synth.chord(notes, seconds=bar, sr=sr, channels=channels)
        b = synth.chord((36 + (tonic + root_off) % 12,), seconds=bar, sr=sr, channels=channels, amp=0.3)
        parts.append(c.samples + b.samples)
    x = np.concatenate(parts, axis=1)
    if tuning != 440.0:  # retune by resampling the whole thing
        from music.audio import resample as rs

        y = rs(Audio(x, sr), round(sr * 440.0 / tuning)).samples
        x = y
    return Audio((0.8 * x / np.abs(x).max()).astype(np.float32), sr)


def waltz(*, bpm: float = 150.0, bars: int = 16, sr: int = 22_050) -> Audio:
    """Bass on beat 1, chord stabs on 2 and 3, chord changes every bar: 3/4."""
    beat = 60.0 / bpm
    n = int(bars * 3 * beat * sr)
    x = np.zeros(n, np.float32)
    chords = [(60, 64, 67), (65, 69, 72), (67, 71, 74, 77), (60, 64, 67)]
    roots = [36, 41, 43, 36]
    for b in range(bars):
        for k in range(3):
            start = int((b * 3 + k) * beat * sr)
            if k == 0:
                note = synth.chord((roots[b % 4],), seconds=beat * 0.9, sr=sr, channels=1, amp=0.6)
            else:
                note = synth.chord(chords[b % 4], seconds=beat * 0.5, sr=sr, channels=1, amp=0.4)
            seg = note.samples[0] * np.exp(-np.arange(note.n) / sr * 6)
            end = min(n, start + seg.size)
            x[start:end] += seg[: end - start]
    return Audio((0.8 * x / np.abs(x).max())[None], sr)


# --------------------------------------------------------------------------- notation


class TestKeyNotation:
    @pytest.mark.parametrize(("key", "cam", "ok"), [
        ("C major", "8B", "1d"), ("A minor", "8A", "1m"), ("F# minor", "11A", "4m"), ("E major", "12B", "5d"),
        ("G major", "9B", "2d"), ("F major", "7B", "12d"), ("D minor", "7A", "12m"), ("C# major", "3B", "8d"),
        ("G# minor", "1A", "6m"),
    ])
    def test_known_codes(self, key: str, cam: str, ok: str) -> None:
        assert camelot(key) == cam
        assert open_key(key) == ok

    def test_all_24_codes_distinct_and_relatives_share_a_number(self) -> None:
        keys = [key_name(t, m) for t in range(12) for m in ("major", "minor")]
        assert len({camelot(k) for k in keys}) == 24
        assert len({open_key(k) for k in keys}) == 24
        for t in range(12):
            rel_minor = key_name((t + 9) % 12, "minor")
            assert camelot(key_name(t, "major"))[:-1] == camelot(rel_minor)[:-1]

    def test_parse_accepts_flats_and_rejects_junk(self) -> None:
        assert parse_key("Gb minor") == (6, "minor")
        assert key_name(6, "minor") == "F# minor"
        with pytest.raises(TraitsError):
            parse_key("H dorian")


# --------------------------------------------------------------------------- the JSON contract


def _sample_traits(**over: object) -> Traits:
    base = dict(duration_s=10.0, sample_rate=44100, channels=2, tempo_bpm=120.0, tempo_confidence=0.9,
                time_signature="4/4", key="F# minor", key_confidence=0.8, camelot="11A", open_key="4m",
                tuning_hz=440.0, loudness_lufs=-12.0, loudness_range_lu=4.0, true_peak_dbtp=-1.0,
                dynamic_complexity_db=2.0, energy=0.7, brightness_hz=1500.0, brightness=0.6,
                danceability=0.8, onset_rate_hz=4.0, percussiveness=0.4, chord_change_rate=0.5,
                valence=0.3, arousal=0.7, mood="tense",
                stems={"drums": StemTraits(activity=0.9, loudness_lufs=-15.0, energy=0.6, brightness=0.7)},
                beats=(0.5, 1.0), key_scores=tuple(range(24)), chroma=tuple(range(12)))
    base.update(over)
    return Traits(**base)  # type: ignore[arg-type]


class TestTraitsJson:
    def test_keys_exactly_as_specified(self) -> None:
        d = _sample_traits().to_dict()
        assert tuple(d) == JSON_KEYS
        assert Traits.json_keys() == JSON_KEYS
        assert set(d["stems"]["drums"]) == {"activity", "loudness_lufs", "energy", "brightness"}

    def test_round_trip_and_library_only_fields(self) -> None:
        t = _sample_traits()
        text = json.dumps(t.to_dict(), allow_nan=False)
        back = Traits.from_dict(json.loads(text))
        assert back == t
        assert back.to_dict() == t.to_dict()
        assert "beats" not in text and back.beats == ()

    def test_non_finite_refused(self) -> None:
        with pytest.raises(TraitsError, match="loudness_lufs"):
            _sample_traits(loudness_lufs=float("-inf")).to_dict()

    def test_from_dict_errors_name_the_problem(self) -> None:
        d = _sample_traits().to_dict()
        del d["key"]
        with pytest.raises(TraitsError, match="key"):
            Traits.from_dict(d)
        d = _sample_traits().to_dict() | {"key": "Q minor"}
        with pytest.raises(TraitsError):
            Traits.from_dict(d)

    def test_importing_traits_is_light(self) -> None:
        code = ("import sys, music.traits; from music.traits import Traits, rarity; "
                "print(sorted(m for m in ('scipy', 'librosa', 'numba', 'soxr') if m in sys.modules))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "[]"

    def test_extract_never_imports_librosa_or_numba(self) -> None:
        code = ("import sys, numpy as np; from music.audio import Audio; from music.traits import extract; "
                "extract(Audio(np.zeros((1, 22050), np.float32), 22050)); "
                "print('librosa' in sys.modules, 'numba' in sys.modules)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "False False"


# --------------------------------------------------------------------------- front end and level


def test_mel_filterbank_matches_librosa() -> None:
    import librosa

    ours, centres = frontend._mel_basis(frontend.ANALYSIS_SR)
    ref = librosa.filters.mel(sr=frontend.ANALYSIS_SR, n_fft=frontend.N_FFT, n_mels=frontend.N_MELS,
                              fmin=30.0, fmax=11_000.0)
    np.testing.assert_allclose(ours, ref, atol=1e-7)
    np.testing.assert_allclose(centres, librosa.mel_frequencies(n_mels=66, fmin=30.0, fmax=11_000.0)[1:-1])


@pytest.mark.parametrize("make", [
    lambda: synth.mix(synth.drums(bpm=120, bars=4), synth.chord(seconds=8.0)),
    lambda: synth.noise(seconds=5.0, sr=96_000, channels=6),
    lambda: synth.tone(1000.0, seconds=4.0, sr=8_000),
], ids=["music", "noise-96k-6ch", "tone-8k"])
def test_level_matches_music_loudness(make) -> None:  # type: ignore[no-untyped-def]
    a = make()
    m = level.measure(a)
    assert m.integrated_lufs == pytest.approx(loudness.integrated_loudness(a), abs=1e-6)
    assert m.range_lu == pytest.approx(loudness.loudness_range(a), abs=1e-6)
    assert m.true_peak_dbtp == pytest.approx(loudness.true_peak(a), abs=1e-6)


# --------------------------------------------------------------------------- tempo, key, metre


@pytest.mark.parametrize("bpm", [68.0, 96.0, 128.0, 150.0, 174.0])
def test_tempo_of_drums(bpm: float) -> None:
    t = extract(synth.drums(bpm=bpm, bars=8, sr=22_050))
    assert t.tempo_bpm == pytest.approx(bpm, rel=0.01)
    assert t.time_signature == "4/4"
    assert 0.5 < t.tempo_confidence <= 1.0
    ibi = np.diff(t.beats)
    assert np.median(ibi) == pytest.approx(60.0 / bpm, rel=0.02)


@pytest.mark.parametrize("bpm", [64.0, 72.0, 88.0])
def test_slow_backbeat_groove_is_not_doubled(bpm: float) -> None:
    """Soul-style groove: eighth hats, kick on 1, the "and" of 2 and 3, snare on 2 and 4, a
    syncopated bass. The hats make every eighth as periodic as the beat; the previous octave
    rule read these at twice the tempo. Accents below 2 kHz fall on every quarter, not on
    every eighth, and kick and snare alternate on the quarters."""
    a = synth.groove(bpm=bpm, kick=(0, 1.5, 2), snare=(1, 3), hats=0.5, bass=(0, 0.75, 2, 2.75))
    assert extract(a).tempo_bpm == pytest.approx(bpm, rel=0.01)


def test_four_on_the_floor_is_not_halved() -> None:
    """House: kick on every beat, snare on 2 and 4, off-beat bass and hats (124 BPM, not 62)."""
    a = synth.groove(bpm=124.0, kick=(0, 1, 2, 3), snare=(1, 3), hats=0.5, bass=(0.5, 1.5, 2.5, 3.5))
    assert extract(a).tempo_bpm == pytest.approx(124.0, rel=0.01)


def test_tempo_levels_score_the_tactus_highest() -> None:
    """The candidate levels of a slow groove include its double; the tactus scores highest, on the
    evidence a listener uses: kick and snare alternate on its beats, not on the eighths."""
    from music.traits import rhythm

    a = synth.groove(bpm=72.0, kick=(0, 1.5, 2), snare=(1, 3), hats=0.5, bass=(0, 0.75, 2, 2.75))
    feat = frontend.features(frontend.analysis_signal(a), tonal=False)
    levels = rhythm.tempo_levels(rhythm.onset_envelope(feat.mel), feat.fps,
                                 rhythm.onset_bands(feat.mel, feat.mel_freqs, feat.flux))
    by_bpm = {round(lv.bpm): lv for lv in levels}
    assert 72 in by_bpm and 144 in by_bpm
    names = rhythm.feature_names()
    assert all(lv.features.shape == (len(names),) for lv in levels)
    backbeat = names.index("backbeat")
    assert by_bpm[72].features[backbeat] > 0.5 > by_bpm[144].features[backbeat]
    assert max(levels, key=lambda lv: lv.score) is by_bpm[72]


def test_level_model_is_the_fitted_one() -> None:
    """The shipped scorer matches today's features and says what it was fitted on (never the
    held-out split of benchmarks/traits_eval.py)."""
    import json

    from music.traits import rhythm

    doc = json.loads(rhythm.LEVEL_MODEL.read_text())
    assert tuple(doc["features"]) == rhythm.feature_names()
    assert len(doc["weights"]) == len(doc["mean"]) == len(doc["scale"]) == len(rhythm.feature_names())
    assert doc["fitted_on"]["traits_eval_dev_clips"] > 200 and doc["fitted_on"]["cv_accuracy"] > 0.9
    assert all(s > 0 for s in doc["scale"])


def test_click_track_beats_land_on_clicks() -> None:
    t = extract(synth.clicks(bpm=120.0, seconds=10.0, sr=22_050))
    assert t.tempo_bpm == pytest.approx(120.0, rel=0.005)
    beats = np.asarray(t.beats)
    assert beats.size >= 15
    # every tracked beat within 15 ms of a click (clicks every 0.5 s from t = 0)
    assert np.abs(beats - np.round(beats / 0.5) * 0.5).max() < 0.015
    assert t.onset_rate_hz == pytest.approx(2.0, rel=0.1)


@pytest.mark.parametrize(("tonic", "mode"), [(0, "major"), (9, "minor"), (6, "minor"), (3, "major"),
                                             (10, "minor"), (7, "major")])
def test_key_of_cadences(tonic: int, mode: str) -> None:
    t = extract(cadence(tonic, mode))
    assert t.key == key_name(tonic, mode)
    assert t.camelot == camelot(t.key) and t.open_key == open_key(t.key)
    assert t.key_confidence > 0.3
    assert t.tuning_hz == pytest.approx(440.0, abs=1.0)


def test_tuning_is_measured_and_corrected() -> None:
    t = extract(cadence(2, "major", tuning=432.0))
    assert t.tuning_hz == pytest.approx(432.0, abs=1.5)
    assert t.key == "D major"


def test_waltz_is_three_four() -> None:
    t = extract(waltz(bpm=150.0))
    assert t.time_signature == "3/4"
    assert t.tempo_bpm == pytest.approx(150.0, rel=0.02)
    assert t.chord_change_rate == pytest.approx(150.0 / 180.0, rel=0.35)


def test_waltz_tempo_is_not_halved() -> None:
    assert extract(waltz(bpm=150.0)).tempo_bpm == pytest.approx(150.0, rel=0.02)


# --------------------------------------------------------------------------- descriptors, mood, stems


def test_descriptors_order_sensibly() -> None:
    drums = extract(synth.drums(bpm=128, bars=8, sr=22_050))
    pad = extract(synth.chord((48, 55, 60, 64), seconds=15.0, sr=22_050, amp=0.05))
    noise = extract(synth.noise(seconds=5.0, sr=22_050))
    assert drums.percussiveness > pad.percussiveness + 0.2
    assert drums.danceability > pad.danceability + 0.3
    assert drums.energy > pad.energy
    assert drums.arousal > pad.arousal
    assert noise.brightness_hz > 3 * pad.brightness_hz
    assert noise.brightness > pad.brightness
    assert pad.onset_rate_hz < 0.5 < drums.onset_rate_hz
    for t in (drums, pad, noise):
        d = t.to_dict()
        for k in ("energy", "brightness", "danceability", "percussiveness", "valence", "arousal",
                  "tempo_confidence", "key_confidence"):
            assert 0.0 <= d[k] <= 1.0, k
        assert d["mood"] in MOODS


def test_mood_quadrants_and_mode_drives_valence() -> None:
    assert mood.mood_label(0.8, 0.8) == "happy"
    assert mood.mood_label(0.2, 0.8) == "tense"
    assert mood.mood_label(0.2, 0.2) == "sad"
    assert mood.mood_label(0.8, 0.2) == "calm"
    hi = mood.valence(major=True, key_confidence=0.9, tempo_bpm=120, brightness=0.5)
    lo = mood.valence(major=False, key_confidence=0.9, tempo_bpm=120, brightness=0.5)
    assert hi > 0.5 > lo
    assert extract(cadence(0, "major")).valence > extract(cadence(0, "minor")).valence


def test_stems() -> None:
    d = synth.drums(bpm=120, bars=4)
    c = synth.chord(seconds=d.duration)
    quiet = Audio(np.zeros_like(d.samples), d.sr)
    t = extract(synth.mix(d, c), stems={"drums": d, "keys": c, "fx": quiet})
    assert set(t.stems) == {"drums", "keys", "fx"}
    assert t.stems["drums"].activity > 0.9 and t.stems["keys"].activity > 0.9
    assert t.stems["fx"].activity == 0.0
    assert t.stems["fx"].loudness_lufs == LOUDNESS_FLOOR_LUFS
    assert t.stems["drums"].loudness_lufs == pytest.approx(loudness.integrated_loudness(d), abs=1e-6)
    assert Traits.from_dict(json.loads(json.dumps(t.to_dict()))).stems == t.stems
    with pytest.raises(TraitsError):
        extract(d, stems={"x": d.samples})  # type: ignore[dict-item]


# --------------------------------------------------------------------------- robustness


def test_silence() -> None:
    t = extract(synth.silence(seconds=3.0))
    assert t.loudness_lufs == LOUDNESS_FLOOR_LUFS
    assert t.true_peak_dbtp == TRUE_PEAK_FLOOR_DBTP
    assert t.tempo_bpm is None and t.tempo_reason == "too few onsets"
    assert t.beats == () and t.key_confidence == 0.0
    assert t.energy == 0.0 and t.onset_rate_hz == 0.0
    json.dumps(t.to_dict(), allow_nan=False)


def test_white_noise_has_no_key_or_pulse_to_speak_of() -> None:
    t = extract(synth.noise(seconds=6.0, sr=44_100))
    assert t.key_confidence < 0.5
    assert t.tempo_confidence < 0.5
    assert t.brightness > 0.8
    json.dumps(t.to_dict(), allow_nan=False)


@pytest.mark.parametrize("seconds", [1.0, 0.05])
def test_short_clips(seconds: float) -> None:
    t = extract(synth.chord(seconds=seconds, sr=44_100))
    assert t.duration_s == pytest.approx(seconds, abs=1e-3)
    # one chord has no pulse: null with the reason, never 0
    assert t.tempo_bpm is None and t.tempo_reason == "too few onsets"
    d = json.loads(json.dumps(t.to_dict(), allow_nan=False))
    assert d["tempo_bpm"] is None and Traits.from_dict(d).tempo_bpm is None


def test_channel_counts_agree() -> None:
    n = int(6 * 4 * 60 / 110 * 22_050)
    mono = synth.mix(synth.drums(bpm=110, bars=6, sr=22_050, channels=1),
                     Audio(cadence(9, "minor", bpm=110).samples[:1, :n], 22_050))
    stereo = to_channels(mono, 2)
    six = Audio(np.repeat(mono.samples, 6, axis=0), mono.sr)
    results = [extract(a) for a in (mono, stereo, six)]
    assert [r.channels for r in results] == [1, 2, 6]
    for r in results:
        assert r.tempo_bpm == pytest.approx(110.0, rel=0.01)
        assert r.key == "A minor"


@pytest.mark.parametrize("sr", [8_000, 96_000])
def test_sample_rates(sr: int) -> None:
    a = resample(synth.mix(synth.drums(bpm=100, bars=6, sr=44_100),
                           cadence(4, "minor", bpm=100, sr=44_100)), sr)
    t = extract(a)
    assert t.sample_rate == sr
    assert t.tempo_bpm == pytest.approx(100.0, rel=0.01)
    assert t.key == "E minor"


def test_twenty_minutes_with_bounded_memory() -> None:
    """20 min of mono 8 kHz: the working set is the 22.05 kHz analysis copy (5.3 MB/min)
    plus compact features, far below a float64 full-rate copy."""
    sr, minutes = 8_000, 20
    beat = synth.clicks(bpm=125.0, seconds=60.0, sr=sr).samples
    x = np.tile(beat, (1, minutes))
    x += 0.05 * np.sin(2 * np.pi * 220.0 * np.arange(x.shape[1]) / sr).astype(np.float32)
    a = Audio(x, sr)
    del beat, x
    tracemalloc.start()
    try:
        t = extract(a)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert t.duration_s == pytest.approx(1200.0)
    assert t.tempo_bpm == pytest.approx(125.0, rel=0.01)
    per_minute_mb = peak / 2**20 / minutes
    assert per_minute_mb < 12.0, f"{per_minute_mb:.1f} MB per minute"
    assert math.isfinite(t.loudness_lufs)


# --------------------------------------------------------------------------- determinism, rarity


def test_same_input_same_traits() -> None:
    a = synth.mix(synth.drums(bpm=118, bars=4, sr=22_050), cadence(5, "major", bpm=118))
    assert json.dumps(extract(a).to_dict()) == json.dumps(extract(a).to_dict())


def test_rarity_information_content() -> None:
    from music.traits import rarity
    from music.traits.collection import ATTRIBUTES, tempo_bin

    common = _sample_traits().to_dict()
    tokens = [dict(common), dict(common), dict(common), common | {"key": "C major", "tempo_bpm": 0.0}]
    out = rarity(tokens)
    assert [r.index for r in out] == [0, 1, 2, 3]
    odd = out[3]
    assert odd.values["Key"] == "C major" and odd.values["Tempo"] == "no pulse"
    assert odd.counts["Key"] == 1 and odd.frequencies["Key"] == 0.25
    assert out[0].frequencies["Key"] == 0.75 and out[0].frequencies["Mood"] == 1.0
    # score = Σ −log2(frequency) over every attribute
    assert odd.score == pytest.approx(2 * -math.log2(0.25))
    assert out[0].score == pytest.approx(2 * -math.log2(0.75))
    assert odd.rank == 1 and {r.rank for r in out[:3]} == {2}  # ties share a rank
    assert set(odd.values) == set(ATTRIBUTES)
    assert tempo_bin(124.6) == "120–129 BPM"
    assert out[0].values["Energy"] == "high" and out[0].values["Loudness"] == "-12 to -9 LUFS"
    json.dumps([r.to_dict() for r in out])
    # Traits objects work too, and a token missing a trait is refused with its name
    assert rarity([_sample_traits(), _sample_traits()])[0].score == 0.0
    with pytest.raises(TraitsError, match="mood"):
        rarity([{k: v for k, v in common.items() if k != "mood"}])
