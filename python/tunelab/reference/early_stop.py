"""NumPy references for early-stopping reliability (SCIENCE.md section 5).

Same names as the public functions; they take the kernel ``key`` (as ``tunelab.reference``'s
random functions do) instead of ``rng`` and return plain arrays. Monte Carlo references draw
the very numbers the compiled kernels draw (Philox4x32-10, stream = global replica index,
uniform/normal index = epoch - 1), vectorised over replicas and epochs, without early exit.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_ndtr, ndtr

from .rng import _unit, normal_rows, philox_blocks

__all__ = [
    "stopping_distribution",
    "threshold_for_reliability",
    "patience_stopping",
    "patience_tradeoff",
    "stop_probabilities",
]


def _blocks(key: int, first: int, n_rep: int, n_blocks: int) -> np.ndarray:
    """Philox blocks ``(n_rep, n_blocks, 4)``: stream ``first + r``, slot ``j``."""
    streams = np.arange(first, first + n_rep, dtype=np.uint64)[:, None]
    return philox_blocks(key, streams, np.arange(n_blocks, dtype=np.uint64)[None, :])


def _draws(kind: str, key: int, first: int, n_rep: int, n: int) -> np.ndarray:
    """``(n_rep, n)``: row r holds the first ``n`` uniforms/normals of stream ``first + r``."""
    if kind == "normal":
        return normal_rows(key, first, n_rep, n)
    b = _blocks(key, first, n_rep, (n + 1) // 2)
    u1, u2 = _unit(b[..., 0], b[..., 1]), _unit(b[..., 2], b[..., 3])
    return np.stack([u1, u2], axis=-1).reshape(n_rep, -1)[:, :n]


def _ar1(xi: np.ndarray, rho: float) -> np.ndarray:
    """Stationary AR(1) along axis 1: ``eps_1 = xi_1``, ``eps_e = rho eps_{e-1} + sqrt(1-rho^2) xi_e``."""
    c = np.sqrt(1.0 - rho * rho)
    eps = np.empty_like(xi)
    eps[:, 0] = xi[:, 0]
    for e in range(1, xi.shape[1]):
        eps[:, e] = rho * eps[:, e - 1] + c * xi[:, e]
    return eps


def _margins(gap: np.ndarray, threshold: float, sigma: float) -> np.ndarray:
    if sigma > 0:
        return (threshold - gap) / sigma
    return np.where(gap > threshold, -np.inf, np.inf)


def stop_probabilities(gap: np.ndarray, threshold: float, sigma: float) -> np.ndarray:
    """Per-epoch stop probability ``q_e = P(G~(e) > delta) = Phi(-(delta - G(e)) / sigma)``."""
    return ndtr(-_margins(np.asarray(gap, dtype=float), threshold, sigma))


def _first_true(hit: np.ndarray) -> np.ndarray:
    """Index of the first True along axis 1, or the row length when none."""
    any_hit = hit.any(axis=1)
    return np.where(any_hit, hit.argmax(axis=1), hit.shape[1])


def stopping_distribution(
    gap: np.ndarray,
    threshold: float,
    sigma: float,
    *,
    method: str = "exact",
    rho: float = 0.0,
    n_rep: int = 0,
    key: int = 0,
    first: int = 0,
) -> tuple[np.ndarray, float] | np.ndarray:
    """Law of the gap rule's stop epoch.

    ``method="exact"``: ``(pmf, p_never)`` from the first-passage product in log space with
    ``scipy.special.log_ndtr``: ``log P(E^ = e) = sum_{j<e} log Phi(z_j) + log Phi(-z_e)``.
    ``method="monte_carlo"``: integer ``counts`` of length ``E + 1`` (last: never stopped) for
    replicas ``first .. first + n_rep - 1``; ``rho == 0`` compares uniforms with ``q_e``,
    ``rho != 0`` simulates AR(1) noise from normals, exactly as the compiled kernels do.
    """
    gap = np.asarray(gap, dtype=float)
    if method == "exact":
        z = _margins(gap, threshold, sigma)
        log_surv = np.concatenate([[0.0], np.cumsum(log_ndtr(z))])
        pmf = np.exp(log_surv[:-1] + log_ndtr(-z))
        return pmf, float(np.exp(log_surv[-1]))
    n = gap.shape[0]
    if rho == 0.0:
        u = _draws("uniform", key, first, n_rep, n)
        stop = _first_true(u < stop_probabilities(gap, threshold, sigma)[None, :])
    else:
        eps = _ar1(_draws("normal", key, first, n_rep, n), rho)
        stop = _first_true(gap[None, :] + sigma * eps > threshold)
    return np.bincount(stop, minlength=n + 1).astype(np.int64)


def threshold_for_reliability(
    gap: np.ndarray, sigma: float, *, k: int, target: float, grid: int = 2049
) -> float | None:
    """Smallest threshold, among a uniform grid over ``[max(G(1..k+1)), max G)`` and the
    right ends of the segments of constant ``E*`` (just below each gap value), whose exact
    reliability ``P(|E^ - E*| <= k)`` reaches ``target`` (None when none does)."""
    gap = np.asarray(gap, dtype=float)
    lo, hi = gap[: k + 1].max(), gap.max()
    ends = np.nextafter(gap[(gap > lo) & (gap <= hi)], -np.inf)
    for delta in np.unique(np.concatenate([np.linspace(lo, hi, grid, endpoint=False), ends[ends >= lo]])):
        crossed = np.flatnonzero(gap > delta)
        e_star = int(crossed[0]) + 1
        pmf, _ = stopping_distribution(gap, float(delta), sigma)
        rel = pmf[max(e_star - k, 1) - 1 : e_star + k].sum()
        if rel >= target:
            return float(delta)
    return None


def patience_stopping(
    val: np.ndarray,
    *,
    patience: int,
    min_delta: float,
    sigma: float,
    rho: float,
    restore_best: bool,
    n_rep: int,
    key: int,
    first: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Keras ``EarlyStopping`` (mode "min") on ``val + sigma * eps``, vectorised over replicas.
    ``patience >= 0``: ``wait`` is incremented before it is compared, so 0 (Keras' default)
    stops at the first epoch that does not improve, as 1 does.

    Returns ``(stop_counts, restored_counts)``: ``stop_counts`` has length ``E + 1`` (last:
    ran all ``E`` epochs), ``restored_counts`` length ``E`` (index = restored epoch - 1).
    """
    val = np.asarray(val, dtype=float)
    n = val.shape[0]
    obs = val[None, :] + sigma * _ar1(_draws("normal", key, first, n_rep, n), rho)
    best = np.full(n_rep, np.inf)
    best_e = np.zeros(n_rep, dtype=np.int64)
    wait = np.zeros(n_rep, dtype=np.int64)
    stop = np.full(n_rep, n, dtype=np.int64)
    running = np.ones(n_rep, dtype=bool)
    for e in range(n):
        wait += running
        better = running & (obs[:, e] + min_delta < best)
        best = np.where(better, obs[:, e], best)
        best_e = np.where(better, e, best_e)
        wait = np.where(better, 0, wait)
        halt = running & ~better & (wait >= patience)
        stop = np.where(halt, e, stop)
        running &= ~halt
    restored = best_e if restore_best else np.minimum(stop, n - 1)
    return (
        np.bincount(stop, minlength=n + 1).astype(np.int64),
        np.bincount(restored, minlength=n).astype(np.int64),
    )


def patience_tradeoff(
    val: np.ndarray,
    *,
    patiences: list[int],
    min_deltas: list[float],
    sigma: float,
    rho: float,
    restore_best: bool,
    n_rep: int,
    key: int,
) -> np.ndarray:
    """Rows ``(patience, min_delta, expected epochs, regret)`` for every pair, same key for all."""
    val = np.asarray(val, dtype=float)
    n = val.shape[0]
    rows = []
    for md in min_deltas:
        for p in patiences:
            s, r = patience_stopping(
                val, patience=p, min_delta=md, sigma=sigma, rho=rho, restore_best=restore_best, n_rep=n_rep, key=key
            )
            epochs = np.append(np.arange(1, n + 1), n)
            rows.append((p, md, (s * epochs).sum() / n_rep, (r * (val - val.min())).sum() / n_rep))
    return np.array(rows, dtype=float)
