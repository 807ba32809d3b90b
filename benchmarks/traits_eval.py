# ruff: noqa: E501  (the material tables read best one family or arrangement per line)
"""A broad tempo/key evaluation set with a fixed held-out split, and the score of ``music.traits`` on it.

The set (about 340 clips of 15–30 s, built reproducibly from this file alone):

- **synthetic material**, rendered through FluidSynth with two SoundFonts that sound
  different (FluidR3_GM, Debian ``fluid-soundfont-gm``; MuseScore General, Debian
  ``musescore-general-soundfont``, both MIT): major with and without V–I, natural,
  harmonic and melodic minor, dorian / phrygian (scored as minor), mixolydian / lydian
  (scored as major), major and minor pentatonic melodies; arrangements: pop, slow 60–80 BPM
  grooves with sixteenth hats (the double-tempo trap), 160–180 BPM double-time, swing
  (2:1 eighths, walking bass), sparse piano, ballad arpeggios without drums, 3/4 waltz;
- **real compositions**: Bach chorales from the ``music21`` corpus (BSD), rendered SATB with
  a seeded ensemble; the key is the key signature's major or relative minor that the
  final bass note names (a Dorian-notated minor, one flat short, counts as minor; chorales
  ending elsewhere, e.g. Phrygian, are left out); tempo: the quarter note at a seeded
  66–100 BPM;
- **material without a pulse** (scored apart: the share given a tempo at all): rubato melody and
  chords at log-normally distributed onset intervals, pads whose chords change at random times,
  percussion scattered at Poisson times, and noise swelling at random; a tempo reported for
  these is a false one.

The **held-out split** is fixed by a hash of each clip's name (one third): it is never
looked at while choosing methods or parameters. Misses are listed for the development
split only (``--show-held-out-misses`` lists those too, for the final report).

Scores: tempo Acc1 (±4 % of the annotated quarter-note tempo, ``mir_eval.tempo``
convention), Acc2 (also ×2, ×3, ½, ⅓), and the share within ±1 %; key: MIREX weighted
(``mir_eval.key.weighted_score``: 1 exact, 0.5 fifth, 0.3 relative, 0.2 parallel) and the
share exact. Essentia (``RhythmExtractor2013`` multifeature; ``KeyExtractor`` with the
``edma``, ``temperley`` and ``bgate`` profiles) is scored side by side when it happens to be
installed (``pip install essentia``: AGPL, a benchmark peer only, never imported by songmint).

Rendered clips and Essentia's answers are cached under ``~/.cache/songmint/traits_eval``.

Usage::

    nice -n 19 .venv/bin/python benchmarks/traits_eval.py [--limit N] [--no-essentia] [--split dev|held-out|both]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.traits_accuracy import play_events  # noqa: E402
from music.audio import Audio, load, save  # noqa: E402

SR = 44_100
SOUNDFONTS = {
    "FluidR3": Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    "MuseScore": Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
}
CACHE = Path.home() / ".cache" / "songmint" / "traits_eval"
SET_VERSION = 1
"""Bumped whenever the clips this file builds change (invalidates the cache)."""
NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# --------------------------------------------------------------------------- material

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11), "natural": (0, 2, 3, 5, 7, 8, 10), "harmonic": (0, 2, 3, 5, 7, 8, 11),
    "melodic": (0, 2, 3, 5, 7, 9, 11), "dorian": (0, 2, 3, 5, 7, 9, 10), "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10), "lydian": (0, 2, 4, 6, 7, 9, 11),
    "penta-major": (0, 2, 4, 7, 9), "penta-minor": (0, 3, 5, 7, 10),
}
M, m, D7, DIM, P5 = (0, 4, 7), (0, 3, 7), (0, 4, 7, 10), (0, 3, 6), (0, 7, 12)
# family: (mode scored, scale of the melody, progressions as (root offset, chord) per bar)
FAMILIES: dict[str, tuple[str, str, list[list[tuple[int, tuple[int, ...]]]]]] = {
    "major-cadence": ("major", "major", [[(0, M), (5, M), (7, D7), (0, M)], [(0, M), (9, m), (2, m), (7, D7)]]),
    "major-no-V-I": ("major", "major", [[(0, M), (7, M), (9, m), (5, M)], [(0, M), (5, M), (0, M), (5, M)],
                                         [(0, M), (4, m), (5, M), (5, M)]]),
    "minor-natural": ("minor", "natural", [[(0, m), (8, M), (3, M), (10, M)], [(0, m), (5, m), (7, m), (0, m)],
                                            [(0, m), (10, M), (8, M), (10, M)]]),
    "minor-harmonic": ("minor", "harmonic", [[(0, m), (5, m), (7, D7), (0, m)], [(0, m), (8, M), (2, DIM), (7, D7)]]),
    "minor-melodic": ("minor", "melodic", [[(0, m), (5, M), (7, M), (0, m)], [(0, m), (2, m), (7, D7), (0, m)]]),
    "dorian": ("minor", "dorian", [[(0, m), (5, M), (0, m), (5, M)], [(0, m), (2, m), (0, m), (10, M)]]),
    "phrygian": ("minor", "phrygian", [[(0, m), (1, M), (0, m), (10, m)]]),
    "mixolydian": ("major", "mixolydian", [[(0, M), (10, M), (5, M), (0, M)], [(0, M), (10, M), (0, M), (7, m)]]),
    "lydian": ("major", "lydian", [[(0, M), (2, M), (0, M), (2, M)]]),
    "penta-major": ("major", "penta-major", [[(0, M), (0, M), (5, M), (0, M)], [(0, P5), (9, m), (0, P5), (5, M)]]),
    "penta-minor": ("minor", "penta-minor", [[(0, m), (10, M), (0, m), (5, m)], [(0, P5), (0, P5), (3, M), (0, P5)]]),
}
# arrangement: (beats per bar, lowest BPM, highest BPM)
ARRANGEMENTS = {
    "pop": (4, 90, 132), "slow-groove": (4, 60, 80), "double-time": (4, 160, 180), "swing": (4, 100, 160),
    "sparse": (4, 70, 120), "arpeggio": (4, 60, 84), "waltz": (3, 90, 160),
}
PROGRAMS = {  # (chords, melody, bass) GM programs to draw from
    "pop": ([0, 4, 5, 16], [80, 81, 73, 56], [33, 34, 38]),
    "slow-groove": ([4, 5, 11, 89], [73, 65, 11, 0], [33, 32, 38]),
    "double-time": ([89, 50, 90, 81], [80, 81, 62, 29], [38, 39, 34]),
    "swing": ([0, 4, 26, 11], [65, 66, 56, 57], [32, 32, 33]),
    "sparse": ([0, 1, 2, 4], [0, 1, 2, 4], [0, 1, 2, 4]),
    "arpeggio": ([0, 24, 46, 6], [48, 73, 40, 52], [32, 42, 33]),
    "waltz": ([0, 21, 24, 48], [40, 73, 71, 68], [32, 42, 58]),
}


@dataclass(frozen=True)
class Clip:
    """One clip of the set and its annotation."""

    name: str
    source: str  # "synthetic" or "chorale"
    family: str  # material family, or "chorale"
    arrangement: str
    tonic: int
    mode: str
    bpm: float
    meter: int
    soundfont: str
    seed: int
    score: str = ""  # music21 corpus path of a chorale

    @property
    def key(self) -> str:
        return f"{NAMES[self.tonic]} {self.mode}"

    @property
    def held_out(self) -> bool:
        return int(hashlib.sha1(self.name.encode()).hexdigest(), 16) % 3 == 0


def synthetic_clips(n: int = 264, *, train: bool = False) -> list[Clip]:
    """``n`` synthetic clips: families and arrangements cycled with coprime strides, so that every
    family meets every arrangement; tonic, tempo and SoundFont drawn from a seeded generator.

    ``train``: clips of the training split instead (:func:`train_clips`): other seeds, and
    instruments drawn from the whole General MIDI melodic range half of the time."""
    fams, arrs, sfs = list(FAMILIES), list(ARRANGEMENTS), list(SOUNDFONTS)
    clips = []
    for i in range(n):
        rng = np.random.default_rng([SET_VERSION, 31 if train else 7, i])
        fam, arr = fams[i % len(fams)], arrs[(i // len(fams) + i) % len(arrs)]
        mode = FAMILIES[fam][0]
        beats, lo, hi = ARRANGEMENTS[arr]
        tonic = int(rng.integers(12))
        bpm = float(round(float(rng.uniform(lo, hi)), 1))
        sf = sfs[int(rng.integers(len(sfs)))]
        label = f"{NAMES[tonic]}{'m' if mode == 'minor' else ''}"
        prefix, source, seed = ("train-", "train", TRAIN_SEED + i) if train else ("", "synthetic", i)
        clips.append(Clip(f"{prefix}{fam}-{arr}-{label}-{bpm:g}-{sf}-{i}", source, fam, arr, tonic, mode, bpm,
                          beats, sf, seed=seed))
    return clips


TRAIN_SEED = 10_000
"""Seeds of the training split's synthetic clips start here (the evaluated clips use 0–263)."""


def train_clips() -> list[Clip]:
    """The **training split**: clips the tempo scorer is fitted on (``benchmarks/tempo_fit.py``) and
    that are never scored here — 264 synthetic clips with other seeds and wider instruments, and
    the Bach chorales after the ones :func:`chorale_clips` evaluates (other chorales, not other
    renderings of the same). Fitting on these and not on the development split keeps the
    development score out of sample, like the held-out one."""
    return synthetic_clips(train=True) + chorale_clips(train=True)


Event = tuple[float, int, int, int, float]  # (start s, channel, note, velocity, duration s)


def _near(pc: int, low: int) -> int:
    return low + ((pc - low) % 12)


def synthetic_events(c: Clip) -> tuple[list[Event], dict[int, int], float]:
    """Note events, channel → GM program and the length (s) of a synthetic clip."""
    rng = np.random.default_rng([SET_VERSION, 11, c.seed])
    _, scale_name, progs = FAMILIES[c.family]
    prog = progs[int(rng.integers(len(progs)))]
    scale = SCALES[scale_name]
    beat = 60.0 / c.bpm
    bar = c.meter * beat
    bars = int(np.clip(round(22.0 / bar / len(prog)) * len(prog), len(prog), 64))
    while bars * bar > 30.0 and bars > len(prog):
        bars -= len(prog)
    pool = PROGRAMS[c.arrangement]
    programs = {0: pool[0][int(rng.integers(4))], 1: pool[1][int(rng.integers(4))],
                2: pool[2][int(rng.integers(len(pool[2])))]}
    if c.source == "train" and rng.random() < 0.5:  # any melodic instrument, any bass
        programs = {0: int(rng.integers(96)), 1: int(rng.integers(96)), 2: int(rng.integers(32, 40))}
    swing = c.arrangement == "swing"

    def vel(base: int) -> int:
        return int(np.clip(base + rng.integers(-10, 11), 1, 127))

    def sw(pos: float) -> float:  # position in beats, eighths swung 2:1
        if swing and abs(pos % 1 - 0.5) < 1e-9:
            return pos - 0.5 + 2 / 3
        return pos

    ev: list[Event] = []
    # melody: a seeded walk on the scale, octave 5, in the arrangement's rhythm
    mel_notes = sorted({(c.tonic + s) % 12 + 12 * o for s in scale for o in (5, 6)})
    mel_notes = [n for n in mel_notes if 62 <= n <= 86]
    mi = int(rng.integers(len(mel_notes)))
    step = {"pop": 0.5, "slow-groove": 0.5, "double-time": 1.0, "swing": 0.5, "sparse": 1.0,
            "arpeggio": 1.0, "waltz": 1.0}[c.arrangement]
    for b in range(bars):
        root_off, chord = prog[b % len(prog)]
        root = (c.tonic + root_off) % 12
        t0 = b * bar
        tones = [_near(root, 52) + iv for iv in chord]
        bass = _near(root, 36)
        a = c.arrangement
        if a == "pop":
            ev += [(t0 + k * beat, 0, n, vel(64), beat * 0.9) for k in range(c.meter) for n in tones]
            ev += [(t0 + k * beat / 2, 2, bass, vel(88), beat * 0.45) for k in range(2 * c.meter)]
        elif a == "slow-groove":
            ev += [(t0, 0, n, vel(58), bar * 0.97) for n in tones]
            ev += [(t0, 2, bass, vel(92), 1.4 * beat), (t0 + 2.5 * beat, 2, bass, vel(80), 0.4 * beat),
                   (t0 + 3 * beat, 2, bass + 7 if bass + 7 < 52 else bass - 5, vel(80), 0.9 * beat)]
        elif a == "double-time":
            ev += [(t0, 0, n, vel(56), bar * 0.97) for n in tones]
            ev += [(t0 + k * beat, 2, bass, vel(95), beat * 0.8) for k in (0, 1.5, 2, 3)]
        elif a == "swing":
            ev += [(t0 + sw(k), 0, n, vel(60), beat * 0.4) for k in (1.0, 2.5, 3.0) for n in tones]
            walk = [bass, _near((root + 4 - (1 if chord == m else 0)) % 12, 36), _near((root + 7) % 12, 36),
                    bass + (2 if rng.random() < 0.5 else -1)]
            ev += [(t0 + k * beat, 2, walk[k], vel(85), beat * 0.9) for k in range(4)]
        elif a == "sparse":
            ev += [(t0 + k * beat, 0, n, vel(55), 2 * beat * 0.95) for k in (0, 2) for n in tones]
            ev += [(t0, 2, bass, vel(70), bar * 0.95)]
        elif a == "arpeggio":
            arp = [tones[0], tones[1], tones[2 % len(tones)], tones[0] + 12] * 2
            ev += [(t0 + k * beat / 2, 0, n, vel(60), beat * 0.95) for k, n in enumerate(arp)]
            ev += [(t0, 2, bass, vel(78), bar * 0.95)]
        elif a == "waltz":
            ev += [(t0, 2, bass, vel(92), beat * 0.9)]
            ev += [(t0 + k * beat, 0, n, vel(58), beat * 0.6) for k in (1, 2) for n in tones]
        # melody: chord tones on strong positions, scale steps elsewhere
        pos = 0.0
        while pos < c.meter - 1e-9:
            if rng.random() < (0.25 if a == "sparse" else 0.15):
                pos += step
                continue
            if pos % 2 == 0:
                cands = [k for k, n in enumerate(mel_notes) if n % 12 in {t % 12 for t in tones}]
                mi = min(cands, key=lambda k: abs(k - mi) + rng.random()) if cands else mi
            else:
                mi = int(np.clip(mi + rng.choice([-2, -1, -1, 1, 1, 2]), 0, len(mel_notes) - 1))
            dur = step * (2 if a == "sparse" and rng.random() < 0.4 else 1)
            ev.append((t0 + sw(pos) * beat, 1, mel_notes[mi], vel(72), dur * beat * 0.9))
            pos += dur
    if c.arrangement in ("pop", "slow-groove", "double-time", "swing"):
        ev += _drums(c.arrangement, bars, beat, vel, sw)
    return sorted(ev), programs, bars * bar + 1.0


def _drums(a: str, bars: int, beat: float, vel, sw) -> list[Event]:  # type: ignore[no-untyped-def]
    KICK, SNARE, HAT, PEDAL, RIDE = 36, 38, 42, 44, 51
    hits: list[tuple[float, int, int]] = []
    if a == "pop":
        hits += [(0, KICK, 105), (2, KICK, 100), (2.5, KICK, 80), (1, SNARE, 100), (3, SNARE, 100)]
        hits += [(k / 2, HAT, 62 if k % 2 else 72) for k in range(8)]
    elif a == "slow-groove":  # sixteenth hats over a slow backbeat: double tempo is tempting
        hits += [(0, KICK, 108), (1.75, KICK, 80), (2.5, KICK, 95), (1, SNARE, 104), (3, SNARE, 104)]
        hits += [(k / 4, HAT, 70 if k % 2 == 0 else 52) for k in range(16)]
    elif a == "double-time":  # drum & bass: kick 1 and 3&, snare 2 and 4, eighth hats
        hits += [(0, KICK, 110), (2.5, KICK, 100), (1, SNARE, 108), (3, SNARE, 108)]
        hits += [(k / 2, HAT, 66 if k % 2 else 74) for k in range(8)]
    elif a == "swing":  # ride "ding, ding-a ding", pedal hat on 2 and 4, a soft kick feathering
        hits += [(0, RIDE, 80), (1, RIDE, 84), (1.5, RIDE, 64), (2, RIDE, 80), (3, RIDE, 84), (3.5, RIDE, 64)]
        hits += [(1, PEDAL, 70), (3, PEDAL, 70)] + [(k, KICK, 45) for k in range(4)]
    ev: list[Event] = []
    for b in range(bars):
        t0 = b * 4 * beat
        ev += [(t0 + sw(k) * beat, 9, n, vel(v), 0.1) for k, n, v in hits]
    return ev


# --------------------------------------------------------------------------- chorales


def _chorale_rows(train: bool, limit: int) -> list[dict]:
    """The first ``limit`` chorales of the corpus with a major/minor ending (``train``: the
    ``limit`` after the 84 evaluated ones), cached."""
    index = CACHE / f"chorales-{'train-' if train else ''}v{SET_VERSION}.json"
    if index.exists():
        return json.loads(index.read_text())
    rows: list[dict] = []
    skip = 84 if train else 0
    from music21 import corpus

    paths = sorted(str(p) for p in corpus.getComposer("bach") if str(p).endswith((".mxl", ".xml", ".krn")))
    for path in paths:
        if len(rows) >= skip + limit:
            break
        row = _chorale_truth(path)
        if row is not None:
            rows.append(row)
    rows = rows[skip:]
    CACHE.mkdir(parents=True, exist_ok=True)
    index.write_text(json.dumps(rows))
    return rows


def chorale_clips(limit: int = 84, *, train: bool = False) -> list[Clip]:
    """Bach chorales from the music21 corpus with a major/minor ending (see the module notes);
    ``train``: up to ``limit`` of the chorales after them, for the training split."""
    rows = _chorale_rows(train, 200 if train else limit)
    sfs = list(SOUNDFONTS)
    clips = []
    source, prefix = ("train-chorale", "train-") if train else ("chorale", "")
    for i, row in enumerate(rows[:200 if train else limit]):
        rng = np.random.default_rng([SET_VERSION, 43 if train else 13, i])
        bpm = float(round(float(rng.uniform(66, 100)), 1))
        sf = sfs[i % 2]
        label = f"{NAMES[row['tonic']]}{'m' if row['mode'] == 'minor' else ''}"
        clips.append(Clip(f"{prefix}chorale-{Path(row['path']).stem}-{label}-{bpm:g}-{sf}", source, "chorale",
                          "chorale", row["tonic"], row["mode"], bpm, row["meter"], sf,
                          seed=(3000 if train else 1000) + i, score=row["path"]))
    return clips


def _chorale_truth(path: str) -> dict | None:
    from music21 import converter, key, meter

    try:
        s = converter.parse(path)
    except Exception:
        return None
    parts = list(s.parts)
    if len(parts) < 4:
        return None
    ks = s.flatten().getElementsByClass(key.KeySignature)
    ts = s.flatten().getElementsByClass(meter.TimeSignature)
    if not ks or not ts or ts[0].denominator != 4 or ts[0].numerator not in (3, 4):
        return None
    notes = list(parts[-1].flatten().notes)
    if not notes or s.highestTime > 120:
        return None
    final = notes[-1].pitches[0].pitchClass
    major = ks[0].asKey("major").tonic.pitchClass
    if final == major:
        mode = "major"
    elif final in ((major + 9) % 12, (major + 2) % 12):  # relative minor, or Dorian-notated minor
        mode = "minor"
    else:
        return None
    events = []
    for pi, part in enumerate(parts[:4]):
        for n in part.flatten().notes:
            for p in n.pitches:
                events.append((float(n.offset), pi, int(p.midi), float(n.quarterLength)))
    return {"path": path, "tonic": final, "mode": mode, "meter": int(ts[0].numerator), "events": events}


def chorale_events(c: Clip) -> tuple[list[Event], dict[int, int], float]:
    row = next(r for r in _chorale_rows(c.source == "train-chorale", 0) if r["path"] == c.score)
    rng = np.random.default_rng([SET_VERSION, 17, c.seed])
    ensembles = [(19, 19, 19, 19), (48, 48, 42, 42), (52, 52, 52, 52), (73, 71, 70, 58), (0, 0, 0, 0),
                 (40, 41, 42, 43)]
    ens = ensembles[int(rng.integers(len(ensembles)))]
    beat = 60.0 / c.bpm
    ev = [(o * beat, ch, note, int(np.clip(80 + rng.integers(-8, 9), 1, 127)), ql * beat * 0.95)
          for o, ch, note, ql in row["events"]]
    length = max(t + d for t, _, _, _, d in ev) + 1.0
    if length > 31.0:  # the first ~28 s
        ev = [e for e in ev if e[0] < 28.0]
        length = max(t + d for t, _, _, _, d in ev) + 1.0
    return sorted(ev), dict(enumerate(ens)), length


# --------------------------------------------------------------------------- rendering

_SYNTHS: dict[str, tuple[object, int]] = {}


def _synth(sf: str):  # type: ignore[no-untyped-def]
    from music.soundfont import import_pyfluidsynth

    if sf not in _SYNTHS:
        fluidsynth = import_pyfluidsynth()
        fs = fluidsynth.Synth(gain=0.3, samplerate=float(SR))
        _SYNTHS[sf] = (fs, fs.sfload(str(SOUNDFONTS[sf])))
    return _SYNTHS[sf]


def render(c: Clip) -> Audio:
    """Render (or load from the cache) a clip: stereo 44.1 kHz, peak ≤ 0.98."""
    path = CACHE / f"v{SET_VERSION}" / f"{hashlib.sha1(json.dumps(asdict(c)).encode()).hexdigest()[:16]}.flac"
    if path.exists():
        return load(path)
    if c.arrangement == "noise":
        path.parent.mkdir(parents=True, exist_ok=True)
        save(noise_clip(c), path)
        return load(path)
    events = {"chorale": chorale_events, "train-chorale": chorale_events,
              "no-pulse": no_pulse_events}.get(c.source, synthetic_events)
    ev, programs, length = events(c)
    return render_events(ev, programs, length, c.soundfont, path)


def render_events(ev: list[Event], programs: dict[int, int], length: float, soundfont: str, path: Path) -> Audio:
    """Render note events through FluidSynth with one of ``SOUNDFONTS`` into ``path`` (FLAC), and load it."""
    fs, sfid = _synth(soundfont)
    fs.system_reset()
    for ch, prog in programs.items():
        fs.program_select(ch, sfid, 0, prog)
    fs.program_select(9, sfid, 128, 0)
    x = play_events(fs, ev, length)
    for ch in range(16):
        fs.cc(ch, 123, 0)  # all notes off
    fs.get_samples(3 * SR)  # let the reverb tail die before the next clip
    x *= 0.98 / max(float(np.abs(x).max()), 1e-9) if np.abs(x).max() > 0.98 else 1.0
    a = Audio(np.ascontiguousarray(x), SR)
    path.parent.mkdir(parents=True, exist_ok=True)
    save(a, path)
    return load(path)


# --------------------------------------------------------------------------- scoring


def acc1(ref: float, est: float | None, tol: float = 0.04) -> float:
    return float(est is not None and est > 0 and abs(est / ref - 1) <= tol)


def acc2(ref: float, est: float | None) -> float:
    return float(est is not None and est > 0 and any(acc1(ref, est * k) for k in (1, 2, 3, 0.5, 1 / 3)))


def key_score(ref: str, est: str | None) -> float:
    import mir_eval

    return float(mir_eval.key.weighted_score(ref, est)) if est else 0.0


def _sharp(key: str) -> str:
    flats = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#", "Cb": "B", "Fb": "E"}
    tonic, mode = key.split()
    return f"{flats.get(tonic, tonic)} {mode}"


def essentia_answers(c: Clip, a: Audio) -> dict | None:
    """Essentia's tempo and keys (three profiles), cached per clip."""
    path = CACHE / f"v{SET_VERSION}" / "essentia" / f"{hashlib.sha1(c.name.encode()).hexdigest()[:16]}.json"
    if path.exists():
        return json.loads(path.read_text())
    try:
        import essentia
        import essentia.standard as es  # type: ignore[import-not-found]
    except ImportError:
        return None
    essentia.log.infoActive = False
    y = a.mono().astype(np.float32)
    out = {"tempo": float(es.RhythmExtractor2013(method="multifeature")(y)[0])}
    for prof in ("edma", "temperley", "bgate"):
        k, scale, _ = es.KeyExtractor(profileType=prof)(y)
        out[f"key_{prof}"] = _sharp(f"{k} {scale}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out))
    return out


def all_clips() -> list[Clip]:
    """The clips with a pulse (tempo and key annotated)."""
    return synthetic_clips() + chorale_clips()


NO_PULSE_KINDS = ("rubato", "pad", "scatter", "noise")


def no_pulse_clips(n: int = 48) -> list[Clip]:
    """``n`` clips without a pulse (``bpm`` 0): the kinds of ``NO_PULSE_KINDS`` in turn."""
    sfs = list(SOUNDFONTS)
    clips = []
    for i in range(n):
        rng = np.random.default_rng([SET_VERSION, 19, i])
        kind, tonic, sf = NO_PULSE_KINDS[i % len(NO_PULSE_KINDS)], int(rng.integers(12)), sfs[(i // 4) % 2]
        clips.append(Clip(f"no-pulse-{kind}-{NAMES[tonic]}-{sf}-{i}", "no-pulse", "no-pulse", kind, tonic,
                          "major", 0.0, 0, sf, seed=2000 + i))
    return clips


def no_pulse_events(c: Clip) -> tuple[list[Event], dict[int, int], float]:
    """Note events of a clip without a pulse (see the module notes), about 20 s long."""
    rng = np.random.default_rng([SET_VERSION, 23, c.seed])
    length, scale = 20.0, SCALES["major"]
    pitches = [c.tonic + 48 + s + 12 * o for o in range(3) for s in scale]
    ev: list[Event] = []
    if c.arrangement == "rubato":  # onsets at log-normal intervals: no two alike, no isochrony
        programs = {0: int(rng.choice([0, 4, 24, 46])), 1: int(rng.choice([0, 40, 73, 68]))}
        t = 0.2
        while t < length - 1.0:
            gap = float(np.clip(rng.lognormal(np.log(0.55), 0.6), 0.12, 2.5))
            if rng.random() < 0.3:
                root = int(rng.integers(7))
                ev += [(t, 0, pitches[root + k], int(rng.integers(50, 80)), gap * 0.95) for k in (0, 2, 4)]
            ev.append((t, 1, pitches[7 + int(rng.integers(14))], int(rng.integers(60, 95)), gap * 0.9))
            t += gap
    elif c.arrangement == "pad":  # chords held 1.5-6 s, changing at random times
        programs = {0: int(rng.choice([48, 52, 89, 19, 91]))}
        t = 0.0
        while t < length - 0.5:
            hold = float(rng.uniform(1.5, 6.0))
            root = int(rng.integers(7))
            ev += [(t, 0, pitches[root + k], int(rng.integers(55, 80)), hold) for k in (0, 2, 4)]
            t += hold
    else:  # scatter: percussion at Poisson times, 1-6 hits a second
        programs = {}
        rate = float(rng.uniform(1.0, 6.0))
        times = np.cumsum(rng.exponential(1.0 / rate, int(rate * length * 2)))
        kit = [36, 38, 42, 45, 47, 49, 51, 56, 75, 76]
        ev += [(float(t), 9, int(rng.choice(kit)), int(rng.integers(50, 110)), 0.1) for t in times if t < length - 0.5]
    return sorted(ev), programs, length


def noise_clip(c: Clip) -> Audio:
    """Pink-ish noise whose level swells and falls at random (about 20 s)."""
    rng = np.random.default_rng([SET_VERSION, 29, c.seed])
    n = int(20.0 * SR)
    spec = np.fft.rfft(rng.standard_normal((2, n)), axis=1)
    spec /= np.sqrt(np.maximum(np.fft.rfftfreq(n, 1 / SR), 20.0))
    x = np.fft.irfft(spec, n, axis=1)
    knots = rng.uniform(0.1, 1.0, int(rng.integers(4, 12)))
    env = np.interp(np.linspace(0, knots.size - 1, n), np.arange(knots.size), knots)
    x *= env / np.abs(x).max() * 0.5
    return Audio(np.ascontiguousarray(x.astype(np.float32)), SR)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, help="only the first N clips (quick look)")
    ap.add_argument("--split", choices=("dev", "held-out", "both"), default="both")
    ap.add_argument("--no-essentia", action="store_true")
    ap.add_argument("--show-held-out-misses", action="store_true")
    ap.add_argument("--json", type=Path, help="write every clip's answers here")
    args = ap.parse_args(argv)

    from music.traits import extract

    clips = all_clips() + no_pulse_clips()
    if args.split != "both":
        clips = [c for c in clips if c.held_out == (args.split == "held-out")]
    if args.limit:
        clips = clips[: args.limit]
    rows = []
    t_ext = audio_s = 0.0
    for c in clips:
        a = render(c)
        audio_s += a.duration
        t = time.process_time()
        tr = extract(a)
        t_ext += time.process_time() - t
        row = {"clip": c, "tempo": tr.tempo_bpm, "key": tr.key,
               "tempo_alt": getattr(tr, "tempo_alt_bpm", None), "key_alt": getattr(tr, "key_alt", None)}
        if not args.no_essentia:
            ess = essentia_answers(c, a)
            if ess:
                row.update({f"ess_{k}": v for k, v in ess.items()})
        rows.append(row)
    print(f"{len(rows)} clips, {audio_s / 60:.1f} min of audio; songmint extract {t_ext:.1f} CPU s")
    free = [r for r in rows if r["clip"].source == "no-pulse"]
    rows = [r for r in rows if r["clip"].source != "no-pulse"]

    def score(sel: list[dict], tkey: str, kkey: str) -> str:
        a1 = np.mean([acc1(r["clip"].bpm, r[tkey]) for r in sel])
        a2 = np.mean([acc2(r["clip"].bpm, r[tkey]) for r in sel])
        p1 = np.mean([acc1(r["clip"].bpm, r[tkey], 0.01) for r in sel])
        ks = [key_score(r["clip"].key, r[kkey]) for r in sel]
        return (f"tempo Acc1 {a1:.3f} Acc2 {a2:.3f} ±1% {p1:.3f} | key weighted {np.mean(ks):.3f} "
                f"exact {np.mean([k == 1 for k in ks]):.3f}")

    peers = [("songmint", "tempo", "key")]
    if rows and "ess_tempo" in rows[0]:
        peers += [(f"essentia {p}", "ess_tempo", f"ess_key_{p}") for p in ("edma", "temperley", "bgate")]
    for split in ("dev", "held-out"):
        sel = [r for r in rows if r["clip"].held_out == (split == "held-out")]
        if not sel:
            continue
        print(f"\n== {split} split (n={len(sel)})")
        for who, tk, kk in peers:
            print(f"  {who:<20} {score(sel, tk, kk)}")
        groups: dict[str, list[dict]] = defaultdict(list)
        for r in sel:
            groups[f"family {r['clip'].family}"].append(r)
            groups[f"arrangement {r['clip'].arrangement}"].append(r)
            groups[f"soundfont {r['clip'].soundfont}"].append(r)
        for g in sorted(groups):
            print(f"    {g:<30} n={len(groups[g]):<3} {score(groups[g], 'tempo', 'key')}")
        sel_free = [r for r in free if r["clip"].held_out == (split == "held-out")]
        if sel_free:
            given = [r for r in sel_free if r["tempo"] is not None]
            kinds = ", ".join(f"{k} {sum(r['clip'].arrangement == k for r in given)}/"
                              f"{sum(r['clip'].arrangement == k for r in sel_free)}" for k in NO_PULSE_KINDS)
            print(f"    no pulse: a tempo given on {len(given)}/{len(sel_free)} ({kinds})")
            if "ess_tempo" in rows[0]:
                print(f"    no pulse, essentia: a tempo on {sum(bool(r.get('ess_tempo')) for r in sel_free)}/{len(sel_free)}")
        unsure_t = sum(r["tempo_alt"] is not None for r in sel)
        unsure_k = sum(r["key_alt"] is not None for r in sel)
        print(f"    runner-up shown: tempo {unsure_t}/{len(sel)}, key {unsure_k}/{len(sel)}")
        if split == "dev" or args.show_held_out_misses:
            for r in sel:
                c = r["clip"]
                t_ok, k_ok = acc1(c.bpm, r["tempo"]), key_score(c.key, r["key"]) == 1
                if not (t_ok and k_ok):
                    print(f"    miss {c.name:<58} tempo {c.bpm:6.1f} → {r['tempo'] or 0:6.1f}"
                          f" (alt {r['tempo_alt'] or '-'})  key {c.key:>9} → {r['key']:<9} (alt {r['key_alt'] or '-'})")
    if args.json:
        args.json.write_text(json.dumps([{**{k: v for k, v in r.items() if k != "clip"}, **asdict(r["clip"]),
                                          "held_out": r["clip"].held_out} for r in rows + free], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
