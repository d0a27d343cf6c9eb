"""Transfer of tuned learning rates across tasks (SCIENCE.md §9): a latent-factor model, a grid
search per (task, seed) in C++, and Spearman's rank correlation beside its arcsine law."""

from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._chunks import run_chunks
from .._random import RNGLike, kernel_key
from .._results import Result
from .._validation import as_array, check_alloc, check_int, check_real
from ..rank import spearman_matrix
from ..transfer import _grid_task, arcsine_spearman

__all__ = ["transfer_study", "TransferStudy"]


@dataclass(frozen=True, repr=False)
class TransferStudy(Result):
    """Result of :func:`transfer_study`.

    Attributes
    ----------
    coupling, mu, sigma : ndarray, shape (T,)
        The model's per-task parameters (``mu``, ``sigma`` in natural-log units of the rate).
    lr_grid : ndarray, shape (G,)
        The searched rates.
    eval_noise : float
        Standard deviation of the evaluation noise.
    n_seeds : int
        Number of seeds (observations of each task's tuned rate).
    tuned_lr : ndarray, shape (T, n_seeds)
        The tuned rate of each (task, seed) (a point of ``lr_grid``).
    latent_log_lr : ndarray, shape (T, n_seeds)
        The true optimum ``log eta*`` of each (task, seed).
    spearman : ndarray, shape (T, T)
        Spearman's rho of tuned rates between tasks, across seeds (ties: average ranks).
    latent_spearman : ndarray, shape (T, T)
        The same for the true optima (what an infinitely fine, noise-free search would give).
    theory : ndarray, shape (T, T)
        ``(6/pi) arcsin(c_t c_u / 2)`` (1 on the diagonal).
    stderr : ndarray, shape (T, T)
        Approximate standard error of ``spearman``: Fisher's z with Bonett & Wright's (2000)
        variance ``(1 + r^2 / 2) / (n - 3)``, mapped back, ``(1 - r^2) sqrt((1 + r^2/2)/(n - 3))``.
    edge_fraction : ndarray, shape (T,)
        Fraction of seeds whose tuned rate is the first or last grid point (the grid is too
        narrow when this is not small).
    """

    coupling: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    lr_grid: np.ndarray
    eval_noise: float
    n_seeds: int
    tuned_lr: np.ndarray
    latent_log_lr: np.ndarray
    spearman: np.ndarray
    latent_spearman: np.ndarray
    theory: np.ndarray
    stderr: np.ndarray
    edge_fraction: np.ndarray

    def _frame_columns(self) -> dict[str, Any]:
        """One row per pair of tasks ``task_t < task_u``: ``coupling_t, coupling_u``, the measured
        ``spearman``, its ``theory``, ``latent_spearman``, ``stderr`` and ``z = (spearman − theory)/stderr``."""
        t, u = np.triu_indices(self.coupling.size, k=1)
        meas = self.spearman[t, u]
        return {
            "task_t": t,
            "task_u": u,
            "coupling_t": self.coupling[t],
            "coupling_u": self.coupling[u],
            "spearman": meas,
            "theory": self.theory[t, u],
            "latent_spearman": self.latent_spearman[t, u],
            "stderr": self.stderr[t, u],
            "z": (meas - self.theory[t, u]) / self.stderr[t, u],
        }

    def plot(self, ax: Any = None) -> Any:
        """Measured vs theoretical heatmaps and a measured-vs-theory scatter.

        ``ax``: a sequence of three matplotlib axes, or None for a new 1 x 3 figure.
        Returns the three axes.
        """
        if ax is None:
            from .._optional import optional_module

            plt = optional_module("matplotlib.pyplot", "TransferStudy.plot()")
            _, ax = plt.subplots(1, 3, figsize=(13, 4))
        a_meas, a_theory, a_scatter = ax
        T = self.coupling.size
        step = max(1, -(-T // 8))  # at most about 8 tick labels per axis
        ticks = np.arange(0, T, step)
        labels = [f"{c:.2g}" for c in self.coupling[ticks]]
        for a, mat, title in ((a_meas, self.spearman, "measured Spearman"), (a_theory, self.theory, "theory (6/π)·arcsin(c_t c_u/2)")):
            im = a.imshow(mat, vmin=-1, vmax=1, cmap="RdBu_r")
            a.set_title(title)
            a.set_xticks(ticks, labels)
            a.set_yticks(ticks, labels)
            a.set_xlabel("coupling c_u of task u")
            a.set_ylabel("coupling c_t of task t")
            a.figure.colorbar(im, ax=a, shrink=0.8, label="Spearman ρ")
        t, u = np.triu_indices(self.coupling.size, k=1)
        a_scatter.errorbar(self.theory[t, u], self.spearman[t, u], yerr=2 * self.stderr[t, u], fmt="o", ms=3, label="tuned (±2 SE)")
        a_scatter.plot(self.theory[t, u], self.latent_spearman[t, u], "x", ms=4, label="true optima")
        lo = float(min(0.0, np.nanmin(self.theory[t, u]) if t.size else 0.0))
        a_scatter.plot([lo, 1], [lo, 1], "k--", lw=1, label="y = x")
        a_scatter.set_xlabel("theory (6/π)·arcsin(c_t c_u/2)")
        a_scatter.set_ylabel("measured Spearman of tuned rates")
        a_scatter.set_title(f"{self.n_seeds} seeds, {self.lr_grid.size}-point grid, noise {self.eval_noise:g}")
        a_scatter.legend(fontsize=8)
        return ax


def _per_task(value: Any, name: str, T: int, *, positive: bool = False) -> np.ndarray:
    if isinstance(value, numbers.Real):
        arr = np.full(T, check_real(name, value))
    else:
        arr = as_array(value, name, ndim=(0, 1)).reshape(-1)
        if arr.size == 1 and np.ndim(value) == 0:
            arr = np.full(T, arr[0])
    if arr.shape != (T,):
        raise ValueError(f"{name} must be a scalar or have one value per task, shape ({T},); got shape {arr.shape}")
    if positive and (arr < 0).any():
        raise ValueError(f"{name} must be >= 0")
    return np.ascontiguousarray(arr)


def transfer_study(
    coupling: Any,
    *,
    n_seeds: int = 2000,
    lr_grid: Any = None,
    mu: Any = float(np.log(1e-3)),
    sigma: Any = 1.0,
    eval_noise: float = 0.01,
    rng: RNGLike = None,
    num_threads: int | None = None,
    executor: Any = None,
    progress: bool = False,
    chunk_size: int | None = None,
) -> TransferStudy:
    """Simulate tuning a learning rate on ``T`` related tasks and measure how well it transfers.

    Model (SCIENCE.md §9). For task ``t`` and seed ``s`` the true optimal rate is

    .. math:: \\log \\eta^*_{t,s} = \\mu_t + \\sigma_t \\left(c_t z_s + \\sqrt{1 - c_t^2}\\,
              \\varepsilon_{t,s}\\right),

    with a factor ``z_s`` shared by all tasks of seed ``s`` and task noise ``eps_{t,s}``
    (independent standard normals), so ``log eta*`` of tasks ``t, u`` has correlation
    ``c_t c_u``. The validation loss measured at grid rate ``eta_g`` is a parabola in log-rate
    distance from the optimum plus Gaussian evaluation noise,

    .. math:: L_{t,s}(g) = \\tfrac12 (\\log \\eta_g - \\log \\eta^*_{t,s})^2
              + \\text{eval\\_noise}\\cdot \\xi_{t,s,g}, \\qquad \\xi \\sim N(0, 1),

    and the tuned rate is the grid point of least measured loss. Transferability is Spearman's
    rank correlation of tuned rates between tasks across seeds (grid ties as average ranks);
    for a bivariate normal it is ``(6/pi) arcsin(rho/2)`` (Pearson 1907; Kruskal 1958), the
    ``theory`` beside it. A coarse grid (ties, discretisation) and evaluation noise (errors
    in the tuned rate) pull the measured value below the theory.

    Parameters
    ----------
    coupling : array_like, shape (T,)
        ``c_t`` in [0, 1], one per task (T >= 1).
    n_seeds : int
        Number of seeds ``S`` (>= 2).
    lr_grid : array_like, shape (G,), optional
        Strictly increasing positive rates to search. Default: 200 log-spaced rates over
        ``exp(mu ± 5 sigma)`` (covering every task).
    mu, sigma : float or array_like, shape (T,)
        Centre and spread of ``log eta*`` (natural log; ``sigma >= 0``).
    eval_noise : float
        Standard deviation of the evaluation noise (>= 0), in units of the loss.
    rng : None, int, SeedSequence or Generator
        Seed (SPEC 7); one key per call.
    num_threads : int, optional
        OpenMP threads per chunk; the result does not depend on it.
    executor : Executor or map-like callable, optional
        Run chunks of seeds elsewhere (results identical).
    progress : bool
        Progress bar over seeds.
    chunk_size : int, optional
        Seeds per chunk (default adaptive); the result does not depend on it.

    Returns
    -------
    TransferStudy

    Notes
    -----
    Random numbers are counter-based: the stream is the global seed index ``s`` and ``z_s``,
    ``eps_{t,s}`` and ``xi_{t,s,g}`` have fixed slots in it (see ``cpp/include/tunelab/
    transfer.hpp``), so the result is bit-identical for any thread count, chunking or
    executor. Grid points whose noise-free loss exceeds the best by more than
    ``2 * 8.6 * eval_noise`` cannot win (Box-Muller normals from 53-bit uniforms are bounded
    by 8.58) and are skipped: an exact shortcut.
    """
    c = as_array(coupling, "coupling", ndim=1)
    if ((c < 0) | (c > 1)).any():
        raise ValueError("coupling must lie in [0, 1]")
    T = c.size
    n_seeds = check_int("n_seeds", n_seeds, minimum=2)
    mu_a = _per_task(mu, "mu", T)
    sigma_a = _per_task(sigma, "sigma", T, positive=True)
    eval_noise = check_real("eval_noise", eval_noise, minimum=0.0)
    if lr_grid is None:
        lo = float(np.min(mu_a - 5 * sigma_a))
        hi = float(np.max(mu_a + 5 * sigma_a))
        if hi <= lo:
            hi = lo + 1.0
        with np.errstate(over="ignore", under="ignore"):
            log_grid = np.linspace(lo, hi, 200)
            rates = np.exp(log_grid)
        if not (np.isfinite(rates).all() and rates[0] > 0):
            raise ValueError("mu and sigma: the default lr_grid exp(mu -/+ 5 sigma) over- or underflows float64; "
                             "pass lr_grid or smaller mu, sigma")
    else:
        grid = as_array(lr_grid, "lr_grid", ndim=1)
        if grid.size < 2:
            raise ValueError(f"lr_grid must have at least 2 rates; got {grid.size}")
        if (grid <= 0).any():
            raise ValueError("lr_grid must contain only positive rates")
        log_grid = np.log(grid)
        rates = grid
        if not (np.diff(log_grid) > 0).all():
            raise ValueError("lr_grid must be strictly increasing")
    log_grid = np.ascontiguousarray(log_grid)
    # |c z + sqrt(1 - c^2) eps| <= 2 * 8.6 (bounded normals): the latent log-rates stay finite.
    if not np.isfinite(np.abs(mu_a) + 20.0 * sigma_a).all():
        raise ValueError("mu and sigma are too large: the latent log-rates mu + sigma * N(0, 1) overflow float64")
    check_alloc("n_seeds", (T, n_seeds), 16)
    key = kernel_key(rng)

    tuned = np.empty((T, n_seeds), dtype=np.int64)
    latent = np.empty((T, n_seeds))

    def consume(first: int, count: int, part: tuple[np.ndarray, np.ndarray]) -> None:
        tuned[:, first : first + count] = part[0]
        latent[:, first : first + count] = part[1]

    task = functools.partial(_grid_task, key, c, mu_a, sigma_a, log_grid, eval_noise)
    run_chunks(task, n_seeds, consume, grain=256, chunk_size=chunk_size, executor=executor, progress=progress,
               desc="transfer_study", num_threads=num_threads)

    tuned_log = log_grid[tuned]
    rho = spearman_matrix(tuned_log, axis=1, num_threads=num_threads)
    rho_latent = spearman_matrix(latent, axis=1, num_threads=num_threads)
    theory = arcsine_spearman(np.outer(c, c))
    np.fill_diagonal(theory, 1.0)
    with np.errstate(invalid="ignore"):
        stderr = (1 - rho**2) * np.sqrt((1 + rho**2 / 2) / max(n_seeds - 3, 1))
    edge = ((tuned == 0) | (tuned == log_grid.size - 1)).mean(axis=1)
    return TransferStudy(
        coupling=c, mu=mu_a, sigma=sigma_a, lr_grid=rates, eval_noise=eval_noise, n_seeds=n_seeds,
        tuned_lr=rates[tuned], latent_log_lr=latent, spearman=rho, latent_spearman=rho_latent,
        theory=theory, stderr=stderr, edge_fraction=edge,
    )
