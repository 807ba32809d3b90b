"""The symbolic engine's tokeniser, corpus builder, training loop and sampler.

Training and sampling run on tiny randomly initialised models (``configs.TINY``) over a
small synthetic corpus, through the same code as the shipped run; the corpus builder is
checked on a few real music21 works and on hand-built scores.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from music.engines.symbolic import corpus, sampling, training  # noqa: E402
from music.engines.symbolic import tokens as tk  # noqa: E402
from music.engines.symbolic.configs import TINY, resolve  # noqa: E402
from music.engines.symbolic.theory import estimate_key, scale_pcs  # noqa: E402
from music.errors import EngineError  # noqa: E402

pytestmark = pytest.mark.ml


def _chorale_events(tonic: int, bars: int, rng: np.random.Generator) -> list[tk.Event]:
    scale = [tonic + s for s in (0, 2, 4, 5, 7, 9, 11)]
    out = []
    for b in range(bars):
        for beat in range(4):
            base = scale[rng.integers(7)]
            for v, octave in enumerate((72, 64, 57, 45)):
                pitch = int(octave + (base - octave) % 12)
                out.append(tk.Event(b, beat * 4, v, pitch, 4))
    return out


def synthetic_dataset(n: int = 24, seed: int = 0) -> corpus.Dataset:
    """A few 'chorales' and 'fiddle tunes' in random keys, split like the real corpus."""
    rng = np.random.default_rng(seed)
    seqs, ids = [], []
    for i in range(n):
        tonic = int(rng.integers(12))
        if i % 2:
            header = tk.Header("chorale", tonic, "major", "4/4", None, 4)
            events = _chorale_events(tonic, 6, rng)
        else:
            header = tk.Header("fiddle", tonic, "major", "6/8", None, 1)
            events = [tk.Event(b, p, 0, 60 + tonic + int(rng.integers(0, 12)), 2)
                      for b in range(8) for p in range(0, 12, 2)]
        seqs.append(np.array(tk.encode(header, events), np.int16))
        ids.append(f"synthetic/{i}")
    held = np.array([i % 6 == 0 for i in range(n)])
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in seqs])]).astype(np.int64)
    manifest = {"works": n, "held_out_works": int(held.sum()), "tokens": int(offsets[-1]), "synthetic": True}
    return corpus.Dataset(np.concatenate(seqs), offsets, ids, held, manifest)


# ----------------------------------------------------------------------------- tokens


def test_encode_decode_round_trip_and_layout() -> None:
    header = tk.Header("chorale", 7, "major", "3/4", 100.0, 2)
    events = [tk.Event(0, 0, 0, 79, 4), tk.Event(0, 0, 1, 55, 8), tk.Event(0, 8, 0, 78, 4),
              tk.Event(2, 4, 1, 50, 12)]
    toks = tk.encode(header, events)
    names = [tk.VOCAB[t] for t in toks]
    assert names[:6] == ["BOS", "STYLE_chorale", "KEY_G_major", "METER_3/4", "TEMPO_108", "VOICES_2"]
    assert names[6:13] == ["BAR", "POS_0", "V0_P79", "D_4", "V1_P55", "D_8", "POS_8"]
    assert names.count("BAR") == 3 and names[-1] == "EOS"  # bar 1 is empty but still marked
    got_header, got_events = tk.decode(toks)
    assert got_header == tk.Header("chorale", 7, "major", "3/4", 108.0, 2)
    assert sorted(got_events, key=lambda e: (e.bar, e.pos, e.voice)) == events


def test_encode_rejects_events_outside_the_vocabulary() -> None:
    header = tk.Header("folk", 0, "major", "4/4", None, 1)
    with pytest.raises(EngineError, match="outside the vocabulary"):
        tk.encode(header, [tk.Event(0, 0, 0, tk.HIGH + 1, 4)])
    with pytest.raises(EngineError, match="unknown style"):
        tk.header_tokens(tk.Header("jazz", 0, "major", "4/4", None, 1))


def test_transpose_moves_pitches_and_key_and_refuses_out_of_range() -> None:
    header = tk.Header("fiddle", 2, "minor", "4/4", None, 1)
    toks = np.array(tk.encode(header, [tk.Event(0, 0, 0, 62, 4), tk.Event(0, 4, 0, 69, 4)]))
    up = tk.transpose(toks, 3)
    h, ev = tk.decode(up)
    assert h.tonic == 5 and h.mode == "minor"
    assert [e.pitch for e in ev] == [65, 72]
    assert tk.transpose(toks, tk.HIGH - 69 + 1) is None
    top = tk.transpose(toks, -11)
    assert tk.decode(top)[0].tonic == (2 - 11) % 12


def test_quantise_duration_and_bar_steps() -> None:
    assert tk.quantise_duration(17) == 16 and tk.quantise_duration(35) == 32
    assert tk.bar_steps("6/8") == 12 and tk.bar_steps("3/2") == 24 and tk.bar_steps("4/4") == 16


def test_estimate_key_and_scale() -> None:
    g_major = [tk.Event(0, i, 0, p, 4) for i, p in enumerate([67, 71, 74, 67, 72, 66, 67, 62, 67])]
    assert estimate_key(g_major) == (7, "major")
    a_minor = [tk.Event(0, i, 0, p, 4) for i, p in enumerate([69, 72, 76, 69, 68, 69, 71, 72, 64, 69])]
    assert estimate_key(a_minor) == (9, "minor")
    assert scale_pcs(9, "minor") == frozenset({9, 11, 0, 2, 4, 5, 6, 7, 8})


# ----------------------------------------------------------------------------- corpus


def test_score_events_pickup_ties_and_voice_order() -> None:
    m21 = pytest.importorskip("music21")
    s = m21.stream.Score()
    low, high = m21.stream.Part(), m21.stream.Part()
    for part, pitches in ((low, ("C3", "G3", "C3")), (high, ("E5", "G5", "C5"))):
        m0 = m21.stream.Measure(number=0)
        m0.append(m21.meter.TimeSignature("3/4"))
        m0.append(m21.note.Note(pitches[0], quarterLength=1))  # a one-beat pickup
        m1 = m21.stream.Measure(number=1)
        a = m21.note.Note(pitches[1], quarterLength=3)
        a.tie = m21.tie.Tie("start")
        m1.append(a)
        m2 = m21.stream.Measure(number=2)
        b = m21.note.Note(pitches[1], quarterLength=1)
        b.tie = m21.tie.Tie("stop")
        m2.append(b)
        m2.append(m21.note.Note(pitches[2], quarterLength=2))
        part.append([m0, m1, m2])
    s.insert(0, low)
    s.insert(0, high)  # inserted second but higher: becomes voice 0
    header, events = corpus.score_events(s)
    assert header.meter == "3/4" and header.voices == 2
    top = sorted((e for e in events if e.voice == 0), key=lambda e: (e.bar, e.pos))
    assert [(e.bar, e.pos, e.pitch, e.dur) for e in top] == [(0, 8, 76, 4), (1, 0, 79, 16), (2, 4, 72, 8)]


def test_build_real_chorales_is_reproducible_and_split_by_work(tmp_path) -> None:
    pytest.importorskip("music21")
    ds = corpus.build(styles=("chorale",), limit=3)
    assert ds.manifest["works"] >= 2 and ds.manifest["sources"]["bach"]["works"] == ds.manifest["works"]
    for i in range(len(ds.work_ids)):
        w = ds.work(i)
        assert w[0] == tk.BOS and tk.VOCAB[int(w[1])] == "STYLE_chorale" and w[-1] == tk.EOS
        h, ev = tk.decode(w)
        assert tk.encode(h, ev) == list(w)
    works = [ds.work(i) for i in range(len(ds.work_ids))]
    assert np.array_equal(ds.held_out, corpus.split(ds.work_ids, works))
    path = corpus.save(ds, tmp_path / "c.npz")
    again = corpus.read(path)
    assert np.array_equal(again.tokens, ds.tokens) and again.work_ids == ds.work_ids
    assert again.manifest == ds.manifest
    assert ds.work_ids == sorted(ds.work_ids)  # canonical order, whatever the parse order
    half = len(ds.work_ids) // 2
    parts = [corpus.Dataset(ds.tokens, ds.offsets, ds.work_ids, ds.held_out, {**ds.manifest}) for _ in (0, 1)]
    merged = corpus.merge(parts[::-1])
    assert merged.manifest["works"] == 2 * ds.manifest["works"] and merged.work_ids == sorted(merged.work_ids)
    assert np.array_equal(merged.work(2 * half), ds.work(half))


def test_held_out_split_is_a_fixed_function_of_the_work() -> None:
    ids = [f"bach/bwv{i}.mxl" for i in range(2000)]
    share = np.mean([corpus.is_held_out(w) for w in ids])
    assert 0.03 < share < 0.08
    assert corpus.is_held_out("bach/bwv0.mxl") == corpus.is_held_out("bach/bwv0.mxl")


def test_split_keeps_one_tune_on_one_side() -> None:
    rng = np.random.default_rng(1)
    tune = [tk.Event(b, p, 0, 60 + int(rng.integers(0, 12)), 2) for b in range(4) for p in range(0, 16, 2)]
    header = tk.Header("fiddle", 0, "major", "4/4", None, 1)
    a = np.array(tk.encode(header, tune))
    b = tk.transpose(a, 5)  # the same tune in another collection, another key
    ids = [f"coll/{i}" for i in range(400)]
    held_name = next(w for w in ids if corpus.is_held_out(w))
    train_name = "zzz/other"  # sorts after: the group takes the held-out name's side
    assert not corpus.is_held_out(train_name)
    other = [np.array(tk.encode(header, [tk.Event(0, 0, 0, 60 + k % 12, 4 + k % 5)] * 1)) for k in range(2)]
    mask = corpus.split([held_name, train_name, "x/1", "x/2"], [a, b, *other])
    assert mask[0] and mask[1]
    assert corpus.incipit(a) == corpus.incipit(b) != corpus.incipit(other[0])


def test_read_rejects_a_broken_cache(tmp_path) -> None:
    bad = tmp_path / "x.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(EngineError, match="cannot read"):
        corpus.read(bad)


# ----------------------------------------------------------------------------- training


def test_sampler_windows_start_with_the_header_and_a_bar() -> None:
    ds = synthetic_dataset()
    s = training.Sampler(ds, context=48)
    b = s.batch(3, 7, 8)
    assert b.shape == (8, 48)
    assert (b[:, 0] == tk.BOS).all() and (b[:, tk.HEADER_LEN] == tk.BAR).all()
    assert torch.equal(b, s.batch(3, 7, 8)) and not torch.equal(b, s.batch(3, 8, 8))
    held = training.held_out_windows(ds, context=48)
    assert held.shape[1] == 48 and (held[:, 0] == tk.BOS).all()


def test_tiny_training_resumes_to_the_same_weights(tmp_path) -> None:
    ds = synthetic_dataset()
    full = training.train(ds, TINY, out=tmp_path / "a")
    assert full["done"] and full["step"] == TINY.steps
    assert np.isfinite(full["held_out_bits"]) and full["held_out_bits"] < np.log2(tk.vocab_size()) + 1
    # Stop after the first checkpoint, then resume.
    cfg_half = training.TrainConfig.from_dict({**TINY.to_dict()})
    first = training.train(ds, cfg_half, out=tmp_path / "b", max_seconds=0.0)
    assert not first["done"] and first["step"] == TINY.checkpoint_every
    second = training.train(ds, cfg_half, out=tmp_path / "b")
    assert second["done"]
    a, b = full["model"].state_dict(), second["model"].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "b" / "log.jsonl").read_text().count("\n") == TINY.steps


def test_until_step_is_a_deterministic_early_stop(tmp_path) -> None:
    ds = synthetic_dataset()
    early = training.train(ds, TINY, out=tmp_path / "a", until_step=3)
    assert early["step"] == 3 and not early["done"]
    rest = training.train(ds, TINY, out=tmp_path / "a")
    full = training.train(ds, TINY, out=tmp_path / "b")
    a, b = rest["model"].state_dict(), full["model"].state_dict()
    assert rest["step"] == TINY.steps and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_with_another_config_is_refused(tmp_path) -> None:
    ds = synthetic_dataset()
    training.train(ds, TINY, out=tmp_path, max_seconds=0.0)
    other = training.TrainConfig.from_dict({**TINY.to_dict(), "lr": 1e-4})
    with pytest.raises(EngineError, match="another config"):
        training.train(ds, other, out=tmp_path)


def test_training_lowers_held_out_loss() -> None:
    ds = synthetic_dataset(n=36)
    cfg = training.TrainConfig.from_dict({**TINY.to_dict(), "steps": 40, "eval_every": 40,
                                          "checkpoint_every": 40, "lr": 5e-3})
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        torch.manual_seed(0)
        untrained = training.evaluate(training.SymbolicTransformer(cfg.model_config()),
                                      training.held_out_windows(ds, context=64))
        run = training.train(ds, cfg, out=d)
    assert run["held_out_bits"] < untrained - 2.0


def test_named_configs_and_bad_config(tmp_path) -> None:
    assert resolve("tiny") == TINY
    shipped = resolve("shipped")
    assert shipped.model_config().context >= 128
    bad = tmp_path / "c.json"
    bad.write_text('{"stepz": 3}')
    with pytest.raises(EngineError, match="unknown training config keys"):
        resolve(str(bad))
    with pytest.raises(EngineError, match="unknown training config"):
        resolve("nope")


def test_kneser_ney_beats_uniform_and_normalises() -> None:
    from music.engines.symbolic.ngram import KneserNey

    ds = synthetic_dataset()
    lm = KneserNey(3).fit(ds.work(i) for i in ds.split(False))
    ctx = list(ds.work(0)[:10])
    total = sum(lm.prob(ctx, t) for t in range(tk.vocab_size()))
    assert abs(total - 1.0) < 1e-6
    bits = lm.bits(training.held_out_windows(ds, context=64).numpy())
    assert bits < np.log2(tk.vocab_size()) / 2


# ----------------------------------------------------------------------------- sampling


def _tiny_model(seed: int = 0):
    torch.manual_seed(seed)
    return training.SymbolicTransformer(TINY.model_config())


@pytest.mark.parametrize("meter", ["4/4", "6/8"])
def test_sampling_keeps_grammar_key_metre_and_length(meter: str) -> None:
    model = _tiny_model()
    header = tk.Header("chorale", 7, "major", meter, None, 3)
    toks = sampling.generate(model, header, bars=5, seed=4)
    assert toks[:6] == tk.header_tokens(header) and toks[-1] == tk.EOS
    body = toks[6:-1]
    assert body.count(tk.BAR) == 5 and body[0] == tk.BAR and body[1] == tk.POS0
    _, events = tk.decode(toks)
    pcs = scale_pcs(7, "major")
    assert events and all(e.pitch % 12 in pcs for e in events)
    assert all(e.pos < tk.bar_steps(meter) and e.voice < 3 for e in events)
    for a, b in itertools.pairwise(body):  # a note is always followed by its duration
        assert (tk.kind(a) == "note") == (tk.kind(b) == "dur")
    assert sampling.generate(model, header, bars=5, seed=4) == toks
    assert sampling.generate(model, header, bars=5, seed=5) != toks


def test_sampling_slides_past_the_context() -> None:
    model = _tiny_model()
    header = tk.Header("chorale", 0, "minor", "4/4", None, 4)
    toks = sampling.generate(model, header, bars=12, seed=1)
    assert len(toks) > TINY.model_config().context
    assert toks[6:].count(tk.BAR) == 12


def test_sampling_continues_a_prompt() -> None:
    model = _tiny_model()
    header = tk.Header("fiddle", 2, "major", "4/4", None, 1)
    first = sampling.generate(model, header, bars=2, seed=3)
    body = first[6:-1]
    more = sampling.generate(model, header, bars=3, seed=9, prompt=body)
    assert more[:len(first) - 1] == first[:-1] and more[6:].count(tk.BAR) == 5


def test_nucleus_respects_mask_and_top_p() -> None:
    rng = np.random.default_rng(0)
    logits = np.zeros(tk.vocab_size())
    logits[10], logits[11] = 10.0, 9.0
    mask = np.ones(tk.vocab_size(), bool)
    got = {sampling.nucleus(logits, mask, temperature=1.0, top_p=0.5, rng=rng) for _ in range(50)}
    assert got == {10}
    mask[10] = False
    got = {sampling.nucleus(logits, mask, temperature=1.0, top_p=0.9, rng=rng) for _ in range(50)}
    assert got == {11}
    with pytest.raises(EngineError, match="temperature"):
        sampling.generate(_tiny_model(), tk.Header("folk", 0, "major", "4/4", None, 1), bars=1, seed=0,
                          params=sampling.SamplingParams(temperature=0))


def test_decoder_matches_the_forward_pass() -> None:
    from music.engines.symbolic.model import Decoder

    model = _tiny_model(3)
    model.eval()
    ids = [int(t) for t in synthetic_dataset().work(1)[:60]]
    with torch.no_grad():
        full = model(torch.tensor([ids]))[0]
    dec = Decoder(model)
    got = [dec.prefill(ids[:20])] + [dec.step(t) for t in ids[20:]]
    assert np.allclose(np.stack(got), full[19:].numpy(), atol=1e-4)
    assert dec.prefill(ids[:5]).dtype == np.float32 and dec.n == 5  # a prefill starts a fresh window
    assert np.allclose(dec.step(ids[5]), full[5].numpy(), atol=1e-4)
    with pytest.raises(ValueError, match="window is full"):
        for t in ids:
            dec.step(t)


def test_voice_leading_forbids_parallel_fifths_and_octaves() -> None:
    """Soprano G4 -> A4 over alto C4: the alto may not move up to D4 (fifths) or D5; it may stay, or
    move by contrary motion onto a fifth, or to any other interval."""
    header = tk.Header("chorale", 0, "major", "4/4", None, 2)

    def grammar_after(avoid: bool) -> sampling.Grammar:
        g = sampling.Grammar(header, sampling.SamplingParams(avoid_parallels=avoid))
        for name in ("BAR", "POS_0", "V0_P67", "D_4", "V1_P60", "D_4", "POS_4", "V0_P69", "D_4"):
            g.push(tk.INDEX[name])
        return g

    m = grammar_after(True).mask(can_end=False)
    for name in ("V1_P62", "V1_P74"):
        assert not m[tk.INDEX[name]], name
    for name in ("V1_P60", "V1_P64", "V1_P50", "V1_P59"):
        assert m[tk.INDEX[name]], name
    assert grammar_after(False).mask(can_end=False)[tk.INDEX["V1_P62"]]
    # octaves: soprano C5 -> D5 over C4; the lower voice may not follow up to D4 or D5
    g = sampling.Grammar(header, sampling.SamplingParams())
    for name in ("BAR", "POS_0", "V0_P72", "D_4", "V1_P60", "D_4", "POS_4", "V0_P74", "D_4"):
        g.push(tk.INDEX[name])
    m = g.mask(can_end=False)
    assert not m[tk.INDEX["V1_P62"]] and not m[tk.INDEX["V1_P74"]] and m[tk.INDEX["V1_P59"]]


def test_sampled_voices_never_attack_in_parallel_perfect_intervals() -> None:
    model = _tiny_model(5)
    header = tk.Header("chorale", 2, "major", "4/4", None, 4)
    found = {True: 0, False: 0}
    for avoid in (True, False):
        for seed in range(4):
            toks = sampling.generate(model, header, bars=24, seed=seed,
                                     params=sampling.SamplingParams(avoid_parallels=avoid))
            _, events = tk.decode(toks)
            onsets: dict[int, dict[int, int]] = {}
            for e in events:
                onsets.setdefault(e.bar * 16 + e.pos, {}).setdefault(e.voice, e.pitch)  # top note
            last: dict[int, int] = {}
            for t in sorted(onsets):
                now = onsets[t]
                for u, v in itertools.combinations(sorted(now), 2):
                    if u in last and v in last:
                        a0, b0, a1, b1 = last[u], last[v], now[u], now[v]
                        if (a1 != a0 and b1 != b0 and np.sign(a1 - a0) == np.sign(b1 - b0)
                                and (a0 - b0) % 12 == (a1 - b1) % 12 in (0, 7)):
                            found[avoid] += 1
                last.update(now)
    assert found[True] == 0 and found[False] > 0, found
