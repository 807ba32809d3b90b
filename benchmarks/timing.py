"""Timing shared by the benchmarks: the best of several calls."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(fn: Callable[[], object], repeats: int, *,
            clock: Callable[[], float] = time.perf_counter) -> float:
    """Best time of ``repeats`` calls of ``fn`` on ``clock``, in seconds.

    The minimum, not the mean: the other jobs on the machine only ever add time. With every
    thread pool pinned to one thread, ``clock=time.process_time`` is the time on one core, which
    unlike wall time does not grow when other jobs share the machine.
    """
    times = []
    for _ in range(repeats):
        t = clock()
        fn()
        times.append(clock() - t)
    return min(times)
