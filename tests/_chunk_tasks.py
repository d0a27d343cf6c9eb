"""A small chunked Monte Carlo task for the chunk driver's tests (module level: picklable)."""

from __future__ import annotations

import numpy as np

from tunelab import _core


def normal_rows(first: int, count: int, num_threads: int, *, key: int, width: int) -> np.ndarray:
    """Rows ``first .. first+count-1`` of a (total, width) matrix of normals; row r is stream r."""
    rows = np.empty((count, width))
    for i in range(count):
        rows[i] = _core.standard_normal(width, key, first + i, 0, num_threads)
    return rows


def slow_sum(first: int, count: int, num_threads: int, *, key: int) -> float:
    """A chunk that takes a while (10^5 normals per replica)."""
    return float(_core.standard_normal(100_000 * count, key, 0, 100_000 * first, num_threads).sum())
