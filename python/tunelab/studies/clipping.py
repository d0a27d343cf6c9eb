"""Clipping × learning rate (SCIENCE.md §7): the rate and the clipping threshold tuned jointly
by grid search on a quadratic with heavy-tailed (Student-t) gradient noise."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .._random import RNGLike, as_generator
from .._results import Result, get_axes
from .._validation import as_array, check_int
from ..quadratic import simulate_quadratic
from ..search import Grid, SearchResult, _edges, _finite_axis, grid_search

__all__ = ["clipping_study", "ClippingStudyResult"]


@dataclasses.dataclass(frozen=True, repr=False)
class ClippingStudyResult(Result):
    """Result of :func:`clipping_study`.

    Attributes
    ----------
    search : SearchResult
        The ``(lr, max_grad_norm)`` grid with the mean final loss over seeds (``inf`` if any seed
        diverged) and the fraction of seeds that diverged.
    best_lr : ndarray, shape (n_clip,)
        For each threshold ``c`` (``max_grad_norm`` grid, ``inf`` = no clipping), the best rate.
    clip_values : ndarray, shape (n_clip,)
        The thresholds.
    best_loss : ndarray, shape (n_clip,)
        The best mean final loss for each threshold.
    best_loss_sem : ndarray, shape (n_clip,)
        Its standard error over the seeds (sample SD / √seeds; the grid's ``score_sem`` extra).
    curve_steps : ndarray of int
        Window ends of the effective-rate curves.
    effective_lr_curves : ndarray, shape (n_clip, K)
        Mean effective rate ``α·min(1, c/‖g‖)`` over training at each threshold's best rate (NaN
        where every seed of that run diverged: no surviving replica to average).
    """

    search: SearchResult
    clip_values: np.ndarray
    best_lr: np.ndarray
    best_loss: np.ndarray
    best_loss_sem: np.ndarray
    curve_steps: np.ndarray
    effective_lr_curves: np.ndarray

    def plot(self, ax: Any = None) -> Any:
        """Heatmap of the mean final loss over ``(lr, max_grad_norm)`` with the best rate per threshold."""
        ax = self.search.plot(ax)
        finite = np.isfinite(self.clip_values)
        from matplotlib.patheffects import withStroke

        ax.plot(self.best_lr[finite], self.clip_values[finite], "w.-", label="best lr for each c",
                path_effects=[withStroke(linewidth=3, foreground="k")], zorder=1.5)  # under the best star
        # diverged cells (score inf, masked in the heatmap): hatched and marked, not blank
        lrs = np.asarray(self.search.space["lr"].grid(self.search.shape[0]), dtype=float)
        ys = _finite_axis(self.clip_values.astype(float))
        xe, ye = _edges(lrs, None), _edges(ys, None)
        from matplotlib.patches import Rectangle

        gone = ~np.isfinite(self.search.scores.reshape(self.search.shape))
        for k, (i, j) in enumerate(zip(*np.nonzero(gone))):
            ax.add_patch(Rectangle((xe[i], ye[j]), xe[i + 1] - xe[i], ye[j + 1] - ye[j], facecolor="0.85",
                                   edgecolor="0.4", hatch="xx", lw=0.5, label="diverged (some seed)" if k == 0 else None))
        for j in np.nonzero(gone.any(axis=0))[0]:  # a label on each row's diverged cells
            i = np.nonzero(gone[:, j])[0]
            ax.text(np.sqrt(xe[i.min()] * xe[i.max() + 1]), np.sqrt(ye[j] * ye[j + 1]), "diverged", ha="center",
                    va="center", fontsize="small", bbox=dict(facecolor="white", edgecolor="none", pad=1))
        if not finite.all():
            ax.set_yticks(ys[finite].tolist() + [ys[~finite][0]],
                          [f"{c:.3g}" for c in self.clip_values[finite]] + ["∞ (no clipping)"])
            ax.minorticks_off()
        ax.set_xlabel("learning rate α")
        ax.set_ylabel("clipping threshold c")
        mesh = ax.collections[0]
        if getattr(mesh, "colorbar", None) is not None:
            mesh.colorbar.set_label("mean final loss over seeds")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize="small", frameon=False)
        return ax

    def plot_effective_lr(self, ax: Any = None) -> Any:
        """The effective learning rate over training at each threshold's best rate."""
        ax = get_axes(ax)
        for c, lr, curve in zip(self.clip_values, self.best_lr, self.effective_lr_curves):
            ax.plot(self.curve_steps, curve, label=f"c = {c:.3g}, α = {lr:.3g}" if np.isfinite(c)
                    else f"c = ∞ (no clipping), α = {lr:.3g}")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("mean effective learning rate α·min(1, c/‖g‖)")
        ax.legend(fontsize="small")
        return ax


def clipping_study(
    *,
    h: Any = None,
    lrs: Any = None,
    clips: Any = None,
    seeds: int = 32,
    steps: int = 300,
    noise_std: float = 3.0,
    dof: float = 3.0,
    batch_size: int = 1,
    x0: float = 3.0,
    optimizer: str = "sgd",
    rng: RNGLike = 0,
    num_threads: int | None = None,
) -> ClippingStudyResult:
    """Tune the learning rate ``α`` and the clipping threshold ``c`` jointly (grid search).

    The objective trains ``seeds`` replicas of each configuration on the quadratic
    ``½ Σ hᵢ wᵢ²`` with Student-t gradient noise (``dof`` degrees of freedom, variance
    ``noise_std²/batch_size``) for ``steps`` steps, all configurations in one
    :func:`tunelab.simulate_quadratic` call, and scores each by the mean final loss over its
    seeds (``inf`` if any seed diverged). Clipping turns the step into ``α_eff·g`` with
    ``α_eff = α·min(1, c/‖g‖)``: a smaller ``c`` tolerates (and needs) a larger ``α``, and it
    cuts off the rare huge noise draws that make plain SGD diverge at rates it would otherwise
    survive. The pair must be tuned together (Zhang, He, Sra & Jadbabaie, "Why gradient
    clipping accelerates training", ICLR 2020; Zhang et al., NeurIPS 2020, for heavy tails).

    Parameters
    ----------
    h : array_like, optional
        Curvatures (default ``geomspace(0.1, 10, 8)``: condition number 100).
    lrs, clips : array_like, optional
        The grid (defaults: 15 rates in ``[1e-3, 2]``; thresholds ``geomspace(0.3, 100, 8)``
        and ``inf``).
    seeds : int
        Replicas per configuration.
    steps, noise_std, dof, batch_size, x0, optimizer
        Passed to :func:`tunelab.simulate_quadratic`.
    rng, num_threads
        Seed and threads.
    """
    h = np.geomspace(0.1, 10.0, 8) if h is None else as_array(h, "h", ndim=1)
    lrs = np.geomspace(1e-3, 2.0, 15) if lrs is None else as_array(lrs, "lrs", ndim=1)
    if np.any(lrs < 0):
        raise ValueError(f"lrs must be >= 0; got min {lrs.min()}")
    if clips is None:
        clips = np.concatenate([np.geomspace(0.3, 100.0, 8), [np.inf]])
    else:
        clips = as_array(clips, "clips", ndim=1, finite=False)
        if np.any(np.isnan(clips)) or np.any(clips <= 0):
            raise ValueError("clips must be > 0 (inf: no clipping), without NaN")
    seeds = check_int("seeds", seeds, minimum=2)
    key_seed = int(as_generator(rng).integers(2**63))

    def objective(lr: np.ndarray, max_grad_norm: np.ndarray) -> dict[str, np.ndarray]:
        n = lr.size
        res = simulate_quadratic(
            h, optimizer=optimizer, lr=np.repeat(lr, seeds), max_grad_norm=np.repeat(max_grad_norm, seeds),
            noise="student_t", dof=dof, noise_std=noise_std, batch_size=batch_size, steps=steps,
            replicas=n * seeds, x0=x0, rng=key_seed, num_threads=num_threads,
        )  # fmt: skip
        fl = res.final_loss.reshape(n, seeds)
        div = res.diverged.reshape(n, seeds)
        score = np.where(div.any(axis=1), np.inf, np.where(div, 0.0, fl).mean(axis=1))
        kept = np.where(div, 0.0, fl)
        scale = np.max(np.abs(kept), axis=1)  # the SD of losses near the float64 range must not overflow
        scale[scale == 0] = 1.0
        sd = (kept / scale[:, None]).std(axis=1, ddof=1) * scale
        sem = np.where(div.any(axis=1), np.nan, sd / np.sqrt(seeds))  # a cell with a diverged seed has no SE
        return {"score": score, "score_sem": sem, "diverged_fraction": div.mean(axis=1),
                "mean_effective_lr": res.mean_effective_lr.reshape(n, seeds).mean(axis=1)}  # fmt: skip

    search = grid_search(objective, {"lr": Grid(lrs), "max_grad_norm": Grid(clips)})
    table = search.scores.reshape(lrs.size, clips.size)
    best_i = np.array([int(np.argmin(np.where(np.isnan(col), np.inf, col))) for col in table.T])
    best_lr = lrs[best_i]
    best_loss = table[best_i, np.arange(clips.size)]
    best_loss_sem = search.extras["score_sem"].reshape(table.shape)[best_i, np.arange(clips.size)]
    # the effective rate over training at each threshold's best rate (its own run, own streams)
    rec = max(1, steps // 50)
    eff = np.empty((clips.size, steps // rec))
    for j, (c, a) in enumerate(zip(clips, best_lr)):
        r = simulate_quadratic(
            h, optimizer=optimizer, lr=a, max_grad_norm=None if np.isinf(c) else c, noise="student_t", dof=dof,
            noise_std=noise_std, batch_size=batch_size, steps=steps, replicas=seeds, x0=x0, rng=key_seed + 2 + j,
            num_threads=num_threads, record_every=rec,
        )  # fmt: skip
        eff[j] = r.effective_lr_mean
    return ClippingStudyResult(search, clips, best_lr, best_loss, best_loss_sem, np.arange(1, eff.shape[1] + 1) * rec, eff)
