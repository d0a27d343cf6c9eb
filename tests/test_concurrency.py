"""Kernels release the GIL, and many Python threads may call them at once.

Tables: ``_entry_points.KERNELS`` (one entry per compiled kernel; ``medium`` is a call of about
0.1-0.5 s on one thread for the GIL test, ``tiny``/``check`` a small call and its answer).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import tunelab

from . import _entry_points as E


def test_every_kernel_has_an_entry():
    covered = {k for e in E.KERNELS for k in e.kernels}
    missing = E.core_functions() - covered - E.KERNEL_EXEMPT
    assert not missing, f"compiled kernels without a KERNELS entry: {sorted(missing)}"


def _ticks_during(fn):
    ticks = []
    stop = threading.Event()

    def counter():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    th = threading.Thread(target=counter)
    th.start()
    time.sleep(0.02)
    try:
        fn()
    finally:
        stop.set()
        th.join()
    return ticks


_MEDIUM = [e for e in E.KERNELS if e.medium is not None]

#: kernel time the GIL test collects, however fast the machine (the medium call is repeated)
_BUSY_SECONDS = 0.2


@pytest.mark.parametrize("entry", _MEDIUM, ids=lambda e: e.name)
def test_python_thread_progresses_during_a_long_kernel(entry):
    """While one thread runs kernel calls, another thread keeps counting (1 ms sleeps).

    The work is sized by measuring, not assumed: the medium call is repeated until the calls
    have lasted ``_BUSY_SECONDS`` in all, and only ticks that fall *inside* a call count. With
    the GIL held through a kernel the counter could only tick between calls (or between a
    chunk driver's chunks), a few ticks in all; released, it ticks about once per 1.1 ms.
    Python code around the kernels (argument checks, chunk drivers) holds the GIL briefly and
    a loaded 2-core machine schedules the counter less often, so the test asks for a sixth of
    the ticks an idle interpreter would give (at least 5)."""
    entry.medium()  # warm-up: first-touch page faults, lazy imports
    calls: list[tuple[float, float]] = []

    def run():
        while sum(b - a for a, b in calls) < _BUSY_SECONDS:
            a = time.perf_counter()
            entry.medium()
            calls.append((a, time.perf_counter()))

    ticks = _ticks_during(run)
    busy = sum(b - a for a, b in calls)
    inside = sum(1 for t in ticks if any(a < t < b for a, b in calls))
    need = max(5, busy / 0.0011 / 6)
    assert inside >= need, f"{entry.name}: {inside} ticks inside {len(calls)} calls of {busy:.2f} s in all (need {need:.0f})"


@pytest.mark.parametrize("entry", E.KERNELS, ids=lambda e: e.name)
def test_eight_threads_get_correct_results(entry):
    """Eight Python threads calling the same kernel at once (each with its default OpenMP
    threads) all get the answer of a lone call."""
    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(lambda _: entry.tiny(), range(16)))
    for r in results:
        entry.check(r)


def test_eight_threads_mixed_kernels():
    """All kernels at once, from eight threads."""
    jobs = [e for e in E.KERNELS for _ in range(3)]
    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(lambda e: (e, e.tiny()), jobs))
    for e, r in results:
        e.check(r)


def test_eight_threads_get_correct_results_standard_normal():
    expected = [tunelab.standard_normal(100_000, rng=s) for s in range(8)]
    with ThreadPoolExecutor(8) as ex:
        got = list(ex.map(lambda s: tunelab.standard_normal(100_000, rng=s, num_threads=2), range(8)))
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)
