"""Kernels release the GIL, and many Python threads may call them at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import tunelab


def test_python_thread_progresses_during_a_long_kernel():
    """While one thread draws 3e7 normals (about half a second), another thread keeps
    counting; if the GIL were held, the counter would stall for the whole kernel call."""
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
    tunelab.standard_normal(30_000_000, rng=1, num_threads=1)
    t1 = time.perf_counter()
    stop.set()
    th.join()
    during = [t for t in ticks if t0 < t < t1]
    assert t1 - t0 > 0.1
    assert len(during) >= 10  # a held GIL would allow none


def test_eight_threads_get_correct_results():
    expected = [tunelab.standard_normal(100_000, rng=s) for s in range(8)]
    with ThreadPoolExecutor(8) as ex:
        got = list(ex.map(lambda s: tunelab.standard_normal(100_000, rng=s, num_threads=2), range(8)))
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)
