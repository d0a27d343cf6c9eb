"""The chunk driver: long Monte Carlo work as a sequence of GIL-free kernel calls.

A *task* is a picklable callable ``task(first, count, num_threads) -> partial`` that runs
replicas ``first .. first + count - 1`` (streams are global replica indices, so a chunk's
answer does not depend on where or with how many threads it ran). The driver

* splits ``total`` replicas into chunks whose boundaries are multiples of ``grain`` (so that
  block-wise reductions, see ``_stats``, are identical for any chunking);
* runs them locally, sizing chunks to take about ``target_seconds`` (Ctrl-C is recorded and
  raised as ``KeyboardInterrupt`` between chunks, see ``_interrupt``, so it arrives within a
  chunk's time), or hands them to an
  ``executor`` (a ``concurrent.futures.Executor`` such as a process pool or
  ``dask.distributed.Client.get_executor()``, or any map-like callable ``map(fn, iterable)``);
  executor workers run each chunk with ``num_threads=1`` unless told otherwise;
* passes the partial results, in replica order, to ``consume(first, count, partial)``;
* shows a tqdm bar when ``progress=True`` (without tqdm: one warning, then a single line
  updated in place on stderr).
"""

from __future__ import annotations

import concurrent.futures as cf
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from ._interrupt import interruptible
from ._threads import resolve_num_threads
from ._validation import check_bool, check_int

__all__ = ["run_chunks", "check_executor"]

Task = Callable[[int, int, int], Any]
Consume = Callable[[int, int, Any], None]

_MIN_SECONDS = 0.02
_MAX_SECONDS = 0.5


def check_executor(executor: Any) -> Any:
    """Refuse an ``executor`` that is neither an Executor nor a map-like callable."""
    if executor is None or isinstance(executor, cf.Executor) or callable(executor):
        return executor
    if hasattr(executor, "map") and callable(executor.map):
        return executor.map
    raise TypeError(
        "executor must be None, a concurrent.futures.Executor or a map-like callable "
        f"map(fn, iterable); got {type(executor).__name__}"
    )


_TQDM_MISSING_WARNED = False


class _Progress:
    """A tqdm bar, or without tqdm one line on stderr updated in place (after one warning)."""

    def __init__(self, enabled: bool, total: int, desc: str | None) -> None:
        self.bar = None
        self.plain = False
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ModuleNotFoundError:  # progress is a convenience: fall back to one plain line
                global _TQDM_MISSING_WARNED
                if not _TQDM_MISSING_WARNED:
                    _TQDM_MISSING_WARNED = True
                    warnings.warn(
                        "progress=True shows a progress bar with tqdm, which is not installed "
                        "(pip install 'tunelab[progress]'); showing one plain line instead",
                        UserWarning,
                        stacklevel=4,
                    )
                self.plain = True
            else:
                self.bar = tqdm(total=total, desc=desc, unit="rep", unit_scale=True)
        self.total = total
        self.done = 0
        self.desc = desc or "tunelab"

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.plain:
            pct = 100.0 * self.done / self.total if self.total else 100.0
            print(f"\r{self.desc}: {self.done}/{self.total} ({pct:.0f}%)", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.plain:
            print(file=sys.stderr, flush=True)


def _bounds(total: int, chunk: int) -> Iterator[tuple[int, int]]:
    for first in range(0, total, chunk):
        yield first, min(chunk, total - first)


class _Bound:
    """A picklable ``bounds -> task(first, count, num_threads)`` for executors.

    dask.distributed names a task by a hash of its function and arguments and runs tasks of
    equal names once (``pure=True``, its default). Each chunk's arguments differ (its bounds),
    and ``__dask_tokenize__`` gives every driver call its own token, so no two chunks of one
    study, nor of two concurrent studies, can be merged whatever dask's tokenizer does with
    the task (and the task, which may hold a large matrix, is not hashed once per chunk).
    """

    def __init__(self, task: Task, num_threads: int) -> None:
        self.task, self.num_threads = task, num_threads
        self.token = uuid.uuid4().hex

    def __dask_tokenize__(self) -> tuple[str, str, int]:
        return ("tunelab-chunk", self.token, self.num_threads)

    def __call__(self, bounds: tuple[int, int]) -> Any:
        return self.task(bounds[0], bounds[1], self.num_threads)


def run_chunks(
    task: Task,
    total: int,
    consume: Consume,
    *,
    grain: int = 1024,
    chunk_size: int | None = None,
    executor: Any = None,
    progress: bool = False,
    desc: str | None = None,
    num_threads: int | None = None,
    target_seconds: float = 0.1,
) -> None:
    """Run ``task`` over ``total`` replicas in chunks and feed the partials to ``consume``.

    Parameters
    ----------
    task : callable
        ``task(first, count, num_threads) -> partial``; picklable when ``executor`` is a
        process-based pool.
    total : int
        Number of replicas.
    consume : callable
        ``consume(first, count, partial)``, called in replica order.
    grain : int
        Chunk boundaries are multiples of ``grain``.
    chunk_size : int, optional
        Replicas per chunk (rounded up to a multiple of ``grain``). Default: adaptive locally
        (about ``target_seconds`` a chunk), ``total / 32`` with an executor.
    executor : Executor or callable, optional
        Where chunks run; results are identical to the local run.
    progress : bool
        Show a progress bar (tqdm, when installed).
    num_threads : int, optional
        Threads per chunk. Default: all (local), 1 (executor workers).
    """
    total = check_int("total", total, minimum=0)
    executor = check_executor(executor)
    check_bool("progress", progress)
    if chunk_size is not None:
        chunk_size = check_int("chunk_size", chunk_size, minimum=1)
        chunk_size = -(-chunk_size // grain) * grain
    bar = _Progress(progress, total, desc)
    try:
        if executor is None:
            _run_local(task, total, consume, grain, chunk_size, resolve_num_threads(num_threads), target_seconds, bar)
        else:
            threads = resolve_num_threads(num_threads, default=1)
            if chunk_size is None:
                chunk_size = max(grain, -(-total // (32 * grain)) * grain)
            _run_executor(task, total, consume, chunk_size, threads, executor, bar)
    finally:
        bar.close()


def _run_local(
    task: Task, total: int, consume: Consume, grain: int, chunk_size: int | None, threads: int, target: float, bar: _Progress
) -> None:
    first = 0
    chunk = chunk_size or grain
    with interruptible() as check:  # Ctrl-C lands here, between chunks (see _interrupt)
        while first < total:
            check()  # a signal during the previous consume / progress update
            count = min(chunk, total - first)
            t0 = time.perf_counter()
            partial = task(first, count, threads)
            elapsed = time.perf_counter() - t0
            check()
            consume(first, count, partial)
            bar.update(count)
            first += count
            if chunk_size is None:
                # Grow (at most 4x) or shrink toward the target time, in multiples of the grain.
                per_rep = max(elapsed, 1e-6) / count
                goal = min(max(target, _MIN_SECONDS), _MAX_SECONDS) / per_rep
                goal = min(goal, 4 * chunk)
                chunk = max(grain, int(goal) // grain * grain)


def _run_executor(
    task: Task, total: int, consume: Consume, chunk: int, threads: int, executor: Any, bar: _Progress
) -> None:
    bounds = list(_bounds(total, chunk))
    fn = _Bound(task, threads)
    if isinstance(executor, cf.Executor):
        futures = [executor.submit(fn, b) for b in bounds]
        try:
            for (first, count), fut in zip(bounds, futures):
                consume(first, count, fut.result())
                bar.update(count)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    else:
        for (first, count), partial in zip(bounds, executor(fn, bounds)):
            consume(first, count, partial)
            bar.update(count)
