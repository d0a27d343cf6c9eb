"""transfer_study: tunelab (C++ grid search with exact pruning + C++ Spearman) vs the NumPy
reference (full grid evaluation on the same Philox streams + NumPy ranks)."""

from __future__ import annotations

import time

import numpy as np
from harness import Bench, Row, median_time

import tunelab
from tunelab._random import kernel_key


def run(bench: Bench) -> None:
    T, S, G = (4, 500, 50) if bench.quick else (16, 10_000, 200)
    c = np.linspace(0.0, 0.95, T)
    mu, sigma = np.full(T, np.log(1e-3)), np.ones(T)
    log_grid = np.linspace(np.log(1e-3) - 5, np.log(1e-3) + 5, G)
    for noise in (0.01, 1.0):
        t0 = time.perf_counter()
        tunelab.reference.transfer_study(c, n_seeds=S, log_grid=log_grid, mu=mu, sigma=sigma, eval_noise=noise,
                                         key=kernel_key(1))
        t_ref = time.perf_counter() - t0
        for threads in sorted({1, tunelab._core.max_threads()}):
            t = median_time(lambda: tunelab.transfer_study(c, n_seeds=S, lr_grid=np.exp(log_grid), mu=mu, sigma=sigma,
                                                           eval_noise=noise, rng=1, num_threads=threads), repeat=5)
            bench.record(Row("transfer", f"transfer_study ({threads} thr)", f"T={T} S={S:.0e} G={G} noise={noise:g}", t,
                             {"numpy reference": t_ref}))
