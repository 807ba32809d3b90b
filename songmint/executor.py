"""One executor interface for the heavy, pure per-track stages: local processes or a Ray cluster.

An executor maps a module-level function over picklable items and returns one
:class:`Outcome` per item, in item order, whichever worker finished first::

    with get_executor("ray", workers=2) as ex:          # or "local" (the default)
        outcomes = ex.map(analyse, paths, labels=names, progress=bar_update, keep_going=True)

- ``local``: :class:`concurrent.futures.ProcessPoolExecutor` with the ``spawn`` start method (no
  fork of a driver holding threads, sockets or a chain client); with one worker the tasks run in
  the calling process, as songmint always did.
- ``ray``: Ray tasks (``pip install 'songmint[cluster]'``). ``address=None`` starts a local Ray
  instance with ``workers`` CPUs; ``address="auto"`` joins the cluster this machine belongs to
  (``ray start`` / ``ray up`` / a KubeRay head pod); ``"ray://host:10001"`` connects a Ray client.

Tasks must be pure: inputs in, a result out, no writes that the driver does not make. The
driver keeps the journal, the chain client and storage, and writes results where they belong
(content-addressed caches), so a retried or resumed task never repeats a side effect.

Every task runs with BLAS/OpenMP pools limited to one thread (``threadpoolctl``), so workers do not
oversubscribe cores and the floating-point reductions are the same on every executor: the same
bytes out whichever ran them. ``memory_mb`` bounds each worker: an address-space limit in local
worker processes (a task over it fails with ``MemoryError``, reported as that task's failure),
and Ray's ``memory`` reservation (the scheduler runs no more tasks per node than fit) plus the
same limit in each Ray worker.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from songmint.errors import SongmintError

EXECUTORS = ("local", "ray")
T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[["Outcome[Any]"], None]
_Raw = tuple[int, tuple[Any, ...]]  # (index, run_task's tuple)


class TaskError(SongmintError):
    """A task failed with a user error (bad input): the message names the item."""


class TaskBug(RuntimeError):
    """A task failed with an unexpected exception (a bug): the message names the item and the type."""


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """What one task gave.

    Attributes
    ----------
    index : int
        Position of the item in the input.
    label : str
        The item's name in messages (a file name, a track id).
    value : object or None
        The function's return value; ``None`` when it failed.
    error : str or None
        One-line error message when it failed (``value`` is then ``None``).
    user_error : bool
        Whether the failure was a user error (bad input) rather than a bug.
    seconds : float
        Wall time of the task in its worker.
    cpu_s : float
        CPU time of the task (its worker and the processes it ran, e.g. ffmpeg), seconds.
    peak_rss_mb : float
        Peak resident memory of the worker process so far (MiB), as measured after the task.
    worker : str
        ``host:pid`` of the worker that ran it.
    """

    index: int
    label: str
    value: R | None
    error: str | None = None
    user_error: bool = False
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    worker: str = ""
    cpu_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def _limit_memory(memory_mb: int | None) -> None:
    if not memory_mb:
        return
    import resource

    limit = int(memory_mb) * 2**20
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _peak_rss_mb() -> float:
    import resource
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024


def run_task(
    fn: Callable[[Any], Any], item: Any, memory_mb: int | None = None
) -> tuple[Any, str | None, bool, tuple[float, float], float, str, BaseException | None]:
    """Run ``fn(item)``: ``(value, error, user_error, (seconds, cpu_s), peak_rss_mb, worker, exc)``.

    Never raises: failures come back as data, so one bad item does not lose the others; ``exc`` is
    a user error itself (when it pickles), so the driver can raise it as it was raised.
    """
    import pickle
    import resource
    import socket

    from threadpoolctl import threadpool_limits

    from songmint.errors import USER_ERRORS

    _limit_memory(memory_mb)
    t = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    value, error, user, raised = None, None, False, None
    try:
        with threadpool_limits(limits=1):
            value = fn(item)
    except USER_ERRORS as exc:
        error, user = " ".join(str(exc).split()) or type(exc).__name__, True
        try:
            raised = pickle.loads(pickle.dumps(exc))
        except Exception:  # an exception that does not survive pickling: its message will do
            raised = None
    except MemoryError:
        error = f"ran out of memory (worker limit {memory_mb} MiB)" if memory_mb else "ran out of memory"
        user = True
    except Exception as exc:
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    where = f"{socket.gethostname()}:{os.getpid()}"
    r1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(b.ru_utime - a.ru_utime + b.ru_stime - a.ru_stime for a, b in zip(r0, r1, strict=True))
    return value, error, user, (time.perf_counter() - t, cpu), _peak_rss_mb(), where, raised


Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
"""``(fn, args, kwargs)``: a call of a module-level function, for :func:`call`."""


def call(job: Job) -> Any:
    """``fn(*args, **kwargs)`` of a :data:`Job`: lets a pipeline map existing library functions
    (``music.audio.encode``, ``music.traits.extract`` …) without wrappers of its own."""
    fn, args, kwargs = job
    return fn(*args, **kwargs)


class Executor:
    """Base class: :meth:`map` over :meth:`_submit_all`; subclasses supply the workers."""

    name = "base"

    def __init__(self, workers: int = 1, *, memory_mb: int | None = None) -> None:
        self.workers = max(1, int(workers))
        self.memory_mb = memory_mb

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the workers (idempotent)."""

    def describe(self) -> str:
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''})"

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T] | Iterable[T],
        *,
        labels: Sequence[str] | None = None,
        progress: Progress | None = None,
        keep_going: bool = False,
    ) -> list[Outcome[R]]:
        """``fn`` over ``items``; outcomes in item order.

        Parameters
        ----------
        fn : callable
            A module-level function (picklable by reference) of one item.
        items : sequence
            Picklable inputs, one task each.
        labels : sequence of str, optional
            Names of the items in messages (default: their index).
        progress : callable, optional
            Called on the driver with each :class:`Outcome` as it arrives (completion order).
        keep_going : bool
            ``False`` (default): the first failure stops the run (items not yet submitted never
            start; the few in flight finish and are dropped) and is raised: a user error as the
            task raised it (else :class:`TaskError`), :class:`TaskBug` for a bug. ``True``:
            failures are returned as outcomes and every other item finishes.
        """
        results: list[Outcome[R] | None] = []
        for o in self.imap(fn, items, labels=labels, keep_going=keep_going):
            results += [None] * (o.index + 1 - len(results))
            results[o.index] = o
            if progress is not None:
                progress(o)
        return [r for r in results if r is not None]

    def imap(
        self,
        fn: Callable[[T], R],
        items: Sequence[T] | Iterable[T],
        *,
        labels: Sequence[str] | None = None,
        keep_going: bool = False,
    ) -> Iterator[Outcome[R]]:
        """Like :meth:`map`, yielding each :class:`Outcome` as it arrives (completion order)."""
        items = list(items)
        names = list(labels) if labels is not None else [str(i) for i in range(len(items))]
        if len(names) != len(items):
            raise ValueError("labels must match items one to one")
        for i, raw in self._submit_all(fn, items):
            value, error, user, (seconds, cpu), rss, worker, raised = raw
            o: Outcome[R] = Outcome(i, names[i], value, error, user, seconds, rss, worker, cpu)
            if error is not None and not keep_going:
                self._cancel()
                if raised is not None:
                    raise raised  # the user error as the task raised it (its type and message)
                message = f"{names[i]}: {error}" if names[i] not in error else error
                raise (TaskError if user else TaskBug)(message)
            yield o

    def _in_flight(
        self,
        items: list[Any],
        *,
        submit: Callable[[Any], Any],
        wait_any: Callable[[list[Any]], Iterable[Any]],
    ) -> Iterator[tuple[int, Any]]:
        """``(index, handle)`` of each finished task, keeping at most ``2 × workers`` in flight.

        ``submit(item)`` starts a task and returns its handle (a future, a Ray ref);
        ``wait_any(handles)`` blocks until at least one is done and returns the done ones. The
        bounded window means inputs are not all pickled (or put in Ray's object store) up front.
        """
        pending: dict[Any, int] = {}
        todo = iter(enumerate(items))
        while True:
            while len(pending) < 2 * self.workers and (nxt := next(todo, None)) is not None:
                pending[submit(nxt[1])] = nxt[0]
            if not pending:
                return
            for handle in wait_any(list(pending)):
                yield pending.pop(handle), handle

    # subclass hooks ---------------------------------------------------------------
    def _submit_all(self, fn: Callable[[Any], Any], items: list[Any]) -> Iterable[_Raw]:
        raise NotImplementedError

    def _cancel(self) -> None:
        """Drop tasks not yet started (after a failure without ``keep_going``)."""


class LocalExecutor(Executor):
    """Processes on this machine (``spawn``); one worker runs the tasks in the calling process."""

    name = "local"

    def __init__(
        self,
        workers: int | None = None,
        *,
        memory_mb: int | None = None,
        max_tasks_per_child: int | None = 64,
    ) -> None:
        super().__init__(workers or 1, memory_mb=memory_mb)
        self.max_tasks_per_child = max_tasks_per_child
        self._pool: Any = None

    def _submit_all(self, fn: Callable[[Any], Any], items: list[Any]) -> Iterable[_Raw]:
        if self.workers == 1 or len(items) <= 1:
            # in-process: no memory limit on the driver itself
            for i, item in enumerate(items):
                yield i, run_task(fn, item)
            return
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                max_tasks_per_child=self.max_tasks_per_child,
            )
        pool = self._pool
        for i, fut in self._in_flight(
            items,
            submit=lambda item: pool.submit(run_task, fn, item, self.memory_mb),
            wait_any=lambda futs: wait(futs, return_when=FIRST_COMPLETED)[0],
        ):
            yield i, fut.result()

    def _cancel(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class RayExecutor(Executor):
    """Ray tasks: a local instance (``address=None``) or an existing cluster (``auto``, ``ray://…``)."""

    name = "ray"

    def __init__(
        self,
        workers: int | None = None,
        *,
        address: str | None = None,
        memory_mb: int | None = None,
        runtime_env: dict[str, Any] | None = None,
    ) -> None:
        try:
            import ray
        except ImportError as exc:
            raise SongmintError(
                "--executor ray needs Ray: pip install 'songmint[cluster]' (or pip install ray)"
            ) from exc
        self._ray = ray
        self._owned = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "address": address,
                "include_dashboard": False,
                "log_to_driver": False,
                "configure_logging": False,
            }
            env = dict(runtime_env or {})
            if address is None:
                kwargs["num_cpus"] = workers or os.cpu_count() or 1
                # like spawn: the workers import what the driver can (its sys.path, e.g. a checkout)
                import sys

                paths = [p for p in sys.path if p and os.path.isdir(p)]
                env.setdefault("env_vars", {}).setdefault("PYTHONPATH", os.pathsep.join(paths))
            if env:
                kwargs["runtime_env"] = env
            try:
                ray.init(**kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise SongmintError(
                    f"cannot reach the Ray cluster at {address or 'a new local instance'}: "
                    f"{' '.join(str(exc).split())}; check --address (auto, ray://host:10001)"
                ) from exc
            self._owned = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        super().__init__(workers or cpus, memory_mb=memory_mb)
        options: dict[str, Any] = {"num_cpus": 1, "max_retries": 2, "retry_exceptions": False}
        if memory_mb:
            options["memory"] = int(memory_mb) * 2**20
        self._task = ray.remote(**options)(run_task)
        self._refs: list[Any] = []

    def describe(self) -> str:
        return f"ray ({self.workers} worker{'s' if self.workers != 1 else ''})"

    def _submit_all(self, fn: Callable[[Any], Any], items: list[Any]) -> Iterable[_Raw]:
        ray = self._ray
        fn_ref = ray.put(fn)

        def wait_any(refs: list[Any]) -> Iterable[Any]:
            self._refs = refs  # what _cancel cancels
            return ray.wait(refs, num_returns=1)[0]

        for i, ref in self._in_flight(
            items, submit=lambda item: self._task.remote(fn_ref, item, self.memory_mb), wait_any=wait_any
        ):
            try:
                yield i, ray.get(ref)
            except ray.exceptions.RayError as exc:  # the worker died (OOM kill, node lost)
                lost = f"worker lost: {' '.join(str(exc).split())[:300]}"
                yield i, (None, lost, False, (0.0, 0.0), 0.0, "", None)

    def _cancel(self) -> None:
        # Let the in-flight window finish and drop its results rather than ray.cancel it: a cancel
        # racing a task that completes at that moment trips a Ray CHECK ("Tried to complete task that
        # was not pending", seen in the suite with Ray 2.x) that aborts the whole driver process.
        import contextlib

        if self._refs:
            with contextlib.suppress(Exception):  # a lost worker: nothing left to wait for
                self._ray.wait(self._refs, num_returns=len(self._refs))
        self._refs = []

    def close(self) -> None:
        if self._owned and self._ray.is_initialized():
            self._ray.shutdown()
            self._owned = False


def get_executor(
    name: str = "local",
    *,
    workers: int | None = None,
    address: str | None = None,
    memory_mb: int | None = None,
) -> Executor:
    """An executor by name (``local`` or ``ray``); see the module docstring."""
    if name == "local":
        if address:
            raise SongmintError("--address goes with --executor ray")
        return LocalExecutor(workers, memory_mb=memory_mb)
    if name == "ray":
        return RayExecutor(workers, address=address, memory_mb=memory_mb)
    raise SongmintError(f"unknown executor {name!r}; use one of: {', '.join(EXECUTORS)}")
