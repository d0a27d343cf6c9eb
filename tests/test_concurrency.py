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
    t0 = time.perf_counter()
    fn()
    t1 = time.perf_counter()
    stop.set()
    th.join()
    return t1 - t0, [t for t in ticks if t0 < t < t1]


_MEDIUM = [e for e in E.KERNELS if e.medium is not None]


@pytest.mark.parametrize("entry", _MEDIUM, ids=lambda e: e.name)
def test_python_thread_progresses_during_a_long_kernel(entry):
    """While one thread runs a kernel call of a tenth of a second or more, another thread keeps
    counting (1 ms sleeps); with the GIL held the counter would stall for the whole call.
    Python code between kernel calls (chunk drivers) holds the GIL briefly, so the test asks
    for at least a third of the ticks an idle interpreter would give."""
    elapsed, during = _ticks_during(entry.medium)
    assert elapsed > 0.05, f"{entry.name}: medium call took only {elapsed:.3f} s"
    # an idle interpreter gives about one tick per 1.1 ms; on a loaded 2-core machine fewer
    assert len(during) >= max(5, elapsed / 0.0011 / 6), f"{entry.name}: {len(during)} ticks in {elapsed:.2f} s"


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
