"""Random draws: Philox4x32-10 normals (ziggurat) and uniforms vs NumPy's Generator (PCG64).

The headline rows fill a preallocated array (``out=``) on both sides, so page faults of a
fresh 80 MB array are not timed; "(alloc)" rows time the allocating call as users write it,
against NumPy's allocating call. "Stream::normal" is the per-draw path the simulation kernels
use (one rng::Stream, n calls of normal()), timed through a test hook of the compiled module.
"""

from __future__ import annotations

import numpy as np
from harness import Bench, Row, median_time

import tunelab
from tunelab import _core


def run(bench: Bench) -> None:
    n = 1_000_000 if bench.quick else 10_000_000
    g = np.random.default_rng(0)
    simd = {0: "scalar", 1: "AVX2", 2: "AVX-512F"}[_core.rng_simd_level()]
    out = np.empty(n)
    out.fill(0.0)  # fault the pages in once
    for kind, ours, theirs in [
        ("standard_normal", tunelab.standard_normal, g.standard_normal),
        ("uniform", tunelab.uniform, g.random),
    ]:
        t_np = median_time(lambda: theirs(n, out=out))
        for threads in sorted({1, 2, tunelab._core.max_threads()}):
            t = median_time(lambda: ours(rng=1, num_threads=threads, out=out))
            bench.record(
                Row("rng", f"{kind} ({threads} thr)", f"n={n:.0e}", t, {"numpy Generator (1 thr)": t_np},
                    {"ns_per_draw": t / n * 1e9, "philox": simd})
            )
        if kind == "standard_normal":
            t_np_alloc = median_time(lambda: theirs(n))
            t = median_time(lambda: ours(n, rng=1, num_threads=1))
            bench.record(
                Row("rng", f"{kind} (alloc, 1 thr)", f"n={n:.0e}", t, {"numpy Generator (1 thr)": t_np_alloc},
                    {"ns_per_draw": t / n * 1e9})
            )
            key = tunelab._random.kernel_key(1)
            m = n // 10
            t = median_time(lambda: _core.stream_normals(m, key, 0, 0))
            bench.record(
                Row("rng", "Stream::normal (1 thr)", f"n={m:.0e}", t, {"numpy Generator (1 thr)": t_np * m / n},
                    {"ns_per_draw": t / m * 1e9})
            )
