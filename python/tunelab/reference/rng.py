"""NumPy reference of the counter-based generator: Philox4x32-10, uniforms, and normals by the
256-layer ziggurat with its slow paths in a separate counter space (layout in
``cpp/include/tunelab/rng.hpp``; tables in :mod:`tunelab.reference._ziggurat`)."""

from __future__ import annotations

import numpy as np

from . import _ziggurat

__all__ = ["philox4x32_10", "standard_normal", "uniform"]

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
_MASK = np.uint64(0xFFFFFFFF)


def philox4x32_10(ctr: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Philox4x32-10 on counters ``(..., 4)`` and keys ``(2,)`` or ``(..., 2)`` (broadcast), uint32."""
    c = [np.asarray(ctr, dtype=np.uint32)[..., i].astype(np.uint64) for i in range(4)]
    key = np.asarray(key, dtype=np.uint32)
    k0, k1 = key[..., 0].astype(np.uint64), key[..., 1].astype(np.uint64)
    for r in range(10):
        if r:
            k0 = (k0 + np.uint64(_W0)) & _MASK
            k1 = (k1 + np.uint64(_W1)) & _MASK
        p0, p1 = _M0 * c[0], _M1 * c[2]
        c = [
            (p1 >> np.uint64(32)) ^ c[1] ^ k0,
            p1 & _MASK,
            (p0 >> np.uint64(32)) ^ c[3] ^ k1,
            p0 & _MASK,
        ]
    return np.stack(np.broadcast_arrays(*c), axis=-1).astype(np.uint32)


_REJECT_TWEAK = 0x5A827999
_U64 = np.uint64


def _counters(streams, slots) -> np.ndarray:
    """Counters (..., 4) of (stream, slot) pairs, broadcast: slot in words 0-1, stream in 2-3
    (low word first)."""
    streams, slots = np.broadcast_arrays(np.asarray(streams, dtype=np.uint64), np.asarray(slots, dtype=np.uint64))
    ctr = np.empty(slots.shape + (4,), dtype=np.uint32)
    ctr[..., 0] = (slots & _MASK).astype(np.uint32)
    ctr[..., 1] = (slots >> _U64(32)).astype(np.uint32)
    ctr[..., 2] = (streams & _MASK).astype(np.uint32)
    ctr[..., 3] = (streams >> _U64(32)).astype(np.uint32)
    return ctr


def _key(key: int) -> np.ndarray:
    return np.array([key & 0xFFFFFFFF, key >> 32], dtype=np.uint32)


def philox_blocks(key: int, streams, slots) -> np.ndarray:
    """Philox blocks of (stream, slot) pairs, broadcast: shape (..., 4)."""
    return philox4x32_10(_counters(streams, slots), _key(key))


def _blocks(key: int, stream: int, first_block: int, n_blocks: int) -> np.ndarray:
    """Philox blocks ``first_block .. first_block + n_blocks - 1`` of a stream, shape (n, 4)."""
    return philox_blocks(key, stream, np.arange(first_block, first_block + n_blocks, dtype=np.uint64))


def _elements(key: int, stream, elems: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blocks (size, 4) and halves (size,) of the given elements (of one stream, or of the
    streams given element-wise)."""
    e = np.asarray(elems, dtype=np.uint64)
    blocks = philox_blocks(key, stream, e >> _U64(1))
    return blocks, (e & _U64(1)).astype(np.intp)


def _words(blocks: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Word h of each block: b[2h] | b[2h+1] << 32."""
    rows = np.arange(len(blocks))
    lo, hi = blocks[rows, 2 * half].astype(np.uint64), blocks[rows, 2 * half + 1].astype(np.uint64)
    return lo | hi << _U64(32)


def _unit(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    bits = (hi.astype(np.uint64) << _U64(32) | lo.astype(np.uint64)) >> _U64(11)
    return bits.astype(np.float64) * 2.0**-53


def _with_sign(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.where((w >> _U64(8)) & _U64(1), -x, x)


def _zig_fast(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = _ziggurat.tables()
    i = (w & _U64(0xFF)).astype(np.intp)
    m = w >> _U64(12)
    return _with_sign(m.astype(np.float64) * t["w"][i], w), m < t["k"][i]


def _normals(key: int, stream, elems: np.ndarray) -> np.ndarray:
    """Ziggurat normals of the given elements (of one stream, or of per-element streams): the
    fast path on all of them, then the slow paths of the rejected ones, all advanced together
    one extra block at a time."""
    t = _ziggurat.tables()
    r, w_tab, f_tab = t["r"], t["w"], t["f"]
    elems = np.asarray(elems, dtype=np.uint64)
    stream = np.broadcast_to(np.asarray(stream, dtype=np.uint64), elems.shape)
    blocks, half = _elements(key, stream, elems)
    slots = elems >> _U64(1)
    cand = _words(blocks, half)
    z, ok = _zig_fast(cand)
    todo = np.flatnonzero(~ok)
    cand = cand[todo]
    k0, k1 = key & 0xFFFFFFFF, key >> 32
    step = 0
    while todo.size:
        keys = np.empty((todo.size, 2), dtype=np.uint32)
        keys[:, 0] = ((k0 + 2 * step + half[todo]) & 0xFFFFFFFF).astype(np.uint32)
        keys[:, 1] = k1 ^ _REJECT_TWEAK
        b = philox4x32_10(_counters(stream[todo], slots[todo]), keys)
        a, c = _words(b, np.zeros(todo.size, np.intp)), _words(b, np.ones(todo.size, np.intp))
        i = (cand & _U64(0xFF)).astype(np.intp)
        tail = i == 0
        # Tail (layer 0): Marsaglia's method, x = r + e, e = -log(u1) / r, accept if -2 log u2 > e^2.
        e = -np.log(((a >> _U64(11)) + _U64(1)).astype(np.float64) * 2.0**-53) / r
        y = -np.log(((c >> _U64(11)) + _U64(1)).astype(np.float64) * 2.0**-53)
        take_tail = tail & (y + y > e * e)
        # Wedge (layers >= 1): accept x if f[i] + (f[i+1] - f[i]) u < exp(-x^2/2); else c is a new candidate.
        x = (cand >> _U64(12)).astype(np.float64) * w_tab[i]
        ip1 = np.minimum(i + 1, len(f_tab) - 1)
        yw = f_tab[i] + (f_tab[ip1] - f_tab[i]) * ((a >> _U64(11)).astype(np.float64) * 2.0**-53)
        take_wedge = ~tail & (yw < np.exp(-0.5 * x * x))
        z[todo[take_tail]] = _with_sign(r + e[take_tail], cand[take_tail])
        z[todo[take_wedge]] = _with_sign(x[take_wedge], cand[take_wedge])
        fresh = ~tail & ~take_wedge
        zf, okf = _zig_fast(c)
        take_fresh = fresh & okf
        z[todo[take_fresh]] = zf[take_fresh]
        cand = np.where(fresh, c, cand)
        keep = ~(take_tail | take_wedge | take_fresh)
        todo, cand = todo[keep], cand[keep]
        step += 1
    return z


def standard_normal(size: int, *, key: int, stream: int = 0, first: int = 0) -> np.ndarray:
    """Reference of ``tunelab.standard_normal`` given the kernel key."""
    return _normals(key, stream, np.arange(first, first + size, dtype=np.uint64))


def normal_rows(key: int, first_stream: int, n_streams: int, n: int) -> np.ndarray:
    """``(n_streams, n)``: row r holds the first ``n`` normals of stream ``first_stream + r``,
    as ``rng::Stream(key, first_stream + r).normal()`` draws them in the kernels."""
    streams = np.repeat(np.arange(first_stream, first_stream + n_streams, dtype=np.uint64), n)
    elems = np.tile(np.arange(n, dtype=np.uint64), n_streams)
    return _normals(key, streams, elems).reshape(n_streams, n)


def uniform(size: int, *, key: int, stream: int = 0, first: int = 0) -> np.ndarray:
    """Reference of ``tunelab.uniform`` given the kernel key."""
    blocks, half = _elements(key, stream, np.arange(first, first + size, dtype=np.uint64))
    rows = np.arange(size)
    return _unit(blocks[rows, 2 * half], blocks[rows, 2 * half + 1])
