"""Studies on a real dask.distributed cluster (2 worker processes) give the local bits.

Each entry point of ``_entry_points.EXECUTOR`` runs once locally and once on
``Client.get_executor()``; the results must be bit-identical (chunks carry their global first
replica, reductions merge fixed grain-blocks in replica order). The cluster starts once per
module (about 4 s).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tunelab._chunks import _Bound, _bounds

from . import _entry_points as E

distributed = pytest.importorskip("distributed")
dask_base = pytest.importorskip("dask.base")


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # start-up chatter (ports, config) is not ours to test
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=50)
        cl = Client(cluster)
    try:
        yield cl
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cl.close()
            cluster.close()


@pytest.mark.parametrize("entry", E.EXECUTOR, ids=lambda e: e.name)
def test_dask_executor_gives_local_bits(client, entry):
    local = entry.run(None)
    remote = entry.run(client.get_executor())
    entry.same(local, remote)


def test_dask_runs_every_chunk_as_its_own_task(client):
    """dask merges tasks whose keys are equal (pure=True by default): every chunk of a study
    must reach the scheduler as a distinct task, and two studies that differ only in their
    seed must not share a task."""
    from distributed import get_task_stream

    entry = next(e for e in E.EXECUTOR if e.name == "hutchinson_trace[dense]")
    with get_task_stream(client) as ts:
        entry.run(client.get_executor())
    keys = {rec["key"] for rec in ts.data}
    total = 4096
    chunk = max(64, -(-total // (32 * 64)) * 64)  # the driver's default chunk with an executor
    assert len(keys) == len(list(_bounds(total, chunk))) == 32

    # Tokens: distinct per chunk and per call, even for identical arguments.
    from functools import partial

    from tunelab.curvature import _dense_probes

    task = partial(_dense_probes, A=E.A8, key=1)
    fn_a, fn_b = _Bound(task, 1), _Bound(task, 1)
    bounds = list(_bounds(1024, 128))
    tokens = {dask_base.tokenize(fn, b) for fn in (fn_a, fn_b) for b in bounds}
    assert len(tokens) == 2 * len(bounds)


def test_two_seeds_at_once_on_the_cluster(client):
    """Two studies submitted together (same shapes and chunking, different seeds) keep
    their own answers."""
    import tunelab

    ex = client.get_executor()
    import concurrent.futures as cf

    with cf.ThreadPoolExecutor(2) as outer:
        futs = [outer.submit(tunelab.hutchinson_trace, E.A20, 2048, rng=s, executor=ex) for s in (1, 2)]
        remote = [f.result() for f in futs]
    for s, r in zip((1, 2), remote):
        local = tunelab.hutchinson_trace(E.A20, 2048, rng=s)
        assert r.estimate == local.estimate and r.stderr == local.stderr
    assert remote[0].estimate != remote[1].estimate
