"""The chunk driver: identical results for any chunking, thread count or executor; flat
reductions; progress; Ctrl-C."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from functools import partial

import numpy as np
import pytest

from tunelab._chunks import run_chunks
from tunelab._stats import Moments

from ._chunk_tasks import normal_rows, slow_sum


pytestmark = pytest.mark.usefixtures("default_sigint")


def _moments(chunk_size=None, executor=None, num_threads=None, total=5000, grain=64):
    task = partial(normal_rows, key=99, width=3)
    m = Moments(grain=grain)
    run_chunks(
        task,
        total,
        lambda first, count, rows: m.add(rows),
        grain=grain,
        chunk_size=chunk_size,
        executor=executor,
        num_threads=num_threads,
    )
    return m


def test_moments_match_numpy():
    m = _moments()
    rows = normal_rows(0, 5000, 1, key=99, width=3)
    assert np.all(m.n == 5000)
    np.testing.assert_allclose(m.mean, rows.mean(axis=0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(m.var, rows.var(axis=0, ddof=1), rtol=1e-12)


@pytest.mark.parametrize("chunk_size", [64, 100, 1000, 5000])
@pytest.mark.parametrize("num_threads", [1, 2])
def test_bits_do_not_depend_on_chunking_or_threads(chunk_size, num_threads):
    ref = _moments(chunk_size=64, num_threads=1)
    got = _moments(chunk_size=chunk_size, num_threads=num_threads)
    np.testing.assert_array_equal(got.mean, ref.mean)
    np.testing.assert_array_equal(got.m2, ref.m2)


def test_thread_pool_and_map_callable_give_local_result():
    ref = _moments()
    with cf.ThreadPoolExecutor(2) as ex:
        got = _moments(executor=ex, chunk_size=640)
    np.testing.assert_array_equal(got.mean, ref.mean)
    np.testing.assert_array_equal(got.m2, ref.m2)
    got = _moments(executor=map, chunk_size=128)
    np.testing.assert_array_equal(got.m2, ref.m2)


def test_forkserver_process_pool_gives_local_result():
    ref = _moments()
    ctx = multiprocessing.get_context("forkserver")
    with cf.ProcessPoolExecutor(2, mp_context=ctx) as ex:
        got = _moments(executor=ex)
    np.testing.assert_array_equal(got.m2, ref.m2)


def test_executor_refusal():
    with pytest.raises(TypeError, match="executor"):
        _moments(executor=42)


def test_progress_bar_counts_every_replica(capsys):
    pytest.importorskip("tqdm")
    m = Moments(grain=64)
    run_chunks(partial(normal_rows, key=1, width=2), 1000, lambda f, c, r: m.add(r), grain=64, progress=True, desc="rows")
    err = capsys.readouterr().err
    assert "1.00k/1.00k" in err or "1000/1000" in err


def test_progress_without_tqdm_warns_once_and_updates_one_line(monkeypatch, capsys):
    import tunelab._chunks as chunks

    monkeypatch.setitem(sys.modules, "tqdm", None)  # importing tqdm now raises ModuleNotFoundError
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.setattr(chunks, "_TQDM_MISSING_WARNED", False)
    m = Moments(grain=64)

    def run() -> None:
        run_chunks(partial(normal_rows, key=1, width=2), 1000, lambda f, c, r: m.add(r), grain=64, chunk_size=64,
                   progress=True, desc="rows")

    with pytest.warns(UserWarning, match=r"pip install 'tunelab\[progress\]'"):
        run()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("rows: 1000/1000 (100%)\n"), err[-200:]
    assert err.count("\r") == 16  # one update per chunk of 64 (the last one of 40), in place
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once: not again
        run()
    assert capsys.readouterr().err.count("\n") == 1


def test_ctrl_c_interrupts_within_a_second():
    """SIGINT half a second into a run of several seconds raises KeyboardInterrupt within one
    second of the signal (chunks are sized to about 0.1 s). The timer thread sends the signal to
    the process (os.kill), not to itself (raise_signal): a thread-directed signal stays pending
    for good if that thread happens to block SIGINT, and the run is sized (2·10⁹ normals) so that
    a lost signal fails the test in seconds rather than hanging the suite."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread only")
    sent = []

    def fire():
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(0.5, fire)
    timer.start()
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        run_chunks(partial(slow_sum, key=3), 20_000, lambda f, c, r: None, grain=1, num_threads=1)
    caught = time.perf_counter()
    timer.join()
    assert sent and caught - sent[0] < 1.0
    assert caught - t0 < 5
