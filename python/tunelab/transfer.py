"""Transfer of tuned learning rates across tasks (SCIENCE.md §9): the compiled grid search per
(task, seed) of a latent-factor model, and the arcsine law of Spearman's rank correlation.
The study built on them is :func:`tunelab.studies.transfer_study`."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core
from ._validation import as_array, scalar_or_array

__all__ = ["arcsine_spearman"]


def arcsine_spearman(rho: Any) -> Any:
    """Spearman's rho of a bivariate normal with Pearson correlation ``rho``:
    ``(6 / pi) * arcsin(rho / 2)`` (Pearson 1907; Kruskal 1958).

    Parameters
    ----------
    rho : float or array_like
        Pearson correlations, finite, in [-1, 1].

    Returns
    -------
    float or ndarray
        A float when ``rho`` is a scalar, else an array of ``rho``'s shape (NumPy's convention).
    """
    r = as_array(rho, "rho", allow_empty=True)
    if ((r < -1) | (r > 1)).any():
        raise ValueError("rho must lie in [-1, 1]")
    return scalar_or_array(6.0 / np.pi * np.arcsin(r / 2.0))


def _grid_task(
    key: int, coupling: np.ndarray, mu: np.ndarray, sigma: np.ndarray, log_grid: np.ndarray, eval_noise: float,
    first: int, count: int, num_threads: int,
) -> tuple[np.ndarray, np.ndarray]:
    return _core.transfer_grid_search(coupling, mu, sigma, log_grid, eval_noise, key, first, count, num_threads)
