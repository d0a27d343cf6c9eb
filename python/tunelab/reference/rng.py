"""NumPy reference of the counter-based generator (Philox4x32-10 + Box-Muller)."""

from __future__ import annotations

import numpy as np

__all__ = ["philox4x32_10", "standard_normal", "uniform"]

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)
_MASK = np.uint64(0xFFFFFFFF)


def philox4x32_10(ctr: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Philox4x32-10 on counters ``(..., 4)`` and a key ``(2,)``, both uint32."""
    c = [np.asarray(ctr, dtype=np.uint32)[..., i].astype(np.uint64) for i in range(4)]
    k0, k1 = (np.uint32(v) for v in np.asarray(key, dtype=np.uint32))
    for r in range(10):
        if r:
            k0 = np.uint32((int(k0) + int(_W0)) & 0xFFFFFFFF)
            k1 = np.uint32((int(k1) + int(_W1)) & 0xFFFFFFFF)
        p0, p1 = _M0 * c[0], _M1 * c[2]
        c = [
            (p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0),
            p1 & _MASK,
            (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1),
            p0 & _MASK,
        ]
    return np.stack(c, axis=-1).astype(np.uint32)


def _blocks(key: int, stream: int, first_block: int, n_blocks: int) -> np.ndarray:
    slots = np.arange(first_block, first_block + n_blocks, dtype=np.uint64)
    ctr = np.empty((n_blocks, 4), dtype=np.uint32)
    ctr[:, 0] = (slots & _MASK).astype(np.uint32)
    ctr[:, 1] = (slots >> np.uint64(32)).astype(np.uint32)
    ctr[:, 2] = np.uint32(stream & 0xFFFFFFFF)
    ctr[:, 3] = np.uint32(stream >> 32)
    k = np.array([key & 0xFFFFFFFF, key >> 32], dtype=np.uint32)
    return philox4x32_10(ctr, k)


def _unit(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    bits = (hi.astype(np.uint64) << np.uint64(32) | lo.astype(np.uint64)) >> np.uint64(11)
    return bits.astype(np.float64) * 2.0**-53


def _fill(kind: str, size: int, key: int, stream: int, first: int) -> np.ndarray:
    b0, b1 = first // 2, (first + size + 1) // 2
    b = _blocks(key, stream, b0, b1 - b0)
    u1, u2 = _unit(b[:, 0], b[:, 1]), _unit(b[:, 2], b[:, 3])
    if kind == "normal":
        r = np.sqrt(-2.0 * np.log(1.0 - u1))
        t = 2.0 * np.pi * u2
        u1, u2 = r * np.cos(t), r * np.sin(t)
    pairs = np.stack([u1, u2], axis=1).ravel()
    off = first - 2 * b0
    return pairs[off : off + size]


def standard_normal(size: int, *, key: int, stream: int = 0, first: int = 0) -> np.ndarray:
    """Reference of ``tunelab.standard_normal`` given the kernel key."""
    return _fill("normal", size, key, stream, first)


def uniform(size: int, *, key: int, stream: int = 0, first: int = 0) -> np.ndarray:
    """Reference of ``tunelab.uniform`` given the kernel key."""
    return _fill("uniform", size, key, stream, first)
