"""The release's pure per-track work, run through :mod:`songmint.executor`; results stored here.

Stages 1–4 (take, traits, cover, encode) hand their cache misses to :class:`Tasks` as
``(label, track id, (fn, args, kwargs))`` jobs of library functions (``render_take``,
``stages.extract_traits``, ``stages.render_cover``, ``music.audio.encode``). Workers only compute;
the driver writes each result into the content-addressed cache as it arrives, so a killed or
failed run keeps every finished result and a re-run computes only what is missing. The journal,
the chain and storage never leave the driver.

With ``keep_going``, a failed job marks its track failed (:attr:`Tasks.failed`); later stages
skip that track's tokens and the pipeline stops before publishing, naming each failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from songmint.executor import Executor, Job, LocalExecutor, call, get_executor
from songmint.release.options import Log, Options

if TYPE_CHECKING:
    from songmint.release.cache import Cache


class Tasks:
    """An executor plus what the release learns from it (failures, task counts, worker memory)."""

    def __init__(
        self, executor: Executor, *, keep_going: bool = False, log: Log | None = None, threads: bool = False
    ) -> None:
        self.executor = executor
        self.keep_going = keep_going
        self.log = log or (lambda m: None)
        self.threads = threads  # in-process default: encoders on a thread per core, as before
        self.failed: dict[str, str] = {}
        self.count = 0
        self.peak_rss_mb = 0.0
        self.seconds: dict[str, float] = {}
        self.cpu_s = 0.0

    @classmethod
    def inline(cls) -> Tasks:
        """In the calling process (the default of library callers)."""
        return cls(LocalExecutor(1), threads=True)

    @classmethod
    def from_options(cls, opts: Options, log: Log) -> Tasks:
        ex = get_executor(opts.executor, workers=opts.jobs, address=opts.address, memory_mb=opts.memory_mb)
        return cls(
            ex, keep_going=opts.keep_going, log=log, threads=opts.jobs is None and opts.executor == "local"
        )

    def __enter__(self) -> Tasks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.executor.close()

    def ok(self, track_id: str) -> bool:
        return track_id not in self.failed

    def run(self, stage: str, jobs: list[tuple[str, str, Job]]) -> Iterator[tuple[int, Any]]:
        """Run ``(label, track id, job)`` jobs; yield ``(index, value)`` per success as it arrives.

        A failure raises (the first one) or, with ``keep_going``, is logged and marks its track.
        """
        if not jobs:
            return
        labels = [label for label, _, _ in jobs]
        for o in self.executor.imap(
            call, [job for _, _, job in jobs], labels=labels, keep_going=self.keep_going
        ):
            self.count += 1
            self.peak_rss_mb = max(self.peak_rss_mb, round(o.peak_rss_mb, 1))
            self.seconds[stage] = self.seconds.get(stage, 0.0) + o.seconds
            self.cpu_s += o.cpu_s
            if o.ok:
                yield o.index, o.value
            else:
                self.failed.setdefault(jobs[o.index][1], o.error or "failed")
                self.log(f"error: {stage} {labels[o.index]}: {o.error}")

    def stats(self) -> dict[str, Any]:
        """What the manifest records under ``executor`` (run facts, like ``timings_s``)."""
        return {
            "name": self.executor.name,
            "workers": self.executor.workers,
            "tasks": self.count,
            "peak_rss_mb": self.peak_rss_mb,
            "task_s": {k: round(v, 3) for k, v in self.seconds.items()},
            "task_cpu_s": round(self.cpu_s, 3),
        }


@dataclass(frozen=True)
class StageContext:
    """What stages 1–4 work with: the content-hash cache, the log, and the tasks to run misses on.

    Attributes
    ----------
    cache : Cache
        Where each stage looks its results up and stores what it computed.
    log : Log
        Progress and warnings (:func:`songmint.release.options.announce`).
    tasks : Tasks
        The executor the cache misses run on; by default in this process (library callers).
    """

    cache: Cache
    log: Log
    tasks: Tasks = field(default_factory=Tasks.inline)
