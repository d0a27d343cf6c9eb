"""NumPy reference of the transfer study: the latent-factor model, a full grid search per
(task, seed) with the same Philox streams as the C++ kernel, and the Spearman matrix."""

from __future__ import annotations

import numpy as np

from .rank import spearman_matrix
from .rng import _unit, philox_blocks

__all__ = ["transfer_grid_search", "transfer_study"]


def _normal_pairs(key: int, streams: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Box-Muller pairs of Philox blocks (stream, slot), broadcast; shape (..., 2)."""
    b = philox_blocks(key, streams, slots)
    u1 = 1.0 - _unit(b[..., 0], b[..., 1])
    u2 = _unit(b[..., 2], b[..., 3])
    r = np.sqrt(-2.0 * np.log(u1))
    t = 2.0 * np.pi * u2
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=-1)


def transfer_grid_search(
    coupling: np.ndarray,
    mu: np.ndarray,
    sigma: np.ndarray,
    log_grid: np.ndarray,
    eval_noise: float,
    *,
    key: int,
    first: int,
    count: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Tuned grid indices and latent log-optima, shape (T, count), evaluating every grid point."""
    coupling, mu, sigma = (np.asarray(a, dtype=np.float64) for a in (coupling, mu, sigma))
    log_grid = np.asarray(log_grid, dtype=np.float64)
    T, G = coupling.size, log_grid.size
    seeds = np.arange(first, first + count, dtype=np.uint64)
    z = _normal_pairs(key, seeds, np.uint64(0))[:, 0]
    tuned = np.empty((T, count), dtype=np.int64)
    latent = np.empty((T, count))
    for t in range(T):
        eps = _normal_pairs(key, seeds, np.uint64(1 + t))[:, 0]
        c = coupling[t]
        u_star = mu[t] + sigma[t] * (c * z + np.sqrt(1.0 - c * c) * eps)
        q = 0.5 * (log_grid[None, :] - u_star[:, None]) ** 2
        if eval_noise > 0:
            slots = (np.uint64(t + 1) << np.uint64(32)) + np.arange((G + 1) // 2, dtype=np.uint64)
            xi = _normal_pairs(key, seeds[:, None], slots[None, :]).reshape(count, -1)[:, :G]
            q = q + eval_noise * xi
        tuned[t] = np.argmin(q, axis=1)
        latent[t] = u_star
    return tuned, latent


def transfer_study(
    coupling: np.ndarray,
    *,
    n_seeds: int,
    log_grid: np.ndarray,
    mu: np.ndarray,
    sigma: np.ndarray,
    eval_noise: float,
    key: int,
    chunk: int = 1024,
) -> tuple[np.ndarray, np.ndarray]:
    """Reference of ``tunelab.transfer_study``: (Spearman matrix of tuned log-rates, tuned indices)."""
    T = np.asarray(coupling).size
    tuned = np.empty((T, n_seeds), dtype=np.int64)
    for first in range(0, n_seeds, chunk):
        count = min(chunk, n_seeds - first)
        tuned[:, first : first + count] = transfer_grid_search(
            coupling, mu, sigma, log_grid, eval_noise, key=key, first=first, count=count
        )[0]
    return spearman_matrix(np.asarray(log_grid)[tuned], axis=1), tuned
