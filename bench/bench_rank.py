"""Spearman matrices: tunelab (radix-sort ranks + exact integer Gram, OpenMP) vs
scipy.stats.spearmanr and the NumPy reference."""

from __future__ import annotations

import numpy as np
from harness import Bench, Row, median_time

import tunelab


def run(bench: Bench) -> None:
    sizes = [(8, 1000)] if bench.quick else [(64, 10_000), (16, 100_000)]
    rng = np.random.default_rng(0)
    for T, S in sizes:
        x = rng.standard_normal((S, T))
        baselines = {}
        try:
            from scipy import stats

            baselines["scipy.stats.spearmanr"] = median_time(lambda: stats.spearmanr(x), repeat=5)
        except ModuleNotFoundError:  # pragma: no cover
            pass
        baselines["numpy reference"] = median_time(lambda: tunelab.reference.spearman_matrix(x), repeat=3)
        for threads in sorted({1, tunelab._core.max_threads()}):
            t = median_time(lambda: tunelab.spearman_matrix(x, num_threads=threads), repeat=15)
            bench.record(Row("rank", f"spearman_matrix ({threads} thr)", f"T={T} S={S:.0e}", t, baselines))
