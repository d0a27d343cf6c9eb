"""Normalise ``num_threads=`` for the compiled kernels."""

from __future__ import annotations

import numbers
import os

__all__ = ["resolve_num_threads", "MAX_THREADS"]

#: The most threads a call may ask for: 8 per CPU (at least 64). Far more than the cores only
#: oversubscribes, and an OpenMP runtime asked for a million threads spends minutes creating
#: them (or fails to): refused with a ValueError instead.
MAX_THREADS = max(64, 8 * (os.cpu_count() or 1))


def resolve_num_threads(num_threads: int | None, *, default: int = 0) -> int:
    """Map ``num_threads`` to the kernels' convention: 0 means OpenMP's default.

    ``None`` gives ``default``: OpenMP's default (``OMP_NUM_THREADS`` read at start-up, or the
    limit set at run time with ``threadpoolctl.threadpool_limits(n, "openmp")``) unless the
    caller passes 1 (executor workers; kernels too short to pay for a parallel region).
    """
    if num_threads is None:
        return default
    if isinstance(num_threads, bool) or not isinstance(num_threads, numbers.Integral):
        raise TypeError(f"num_threads must be None or a positive int; got {type(num_threads).__name__}")
    if num_threads < 1:
        raise ValueError(f"num_threads must be None or a positive int; got {num_threads}")
    if num_threads > MAX_THREADS:
        raise ValueError(f"num_threads must be <= {MAX_THREADS} (8 per CPU); got {num_threads}")
    return int(num_threads)
