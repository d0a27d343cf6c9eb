"""Batch-size scaling (SCIENCE.md §4): the best batch size ``B_opt(N)`` for each dataset size,
over any objective ``(N, B, seed) -> score``, and the power law ``B_opt ∝ N^δ`` fitted to it."""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._chunks import run_chunks
from .._random import RNGLike
from .._results import Result, get_axes
from .._validation import check_bool, check_callable, check_int
from ..scaling import PowerLawFit, _positive_sizes, fit_power_law

__all__ = ["batch_scaling_study", "BatchScalingStudy"]


@dataclass(frozen=True, repr=False)
class BatchScalingStudy(Result):
    """Result of :func:`batch_scaling_study`.

    Attributes
    ----------
    dataset_sizes : ndarray, shape (n_N,)
    batch_sizes : ndarray, shape (n_B,)
    scores : ndarray, shape (n_N, n_B, n_seeds)
        ``objective(N, B, seed)``.
    mean_scores : ndarray, shape (n_N, n_B)
        Mean over seeds.
    B_opt : ndarray, shape (n_N,)
        Best batch size per ``N``: the minimiser of the seed-averaged score (refined by a
        parabola in ``log B`` through the grid minimum and its neighbours).
    log_B_opt_stderr : ndarray, shape (n_N,)
        Jackknife-over-seeds standard error of ``log B_opt``.
    B_opt_seeds : ndarray, shape (n_N, n_seeds)
        The same optimum for each seed alone.
    at_edge : ndarray of bool, shape (n_N,)
        The grid minimum is the first or last batch size (``B_opt`` is then censored).
    fit : PowerLawFit
        ``B_opt ≈ k N^δ``.
    """

    dataset_sizes: np.ndarray
    batch_sizes: np.ndarray
    scores: np.ndarray
    mean_scores: np.ndarray
    B_opt: np.ndarray
    log_B_opt_stderr: np.ndarray
    B_opt_seeds: np.ndarray
    at_edge: np.ndarray
    fit: PowerLawFit

    def _frame_columns(self) -> dict[str, Any]:
        """One row per ``N``: ``dataset_size, B_opt, log_B_opt_stderr``, the 95% band
        ``B_opt_lo, B_opt_hi`` (``B_opt · exp(∓1.96 SE)``), the fitted ``B_fit = k N^δ`` and ``at_edge``."""
        return {
            "dataset_size": self.dataset_sizes,
            "B_opt": self.B_opt,
            "log_B_opt_stderr": self.log_B_opt_stderr,
            "B_opt_lo": self.B_opt * np.exp(-1.96 * self.log_B_opt_stderr),
            "B_opt_hi": self.B_opt * np.exp(1.96 * self.log_B_opt_stderr),
            "B_fit": self.fit(self.dataset_sizes),
            "at_edge": self.at_edge,
        }

    def plot(self, ax: Any = None, *, theory_exponent: float | None = None) -> Any:
        """``B_opt`` vs ``N`` on log-log axes with ±2 SE bars, the fitted line and its Student-t
        confidence band (shaded), and, given ``theory_exponent``, a line of that slope through
        the data's centre (log-space mean) for comparison."""
        from scipy import stats

        ax = get_axes(ax)
        lo = self.B_opt * (1 - np.exp(-2 * self.log_B_opt_stderr))
        hi = self.B_opt * (np.exp(2 * self.log_B_opt_stderr) - 1)
        ax.errorbar(self.dataset_sizes, self.B_opt, yerr=[lo, hi], fmt="o", label="B_opt (±2 SE over seeds)")
        xs = np.geomspace(self.dataset_sizes.min(), self.dataset_sizes.max(), 100)
        f = self.fit
        line = ax.plot(xs, f(xs), "-", label=f"fit: δ = {f.exponent:.3f} [{f.ci[0]:.3f}, {f.ci[1]:.3f}] "
                       f"({f.conf_level:.0%} {f.ci_method} interval)")  # fmt: skip
        lx, n = np.log(f.x), f.x.size
        if n > 2:  # pointwise band of the fitted line: s·sqrt(1/n + (log x - mean)²/Sxx) · t_{n-2}
            s = np.sqrt(float(f.residuals @ f.residuals) / (n - 2))
            half = stats.t.ppf(0.5 + f.conf_level / 2, n - 2) * s * np.sqrt(
                1 / n + (np.log(xs) - lx.mean()) ** 2 / float(((lx - lx.mean()) ** 2).sum()))
            ax.fill_between(xs, f(xs) * np.exp(-half), f(xs) * np.exp(half), color=line[0].get_color(), alpha=0.15,
                            label=f"{f.conf_level:.0%} confidence band of the fitted line (Student-t)")
        if theory_exponent is not None:
            ly = np.log(f.y)
            ax.plot(xs, np.exp(ly.mean() + theory_exponent * (np.log(xs) - lx.mean())), "k--", lw=1,
                    label=f"theory: slope δ = {theory_exponent:.3g} (through the data's centre)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("dataset size N")
        ax.set_ylabel("optimal batch size B_opt")
        ax.legend()
        return ax


def _refined_argmin(scores: np.ndarray, log_b: np.ndarray, refine: bool) -> tuple[np.ndarray, np.ndarray]:
    """Minimiser in log B along the last axis of ``scores`` (..., n_B): the grid minimum, or the
    vertex of the parabola through it and its two neighbours. Returns (log B_opt, at_edge)."""
    i = np.argmin(scores, axis=-1)
    nb = log_b.size
    u = log_b[i]
    edge = (i == 0) | (i == nb - 1)
    if not refine or nb < 3:
        return u, edge
    j = np.clip(i, 1, nb - 2)
    f0 = np.take_along_axis(scores, (j - 1)[..., None], -1)[..., 0]
    f1 = np.take_along_axis(scores, j[..., None], -1)[..., 0]
    f2 = np.take_along_axis(scores, (j + 1)[..., None], -1)[..., 0]
    x0, x1, x2 = log_b[j - 1], log_b[j], log_b[j + 1]
    # Vertex of the parabola through three points (unequal spacing allowed).
    num = (x1 - x0) ** 2 * (f1 - f2) - (x1 - x2) ** 2 * (f1 - f0)
    den = (x1 - x0) * (f1 - f2) - (x1 - x2) * (f1 - f0)
    with np.errstate(invalid="ignore", divide="ignore"):
        vertex = x1 - 0.5 * num / den
    ok = ~edge & (den != 0) & np.isfinite(vertex)
    vertex = np.clip(np.where(ok, vertex, u), x0, x2)
    return np.where(ok, vertex, u), edge


def _score(value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.ndarray)) or getattr(value, "ndim", 0) != 0:
        raise TypeError(f"objective must return a real number; got {type(value).__name__}")
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"objective must return a real number; got {type(value).__name__} ({exc})") from None


class _Task:
    """A picklable chunk task for ``run_chunks``: item ``i`` is one N (grid objectives, seed -1)
    or one (N, seed); returns the score arrays of items ``first .. first + count - 1``."""

    def __init__(self, objective: Any, items: list[tuple[float, int]], batch_sizes: np.ndarray, seeds: np.ndarray) -> None:
        self.objective, self.items, self.batch_sizes, self.seeds = objective, items, batch_sizes, seeds

    def __call__(self, first: int, count: int, num_threads: int) -> list[np.ndarray]:
        return [self._item(n, seed, num_threads) for n, seed in self.items[first : first + count]]

    def _item(self, n: float, seed: int, num_threads: int) -> np.ndarray:
        if seed < 0:  # num_threads 0 is the kernels' "OpenMP default", None in the public convention
            return self.objective.evaluate_grid([n], self.batch_sizes, self.seeds, num_threads=num_threads or None)[0]
        return np.array([_score(self.objective(n, b, seed)) for b in self.batch_sizes])


def batch_scaling_study(
    objective: Any,
    dataset_sizes: Any,
    batch_sizes: Any,
    *,
    n_seeds: int = 8,
    refine: bool = True,
    n_boot: int = 2000,
    conf_level: float = 0.95,
    rng: RNGLike = None,
    executor: Any = None,
    progress: bool = False,
    num_threads: int | None = None,
) -> BatchScalingStudy:
    """Find the best batch size ``B_opt(N)`` for each dataset size and fit ``B_opt ∝ N^δ``.

    Parameters
    ----------
    objective : callable
        ``objective(N, B, seed) -> score`` (finite; lower is better), or an object with
        ``evaluate_grid(dataset_sizes, batch_sizes, seeds, num_threads=)`` returning all
        scores at once (such as :class:`tunelab.SGDQuadraticObjective`, simulated in C++).
    dataset_sizes : array_like, shape (n_N,)
        Positive ``N`` (at least 3 distinct, for the fit).
    batch_sizes : array_like, shape (n_B,)
        Positive, strictly increasing batch grid (at least 3; log-spaced is natural).
    n_seeds : int
        Seeds ``0 .. n_seeds - 1`` passed to the objective (>= 2, for the uncertainty).
    refine : bool
        Refine each grid minimum by the vertex of the parabola in ``log B`` through it and its
        two neighbours (not at the grid's edges).
    n_boot, conf_level, rng
        Passed to :func:`fit_power_law` (``rng`` seeds only its bootstrap).
    executor : Executor or map-like callable, optional
        Evaluate tasks (one per ``N`` for grid objectives, one per ``(N, seed)`` otherwise)
        elsewhere; results are identical. The objective must then be picklable.
    progress : bool
        Progress bar over tasks.
    num_threads : int, optional
        Threads of a grid objective's kernel (1 per task under an executor).

    Returns
    -------
    BatchScalingStudy

    Notes
    -----
    ``B_opt(N)`` minimises the **seed-averaged** score (averaging first keeps the noisy
    per-seed curves from biasing the minimiser); its uncertainty across seeds is the
    delete-one-seed jackknife standard error of ``log B_opt`` (Efron & Stein 1981). The
    per-seed optima are kept in ``B_opt_seeds``. A ``RuntimeWarning`` says when an optimum
    lies at the edge of the batch grid (widen the grid).
    """
    grid_objective = hasattr(objective, "evaluate_grid") and callable(objective.evaluate_grid)
    if not grid_objective:
        check_callable("objective", objective)
    n_arr = _positive_sizes(dataset_sizes, "dataset_sizes")
    b_arr = _positive_sizes(batch_sizes, "batch_sizes")
    if n_arr.size < 3:
        raise ValueError(f"dataset_sizes must have at least 3 values for a fit; got {n_arr.size}")
    if np.unique(n_arr).size < 2:
        raise ValueError("dataset_sizes must contain at least 2 distinct values for a fit")
    if b_arr.size < 3:
        raise ValueError(f"batch_sizes must have at least 3 values; got {b_arr.size}")
    if not (np.diff(b_arr) > 0).all():
        raise ValueError("batch_sizes must be strictly increasing")
    n_seeds = check_int("n_seeds", n_seeds, minimum=2)
    check_bool("refine", refine)
    seeds = np.arange(n_seeds, dtype=np.int64)

    if grid_objective:
        items = [(float(n), -1) for n in n_arr]
    else:
        items = [(float(n), int(s)) for n in n_arr for s in seeds]
    parts: list[np.ndarray] = []

    def consume(first: int, count: int, part: list[np.ndarray]) -> None:
        parts.extend(np.asarray(p, dtype=np.float64) for p in part)

    # One task per chunk, so Ctrl-C lands between objective calls (see _interrupt).
    run_chunks(_Task(objective, items, b_arr, seeds), len(items), consume, grain=1, chunk_size=1, executor=executor,
               progress=progress, desc="batch_scaling_study", num_threads=num_threads)  # fmt: skip
    if grid_objective:
        scores = np.stack([p.reshape(b_arr.size, n_seeds) for p in parts])
    else:
        scores = np.stack(parts).reshape(n_arr.size, n_seeds, b_arr.size).transpose(0, 2, 1)
    scores = np.ascontiguousarray(scores)
    if not np.isfinite(scores).all():
        i, j, k = np.argwhere(~np.isfinite(scores))[0]
        raise ValueError(
            f"objective returned a non-finite score at N={n_arr[i]:g}, B={b_arr[j]:g}, seed={seeds[k]}"
        )

    log_b = np.log(b_arr)
    mean = scores.mean(axis=2)
    u_opt, at_edge = _refined_argmin(mean, log_b, refine)
    # Delete-one-seed jackknife of log B_opt.
    loo = (scores.sum(axis=2, keepdims=True) - scores) / (n_seeds - 1)  # (n_N, n_B, n_seeds)
    u_loo, _ = _refined_argmin(np.moveaxis(loo, 2, 1), log_b, refine)  # (n_N, n_seeds)
    se = np.sqrt((n_seeds - 1) / n_seeds * ((u_loo - u_loo.mean(axis=1, keepdims=True)) ** 2).sum(axis=1))
    u_seed, _ = _refined_argmin(np.moveaxis(scores, 2, 1), log_b, refine)
    if at_edge.any():
        warnings.warn(
            f"batch_sizes: the best batch size is at the edge of the grid for N = {n_arr[at_edge].tolist()}; "
            "B_opt is censored there, widen the grid",
            RuntimeWarning,
            stacklevel=2,
        )
    b_opt = np.exp(u_opt)
    fit = fit_power_law(n_arr, b_opt, n_boot=n_boot, conf_level=conf_level, rng=rng)
    return BatchScalingStudy(
        dataset_sizes=n_arr, batch_sizes=b_arr, scores=scores, mean_scores=mean, B_opt=b_opt,
        log_B_opt_stderr=se, B_opt_seeds=np.exp(u_seed), at_edge=at_edge, fit=fit,
    )
