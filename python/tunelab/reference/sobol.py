"""NumPy references of the Sobol' area: points, scrambling, Saltelli designs, estimators, g-function.

Written for clarity; the tests compare the compiled kernels with these. The direction numbers
are read from SciPy's copy of Joe & Kuo's table (not from tunelab's generated header), so the
header is checked too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .rng import _blocks

__all__ = [
    "sobol_direction_integers",
    "sobol_lms",
    "sobol_scramble_matrices",
    "sobol_points",
    "saltelli_sample",
    "sobol_indices",
    "sobol_g",
    "sobol_g_indices",
]

BITS = 30


def sobol_direction_integers(d: int) -> np.ndarray:
    """Direction integers ``v[j, k]`` (column k of dimension j's generator matrix, as a 30-bit
    integer, most significant bit = first digit), from Joe & Kuo's initial numbers by the
    recurrence of Bratley & Fox (1988)."""
    import scipy.stats

    data = np.load(Path(scipy.stats.__file__).parent / "_sobol_direction_numbers.npz")
    poly, vinit = data["poly"], data["vinit"]
    v = np.zeros((d, BITS), dtype=np.int64)
    v[0] = 1
    for j in range(1, d):
        p = int(poly[j])
        s = p.bit_length() - 1
        m = [int(x) for x in vinit[j, :s]]
        for k in range(s, BITS):
            nv = m[k - s]
            for t in range(s):
                if (p >> (s - 1 - t)) & 1:
                    nv ^= m[k - t - 1] << (t + 1)
            m.append(nv)
        v[j] = m[:BITS]
    return (v << (BITS - 1 - np.arange(BITS))).astype(np.uint32)


def sobol_lms(v: np.ndarray, ltm: np.ndarray) -> np.ndarray:
    """Linear matrix scramble: digits of every column of dimension j become ``L_j @ digits mod 2``.

    ``ltm`` has shape ``(d, 30, 30)``; its strictly lower triangle is used and the diagonal is
    taken as 1 (as in ``scipy.stats._sobol._cscramble``). Digit 0 is the most significant.
    """
    d = v.shape[0]
    shifts = BITS - 1 - np.arange(BITS)
    digits = (v[:, :, None].astype(np.int64) >> shifts[None, None, :]) & 1  # (d, k, q)
    L = np.tril(np.asarray(ltm, dtype=np.int64), -1) + np.eye(BITS, dtype=np.int64)[None]
    new = np.einsum("dpq,dkq->dkp", L, digits) % 2  # (d, k, p)
    return (new << shifts[None, None, :]).sum(axis=2).astype(np.uint32).reshape(d, BITS)


def sobol_scramble_matrices(d: int, key: int, stream: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The scrambled direction integers and shift that the kernel draws for (key, stream):
    dimension j uses Philox blocks ``8j .. 8j + 7`` of the stream; word p < 30 gives row p of
    ``L_j`` (bit ``29 - q`` = ``L[p, q]``), word 30 the shift."""
    v = sobol_direction_integers(d)
    ltm = np.zeros((d, BITS, BITS), dtype=np.int64)
    shift = np.zeros(d, dtype=np.uint32)
    for j in range(d):
        words = _blocks(key, stream, 8 * j, 8).ravel().astype(np.int64)
        for p in range(BITS):
            ltm[j, p] = (words[p] >> (BITS - 1 - np.arange(BITS))) & 1
        shift[j] = words[30] & (2**BITS - 1)
    return sobol_lms(v, ltm), shift


def sobol_points(d: int, n: int, *, first: int = 0, matrices: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Points ``first .. first + n - 1``: ``2^-30 (shift XOR XOR_k bit_k(gray(i)) v[:, k])``."""
    v, shift = matrices if matrices is not None else (sobol_direction_integers(d), np.zeros(d, dtype=np.uint32))
    i = np.arange(first, first + n, dtype=np.int64)
    gray = i ^ (i >> 1)
    q = np.broadcast_to(shift.astype(np.int64), (n, d)).copy()
    for k in range(BITS):
        on = ((gray >> k) & 1).astype(bool)
        q[on] ^= v[:, k].astype(np.int64)
    return q * 2.0**-BITS


def saltelli_sample(
    base: np.ndarray, bounds: np.ndarray, *, groups: Any = None, second_order: bool = False
) -> np.ndarray:
    """SALib's row layout from base points ``(n, 2D)`` in [0, 1): per row ``A, AB_1..G, [BA_1..G], B``,
    scaled by ``u * (high - low) + low``. ``groups``: a group name per input, or None."""
    bounds = np.asarray(bounds, dtype=float)
    D = bounds.shape[0]
    names = list(range(D)) if groups is None else list(groups)
    uniq = list(dict.fromkeys(names))
    A, B = base[:, :D], base[:, D:]
    rows = [A]
    for g in uniq:
        m = np.array([x == g for x in names])
        rows.append(np.where(m, B, A))
    if second_order:
        for g in uniq:
            m = np.array([x == g for x in names])
            rows.append(np.where(m, A, B))
    rows.append(B)
    X = np.stack(rows, axis=1).reshape(-1, D)
    return X * (bounds[:, 1] - bounds[:, 0]) + bounds[:, 0]


def sobol_indices(
    Y: np.ndarray, num_groups: int, *, second_order: bool = False, resamples: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Estimators on one output ``Y`` (SALib's layout), optionally on resampled base blocks.

    ``resamples`` (B, n) of block indices gives estimates of shape (B, G) (and (B, G, G));
    otherwise (G,). Y is first centred and scaled over all rows (as SALib does), after an exact
    power-of-two scaling that brings max|Y| to [1, 2) (so sums of squares neither overflow nor
    underflow), on a two-pass mean (accurate behind a large offset).
    """
    G = num_groups
    step = 2 * G + 2 if second_order else G + 2
    y = np.asarray(Y, dtype=float)
    amax = np.abs(y).max()
    if amax > 0:
        y = np.ldexp(y, -int(np.frexp(amax)[1]) + 1)
    m = y.mean()
    y = y - m
    y = y - y.mean()
    y = y / y.std()
    blocks = y.reshape(-1, step)
    idx = np.arange(blocks.shape[0])[None] if resamples is None else np.asarray(resamples)
    b = blocks[idx]  # (B, n, step)
    fa, fb, fab = b[..., 0], b[..., -1], b[..., 1 : 1 + G]
    var = np.var(np.concatenate([fa, fb], axis=1), axis=1)[:, None]
    s1 = np.mean(fb[..., None] * (fab - fa[..., None]), axis=1) / var
    st = 0.5 * np.mean((fa[..., None] - fab) ** 2, axis=1) / var
    out = {"S1": s1, "ST": st}
    if second_order:
        fba = b[..., 1 + G : 1 + 2 * G]
        s2 = np.full((idx.shape[0], G, G), np.nan)
        for g in range(G):
            for h in range(g + 1, G):
                vgh = np.mean(fba[..., g] * fab[..., h] - fa * fb, axis=1) / var[:, 0]
                s2[:, g, h] = vgh - s1[:, g] - s1[:, h]
        out["S2"] = s2
    if resamples is None:
        out = {k: v[0] for k, v in out.items()}
    return out


def sobol_g(X: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Sobol's g-function ``prod_j (|4 x_j - 2| + a_j) / (1 + a_j)``."""
    X = np.asarray(X, dtype=float)
    a = np.asarray(a, dtype=float)
    return np.prod((np.abs(4 * X - 2) + a) / (1 + a), axis=1)


def sobol_g_indices(a: np.ndarray) -> dict[str, np.ndarray]:
    """Closed forms: ``V_j = 1/(3(1+a_j)^2)``, ``V = prod(1+V_j) - 1``, ``S1 = V_j/V``,
    ``ST = V_j prod_{l!=j}(1+V_l)/V``, ``S2 = V_j V_l / V``."""
    a = np.asarray(a, dtype=float)
    vj = 1.0 / (3.0 * (1.0 + a) ** 2)
    V = np.prod(1 + vj) - 1
    st = np.array([vj[j] * np.prod(np.delete(1 + vj, j)) for j in range(a.size)]) / V
    s2 = np.outer(vj, vj) / V
    s2 = np.where(np.triu(np.ones_like(s2, dtype=bool), 1), s2, np.nan)
    return {"S1": vj / V, "ST": st, "S2": s2}
