"""The training set: music21's bundled corpus, tokenised, split by work, cached.

Sources (all inside the ``music21`` wheel, BSD; no download):

===========  =========================================================  ==========
style        music21 corpus                                             voices
===========  =========================================================  ==========
chorale      ``bach`` (the four-part chorales)                          4
fiddle       ``ryansMammoth``, ``oneills1850``, ``nottingham-dataset``  1
folk         ``essenFolksong``                                          1
renaissance  ``palestrina`` (works with at most four voices)            2-4
===========  =========================================================  ==========

Each work becomes one token sequence (:mod:`.tokens`) at its written pitch; transposition
is applied when batches are drawn (:func:`music.engines.symbolic.training.sample_batch`), so the
cache stays small. The held-out split is fixed **by work**: a work is held out when the first
byte of ``sha1(work_id)`` is below :data:`HELD_OUT_BYTE` (≈ 5 %), so every excerpt of a work
sits on one side; entries with the same opening (:func:`incipit`: one tune in two collections,
one chorale melody harmonised twice) count as one work. Parsing is slow (half an hour on a
busy 2-core machine); the result is an ``.npz`` holding tokens, split, work ids and a JSON
manifest: a copy ships with the package (:data:`BUNDLED`) and ``songmint train-symbolic
--rebuild-corpus`` writes a fresh one to the user cache.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from music.audio import atomic_path
from music.engines.symbolic import tokens as tk
from music.engines.symbolic.theory import estimate_key
from music.errors import EngineError

HELD_OUT_BYTE = 13
"""A work is held out when ``sha1(work_id)[0] < 13`` (13/256 ≈ 5.1 %)."""

SOURCES: dict[str, tuple[str, ...]] = {
    "chorale": ("bach",),
    "fiddle": ("ryansMammoth", "oneills1850", "nottingham-dataset"),
    "folk": ("essenFolksong",),
    "renaissance": ("palestrina",),
}
SOURCE_CAPS: dict[str, int] = {"essenFolksong": 2500, "palestrina": 600}
"""At most this many works from a source (files read in sha1 order of their names, so a cap
takes a spread of the collection): the Essen collection and Palestrina alone would take most of
the build on a small machine."""
BUILDER_VERSION = 1
SPLIT_RULE = f"by tune: sha1(first work id of the incipit group)[0] < {HELD_OUT_BYTE}"


def _kern_spines(path: Path) -> int:
    """Number of ``**kern`` spines of a Humdrum file (0 if unreadable): skips >4-voice works unparsed."""
    try:
        with open(path, encoding="latin-1") as f:
            for line in f:
                if line.startswith("**"):
                    return line.split("\t").count("**kern")
    except OSError:
        pass
    return 0


@dataclass
class Dataset:
    """Tokenised works.

    Attributes
    ----------
    tokens : np.ndarray, shape (total,), int16
        All works' tokens, concatenated.
    offsets : np.ndarray, shape (n_works + 1,), int64
        Work ``i`` is ``tokens[offsets[i]:offsets[i + 1]]``.
    work_ids : list of str
        ``"corpus/file[#number]"`` per work.
    held_out : np.ndarray, shape (n_works,), bool
        The fixed held-out split.
    manifest : dict
        Sources, counts, music21 version, build time.
    """

    tokens: np.ndarray
    offsets: np.ndarray
    work_ids: list[str]
    held_out: np.ndarray
    manifest: dict[str, Any]

    def work(self, i: int) -> np.ndarray:
        """Tokens of work ``i``."""
        return self.tokens[self.offsets[i]:self.offsets[i + 1]]

    def split(self, held_out: bool) -> list[int]:
        """Indices of the training (``False``) or held-out (``True``) works."""
        return [i for i, h in enumerate(self.held_out) if bool(h) == held_out]

    def styles(self) -> list[str]:
        """The style of each work (from its header)."""
        return [tk.VOCAB[int(self.tokens[o + 1])].removeprefix("STYLE_") for o in self.offsets[:-1]]


def is_held_out(work_id: str) -> bool:
    """Whether a work (group) named ``work_id`` belongs to the fixed held-out split."""
    return hashlib.sha1(work_id.encode()).digest()[0] < HELD_OUT_BYTE


def incipit(tokens: np.ndarray, notes: int = 17) -> tuple[int, ...]:
    """A transposition-invariant signature of a work's opening: the first ``notes`` notes of
    its top voice as intervals and lengths. Two entries with the same incipit are one tune
    (the same fiddle tune in Ryan's and O'Neill's, one chorale melody harmonised twice)."""
    _, events = tk.decode(tokens)
    top = sorted((e.bar, e.pos, -e.pitch, e.dur) for e in events if e.voice == 0)[:notes]
    pitches = [-t[2] for t in top]
    return tuple(int(x) for x in np.diff(pitches)) + tuple(t[3] for t in top)


def split(ids: list[str], seqs: list[np.ndarray]) -> np.ndarray:
    """The held-out mask, by tune: entries sharing an :func:`incipit` fall on one side, decided by
    :func:`is_held_out` of the group's first work id."""
    first: dict[tuple[int, ...], str] = {}
    sigs = [incipit(s) for s in seqs]
    for w, sig in sorted(zip(ids, sigs, strict=True)):
        first.setdefault(sig, w)
    return np.array([is_held_out(first[sig]) for sig in sigs], dtype=bool)


BUNDLED = Path(__file__).parent / "data" / f"corpus-v{BUILDER_VERSION}.npz"
"""The tokenised corpus as built here (0.8 MB), shipped so training needs no corpus parse."""


def default_cache() -> Path:
    """``<user cache>/songmint/symbolic/corpus-v{BUILDER_VERSION}.npz``."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("songmint", appauthor=False)) / "symbolic" / \
        f"corpus-v{BUILDER_VERSION}.npz"


def score_events(score: Any) -> tuple[tk.Header, list[tk.Event]] | None:
    """Header (without style) and grid events of a music21 ``Score``; ``None`` if unusable.

    Parts are ordered by mean pitch, high to low (voice 0 is the top part). Tied notes are
    merged; grace notes dropped; chords contribute every pitch to their part. Bars come from
    the top part's measures; a short first measure is a pickup, right-aligned in its bar.
    """
    from music21 import meter as m21meter
    from music21 import tempo as m21tempo

    parts = list(score.parts) if hasattr(score, "parts") and len(score.parts) else [score]
    if not 1 <= len(parts) <= tk.MAX_VOICES:
        return None
    ts = next(iter(score.recurse().getElementsByClass(m21meter.TimeSignature)), None)
    meter = ts.ratioString if ts is not None else "4/4"
    bar_len = tk.bar_steps(meter) if meter in tk.METERS else (
        round(ts.barDuration.quarterLength * tk.GRID) if ts is not None else 16)
    mm = next(iter(score.recurse().getElementsByClass(m21tempo.MetronomeMark)), None)
    bpm = float(mm.getQuarterBPM()) if mm is not None and mm.getQuarterBPM() else None

    measures = list(parts[0].getElementsByClass("Measure"))
    starts = [round(float(m.offset) * tk.GRID) for m in measures] or [0]
    shift = 0
    if len(measures) > 1:
        first = starts[1] - starts[0]
        if 0 < first < bar_len:
            shift = bar_len - first

    notes_by_part: list[list[tuple[int, int, int]]] = []
    for part in parts:
        notes = _part_notes(part)
        if notes:
            notes_by_part.append(notes)
    if not notes_by_part:
        return None
    notes_by_part.sort(key=lambda ns: -float(np.mean([p for _, p, _ in ns])))

    events: list[tk.Event] = []
    for voice, notes in enumerate(notes_by_part):
        for onset, pitch, dur in notes:
            b = max(0, bisect.bisect_right(starts, onset) - 1)
            pos = onset - starts[b] + (shift if b == 0 else 0)
            if not (0 <= pos < tk.MAX_POS and tk.LOW <= pitch <= tk.HIGH):
                return None
            events.append(tk.Event(b, pos, voice, pitch, tk.quantise_duration(dur)))
    tonic, mode = estimate_key(events)
    header = tk.Header("chorale", tonic, mode, meter, bpm, len(notes_by_part))
    return header, events


def _part_notes(part: Any) -> list[tuple[int, int, int]]:
    """``(onset, pitch, length)`` in grid steps for one part, tied notes merged (no stream copy)."""
    notes: list[tuple[int, int, int]] = []
    open_ties: dict[int, int] = {}  # pitch -> index in notes of the note its tie continues
    for n in part.flatten().notes:
        if n.duration.isGrace or n.duration.quarterLength <= 0:
            continue
        onset = round(float(n.offset) * tk.GRID)
        end = round(float(n.offset + n.duration.quarterLength) * tk.GRID)
        for p in (n.pitches if n.isChord else (n.pitch,)):
            midi = int(p.midi)
            tie = n.tie.type if n.tie is not None else None
            j = open_ties.get(midi)
            if j is not None and tie in ("stop", "continue") and notes[j][0] + notes[j][2] >= onset - 1:
                notes[j] = (notes[j][0], midi, max(1, end - notes[j][0]))
                if tie == "stop":
                    del open_ties[midi]
                continue
            notes.append((onset, midi, max(1, end - onset)))
            if tie == "start":
                open_ties[midi] = len(notes) - 1
    return notes


def _works(style: str, composer: str) -> Iterator[tuple[str, Any]]:
    """``(work_id, score)`` for every work of one music21 corpus folder."""
    from music21 import converter, corpus, stream

    paths = sorted(corpus.getComposer(composer), key=lambda p: hashlib.sha1(Path(p).name.encode()).digest())
    for path in paths:
        name = f"{composer}/{Path(path).name}"
        if style == "chorale" and Path(path).suffix != ".mxl":
            continue
        if Path(path).suffix == ".krn" and not 1 <= _kern_spines(Path(path)) <= tk.MAX_VOICES:
            continue
        try:
            parsed = converter.parse(str(path))
        except Exception:
            continue
        if isinstance(parsed, stream.Opus):
            for i, score in enumerate(parsed.scores):
                num = score.metadata.number if score.metadata is not None else None
                yield f"{name}#{num or i}", score
        else:
            yield name, parsed


def build(*, styles: tuple[str, ...] = tuple(SOURCES), limit: int | None = None,
          progress: Callable[[str], None] | None = None) -> Dataset:
    """Parse and tokenise the corpus (minutes; see :func:`load` for the cached route).

    Parameters
    ----------
    styles : tuple of str
        Which styles' sources to read.
    limit : int or None
        At most this many works per source (tests and quick probes).
    progress : callable or None
        Called with one line per source.
    """
    import music21

    t0 = time.perf_counter()
    seqs: list[np.ndarray] = []
    ids: list[str] = []
    counts: dict[str, dict[str, int]] = {}
    seen: set[str] = set()
    for style in styles:
        for composer in SOURCES[style]:
            kept = skipped = 0
            cap = min(limit or 10**9, SOURCE_CAPS.get(composer, 10**9))
            for work_id, score in _works(style, composer):
                if kept + skipped >= cap:
                    break
                if work_id in seen:
                    continue
                seen.add(work_id)
                try:
                    got = score_events(score)
                except Exception:
                    got = None
                if got is None or len(got[1]) < 8:
                    skipped += 1
                    continue
                header, events = got
                header = tk.Header(style, header.tonic, header.mode, header.meter, header.tempo,
                                   header.voices)
                seqs.append(np.asarray(tk.encode(header, events), dtype=np.int16))
                ids.append(work_id)
                kept += 1
            counts[composer] = {"works": kept, "skipped": skipped}
            if progress is not None:
                progress(f"{composer}: {kept} works, {skipped} skipped, "
                         f"{time.perf_counter() - t0:.0f} s")
    if not seqs:
        raise EngineError("the corpus gave no usable works")
    order = sorted(range(len(ids)), key=ids.__getitem__)  # canonical order, whatever the parse order
    seqs, ids = [seqs[i] for i in order], [ids[i] for i in order]
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in seqs])]).astype(np.int64)
    held = split(ids, seqs)
    manifest = {
        "builder_version": BUILDER_VERSION, "music21": music21.__version__, "sources": counts,
        "works": len(ids), "held_out_works": int(held.sum()), "tokens": int(offsets[-1]),
        "held_out_tokens": int(sum(len(s) for s, h in zip(seqs, held, strict=True) if h)),
        "vocab_size": tk.vocab_size(), "grid_per_quarter": tk.GRID, "limit": limit, "caps": SOURCE_CAPS,
        "split": SPLIT_RULE, "build_seconds": round(time.perf_counter() - t0, 1),
    }
    return Dataset(np.concatenate(seqs), offsets, ids, held, manifest)


def save(ds: Dataset, path: str | Path) -> Path:
    """Write ``ds`` as ``.npz`` (tokens, offsets, split, ids and manifest), atomically."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, tokens=ds.tokens, offsets=ds.offsets, held_out=ds.held_out,
                            work_ids=np.array(ds.work_ids), manifest=np.array(json.dumps(ds.manifest)))
    return path


def read(path: str | Path) -> Dataset:
    """A dataset written by :func:`save`."""
    try:
        with np.load(Path(path), allow_pickle=False) as z:
            return Dataset(z["tokens"].astype(np.int16), z["offsets"], [str(w) for w in z["work_ids"]],
                           z["held_out"].astype(bool), json.loads(str(z["manifest"])))
    except (OSError, KeyError, ValueError) as exc:
        raise EngineError(f"cannot read the symbolic corpus cache {path}: {exc}") from exc


def load(path: str | Path | None = None, *, build_if_missing: bool = True, rebuild: bool = False,
         progress: Callable[[str], None] | None = None) -> Dataset:
    """The tokenised corpus.

    ``path`` if given (built there first if missing), else the user cache
    (:func:`default_cache`) if present, else the copy shipped in the package (:data:`BUNDLED`).
    ``rebuild`` parses music21's corpus again and writes ``path`` (default: the user cache).
    """
    target = Path(path) if path is not None else default_cache()
    if not rebuild:
        if target.exists():
            return read(target)
        if path is None and BUNDLED.exists():
            return read(BUNDLED)
        if not build_if_missing:
            raise EngineError(f"no symbolic corpus cache at {target}; "
                              "run songmint train-symbolic --build-only")
    try:
        import music21  # noqa: F401
    except ModuleNotFoundError as exc:
        raise EngineError("building the symbolic corpus needs music21: pip install music21") from exc
    ds = build(progress=progress)
    save(ds, target)
    return ds


def merge(parts: list[Dataset]) -> Dataset:
    """One dataset from several (e.g. one build per style), in work-id order; manifests' sources
    are combined."""
    if not parts:
        raise EngineError("nothing to merge")
    works = sorted(((w, p.work(i)) for p in parts for i, w in enumerate(p.work_ids)),
                   key=lambda x: x[0])
    tokens = np.concatenate([x[1] for x in works])
    lengths = np.array([len(x[1]) for x in works])
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    ids = [x[0] for x in works]
    held = split(ids, [x[1] for x in works])
    manifest = dict(parts[0].manifest)
    manifest["sources"] = {k: v for p in parts for k, v in p.manifest["sources"].items()}
    manifest.update(works=len(ids), split=SPLIT_RULE, held_out_works=int(held.sum()), tokens=int(offsets[-1]),
                    held_out_tokens=int(sum(int(lengths[i]) for i in np.flatnonzero(held))),
                    build_seconds=round(sum(p.manifest["build_seconds"] for p in parts), 1))
    return Dataset(tokens, offsets, ids, held, manifest)
