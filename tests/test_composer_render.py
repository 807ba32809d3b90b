"""The composer's fast paths against the slow references they replace: the note cache
against FluidSynth streaming every note, the compiled loudness and true peak against
:mod:`music.loudness`, the per-stem reverb, the velocity grid and the MIDI writer."""

from __future__ import annotations

import io

import mido
import numpy as np
import pytest

from music import loudness
from music.audio import Audio
from music.engines import Request
from music.engines.composer import ComposerEngine, dsp, midi, patterns
from music.engines.composer.engine import bus_limit
from music.engines.composer.patterns import Note
from music.engines.composer.render import (
    NoteStore,
    Room,
    SynthPool,
    Voice,
    _prime,
    _velocity_classes,
    render_part,
)
from music.engines.composer.reverb import add_reverb, convolve, impulse_response, reverb_time
from music.soundfont import find_soundfont
from tests.fluidsynth_live import render_part_live

SR = 22050


def _env_db(y: np.ndarray, w: int = 441) -> np.ndarray:
    p = (y.astype(np.float64) ** 2).sum(axis=0)
    p = p[: p.size // w * w].reshape(-1, w).mean(axis=1)
    return 10 * np.log10(p + 1e-12)


@pytest.mark.parametrize("name", ["drums", "bass", "chords"])
def test_note_cache_sounds_like_fluidsynth_streaming_every_note(name: str) -> None:
    eng = ComposerEngine()
    plan = eng.plan(Request(seed=4, params={"genre": "house", "bars": 4}))
    v = eng._voice(plan, name)
    dry = Voice(v.channel, v.bank, v.program, v.pan, reverb=0, chorus=0)
    n = round(plan.beats * 60 / plan.bpm * SR) + 2 * SR
    kw = {"voice": dry, "soundfont": find_soundfont(), "sr": SR, "bpm": plan.bpm, "n_samples": n}
    cached, live = render_part(plan.notes[name], **kw), render_part_live(plan.notes[name], **kw)
    # Onsets differ by < 64 samples (FluidSynth starts a note on its next block), so compare
    # 20 ms loudness envelopes and overall level, not samples.
    a, b = _env_db(cached), _env_db(live)
    loud = b > b.max() - 50
    assert np.corrcoef(a[loud], b[loud])[0, 1] > 0.98
    assert np.median(np.abs(a - b)[loud]) < 1.0
    energy = [(y.astype(np.float64) ** 2).sum() for y in (cached, live)]
    assert abs(10 * np.log10(energy[0] / energy[1])) < 0.3


def test_note_cache_is_a_sum_of_single_note_renders_and_deterministic() -> None:
    notes = [Note(i / 2, 0.25, 60, 100) for i in range(8)] + [Note(4.0, 0.25, 64, 100)]
    n = 4 * SR
    kw = {"voice": Voice(channel=0, bank=0, program=0, reverb=0), "soundfont": find_soundfont(), "sr": SR,
          "bpm": 120.0, "n_samples": n}
    y = render_part(notes, **kw)
    assert np.array_equal(y, render_part(notes, **kw))
    # Eight copies of one note, half a beat apart, and one other note: sample-exact.
    one, other = render_part(notes[:1], **kw), render_part([Note(0.0, 0.25, 64, 100)], **kw)
    rebuilt = np.zeros_like(y)
    for i, note in enumerate(notes):
        on = round(note.start * SR / 2)  # 120 BPM: half a second per beat
        rebuilt[:, on:] += (one if i < 8 else other)[:, : n - on]
    assert np.abs(y).max() > 0.01
    assert np.allclose(y, rebuilt, atol=1e-6)


def _classes(voice: Voice, velocities: dict[int, set[int]]) -> dict[tuple[int, int], tuple[int, float]]:
    """The velocity classes ``render_part`` would use for ``voice``."""
    with SynthPool() as pool:
        synth = pool.get(voice, soundfont=find_soundfont(), sr=SR, room=Room(), gain=0.5)
        scratch, sink = np.zeros((2, 1 << 15), np.float32), np.zeros((2, 1), np.float32)
        _prime(synth, voice.channel, scratch, sink)
        return _velocity_classes(synth, voice.channel, velocities, scratch, sink)


def test_velocity_classes_share_renders_only_where_velocity_is_a_gain() -> None:
    # FluidR3's kit 32: key 37 (side stick) is one sample at every velocity; keys 36 and 38
    # switch samples between velocity layers.
    kit = Voice(channel=9, bank=128, program=32, reverb=0)
    classes = _classes(kit, {37: {120, 80, 40}, 36: {120, 80}, 38: {120, 80}})
    assert classes[37, 120] == (120, 1.0)
    assert classes[37, 80][0] == 120 and classes[37, 40][0] == 120
    assert 0 < classes[37, 40][1] < classes[37, 80][1] < 1
    assert classes[36, 80] == (80, 1.0) and classes[38, 80] == (80, 1.0)
    kw = {"voice": kit, "soundfont": find_soundfont(), "sr": SR, "bpm": 120.0, "n_samples": 2 * SR}
    for key in (37, 36):
        # the part is the sum of its notes rendered alone, each at its own velocity
        notes = [Note(0.0, 0.5, key, 120), Note(1.0, 0.5, key, 80), Note(2.0, 0.5, key, 40)]
        part = render_part(notes, **kw)
        alone = [render_part([n], **kw) for n in notes]
        assert np.abs(part - sum(alone)).max() < 1e-4 * np.abs(part).max()
        if key == 37:  # and a shared render is the loud one scaled by the measured gain
            level = [float(np.sqrt((y.astype(np.float64) ** 2).sum())) for y in alone]
            assert level[1] / level[0] == pytest.approx(classes[37, 80][1], rel=1e-3)


def test_a_part_does_not_depend_on_the_parts_rendered_before_it() -> None:
    # techno: chorused chords (probed on the take's dry synthesizer) before the dry bass
    eng = ComposerEngine()
    plan = eng.plan(Request(seed=2, params={"genre": "techno", "bars": 2}))
    n = round(plan.beats * 60 / plan.bpm * SR) + SR
    kw = {"soundfont": find_soundfont(), "sr": SR, "bpm": plan.bpm, "n_samples": n}
    chords, bass = eng._voice(plan, "chords"), eng._voice(plan, "bass")
    assert chords.chorus > 0 and bass.chorus == 0
    alone = render_part(plan.notes["bass"], voice=bass, **kw)
    with SynthPool() as pool:
        render_part(plan.notes["chords"], voice=chords, pool=pool, **kw)
        after = render_part(plan.notes["bass"], voice=bass, pool=pool, **kw)
    assert np.abs(alone).max() > 0.01 and np.array_equal(after, alone)


def test_an_open_hat_is_choked_by_the_next_closed_hat() -> None:
    kw = {"voice": Voice(channel=9, bank=128, program=0, reverb=0), "soundfont": find_soundfont(), "sr": SR,
          "bpm": 120.0, "n_samples": SR}
    hit = SR // 4
    alone = render_part([Note(0.0, 0.5, 46, 100)], **kw)
    choked = render_part([Note(0.0, 0.5, 46, 100), Note(0.5, 0.25, 42, 100)], **kw)
    closed = render_part([Note(0.5, 0.25, 42, 100)], **kw)
    ring = (alone[:, hit + SR // 10:] ** 2).sum()
    after = ((choked - closed)[:, hit + SR // 10:] ** 2).sum()
    assert after < 0.1 * ring  # what is left of the open hat 100 ms after the closed one


def test_note_store_keeps_exact_disjoint_copies_and_reuses_its_slabs() -> None:
    store = NoteStore()
    rng = np.random.default_rng(0)
    lengths = [5, NoteStore.SLAB // 3, NoteStore.SLAB // 2, 7, NoteStore.SLAB + 1, NoteStore.SLAB // 2]
    notes = [rng.standard_normal((2, n)).astype(np.float32) for n in lengths]
    kept = [store.keep(y) for y in notes]
    for y, (left, right) in zip(notes, kept, strict=True):  # later copies overwrote none
        assert left.flags.c_contiguous and right.flags.c_contiguous
        assert np.array_equal(left, y[0]) and np.array_equal(right, y[1])
    first = kept[0][0]
    store.reset()
    again = store.keep(notes[3])[0]
    assert np.shares_memory(again, first)  # the same slab, from its start


def test_humanised_velocities_are_on_the_grid() -> None:
    plan = ComposerEngine().plan(Request(seed=3, params={"genre": "lofi", "bars": 8}))
    vels = {n.vel for part in plan.notes.values() for n in part}
    assert len(vels) > 5
    assert all(v % patterns.VELOCITY_STEP == 0 or v == 127 for v in vels)


@pytest.mark.parametrize(("n", "sr"), [(300, 44100), (17_641, 44100), (3 * 44100 + 17, 44100),
                                       (5 * 22050, 22050), (9 * 48000 + 5, 48000)])
def test_compiled_loudness_and_true_peak_equal_the_reference(n: int, sr: int) -> None:
    rng = np.random.default_rng(n)
    x = (rng.standard_normal((2, n)) * np.linspace(0.01, 0.4, n)).astype(np.float32)
    x[:, n // 3] = 0.95  # one full-scale click: an inter-sample peak over it
    ref = loudness.integrated_loudness(Audio(x, sr))
    got = dsp.integrated_loudness(x, sr)
    assert got == pytest.approx(ref, abs=1e-9) or (np.isinf(got) and np.isinf(ref))
    # Never under the reference (which rounds to float32), and equal to ~1e-5 dB.
    tp_ref, tp = loudness.true_peak(Audio(x, sr)), dsp.true_peak(x, sr)
    assert tp_ref - 1e-6 <= tp <= tp_ref + 1e-4


@pytest.mark.parametrize(("m", "size"), [(1, 0.5), (5_000, 0.5), (250_003, 0.5), (400_000, 0.9)])
def test_reverb_convolution_equals_scipy(m: int, size: float) -> None:
    """The overlap-add (several blocks for the longer inputs) against scipy's direct-length
    FFT convolution, to float32 rounding."""
    from scipy import signal

    x = np.random.default_rng(m).standard_normal(m).astype(np.float32)
    ref = signal.fftconvolve(x[None, :].astype(np.float64), impulse_response(44100, size).astype(np.float64),
                             axes=1)[:, :m]
    got = convolve(x, sr=44100, size=size, damping=0.3)
    assert got.shape == (2, m) and got.dtype == np.float32
    assert np.abs(got - ref).max() <= 1e-5 * max(1.0, np.abs(ref).max())


def test_reverb_convolution_does_not_depend_on_its_block_grouping(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks transformed one at a time, a few at a time, or all at once: the same bits."""
    from music.engines.composer import reverb

    x = np.random.default_rng(7).standard_normal(1_300_000).astype(np.float32)  # 30 blocks at size 0.6
    default = convolve(x, sr=44100, size=0.6, damping=0.3)
    n_ir = impulse_response(44100, 0.6).shape[1]
    nfft = reverb.fft_size(n_ir)
    for blocks in (1, 7, 1000):
        monkeypatch.setattr(reverb, "GROUP_BYTES", blocks * 8 * nfft)
        assert np.array_equal(convolve(x, sr=44100, size=0.6, damping=0.3), default), blocks


def test_zeros_for_adding_into_are_float32_zeros() -> None:
    # numpy's small-buffer cache hands the freed buffer of `dirty` to the next array of its
    # size, so an unfilled np.empty would hold its sevens
    for shape in ((2, 100), (2, 70_001)):
        dirty = np.full(shape, 7.0, np.float32)
        del dirty
        z = dsp.zeros(shape)
        assert z.shape == shape and z.dtype == np.float32 and z.flags.c_contiguous
        assert not z.any()


def test_small_pages_switches_numpys_huge_page_advice_off_and_restores_it() -> None:
    switch = dsp.huge_page_switch()
    assert switch is not None  # numpy >= 1.19 has it

    def state() -> bool:
        now = switch(False)
        switch(now)
        return bool(now)

    before = switch(True)
    try:
        with dsp.small_pages():
            assert state() is False
            with dsp.small_pages():
                assert state() is False
            assert state() is False
        assert state() is True
        with pytest.raises(RuntimeError), dsp.small_pages():
            raise RuntimeError("boom")
        assert state() is True
    finally:
        switch(before)


def test_reverb_is_linear_deterministic_and_decays_at_the_room_time() -> None:
    sr = 44100
    x = np.zeros((2, 8 * sr), np.float32)
    x[:, sr // 10] = 1.0
    y1, y2, y3 = x.copy(), x.copy(), 2 * x
    for y in (y1, y2, y3):
        add_reverb(y, sr=sr, send=0.5, size=0.6)
    assert np.array_equal(y1, y2)
    assert np.allclose(y3, 2 * y1, atol=1e-6)
    wet = y1 - x
    assert np.abs(wet[0] - wet[1]).max() > 0.1 * np.abs(wet).max()  # decorrelated channels: width
    env = _env_db(wet, w=sr // 10)
    t60 = reverb_time(0.6)
    # Level 0.5 s after the onset against 0.5 s + 1 s: the decay slope is 60 dB per t60.
    drop = env[6] - env[16]
    assert drop == pytest.approx(60 / t60, rel=0.25)
    silent = np.zeros((2, sr), np.float32)
    add_reverb(silent, sr=sr, send=0.0, size=0.6)
    assert not silent.any()


def test_midi_files_are_the_per_stem_and_full_files() -> None:
    eng = ComposerEngine()
    plan = eng.plan(Request(seed=5, params={"genre": "techno", "bars": 4}))
    parts = [eng._midi_part(plan, n) for n in plan.stems]
    kw = {"bpm": plan.bpm, "key": plan.key, "title": plan.title, "end_beat": plan.beats}
    files = midi.midi_files(parts, **kw)
    assert files["all"] == midi.midi_bytes(parts, **kw)

    def read(data: bytes) -> list[tuple[str, int]]:
        """(track name, note-on count) per track, as mido reads the file."""
        f = mido.MidiFile(file=io.BytesIO(data))
        return [(next((m.name for m in t if m.type == "track_name"), ""),
                 sum(m.type == "note_on" and m.velocity > 0 for m in t)) for t in f.tracks]

    everything = read(files["all"])
    assert [name for name, _ in everything[1:]] == [p.name for p in parts]
    for p, (_, notes) in zip(parts, everything[1:], strict=True):
        assert notes == len(p.notes) > 0
        assert read(files[p.name]) == [everything[0], (p.name, len(p.notes))]


@pytest.mark.parametrize("genre", ["lofi", "techno"])
def test_direct_midi_writer_writes_what_mido_writes(genre: str) -> None:
    """The notes encoded by hand (running status, variable-length deltas) against the same
    events as mido messages saved by mido."""
    eng = ComposerEngine()
    plan = eng.plan(Request(seed=2, params={"genre": genre, "bars": 8}))
    kw = {"bpm": plan.bpm, "key": plan.key, "title": plan.title, "end_beat": plan.beats}
    for name in plan.stems:
        part = eng._midi_part(plan, name)
        track = midi._part_track(part)
        now = 0
        for tick, order, pitch, vel in midi._note_events(part):
            kind = "note_on" if order == 1 else "note_off"
            track.append(mido.Message(kind, channel=part.channel, note=pitch, velocity=vel, time=tick - now))
            now = tick
        end = round(plan.beats * midi.TICKS_PER_BEAT)
        track.append(mido.MetaMessage("end_of_track", time=max(0, end - now)))
        ref = mido.MidiFile(type=1, ticks_per_beat=midi.TICKS_PER_BEAT)
        ref.tracks.append(midi._conductor(bpm=plan.bpm, key=plan.key, title=plan.title))
        ref.tracks.append(track)
        buf = io.BytesIO()
        ref.save(file=buf)
        assert midi.midi_bytes([part], **kw) == buf.getvalue(), name


def test_the_limiter_from_a_scaled_source_equals_the_limiter_in_place() -> None:
    rng = np.random.default_rng(5)
    x0 = (rng.standard_normal((2, 44100)) * np.linspace(0.05, 0.6, 44100)).astype(np.float32)
    gain = np.float32(2.7)
    in_place = x0 * gain
    bus_limit(in_place, sr=44100, ceiling_db=-2.0)
    out = np.empty_like(x0)
    envelope = dsp.block_envelope(x0, 32) * float(gain)
    bus_limit(out, sr=44100, ceiling_db=-2.0, envelope=envelope, source=x0, scale=float(gain))
    assert np.abs(in_place).max() <= 10 ** (-2 / 20) and not np.array_equal(in_place, x0 * gain)
    # the same gains to float rounding of the envelope, the same arithmetic per sample
    assert np.abs(out - in_place).max() <= 1e-6
    quiet = np.empty_like(x0)  # nothing to limit: the scaled source is copied
    bus_limit(quiet, sr=44100, ceiling_db=-2.0, source=x0, scale=0.05)
    assert np.abs(quiet).max() < 0.5 and np.array_equal(quiet, x0 * np.float32(0.05))
