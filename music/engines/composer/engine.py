"""The composer engine: prompt or seed → arrangement → MIDI → FluidSynth stems → master.

Stages, each deterministic for a given request and seed:

1. :meth:`ComposerEngine.plan` resolves the request (explicit parameters, then the
   prompt, then the genre's defaults, then the seed) and writes the notes of every part;
2. :meth:`ComposerEngine.render` renders each part with FluidSynth in stereo (each distinct
   note once), adds each stem's own reverb, folds loop tails back onto the top, balances the
   stems by loudness, and sums the pre-master mix;
3. :meth:`ComposerEngine.generate` masters the mix with :func:`music.loudness.normalize`
   (integrated loudness target under a true-peak ceiling) and returns a :class:`Take`.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from music import loudness
from music.audio import Audio
from music.engines.base import Progress, Request, Take, parse_params
from music.engines.composer import arrangement, dsp, midi, patterns, theory
from music.engines.composer.genres import GENRES, Genre, get_genre
from music.engines.composer.prompt import mood_effects, parse_prompt
from music.engines.composer.render import Room, SynthPool, Voice, render_part
from music.engines.composer.reverb import add_reverb
from music.errors import EngineError
from music.soundfont import find_soundfont, sha256_file

VERSION = "1.0.0"
MIN_BPM, MAX_BPM = 40.0, 300.0
MAX_BARS = 512
MAX_SECONDS = 20 * 60.0
DEFAULT_SECONDS = 75.0
TAIL_SECONDS = 4.0
SAMPLE_RATES = (22050, 32000, 44100, 48000)

PARAMS: dict[str, str] = {
    "genre": "genre name or alias (see music.engines.composer.GENRES)",
    "bpm": "tempo in BPM (40–300)",
    "key": "key such as 'F# minor' or 'Bb major'",
    "bars": "length in bars (4/4); overrides seconds",
    "stems": "parts to render, e.g. 'drums,bass,chords,lead'",
    "loop": "a seamless bar-aligned loop (true/false)",
    "lufs": "master loudness target in LUFS (default -14)",
    "true_peak": "true-peak ceiling in dBTP (default -1)",
    "soundfont": "path of a .sf2 SoundFont (default FluidR3_GM)",
    "sample_rate": "output rate in Hz (22050, 32000, 44100 or 48000)",
    "swing": "off-beat sixteenth position, 0.5 (straight) – 0.75",
    "humanize": "humanisation amount, 0 (quantised) – 2 (default 1)",
    "energy": "energy shift, -0.5 – 0.5 (default from mood words)",
    "melody_engine": "who writes the lead: composer (motifs, default) or symbolic (the shipped transformer)",
    "style": "corpus style of the symbolic lead: fiddle, folk, chorale, renaissance (default: by genre)",
}
"""Engine parameters accepted in ``Request.params`` (all optional), described."""


@dataclass(frozen=True)
class ComposerParams:
    """The composer's ``Request.params`` (see :data:`PARAMS`), typed; ``None`` means "from the prompt or
    the genre". Ranges are checked where they are resolved (:meth:`ComposerEngine.plan`)."""

    genre: str | None = None
    bpm: float | None = None
    key: str | None = None
    bars: float | None = None
    stems: Any = None
    loop: bool | None = None
    lufs: float | None = None
    true_peak: float | None = None
    soundfont: str | None = None
    sample_rate: int | None = None
    swing: float | None = None
    humanize: float | None = None
    energy: float | None = None
    melody_engine: str | None = None
    style: str | None = None


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def _soundfont_sha(path: Path) -> str:
    st = path.stat()
    key = (os.fspath(path), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = sha256_file(path)
    return _SHA_CACHE[key]


def _rng(seed: int, *stream: str) -> np.random.Generator:
    """An independent generator per (seed, stream name): adding a stem changes no other."""
    words = [int.from_bytes(hashlib.sha256(s.encode()).digest()[:4], "little") for s in stream]
    return np.random.default_rng([seed & 0xFFFFFFFF, seed >> 32 & 0xFFFFFFFF, *words])


@dataclass(frozen=True)
class Plan:
    """A fully resolved take, before any audio: every choice the engine made.

    Attributes
    ----------
    genre : Genre
    key : theory.Key
    bpm : float
    bars : int
    loop : bool
    stems : tuple of str
    progression : tuple of str
        Roman numerals of the progression.
    sections : list of arrangement.Section
    chords : list of arrangement.ChordSpan
    notes : dict[str, list[patterns.Note]]
        Humanised notes by part.
    params : dict
        Every resolved parameter (goes into provenance).
    """

    genre: Genre
    key: theory.Key
    bpm: float
    bars: int
    loop: bool
    stems: tuple[str, ...]
    progression: tuple[str, ...]
    sections: list[arrangement.Section]
    chords: list[arrangement.ChordSpan]
    notes: dict[str, list[patterns.Note]]
    params: dict[str, Any] = field(default_factory=dict)
    title: str = "take"

    @property
    def beats(self) -> float:
        return float(self.bars * arrangement.BEATS_PER_BAR)


@dataclass(frozen=True, eq=False)
class Rendered:
    """Audio before mastering: stems at their mix level and their exact sum."""

    stems: dict[str, Audio]
    mix: Audio
    midi: dict[str, bytes]


class ComposerEngine:
    """Music from a prompt or a seed with no downloaded weights.

    Parameters
    ----------
    soundfont : path-like, optional
        SoundFont 2 file; default :func:`music.soundfont.find_soundfont` (FluidR3_GM).
    sample_rate : int
        Output rate in Hz (a ``sample_rate`` request parameter overrides it).

    Examples
    --------
    >>> take = ComposerEngine().generate(Request(prompt="dark techno in F minor", seed=1))
    >>> take.bpm, take.key, sorted(take.stems)
    (130.0, 'F minor', ['bass', 'chords', 'drums', 'lead'])
    """

    name = "composer"
    version = VERSION
    deterministic = True
    finishes_itself = True
    Params = ComposerParams

    def __init__(self, *, soundfont: str | os.PathLike[str] | None = None, sample_rate: int = 44100) -> None:
        self.soundfont = soundfont
        self.sample_rate = int(sample_rate)

    # ------------------------------------------------------------------ planning

    def plan(self, request: Request) -> Plan:
        """Resolve ``request`` and compose every part (no audio yet).

        Raises
        ------
        EngineError
            Unknown parameter or genre, impossible tempo or length, malformed key.
        """
        parsed = parse_params(ComposerParams, request.params, engine="composer")
        p = {f.name: getattr(parsed, f.name) for f in fields(parsed) if getattr(parsed, f.name) is not None}
        seed = int(request.seed)
        info = parse_prompt(request.prompt)
        moods = mood_effects(info.moods)
        choose = _rng(seed, "choices")
        seeded_only = not request.prompt and p.get("genre") is None

        # Genre: parameter > prompt > seed (no prompt) > default.
        if p.get("genre") is not None:
            genre = get_genre(str(p["genre"]))
        elif info.genre is not None:
            genre = GENRES[info.genre]
        elif seeded_only:
            genre = GENRES[sorted(GENRES)[int(choose.integers(len(GENRES)))]]
        else:
            genre = GENRES["lofi"]
        tonic_draw = int(choose.integers(12))
        bpm_draw = float(choose.random())
        prog_draw = int(choose.integers(1 << 30))

        # Key: parameter > prompt > mood words / genre mode with a seeded tonic.
        if p.get("key") is not None:
            key = theory.parse_key(str(p["key"]))
        elif info.key is not None:
            key = theory.parse_key(info.key)
        else:
            vote = moods.get("major", 0) - moods.get("minor", 0)
            mode = "major" if vote > 0 else "minor" if vote < 0 else genre.mode
            # Per genre, so that one seed does not put every genre in the same key.
            tonic = (tonic_draw + int(_rng(seed, "tonic", genre.name).integers(12))) % 12
            key = theory.Key(tonic, mode)

        # Tempo: parameter > prompt > genre default nudged by mood (seeded without a prompt).
        if p.get("bpm") is not None:
            bpm = p["bpm"]
        elif info.bpm is not None:
            bpm = info.bpm
        else:
            lo, hi = genre.bpm_range
            if seeded_only:
                bpm = float(round(lo + (hi - lo) * bpm_draw))
            else:
                bpm = float(round(np.clip(genre.bpm + moods.get("tempo", 0.0) * (hi - lo) / 2, lo, hi)))
        if not MIN_BPM <= bpm <= MAX_BPM:
            raise EngineError(f"tempo {bpm:g} BPM is impossible; choose {MIN_BPM:g}–{MAX_BPM:g} BPM")

        loop = p["loop"] if p.get("loop") is not None else info.loop
        bar_s = 4 * 60.0 / bpm
        if p.get("bars") is not None:
            bars_f = p["bars"]
            if not bars_f.is_integer() or not 1 <= bars_f <= MAX_BARS:
                raise EngineError(f"bars={p['bars']!r}: give a whole number of bars, 1–{MAX_BARS}")
            bars = int(bars_f)
        else:
            seconds = request.seconds if request.seconds is not None else info.seconds
            if info.bars is not None and request.seconds is None:
                bars = info.bars
            else:
                seconds = DEFAULT_SECONDS if seconds is None else float(seconds)
                if not 0 < seconds <= MAX_SECONDS:
                    raise EngineError(f"length {seconds:g} s is out of range; choose 1–{MAX_SECONDS:g} s")
                bars = max(1, round(seconds / bar_s))
                if bars >= 16:
                    bars = max(16, round(bars / 4) * 4)  # whole phrases
            if not 1 <= bars <= MAX_BARS:
                raise EngineError(f"{bars} bars is out of range; choose 1–{MAX_BARS}")

        stems = p.get("stems", patterns.PARTS)
        if isinstance(stems, str):
            stems = [s.strip() for s in stems.split(",") if s.strip()]
        stems = tuple(stems)
        bad = [s for s in stems if s not in patterns.PARTS]
        if bad or not stems:
            raise EngineError(f"unknown stem(s) {', '.join(bad) or '(none)'}; "
                              f"the composer writes: {', '.join(patterns.PARTS)}")
        stems = tuple(s for s in patterns.PARTS if s in stems)

        swing = p["swing"] if p.get("swing") is not None else genre.swing
        if not 0.5 <= swing <= 0.75:
            raise EngineError(f"swing {swing:g} is out of range; choose 0.5 (straight) – 0.75")
        human = p["humanize"] if p.get("humanize") is not None else 1.0
        if not 0.0 <= human <= 2.0:
            raise EngineError(f"humanize {human:g} is out of range; choose 0–2")
        energy = p["energy"] if p.get("energy") is not None else moods.get("energy", 0.0)
        energy = float(np.clip(energy, -0.5, 0.5))
        register = 3 if moods.get("bright", 0) > 0 else -2 if moods.get("bright", 0) < 0 else 0

        options = genre.progressions[key.mode]
        progression = options[prog_draw % len(options)]
        sections = arrangement.plan_form(bars, genre=genre, loop=loop, energy_shift=energy)
        chords = arrangement.chord_timeline(progression, key=key, genre=genre, bars=bars, loop=loop,
                                            register_shift=register)
        melody_engine = str(p.get("melody_engine", "composer")).strip().lower()
        if melody_engine not in ("composer", "symbolic"):
            raise EngineError(f"melody_engine={p['melody_engine']!r}: choose composer or symbolic")
        if p.get("style") is not None and melody_engine != "symbolic":
            raise EngineError("style applies to --engine symbolic or --melody-engine symbolic")
        ctx = patterns.Context(genre=genre, key=key, bars=bars, sections=sections, chords=chords,
                               loop=loop, register_shift=register)
        notes: dict[str, list[patterns.Note]] = {}
        melody: dict[str, Any] | None = None
        for part in stems:
            if part == "lead" and melody_engine == "symbolic":
                from music.engines.symbolic.melody import compose_lead

                lead_seed = int(_rng(seed, "part", "lead", "symbolic").integers(1 << 31))
                raw, melody = compose_lead(ctx, seed=lead_seed, style=p.get("style"))
                melody["seed"] = lead_seed
            else:
                raw = patterns.GENERATORS[part](ctx, _rng(seed, "part", part))
            notes[part] = patterns.humanize(
                raw, rng=_rng(seed, "humanize", part), swing=swing, timing_ms=genre.humanize_ms * human,
                velocity_sd=genre.velocity_jitter * human, bpm=bpm, total_beats=bars * 4.0, loop=loop)

        title = _title(request.prompt, genre)
        resolved = {
            "genre": genre.name, "bpm": bpm, "key": key.name, "bars": bars, "loop": loop,
            "stems": list(stems), "swing": swing, "humanize": human, "energy": energy,
            "progression": list(progression), "register_shift": register, "moods": info.moods,
            # only a symbolic lead is recorded, so a composer take's provenance is what it was
            **({"melody_engine": melody_engine, "melody": melody} if melody is not None else {}),
            "form": [{"name": s.name, "start_bar": s.start_bar, "bars": s.bars, "energy": round(s.energy, 3)}
                     for s in sections],
        }
        return Plan(genre=genre, key=key, bpm=bpm, bars=bars, loop=loop, stems=stems,
                    progression=tuple(progression), sections=sections, chords=chords, notes=notes,
                    params=resolved, title=title)

    # ------------------------------------------------------------------ rendering

    def _sample_rate(self, parsed: ComposerParams) -> int:
        sr = parsed.sample_rate if parsed.sample_rate is not None else self.sample_rate
        if sr not in SAMPLE_RATES:
            raise EngineError(f"sample rate {sr} Hz is not supported; choose one of "
                              f"{', '.join(map(str, SAMPLE_RATES))}")
        return int(sr)

    def _soundfont(self, request: Request) -> Path:
        return find_soundfont(request.params.get("soundfont", self.soundfont))

    def midi(self, plan: Plan) -> dict[str, bytes]:
        """MIDI files by stem name plus ``"all"``."""
        parts = [self._midi_part(plan, name) for name in plan.stems]
        return midi.midi_files(parts, bpm=plan.bpm, key=plan.key, title=plan.title, end_beat=plan.beats)

    @staticmethod
    def _voice(plan: Plan, name: str) -> Voice:
        g = plan.genre
        if name == "drums":
            return Voice(channel=midi.DRUM_CHANNEL, bank=128, program=g.kit, pan=64, reverb=35)
        inst = {"bass": g.bass, "chords": g.chords, "lead": g.lead}[name]
        channel = {"bass": 1, "chords": 2, "lead": 3}[name]
        return Voice(channel=channel, bank=inst.bank, program=inst.program, pan=inst.pan,
                     reverb=inst.reverb, chorus=inst.chorus)

    def _midi_part(self, plan: Plan, name: str) -> midi.Part:
        v = self._voice(plan, name)
        return midi.Part(name=name, notes=plan.notes[name], channel=v.channel, program=v.program,
                         bank=v.bank if v.bank != 128 else 0, pan=v.pan, reverb=v.reverb, chorus=v.chorus)

    @dsp.small_pages()
    def render(self, plan: Plan, *, sr: int = 44100, soundfont: Path | None = None) -> Rendered:
        """Render every stem of ``plan`` and the pre-master mix (their exact sum).

        Stems are balanced to the genre's relative loudness targets (K-weighted integrated
        loudness per stem, ITU-R BS.1770), then scaled together so that the sum sits near the
        master target with every stem peaking under −1 dBFS. A loop is rendered with its
        tail and the tail folded back onto the top (modulo the loop length), so the loop
        repeats without a seam; a song is cut after its tail dies away and faded over 50 ms.
        """
        sf2 = soundfont or find_soundfont(self.soundfont)
        spb = 60.0 / plan.bpm * sr
        body = round(plan.beats * spb)
        tail = round(TAIL_SECONDS * sr)
        room = Room(size=plan.genre.room)
        raw: dict[str, np.ndarray] = {}
        with SynthPool() as pool:  # parts are on distinct channels and share synthesizers
            for name in plan.stems:
                voice = self._voice(plan, name)
                y = render_part(plan.notes[name], voice=voice, soundfont=sf2, sr=sr, bpm=plan.bpm,
                                n_samples=body + tail, room=room, pool=pool)
                # Each stem carries its own reverb return (CC91 / 127 of send), so the stems
                # still sum to the mix.
                add_reverb(y, sr=sr, send=voice.reverb / 127, size=room.size, damping=room.damping)
                raw[name] = y
        peaks: dict[str, float] | None = None
        if plan.loop:
            for name, y in raw.items():
                folded = y[:, :body].copy()
                for start in range(body, y.shape[1], body):
                    seg = y[:, start:start + body]
                    folded[:, :seg.shape[1]] += seg
                raw[name] = folded
        else:
            # Cut after the last tail sample above -70 dB of the loudest stem, fade 50 ms.
            # The stems' peaks before the cut bound theirs after it: the balance uses them.
            peaks = {name: dsp.sample_peak(y) for name, y in raw.items()}
            peak = max(peaks.values()) or 1.0
            end = body
            for y in raw.values():
                loud = np.flatnonzero(np.abs(y[:, body:]).max(axis=0) > peak * 10 ** (-70 / 20))
                if loud.size:
                    end = max(end, body + int(loud[-1]) + 1)
            fade = min(round(0.05 * sr), end)
            ramp = np.linspace(1.0, 0.0, fade, dtype=np.float32)
            for name, y in raw.items():
                y = y[:, :end]
                y[:, end - fade:] *= ramp
                raw[name] = y
        gains = self._balance(plan, raw, sr, peaks=peaks)
        stems = raw  # scaled in place: the raw renders are this method's own
        for n in plan.stems:
            stems[n] *= np.float32(gains[n])
        mix = stems[plan.stems[0]].copy()
        for n in plan.stems[1:]:
            mix += stems[n]
        return Rendered(stems={n: Audio(s, sr) for n, s in stems.items()}, mix=Audio(mix, sr),
                        midi=self.midi(plan))

    @staticmethod
    def _balance(plan: Plan, raw: dict[str, np.ndarray], sr: int, target_lufs: float = -14.0, *,
                 peaks: dict[str, float] | None = None) -> dict[str, float]:
        """Stem gains: each stem to its loudness offset, the sum near ``target_lufs``,
        every stem's peak under -1 dBFS.

        Loudness here is each stem's BS.1770 integrated loudness (:func:`.dsp.integrated_loudness`).
        ``peaks`` are the stems' sample peaks, or bounds on them, when the caller has them.
        """
        g = plan.genre
        offsets = {"drums": g.drums_level_db, "bass": g.bass.level_db, "chords": g.chords.level_db,
                   "lead": g.lead.level_db}
        gains: dict[str, float] = {}
        powers: dict[str, float] = {}
        for name, y in raw.items():
            level = dsp.integrated_loudness(y, sr)
            power = 10 ** ((level + 0.691) / 10) if np.isfinite(level) else 0.0
            powers[name] = power
            gains[name] = 0.0 if power <= 0 else 10 ** (offsets[name] / 20) / np.sqrt(power)
        # Uncorrelated stems add in power.
        total = sum(powers[n] * gains[n] ** 2 for n in raw)
        common = 1.0 if total <= 0 else 10 ** ((target_lufs + 0.691) / 20) / np.sqrt(total)
        if peaks is None:
            peaks = {n: dsp.sample_peak(y) for n, y in raw.items()}
        peak = max(peaks[n] * gains[n] for n in raw)
        if peak * common > 10 ** (-1 / 20):
            common = 10 ** (-1 / 20) / peak
        return {n: float(gains[n] * common) for n in raw}

    # ------------------------------------------------------------------ the protocol

    def generate(self, request: Request, *, progress: Progress | None = None) -> Take:
        """Compose, render and master a take (in well under a second a bar: ``progress`` is not called)."""
        parsed = parse_params(ComposerParams, request.params, engine="composer")
        sr = self._sample_rate(parsed)
        sf2 = self._soundfont(request)
        lufs = parsed.lufs if parsed.lufs is not None else -14.0
        tp = parsed.true_peak if parsed.true_peak is not None else -1.0
        if not -40.0 <= lufs <= -5.0:
            raise EngineError(f"loudness target {lufs:g} LUFS is out of range; choose -40 to -5")
        if not -9.0 <= tp <= 0.0:
            raise EngineError(f"true-peak ceiling {tp:g} dBTP is out of range; choose -9 to 0")
        plan = self.plan(request)
        rendered = self.render(plan, sr=sr, soundfont=sf2)
        mix = master(rendered.mix, lufs=lufs, true_peak_dbtp=tp, loop=plan.loop)
        provenance = {
            "engine": self.name,
            "engine_version": self.version,
            "soundfont": {"name": sf2.name, "sha256": _soundfont_sha(sf2)},
            "prompt": request.prompt,
            "seed": int(request.seed),
            "seconds": request.seconds,
            "request_params": {k: request.params[k] for k in sorted(request.params)},
            "params": {**plan.params, "sample_rate": sr, "lufs": lufs, "true_peak": tp},
            "title": plan.title,
        }
        return Take(mix=mix, stems=rendered.stems, midi=rendered.midi, provenance=provenance,
                    bpm=plan.bpm, key=plan.key.name, seed=int(request.seed),
                    mood=", ".join(plan.params.get("moods") or ()) or None)


def bus_limit(x: np.ndarray, *, sr: int, ceiling_db: float = -1.5, attack_ms: float = 1.5,
              release_ms: float = 60.0, block: int = 32, envelope: np.ndarray | None = None,
              source: np.ndarray | None = None, scale: float = 1.0) -> np.ndarray:
    """A fast look-ahead peak limiter on sample and half-sample peaks, on 32-sample blocks;
    works in place on ``x`` (float32, shape ``(channels, n)``) and returns it.

    The block gain ``min(1, ceiling / block peak)`` is spread over the attack window by a
    minimum filter, smoothed by a moving average after a second minimum filter of the same
    width (so it never rises above what any block needs), and interpolated linearly to
    samples after one more one-block minimum, so every sample stays under the ceiling.
    It takes most of the peak reduction off the master so that the exact true-peak
    limiter of :func:`music.loudness.normalize` (4× oversampled) is rarely needed.
    ``envelope`` is ``x``'s block envelope when the caller has it (:func:`.dsp.block_envelope`
    of the same ``block``): the master's gain search scales one envelope for every try. With
    ``source``, ``x`` is only the output: ``source · scale`` is limited into it in one pass
    (and ``envelope``, if given, is the scaled source's).
    """
    from scipy import ndimage

    c = 10 ** (ceiling_db / 20)
    # Peaks between samples: the cubic (4-tap) half-sample interpolant catches most of the
    # inter-sample overshoot that 4x oversampling would find, at a fraction of its cost.
    env = envelope
    if env is None:
        env = dsp.block_envelope(x, block) if source is None else dsp.block_envelope(source, block) * scale
    g = np.minimum(1.0, c / np.maximum(env, 1e-12))
    if g.min() >= 1.0:
        if source is not None:
            np.multiply(source, np.float32(scale), out=x)
        return x
    for ms in (attack_ms, release_ms):
        w = max(1, round(ms * 1e-3 * sr / block))
        g = ndimage.minimum_filter1d(g, 2 * w + 1, mode="nearest")
        g = ndimage.uniform_filter1d(g, 2 * w + 1, mode="nearest")
    g = ndimage.minimum_filter1d(g, 3, mode="nearest")
    dsp.apply_ramp(x, g, block, source=source, scale=scale)
    return x


@dsp.small_pages()
def master(mix: Audio, *, lufs: float = -14.0, true_peak_dbtp: float = -1.0, loop: bool = False,
           tolerance_lu: float = 0.05) -> Audio:
    """Loudness-normalise under a true-peak ceiling.

    The mix is gained and run through a fast limiter (:func:`bus_limit`) under the ceiling
    less 1 dB; the gain is searched (secant steps on the measured loudness, each try from
    the unlimited mix, so limiting never compounds) until the limited mix is within
    ``tolerance_lu`` of the target. Loudness and the final true peak are measured exactly
    (:mod:`.dsp`, compiled equivalents of :mod:`music.loudness`). A true peak over the
    ceiling, or a target the search cannot reach, falls back to
    :func:`music.loudness.normalize` (true-peak limiter, refined gain).

    A loop is mastered in the middle of three copies of itself, so the limiter sees the
    wrap-around and the mastered loop still repeats without a seam.
    """
    sr = mix.sr
    n = mix.n
    x0 = np.tile(mix.samples, (1, 3)) if loop else mix.samples
    current = dsp.integrated_loudness(x0, sr)
    if not np.isfinite(current):
        raise EngineError("the mix is silent; nothing to master")
    ceiling = true_peak_dbtp - 1.0  # what half-sample peaks miss of the true peak
    gain_db = lufs - current
    tried: list[tuple[float, float]] = []  # (gain dB, loudness after limiting)
    x = np.empty_like(x0)  # the limiter works in place: every try rewrites this buffer
    # The envelope is linear in the gain: one pass for all tries (to float rounding).
    envelope = dsp.block_envelope(x0, 32)
    for _ in range(5):
        gain = np.float32(10 ** (gain_db / 20))
        bus_limit(x, sr=sr, ceiling_db=ceiling, block=32, envelope=envelope * float(gain), source=x0,
                  scale=float(gain))
        got = dsp.integrated_loudness(x, sr)
        tried.append((gain_db, got))
        if abs(got - lufs) <= tolerance_lu:
            break
        if len(tried) == 1:
            # Limiting takes back about a third of each added dB on these mixes.
            gain_db += (lufs - got) / 0.7
        else:
            (g0, l0), (g1, l1) = tried[-2], tried[-1]
            slope = (l1 - l0) / (g1 - g0) if g1 != g0 else 1.0
            # Limiting takes back part of each dB of gain; never step against the target.
            gain_db += (lufs - got) / min(1.0, max(slope, 0.1))
    if abs(got - lufs) > tolerance_lu or dsp.true_peak(x, sr) > true_peak_dbtp:
        x = loudness.normalize(Audio(x, sr), lufs=lufs, true_peak_dbtp=true_peak_dbtp).samples
    if loop:
        return Audio(np.ascontiguousarray(x[:, n:2 * n]), sr)
    return Audio(x, sr)


_TITLE_DROP = re.compile(
    r"\b[A-Ga-g](?:#|b|sharp|flat)?\s*(?:major|minor|maj|min)\b"
    r"|\b(?:in|at|with|and|a|an|the|of|key|bpm|\d+(?:\.\d+)?\s*bpm|\d+|bars?|minutes?|seconds?|loop)\b",
    re.I,
)


def _title(prompt: str | None, genre: Genre) -> str:
    """A short title for file names: the prompt without its key, tempo and filler words."""
    if prompt:
        words = [w for w in _TITLE_DROP.sub(" ", prompt.replace(",", " ")).split() if w.isalpha()][:4]
        if words:
            return " ".join(words)
    return genre.label
