"""The ``units`` engine: AudioLM-style continuation without weights.

The AudioLM recipe [1]_ — tokenise audio, model the token sequence, sample a continuation, decode it —
with each part made small enough to run offline in real time on a laptop:

1. **Tokenise** (:mod:`.segment`, :mod:`.quantize`): cut the prompt at its beats (librosa's dynamic
   programming tracker, cuts refined to just before each attack), describe each beat by MFCC and chroma
   statistics, and quantise with k-means into ``k ≈ √(2m)`` units.
2. **Model** (:mod:`.lm`): a variable-order Markov model with Witten–Bell backoff over unit sequences,
   trained on the prompt alone or together with a folder of the producer's tracks (:mod:`.corpus`,
   analyses cached on disk by content hash).
3. **Sample** units with a temperature and a repeat penalty; for each unit pick the prompt segment
   that joins best (its source neighbour when there is one, else the one whose source predecessor
   sounds most like what was just played, never the same segment twice in a row).
4. **Decode** (:mod:`.splice`): concatenate the segments' audio at the beat cuts with short,
   phase-aligned, correlation-adaptive crossfades. Only prompt audio is used, so tempo, key, timbre
   and loudness are those of the prompt; the same plan renders every stem, so stems sum to the mix.

Everything is seeded: the same prompt, parameters and seed give the same samples.

References
----------
.. [1] Z. Borsos et al., "AudioLM: a language modeling approach to audio generation", IEEE/ACM TASLP
   31, 2023.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from music.audio import Audio, conform
from music.engines.base import Progress, Request, Take, params_record, parse_params
from music.errors import EngineError

from . import splice
from .corpus import load_corpus
from .lm import UnitLM, sample_next
from .quantize import Quantizer, fit_quantizer
from .segment import ANALYSIS_VERSION, MIN_SECONDS, Segmentation, segment

__all__ = ["DEFAULTS", "MIN_SECONDS", "UnitsEngine"]

DEFAULTS: dict[str, Any] = {
    "order": 8,
    "temperature": 1.0,
    "repeat_penalty": 1.3,
    "repeat_window": 2,
    "max_run": 4,
    "crossfade_ms": 12.0,
    "max_lag_ms": 6.0,
    "units": None,
    "corpus": None,
}
"""Parameters read from ``Request.params`` (all recorded in the take's provenance):

order
    Longest context of the Markov model, in beats.
temperature
    Sampling temperature (0: always the most likely unit; > 1: more recombination).
repeat_penalty, repeat_window
    Each of the last ``repeat_window`` units divides its own probability by ``repeat_penalty``.
max_run
    A unit may not be emitted more than ``max_run`` times in a row (when another is possible).
crossfade_ms, max_lag_ms
    Join crossfade length and the lag-search radius of the phase alignment.
units
    Number of k-means units (default ``round(√(2m))`` for ``m`` segments).
corpus
    Folder of the producer's tracks to train the model on as well (``None``: the prompt alone).
"""

_TIE_BREAK = 1e-9


@dataclass(frozen=True)
class UnitsParams:
    """:data:`DEFAULTS` as the engine's typed ``Params`` (ranges checked by ``_check_params``)."""

    order: int = 8
    temperature: float = 1.0
    repeat_penalty: float = 1.3
    repeat_window: int = 2
    max_run: int = 4
    crossfade_ms: float = 12.0
    max_lag_ms: float = 6.0
    units: int | None = None
    corpus: str | None = None


def _audio_sha256(audio: Audio) -> str:
    h = hashlib.sha256(np.ascontiguousarray(audio.samples).tobytes())
    h.update(f"{audio.sr}".encode())
    return h.hexdigest()


class UnitsEngine:
    """Continue music by resampling its own beats along a unit-language-model path.

    Parameters
    ----------
    cache_dir : path-like, optional
        Where corpus analyses are cached (default: the user cache directory, ``songmint/units``).
    """

    name = "units"
    version = "1.1.0"
    deterministic = True
    Params = UnitsParams

    def __init__(self, *, cache_dir: str | os.PathLike[str] | None = None) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None

    def generate(self, request: Request, *, progress: Progress | None = None) -> Take:
        """Not supported: the units engine needs audio to continue."""
        from music.engines import OPERATIONS  # the registry imports this module

        raise EngineError("engine 'units' continues audio and cannot generate from a prompt; use "
                          f"`songmint continue AUDIO`, or generate with: {', '.join(OPERATIONS['generate'])}")

    def continue_(self, audio: Audio, request: Request, *, stems: Mapping[str, Audio] | None = None,
                  progress: Progress | None = None) -> Take:
        """Continue ``audio`` by ``request.seconds`` seconds.

        Parameters
        ----------
        audio : Audio
            The prompt: at least 8 s of music with a beat.
        request : Request
            ``seconds`` (length of the continuation), ``seed``, and the parameters in :data:`DEFAULTS`.
        stems : mapping of str to Audio, optional
            Stems aligned with ``audio`` (same length; resampled to its rate if needed); each is
            continued along the same path, so they still sum to the continued mix.

        Returns
        -------
        Take
            ``mix`` and ``stems``: the prompt up to its last beat, then the continuation;
            ``extras["continuation"]``: the continuation alone.

        Raises
        ------
        EngineError
            For a prompt shorter than 8 s or without a beat, misaligned stems, or bad parameters.
        """
        params = params_record(parse_params(UnitsParams, request.params, engine="units"))
        seconds = request.seconds
        if seconds is None or not 0 < float(seconds) <= 3600:
            raise EngineError("give the continuation length in seconds (0 < seconds <= 3600)")
        _check_params(params)
        stems = _align_stems(audio, stems or {})

        seg = segment(audio)
        quant, prompt_labels, corpus_info, corpus_sequences = self._units(seg, params)
        m = seg.n_segments
        lm = UnitLM(k=quant.k, order=int(params["order"])).fit([prompt_labels, *corpus_sequences])
        target = round(float(seconds) * audio.sr)
        meter = _meter(seg.features)
        path = _sample_path(seg, quant.embed(seg.features), prompt_labels, lm, params=params,
                            target=target, rng=np.random.default_rng(request.seed), meter=meter)

        fade = max(1, round(params["crossfade_ms"] * 1e-3 * audio.sr))
        max_lag = round(params["max_lag_ms"] * 1e-3 * audio.sr)
        plan = splice.plan(audio.mono(), seg.bounds, path, prompt_end_segment=m - 1, fade=fade,
                           max_lag=max_lag, end_fade=int(0.005 * audio.sr))
        mix = Audio(splice.render(plan, audio.samples), audio.sr)
        out_stems = {name: Audio(splice.render(plan, s.samples), audio.sr) for name, s in stems.items()}
        continuation = Audio(np.ascontiguousarray(mix.samples[:, plan.prompt_end:]), audio.sr)

        provenance = {
            "engine": self.name,
            "engine_version": self.version,
            "operation": "continue",
            "seed": request.seed,
            "seconds": float(seconds),
            "params": {k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in params.items()},
            "prompt": {"sha256": _audio_sha256(audio), "duration_s": round(audio.duration, 6),
                       "sample_rate": audio.sr, "channels": audio.channels,
                       "kept_s": round(plan.prompt_end / audio.sr, 6)},
            "analysis": {"version": ANALYSIS_VERSION, "tempo_bpm": round(seg.tempo, 3),
                         "pulse_clarity": round(seg.pulse_clarity, 4), "segments": m, "units": quant.k,
                         "beats_per_bar": meter[0], "downbeat_phase": meter[1]},
            "path": [int(s) for s in path],
            "joins": len(plan.fades),
            "stems": sorted(out_stems),
            **corpus_info,
        }
        return Take(mix=mix, stems=out_stems, provenance=provenance, bpm=round(seg.tempo, 1),
                    seed=request.seed, extras={"continuation": continuation})

    def _units(self, seg: Segmentation, params: Mapping[str, Any]
               ) -> tuple[Quantizer, np.ndarray, dict[str, Any], list[np.ndarray]]:
        """Fit the unit quantiser on the prompt (and corpus) and label everything."""
        corpus_info: dict[str, Any] = {}
        corpus_feats: list[np.ndarray] = []
        if params["corpus"] is not None:
            corpus = load_corpus(params["corpus"], cache_dir=self.cache_dir)
            corpus_feats = [t.features for t in corpus.tracks]
            corpus_info = {"corpus": [{"file": t.name, "sha256": t.sha256,
                                       "segments": int(t.features.shape[0])} for t in corpus.tracks],
                           "corpus_skipped": [{"file": n, "reason": r} for n, r in corpus.skipped]}
        all_feats = np.concatenate([seg.features, *corpus_feats]) if corpus_feats else seg.features
        quant = fit_quantizer(all_feats, k=params["units"], seed=0)
        return quant, quant.labels(seg.features), corpus_info, [quant.labels(f) for f in corpus_feats]


def _check_params(p: Mapping[str, Any]) -> None:
    checks = [
        ("order", isinstance(p["order"], int) and 1 <= p["order"] <= 64, "an integer in 1…64"),
        ("temperature", isinstance(p["temperature"], int | float) and 0 <= p["temperature"] <= 10, "in 0…10"),
        ("repeat_penalty", isinstance(p["repeat_penalty"], int | float) and p["repeat_penalty"] >= 1, ">= 1"),
        ("repeat_window", isinstance(p["repeat_window"], int) and p["repeat_window"] >= 0, "an integer >= 0"),
        ("max_run", isinstance(p["max_run"], int) and p["max_run"] >= 1, "an integer >= 1"),
        ("crossfade_ms", isinstance(p["crossfade_ms"], int | float) and 1 <= p["crossfade_ms"] <= 50,
         "in 1…50"),
        ("max_lag_ms", isinstance(p["max_lag_ms"], int | float) and 0 <= p["max_lag_ms"] <= 20, "in 0…20"),
        ("units", p["units"] is None or (isinstance(p["units"], int) and 2 <= p["units"] <= 512),
         "an integer in 2…512"),
    ]
    for name, ok, want in checks:
        if not ok:
            raise EngineError(f"units parameter {name}={p[name]!r} must be {want}")


def _align_stems(audio: Audio, stems: Mapping[str, Audio]) -> dict[str, Audio]:
    """Stems at the prompt's rate and length (within 10 ms, padded or trimmed), else an error."""
    out: dict[str, Audio] = {}
    for name, s in stems.items():
        s = conform(s, sr=audio.sr)
        if abs(s.n - audio.n) > int(0.01 * audio.sr):
            raise EngineError(f"stem {name!r} is {s.duration:.3f} s long but the mix is "
                              f"{audio.duration:.3f} s; stems must be aligned with the mix")
        x = np.zeros((s.channels, audio.n), dtype=np.float32)
        x[:, :min(s.n, audio.n)] = s.samples[:, :audio.n]
        out[name] = Audio(x, audio.sr)
    return out


def _regular(lengths: np.ndarray, *, tolerance: float = 0.1, width: int = 9) -> np.ndarray:
    """Segments whose length is within ``tolerance`` of the local median period (``width`` beats).

    Beats tracked through an ending, a break or a fill come out uneven; replaying them elsewhere would
    break the groove, so they are never chosen (they still count as context for the model).
    """
    half = width // 2
    med = np.array([np.median(lengths[max(0, i - half):i + half + 1]) for i in range(lengths.size)])
    ok = np.abs(lengths / med - 1.0) <= tolerance
    return ok if ok.any() else np.ones_like(ok)


_TRIPLE_MARGIN = 0.1
"""How much the triple-metre autocorrelation peak must beat the duple one (correlation units)."""


def _meter(features: np.ndarray) -> tuple[int, int]:
    """Beats per bar (3 or 4) from the periodicity of the beat features, and the downbeat phase.

    Beat descriptors drift with the arrangement, so their autocorrelation ``r(L)`` (z-scored
    features, averaged over dimensions) falls with the lag whatever the metre; comparing ``r(3)``
    with ``r(4)`` directly favours 3. What marks the bar is a *peak* over that decay:
    ``p(L) = r(L) - (r(L-1) + r(L+1)) / 2``. Duple evidence is the best peak at 2, 4 or 8 beats,
    triple at 3 or 6; triple metre must win by :data:`_TRIPLE_MARGIN`, since 4/4 is by far the more common
    (composer takes of every genre, and repetitive techno whose beats all look alike, stay 4/4).
    The downbeat is the phase whose beats are loudest (first MFCC mean), where kick and chord
    changes usually land.
    """
    m = features.shape[0]
    z = (features - features.mean(0)) / (features.std(0) + 1e-9)
    r = {lag: float(np.mean(z[lag:] * z[:-lag])) for lag in range(1, 10) if m - lag >= 4}

    def peak(lag: int) -> float:
        return r[lag] - 0.5 * (r[lag - 1] + r[lag + 1]) if lag + 1 in r else -np.inf

    duple = max(peak(2), peak(4), peak(8))
    triple = max(peak(3), peak(6))
    bpb = 3 if triple > duple + _TRIPLE_MARGIN else 4
    loud = [float(np.mean(features[p::bpb, 0])) for p in range(bpb)]
    return bpb, int(np.argmax(loud))


def _sample_path(seg: Segmentation, z: np.ndarray, labels: np.ndarray, lm: UnitLM, *,
                 params: Mapping[str, Any], target: int, rng: np.random.Generator,
                 meter: tuple[int, int]) -> list[int]:
    """Sample units and choose a prompt segment for each until ``target`` samples are covered
    (to the nearest beat cut)."""
    m = seg.n_segments
    lengths = np.diff(seg.bounds)
    regular = _regular(lengths)
    members = [np.flatnonzero((labels == u) & regular) for u in range(lm.k)]
    allowed = np.array([mem.size > 0 for mem in members])
    # how unlike "what was just played" each segment's source predecessor is
    pred_dist = np.full((m, m), np.inf)
    from scipy.spatial.distance import cdist

    d = cdist(z, z)
    pred_dist[:, 1:] = d[:, :-1]  # pred_dist[prev, c] = |z[prev] - z[c - 1]|
    pred_dist[:, 0] = np.median(d) if m > 1 else 0.0
    bpb, phase = meter
    pos = (np.arange(m) - phase) % bpb  # each beat's position in its bar
    history = [int(u) for u in labels]
    path: list[int] = []
    prev, total = m - 1, 0
    window, run = int(params["repeat_window"]), int(params["max_run"])
    while total < target - 0.5 * float(np.median(lengths)) or not path:
        want = (pos[prev] + 1) % bpb  # bar positions stay in sequence
        members = [np.flatnonzero((labels == u) & regular & (pos == want)) for u in range(lm.k)]
        mask = np.array([mem.size > 0 for mem in members])
        if not mask.any():
            members = [np.flatnonzero((labels == u) & regular) for u in range(lm.k)]
            mask = allowed.copy()
        for u in np.flatnonzero(mask):  # a unit whose only playable beat is the one just played
            if members[u].size == 1 and members[u][0] == prev:
                mask[u] = False
        if len(history) >= run and len(set(history[-run:])) == 1 and mask.sum() > 1:
            mask[history[-1]] = False  # no unit more than max_run times in a row
        p = lm.distribution(history)
        u = sample_next(p, rng, temperature=float(params["temperature"]), allowed=mask,
                        recent=history[-window:] if window else (),
                        repeat_penalty=float(params["repeat_penalty"]))
        cands = members[u]
        if prev + 1 < m and labels[prev + 1] == u and regular[prev + 1] and pos[prev + 1] == want:
            s = prev + 1  # the source's own next beat: a seamless join
        else:
            cost = pred_dist[prev, cands].copy()
            cost[cands == prev] = np.inf if cands.size > 1 else 0.0  # never the same beat twice running
            recent = path[-8:]
            cost += np.array([recent.count(int(c)) for c in cands]) * float(np.median(d))
            cost += rng.random(cands.size) * _TIE_BREAK
            s = int(cands[int(np.argmin(cost))])
        path.append(s)
        history.append(u)
        total += int(lengths[s])
        prev = s
    return path
