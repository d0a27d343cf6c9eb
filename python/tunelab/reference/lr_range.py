"""NumPy references of the learning-rate range tests: each rate's step taken explicitly."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..lr_range import LRFinderResult, LRRangeResult

__all__ = ["lr_range_test", "lr_range_test_quadratic", "lr_finder"]


def _result(lrs: np.ndarray, losses: np.ndarray, loss0: float) -> LRRangeResult:
    for lr, L in zip(lrs, losses):
        if not L <= loss0:
            return LRRangeResult(lrs, losses, float(loss0), float(lr), 2.0 / float(lr))
    return LRRangeResult(lrs, losses, float(loss0), math.nan, math.nan)


def lr_range_test(loss: Callable[[np.ndarray], Any], grad: Callable[[np.ndarray], Any], x0: Any, lrs: Any
                  ) -> LRRangeResult:
    """One step per rate from x0: ``loss(x0 - lr * grad(x0))``."""
    x0 = np.asarray(x0, dtype=np.float64)
    lrs = np.asarray(lrs, dtype=np.float64)
    g = np.asarray(grad(x0), dtype=np.float64)
    losses = np.array([float(loss(x0 - lr * g)) for lr in lrs])
    return _result(lrs, losses, float(loss(x0)))


def lr_range_test_quadratic(H: Any, x0: Any, lrs: Any) -> LRRangeResult:
    """The range test on ½xᵀHx with every step taken and evaluated explicitly."""
    H = np.asarray(H, dtype=np.float64)
    x0 = np.asarray(x0, dtype=np.float64)
    lrs = np.asarray(lrs, dtype=np.float64)
    g = H @ x0
    X = x0[None, :] - lrs[:, None] * g[None, :]
    with np.errstate(over="ignore", invalid="ignore"):
        losses = 0.5 * np.einsum("ij,ij->i", X @ H, X)
    return _result(lrs, losses, 0.5 * float(x0 @ g))


def lr_finder(step: Callable[[float], Any], *, lr_min: float = 1e-7, lr_max: float = 10.0, num_steps: int = 100,
              smooth: float = 0.98, diverge_factor: float = 4.0) -> LRFinderResult:
    """Plain loop version of ``tunelab.lr_finder``."""
    lrs, raw, sm = [], [], []
    avg, best, diverged = 0.0, math.inf, False
    for i in range(num_steps):
        lr = lr_min * (lr_max / lr_min) ** (i / (num_steps - 1))
        value = float(step(lr))
        lrs.append(lr)
        raw.append(value)
        if not math.isfinite(value):
            sm.append(math.inf)
            diverged = True
            break
        avg = smooth * avg + (1 - smooth) * value
        s = avg / (1 - smooth ** (i + 1))
        sm.append(s)
        best = min(best, s)
        if best > 0 and s > diverge_factor * best:
            diverged = True
            break
    used = len(sm) - 1 if diverged else len(sm)
    suggested = math.nan
    if used >= 2:
        x = np.log(lrs[:used])
        y = np.array(sm[:used])
        d = np.empty(used)
        d[0] = (y[1] - y[0]) / (x[1] - x[0])
        d[-1] = (y[-1] - y[-2]) / (x[-1] - x[-2])
        for k in range(1, used - 1):  # numpy.gradient's second-order formula for uneven spacing
            h0, h1 = x[k] - x[k - 1], x[k + 1] - x[k]
            d[k] = (h0**2 * y[k + 1] - h1**2 * y[k - 1] + (h1**2 - h0**2) * y[k]) / (h0 * h1 * (h0 + h1))
        suggested = float(lrs[int(np.argmin(d))])
    return LRFinderResult(np.array(lrs), np.array(raw), np.array(sm), suggested, diverged)
