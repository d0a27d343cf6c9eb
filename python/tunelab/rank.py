"""Spearman rank correlation matrices (ranks with ties as averages), computed in C++ with OpenMP."""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from scipy.stats import ConstantInputWarning

from . import _core
from ._threads import resolve_num_threads
from ._validation import as_array

__all__ = ["spearman_matrix", "ConstantInputWarning"]


def spearman_matrix(X: Any, *, axis: int = 0, num_threads: int | None = None) -> np.ndarray:
    """All pairwise Spearman rank correlations of the variables of ``X``.

    Parameters
    ----------
    X : array_like, 2-d
        ``axis=0`` (default, as ``scipy.stats.spearmanr``): shape ``(S, T)``, each column is one
        of ``T`` variables observed ``S`` times. ``axis=1``: shape ``(T, S)``, each row a
        variable. Finite values only.
    axis : {0, 1}
        Which axis indexes the observations (0: rows are observations).
    num_threads : int, optional
        OpenMP threads (default: OpenMP's default). The result does not depend on it.

    Returns
    -------
    rho : ndarray, shape (T, T)
        ``rho[i, j]`` is Spearman's correlation of variables ``i`` and ``j`` (always a
        matrix, even for ``T = 2``, unlike SciPy which returns a scalar then).

    Warns
    -----
    scipy.stats.ConstantInputWarning
        When a variable is constant: its row and column of ``rho`` (diagonal included) are
        NaN. SciPy's ``spearmanr`` returns NaN for the whole result in that case; here the
        other entries stay defined. The category is SciPy's, so the same
        ``warnings.filterwarnings`` line silences both.

    Notes
    -----
    Spearman's rho (Spearman 1904) is Pearson's correlation of the ranks; tied values take
    the mean of the ranks they span (the "average" method of ``scipy.stats.rankdata``):

    .. math:: \\rho_{ij} = \\frac{\\sum_k (r_{ik} - \\bar r)(r_{jk} - \\bar r)}
              {\\sqrt{\\sum_k (r_{ik} - \\bar r)^2 \\sum_k (r_{jk} - \\bar r)^2}},
              \\quad \\bar r = (S + 1) / 2 .

    The kernel ranks each variable by a radix sort, stores ``2 r - (S + 1)`` (an integer) and
    forms the Gram matrix of these integers; its entries are exact in double precision while
    ``S^3 < 2^53`` (``S`` up to about 2e5), so the result is the same bits for any number of
    threads and agrees with SciPy to rounding in the final division.
    """
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or axis not in (0, 1):
        raise ValueError(f"axis must be 0 or 1; got {axis!r}")
    arr = as_array(X, "X", ndim=2)
    if arr.shape[axis] < 2:
        raise ValueError(f"X must have at least 2 observations along axis {axis}; got shape {arr.shape}")
    if arr.shape[1 - axis] < 1:
        raise ValueError(f"X must have at least 1 variable; got shape {arr.shape}")
    rho, constant = _core.spearman_matrix(arr, int(axis), resolve_num_threads(num_threads))
    if constant.any():
        idx = np.flatnonzero(constant)
        warnings.warn(
            f"X: variable(s) {idx.tolist()[:10]}{'...' if idx.size > 10 else ''} are constant; their "
            "correlations are not defined and are returned as NaN",
            ConstantInputWarning,
            stacklevel=2,
        )
    return rho
