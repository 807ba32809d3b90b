"""What every engine's take gets after the model: conform, loop, master, stems, MIDI, tempo and key.

The composer does all of this itself (it knows its tempo, key and parts). A neural engine's raw
output goes through :func:`finish_take`, in this order:

1. **measure** tempo and key with :mod:`music.traits` (the one estimator everywhere);
2. **conform** (``bpm``, ``key``): a phase-vocoder time stretch by ``bpm / measured`` and a pitch
   shift by the nearest interval to the asked key (librosa's ``time_stretch`` / ``pitch_shift``,
   ISC-licensed; Laroche & Dolson 1999), recorded in provenance;
3. **loop**: cut to whole bars at the tempo and fold the audio past the cut over the start with an
   equal-power crossfade, so the end runs into the start as the take itself ran on (the composer's
   fold);
4. **master** to ``lufs`` under ``true_peak`` with the composer's mastering
   (:func:`music.engines.composer.master`; a loop is mastered in three copies so the seam holds);
5. **stems** by separation (:mod:`music.separation`) of the mastered mix: they sum to it;
6. **MIDI** by transcription (:mod:`music.transcription`) of each pitched stem (or of the mix),
   on the take's tempo.

The raw model output is kept as the extra ``raw``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from music import loudness
from music.audio import Audio
from music.engines.base import Take
from music.errors import EngineError

__all__ = ["Finish", "finish_take", "loop_cut", "measure", "semitones_to"]

LOOP_FADE_S = 0.05


@dataclass(frozen=True)
class Finish:
    """Finishing settings (the CLI's ``--lufs``, ``--bpm``, ``--key``, ``--loop``, ``--stems``, ``--midi``).

    Attributes
    ----------
    lufs, true_peak : float or None
        Mastering target and ceiling; ``lufs=None`` leaves the loudness as the model made it.
    bpm : float, optional
        Conform the tempo to this.
    key : str, optional
        Conform the key to this ("F# minor").
    loop : bool
        Cut to whole bars with a seamless seam.
    stems : tuple of str, optional
        Separate and keep these stems (``("all",)``: every one).
    midi : bool
        Transcribe.
    separator : str, optional
        Separation model (default htdemucs).
    """

    lufs: float | None = -14.0
    true_peak: float = -1.0
    bpm: float | None = None
    key: str | None = None
    loop: bool = False
    stems: tuple[str, ...] | None = None
    midi: bool = False
    separator: str | None = None

    def __post_init__(self) -> None:
        if self.lufs is not None and not -40.0 <= self.lufs <= -5.0:
            raise EngineError(f"loudness target {self.lufs:g} LUFS is out of range; choose -40 to -5")
        if not -9.0 <= self.true_peak <= 0.0:
            raise EngineError(f"true-peak ceiling {self.true_peak:g} dBTP is out of range; choose -9 to 0")
        if self.bpm is not None and not 40 <= self.bpm <= 300:
            raise EngineError(f"tempo {self.bpm:g} BPM is out of range; choose 40–300")

    def require_models(self) -> None:
        """Find the separation and transcription models these settings need, without loading them.

        Called before the engine runs, so that missing weights stop a command at once, in one line
        naming how to get them, rather than after minutes of generation.

        Raises
        ------
        ModelNotFoundError
            Naming ``songmint models pull htdemucs`` (or the separator asked), or how to install
            Basic Pitch.
        """
        if self.stems:
            from music.separation import locate_separator

            locate_separator(self.separator)
        if self.midi:
            from music.transcription import require_model

            require_model()


MIN_MEASURE_S = 2.0
"""Clips shorter than this (one-shots) have no tempo or key to measure."""


def measure(audio: Audio) -> tuple[float | None, str | None]:
    """Tempo (BPM) and key of ``audio`` with :func:`music.traits.extract`; ``None`` where it finds
    none (and for clips under :data:`MIN_MEASURE_S`)."""
    from music.traits import TraitsError, extract

    if audio.duration < MIN_MEASURE_S or not np.any(audio.samples):
        return None, None
    try:
        t = extract(audio)
    except TraitsError:
        return None, None
    bpm = float(t.tempo_bpm) if t.tempo_bpm and t.tempo_bpm > 0 else None
    return bpm, (t.key or None)


def semitones_to(measured: str, target: str) -> int:
    """The shift in ``-6 … +5`` semitones that takes key ``measured`` to ``target`` (a minor key is
    compared through its relative major when the modes differ)."""
    from music.traits import parse_key

    (a, ma), (b, mb) = parse_key(measured), parse_key(target)
    if ma != mb:  # move the measured key's relative onto the target's tonic
        a = (a + 3) % 12 if ma == "minor" else (a - 3) % 12
    d = (b - a) % 12
    return d - 12 if d > 5 else d


PERCUSSIVE_FRAME_S = 0.006
"""Frame of the percussive part's overlap-add in :func:`time_stretch` (s): short enough that a
drum hit is moved whole, not smeared (Driedger et al. use 256 samples at 22.05 kHz, 12 ms)."""


def _ola_stretch(y: np.ndarray, rate: float, frame: int) -> np.ndarray:
    """Overlap-add time-scale modification of ``y`` (shape ``(n,)``) by ``rate`` (> 1 faster):
    Hann frames read every ``rate · frame / 2`` samples and laid every ``frame / 2``. The frames
    are too short to hold a pitch, which is why only the percussive part goes this way."""
    hop = frame // 2
    out_n = round(y.size / rate)
    m = out_n // hop + 1
    starts = np.round(np.arange(m) * hop * rate).astype(np.int64)
    padded = np.concatenate([y, np.zeros(frame, y.dtype)])
    idx = np.minimum(starts[:, None] + np.arange(frame)[None, :], padded.size - 1)
    # a periodic Hann window sums to 1 at a hop of half its length: no normalisation needed
    w = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame) / frame)).astype(np.float32)
    frames = padded[idx] * w
    out = np.zeros((m + 1, hop), np.float32)
    out[:m] += frames[:, :hop]
    out[1:] += frames[:, hop:]
    return out.reshape(-1)[:out_n]


def time_stretch(audio: Audio, *, rate: float) -> Audio:
    """``audio`` played ``rate`` times faster at the same pitch, transients kept.

    Harmonic-percussive separation (median filtering, Fitzgerald 2010, librosa's ``hpss``), then
    the harmonic part by phase vocoder (Laroche & Dolson 1999) and the percussive part by short-frame
    overlap-add: HP-TSM (Driedger, Müller & Ewert 2014). A phase vocoder alone smears each drum
    hit over its 93 ms window, which blurs the very pulse a conformed take is asked to hold.

    Returns
    -------
    Audio
        ``round(n / rate)`` samples, the same channels and rate.
    """
    import librosa

    frame = 2 * max(16, round(PERCUSSIVE_FRAME_S * audio.sr / 2))
    out_n = round(audio.n / rate)
    chans = []
    for ch in audio.samples.astype(np.float32):
        harm, perc = librosa.effects.hpss(ch)
        h = librosa.effects.time_stretch(harm, rate=rate)
        h = np.pad(h, (0, max(0, out_n - h.size)))[:out_n]
        chans.append(h + _ola_stretch(perc, rate, frame))
    return Audio(np.ascontiguousarray(np.stack(chans), dtype=np.float32), audio.sr)


def _shift(audio: Audio, steps: int) -> Audio:
    import librosa

    y = np.stack([librosa.effects.pitch_shift(ch.astype(np.float32), sr=audio.sr, n_steps=steps)
                  for ch in audio.samples])
    return Audio(np.ascontiguousarray(y, dtype=np.float32), audio.sr)


def loop_cut(audio: Audio, *, bpm: float, beats_per_bar: int = 4, fade_s: float = LOOP_FADE_S) -> Audio:
    """``audio`` cut to whole bars at ``bpm``, the audio after the cut folded onto the start.

    The loop is ``n = bars · bar`` samples (as many whole bars as fit with room for the fade);
    its first ``f`` samples crossfade (equal power) from the audio that followed the cut into the
    audio that began the take, so sample ``n − 1`` is followed, on the wrap, by what followed it in
    the take.

    Raises
    ------
    EngineError
        When not even one bar (plus the fade) fits.
    """
    bar = beats_per_bar * 60.0 / bpm * audio.sr
    f = max(1, round(fade_s * audio.sr))
    bars = math.floor((audio.n - f) / bar)
    if bars < 1:
        raise EngineError(f"{audio.duration:.2f} s is shorter than one bar at {bpm:g} BPM; "
                          "make it longer to loop it")
    n = round(bars * bar)
    x = audio.samples
    out = np.array(x[:, :n], dtype=np.float32)
    t = (np.arange(f) + 0.5) / f
    g_in, g_out = np.sin(0.5 * np.pi * t), np.cos(0.5 * np.pi * t)
    out[:, :f] = g_in * x[:, :f] + g_out * x[:, n:n + f]
    return Audio(out, audio.sr)


def _master(mix: Audio, *, lufs: float, true_peak: float, loop: bool) -> Audio:
    """The composer's mastering; a mono mix is mastered as two identical channels (the composer's
    compiled limiter kernels are built for its stereo buses) and comes back mono: two channels
    measure 10·log10(2) dB louder than one, so the pair is mastered that much louder."""
    from music.engines.composer import master

    if mix.channels == 1:
        two = Audio(np.ascontiguousarray(np.repeat(mix.samples, 2, axis=0)), mix.sr)
        out = master(two, lufs=lufs + 10 * math.log10(2), true_peak_dbtp=true_peak, loop=loop)
        return Audio(np.ascontiguousarray(out.samples[:1]), mix.sr)
    return master(mix, lufs=lufs, true_peak_dbtp=true_peak, loop=loop)


def finish_take(take: Take, settings: Finish) -> Take:
    """Finish a neural engine's take (see the module docs); returns a new take."""
    raw = take.mix
    mix = raw
    bpm, key = measure(mix)
    record: dict[str, Any] = {"measured_bpm": bpm, "measured_key": key, "engine_bpm": take.bpm}
    if settings.bpm is not None:
        if bpm is None:  # no pulse to move: the asked tempo is declared (and loops cut to it)
            record["time_stretch"] = {"rate": None, "note": "no tempo measured; the asked tempo is declared"}
        else:
            rate = settings.bpm / bpm
            mix = time_stretch(mix, rate=rate)
            record["time_stretch"] = {"rate": rate, "method": "HP-TSM (phase vocoder + percussive OLA)"}
        bpm = float(settings.bpm)
    if settings.key is not None:
        if key is None:
            record["pitch_shift"] = {"semitones": None, "note": "no key measured; the asked key is declared"}
        else:
            steps = semitones_to(key, settings.key)
            if steps:
                mix = _shift(mix, steps)
            record["pitch_shift"] = {"semitones": steps, "method": "librosa phase vocoder + soxr"}
        key = settings.key
    if settings.loop:
        if bpm is None:
            raise EngineError("no tempo could be measured in the take; give --bpm to loop it")
        mix = loop_cut(mix, bpm=bpm)
        record["loop"] = {"bars": round(mix.n / (4 * 60.0 / bpm * mix.sr)), "fade_s": LOOP_FADE_S}
    keep_stems = bool(take.stems) and (mix.n, mix.sr) == (raw.n, raw.sr)
    if settings.lufs is not None and np.any(mix.samples) and keep_stems:
        # the engine's stems must still sum to the mix: one linear gain for all, to the target
        # loudness or the true-peak ceiling, whichever comes first (no limiter)
        from music.traits.level import true_peak

        gain_db = min(settings.lufs - loudness.integrated_loudness(mix), settings.true_peak - true_peak(mix))
        g = np.float32(10 ** (gain_db / 20))
        mix = mix.with_samples(mix.samples * g)
        stems = {k: v.with_samples(v.samples * g) for k, v in take.stems.items()}
        record["master"] = {"lufs": settings.lufs, "true_peak": settings.true_peak, "gain_db": gain_db,
                            "note": "linear gain: the stems still sum to the mix"}
    elif settings.lufs is not None and np.any(mix.samples):
        if mix.duration >= 0.4:
            mix = _master(mix, lufs=settings.lufs, true_peak=settings.true_peak, loop=settings.loop)
            record["master"] = {"lufs": settings.lufs, "true_peak": settings.true_peak}
        else:  # under one 400 ms gating block there is no loudness: the peak goes to the ceiling
            from music.traits.level import true_peak

            gain = 10 ** ((settings.true_peak - true_peak(mix)) / 20)
            mix = mix.with_samples((mix.samples * gain).astype(np.float32))
            record["master"] = {"true_peak": settings.true_peak, "note": "under 0.4 s: peak-normalised"}
    if not keep_stems:
        stems = {}
    elif "master" not in record:
        stems = dict(take.stems)
    if settings.stems:
        from music.separation import load_separator, separate_take

        sep = load_separator(settings.separator)
        separated = separate_take(Take(mix=mix), separator=sep, keep=settings.stems)
        stems = separated.stems
        record["separation"] = separated.provenance["separation"]
    midi = dict(take.midi)
    if settings.midi:
        from music.transcription import transcribe_stems

        if bpm is None:
            raise EngineError("no tempo could be measured in the take; give --bpm for its MIDI")
        midi, skipped = transcribe_stems(stems or {"mix": mix}, bpm=bpm)
        record["transcription"] = {"model": "basic-pitch icassp_2022 (onnx)", "skipped": skipped}
    provenance = {**take.provenance, "finish": record}
    extras = {**take.extras, "raw": raw}
    return Take(mix=mix, stems=stems, midi=midi, provenance=provenance, bpm=bpm, key=key, seed=take.seed,
                extras=extras)


FINISH_KEYS = ("lufs", "bpm", "key", "loop", "stems")
"""Options that :func:`music.engines.finish.finish_take` applies for engines whose ``Params`` lack them."""


def finish_settings(engine: Any, params: dict[str, Any], *, midi: bool = False) -> Finish | None:
    """How to finish ``engine``'s takes: ``None`` for an engine whose ``finishes_itself`` is true (the
    composer and the symbolic engine master, loop and write stems and MIDI themselves); otherwise
    the finishing options are taken out of ``params`` (those the engine's own ``Params`` have stay
    with it, e.g. Dance Diffusion's inpainted ``loop``), and the models they need are found
    (:meth:`Finish.require_models`: missing ones raise before the engine runs)."""
    if getattr(engine, "finishes_itself", False):  # it masters, loops and writes stems and MIDI itself
        if params.get("stems") == "all":
            params.pop("stems")
        return None
    own = {f.name for f in dataclasses.fields(engine.Params)}
    taken = {k: params.pop(k) for k in FINISH_KEYS if k in params and k not in own}
    stems = taken.get("stems")
    settings = Finish(
        lufs=taken.get("lufs", -14.0),
        bpm=taken.get("bpm"),
        key=taken.get("key"),
        loop=bool(taken.get("loop")),
        stems=tuple(s.strip() for s in str(stems).split(",") if s.strip()) if stems else None,
        midi=midi,
    )
    settings.require_models()
    return settings
