"""Compiled (numba) loops for the composer's mix and master: one pass each over the audio.

Each kernel computes what a numpy/scipy expression in :mod:`music.loudness` or
:mod:`.engine` computes, without its temporaries: the K-weighted loudness of BS.1770
(:func:`integrated_loudness`, equal to :func:`music.loudness.integrated_loudness`), the
4× oversampled true peak (:func:`true_peak`, the same polyphase filter as
:func:`music.loudness.peak_envelope`, evaluated only where a peak could beat the largest
found so far), and the limiter's block envelope and gain ramp. Kernels compile on first
use and numba caches them on disk (``cache=True``); the arithmetic is IEEE (no fastmath),
so results are the same on every run. The one exception is the loudness filter, which may
fuse ``a·b + c`` into one rounding (fused multiply-add, where the CPU has it): still the
same bytes on every run on a machine, and no less accurate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache, lru_cache
from typing import Any

import numpy as np
from scipy import signal

from music import loudness

_jit: dict[Callable[..., Any], Callable[..., Any]] = {}
_CONTRACT = {"_k_energy"}
"""Kernels compiled with fused multiply-add: the IIR filter is bound by its arithmetic
(scalar, four recursions interleaved), and fusing takes ~25 % off its time."""
_INLINE = ("_k_section",)
"""Helpers that kernels call: compiled for inlining into their callers (numba IR level, so
the caller's flags apply and the state stays in registers), before any kernel compiles."""


def compiled(fn: Callable[..., Any], *, contract: bool = False) -> Callable[..., Any]:
    """``fn`` compiled by numba: once per process, cached on disk (``cache=True``); numba is
    imported only here, on first use. ``contract`` allows fused multiply-add."""
    if fn not in _jit:
        from numba import njit

        opts = {"fastmath": {"contract"}} if contract else {}
        _jit[fn] = njit(cache=True, **opts)(fn)
    return _jit[fn]


@cache
def _inline_helpers() -> None:
    """Replace each helper of :data:`_INLINE` in this module's namespace by its numba
    dispatcher, once a process: numba resolves a kernel's calls through the module's
    globals when it compiles the kernel, so that is where the compiled helper must be."""
    from numba import njit

    namespace = globals()
    for helper in _INLINE:
        namespace[helper] = njit(inline="always")(namespace[helper])


def _kernel(name: str) -> Callable[..., Any]:
    """The compiled kernel ``name`` of this module (its helpers, :data:`_INLINE`, first)."""
    _inline_helpers()
    return compiled(globals()[name], contract=name in _CONTRACT)


@contextmanager
def small_pages() -> Iterator[None]:
    """Inside the block (or a function it decorates), numpy allocates on ordinary pages.

    NumPy advises the kernel to back every array of 4 MiB or more with transparent huge
    pages (``madvise``; ``NUMPY_MADVISE_HUGEPAGE``). A take writes a few hundred MiB of fresh
    stem, mix and master buffers once each. Where huge pages come straight from memory the
    host has not backed, they cost more than they save: on the development machine (a VM
    whose virtio balloon has free-page reporting, so freed huge pages go back to the host,
    and no compaction stall in ``/proc/vmstat``), a 2-minute lofi take ran 0.86-1.48 CPU-s
    with huge pages, 0.1-0.6 s of it system time, against 0.99-1.01 s on small pages. A
    44 MiB buffer that is already backed costs 8 ms on huge pages and 32 ms on small ones,
    so on bare metal huge pages may be the faster choice; this is not measured here.
    The switch is process-wide; the previous setting is restored on exit. Where numpy has
    no runtime switch, nothing changes.
    """
    switch = huge_page_switch()
    if switch is None:
        yield
        return
    before = switch(False)
    try:
        yield
    finally:
        switch(before)


def huge_page_switch() -> Callable[[bool], bool] | None:
    """NumPy's runtime switch of its huge-page advice (sets it, returns the previous setting),
    or ``None`` where this numpy has none."""
    import importlib

    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):  # numpy >= 2, then 1.x
        try:
            return getattr(importlib.import_module(module), "_set_madvise_hugepage", None)
        except ImportError:
            continue
    return None


def zeros(shape: tuple[int, ...]) -> np.ndarray:
    """A float32 array of zeros that its first use will read: ``np.empty`` filled with 0.

    ``np.zeros`` takes lazily zeroed pages from the kernel, so a buffer whose first access
    is ``+=`` faults twice per page (the read maps the shared zero page, the write copies
    it); written first, each page faults once. 44 MiB zeroed and then added to: 22 ms
    against 32 ms for ``np.zeros`` on small pages (:func:`small_pages`).
    """
    out = np.empty(shape, np.float32)
    out.fill(0.0)
    return out


def sample_peak(y: np.ndarray) -> float:
    """Sample peak ``max |y|`` (linear) without an ``abs`` temporary."""
    return float(max(y.max(initial=0.0), -y.min(initial=0.0)))


# --------------------------------------------------------------------------- notes


def overlap_add(out: np.ndarray, lefts: Sequence[np.ndarray], rights: Sequence[np.ndarray],
                table: np.ndarray, gains: np.ndarray, fade: np.ndarray) -> None:
    """Add cached notes into ``out`` in place; see :func:`_overlap_add` for ``table``."""
    from numba.typed import List

    _kernel("_overlap_add")(out, List(lefts), List(rights), table, gains, fade)


def _overlap_add(out: np.ndarray, lefts, rights, table: np.ndarray,  # type: ignore[no-untyped-def]
                 gains: np.ndarray, fade: np.ndarray) -> None:  # pragma: no cover - numba kernel
    """Add note ``table[r, 1]`` (channels ``lefts[i]`` and ``rights[i]``, 1-D) times
    ``gains[r]`` into ``out`` at sample ``table[r, 0]`` for every row, cut at the end of
    ``out``; from offset ``table[r, 2]`` (when not -1) the note is multiplied by ``fade`` and
    stops where it ends (a choked hi-hat). float32 arithmetic, in row order; a gain of 1
    adds the note as it is."""
    n = out.shape[1]
    for r in range(table.shape[0]):
        on = table[r, 0]
        idx = table[r, 1]
        cut = table[r, 2]
        g = gains[r]
        m = min(lefts[idx].shape[0], n - on)
        # 1-D rows: the compiler vectorises the adds (~2.5x faster than indexing 2-D arrays
        # element by element).
        for c in range(2):
            yy = lefts[idx] if c == 0 else rights[idx]
            if 0 <= cut < m:
                k = min(m - cut, fade.shape[0])
                o = out[c, on:on + cut + k]
                for i in range(cut):
                    o[i] += yy[i] * g
                for i in range(k):
                    o[cut + i] += np.float32(yy[cut + i] * g * fade[i])
            elif g == 1:
                o = out[c, on:on + m]
                for i in range(m):
                    o[i] += yy[i]
            else:
                o = out[c, on:on + m]
                for i in range(m):
                    o[i] += yy[i] * g


# --------------------------------------------------------------------------- loudness


def _k_section(x: np.ndarray, c: int, i: int, b: np.ndarray, a: np.ndarray, z0: float, z1: float,
               z2: float, z3: float) -> tuple[float, float, float, float, float]:  # pragma: no cover
    """One sample ``x[c, i]`` through the order-4 K-weighting IIR (transposed direct form II,
    float64, as scipy's ``lfilter``) with state ``z0…z3``: returns ``(y², z0…z3)``. Inlined
    into :func:`_k_energy` by numba (:data:`_INLINE`)."""
    v = np.float64(x[c, i])
    y = b[0] * v + z0
    z0 = b[1] * v - a[1] * y + z1
    z1 = b[2] * v - a[2] * y + z2
    z2 = b[3] * v - a[3] * y + z3
    z3 = b[4] * v - a[4] * y
    return y * y, z0, z1, z2, z3


def _k_energy(x: np.ndarray, b: np.ndarray, a: np.ndarray, hop: int, mid: int,
              out: np.ndarray) -> None:  # pragma: no cover - numba kernel
    """``out[j]`` = Σ over both channels and samples ``[j·hop, (j+1)·hop)`` of the squared
    K-weighted stereo signal (:func:`_k_section`).

    Hops ``[0, mid)`` and ``[mid, n)`` are filtered side by side: four independent
    recursions (two channels × two halves) in one loop keep the CPU's pipelines full where
    one IIR alone waits on its own feedback. The second half starts its filters one hop
    (100 ms) early from rest; by then the start-up has decayed below 1e-11 of the signal
    (the slowest pole, the 38 Hz high-pass, has a 4 ms time constant), so the result
    equals a single run to ~1e-12 relative. ``mid <= nh - mid``: the second half runs one
    or two hops longer than the first, alone.
    """
    nh = out.shape[0]
    z = np.zeros((4, 4))  # state per recursion (rows): first-half L, R, second-half L, R
    out[:] = 0.0
    for t in range(nh - mid + 1):
        ja, jb = t, mid - 1 + t  # jb = mid - 1 at t = 0 is the warm-up hop
        p0, p1, p2, p3 = z[0, 0], z[0, 1], z[0, 2], z[0, 3]
        q0, q1, q2, q3 = z[1, 0], z[1, 1], z[1, 2], z[1, 3]
        r0, r1, r2, r3 = z[2, 0], z[2, 1], z[2, 2], z[2, 3]
        s0, s1, s2, s3 = z[3, 0], z[3, 1], z[3, 2], z[3, 3]
        acc_a = 0.0
        acc_b = 0.0
        if ja < mid:
            for i in range(hop):
                ia = ja * hop + i
                ib = jb * hop + i
                e, p0, p1, p2, p3 = _k_section(x, 0, ia, b, a, p0, p1, p2, p3)
                acc_a += e
                e, q0, q1, q2, q3 = _k_section(x, 1, ia, b, a, q0, q1, q2, q3)
                acc_a += e
                e, r0, r1, r2, r3 = _k_section(x, 0, ib, b, a, r0, r1, r2, r3)
                acc_b += e
                e, s0, s1, s2, s3 = _k_section(x, 1, ib, b, a, s0, s1, s2, s3)
                acc_b += e
        else:
            for i in range(hop):
                ib = jb * hop + i
                e, r0, r1, r2, r3 = _k_section(x, 0, ib, b, a, r0, r1, r2, r3)
                acc_b += e
                e, s0, s1, s2, s3 = _k_section(x, 1, ib, b, a, s0, s1, s2, s3)
                acc_b += e
        z[0, 0], z[0, 1], z[0, 2], z[0, 3] = p0, p1, p2, p3
        z[1, 0], z[1, 1], z[1, 2], z[1, 3] = q0, q1, q2, q3
        z[2, 0], z[2, 1], z[2, 2], z[2, 3] = r0, r1, r2, r3
        z[3, 0], z[3, 1], z[3, 2], z[3, 3] = s0, s1, s2, s3
        # In digital silence (a stem's rests) the filter state decays towards zero and would
        # go subnormal within seconds, where every operation is ~10x slower (a bass stem's
        # loudness took 8x longer): flush a state that has fallen under 1e-150. One 100 ms hop
        # of silence shrinks it by ~1e-10 at most, so it never gets near the subnormal range
        # (1e-308), and the change to any hop's energy is under 1e-290.
        for k in range(4):
            for c in range(4):
                if abs(z[k, c]) < 1e-150:
                    z[k, c] = 0.0
        if ja < mid:
            out[ja] = acc_a
        if t > 0:
            out[jb] = acc_b


def integrated_loudness(x: np.ndarray, sr: int) -> float:
    """BS.1770 integrated loudness of stereo ``x`` in LUFS (``-inf`` for silence): what
    :func:`music.loudness.integrated_loudness` returns (to ~1e-12), in one compiled pass."""
    block, hop = round(0.4 * sr), round(0.1 * sr)
    if x.shape[0] != 2 or block != 4 * hop:  # pragma: no cover - the engine is stereo
        from music.audio import Audio

        return loudness.integrated_loudness(Audio(x, sr))
    nh = x.shape[1] // hop
    if nh < 4:
        return float("-inf")
    b, a = loudness.k_weighting(sr)
    energy = np.empty(nh)
    _kernel("_k_energy")(x, b / a[0], a / a[0], hop, nh // 2, energy)
    # 400 ms blocks every 100 ms = four consecutive 100 ms hops.
    csum = np.concatenate([[0.0], np.cumsum(energy)])
    return loudness.gated_loudness((csum[4:] - csum[:-4]) / block)


# --------------------------------------------------------------------------- true peak


@lru_cache(maxsize=4)
def _phases(up: int) -> np.ndarray:
    """The polyphase taps of :func:`scipy.signal.resample_poly` for ``up``× (its default
    Kaiser-windowed FIR): ``y[up·k + p] = Σ_j taps[p, j] · x[k + half - j]``."""
    half = 10 * up
    h = signal.firwin(2 * half + 1, 1.0 / up, window=("kaiser", 5.0)) * up
    taps = np.zeros((up, half // up * 2 + 1))
    for p in range(up):
        t = h[p::up]
        taps[p, : t.size] = t
    return taps


def _block_max(x: np.ndarray, block: int, out: np.ndarray) -> None:  # pragma: no cover
    """``out[b]`` = max ``|x|`` over the channels and block ``b`` (numba kernel)."""
    n = x.shape[1]
    for bi in range(out.shape[0]):
        m = 0.0
        for c in range(x.shape[0]):
            for i in range(bi * block, min(n, (bi + 1) * block)):
                m = max(m, abs(x[c, i]))
        out[bi] = m


def _tp_max(x: np.ndarray, taps: np.ndarray, blockmax: np.ndarray, block: int,
            scales: np.ndarray) -> float:  # pragma: no cover - numba kernel
    """Largest oversampled magnitude, skipping each block and phase ``p`` whose bound
    ``scales[p] · max|x|`` (the phase's taps' absolute sum times the largest sample over the
    block and its neighbours, which the taps do not reach past) cannot beat the largest
    found so far. Interior blocks run the taps over the block's samples in the inner loop
    (independent lanes, which the compiler vectorises)."""
    n = x.shape[1]
    nb = blockmax.shape[0]
    up, nt = taps.shape
    half = nt // 2
    best = 0.0
    for i in range(nb):
        best = max(best, blockmax[i])
    acc = np.zeros(block)
    for bi in range(nb):
        m = blockmax[bi]
        if bi > 0:
            m = max(m, blockmax[bi - 1])
        if bi + 1 < nb:
            m = max(m, blockmax[bi + 1])
        if m * scales.max() <= best:
            continue
        lo = bi * block
        hi = min(n, lo + block)
        inner = lo - half >= 0 and hi + half <= n and hi - lo == block
        for c in range(x.shape[0]):
            xc = x[c]  # 1-D rows: the tap loop over a slice vectorises (~2x faster)
            for p in range(up):
                if m * scales[p] <= best:
                    continue
                if inner:
                    acc[:] = 0.0
                    for j in range(nt):
                        t = taps[p, j]
                        seg = xc[lo + half - j:lo + half - j + block]
                        for kk in range(block):
                            acc[kk] += t * seg[kk]
                    for kk in range(block):
                        best = max(best, abs(acc[kk]))
                else:
                    for k in range(lo, hi):
                        v = 0.0
                        for j in range(nt):
                            i = k + half - j
                            if 0 <= i < n:
                                v += taps[p, j] * xc[i]
                        best = max(best, abs(v))
    return best


def true_peak(x: np.ndarray, sr: int) -> float:
    """True peak of ``x`` in dBTP, as :func:`music.loudness.true_peak` measures it (the
    same oversampling filter; blocks that provably hold no larger peak are skipped)."""
    up = loudness._oversampling(sr)
    block = 16
    blockmax = np.empty(-(-x.shape[1] // block))
    _kernel("_block_max")(x, block, blockmax)
    if up == 1:
        peak = float(blockmax.max(initial=0.0))
    else:
        taps = _phases(up)
        peak = _kernel("_tp_max")(x, taps, blockmax, block, np.abs(taps).sum(axis=1))
    return float(20.0 * np.log10(peak)) if peak > 0 else float("-inf")


# --------------------------------------------------------------------------- limiter


def _block_envelope(x: np.ndarray, block: int, out: np.ndarray) -> None:  # pragma: no cover
    """``out[b]`` = the largest ``|x|`` or cubic half-sample interpolant
    ``(9(x[i] + x[i+1]) - x[i-1] - x[i+2]) / 16`` over the channels and block ``b``
    (numba kernel)."""
    n = x.shape[1]
    for bi in range(out.shape[0]):
        lo = bi * block
        hi = min(n, lo + block)
        m = 0.0
        for c in range(x.shape[0]):
            for i in range(lo, hi):
                m = max(m, abs(x[c, i]))
                if i >= 1 and i + 2 < n:
                    m = max(m, abs((9.0 * (x[c, i] + x[c, i + 1]) - x[c, i - 1] - x[c, i + 2]) / 16.0))
        out[bi] = m


def _apply_ramp(src: np.ndarray, scale: np.float32, g: np.ndarray, block: int, x: np.ndarray,
                copy: bool) -> None:  # pragma: no cover
    """``x`` = ``src`` · ``scale`` (float32) times the block gains ``g`` interpolated
    linearly between block centres (held before the first and after the last), in one pass
    (numba kernel). Where the gain stays 1 the scaled source is written only if ``copy``
    (``x`` is ``src`` and ``scale`` 1 otherwise: those stretches are left untouched)."""
    n = x.shape[1]
    nb = g.shape[0]
    centre0 = (block - 1) / 2.0
    first = min(n, int(centre0) + 1)  # samples up to the first centre
    for k in range(-1, nb):
        if k < 0:
            lo, hi, g0, g1 = 0, first, g[0], g[0]
        elif k == nb - 1:
            lo, hi, g0, g1 = min(n, int(k * block + centre0) + 1), n, g[k], g[k]
        else:
            lo = min(n, int(k * block + centre0) + 1)
            hi = min(n, int((k + 1) * block + centre0) + 1)
            g0, g1 = g[k], g[k + 1]
        if g0 == 1.0 and g1 == 1.0:
            if copy:
                for c in range(x.shape[0]):
                    for i in range(lo, hi):
                        x[c, i] = src[c, i] * scale
            continue
        for i in range(lo, hi):
            f = (i - (k * block + centre0)) / block if 0 <= k < nb - 1 else 0.0
            gain = g0 + (g1 - g0) * f
            for c in range(x.shape[0]):
                x[c, i] = np.float32(src[c, i] * scale * gain)


def block_envelope(x: np.ndarray, block: int) -> np.ndarray:
    """Per-block peak of ``x`` including cubic half-sample peaks, shape ``(ceil(n / block),)``."""
    out = np.empty(-(-x.shape[1] // block))
    _kernel("_block_envelope")(x, block, out)
    return out


def apply_ramp(x: np.ndarray, g: np.ndarray, block: int, *, source: np.ndarray | None = None,
               scale: float = 1.0) -> None:
    """Multiply ``x`` in place by block gains ``g`` ramped linearly between block centres;
    with ``source``, write ``source`` · ``scale`` (float32) ramped into ``x`` instead, in the
    same pass."""
    src = x if source is None else source
    _kernel("_apply_ramp")(src, np.float32(scale), np.asarray(g, np.float64), block, x, source is not None)
