"""Random draws: Philox4x32-10 normals and uniforms vs NumPy's Generator (PCG64), per thread."""

from __future__ import annotations

import numpy as np
from harness import Bench, Row, median_time

import tunelab


def run(bench: Bench) -> None:
    n = 1_000_000 if bench.quick else 10_000_000
    g = np.random.default_rng(0)
    for kind, ours, theirs in [
        ("standard_normal", tunelab.standard_normal, g.standard_normal),
        ("uniform", tunelab.uniform, g.random),
    ]:
        out = np.empty(n)
        t_np = median_time(lambda: theirs(n, out=out))
        for threads in [1, None]:
            t = median_time(lambda: ours(n, rng=1, num_threads=threads))
            label = "1 thr" if threads == 1 else "all thr"
            bench.record(
                Row("rng", f"{kind} ({label})", f"n={n:.0e}", t, {"numpy Generator (1 thr)": t_np},
                    {"ns_per_draw": t / n * 1e9})
            )
