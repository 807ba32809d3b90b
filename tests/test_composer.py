"""The composer engine: theory, prompt parsing, genres, form, patterns, MIDI, and rendered takes."""

from __future__ import annotations

import io
import itertools

import mido
import numpy as np
import pytest

from music import loudness
from music.engines import Request, get_engine
from music.engines.composer import (
    GENRES,
    ComposerEngine,
    arrangement,
    get_genre,
    parse_key,
    parse_prompt,
    patterns,
    theory,
)
from music.engines.composer.genres import KICK
from music.errors import EngineError

# --------------------------------------------------------------------------- theory


@pytest.mark.parametrize(("text", "pc", "mode"), [
    ("F# minor", 6, "minor"), ("Bb major", 10, "major"), ("Am", 9, "minor"), ("c#m", 1, "minor"),
    ("E flat minor", 3, "minor"), ("D", 2, "major"), ("G min", 7, "minor"), ("Db-major", 1, "major"),
    # the grammar is music.keys' (shared with the traits): hyphens anywhere, church names
    ("E-flat-minor", 3, "minor"), ("A aeolian", 9, "minor"), ("F## major", 7, "major"),
])
def test_parse_key(text: str, pc: int, mode: str) -> None:
    k = parse_key(text)
    assert (k.tonic, k.mode) == (pc, mode)


@pytest.mark.parametrize("bad", ["H minor", "F# dorianish", "", "12", "C minor major"])
def test_malformed_key_is_one_clear_error(bad: str) -> None:
    with pytest.raises(EngineError, match=r"malformed key .*'F# minor'"):
        parse_key(bad)


def test_minor_dominant_has_the_leading_tone() -> None:
    a_minor = parse_key("A minor")
    v = theory.chord("V", a_minor)
    assert v.root == 4 and 8 in v.pcs  # E major with G#
    assert theory.chord("v", a_minor).pcs == [4, 7, 11]
    assert theory.chord("VII", a_minor).pcs == [7, 11, 2]
    assert theory.chord("V7", parse_key("C major")).pcs == [7, 11, 2, 5]
    assert theory.chord("ii7", parse_key("C major")).pcs == [2, 5, 9, 0]


def test_voice_leading_moves_little_and_keeps_chord_tones() -> None:
    key = parse_key("D minor")
    chords = theory.progression(["i", "VI", "iv", "V", "i"], key)
    voicings = theory.voice_lead(chords, voices=4, low=52, high=76)
    for ch, v in zip(chords, voicings, strict=True):
        assert {p % 12 for p in v} == set(ch.pcs)
        assert all(52 <= p <= 76 for p in v)
    for a, b in itertools.pairwise(voicings):
        assert sum(abs(x - y) for x, y in zip(a, b, strict=True)) <= 8


# --------------------------------------------------------------------------- prompt and genres


def test_prompt_parsing() -> None:
    info = parse_prompt("dark techno in F minor at 128 bpm, driving")
    assert (info.genre, info.key, info.bpm) == ("techno", "F minor", 128.0)
    assert info.moods == ["dark", "driving"]
    info = parse_prompt("I am making chill drum and bass loop in f# minor, 16 bars")
    assert (info.genre, info.key, info.bars, info.loop) == ("dnb", "F# minor", 16, True)
    assert parse_prompt("lofi hip hop in D minor").genre == "lofi"
    assert parse_prompt("something").genre is None


def test_at_least_eight_distinct_genres() -> None:
    assert len(GENRES) >= 8
    gs = list(GENRES.values())
    for i, a in enumerate(gs):
        for b in gs[i + 1:]:
            # Each pair differs in groove and in at least two of: tempo, instruments, harmony.
            assert a.drums != b.drums, (a.name, b.name)
            differences = [a.bpm != b.bpm, (a.kit, a.bass.program, a.chords.program, a.lead.program)
                           != (b.kit, b.bass.program, b.chords.program, b.lead.program),
                           a.progressions != b.progressions, a.bass_style != b.bass_style]
            assert sum(differences) >= 2, (a.name, b.name)


def test_unknown_genre_lists_the_known_ones() -> None:
    with pytest.raises(EngineError, match=r"unknown genre 'polka'; known genres: .*house.*techno"):
        get_genre("polka")
    assert get_genre("Drum & Bass").name == "dnb"


# --------------------------------------------------------------------------- planning


def test_explicit_options_win_over_prompt_over_defaults() -> None:
    eng = ComposerEngine()
    plan = eng.plan(Request(prompt="dark techno in F minor at 128 bpm", seed=1))
    assert (plan.genre.name, plan.key.name, plan.bpm) == ("techno", "F minor", 128.0)
    plan = eng.plan(Request(prompt="dark techno in F minor at 128 bpm", seed=1,
                            params={"genre": "house", "key": "A major", "bpm": 121}))
    assert (plan.genre.name, plan.key.name, plan.bpm) == ("house", "A major", 121.0)
    plan = eng.plan(Request(prompt="synthwave", seed=1))
    assert plan.bpm == GENRES["synthwave"].bpm and plan.key.mode == GENRES["synthwave"].mode


def test_seed_alone_picks_genre_key_and_tempo_deterministically() -> None:
    eng = ComposerEngine()
    plans = [eng.plan(Request(seed=s, params={"bars": 4})) for s in range(12)]
    assert len({p.genre.name for p in plans}) >= 3
    again = eng.plan(Request(seed=5, params={"bars": 4}))
    assert (again.genre, again.key, again.bpm, again.notes) == (plans[5].genre, plans[5].key, plans[5].bpm,
                                                                 plans[5].notes)
    for p in plans:
        lo, hi = p.genre.bpm_range
        assert lo <= p.bpm <= hi


@pytest.mark.parametrize(("params", "match"), [
    ({"bpm": 400}, r"tempo 400 BPM is impossible; choose 40–300"),
    ({"bpm": 0}, "impossible"),
    ({"bpm": "fast"}, "not a number"),
    ({"key": "Q minor"}, "malformed key"),
    ({"genre": "polka"}, "known genres"),
    ({"stems": "drums,vocals"}, "unknown stem.*vocals"),
    ({"bars": 2.5}, "whole number of bars"),
    ({"colour": "red"}, "unknown composer parameter.*colour.*known: genre"),
    ({"swing": 0.9}, "swing"),
])
def test_bad_requests_raise_one_line(params: dict, match: str) -> None:
    with pytest.raises(EngineError, match=match) as exc:
        ComposerEngine().plan(Request(seed=0, params=params))
    assert "\n" not in str(exc.value)


def test_song_form_has_sections_fills_and_a_cadence() -> None:
    genre = GENRES["house"]
    form = arrangement.plan_form(64, genre=genre, loop=False)
    names = [s.name for s in form]
    assert names[0] == "intro" and names[-1] == "outro" and "breakdown" in names and "B" in names
    assert sum(s.bars for s in form) == 64 and form[0].start_bar == 0
    energies = [s.energy for s in form]
    assert max(energies) - min(energies) >= 0.5
    key = parse_key("G minor")
    spans = arrangement.chord_timeline(("i", "VI", "iv", "V"), key=key, genre=genre, bars=64, loop=False)
    assert [s.chord.numeral for s in spans[-2:]] == ["V", "i"]
    loop_spans = arrangement.chord_timeline(("i", "VI", "iv", "V"), key=key, genre=genre, bars=8, loop=True)
    assert loop_spans[-1].chord.numeral == "V"  # a loop turns back to the top
    plan = ComposerEngine().plan(Request(seed=3, params={"genre": "house", "bars": 64}))
    drums = plan.notes["drums"]
    for prev, sec in zip(plan.sections, plan.sections[1:], strict=False):
        # A crash opens every section with drums; a fill closes every section with drums.
        if "drums" in sec.parts:
            assert any(abs(n.start - sec.start_bar * 4) < 0.1 and n.pitch == 49 for n in drums)
        if "drums" not in prev.parts:
            continue
        before = [n for n in drums if (sec.start_bar - 1) * 4 + 2 <= n.start < sec.start_bar * 4]
        assert any(n.pitch in (38, 39, 45, 47, 50) for n in before)


def test_humanize_swings_offbeats_and_is_seeded() -> None:
    notes = [patterns.Note(i / 4, 0.25, KICK, 100) for i in range(16)]
    kw = {"timing_ms": 0.0, "velocity_sd": 0.0, "bpm": 90.0, "total_beats": 4.0, "loop": False}
    swung = patterns.humanize(notes, rng=np.random.default_rng(0), swing=0.6, **kw)
    assert swung[1].start == pytest.approx(0.25 + 0.05) and swung[2].start == pytest.approx(0.5)
    kw.update(timing_ms=8.0, velocity_sd=6.0)
    a = patterns.humanize(notes, rng=np.random.default_rng(1), swing=0.5, **kw)
    b = patterns.humanize(notes, rng=np.random.default_rng(1), swing=0.5, **kw)
    c = patterns.humanize(notes, rng=np.random.default_rng(2), swing=0.5, **kw)
    assert a == b and a != c
    assert a[0].start == 0.0  # the first downbeat stays on the downbeat
    beat = 90.0 / 60.0
    assert max(abs(x.start - n.start) for x, n in zip(a, notes, strict=True)) <= 2.5 * 0.008 * beat + 1e-9


def test_lead_is_built_from_a_repeated_motif_on_chord_tones() -> None:
    plan = ComposerEngine().plan(Request(seed=11, params={"genre": "synthwave", "bars": 12, "humanize": 0}))
    lead = plan.notes["lead"]
    assert lead
    rhythm = [[round(n.start - b * 4, 3) for n in lead if b * 4 <= n.start < b * 4 + 8] for b in (0, 4, 8)]
    assert rhythm[0] and rhythm.count(rhythm[0]) == 3  # the motif's rhythm opens every phrase
    strong = [n for n in lead if abs(n.start - round(n.start)) < 1e-6]
    on_chord = [n for n in strong if n.pitch % 12 in arrangement.chord_at(plan.chords, n.start).chord.pcs]
    assert len(on_chord) >= 0.8 * len(strong)


def test_bass_follows_the_harmony() -> None:
    plan = ComposerEngine().plan(Request(seed=2, params={"genre": "ballad", "bars": 8, "humanize": 0}))
    for n in plan.notes["bass"]:
        if abs(n.start - round(n.start)) < 1e-6 and round(n.start) % 4 == 0:
            assert n.pitch % 12 == arrangement.chord_at(plan.chords, n.start).chord.root


# --------------------------------------------------------------------------- MIDI


def test_midi_files_per_stem_and_all() -> None:
    eng = ComposerEngine()
    plan = eng.plan(Request(seed=4, params={"genre": "trap", "bars": 4, "key": "C# minor", "bpm": 143}))
    files = eng.midi(plan)
    assert set(files) == {"drums", "bass", "chords", "lead", "all"}
    whole = mido.MidiFile(file=io.BytesIO(files["all"]))
    assert whole.type == 1 and len(whole.tracks) == 5
    meta = {m.type: m for m in whole.tracks[0]}
    assert mido.tempo2bpm(meta["set_tempo"].tempo) == pytest.approx(143, abs=1e-3)
    assert meta["key_signature"].key == "C#m"
    for name in ("drums", "bass", "chords", "lead"):
        mf = mido.MidiFile(file=io.BytesIO(files[name]))
        ons = [m for m in mf.tracks[1] if m.type == "note_on" and m.velocity > 0]
        assert len(ons) == len(plan.notes[name])
        channels = {m.channel for m in mf.tracks[1] if hasattr(m, "channel")}
        assert len(channels) == 1 and (9 in channels) == (name == "drums")
    assert eng.midi(plan) == files


# --------------------------------------------------------------------------- audio


@pytest.fixture(scope="module")
def lofi() -> tuple:
    eng = ComposerEngine()
    req = Request(prompt="lofi hip hop in D minor", seed=1, params={"bars": 4})
    plan = eng.plan(req)
    return eng, plan, eng.render(plan), eng.generate(req)


def test_registry_builds_the_composer() -> None:
    eng = get_engine("composer")
    assert isinstance(eng, ComposerEngine) and eng.name == "composer" and eng.version


def test_stems_are_stereo_aligned_and_sum_to_the_premaster(lofi: tuple) -> None:
    _, plan, rendered, take = lofi
    assert set(take.stems) == {"drums", "bass", "chords", "lead"}
    n = rendered.mix.n
    for name, stem in rendered.stems.items():
        assert stem.channels == 2 and stem.n == n and stem.sr == 44100
        assert not np.allclose(stem.samples[0], stem.samples[1]), name  # really stereo
        assert np.abs(stem.samples).max() < 10 ** (-1 / 20) + 1e-6  # stems never clip
        assert loudness.integrated_loudness(stem) > -40, name  # every part is audible
    total = sum(s.samples.astype(np.float64) for s in rendered.stems.values())
    np.testing.assert_allclose(total, rendered.mix.samples, atol=1e-6)
    for name in take.stems:
        np.testing.assert_array_equal(take.stems[name].samples, rendered.stems[name].samples)
    assert take.mix.n == n and take.mix.channels == 2
    # Length: the bars plus the ring-out of the last chord, then a fade.
    body = round(plan.beats * 60 / plan.bpm * 44100)
    assert body <= n <= body + 4 * 44100


def test_master_is_at_target_under_the_ceiling_and_starts_on_the_beat(lofi: tuple) -> None:
    _, _, _, take = lofi
    m = loudness.measure(take.mix)
    assert m.integrated_lufs == pytest.approx(-14.0, abs=0.3)
    assert m.true_peak_dbtp <= -1.0 + 1e-3
    assert np.abs(take.mix.samples).max() < 1.0
    env = np.abs(take.mix.samples).max(axis=0)
    first = int(np.argmax(env > 10 ** (-40 / 20)))
    assert first < 0.01 * take.mix.sr  # sound within 10 ms: no silence before the downbeat
    assert take.bpm == 84.0 and take.key == "D minor" and take.seed == 1


def test_provenance_records_everything(lofi: tuple) -> None:
    _, _, _, take = lofi
    p = take.provenance
    assert p["engine"] == "composer" and p["engine_version"]
    assert p["soundfont"]["name"].endswith(".sf2") and len(p["soundfont"]["sha256"]) == 64
    assert p["seed"] == 1 and p["prompt"] == "lofi hip hop in D minor"
    for key in ("genre", "bpm", "key", "bars", "loop", "stems", "swing", "humanize", "progression", "form",
                "sample_rate", "lufs", "true_peak"):
        assert key in p["params"], key
    assert p["request_params"] == {"bars": 4}


def test_loop_is_bar_aligned_and_seamless() -> None:
    eng = ComposerEngine()
    req = Request(seed=2, params={"genre": "ambient", "bars": 2, "bpm": 96, "key": "E major", "loop": True})
    take = eng.generate(req)
    spb = 60 / 96 * 44100
    assert take.mix.n == round(8 * spb)
    # Played twice, the seam is no bigger a step than the loop's own steps.
    x = take.mix.samples
    steps = np.abs(np.diff(x, axis=1)).max(axis=0)
    seam = float(np.abs(x[:, 0] - x[:, -1]).max())
    assert seam <= np.percentile(steps, 99.9)
    # The tail rings into the top: the pad's release and reverb are folded back onto bar 1.
    plan = eng.plan(req)
    dry = eng.render(plan.__class__(**{**plan.__dict__, "loop": False}))
    wet = eng.render(plan)
    head = slice(0, 2048)
    top_wet = np.abs(wet.stems["chords"].samples[:, head]).sum()
    assert top_wet > np.abs(dry.stems["chords"].samples[:, head]).sum()
    total = sum(s.samples.astype(np.float64) for s in wet.stems.values())
    np.testing.assert_allclose(total, wet.mix.samples, atol=1e-6)


def test_stem_subset_and_sample_rate() -> None:
    params = {"genre": "techno", "bars": 2, "stems": "bass,drums", "sample_rate": 48000}
    take = ComposerEngine().generate(Request(seed=3, params=params))
    assert list(take.stems) == ["drums", "bass"] and take.mix.sr == 48000
    assert set(take.midi) == {"drums", "bass", "all"}


def test_missing_soundfont_is_a_clear_error(tmp_path) -> None:
    params = {"soundfont": str(tmp_path / "none.sf2"), "bars": 1}
    with pytest.raises(EngineError, match=r"not found; install one with .*fluid-soundfont-gm"):
        ComposerEngine().generate(Request(seed=0, params=params))
