"""Normalise ``num_threads=`` for the compiled kernels."""

from __future__ import annotations

import numbers

__all__ = ["resolve_num_threads"]


def resolve_num_threads(num_threads: int | None) -> int:
    """Map ``num_threads`` to the kernels' convention: 0 means OpenMP's default.

    ``None`` uses OpenMP's default (``OMP_NUM_THREADS`` read at start-up, or the limit set at
    run time with ``threadpoolctl.threadpool_limits(n, "openmp")``).
    """
    if num_threads is None:
        return 0
    if isinstance(num_threads, bool) or not isinstance(num_threads, numbers.Integral):
        raise TypeError(f"num_threads must be None or a positive int; got {type(num_threads).__name__}")
    if num_threads < 1:
        raise ValueError(f"num_threads must be None or a positive int; got {num_threads}")
    return int(num_threads)
