"""Accuracy of tempo and key estimation on a rendered ground-truth set.

Renders its own clips through FluidSynth with real SoundFont instruments (stereo, via
``fluidsynth.Synth.get_samples``), then scores ``music.traits.extract`` with mir_eval:

- tempo: Acc1 (within 4 % of the annotated quarter-note tempo) and Acc2 (also ×2, ×3,
  ½, ⅓), both through ``mir_eval.tempo.detection`` with ``tol=0.04``;
- key: the MIREX weighted score (``mir_eval.key.weighted_score``: 1 exact, 0.5 fifth,
  0.3 relative, 0.2 parallel);
- time signature: share of clips whose 3/4 or 4/4 is right.

The set: every one of the 24 keys in each of two SoundFonts (48 clips), seven
arrangements (pop, ballad, waltz in 3/4, house, rock, folk, soul with eighth-note hats at
64–96 BPM), tempos 60–180 BPM, and
chord progressions with real cadences (V7 with the leading tone, raised in minor). Two
edge-case groups are scored separately: drums only (tempo) and sustained pads only (key).

A naive librosa baseline (``librosa.feature.tempo`` at hop 512, Krumhansl–Schmuckler
on ``chroma_stft``) and Essentia's ``RhythmExtractor2013`` / ``KeyExtractor`` (only
when ``essentia`` happens to be installed; it is AGPL and never a dependency) are scored
side by side on the same clips.

SoundFonts: FluidR3_GM (Debian ``fluid-soundfont-gm``, MIT) and TimGM6mb (GPL-2, taken at
benchmark time from inside the ``pretty_midi`` wheel on PyPI and cached; it is a data file
for this benchmark only, never shipped or imported by songmint).

With ``--held-out``, tempo is also scored on clips kept out of every choice of the tempo
method's parameters: the same arrangements at other tempos, keys and seeds, and full
takes of songmint's composer engine (nine genres, two tempos each).

Usage::

    .venv/bin/python benchmarks/traits_accuracy.py [--quick] [--save-dir DIR] [--no-baseline] [--held-out]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from music.audio import Audio, save  # noqa: E402
from music.traits.model import PITCH_CLASSES  # noqa: E402

SR = 44_100
FLUID_R3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
PRETTY_MIDI_PIN = "pretty_midi==0.2.11.post0"

# --------------------------------------------------------------------------- harmony

MAJ, MIN, DOM7 = (0, 4, 7), (0, 3, 7), (0, 4, 7, 10)
# (scale offset of the chord root, chord intervals); one chord per bar.
PROGRESSIONS = {
    "major": [
        [(0, MAJ), (5, MAJ), (7, DOM7), (0, MAJ), (9, MIN), (2, MIN), (7, DOM7), (0, MAJ)],
        [(0, MAJ), (9, MIN), (5, MAJ), (7, DOM7), (0, MAJ), (5, MAJ), (7, DOM7), (0, MAJ)],
    ],
    "minor": [
        [(0, MIN), (5, MIN), (7, DOM7), (0, MIN), (8, MAJ), (5, MIN), (7, DOM7), (0, MIN)],
        [(0, MIN), (8, MAJ), (5, MIN), (7, DOM7), (0, MIN), (5, MIN), (7, DOM7), (0, MIN)],
    ],
}

GENRES = {  # name: (beats per bar, lowest BPM, highest BPM)
    "ballad": (4, 60, 84),
    "waltz": (3, 90, 180),
    "pop": (4, 88, 128),
    "house": (4, 118, 130),
    "rock": (4, 130, 180),
    "folk": (4, 92, 140),
    "soul": (4, 64, 96),  # slow groove with eighth-note hats: the classic double-tempo trap
}


@dataclass(frozen=True)
class Clip:
    name: str
    genre: str
    tonic: int
    mode: str
    bpm: float
    soundfont: str
    seed: int
    parts: str = "full"  # "full", "drums", "pad"

    @property
    def key(self) -> str:
        return f"{PITCH_CLASSES[self.tonic]} {self.mode}"

    @property
    def meter(self) -> int:
        return GENRES[self.genre][0]


def clip_set(soundfonts: dict[str, Path], *, quick: bool = False) -> list[Clip]:
    """24 keys × each SoundFont, plus drums-only and pad-only edge cases."""
    clips: list[Clip] = []
    genres = list(GENRES)
    i = 0
    for sf_name in soundfonts:
        for mode in ("major", "minor"):
            for tonic in range(12):
                g = genres[i % len(genres)]
                _, lo, hi = GENRES[g]
                frac = (i * 0.6180339887) % 1.0
                bpm = float(round(lo + (hi - lo) * frac))
                label = f"{PITCH_CLASSES[tonic]}{'m' if mode == 'minor' else ''}"
                clips.append(Clip(f"{g}-{label}-{bpm:.0f}-{sf_name}", g, tonic, mode, bpm, sf_name, seed=i))
                i += 1
    sf_names = list(soundfonts)
    for j, (g, bpm) in enumerate([("pop", 96), ("house", 124), ("rock", 168), ("pop", 72), ("rock", 140),
                                  ("house", 128)]):
        clips.append(Clip(f"drums-{g}-{bpm}", g, 0, "major", float(bpm), sf_names[j % len(sf_names)],
                          seed=100 + j, parts="drums"))
    for j, (tonic, mode) in enumerate([(2, "major"), (9, "minor"), (10, "major"), (4, "minor"), (7, "major"),
                                       (1, "minor")]):
        label = f"{PITCH_CLASSES[tonic]}{'m' if mode == 'minor' else ''}"
        clips.append(Clip(f"pad-{label}", "ballad", tonic, mode, 70.0, sf_names[j % len(sf_names)],
                          seed=200 + j, parts="pad"))
    if quick:
        clips = clips[::4] + [c for c in clips if c.parts != "full"][:2]
    return clips


def held_out_set(soundfonts: dict[str, Path]) -> list[Clip]:
    """The same seven arrangements at other tempos, keys and seeds than :func:`clip_set`.

    Two tempos per arrangement and SoundFont (35 % and 85 % of the arrangement's range, +2 BPM
    with the second SoundFont), so 28 clips with two SoundFonts. Rendered once, after the tempo
    method was fixed, and kept out of every choice of its parameters.
    """
    clips = []
    i = 0
    for g, (_, lo, hi) in GENRES.items():
        for k, sf_name in enumerate(soundfonts):
            for frac in (0.35, 0.85):
                bpm = float(round(lo + (hi - lo) * frac)) + 2 * k
                tonic, mode = (i * 5 + 1) % 12, ("minor", "major")[i % 2]
                label = f"{PITCH_CLASSES[tonic]}{'m' if mode == 'minor' else ''}"
                clips.append(Clip(f"held-{g}-{label}-{bpm:.0f}-{sf_name}", g, tonic, mode, bpm, sf_name,
                                  seed=1300 + i))
                i += 1
    return clips


def composer_takes() -> list[tuple[str, float, Audio]]:
    """Takes of songmint's own composer engine (every genre, two tempos, 90 s and 45 s) with the
    tempo they were composed at: full arrangements with intros, breakdowns and fills."""
    from music.engines import Request, get_engine
    from music.engines.composer.genres import GENRES as COMPOSER_GENRES

    engine = get_engine("composer")
    takes = []
    for name, genre in COMPOSER_GENRES.items():
        lo, hi = genre.bpm_range
        plan = ((round(lo + 0.15 * (hi - lo)), 21, 90), (round(lo + 0.6 * (hi - lo)), 22, 45))
        for bpm, seed, seconds in plan:
            take = engine.generate(Request(seed=seed, seconds=seconds,
                                           params={"genre": name, "bpm": bpm, "sample_rate": 22050}))
            takes.append((f"composer-{name}-{bpm}-s{seed}", float(bpm), take.mix))
    return takes


# --------------------------------------------------------------------------- events

Event = tuple[float, int, int, int, float]  # (start s, channel, note, velocity, duration s)


def _voice(root_pc: int, intervals: tuple[int, ...], low: int) -> list[int]:
    root = low + ((root_pc - low) % 12)
    return [root + iv for iv in intervals]


def events(clip: Clip) -> tuple[list[Event], dict[int, int], float]:
    """Note events, channel → GM program, and the clip length in seconds."""
    rng = np.random.default_rng(clip.seed)
    beats_per_bar = clip.meter
    beat = 60.0 / clip.bpm
    prog = PROGRESSIONS[clip.mode][clip.seed % 2]
    bar_s = beats_per_bar * beat
    repeats = max(1, round(24.0 / (len(prog) * bar_s)))
    chords = prog * repeats
    ev: list[Event] = []

    def vel(base: int) -> int:
        return int(np.clip(base + rng.integers(-8, 9), 1, 127))

    g = clip.genre
    programs = {
        "ballad": {0: 0, 1: 48, 2: 32}, "waltz": {0: 0, 1: 21, 2: 32}, "pop": {0: 4, 1: 0, 2: 33},
        "house": {0: 89, 1: 81, 2: 38}, "rock": {0: 17, 1: 30, 2: 34}, "folk": {0: 24, 1: 25, 2: 32},
        "soul": {0: 4, 1: 61, 2: 33},
    }[g]
    if clip.parts == "pad":
        programs = {0: [89, 48, 52, 91, 95, 50][clip.seed % 6]}
    for b, (off, iv) in enumerate(chords):
        t0 = b * bar_s
        root_pc = (clip.tonic + off) % 12
        notes = _voice(root_pc, iv, 55)
        bass = _voice(root_pc, (0,), 36)[0]
        if clip.parts == "pad":
            ev += [(t0, 0, n, vel(70), bar_s * 0.98) for n in [*notes, bass + 12]]
            continue
        if clip.parts == "drums":
            continue
        if g == "ballad":
            arp = [notes[0], notes[1], notes[2], notes[0] + 12] * 2
            ev += [(t0 + k * beat / 2, 0, n, vel(62), beat * 0.9) for k, n in enumerate(arp)]
            ev += [(t0, 1, n + 12, vel(45), bar_s * 0.98) for n in notes]
            ev += [(t0, 2, bass, vel(80), bar_s * 0.95)]
        elif g == "waltz":
            ev += [(t0, 2, bass, vel(92), beat * 0.9)]
            ev += [(t0 + k * beat, 0, n, vel(60), beat * 0.6) for k in (1, 2) for n in notes]
            ev += [(t0, 1, n + 12, vel(50), bar_s * 0.95) for n in notes]
        elif g == "pop":
            ev += [(t0 + k * beat, 0, n, vel(70), beat * 0.8) for k in range(4) for n in notes]
            ev += [(t0 + k * 2 * beat, 1, n + 12, vel(50), 2 * beat * 0.9) for k in range(2) for n in notes]
            ev += [(t0 + k * beat, 2, bass, vel(90), beat * 0.85) for k in range(4)]
        elif g == "house":
            ev += [(t0, 0, n, vel(55), bar_s * 0.98) for n in notes]
            ev += [(t0 + (k + 0.5) * beat, 1, n + 12, vel(60), beat * 0.3) for k in range(4) for n in notes]
            ev += [(t0 + (k + 0.5) * beat, 2, bass, vel(95), beat * 0.4) for k in range(4)]
        elif g == "rock":
            ev += [(t0 + k * 2 * beat, 0, n, vel(60), 2 * beat * 0.95) for k in range(2) for n in notes]
            ev += [(t0 + k * beat / 2, 1, n, vel(75), beat * 0.45) for k in range(8)
                   for n in (notes[0] - 12, notes[0] - 5)]
            ev += [(t0 + k * beat / 2, 2, bass, vel(95), beat * 0.45) for k in range(8)]
        elif g == "folk":
            strum = [notes[0] - 12, *notes, notes[0] + 12]
            ev += [(t0 + k * beat + 0.012 * j, 0, n, vel(68), beat * 0.9)
                   for k in range(4) for j, n in enumerate(strum)]
            ev += [(t0 + k * beat, 2, bass if k % 2 == 0 else bass + 7, vel(85), beat * 0.9)
                   for k in range(0, 4, 2)]
        elif g == "soul":
            ev += [(t0 + k * beat, 0, n, vel(64), 1.5 * beat) for k in (0, 1.5, 2, 3.5) for n in notes]
            ev += [(t0 + k * beat, 2, bass + (12 if k == 2.75 else 0), vel(88), 0.45 * beat)
                   for k in (0, 0.75, 2, 2.75)]
            if b % 2 == 1:
                ev += [(t0 + 3.5 * beat, 1, notes[0] + 12, vel(70), 0.4 * beat)]
    n_bars = len(chords)
    if clip.parts != "pad" and g in ("ballad", "pop", "house", "rock", "soul"):
        ev += _drums(g, n_bars, beat, vel)
    length = n_bars * bar_s + 1.5
    return sorted(ev), programs, length


def _drums(g: str, bars: int, beat: float, vel) -> list[Event]:  # type: ignore[no-untyped-def]
    KICK, SNARE, STICK, CLAP, HAT, OHAT, CRASH = 36, 38, 37, 39, 42, 46, 49
    ev: list[Event] = []
    for b in range(bars):
        t0 = b * 4 * beat
        hits: list[tuple[float, int, int]] = []
        if g == "house":
            hits += [(k, KICK, 110) for k in range(4)] + [(k, CLAP, 90) for k in (1, 3)]
            hits += [(k + 0.5, OHAT, 70) for k in range(4)] + [(k, HAT, 50) for k in range(4)]
        elif g == "ballad":
            hits += [(0, KICK, 95), (2, KICK, 85), (1, STICK, 80), (3, STICK, 80)]
            hits += [(k, HAT, 55) for k in range(4)]
        elif g == "soul":
            hits += [(0, KICK, 105), (1.5, KICK, 85), (2, KICK, 95), (1, SNARE, 95), (3, SNARE, 100)]
            hits += [(k / 2, HAT, 75 if k % 2 == 0 else 60) for k in range(8)]
        else:  # pop, rock
            hits += [(0, KICK, 105), (2, KICK, 100), (1, SNARE, 100), (3, SNARE, 100)]
            hits += [(k / 2, HAT, 60 + (10 if k % 2 == 0 else 0)) for k in range(8)]
            if g == "rock":
                hits += [(2.5, KICK, 90)] + ([(0, CRASH, 90)] if b % 4 == 0 else [])
        ev += [(t0 + k * beat, 9, n, vel(v), 0.1) for k, n, v in hits]
    return ev


# --------------------------------------------------------------------------- rendering


def second_soundfont(cache: Path) -> Path | None:
    """TimGM6mb from the pretty_midi wheel (downloaded once with pip, then cached)."""
    target = cache / "TimGM6mb.sf2"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, PRETTY_MIDI_PIN]
        if subprocess.run(cmd, capture_output=True, check=False).returncode != 0:
            return None
        for whl in Path(tmp).glob("*.whl"):
            with zipfile.ZipFile(whl) as z:
                for name in z.namelist():
                    if name.endswith("TimGM6mb.sf2"):
                        target.write_bytes(z.read(name))
                        return target
    return None


def play_events(fs: object, ev: list[tuple[float, int, int, int, float]], length: float) -> np.ndarray:
    """Play ``(time s, channel, note, velocity, duration s)`` events on the FluidSynth synth ``fs``
    (programs already selected) for ``length`` seconds; stereo float32 samples, shape ``(2, n)``."""
    ons = [(t, 1, ch, n, v) for t, ch, n, v, _ in ev]
    actions = sorted(ons + [(t + d, 0, ch, n, 0) for t, ch, n, _, d in ev])
    chunks, pos, total = [], 0, int(length * SR)
    for t, on, ch, note, v in actions:  # note-ons and note-offs in time order
        at = min(total, round(t * SR))
        if at > pos:
            chunks.append(fs.get_samples(at - pos))  # type: ignore[attr-defined]
            pos = at
        if on:
            fs.noteon(ch, note, v)  # type: ignore[attr-defined]
        else:
            fs.noteoff(ch, note)  # type: ignore[attr-defined]
    if total > pos:
        chunks.append(fs.get_samples(total - pos))  # type: ignore[attr-defined]
    return np.concatenate(chunks).astype(np.float32).reshape(-1, 2).T / 32768.0


def render(clip: Clip, sf_path: Path) -> Audio:
    """Render a clip to stereo 44.1 kHz through FluidSynth."""
    from music.soundfont import import_pyfluidsynth

    fluidsynth = import_pyfluidsynth()

    ev, programs, length = events(clip)
    fs = fluidsynth.Synth(gain=0.35, samplerate=float(SR))
    sfid = fs.sfload(str(sf_path))
    for ch, prog in programs.items():
        fs.program_select(ch, sfid, 0, prog)
    fs.program_select(9, sfid, 128, 0)
    x = play_events(fs, ev, length)
    fs.delete()
    peak = float(np.abs(x).max())
    if peak > 0.98:
        x *= 0.98 / peak
    return Audio(np.ascontiguousarray(x), SR)


# --------------------------------------------------------------------------- scoring


def acc1(ref: float, est: float) -> float:
    import mir_eval

    if est is None or est <= 0:  # no pulse (None)
        return 0.0
    return float(mir_eval.tempo.detection(np.array([ref, ref]), 1.0, np.array([est, est]), tol=0.04)[0])


def acc2(ref: float, est: float) -> float:
    return max(acc1(ref, est * k) for k in (1.0, 2.0, 3.0, 0.5, 1 / 3)) if est else 0.0


def key_score(ref: str, est: str) -> float:
    import mir_eval

    return float(mir_eval.key.weighted_score(ref, est))


_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def librosa_baseline(a: Audio) -> tuple[float, str]:
    """librosa defaults: feature.tempo at hop 512; Krumhansl–Schmuckler on chroma_stft."""
    import librosa

    y = librosa.resample(a.mono(), orig_sr=a.sr, target_sr=22050, res_type="soxr_hq")
    bpm = float(librosa.feature.tempo(y=y, sr=22050)[0])
    chroma = librosa.feature.chroma_stft(y=y, sr=22050).mean(axis=1)
    best, name = -2.0, "C major"
    for t in range(12):
        for prof, mode in ((_KK_MAJOR, "major"), (_KK_MINOR, "minor")):
            r = float(np.corrcoef(chroma, np.roll(prof, t))[0, 1])
            if r > best:
                best, name = r, f"{PITCH_CLASSES[t]} {mode}"
    return bpm, name


def essentia_estimate(a: Audio) -> tuple[float, str] | None:
    try:
        import essentia.standard as es  # type: ignore[import-not-found]
    except ImportError:
        return None
    y = a.mono().astype(np.float32)
    if a.sr != 44100:
        return None
    bpm = float(es.RhythmExtractor2013(method="multifeature")(y)[0])
    key, scale, _ = es.KeyExtractor(profileType="edma")(y)
    return bpm, f"{key} {scale}".replace("Db", "C#").replace("Eb", "D#").replace("Gb", "F#") \
        .replace("Ab", "G#").replace("Bb", "A#")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a quarter of the clips")
    ap.add_argument("--save-dir", type=Path, help="also write the rendered clips here (FLAC)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the librosa baseline")
    ap.add_argument("--held-out", action="store_true",
                    help="also score tempo on 28 more clips at other tempos/keys/seeds and 18 composer takes")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "songmint" / "benchmarks")
    args = ap.parse_args(argv)

    from music.traits import extract

    soundfonts = {"FluidR3": FLUID_R3}
    tim = second_soundfont(args.cache)
    if tim is not None:
        soundfonts["TimGM6mb"] = tim
    else:
        print("TimGM6mb not available (pip download failed): FluidR3 only")
    clips = clip_set(soundfonts, quick=args.quick)
    print(f"{len(clips)} clips, SoundFonts: {', '.join(soundfonts)}")
    ess_available = essentia_estimate(Audio(np.zeros((1, SR), np.float32), SR)) is not None
    rows = []
    t_render = t_ours = t_base = 0.0
    audio_s = 0.0
    for c in clips:
        t = time.perf_counter()
        a = render(c, soundfonts[c.soundfont])
        t_render += time.perf_counter() - t
        audio_s += a.duration
        if args.save_dir:
            save(a, args.save_dir / f"{c.name}.flac")
        t = time.perf_counter()
        tr = extract(a)
        t_ours += time.perf_counter() - t
        row = {"clip": c, "tempo": tr.tempo_bpm, "key": tr.key, "ts": tr.time_signature}
        if not args.no_baseline:
            t = time.perf_counter()
            row["base_tempo"], row["base_key"] = librosa_baseline(a)
            t_base += time.perf_counter() - t
        if ess_available:
            row["ess_tempo"], row["ess_key"] = essentia_estimate(a)  # type: ignore[misc]
        rows.append(row)
        mark = "" if c.parts == "drums" else f" key {c.key:>9} → {tr.key:<9}"
        print(f"  {c.name:<30} tempo {c.bpm:5.0f} → {tr.tempo_bpm or 0:6.1f}{mark}  "
              f"{c.meter}/4 → {tr.time_signature}")

    def report(label: str, sel: list[dict], tempo: bool, key: bool, prefix: str = "") -> None:
        if not sel:
            return
        parts = [f"{label:<24} n={len(sel):<3}"]
        if tempo:
            a1 = np.mean([acc1(r["clip"].bpm, r[prefix + "tempo"]) for r in sel])
            a2 = np.mean([acc2(r["clip"].bpm, r[prefix + "tempo"]) for r in sel])
            parts.append(f"tempo Acc1 {a1:.3f}  Acc2 {a2:.3f}")
        if key:
            ks = [key_score(r["clip"].key, r[prefix + "key"]) for r in sel]
            parts.append(f"key weighted {np.mean(ks):.3f}  exact {np.mean([k == 1.0 for k in ks]):.3f}")
        print("  ".join(parts))

    full = [r for r in rows if r["clip"].parts == "full"]
    drums = [r for r in rows if r["clip"].parts == "drums"]
    pads = [r for r in rows if r["clip"].parts == "pad"]
    print()
    for who, prefix in [("songmint", ""), ("librosa baseline", "base_"), ("essentia", "ess_")]:
        if rows and prefix + "tempo" not in rows[0]:
            continue
        print(f"== {who}")
        report("main set", full, True, True, prefix)
        for g in GENRES:
            report(f"  {g}", [r for r in full if r["clip"].genre == g], True, True, prefix)
        for sf_name in soundfonts:
            report(f"  {sf_name}", [r for r in full if r["clip"].soundfont == sf_name], True, True, prefix)
        report("edge: drums only", drums, True, False, prefix)
        report("edge: pads only", pads, False, True, prefix)
    if pads:
        none = sum(r["tempo"] is None for r in pads)
        print(f"\npads only: no tempo (null, no pulse) on {none} of {len(pads)} clips")
    ts = np.mean([f"{r['clip'].meter}/4" == r["ts"] for r in full])
    print(f"\ntime signature accuracy (main set): {ts:.3f}")
    print(f"audio {audio_s:.0f} s; render {t_render:.1f} s; songmint traits {t_ours:.1f} s "
          f"({audio_s / max(t_ours, 1e-9):.0f}× real time, all traits)"
          + ("" if args.no_baseline else f"; librosa baseline {t_base:.1f} s"))
    if args.held_out:
        held_out(soundfonts)
    return 0


def held_out(soundfonts: dict[str, Path]) -> None:
    """Tempo Acc1 on :func:`held_out_set` and :func:`composer_takes`, misses listed."""
    from music.traits import extract

    print("\n== held out (tempo only)")
    groups: dict[str, list[tuple[str, float, float]]] = {"rendered arrangements": [], "composer takes": []}
    for c in held_out_set(soundfonts):
        est = extract(render(c, soundfonts[c.soundfont])).tempo_bpm
        groups["rendered arrangements"].append((c.name, c.bpm, est))
    for name, bpm, mix in composer_takes():
        groups["composer takes"].append((name, bpm, extract(mix).tempo_bpm))
    for label, rows in groups.items():
        a1 = np.mean([acc1(ref, est) for _, ref, est in rows])
        a2 = np.mean([acc2(ref, est) for _, ref, est in rows])
        print(f"{label:<24} n={len(rows):<3} tempo Acc1 {a1:.3f}  Acc2 {a2:.3f}")
        for name, ref, est in rows:
            if not acc1(ref, est):
                print(f"    miss: {name:<34} {ref:5.0f} → {est or 0:6.1f}")


if __name__ == "__main__":
    raise SystemExit(main())
