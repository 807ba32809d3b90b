"""The units continuation engine: tempo, key, joins, stems, determinism, errors, corpus cache, CLI."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import librosa
import numpy as np
import pytest

from music.audio import Audio, load, save
from music.engines import Request, get_engine
from music.engines.units import UnitsEngine
from music.engines.units.lm import UnitLM, sample_next
from music.engines.units.splice import fade_gains
from music.errors import EngineError
from songmint.cli import main
from tests import synth

BPM = 120.0
SR = 22_050


def _progression(bars: int) -> Audio:
    """i–iv–V–i in A minor (with the G# leading tone), one chord per bar, stereo."""
    chords = [(57, 60, 64), (57, 62, 65), (56, 59, 64), (57, 60, 64)]
    bar_s = 4 * 60.0 / BPM
    parts = [synth.chord(chords[i % 4], seconds=bar_s, sr=SR, amp=0.25).samples for i in range(bars)]
    return Audio(np.concatenate(parts, axis=1), SR)


@pytest.fixture(scope="module")
def stems() -> dict[str, Audio]:
    d = synth.drums(bpm=BPM, bars=8, sr=SR)
    c = _progression(8)
    n = min(d.n, c.n)
    return {"drums": Audio(d.samples[:, :n] * 0.8, SR), "chords": Audio(c.samples[:, :n], SR)}


@pytest.fixture(scope="module")
def prompt(stems: dict[str, Audio]) -> Audio:
    return Audio(stems["drums"].samples + stems["chords"].samples, SR)


@pytest.fixture(scope="module")
def take(prompt: Audio, stems: dict[str, Audio]):  # type: ignore[no-untyped-def]
    return UnitsEngine().continue_(prompt, Request(seconds=20, seed=3, params={"temperature": 1.5}),
                                   stems=stems)


def _tempo(x: np.ndarray) -> float:
    return float(librosa.feature.tempo(y=x, sr=SR, hop_length=128, start_bpm=BPM)[0])


def test_take_layout(take, prompt: Audio) -> None:  # type: ignore[no-untyped-def]
    cont = take.extras["continuation"]
    kept = round(take.provenance["prompt"]["kept_s"] * SR)
    assert take.mix.n == kept + cont.n
    assert abs(cont.duration - 20.0) <= 0.5 * 60.0 / BPM + 1e-3  # nearest beat cut
    assert prompt.duration - kept / SR < 60.0 / BPM  # at most the last partial beat is dropped
    fade = round(12e-3 * SR)
    assert np.array_equal(take.mix.samples[:, : kept - fade], prompt.samples[:, : kept - fade])
    assert np.array_equal(take.mix.samples[:, kept:], cont.samples)
    prov = take.provenance
    assert prov["engine"] == "units" and prov["seed"] == 3 and prov["params"]["temperature"] == 1.5
    assert prov["joins"] >= 1 and prov["analysis"]["units"] >= 2


def test_tempo_and_key_kept(take, prompt: Audio) -> None:  # type: ignore[no-untyped-def]
    cont = take.extras["continuation"]
    t0, t1 = _tempo(prompt.mono()), _tempo(cont.mono())
    assert abs(t1 / t0 - 1) <= 0.01, (t0, t1)
    assert abs(take.provenance["analysis"]["tempo_bpm"] / BPM - 1) <= 0.01
    c0 = librosa.feature.chroma_stft(y=prompt.mono(), sr=SR).mean(axis=1)
    c1 = librosa.feature.chroma_stft(y=cont.mono(), sr=SR).mean(axis=1)
    assert np.corrcoef(c0, c1)[0, 1] > 0.95
    assert int(np.argmax(c0)) == int(np.argmax(c1))  # same tonic-heavy pitch class (A)
    from music.traits import extract

    assert extract(prompt).key == extract(cont).key == "A minor"  # the project's key estimator


def test_loudness_kept(take, prompt: Audio) -> None:  # type: ignore[no-untyped-def]
    rms0 = float(np.sqrt(np.mean(prompt.samples.astype(np.float64) ** 2)))
    rms1 = float(np.sqrt(np.mean(take.extras["continuation"].samples.astype(np.float64) ** 2)))
    assert abs(20 * np.log10(rms1 / rms0)) < 1.0


def test_no_clicks_at_joins(take, prompt: Audio) -> None:  # type: ignore[no-untyped-def]
    x = take.mix.samples
    jumps = np.abs(np.diff(x, axis=1)).max(axis=0)
    own = float(np.abs(np.diff(prompt.samples, axis=1)).max())
    kept = round(take.provenance["prompt"]["kept_s"] * SR)
    # rebuild where the joins are: at every non-neighbouring step of the path
    bounds_len = _segment_lengths(prompt)
    pos, prev, joins = kept, take.provenance["analysis"]["segments"] - 1, []
    for s in take.provenance["path"]:
        if s != prev + 1:
            joins.append(pos)
        pos += int(bounds_len[s])
        prev = s
    assert joins
    win = round(0.02 * SR)
    at_joins = max(float(jumps[j - win:j + win].max()) for j in joins if j + win < jumps.size)
    assert at_joins <= own


def _segment_lengths(prompt: Audio) -> np.ndarray:
    from music.engines.units.segment import segment

    return np.diff(segment(prompt).bounds)


def test_stems_sum_to_mix(take, stems: dict[str, Audio]) -> None:  # type: ignore[no-untyped-def]
    assert set(take.stems) == set(stems)
    total = sum(s.samples.astype(np.float64) for s in take.stems.values())
    assert np.abs(total - take.mix.samples).max() < 1e-5
    assert all(s.n == take.mix.n for s in take.stems.values())


def test_deterministic_and_seeded(prompt: Audio) -> None:
    e = get_engine("units")
    a = e.continue_(prompt, Request(seconds=10, seed=7, params={"temperature": 2.0}))
    b = e.continue_(prompt, Request(seconds=10, seed=7, params={"temperature": 2.0}))
    c = e.continue_(prompt, Request(seconds=10, seed=8, params={"temperature": 2.0}))
    assert np.array_equal(a.mix.samples, b.mix.samples)
    assert a.provenance["path"] == b.provenance["path"]
    assert a.provenance["path"] != c.provenance["path"]


def test_no_looping_on_one_segment(prompt: Audio) -> None:
    t = UnitsEngine().continue_(prompt, Request(seconds=30, seed=1, params={"temperature": 3.0}))
    path = t.provenance["path"]
    assert all(a != b for a, b in itertools.pairwise(path))
    assert len(set(path)) > 4


def test_short_and_beatless_input_errors() -> None:
    e = UnitsEngine()
    short = synth.mix(synth.drums(bpm=BPM, bars=2, sr=SR), synth.chord(seconds=4.0, sr=SR))
    with pytest.raises(EngineError, match="at least 8 s"):
        e.continue_(short, Request(seconds=10))
    for beatless in (synth.noise(seconds=10, sr=SR), synth.chord(seconds=10, sr=SR),
                     synth.silence(seconds=10, sr=SR)):
        with pytest.raises(EngineError, match=r"beat|silent"):
            e.continue_(beatless, Request(seconds=10))


def test_bad_requests(prompt: Audio, stems: dict[str, Audio]) -> None:
    e = UnitsEngine()
    with pytest.raises(EngineError, match="seconds"):
        e.continue_(prompt, Request(seconds=None))
    with pytest.raises(EngineError, match="unknown units parameter"):
        e.continue_(prompt, Request(seconds=5, params={"temprature": 1}))
    with pytest.raises(EngineError, match="temperature"):
        e.continue_(prompt, Request(seconds=5, params={"temperature": -1}))
    short = {"drums": Audio(stems["drums"].samples[:, : SR * 5], SR)}
    with pytest.raises(EngineError, match="aligned"):
        e.continue_(prompt, Request(seconds=5), stems=short)
    with pytest.raises(EngineError, match="cannot generate") as info:
        e.generate(Request(prompt="techno", seconds=5))
    from music.engines import OPERATIONS

    assert str(info.value).endswith(f"generate with: {', '.join(OPERATIONS['generate'])}")  # every one
    assert "dance-diffusion" in str(info.value) and "symbolic" in str(info.value)


def test_unit_lm_backoff() -> None:
    lm = UnitLM(k=4, order=3).fit([[0, 1, 2, 0, 1, 2, 0, 1, 2]])
    p = lm.distribution([0, 1])
    assert p.sum() == pytest.approx(1.0) and int(np.argmax(p)) == 2 and p[2] > 0.7
    unseen = lm.distribution([3, 3])  # backs off to the unigram: unit 3 never seen
    assert unseen.sum() == pytest.approx(1.0) and unseen[3] < unseen[0]
    assert lm.matched_order([2, 0, 1]) == 3 and lm.matched_order([3]) == 0
    rng = np.random.default_rng(0)
    assert sample_next(p, rng, temperature=0) == 2
    assert sample_next(p, rng, temperature=0, allowed=np.array([True, True, False, False])) in (0, 1)


def test_fade_gains_keep_power() -> None:
    for rho in (0.0, 0.5, 1.0):
        g_out, g_in = fade_gains(256, rho)
        power = g_out**2 + g_in**2 + 2 * rho * g_out * g_in
        assert np.allclose(power, 1.0)
    g_out, g_in = fade_gains(256, 1.0)
    assert np.allclose(g_out + g_in, 1.0)  # identical signals: equal gain


def test_corpus_is_cached(tmp_path: Path, prompt: Audio) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    save(synth.mix(synth.drums(bpm=BPM, bars=5, sr=SR, seed=1), _progression(5)), corpus / "a.wav")
    save(synth.noise(seconds=9, sr=SR), corpus / "noise.wav")
    e = UnitsEngine(cache_dir=tmp_path / "cache")
    req = Request(seconds=8, seed=2, params={"corpus": str(corpus)})
    first = e.continue_(prompt, req)
    assert [c["file"] for c in first.provenance["corpus"]] == ["a.wav"]
    assert first.provenance["corpus_skipped"][0]["file"] == "noise.wav"
    entries = list((tmp_path / "cache").glob("*.npz"))
    assert len(entries) == 1
    stamp = entries[0].stat().st_mtime_ns
    second = e.continue_(prompt, req)
    assert entries[0].stat().st_mtime_ns == stamp  # read from the cache, not rewritten
    assert np.array_equal(first.mix.samples, second.mix.samples)
    with pytest.raises(EngineError, match="does not exist"):
        e.continue_(prompt, Request(seconds=8, params={"corpus": str(tmp_path / "nope")}))


def test_cli_continue_with_stems(runner, tmp_path: Path, prompt: Audio, stems: dict[str, Audio]) -> None:  # type: ignore[no-untyped-def]
    save(prompt, tmp_path / "mix.wav", wav_depth="float")
    sd = tmp_path / "stems"
    for name, s in stems.items():
        save(s, sd / f"{name}.wav", wav_depth="float")
    out = tmp_path / "take"
    res = runner.invoke(main, ["continue", str(tmp_path / "mix.wav"), "--seconds", "6", "--seed", "4",
                               "--stems-dir", str(sd), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert set(doc["stems"]) == {"drums", "chords"} and "continuation" in doc["extras"]
    assert doc["provenance"]["engine"] == "units" and doc["seed"] == 4
    mix = load(out / doc["mix"])
    total = sum(load(out / rel).samples for rel in doc["stems"].values())
    assert np.abs(total - mix.samples).max() < 2e-4  # 24-bit files
    res = runner.invoke(main, ["continue", str(tmp_path / "mix.wav"), "--seconds", "6", "--top-k", "5",
                               "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "--top-k applies to --engine musicgen" in res.output


def test_cli_subprocess_short_input(tmp_path: Path) -> None:
    save(synth.drums(bpm=BPM, bars=2, sr=SR), tmp_path / "short.wav")
    exe = Path(sys.executable).parent / "songmint"
    proc = subprocess.run([str(exe), "continue", str(tmp_path / "short.wav"), "--seconds", "4",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "at least 8 s" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_splice_joins_are_phase_aligned_and_click_free() -> None:
    from music.engines.units import splice

    sr, f = 22_050, 220.0
    t = np.arange(sr * 4) / sr
    x = (0.5 * np.sin(2 * np.pi * f * t)).astype(np.float32)[None]
    own = float(np.abs(np.diff(x)).max())
    bounds = np.array([0, 9_000, 20_011, 31_337, 44_000, 55_555, 66_000, 77_777], dtype=np.int64)
    path = [2, 5, 1, 4, 3, 6]  # never a source neighbour: every step is a join
    plan = splice.plan(x[0], bounds, path, prompt_end_segment=0, fade=265, max_lag=132, end_fade=0)
    assert len(plan.fades) == len(path)
    smooth = splice.render(plan, x)
    naive = splice.plan(x[0], bounds, path, prompt_end_segment=0, fade=265, max_lag=0, end_fade=0)
    butt = splice.render(splice.SplicePlan(naive.pieces, (), naive.n, naive.prompt_end, 0), x)
    joins = plan.joins
    jump = lambda y: max(float(np.abs(np.diff(y[:, j - 300:j + 300])).max()) for j in joins)  # noqa: E731
    assert jump(butt) > 2 * own  # unaligned butt splices click: the check can fail
    assert jump(smooth) <= own * 1.05
    assert all(f.rho > 0.99 for f in plan.fades)  # the lag search found the phase
    assert plan.n == bounds[1] + sum(int(bounds[s + 1] - bounds[s]) for s in path)


def test_stems_from_a_take_folder(tmp_path: Path, prompt: Audio, stems: dict[str, Audio]) -> None:
    from music.engines import Take
    from music.takes import write_take
    from songmint.continuation import load_stems

    write_take(Take(mix=prompt, stems=stems), tmp_path / "take", title="loop", fmt="wav", wav_depth="float")
    got = load_stems(tmp_path / "take")
    assert set(got) == {"drums", "chords"}
    assert np.array_equal(got["drums"].samples, stems["drums"].samples)
    plain = tmp_path / "plain"
    plain.mkdir()
    save(prompt, plain / "mix.wav")
    save(stems["drums"], plain / "drums.wav")
    assert set(load_stems(plain, exclude=plain / "mix.wav")) == {"drums"}


def test_continues_composer_output() -> None:
    """A composer take (FluidSynth stems) continued along one path: tempo, key and stem sums kept."""
    composed = get_engine("composer").generate(Request(prompt="techno", seed=1,
                                                       params={"bars": 5, "bpm": 132, "sample_rate": SR}))
    premaster = Audio(sum(s.samples for s in composed.stems.values()), SR)
    take = UnitsEngine().continue_(premaster, Request(seconds=12, seed=5), stems=composed.stems)
    from music.traits import extract

    assert abs(take.provenance["analysis"]["tempo_bpm"] / 132.0 - 1) <= 0.01
    cont = take.extras["continuation"]
    # the project's tempo estimator (librosa at hop 128 is itself quantised to ~1.3 % at 132 BPM)
    assert abs(extract(cont).tempo_bpm / 132.0 - 1) <= 0.01
    path = take.provenance["path"]
    assert all(a != b for a, b in itertools.pairwise(path))
    c0 = librosa.feature.chroma_stft(y=premaster.mono(), sr=SR).mean(axis=1)
    c1 = librosa.feature.chroma_stft(y=cont.mono(), sr=SR).mean(axis=1)
    assert np.corrcoef(c0, c1)[0, 1] > 0.9
    total = sum(s.samples.astype(np.float64) for s in take.stems.values())
    assert np.abs(total - take.mix.samples).max() < 1e-5


@pytest.mark.parametrize(("genre", "seed"), [("techno", 1), ("techno", 2), ("techno", 6), ("house", 3)])
def test_bar_positions_and_tempo_kept(genre: str, seed: int) -> None:
    from music.traits import extract

    sr = 22050
    composed = get_engine("composer").generate(
        Request(prompt=genre, seed=seed, params={"bars": 5, "bpm": 132, "sample_rate": sr}))
    pre = Audio(sum(s.samples for s in composed.stems.values()), sr)
    take = UnitsEngine().continue_(pre, Request(seconds=10, seed=5))
    a = take.provenance["analysis"]
    bpb, phase = a["beats_per_bar"], a["downbeat_phase"]
    assert bpb == 4  # composer takes are 4/4; repetitive techno beats once read as 3/4 (and 173 BPM)
    pos = [(s - phase) % bpb for s in take.provenance["path"]]
    last = (a["segments"] - 1 - phase) % bpb
    assert all((b - p) % bpb == 1 for p, b in zip([last, *pos[:-1]], pos, strict=True))
    got, want = extract(take.extras["continuation"]).tempo_bpm, extract(pre).tempo_bpm
    assert abs(got / want - 1) < 0.01


def test_waltz_is_continued_in_three() -> None:
    """A 3/4 prompt keeps three beats per bar: bar positions stay in sequence modulo 3."""
    from tests.test_traits import waltz

    take = UnitsEngine().continue_(waltz(bpm=150.0, bars=16), Request(seconds=8, seed=1))
    a = take.provenance["analysis"]
    assert a["beats_per_bar"] == 3
    pos = [(s - a["downbeat_phase"]) % 3 for s in take.provenance["path"]]
    assert all((b - p) % 3 == 1 for p, b in itertools.pairwise(pos))
