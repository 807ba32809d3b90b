"""Sampling token sequences from the transformer: grammar, key and metre constraints, top-p.

Every step masks the logits to what may come next in a well-formed sequence (a duration
after a note; a note after a position; after a duration, a later note at the same onset, a
later position or a bar line), and, when asked, to the requested key (scale pitch classes;
minor also allows the raised sixth and seventh) and metre (positions inside the bar). The
rest is nucleus sampling (Holtzman et al. 2020) at a temperature. Draws come from a
``numpy`` generator seeded by the request, in float64, so a seed gives the same tokens on
any CPU run. The window slides when it fills: the header plus the most recent bars are
re-read (one batched forward) and sampling continues with a fresh cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from music.engines.symbolic import tokens as tk
from music.engines.symbolic.model import Decoder, SymbolicTransformer
from music.engines.symbolic.theory import scale_pcs
from music.errors import EngineError

_V = tk.vocab_size()
_IDS = np.arange(_V)
IS_POS = (_IDS >= tk.POS0) & (_IDS < tk.POS0 + tk.MAX_POS)
IS_NOTE = (_IDS >= tk.NOTE0) & (_IDS < tk.DUR0)
IS_DUR = _IDS >= tk.DUR0
NOTE_VOICE = np.where(IS_NOTE, (_IDS - tk.NOTE0) // tk.N_PITCH, -1)
NOTE_PITCH = np.where(IS_NOTE, (_IDS - tk.NOTE0) % tk.N_PITCH + tk.LOW, -1)
_PITCHES = np.arange(tk.LOW, tk.LOW + tk.N_PITCH)


@dataclass(frozen=True)
class SamplingParams:
    """How to sample.

    Attributes
    ----------
    temperature : float
        Logit divisor (> 0); below 1 is more conservative.
    top_p : float
        Nucleus mass in (0, 1].
    constrain_key : bool
        Only scale pitch classes.
    constrain_meter : bool
        Only positions inside the bar of the header's metre.
    avoid_parallels : bool
        No consecutive perfect fifths or octaves between two voices that both move in the same
        direction (the rule :func:`music.engines.symbolic.metrics.parallels` counts): a lower
        voice may not land on the perfect interval it held with a higher voice at the previous
        onset when both move the same way.
    """

    temperature: float = 0.9
    top_p: float = 0.95
    constrain_key: bool = True
    constrain_meter: bool = True
    avoid_parallels: bool = True


OnsetPcs = Callable[[int, int], Iterable[int] | None]
"""``(bar, position in sixteenths) -> pitch classes allowed at that onset`` (``None``: any in key)."""


class Grammar:
    """What may follow, given what came: the token masks of a well-formed body.

    ``onset_pcs``, when given, narrows the notes at each onset further (e.g. to the tones of the
    chord sounding there, :mod:`music.engines.symbolic.melody`); an empty intersection with the
    key's notes falls back to the key's notes.
    """

    def __init__(self, header: tk.Header, params: SamplingParams, *,
                 onset_pcs: OnsetPcs | None = None) -> None:
        self.onset_pcs = onset_pcs
        self._pc_masks: dict[frozenset[int], np.ndarray] = {}
        self.voices = header.voices
        self.avoid_parallels = params.avoid_parallels and header.voices > 1
        self.before: list[int | None] = [None] * tk.MAX_VOICES  # each voice's pitch before this onset
        self.now: dict[int, int] = {}  # voice -> (top) pitch attacked at this onset
        self.bar_len = min(tk.bar_steps(header.meter), tk.MAX_POS) if params.constrain_meter else tk.MAX_POS
        allowed = IS_NOTE & (self.voices > NOTE_VOICE)
        if params.constrain_key:
            pcs = scale_pcs(header.tonic, header.mode)
            allowed &= np.isin(NOTE_PITCH % 12, list(pcs))
        self.notes = allowed
        self.pos_ok = IS_POS & (self.bar_len > _IDS - tk.POS0)
        self.prev = "header"
        self.bars = 0
        self.pos = -1
        self.last_voice = -1
        self.last_pitch = 999

    def _notes_here(self) -> np.ndarray:
        """The note tokens allowed at the current onset."""
        if self.onset_pcs is None:
            return self.notes
        pcs = self.onset_pcs(self.bars - 1, self.pos)
        if pcs is None:
            return self.notes
        key = frozenset(int(p) % 12 for p in pcs)
        m = self._pc_masks.get(key)
        if m is None:
            m = self.notes & np.isin(NOTE_PITCH % 12, sorted(key))
            self._pc_masks[key] = m = m if m.any() else self.notes
        return m

    def _no_parallels(self, m: np.ndarray) -> np.ndarray:
        """``m`` without the notes that would make parallel fifths or octaves with a higher voice."""
        for v in range(1, self.voices):
            b0 = self.before[v]
            if b0 is None or v in self.now:
                continue
            lo = tk.NOTE0 + v * tk.N_PITCH
            for u, a1 in self.now.items():
                a0 = self.before[u]
                if u >= v or a0 is None or a1 == a0 or (a0 - b0) % 12 not in (0, 7):
                    continue
                bad = ((a1 - _PITCHES) % 12 == (a0 - b0) % 12) & (np.sign(_PITCHES - b0) == np.sign(a1 - a0))
                m[lo:lo + tk.N_PITCH] &= ~bad
        return m

    def mask(self, *, can_end: bool) -> np.ndarray:
        """Allowed next tokens, shape (vocab,), bool."""
        m = np.zeros(_V, dtype=bool)
        if self.prev == "header":
            m[tk.BAR] = True
        elif self.prev == "bar" and self.bars == 1:  # the first bar starts on its downbeat
            m[tk.POS0] = True
        elif self.prev == "bar":
            m |= self.pos_ok
            m[tk.BAR] = True
        elif self.prev in ("pos",):
            m |= self._notes_here()
        elif self.prev == "note":
            m |= IS_DUR
        else:  # after a duration
            later = self._notes_here() & ((self.last_voice < NOTE_VOICE)
                                  | ((self.last_voice == NOTE_VOICE) & (self.last_pitch > NOTE_PITCH)))
            m |= later
            m |= self.pos_ok & (self.pos < _IDS - tk.POS0)
            m[tk.BAR] = True
        if self.avoid_parallels and self.now and self.prev in ("pos", "dur"):
            m = self._no_parallels(m)
        if can_end and self.prev in ("bar", "dur"):
            m[tk.EOS] = True
        if not m.any():
            m[tk.BAR] = True
        return m

    def push(self, t: int) -> None:
        """Advance past token ``t``."""
        if t == tk.BAR:
            self.prev, self.pos = "bar", -1
            self.bars += 1
        elif IS_POS[t]:
            self.prev, self.pos = "pos", t - tk.POS0
            self.last_voice, self.last_pitch = -1, 999
            for v, p in self.now.items():
                self.before[v] = p
            self.now = {}
        elif IS_NOTE[t]:
            self.prev = "note"
            self.last_voice, self.last_pitch = int(NOTE_VOICE[t]), int(NOTE_PITCH[t])
            self.now.setdefault(self.last_voice, self.last_pitch)
        elif IS_DUR[t]:
            self.prev = "dur"


def nucleus(logits: np.ndarray, mask: np.ndarray, *, temperature: float, top_p: float,
            rng: np.random.Generator) -> int:
    """Draw one token id from masked, tempered, top-p-truncated ``logits`` (float64)."""
    ids = np.flatnonzero(mask)
    z = logits[ids].astype(np.float64) / temperature
    p = np.exp(z - z.max())
    p /= p.sum()
    order = np.argsort(-p, kind="stable")
    cum = np.cumsum(p[order])
    keep = order[:int(np.searchsorted(cum, top_p) + 1)]
    q = np.cumsum(p[keep])
    i = int(np.searchsorted(q, rng.random() * q[-1], side="right"))
    return int(ids[keep[min(i, len(keep) - 1)]])


def generate(model: SymbolicTransformer, header: tk.Header, *, bars: int, seed: int,
             params: SamplingParams = SamplingParams(), prompt: list[int] | None = None,
             max_tokens: int | None = None, onset_pcs: OnsetPcs | None = None) -> list[int]:
    """Sample a piece of ``bars`` bars under ``header``.

    Parameters
    ----------
    prompt : list of int or None
        Body tokens (after the header, starting with ``BAR``) to continue; the result then
        holds the prompt plus ``bars`` new bars.
    max_tokens : int or None
        Safety limit on new tokens (default ``bars * 40 * voices + 64``).
    onset_pcs : callable or None
        ``(bar, position) -> pitch classes`` allowed at each onset (see :class:`Grammar`).

    Returns
    -------
    list of int
        Header, body and ``EOS``.
    """
    if bars < 1:
        raise EngineError("bars must be at least 1")
    if not 0 < params.temperature <= 5 or not 0 < params.top_p <= 1:
        raise EngineError("temperature must be in (0, 5] and top_p in (0, 1]")
    model.eval()
    rng = np.random.default_rng(seed)
    head = tk.header_tokens(header)
    body: list[int] = list(prompt or [])
    grammar = Grammar(header, params, onset_pcs=onset_pcs)
    for t in body:
        grammar.push(t)
    done_bars = 0
    target = bars + sum(1 for t in body if t == tk.BAR)
    have = target - bars
    limit = max_tokens or bars * 40 * header.voices + 64
    if body:  # a continuation starts at the next bar line, never inside the prompt's last onset
        body.append(tk.BAR)
        grammar.push(tk.BAR)
        done_bars = 1
    ctx = model.cfg.context
    dec = Decoder(model)
    # One BLAS thread: the decoder's products are a few hundred kFLOP each, where a second thread
    # costs more CPU (spinning, hand-offs) than it saves (2-3x the CPU of one thread, measured).
    with threadpool_limits(limits=1, user_api="blas"):
        logits = dec.prefill(head + _tail(body, ctx - len(head) - 1))
        for _ in range(limit):
            bars_so_far = have + done_bars
            m = grammar.mask(can_end=bars_so_far >= target)
            t = nucleus(logits, m, temperature=params.temperature, top_p=params.top_p, rng=rng)
            if t == tk.EOS or (t == tk.BAR and bars_so_far >= target):
                break
            body.append(t)
            grammar.push(t)
            if t == tk.BAR:
                done_bars += 1
            logits = dec.prefill(head + _tail(body, ctx // 2)) if dec.n >= ctx else dec.step(t)
    return head + body + [tk.EOS]


def _tail(body: list[int], room: int) -> list[int]:
    """The longest suffix of ``body`` that starts at a bar line and fits in ``room`` tokens."""
    if len(body) <= room:
        return list(body)
    start = len(body) - room
    for i in range(start, len(body)):
        if body[i] == tk.BAR:
            return body[i:]
    return body[start:]
