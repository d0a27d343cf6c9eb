"""Counter-based random numbers (Philox4x32-10) as arrays: reproducible for any thread count.

Element ``i`` is a pure function of the key drawn from ``rng``, the ``stream`` and ``i``, so
the same call gives the same array on 1 or 16 threads, and a long array can be drawn in
pieces (``first=``) that join bit for bit.
"""

from __future__ import annotations

import numpy as np

from . import _core
from ._random import RNGLike, kernel_key
from ._threads import resolve_num_threads
from ._validation import check_int

__all__ = ["standard_normal", "uniform"]


def _fill(kind: str, size: int, rng: RNGLike, stream: int, first: int, num_threads: int | None) -> np.ndarray:
    size = check_int("size", size, minimum=0)
    stream = check_int("stream", stream, minimum=0, maximum=2**64 - 1)
    first = check_int("first", first, minimum=0, maximum=2**62)
    threads = resolve_num_threads(num_threads)
    fn = _core.standard_normal if kind == "normal" else _core.uniform
    return fn(size, kernel_key(rng), stream, first, threads)


def standard_normal(
    size: int, *, rng: RNGLike = None, stream: int = 0, first: int = 0, num_threads: int | None = None
) -> np.ndarray:
    """Draw ``size`` standard normal doubles (Philox4x32-10 + Box-Muller).

    Parameters
    ----------
    size : int
        Number of draws.
    rng : None, int, SeedSequence or Generator
        Seed (SPEC 7); one 64-bit key is drawn from it.
    stream : int
        Stream index (the kernels use the global replica index).
    first : int
        Index of the first element within the stream: ``standard_normal(n, rng=s, first=k)``
        equals ``standard_normal(k + n, rng=s)[k:]``.
    num_threads : int, optional
        OpenMP threads (default: OpenMP's default); the result does not depend on it.

    Notes
    -----
    Philox4x32-10 is the counter-based generator of Salmon et al., "Parallel random numbers:
    as easy as 1, 2, 3" (SC'11). Each 128-bit block gives two 53-bit uniforms ``u1, u2`` and
    the Box-Muller pair ``sqrt(-2 log(1 - u1)) (cos 2 pi u2, sin 2 pi u2)``.
    """
    return _fill("normal", size, rng, stream, first, num_threads)


def uniform(
    size: int, *, rng: RNGLike = None, stream: int = 0, first: int = 0, num_threads: int | None = None
) -> np.ndarray:
    """Draw ``size`` uniform doubles in [0, 1) (53 random bits each); see ``standard_normal``."""
    return _fill("uniform", size, rng, stream, first, num_threads)
