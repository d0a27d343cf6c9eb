"""Counter-based random numbers (Philox4x32-10) as arrays: reproducible for any thread count.

Element ``i`` is a pure function of the key drawn from ``rng``, the ``stream`` and ``i``, so
the same call gives the same array on 1 or 16 threads, and a long array can be drawn in
pieces (``first=``) that join bit for bit.
"""

from __future__ import annotations

import time

import numpy as np

from . import _core
from ._interrupt import interruptible
from ._random import RNGLike, kernel_key
from ._threads import resolve_num_threads
from ._validation import check_alloc, check_int, check_out

__all__ = ["standard_normal", "uniform"]

#: Elements per kernel call: the first slice, the grain of slice boundaries, the largest slice
#: (16 MB), and the time a slice aims at. Slices are sized by measuring (as the chunk driver
#: does), so that Ctrl-C lands within about ``_SLICE_SECONDS`` however slow the machine or
#: build is (an AddressSanitizer build, first-touch page faults of a huge ``out``).
_FIRST_SLICE = 1 << 16
_GRAIN = 1 << 12
_SLICE = 1 << 21
_SLICE_SECONDS = 0.05


def _fill(
    kind: str, size: int | None, rng: RNGLike, stream: int, first: int, num_threads: int | None, out: np.ndarray | None
) -> np.ndarray:
    if out is None:
        if size is None:
            raise TypeError("size must be an int when out is not given; got None")
        size = check_int("size", size, minimum=0)
        check_alloc("size", (size,))
    else:
        out = check_out(out)
        if size is not None and check_int("size", size, minimum=0) != out.size:
            raise ValueError(f"size must equal out.size ({out.size}) when both are given; got {size}")
    stream = check_int("stream", stream, minimum=0, maximum=2**64 - 1)
    first = check_int("first", first, minimum=0, maximum=2**62)
    threads = resolve_num_threads(num_threads)
    key = kernel_key(rng)
    if out is None:
        assert size is not None  # checked above
        out = np.empty(size)
    fn = _core.standard_normal_into if kind == "normal" else _core.uniform_into
    # Fill in slices (element i is a pure function of first + i, so the bits are those of one
    # call): Ctrl-C lands between slices, so a huge draw stays interruptible.
    flat = out.reshape(-1)
    if flat.size <= _FIRST_SLICE:
        fn(flat, key, stream, first, threads)
        return out
    lo, step = 0, _FIRST_SLICE
    with interruptible() as check:
        while lo < flat.size:
            t0 = time.perf_counter()
            fn(flat[lo : lo + step], key, stream, first + lo, threads)
            elapsed = time.perf_counter() - t0
            check()
            lo += step
            # Toward _SLICE_SECONDS a slice: grow at most 4x, in multiples of the grain.
            goal = min(_SLICE_SECONDS * step / max(elapsed, 1e-6), 4 * step, _SLICE)
            step = max(_GRAIN, int(goal) // _GRAIN * _GRAIN)
    return out


def standard_normal(
    size: int | None = None,
    *,
    rng: RNGLike = None,
    stream: int = 0,
    first: int = 0,
    num_threads: int | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Draw ``size`` standard normal doubles (Philox4x32-10 + the 256-layer ziggurat).

    Parameters
    ----------
    size : int, optional
        Number of draws (may be omitted when ``out`` is given).
    rng : None, int, SeedSequence or Generator
        Seed (SPEC 7); one 64-bit key is drawn from it.
    stream : int
        Stream index (the kernels use the global replica index).
    first : int
        Index of the first element within the stream: ``standard_normal(n, rng=s, first=k)``
        equals ``standard_normal(k + n, rng=s)[k:]``.
    num_threads : int, optional
        OpenMP threads (default: OpenMP's default); the result does not depend on it.
    out : ndarray, optional
        C-contiguous, writeable float64 array filled in place (any shape, in memory order)
        and returned, as with ``numpy.random.Generator.standard_normal(out=)``.

    Notes
    -----
    Philox4x32-10 is the counter-based generator of Salmon et al., "Parallel random numbers:
    as easy as 1, 2, 3" (SC'11); element ``e`` of a stream uses 64 bits of block ``e // 2``.
    Normals come from the ziggurat of Marsaglia & Tsang, "The ziggurat method for generating
    random variables", J. Stat. Softw. 5(8) (2000), with 256 layers: 8 bits pick a layer, 1 bit
    the sign and 52 bits the abscissa ``x = m w[i]``, accepted at once when ``m < k[i]``
    (98.5 % of draws, one multiply); the wedges and the tail ``|x| > r = 3.6541528853610088``
    (Marsaglia's exponential method) draw extra blocks from a separate counter space, so each
    element stays a pure function of ``(key, stream, e)``. The tables are computed in 60-digit
    decimal arithmetic (``tunelab.reference._ziggurat``); the layout is documented in
    ``cpp/include/tunelab/rng.hpp``.
    """
    return _fill("normal", size, rng, stream, first, num_threads, out)


def uniform(
    size: int | None = None,
    *,
    rng: RNGLike = None,
    stream: int = 0,
    first: int = 0,
    num_threads: int | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Draw ``size`` uniform doubles in [0, 1) (53 random bits each); see ``standard_normal``."""
    return _fill("uniform", size, rng, stream, first, num_threads, out)
