"""Audio to MIDI with Spotify's Basic Pitch [1]_ (Apache-2.0), its ONNX model run by onnxruntime.

The model ships inside the ``basic-pitch`` wheel (``saved_models/icassp_2022/nmp.onnx``, 230 KB);
the wheel is installed for that file only (``pip install --no-deps basic-pitch``: its TensorFlow
dependency does not install next to numpy 2) and none of its Python is imported. The model takes
2-second windows of 22 050 Hz mono audio and gives, at 86 frames per second over 88 piano keys
(MIDI 21–108), a note-activation and an onset posteriorgram. Notes are decoded here as the paper
and the reference decoder describe them:

1. onsets are also inferred from rises in the note activation (the smaller of the one- and
   two-frame differences, scaled to the onsets' peak), and the onset peaks over ``onset_threshold``
   (local maxima in time) start notes, latest first;
2. each note runs while its activation stays over ``frame_threshold``, allowing ``energy_tolerance``
   frames under it, and is kept if longer than ``min_note_frames``; its activation (and its
   neighbours' a semitone away) is then used up;
3. the "Melodia trick": while unused activation over the threshold remains, the strongest frame
   grows into a note both ways by the same rule (notes whose onset the model missed).

Frame times subtract the ~10 ms per window that 2-s windows of 43 844 samples drift by against
86 frames.

References
----------
.. [1] R. M. Bittner, J. J. Bosch, D. Rubinstein, G. Meseguer-Brocal, S. Ewert, "A lightweight
   instrument-agnostic model for polyphonic note transcription and multipitch estimation",
   ICASSP 2022.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from music.audio import Audio, conform
from music.errors import EngineError, ModelNotFoundError

__all__ = ["Note", "Transcriber", "model_path", "notes_to_midi", "require_model", "transcribe"]

SR = 22_050
HOP = 256
WINDOW = 2 * SR - HOP  # 43 844 samples: the model's input
FRAMES = 172  # output frames per window (2 s at 86 fps)
OVERLAP_FRAMES = 30
OVERLAP = OVERLAP_FRAMES * HOP
STEP = WINDOW - OVERLAP
FPS = SR / HOP
MIDI_OFFSET = 21
KEYS = 88
WINDOW_DRIFT_S = HOP / SR * (FRAMES - WINDOW / HOP) + 0.0018
"""Seconds by which each window's frames run ahead of the audio (the reference's correction)."""

HOW_TO_INSTALL = "pip install --no-deps basic-pitch onnxruntime (or `make setup`)"


@dataclass(frozen=True)
class Note:
    """A transcribed note: start and end in seconds, MIDI pitch, velocity 1–127."""

    start: float
    end: float
    pitch: int
    velocity: int


def model_path() -> Path:
    """The Basic Pitch ONNX file inside the installed ``basic-pitch`` wheel (its package is not imported).

    Raises
    ------
    ModelNotFoundError
        When the wheel is not installed, with the install command.
    """
    spec = importlib.util.find_spec("basic_pitch")
    if spec is None or spec.origin is None:
        raise ModelNotFoundError(f"transcription needs Basic Pitch's model: {HOW_TO_INSTALL}")
    path = Path(spec.origin).parent / "saved_models" / "icassp_2022" / "nmp.onnx"
    if not path.is_file():
        raise ModelNotFoundError(f"{path} is missing; reinstall: {HOW_TO_INSTALL}")
    return path


def require_model() -> Path:
    """:func:`model_path`, once onnxruntime is known to be installed (found, not imported): what a
    command checks before work that ends in a transcription.

    Raises
    ------
    ModelNotFoundError
        When the wheel or onnxruntime is not installed, with the install command.
    """
    if importlib.util.find_spec("onnxruntime") is None:
        raise ModelNotFoundError(f"transcription needs onnxruntime: {HOW_TO_INSTALL}")
    return model_path()


@lru_cache(maxsize=1)
def _session(path: str, threads: int) -> Any:
    try:
        import onnxruntime as ort
    except ModuleNotFoundError as exc:
        raise ModelNotFoundError(f"transcription needs onnxruntime: {HOW_TO_INSTALL}") from exc
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])


class Transcriber:
    """Basic Pitch, loaded once (the ONNX session), then :meth:`transcribe` any number of clips.

    Parameters
    ----------
    onset_threshold, frame_threshold : float
        Posteriorgram thresholds (the reference's 0.5 and 0.3).
    min_note_ms : float
        Shortest note kept (127.7 ms in the reference: 11 frames).
    energy_tolerance : int
        Frames under ``frame_threshold`` a note may hold through.
    melodia_trick : bool
        Also grow notes from unused activation (see the module docs).
    threads : int
        onnxruntime intra-op threads.
    """

    def __init__(self, *, onset_threshold: float = 0.5, frame_threshold: float = 0.3,
                 min_note_ms: float = 127.7, energy_tolerance: int = 11, melodia_trick: bool = True,
                 threads: int = 1) -> None:
        self.onset_threshold = float(onset_threshold)
        self.frame_threshold = float(frame_threshold)
        self.min_note_frames = round(min_note_ms / 1000 * FPS)
        self.energy_tolerance = int(energy_tolerance)
        self.melodia_trick = bool(melodia_trick)
        self.path = model_path()
        self.session = _session(str(self.path), int(threads))
        self._outputs = _output_names(self.session)

    def posteriorgrams(self, audio: Audio) -> tuple[np.ndarray, np.ndarray]:
        """The model's note and onset activations of ``audio``.

        Returns
        -------
        note, onset : np.ndarray, shape=(frames, 88), float32
            ``frames = floor(duration · 22050 / 256)``; column ``k`` is MIDI pitch ``21 + k``.
        """
        y = conform(audio, sr=SR, channels=1).samples[0].astype(np.float32)
        n = y.size
        if n == 0:
            raise EngineError("cannot transcribe empty audio")
        padded = np.concatenate([np.zeros(OVERLAP // 2, np.float32), y])
        starts = range(0, padded.size, STEP)
        windows = np.zeros((len(starts), WINDOW, 1), np.float32)
        for i, s in enumerate(starts):
            piece = padded[s:s + WINDOW]
            windows[i, :piece.size, 0] = piece
        name_in = self.session.get_inputs()[0].name
        notes, onsets = [], []
        for i in range(0, len(windows), 16):
            note, onset = self.session.run(self._outputs, {name_in: windows[i:i + 16]})
            notes.append(note)
            onsets.append(onset)
        keep = int(np.floor(n * FPS / SR))
        return _unwrap(np.concatenate(notes), keep), _unwrap(np.concatenate(onsets), keep)

    def transcribe(self, audio: Audio, *, monophonic: bool = False) -> list[Note]:
        """Notes of ``audio`` (any rate and channel count), sorted by start then pitch.

        ``monophonic`` (a bass or lead line): where notes overlap, only the strongest is kept
        (the others are mostly its harmonics and octaves).
        """
        note, onset = self.posteriorgrams(audio)
        events = decode(note, onset, onset_threshold=self.onset_threshold,
                        frame_threshold=self.frame_threshold, min_note_frames=self.min_note_frames,
                        energy_tolerance=self.energy_tolerance, melodia_trick=self.melodia_trick)
        if monophonic:
            events = one_at_a_time(events)
        times = frame_times(note.shape[0] + 1)
        out = [Note(float(times[s]), float(times[e]), int(p), int(np.clip(round(127 * a), 1, 127)))
               for s, e, p, a in events]
        return sorted(out, key=lambda x: (x.start, x.pitch))


def _output_names(session: Any) -> list[str]:
    """The note and onset outputs (88 wide): the SavedModel's alphabetical order, contour/note/onset."""
    outs = sorted((o.name for o in session.get_outputs()), key=lambda s: int(s.rsplit(":", 1)[1]))
    return [outs[1], outs[2]]


def _unwrap(windows: np.ndarray, frames: int) -> np.ndarray:
    half = OVERLAP_FRAMES // 2
    core = windows[:, half:-half, :]
    return core.reshape(-1, core.shape[-1])[:frames]


def frame_times(n: int) -> np.ndarray:
    """Seconds of output frames ``0 … n-1``, drift of the windows corrected."""
    i = np.arange(n)
    return i / FPS - WINDOW_DRIFT_S * np.floor(i / FRAMES)


def _inferred_onsets(onset: np.ndarray, note: np.ndarray, n_diff: int = 2) -> np.ndarray:
    """Onsets, raised where the note activation rises (min over 1..n_diff frame differences)."""
    diffs = []
    for k in range(1, n_diff + 1):
        padded = np.concatenate([np.zeros((k, note.shape[1]), note.dtype), note])
        diffs.append(padded[k:] - padded[:-k])
    rise = np.min(diffs, axis=0)
    rise[rise < 0] = 0
    rise[:n_diff] = 0
    peak = rise.max()
    if peak > 0:
        rise = rise * (onset.max() / peak)
    return np.maximum(onset, rise)


def _extend(energy: np.ndarray, start: int, key: int, step: int, threshold: float, tolerance: int,
            *, clear: bool) -> int:
    """Follow ``key`` from ``start`` in direction ``step`` while the activation holds; the last frame
    over ``threshold`` (clearing what it passes when ``clear``)."""
    n = energy.shape[0]
    i, under = start + step, 0
    while 0 < i < n - 1 and under < tolerance:
        if energy[i, key] < threshold:
            under += 1
        else:
            under = 0
        if clear:
            energy[i, key] = 0
            for nb in (key - 1, key + 1):
                if 0 <= nb < energy.shape[1]:
                    energy[i, nb] = 0
        i += step
    return i - step * (1 + under)


def decode(note: np.ndarray, onset: np.ndarray, *, onset_threshold: float = 0.5,
           frame_threshold: float = 0.3, min_note_frames: int = 11, energy_tolerance: int = 11,
           melodia_trick: bool = True) -> list[tuple[int, int, int, float]]:
    """Note events ``(start frame, end frame, MIDI pitch, amplitude)`` from the posteriorgrams
    (see the module docs for the method)."""
    from scipy.signal import argrelmax

    n = note.shape[0]
    if n < 3:
        return []
    onset = _inferred_onsets(onset, note)
    peaks = np.zeros_like(onset)
    t_idx, k_idx = argrelmax(onset, axis=0)
    peaks[t_idx, k_idx] = onset[t_idx, k_idx]
    starts = np.argwhere(peaks >= onset_threshold)
    order = np.lexsort((starts[:, 1], starts[:, 0]))[::-1]  # latest first
    energy = note.copy()
    events: list[tuple[int, int, int, float]] = []
    for t0, key in starts[order]:
        if t0 >= n - 1:
            continue
        i, under = t0 + 1, 0
        while i < n - 1 and under < energy_tolerance:
            under = under + 1 if energy[i, key] < frame_threshold else 0
            i += 1
        end = i - under
        if end - t0 <= min_note_frames:
            continue
        energy[t0:end, max(0, key - 1):key + 2] = 0
        events.append((int(t0), int(end), int(key) + MIDI_OFFSET, float(note[t0:end, key].mean())))
    if melodia_trick:
        while energy.max() > frame_threshold:
            mid, key = np.unravel_index(int(np.argmax(energy)), energy.shape)
            energy[mid, key] = 0
            end = _extend(energy, mid, key, +1, frame_threshold, energy_tolerance, clear=True)
            start = _extend(energy, mid, key, -1, frame_threshold, energy_tolerance, clear=True)
            if end - start <= min_note_frames:
                continue
            events.append((int(start), int(end), int(key) + MIDI_OFFSET, float(note[start:end, key].mean())))
    return events


def one_at_a_time(events: list[tuple[int, int, int, float]], *, overlap: float = 0.5
                  ) -> list[tuple[int, int, int, float]]:
    """The strongest events first, each kept unless it overlaps a kept one by more than ``overlap``
    of the shorter of the two."""
    kept: list[tuple[int, int, int, float]] = []
    for ev in sorted(events, key=lambda e: -e[3]):
        s, e = ev[0], ev[1]
        if all(min(e, b) - max(s, a) <= overlap * min(e - s, b - a) for a, b, *_ in kept):
            kept.append(ev)
    return kept


STEM_SETTINGS: dict[str, dict[str, Any]] = {
    "bass": {"onset_threshold": 0.6, "monophonic": True},
    "lead": {"onset_threshold": 0.6},
    "chords": {"onset_threshold": 0.6, "melodia_trick": False},
}
"""Decoder settings per stem name, chosen on composer takes (``benchmarks/transcription.py``): a
bass line is one note at a time; sustained chords re-trigger under the Melodia trick. Other
pitched stems get the reference settings."""

UNPITCHED = ("drums", "percussion", "perc")
"""Stem names that are not transcribed (no pitch to write)."""

GM_PROGRAMS = {"bass": 33, "lead": 81, "chords": 4, "vocals": 54, "other": 0}
"""General MIDI programs the MIDI files are given by stem name (fingered bass, saw lead, e-piano,
voice oohs); anything else is a piano."""


def transcribe_stems(stems: dict[str, Audio], *, bpm: float, title: str = "take"
                     ) -> tuple[dict[str, bytes], list[str]]:
    """One standard MIDI file per pitched stem, on the take's tempo; unpitched stems are skipped.

    Returns
    -------
    midi : dict of str to bytes
        By stem name.
    skipped : list of str
        The stems left out (drums and other unpitched parts).
    """
    midi: dict[str, bytes] = {}
    skipped = []
    sessions: dict[tuple[Any, ...], Transcriber] = {}
    for name, audio in stems.items():
        if name.lower() in UNPITCHED:
            skipped.append(name)
            continue
        opts = dict(STEM_SETTINGS.get(name, {}))
        mono = opts.pop("monophonic", False)
        key = tuple(sorted(opts.items()))
        tr = sessions.setdefault(key, Transcriber(**opts))
        notes = tr.transcribe(audio, monophonic=mono)
        midi[name] = notes_to_midi(notes, bpm=bpm, program=GM_PROGRAMS.get(name, 0), name=f"{title} {name}")
    return midi, skipped


def transcribe(audio: Audio, *, monophonic: bool = False, **options: Any) -> list[Note]:
    """``Transcriber(**options).transcribe(audio, monophonic=...)`` (the session is cached)."""
    return Transcriber(**options).transcribe(audio, monophonic=monophonic)


def notes_to_midi(notes: list[Note], *, bpm: float, program: int = 0, name: str = "transcription",
                  ticks_per_beat: int = 480) -> bytes:
    """A type-1 standard MIDI file of ``notes``: a tempo track at ``bpm`` and one note track.

    Note times in seconds are placed on the tempo grid (``beats = seconds · bpm / 60``), so the
    file plays back in time and lines up with the take's bars in a DAW.
    """
    import io

    import mido

    if not bpm > 0:
        raise EngineError(f"tempo {bpm!r} must be positive")
    mid = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("track_name", name=name, time=0))
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    conductor.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    mid.tracks.append(conductor)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=name, time=0))
    track.append(mido.Message("program_change", program=program, channel=0, time=0))
    tick = lambda s: round(s * bpm / 60 * ticks_per_beat)  # noqa: E731
    events = []
    for nt in notes:
        a, b = tick(nt.start), max(tick(nt.end), tick(nt.start) + 1)
        events += [(a, 1, nt.pitch, nt.velocity), (b, 0, nt.pitch, 0)]
    now = 0
    for t, on, pitch, vel in sorted(events):  # offs before ons at the same tick
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, note=pitch, velocity=vel, channel=0, time=t - now))
        now = t
    mid.tracks.append(track)
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()
