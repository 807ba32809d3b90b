"""The ``symbolic`` engine: sampled event tokens -> MIDI per part -> SoundFont stems -> master.

The transformer (:mod:`.model`, weights shipped in :mod:`music.engines.symbolic.weights`)
writes the notes; the composer's renderer plays them: :func:`music.engines.composer.render.render_part`
(FluidSynth, stereo), :func:`music.engines.composer.reverb.add_reverb`, the composer's MIDI
writer and :func:`music.engines.composer.master`. A take therefore looks like a composer take:
one stem and one ``.mid`` per part, a mastered mix, the declared tempo and key, and
provenance that names the weights by sha256.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from music.audio import Audio
from music.engines.base import Request, Take
from music.engines.symbolic import tokens as tk
from music.engines.symbolic.sampling import SamplingParams, generate
from music.errors import EngineError

VERSION = "1.0.0"
WEIGHTS = Path(__file__).parent / "weights" / "symbolic-v1.safetensors"
TAIL_SECONDS = 3.0


@dataclass(frozen=True)
class StyleDefaults:
    """How a style is voiced and played when the request does not say."""

    voices: int
    meter: str
    bpm: float
    key: str
    parts: tuple[str, ...]
    programs: tuple[int, ...]
    pans: tuple[int, ...]
    levels_db: tuple[float, ...]


STYLE_DEFAULTS: dict[str, StyleDefaults] = {
    "chorale": StyleDefaults(4, "4/4", 72.0, "G major", ("soprano", "alto", "tenor", "bass"),
                             (52, 52, 52, 52), (44, 58, 70, 84), (0.0, -3.0, -3.0, -1.0)),
    "fiddle": StyleDefaults(1, "4/4", 112.0, "D major", ("fiddle",), (40,), (64,), (0.0,)),
    "folk": StyleDefaults(1, "4/4", 96.0, "G major", ("melody",), (73,), (64,), (0.0,)),
    "renaissance": StyleDefaults(4, "4/2", 132.0, "D minor", ("cantus", "altus", "tenor", "bassus"),
                                 (52, 52, 52, 52), (44, 58, 70, 84), (0.0, -2.0, -2.0, -1.0)),
}
STYLE_ALIASES = {"bach": "chorale", "hymn": "chorale", "tune": "fiddle", "reel": "fiddle", "jig": "fiddle",
                 "song": "folk", "folksong": "folk", "polyphony": "renaissance", "palestrina": "renaissance"}

PARAMS: dict[str, str] = {
    "style": f"one of {', '.join(tk.STYLES)} (aliases: {', '.join(sorted(STYLE_ALIASES))})",
    "key": "key such as 'G major' or 'D minor' (default: the style's)",
    "meter": f"time signature, one of {', '.join(m for m in tk.METERS if m != 'other')}",
    "bpm": "tempo in quarter notes per minute (20-300)",
    "bars": "length in bars (default: from seconds, else 16)",
    "voices": "number of parts, 1-4 (default: the style's)",
    "temperature": "sampling temperature (default 0.9)",
    "top_p": "nucleus mass (default 0.95)",
    "constrain": "keep to the key and metre (true/false, default true)",
    "voice_leading": "no parallel fifths or octaves between moving voices (true/false, default true)",
    "weights": "a .safetensors file from train-symbolic --export (default: the shipped weights)",
    "soundfont": "path of a .sf2 SoundFont (default FluidR3_GM)",
    "sample_rate": "output rate in Hz (default 44100)",
    "lufs": "master loudness target in LUFS (default -14)",
}
"""Engine parameters accepted in ``Request.params`` (all optional)."""


@dataclasses.dataclass(frozen=True)
class SymbolicParams:
    """The engine's parameters (see :data:`PARAMS`), checked by :func:`music.engines.base.parse_params`;
    ranges and names are checked when the request is planned."""

    style: str | None = None
    key: str | None = None
    meter: str | None = None
    bpm: float | None = None
    bars: int | None = None
    voices: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    constrain: bool | None = None
    voice_leading: bool | None = None
    weights: str | None = None
    soundfont: str | None = None
    sample_rate: int | None = None
    lufs: float | None = None


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> tuple[Any, dict[str, Any]]:
    from safetensors.torch import load_file

    from music.engines.symbolic.model import ModelConfig, SymbolicTransformer

    card_path = Path(path).with_suffix(".json")
    try:
        card = json.loads(card_path.read_text())
        model = SymbolicTransformer(ModelConfig.from_dict(card["model"]))
        model.load_state_dict(load_file(path))
    except Exception as exc:  # safetensors raises its own error type for a corrupt file
        raise EngineError(f"cannot load symbolic weights {path}: {exc}") from exc
    model.eval()
    return model, card


def load_model(path: str | os.PathLike[str] | None = None) -> tuple[Any, dict[str, Any]]:
    """The transformer and its card (config, data manifest, scores, sha256); cached per file."""
    p = Path(path) if path is not None else WEIGHTS
    if not p.is_file():
        raise EngineError(f"symbolic weights not found: {p}")
    return _load(os.fspath(p), p.stat().st_mtime_ns)


def _as_float(params: dict[str, Any], name: str, default: float, lo: float, hi: float) -> float:
    value = params.get(name, default)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise EngineError(f"parameter {name}={value!r} is not a number") from None
    if not lo <= x <= hi:
        raise EngineError(f"parameter {name}={x:g} is out of range ({lo:g} to {hi:g})")
    return x


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in ("1", "true", "yes", "on"):
        return True
    if s in ("0", "false", "no", "off"):
        return False
    raise EngineError(f"parameter {name}={value!r} is not a boolean; use true or false")


@dataclass(frozen=True)
class SymbolicPlan:
    """A resolved request: conditioning, length and sampling settings."""

    style: str
    header: tk.Header
    bpm: float
    bars: int
    sampling: SamplingParams
    defaults: StyleDefaults


def resolve(request: Request) -> SymbolicPlan:
    """Turn ``request`` into a :class:`SymbolicPlan` (validating every parameter).

    Raises
    ------
    EngineError
        For an unknown parameter, style, key or metre, or a value out of range.
    """
    from music.engines.base import parse_params
    from music.engines.composer import parse_key

    p = dict(request.params)
    parse_params(SymbolicParams, p, engine="symbolic")  # unknown or ill-typed keys: one line
    style = str(p.get("style", "chorale")).strip().lower()
    style = STYLE_ALIASES.get(style, style)
    if style not in STYLE_DEFAULTS:
        raise EngineError(f"unknown style {p.get('style')!r}; choose one of {', '.join(tk.STYLES)}")
    d = STYLE_DEFAULTS[style]
    key = parse_key(str(p.get("key", d.key)))
    meter = str(p.get("meter", d.meter)).strip()
    if meter not in tk.METERS or meter == "other":
        raise EngineError(f"unsupported metre {meter!r}; choose one of "
                          f"{', '.join(m for m in tk.METERS if m != 'other')}")
    bpm = _as_float(p, "bpm", d.bpm, 20.0, 300.0)
    voices = int(_as_float(p, "voices", d.voices, 1, tk.MAX_VOICES))
    beats_per_bar = tk.bar_steps(meter) / tk.GRID
    if "bars" in p:
        bars = int(_as_float(p, "bars", 16, 1, 256))
    elif request.seconds is not None:
        bars = max(1, min(256, round(request.seconds * bpm / 60 / beats_per_bar)))
    else:
        bars = 16
    constrain = _as_bool(p.get("constrain", True), "constrain")
    sampling = SamplingParams(temperature=_as_float(p, "temperature", 0.9, 0.05, 5.0),
                              top_p=_as_float(p, "top_p", 0.95, 0.01, 1.0),
                              constrain_key=constrain, constrain_meter=constrain,
                              avoid_parallels=_as_bool(p.get("voice_leading", True), "voice_leading"))
    header = tk.Header(style, key.tonic, key.mode, meter, None, voices)
    return SymbolicPlan(style, header, bpm, bars, sampling, d)


def events_to_notes(events: list[tk.Event], *, meter: str, voices: int) -> list[list[Any]]:
    """Composer notes (beats) per voice; a voice's note is cut where its next onset starts."""
    from music.engines.composer.patterns import Note

    bar = tk.bar_steps(meter)
    out: list[list[Any]] = [[] for _ in range(voices)]
    by_voice: list[list[tk.Event]] = [[] for _ in range(voices)]
    for e in events:
        if e.voice < voices:
            by_voice[e.voice].append(e)
    for v, evs in enumerate(by_voice):
        evs.sort(key=lambda e: (e.bar * bar + e.pos, -e.pitch))
        onsets = sorted({e.bar * bar + e.pos for e in evs})
        nxt = {a: b for a, b in itertools.pairwise(onsets)}
        for e in evs:
            start = e.bar * bar + e.pos
            length = min(e.dur, nxt.get(start, start + e.dur) - start)
            vel = 84 if e.pos == 0 else 76
            out[v].append(Note(start / tk.GRID, max(length, 1) / tk.GRID, e.pitch, vel))
    return out


class SymbolicEngine:
    """Multi-part music from a transformer trained on music21's corpus (no download).

    Parameters
    ----------
    weights : path-like, optional
        ``.safetensors`` written by ``songmint train-symbolic --export`` (default: shipped).
    soundfont : path-like, optional
        SoundFont for rendering (default FluidR3_GM, as the composer).
    sample_rate : int
        Output rate in Hz.

    Examples
    --------
    >>> take = SymbolicEngine().generate(Request(seed=1, params={"style": "chorale", "key": "G major",
    ...                                                           "bars": 16}))
    >>> sorted(take.stems), take.key
    (['alto', 'bass', 'soprano', 'tenor'], 'G major')
    """

    name = "symbolic"
    version = VERSION
    Params = SymbolicParams
    deterministic = True  # same request and seed, same bytes on the CPU (tested)
    finishes_itself = True  # mastered, stems and MIDI through the composer's renderer

    def __init__(self, *, weights: str | os.PathLike[str] | None = None,
                 soundfont: str | os.PathLike[str] | None = None, sample_rate: int = 44100) -> None:
        self.weights = weights
        self.soundfont = soundfont
        self.sample_rate = int(sample_rate)

    def compose(self, request: Request, *, prompt: list[int] | None = None) -> tuple[SymbolicPlan, list[int]]:
        """Resolve ``request`` and sample its tokens (no audio)."""
        import torch

        plan = resolve(request)
        model, _ = load_model(request.params.get("weights", self.weights))
        torch.manual_seed(int(request.seed))
        toks = generate(model, plan.header, bars=plan.bars, seed=int(request.seed), params=plan.sampling,
                        prompt=prompt)
        return plan, toks

    def generate(self, request: Request) -> Take:
        """Sample, render and master a take."""
        plan, toks = self.compose(request)
        return self.render(plan, toks, request)

    def render(self, plan: SymbolicPlan, toks: list[int], request: Request) -> Take:
        """Stems, MIDI and the mastered mix of sampled tokens."""
        from music.engines.composer import dsp, master
        from music.engines.composer.midi import Part, midi_files
        from music.engines.composer.render import Room, SynthPool, Voice, render_part
        from music.engines.composer.reverb import add_reverb
        from music.engines.composer.theory import Key
        from music.soundfont import find_soundfont, sha256_file

        _, events = tk.decode(toks)
        if not events:
            raise EngineError("the model wrote no notes; try another seed")
        h = plan.header
        d = plan.defaults
        notes = events_to_notes(events, meter=h.meter, voices=h.voices)
        names = [d.parts[v] if v < len(d.parts) else f"voice{v + 1}" for v in range(h.voices)]
        beats = plan.bars * tk.bar_steps(h.meter) / tk.GRID
        sr = int(_as_float(request.params, "sample_rate", self.sample_rate, 8000, 96000))
        lufs = _as_float(request.params, "lufs", -14.0, -40.0, -5.0)
        sf2 = find_soundfont(request.params.get("soundfont", self.soundfont))
        spb = 60.0 / plan.bpm * sr
        n = round(beats * spb) + round(TAIL_SECONDS * sr)
        room = Room(size=0.7, damping=0.4)
        stems: dict[str, np.ndarray] = {}
        voices: dict[str, Voice] = {}
        with SynthPool() as pool:
            for v, name in enumerate(names):
                program = d.programs[v % len(d.programs)]
                voice = Voice(channel=v, bank=0, program=program, pan=d.pans[v % len(d.pans)], reverb=50)
                voices[name] = voice
                y = render_part(notes[v], voice=voice, soundfont=sf2, sr=sr, bpm=plan.bpm, n_samples=n,
                                room=room, pool=pool)
                add_reverb(y, sr=sr, send=voice.reverb / 127, size=room.size, damping=room.damping)
                stems[name] = y
        fade = round(0.05 * sr)
        ramp = np.linspace(1.0, 0.0, fade, dtype=np.float32)
        for v, y in enumerate(stems.values()):
            y[:, n - fade:] *= ramp
            level = dsp.integrated_loudness(y, sr)
            target = -20.0 + d.levels_db[v % len(d.levels_db)]
            gain = 10 ** ((target - level) / 20) if np.isfinite(level) else 0.0
            y *= np.float32(gain)
        peak = max(float(np.abs(y).max()) for y in stems.values())
        mix = sum(stems.values())
        mpeak = float(np.abs(mix).max())
        scale = min(1.0, 0.89 / max(peak, mpeak, 1e-9))
        for y in stems.values():
            y *= np.float32(scale)
        mix = np.asarray(sum(stems.values()), dtype=np.float32)
        mastered = master(Audio(mix, sr), lufs=lufs)
        key = Key(h.tonic, h.mode)
        parts = [Part(name=nm, notes=notes[v], channel=voices[nm].channel, program=voices[nm].program, bank=0,
                      pan=voices[nm].pan, reverb=voices[nm].reverb, chorus=0) for v, nm in enumerate(names)]
        title = f"{plan.style} in {key.name}"
        midis = midi_files(parts, bpm=plan.bpm, key=key, title=title, end_beat=beats, meter=h.meter)
        _, card = load_model(request.params.get("weights", self.weights))
        wpath = Path(request.params.get("weights", self.weights) or WEIGHTS)
        provenance = {
            "engine": self.name, "engine_version": self.version,
            "model": {"name": wpath.name, "sha256": card["sha256"], "params": card.get("params"),
                      "config": card["model"], "held_out_bits": card.get("scores", {}).get("held_out_bits")},
            "soundfont": {"name": sf2.name, "sha256": sha256_file(sf2)},
            "prompt": request.prompt, "seed": int(request.seed), "seconds": request.seconds,
            "request_params": {k: request.params[k] for k in sorted(request.params)},
            "params": {"style": plan.style, "key": key.name, "meter": h.meter, "bpm": plan.bpm,
                       "bars": plan.bars, "voices": h.voices, "temperature": plan.sampling.temperature,
                       "top_p": plan.sampling.top_p, "constrain": plan.sampling.constrain_key,
                       "voice_leading": plan.sampling.avoid_parallels,
                       "sample_rate": sr, "lufs": lufs, "tokens": len(toks), "notes": len(events)},
            "title": title,
        }
        return Take(mix=mastered, stems={k: Audio(v, sr) for k, v in stems.items()}, midi=midis,
                    provenance=provenance, bpm=plan.bpm, key=key.name, seed=int(request.seed))

    def continue_midi(self, midi: bytes, request: Request) -> Take:
        """Continue a MIDI file (or a take's ``all`` MIDI) by ``bars`` bars (default: from
        ``request.seconds`` at the tempo, else 8).

        The prompt's notes are tokenised under the requested key (else the file's key signature,
        else the estimated key), the prompt's metre and tempo, and the model samples on from its
        last bar; the take holds the prompt and the continuation, with ``extras["continuation"]``
        the mix from the prompt's end. The style defaults to ``chorale`` for a prompt of several
        parts and ``folk`` for one.

        Raises
        ------
        EngineError
            For bytes that are no MIDI file, or a file with no notes outside the drum channel.
        """
        from music.engines.symbolic.theory import estimate_key

        params = dict(request.params)
        events, facts = midi_events(midi, meter=params.get("meter"))
        params.setdefault("meter", facts["meter"])
        params.setdefault("bpm", facts["bpm"])
        params.setdefault("voices", facts["voices"])
        if "bars" not in params and request.seconds is None:
            params["bars"] = 8
        params.setdefault("style", "chorale" if facts["voices"] > 1 else "folk")
        if "key" not in params and facts["key"]:
            params["key"] = facts["key"]
        if "key" not in params:
            tonic, mode = estimate_key(events)
            params["key"] = f"{tk.TONICS[tonic]} {mode}"
        req = Request(prompt=request.prompt, seconds=request.seconds, seed=request.seed, params=params)
        plan = resolve(req)
        header = plan.header
        events = [e for e in events if e.voice < header.voices]
        prompt = tk.encode(header, events, eos=False)[tk.HEADER_LEN:]
        prompt_bars = prompt.count(tk.BAR)
        plan, toks = self.compose(req, prompt=prompt)
        full = SymbolicPlan(plan.style, plan.header, plan.bpm, plan.bars + prompt_bars, plan.sampling,
                            plan.defaults)
        take = self.render(full, toks, req)
        cut = round(prompt_bars * tk.bar_steps(header.meter) / tk.GRID * 60.0 / plan.bpm * take.mix.sr)
        extra = Audio(np.ascontiguousarray(take.mix.samples[:, cut:]), take.mix.sr)
        take.provenance["continued"] = {"prompt_bars": prompt_bars, "prompt_notes": len(events),
                                        "new_bars": plan.bars,
                                        "prompt_sha256": hashlib.sha256(midi).hexdigest()}
        return Take(mix=take.mix, stems=take.stems, midi=take.midi, provenance=take.provenance, bpm=take.bpm,
                    key=take.key, seed=take.seed, extras={"continuation": extra})


def midi_events(data: bytes, *, meter: str | None = None) -> tuple[list[tk.Event], dict[str, Any]]:
    """Grid events and facts (bpm, metre, voices, key signature or ``None``) of a Standard MIDI File.

    Each track (or, in a one-track file, each channel) with notes becomes a voice, ordered
    by mean pitch from the top; drums (channel 10) are left out. Onsets and lengths are
    rounded to the sixteenth grid; at most four voices are kept (the four highest).
    """
    import io

    import mido

    try:
        mf = mido.MidiFile(file=io.BytesIO(data))
    except Exception as exc:
        raise EngineError(f"not a readable MIDI file: {exc}") from exc
    tpq = mf.ticks_per_beat
    bpm, ts, key = 120.0, None, None
    voices: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for ti, track in enumerate(mf.tracks):
        now = 0
        open_: dict[tuple[int, int], int] = {}
        for msg in track:
            now += msg.time
            if msg.type == "set_tempo" and now == 0:
                bpm = float(mido.tempo2bpm(msg.tempo))
            elif msg.type == "time_signature" and ts is None:
                ts = f"{msg.numerator}/{msg.denominator}"
            elif msg.type == "key_signature" and key is None:
                key = msg.key
            elif msg.type in ("note_on", "note_off") and msg.channel != 9:
                k = (msg.channel, msg.note)
                if msg.type == "note_on" and msg.velocity > 0:
                    open_[k] = now
                elif k in open_:
                    start = open_.pop(k)
                    voices.setdefault((ti, msg.channel), []).append((start, now, msg.note))
    parts = sorted(voices.values(), key=lambda ns: -np.mean([n[2] for n in ns]))[:tk.MAX_VOICES]
    if not parts:
        raise EngineError("the MIDI file has no notes (outside the drum channel)")
    meter = meter or (ts if ts in tk.METERS else "4/4")
    bar = tk.bar_steps(meter)
    events = []
    for v, notes in enumerate(parts):
        for start, end, pitch in notes:
            on = round(start * tk.GRID / tpq)
            dur = max(1, round((end - start) * tk.GRID / tpq))
            while pitch < tk.LOW:
                pitch += 12
            while pitch > tk.HIGH:
                pitch -= 12
            events.append(tk.Event(on // bar, on % bar, v, pitch, tk.quantise_duration(dur)))
    return events, {"bpm": round(bpm, 3), "meter": meter, "voices": len(parts), "key": key}
