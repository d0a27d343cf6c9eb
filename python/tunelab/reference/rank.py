"""NumPy reference of the Spearman matrix (average ranks for ties)."""

from __future__ import annotations

import numpy as np

__all__ = ["rankdata", "spearman_matrix"]


def rankdata(x: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) of a 1-d array, as ``scipy.stats.rankdata(x, 'average')``."""
    x = np.asarray(x, dtype=np.float64) + 0.0
    order = np.argsort(x, kind="stable")
    xs = x[order]
    n = x.size
    starts = np.r_[0, np.flatnonzero(xs[1:] != xs[:-1]) + 1]
    ends = np.r_[starts[1:], n]
    avg = (starts + 1 + ends) / 2.0
    ranks = np.empty(n)
    ranks[order] = np.repeat(avg, ends - starts)
    return ranks


def spearman_matrix(X: np.ndarray, *, axis: int = 0) -> np.ndarray:
    """Reference of ``tunelab.spearman_matrix`` (NaN rows/columns for constant variables, no warning)."""
    X = np.asarray(X, dtype=np.float64)
    V = X.T if axis == 0 else X
    R = np.array([rankdata(v) for v in V])
    R -= R.mean(axis=1, keepdims=True)
    norms = np.sqrt((R * R).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (R @ R.T) / np.outer(norms, norms)
    rho = np.clip(rho, -1.0, 1.0)
    const = norms == 0
    rho[const, :] = np.nan
    rho[:, const] = np.nan
    np.fill_diagonal(rho, np.where(const, np.nan, 1.0))
    return rho
