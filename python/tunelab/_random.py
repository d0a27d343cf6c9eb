"""Seeding (SPEC 7): ``rng=None | int | SeedSequence | Generator`` -> one 64-bit kernel key.

Every stochastic entry point draws exactly one key per call; the kernels then address their
random numbers by (key, global replica index, slot), so results do not depend on threads,
chunking or executors.
"""

from __future__ import annotations

import numbers
from typing import Union

import numpy as np

__all__ = ["RNGLike", "kernel_key", "as_generator"]

RNGLike = Union[None, int, np.integer, np.random.SeedSequence, np.random.Generator]


def as_generator(rng: RNGLike) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``rng`` (SPEC 7), refusing other types clearly."""
    if rng is None or isinstance(rng, (np.random.SeedSequence, np.random.Generator, np.random.BitGenerator)):
        return np.random.default_rng(rng)
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        raise TypeError(
            "rng must be None, an int, a numpy.random.SeedSequence or a numpy.random.Generator; "
            f"got {type(rng).__name__}"
        )
    if rng < 0:
        raise ValueError(f"rng must be a non-negative int seed; got {rng}")
    return np.random.default_rng(int(rng))


def kernel_key(rng: RNGLike) -> int:
    """Draw the one 64-bit key a kernel call uses from ``rng``."""
    return int(as_generator(rng).integers(0, 2**64, dtype=np.uint64))
