"""Early stopping: Monte Carlo of the gap rule (100-epoch horizon) and of Keras patience vs
vectorised NumPy, thread scaling, and the exact law on a 10^5-epoch horizon.

Baselines:
* "numpy reference" -- ``tunelab.reference`` (same Philox draws, vectorised over replicas x
  epochs, no early exit); it is slow, so it runs on fewer replicas and its time is scaled
  linearly to the same replica count (its cost is exactly linear in replicas);
* "numpy Generator" -- the same rule vectorised with NumPy's own PCG64 generator (different
  random numbers; the fastest plain-NumPy version we could write), for context.
"""

from __future__ import annotations

import numpy as np
from harness import Bench, Row, median_time

import tunelab
from tunelab import reference as ref
from tunelab._random import kernel_key

E_MC = 100


def _gap_curves(E: int) -> tuple[np.ndarray, np.ndarray]:
    e = np.arange(1, E + 1, dtype=float)
    train = 1.0 / np.sqrt(e)
    return train, train + 0.12 * (e / E) ** 2


def _numpy_gap_rule(gap: np.ndarray, delta: float, sigma: float, n: int, g: np.random.Generator) -> np.ndarray:
    q = ref.stop_probabilities(gap, delta, sigma)
    hit = g.random((n, gap.shape[0])) < q
    stop = np.where(hit.any(axis=1), hit.argmax(axis=1), gap.shape[0])
    return np.bincount(stop, minlength=gap.shape[0] + 1)


def _numpy_patience(val: np.ndarray, patience: int, sigma: float, n: int, g: np.random.Generator) -> np.ndarray:
    obs = val[None, :] + sigma * g.standard_normal((n, val.shape[0]))
    best = np.full(n, np.inf)
    best_e = np.zeros(n, dtype=np.int64)
    wait = np.zeros(n, dtype=np.int64)
    running = np.ones(n, dtype=bool)
    stop = np.full(n, val.shape[0])
    for e in range(val.shape[0]):
        wait += running
        better = running & (obs[:, e] < best)
        best = np.where(better, obs[:, e], best)
        best_e = np.where(better, e, best_e)
        wait = np.where(better, 0, wait)
        halt = running & ~better & (wait >= patience)
        stop = np.where(halt, e, stop)
        running &= ~halt
    return np.bincount(best_e, minlength=val.shape[0])


def _threads() -> list[int]:
    return sorted({1, 2, tunelab._core.max_threads()})


def run(bench: Bench) -> None:
    quick = bench.quick
    g = np.random.default_rng(0)

    # --- gap rule, Monte Carlo, 100-epoch horizon -----------------------------------------
    n = 200_000 if quick else 2_000_000
    n_ref = 5_000 if quick else 40_000
    train, val = _gap_curves(E_MC)
    gap = val - train
    delta, noise = 0.06, 0.01
    sigma = float(np.hypot(noise, noise))
    key = kernel_key(1)
    for rho in (0.0, 0.5):
        t_ref = median_time(
            lambda: ref.stopping_distribution(gap, delta, sigma, method="monte_carlo", rho=rho, n_rep=n_ref, key=key),
            repeat=3,
        ) * (n / n_ref)
        baselines = {"numpy reference": t_ref}
        if rho == 0.0:
            n_np = n // 4
            baselines["numpy Generator"] = median_time(lambda: _numpy_gap_rule(gap, delta, sigma, n_np, g), repeat=3) * (n / n_np)
        d = tunelab.stopping_distribution(train, val, delta, noise_std=noise, method="monte_carlo", rho=rho, n_rep=n, rng=1)
        times = {}
        for th in _threads():
            times[th] = median_time(
                lambda: tunelab.stopping_distribution(
                    train, val, delta, noise_std=noise, method="monte_carlo", rho=rho, n_rep=n, rng=1, num_threads=th
                ),
                repeat=3,
            )
            extra = {
                "Mrep_epochs_per_s": n * E_MC / times[th] / 1e6,
                "mean_stop": d.mean,
            }
            if th > 1:
                extra["speedup_vs_1thr"] = times[1] / times[th]
            bench.record(
                Row("early_stop", f"gap rule MC rho={rho} ({th} thr)", f"E={E_MC}, n_rep={n:.0e}", times[th], baselines, extra)
            )

    # --- exact law, 10^5-epoch horizon ---------------------------------------------------
    E = 10_000 if quick else 100_000
    e = np.arange(1, E + 1, dtype=float)
    cases = {
        "crossing at E/2, sigma=0.02": (0.3 * (e / E) ** 2, 0.075, 0.02),
        "noise 10x range": (0.3 * (e / E) ** 2, 0.075, 3.0),
        "worst: never crosses, z~5..30": (0.3 * (e / E) ** 2, 0.45, 0.006),
    }
    for name, (gp, dl, sg) in cases.items():
        zeros = np.zeros(E)
        t_ref = median_time(lambda: ref.stopping_distribution(gp, dl, sg), repeat=5)
        for th in _threads():
            t = median_time(lambda: tunelab.stopping_distribution(zeros, gp, dl, noise_std=(0.0, sg), num_threads=th), repeat=9)
            t_k = median_time(lambda: tunelab._core.exact_first_passage(gp, dl, sg, th), repeat=9)
            bench.record(
                Row("early_stop", f"exact law: {name} ({th} thr)", f"E={E:.0e}", t, {"numpy reference (log_ndtr)": t_ref},
                    {"ms_per_curve": t * 1e3, "kernel_ms": t_k * 1e3})  # fmt: skip
            )

    # --- patience (Keras EarlyStopping), 100-epoch horizon ----------------------------------
    n = 100_000 if quick else 1_000_000
    n_ref = 5_000 if quick else 20_000
    ep = np.arange(1, E_MC + 1, dtype=float)
    curve = 1.0 / np.sqrt(ep) + 0.004 * ep
    t_ref = median_time(
        lambda: ref.patience_stopping(
            curve, patience=5, min_delta=0.0, sigma=0.02, rho=0.0, restore_best=True, n_rep=n_ref, key=key
        ),
        repeat=3,
    ) * (n / n_ref)
    n_np = n // 4
    t_np = median_time(lambda: _numpy_patience(curve, 5, 0.02, n_np, g), repeat=3) * (n / n_np)
    times = {}
    for th in _threads():
        times[th] = median_time(
            lambda: tunelab.patience_stopping(curve, patience=5, noise_std=0.02, n_rep=n, rng=1, num_threads=th), repeat=3
        )
        extra = {"Mrep_epochs_per_s": n * E_MC / times[th] / 1e6}
        if th > 1:
            extra["speedup_vs_1thr"] = times[1] / times[th]
        bench.record(
            Row("early_stop", f"patience_stopping ({th} thr)", f"E={E_MC}, n_rep={n:.0e}", times[th],
                {"numpy reference": t_ref, "numpy Generator": t_np}, extra)  # fmt: skip
        )
