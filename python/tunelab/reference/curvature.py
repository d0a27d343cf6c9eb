"""NumPy references of the curvature kernels: power iteration (batched matmul over a stack),
Lanczos (full reorthogonalisation, ``numpy.linalg.eigh`` of the tridiagonal), GD on
quadratics, Hutchinson's estimator with the same Rademacher probes as the kernel."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from .rng import _blocks, standard_normal

__all__ = ["top_eigenvalue", "stability_bound", "gd_quadratic", "hutchinson_trace", "rademacher"]


class Eigen(NamedTuple):
    """``top_eigenvalue``'s answer: scalars for one matrix, arrays over a stack."""

    value: Any
    vector: np.ndarray
    n_iter: Any
    converged: Any
    residual: Any


class Trace(NamedTuple):
    """``hutchinson_trace``'s answer."""

    estimate: float
    stderr: float
    n_samples: int
    variance: float


def _power(mv: Callable[[np.ndarray], np.ndarray], v: np.ndarray, shift: np.ndarray, floor: np.ndarray, tol: float,
           max_iter: int) -> tuple[np.ndarray, ...]:
    """Batched power iteration on rows of v (shape (m, n)); mv maps (m, n) -> (m, n)."""
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    m = v.shape[0]
    value, residual = np.zeros(m), np.zeros(m)
    n_iter = np.zeros(m, dtype=np.int64)
    converged = np.zeros(m, dtype=bool)
    nu = np.zeros(m)
    active = np.ones(m, dtype=bool)
    for it in range(1, max_iter + 1):
        w = mv(v) - shift[:, None] * v
        theta = np.einsum("ij,ij->i", v, w)
        wn = np.linalg.norm(w, axis=1)
        nu = np.where(active, np.maximum(nu, wn), nu)
        r = np.linalg.norm(w - theta[:, None] * v, axis=1)
        value = np.where(active, theta + shift, value)
        residual = np.where(active, r, residual)
        n_iter = np.where(active, it, n_iter)
        scale = np.maximum(np.maximum(wn, np.abs(theta + shift)), floor)
        done = active & (r <= tol * scale)
        converged |= done
        active &= ~done
        if not active.any() or it == max_iter:
            break
        v = np.where(active[:, None], w / np.where(wn > 0, wn, 1.0)[:, None], v)
    return value, v, n_iter, converged, residual, nu


def _lanczos(mv: Callable[[np.ndarray], np.ndarray], v0: np.ndarray, which: str, tol: float, max_iter: int
             ) -> tuple[float, np.ndarray, int, bool, float]:
    n = v0.shape[0]
    kmax = min(max_iter, n)
    Q = [v0 / np.linalg.norm(v0)]
    alpha: list[float] = []
    beta: list[float] = []
    eps = np.finfo(float).eps
    converged = False
    while True:
        q = Q[-1]
        w = mv(q)
        a = q @ w
        alpha.append(a)
        w = w - a * q - (beta[-1] * Q[-2] if beta else 0.0)
        B = np.array(Q)
        for _ in range(2):
            w = w - B.T @ (B @ w)
        b = float(np.linalg.norm(w))
        beta.append(b)
        k = len(alpha)
        T = np.diag(alpha) + np.diag(beta[: k - 1], 1) + np.diag(beta[: k - 1], -1)
        theta, S = np.linalg.eigh(T)
        i = int(np.argmax(theta)) if which == "LA" else int(np.argmax(np.abs(theta)))
        tnorm = np.abs(theta).max()
        if b * abs(S[-1, i]) <= tol * tnorm:
            converged = True
            break
        if k >= kmax or b <= eps * tnorm:
            converged = b <= eps * tnorm or k >= n
            break
        Q.append(w / b)
    y = np.array(Q).T @ S[:, i]
    y /= np.linalg.norm(y)
    r = float(np.linalg.norm(mv(y) - theta[i] * y))
    return float(theta[i]), y, k + 1, converged, r


def top_eigenvalue(A: Any, *, n: int | None = None, method: str = "power", which: str = "LA", tol: float = 1e-8,
                   max_iter: int = 1000, key: int = 0) -> Eigen:
    """Reference of ``tunelab.top_eigenvalue`` given the kernel key (same start vectors, same
    stopping rule; power iteration is batched over a stack with ``matmul``)."""
    if callable(A) and not isinstance(A, np.ndarray):
        assert n is not None
        fn = A
        stack = False
        mats = None
    else:
        arr = np.asarray(A, dtype=np.float64)
        stack = arr.ndim == 3
        mats = arr if stack else arr[None]
        n = mats.shape[-1]
    m = 1 if mats is None else mats.shape[0]

    def mv_batch(V: np.ndarray) -> np.ndarray:
        if mats is None:
            return np.asarray(fn(V[0].copy()), dtype=np.float64).reshape(1, n)
        return np.matmul(mats, V[:, :, None])[:, :, 0]

    draws = standard_normal(2 * n, key=key, stream=0)
    v0, v1 = draws[:n], draws[n:]
    if method == "lanczos":
        def mv_one(j: int, x: np.ndarray) -> np.ndarray:
            return mv_batch(x[None])[0] if mats is None else mats[j] @ x

        out = [_lanczos(partial(mv_one, j), v0, which, tol, max_iter) for j in range(m)]
        value, vec, it, conv, res = (np.array(c) for c in zip(*out))
    else:
        zeros = np.zeros(m)
        value, vec, it, conv, res, nu = _power(mv_batch, np.tile(v0, (m, 1)), zeros, zeros, tol, max_iter)
        if which == "LA":
            redo = ~(conv & (value >= 0))
            sigma = -np.maximum(nu, np.abs(value))
            redo &= sigma != 0
            if redo.any():
                v2, vec2, it2, conv2, res2, _ = _power(mv_batch, np.tile(v1, (m, 1)), np.where(redo, sigma, 0.0),
                                                      np.where(redo, -sigma, 0.0), tol, max_iter)
                value = np.where(redo, v2, value)
                vec = np.where(redo[:, None], vec2, vec)
                it = np.where(redo, it + it2, it)
                conv = np.where(redo, conv2, conv)
                res = np.where(redo, res2, res)
    if stack:
        return Eigen(value, vec, it, conv, res)
    return Eigen(float(value[0]), vec[0], int(it[0]), bool(conv[0]), float(res[0]))


def stability_bound(A: Any, tol: float = 1e-8) -> Any:
    """``2 / λ_max`` from ``numpy.linalg.eigvalsh``; refused (ValueError) when an eigenvalue is
    below ``-tol·λ_max`` (GD diverges along it at every rate) or ``λ_max <= 0``."""
    lam = np.linalg.eigvalsh(np.asarray(A, dtype=np.float64))
    top, bottom = lam[..., -1], lam[..., 0]
    if np.any(top <= 0):
        raise ValueError("A must have a positive top eigenvalue for a stability bound")
    if np.any(bottom < -tol * top):
        raise ValueError("A has a negative eigenvalue")
    return 2.0 / top


def gd_quadratic(H: Any, x0: Any, lrs: Any, steps: int) -> np.ndarray:
    """Loss trajectories of GD on ½xᵀHx, all rates at once (rows of X)."""
    H = np.asarray(H, dtype=np.float64)
    lrs = np.asarray(lrs, dtype=np.float64)
    X = np.tile(np.asarray(x0, dtype=np.float64), (lrs.size, 1))
    out = np.empty((lrs.size, steps + 1))
    dead = np.zeros(lrs.size, dtype=bool)
    last = np.zeros(lrs.size)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            G = X @ H
            f = 0.5 * np.einsum("ij,ij->i", X, G)
            dead |= ~np.isfinite(f)
            out[:, t] = np.where(dead, np.where(last < 0, -np.inf, np.inf), f)
            last = np.where(dead, last, f)
            X = X - lrs[:, None] * G
    return out


def rademacher(n: int, *, key: int, stream: int) -> np.ndarray:
    """The kernel's Rademacher probe: entry j is bit (j mod 32) of word (j mod 128) // 32 of
    Philox block j // 128 of the stream; bit 1 -> +1, bit 0 -> -1."""
    nb = -(-n // 128)
    b = _blocks(key, stream, 0, nb).astype(np.uint64)  # (nb, 4)
    j = np.arange(n)
    words = b[j // 128, (j % 128) // 32]
    bits = (words >> (j % 32).astype(np.uint64)) & np.uint64(1)
    return np.where(bits == 1, 1.0, -1.0)


def hutchinson_trace(A: Any, n_samples: int, *, key: int) -> Trace:
    """Mean and standard error of ``z_kᵀ A z_k`` over probes k = 0..N-1 (two-pass formulas)."""
    A = np.asarray(A, dtype=np.float64)
    Z = np.array([rademacher(A.shape[0], key=key, stream=k) for k in range(n_samples)])
    vals = np.einsum("ij,ij->i", Z @ A, Z)
    var = vals.var(ddof=1)
    return Trace(float(vals.mean()), float(np.sqrt(var / n_samples)), n_samples, float(var))
