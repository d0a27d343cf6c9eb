"""Scaling: the built-in SGD objective (C++) vs its step-by-step NumPy reference, and
fit_power_law (vectorised residual bootstrap)."""

from __future__ import annotations

import time

import numpy as np
from harness import Bench, Row, median_time

import tunelab
from tunelab._random import kernel_key


def run(bench: Bench) -> None:
    obj = tunelab.SGDQuadraticObjective(rng=1)
    sizes = np.array([1e3, 3e3]) if bench.quick else np.geomspace(1e3, 3e4, 5)
    batches = np.geomspace(6, 600, 5 if bench.quick else 15)
    seeds = np.arange(2 if bench.quick else 8)
    # The reference loops in Python per step: time it on one (N, B) cell and scale by the steps.
    n_ref, b_ref = 1000.0, 8.0
    t0 = time.perf_counter()
    tunelab.reference.sgd_quadratic_scores(np.array([n_ref]), np.array([b_ref]), seeds[:1], key=kernel_key(1), **obj._options())
    per_step_ref = (time.perf_counter() - t0) / (n_ref / b_ref)
    total_steps = float(sum(max(1, np.floor(n / b)) for n in sizes for b in batches)) * seeds.size
    for threads in sorted({1, tunelab._core.max_threads()}):
        t = median_time(lambda: obj.evaluate_grid(sizes, batches, seeds, num_threads=threads), repeat=3)
        bench.record(Row("scaling", f"SGDQuadraticObjective ({threads} thr)",
                         f"{sizes.size}N x {batches.size}B x {seeds.size}s", t,
                         {"numpy reference (extrapolated)": per_step_ref * total_steps},
                         {"steps_per_s": total_steps / t}))
    x = np.geomspace(1e3, 1e5, 8)
    y = 2 * x**0.5 * np.exp(0.1 * np.random.default_rng(0).standard_normal(8))
    t = median_time(lambda: tunelab.fit_power_law(x, y, rng=0), repeat=5)
    bench.record(Row("scaling", "fit_power_law (n_boot=2000)", "8 points", t))
