"""NumPy references of the learning-rate range tests: each rate's step taken explicitly, and
the progressive finder written from its definition."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = ["lr_range_test", "lr_range_test_quadratic", "lr_finder"]


class RangeTest(NamedTuple):
    """A range test's answer: the first rate whose loss is not below ``loss0`` and ``2 / rate``."""

    lrs: np.ndarray
    losses: np.ndarray
    loss0: float
    lr_critical: float
    curvature: float


class Finder(NamedTuple):
    """``lr_finder``'s answer."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    lr_suggested: float
    diverged: bool
    suggestion: str
    suggestions: dict[str, float]


def _result(lrs: np.ndarray, losses: np.ndarray, loss0: float) -> RangeTest:
    for lr, L in zip(lrs, losses):
        if not L <= loss0:
            return RangeTest(lrs, losses, float(loss0), float(lr), 2.0 / float(lr))
    return RangeTest(lrs, losses, float(loss0), math.nan, math.nan)


def lr_range_test(loss: Callable[[np.ndarray], Any], grad: Callable[[np.ndarray], Any], x0: Any, lrs: Any
                  ) -> RangeTest:
    """One step per rate from x0: ``loss(x0 - lr * grad(x0))``."""
    x0 = np.asarray(x0, dtype=np.float64)
    lrs = np.asarray(lrs, dtype=np.float64)
    g = np.asarray(grad(x0), dtype=np.float64)
    losses = np.array([float(loss(x0 - lr * g)) for lr in lrs])
    return _result(lrs, losses, float(loss(x0)))


def lr_range_test_quadratic(H: Any, x0: Any, lrs: Any) -> RangeTest:
    """The range test on ½xᵀHx with every step taken and evaluated explicitly."""
    H = np.asarray(H, dtype=np.float64)
    x0 = np.asarray(x0, dtype=np.float64)
    lrs = np.asarray(lrs, dtype=np.float64)
    g = H @ x0
    X = x0[None, :] - lrs[:, None] * g[None, :]
    with np.errstate(over="ignore", invalid="ignore"):
        losses = 0.5 * np.einsum("ij,ij->i", X @ H, X)
    return _result(lrs, losses, 0.5 * float(x0 @ g))


def _debiased_average(losses: np.ndarray, smooth: float) -> float:
    """The bias-corrected moving average of ``losses`` at its last entry, as a weighted mean:
    ``m_i / (1 - b^{i+1}) = sum_j b^{i-j} l_j / sum_j b^{i-j}`` (since ``m_i = (1 - b) sum_j
    b^{i-j} l_j`` and ``(1 - b) sum_j b^{i-j} = 1 - b^{i+1}``); ``b = 0`` weighs the last alone."""
    weights = np.float64(smooth) ** np.arange(losses.size - 1, -1, -1)
    return float(weights @ losses / weights.sum())


def _valley(y: list[float]) -> int:
    """The middle of the longest valley of ``y``: ``depth[i]`` is the length of the longest strictly
    decreasing subsequence ending at ``i`` (one more than the deepest earlier point above it);
    ``e`` is the first point of the greatest depth ``d``; the valley is the ``d`` points ending
    at ``e`` and its middle ``e - d // 2``."""
    depth: list[int] = []
    for i, value in enumerate(y):
        depth.append(1 + max([depth[j] for j in range(i) if y[j] > value], default=0))
    end = depth.index(max(depth))
    return end - depth[end] // 2


def _suggestions(lrs: np.ndarray, y: np.ndarray, first: int, last: int) -> dict[str, float]:
    """The three rules on ``y[first:last]`` (ties to the earliest point): the valley's middle; the
    steepest slope per unit of ``log lr`` (central differences inside ``y``, one-sided at its
    ends; the grid is uniform in ``log lr``, so the spacing cancels from the comparison); a
    tenth of the rate at the lowest point."""
    out = {"valley": math.nan, "steep": math.nan, "minimum": math.nan}
    window = [float(y[i]) for i in range(first, last)]
    if not window:
        return out
    out["valley"] = float(lrs[first + _valley(window)])
    if y.size >= 2:
        slope = np.empty(y.size)
        slope[0], slope[-1] = 2 * (y[1] - y[0]), 2 * (y[-1] - y[-2])
        slope[1:-1] = y[2:] - y[:-2]
        steepest = min(range(first, last), key=lambda i: (slope[i], i))
        out["steep"] = float(lrs[steepest])
    lowest = min(range(first, last), key=lambda i: (y[i], i))
    out["minimum"] = float(lrs[lowest]) / 10
    return out


def lr_finder(step: Callable[[float], Any], *, lr_min: float = 1e-7, lr_max: float = 10.0, num_steps: int = 100,
              smooth: float = 0.98, diverge_factor: float = 4.0, suggestion: str = "valley",
              skip_start: int | None = None, skip_end: int = 5) -> Finder:
    """The progressive rate finder from its definition: rates spaced evenly in ``log lr`` from
    ``lr_min`` to ``lr_max``; each step's smoothed loss is the bias-corrected moving average of
    the losses so far (a weighted mean, see ``_debiased_average``); the run stops at a non-finite
    loss (smoothed: inf) or at a smoothed loss above ``diverge_factor`` times the best so far
    (when that best is positive), and the stopping step is left out of the suggestions. Those
    are searched between the first ``skip_start`` (default ``num_steps // 10``) and the last
    ``skip_end`` usable points (see ``_suggestions``)."""
    log_lrs = np.linspace(math.log(lr_min), math.log(lr_max), num_steps)
    lrs = np.exp(log_lrs)
    losses: list[float] = []
    smoothed: list[float] = []
    diverged = False
    for lr in lrs:
        losses.append(float(step(float(lr))))
        if not math.isfinite(losses[-1]):
            smoothed.append(math.inf)
            diverged = True
            break
        smoothed.append(_debiased_average(np.array(losses), smooth))
        best = min(smoothed)
        if best > 0 and smoothed[-1] > diverge_factor * best:
            diverged = True
            break
    y = np.array(smoothed[: len(smoothed) - 1 if diverged else len(smoothed)])
    first = num_steps // 10 if skip_start is None else skip_start
    found = _suggestions(lrs, y, first, y.size - skip_end)
    n = len(losses)
    return Finder(lrs[:n], np.array(losses), np.array(smoothed), found[suggestion], diverged, suggestion, found)
