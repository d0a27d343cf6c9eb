"""Early-stopping reliability: how often does a stopping rule stop where it should?

Two kinds of rule (SCIENCE.md section 5):

* the **gap-threshold rule** -- stop at the first epoch whose observed validation gap
  ``G~(E) = l~_v(E) - l~_t(E)`` exceeds a threshold ``delta``. With independent Gaussian noise
  its law has a closed form (a first-passage product) computed exactly here; with noise
  correlated across epochs (AR(1)) it is simulated (:func:`stopping_distribution`,
  :func:`threshold_for_reliability`);
* the **patience rule** users actually run -- Keras' ``EarlyStopping`` (``patience``,
  ``min_delta``, ``restore_best_weights``), simulated under noisy validation curves
  (:func:`patience_stopping`; :func:`tunelab.studies.patience_tradeoff` scans its settings),
  and the rule itself for a training loop (:class:`EarlyStopping`), which can say how
  reliable it is on the curve seen so far (:meth:`EarlyStopping.reliability`).

Monte Carlo runs in the compiled core, replicas in parallel, each replica on its own
counter-based stream (stream = global replica index), stopping its draws at its own stop, and
reduced into integer histograms: memory does not depend on ``n_rep``, and results are
bit-identical for any ``num_threads``, chunking or ``executor``.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Union

import numpy as np
from scipy.special import ndtr

from . import _core
from ._chunks import run_chunks
from ._random import RNGLike, as_generator, kernel_key
from ._results import Result, get_axes
from ._threads import resolve_num_threads
from ._validation import as_array, check_bool, check_choice, check_int, check_real

__all__ = [
    "StoppingDistribution",
    "ThresholdChoice",
    "PatienceStopping",
    "stopping_distribution",
    "threshold_for_reliability",
    "patience_stopping",
    "EarlyStopping",
    "StoppingReliability",
]

Curve = Union[np.ndarray, Sequence[float], Callable[[np.ndarray], Any]]

_SEGMENT_LIMIT = 4096  # threshold_for_reliability scans every segment end up to this horizon
_GRAIN = 4096  # replicas; histograms are exact, so the grain only sizes the chunks
_MAX_EPOCHS = 2**31 - 1  # horizons of callables (the curves are held in memory)


# --------------------------------------------------------------------------------------------
# argument handling


def _curve(x: Any, name: str, n_epochs: int | None) -> np.ndarray:
    """An expected curve over epochs ``1..E``: an array, or a callable of the epoch."""
    if callable(x) and not isinstance(x, np.ndarray):
        if n_epochs is None:
            raise ValueError(f"{name} is a callable: pass n_epochs= (or give the other curve as an array)")
        epochs = np.arange(1, n_epochs + 1, dtype=np.float64)
        try:
            values = np.asarray(x(epochs), dtype=np.float64)
        except Exception:  # not vectorised: evaluate epoch by epoch
            values = None
        if values is None or values.shape != epochs.shape:
            values = np.array([_real_value(name, x(int(e))) for e in range(1, n_epochs + 1)])
        return as_array(values, name, ndim=1)
    return as_array(x, name, ndim=1)


def _real_value(name: str, v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        raise TypeError(f"{name} (a callable) must return a real number per epoch; got {type(v).__name__} {v!r:.60}") from None


def _curves(train_loss: Curve, val_loss: Curve, n_epochs: int | None) -> tuple[np.ndarray, np.ndarray]:
    if n_epochs is not None:
        n_epochs = check_int("n_epochs", n_epochs, minimum=1, maximum=_MAX_EPOCHS)
    # An array is converted (and checked) once: the conversion also gives the horizon.
    t = None if callable(train_loss) and not isinstance(train_loss, np.ndarray) else _curve(train_loss, "train_loss", None)
    if n_epochs is None and t is not None:
        n_epochs = t.shape[0]
    v = None if callable(val_loss) and not isinstance(val_loss, np.ndarray) else _curve(val_loss, "val_loss", None)
    if n_epochs is None and v is not None:
        n_epochs = v.shape[0]
    t = _curve(train_loss, "train_loss", n_epochs) if t is None else t
    v = _curve(val_loss, "val_loss", n_epochs) if v is None else v
    if t.shape != v.shape:
        raise ValueError(
            f"train_loss and val_loss must have the same length (one value per epoch); got {t.shape[0]} and {v.shape[0]}"
        )
    return t, v


def _gap(train: np.ndarray, val: np.ndarray) -> np.ndarray:
    """The expected gap ``val - train``, refused where it overflows (both curves are finite)."""
    with np.errstate(over="ignore", invalid="ignore"):  # refused below, with a message that names it
        gap = np.ascontiguousarray(val - train)
    if not np.isfinite(gap).all():
        raise ValueError("val_loss - train_loss overflows: the curves must have a finite difference")
    return gap


def _noise_pair(noise_std: Any) -> tuple[float, float]:
    """``noise_std``: one value (the same for train and validation) or a pair ``(sigma_t, sigma_v)``."""
    if isinstance(noise_std, numbers.Real) and not isinstance(noise_std, bool):
        s = check_real("noise_std", noise_std, minimum=0.0)
        return s, s
    try:
        shape = np.shape(noise_std)
    except ValueError:  # ragged
        shape = None
    if isinstance(noise_std, (tuple, list, np.ndarray)) and shape == (2,):
        st, sv = (check_real("noise_std", float(v) if isinstance(v, np.floating) else v, minimum=0.0) for v in noise_std)
        return st, sv
    raise TypeError(f"noise_std must be a number >= 0 or a pair (sigma_train, sigma_val); got {noise_std!r}")


def _rho(rho: Any) -> float:
    r = check_real("rho", rho)
    if not -1.0 < r < 1.0:
        raise ValueError(f"rho must satisfy |rho| < 1 (a stationary AR(1) correlation); got {r}")
    return r


def _stop_probabilities(gap: np.ndarray, threshold: float, sigma: float) -> np.ndarray:
    """Per-epoch stop probability of the gap rule under independent noise,
    ``q_e = P(G(e) + sigma xi > delta) = Phi((G(e) - delta) / sigma)``; with ``sigma = 0``, 1 where
    the gap exceeds ``delta`` and 0 elsewhere."""
    if sigma > 0:
        return ndtr((gap - threshold) / sigma)
    return (gap > threshold).astype(np.float64)


def _counts(task: Any, n_rep: int, width: int, executor: Any, progress: bool, num_threads: int | None, desc: str) -> np.ndarray:
    total = np.zeros(width, dtype=np.int64)

    def consume(first: int, count: int, partial_counts: np.ndarray) -> None:
        total[:] += partial_counts

    run_chunks(task, n_rep, consume, grain=_GRAIN, executor=executor, progress=progress, desc=desc, num_threads=num_threads)
    return total


# Chunk tasks: module level (picklable for process pools); stream = global replica index.
def _hazard_task(first: int, count: int, num_threads: int, *, q: np.ndarray, key: int) -> np.ndarray:
    return _core.first_passage_counts(q, key, first, count, num_threads)


def _ar1_task(
    first: int, count: int, num_threads: int, *, gap: np.ndarray, threshold: float, sigma: float, rho: float, key: int
) -> np.ndarray:
    return _core.gap_rule_ar1_counts(gap, threshold, sigma, rho, key, first, count, num_threads)


def _patience_task(
    first: int,
    count: int,
    num_threads: int,
    *,
    val: np.ndarray,
    patience: int,
    min_delta: float,
    sigma: float,
    rho: float,
    restore_best: bool,
    key: int,
) -> np.ndarray:
    stop, restored = _core.patience_counts(val, patience, min_delta, sigma, rho, restore_best, key, first, count, num_threads)
    return np.concatenate([stop, restored])


# --------------------------------------------------------------------------------------------
# the gap-threshold rule


@dataclass(frozen=True, repr=False)
class StoppingDistribution(Result):
    """Law of the stop epoch ``E^`` of the gap-threshold rule over epochs ``1..E``.

    Attributes
    ----------
    pmf : ndarray, shape (E,)
        ``pmf[e - 1] = P(E^ = e)``.
    p_never : float
        ``P(no stop within the horizon)``; ``pmf.sum() + p_never == 1``.
    ideal_epoch : int or None
        ``E* = min{E : G(E) > delta}`` for the expected gap; None if it never crosses.
    mean, std : float
        Mean and standard deviation of ``E^`` given that it stops within the horizon (NaN when
        it never does).
    quantiles : ndarray, shape (5,)
        Quantiles of ``E^`` at levels ``quantile_levels`` (0.05, 0.25, 0.5, 0.75, 0.95): the
        smallest ``e`` with ``P(E^ <= e) >= level``; ``inf`` where the level falls in the
        never-stopped mass.
    threshold, gap, noise_std, rho, method, n_rep
        The inputs: threshold ``delta``, expected gap ``G`` (shape (E,)), ``(sigma_t, sigma_v)``,
        the AR(1) correlation, "exact" or "monte_carlo", and the replica count (None if exact).
    """

    pmf: np.ndarray
    p_never: float
    ideal_epoch: int | None
    mean: float
    std: float
    quantiles: np.ndarray
    threshold: float
    gap: np.ndarray
    noise_std: tuple[float, float]
    rho: float
    method: str
    n_rep: int | None

    quantile_levels: ClassVar[tuple[float, ...]] = (0.05, 0.25, 0.5, 0.75, 0.95)

    @property
    def epochs(self) -> np.ndarray:
        """Epoch numbers ``1..E``."""
        return np.arange(1, self.pmf.shape[0] + 1)

    @property
    def gap_noise_std(self) -> float:
        """Standard deviation of the observed gap's noise, ``sqrt(sigma_t^2 + sigma_v^2)``."""
        return math.hypot(*self.noise_std)

    def reliability(self, k: int = 0) -> float:
        """``P(|E^ - E*| <= k)``: the chance of stopping within ``k`` epochs of the ideal one.

        Never stopping within the horizon counts as a miss. If the expected gap never crosses
        the threshold (``ideal_epoch is None``), the right answer is not to stop, and the
        reliability is ``p_never`` (for every ``k``).
        """
        k = check_int("k", k, minimum=0)
        if self.ideal_epoch is None:
            return float(self.p_never)
        lo = max(self.ideal_epoch - k, 1)
        return float(self.pmf[lo - 1 : self.ideal_epoch + k].sum())

    def reliability_se(self, k: int = 0) -> float:
        """Monte Carlo standard error of :meth:`reliability`, ``sqrt(p (1 - p) / n_rep)`` (0 if exact)."""
        p = self.reliability(k)
        return 0.0 if self.n_rep is None else math.sqrt(p * (1.0 - p) / self.n_rep)

    def quantile(self, level: float) -> float:
        """Smallest epoch ``e`` with ``P(E^ <= e) >= level`` (``inf`` if only 'never' reaches it)."""
        level = check_real("level", level, minimum=0.0, maximum=1.0, strict_min=True)
        return _quantile(self.pmf, level)

    def _frame_columns(self) -> dict[str, Any]:
        return {"epoch": self.epochs, "pmf": self.pmf, "gap": self.gap}

    def plot(self, ax: Any = None) -> Any:
        """Bars of the pmf of ``E^``, ``E*`` marked, and (right axis) the expected gap with its
        +-1 noise-sd band and the threshold."""
        ax = get_axes(ax)
        e = self.epochs
        ax.bar(e, self.pmf, width=1.0, color="C0", alpha=0.6, label=f"P(Ê = E) ({self.method})")
        if self.ideal_epoch is not None:
            ax.axvline(self.ideal_epoch, color="k", ls="--", lw=1, label=f"E* = {self.ideal_epoch}")
        ax.set_xlabel("epoch E")
        ax.set_ylabel("probability")
        ax2 = ax.twinx()
        s = self.gap_noise_std
        ax2.plot(e, self.gap, color="C3", lw=1.5, label="expected gap G(E)")
        ax2.fill_between(e, self.gap - s, self.gap + s, color="C3", alpha=0.15, label="G ± σ")
        ax2.axhline(self.threshold, color="C2", lw=1, label=f"δ = {self.threshold:.4g}")
        ax2.set_ylabel("validation gap")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize="small", loc="upper left")
        return ax


_LEVELS = np.array(StoppingDistribution.quantile_levels)


def _quantile(pmf: np.ndarray, level: float) -> float:
    return float(_core.pmf_summary(pmf, np.array([level]), moments=False)[2][0])


def _summary(pmf: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Mean and std of the stop epoch given a stop, and the quantiles at ``quantile_levels``:
    one compiled pass over the pmf's support (``_core.pmf_summary``; the bits of the NumPy
    expressions ``(e * p).sum() / pmf.sum()`` etc. -- see ``early_stop.hpp``, pmf_moments and
    pmf_quantiles). A quantile is the smallest ``e`` with ``sum(pmf[:e]) >= level`` (a relative
    slack of 1e-12 absorbs the rounding of the cumulative sum), ``inf`` past the horizon."""
    return _core.pmf_summary(pmf, _LEVELS)


def stopping_distribution(
    train_loss: Curve,
    val_loss: Curve,
    threshold: float,
    *,
    noise_std: float | tuple[float, float],
    method: str = "exact",
    rho: float = 0.0,
    n_rep: int = 100_000,
    rng: RNGLike = None,
    num_threads: int | None = None,
    executor: Any = None,
    progress: bool = False,
    n_epochs: int | None = None,
) -> StoppingDistribution:
    """Law of the epoch at which the gap-threshold rule stops.

    Observed losses are the expected curves plus noise, ``l~_t(E) = l_t(E) + sigma_t eps^t_E``
    and ``l~_v(E) = l_v(E) + sigma_v eps^v_E``; the rule stops at
    ``E^ = min{E : G~(E) > delta}`` with ``G~ = l~_v - l~_t``. The ideal epoch is
    ``E* = min{E : G(E) > delta}`` for the expected gap ``G = l_v - l_t``.

    Parameters
    ----------
    train_loss, val_loss : array_like of shape (E,) or callable
        Expected training and validation losses at epochs ``1..E``; a callable is evaluated at
        the epochs (vectorised if it can be, else epoch by epoch).
    threshold : float
        The rule's threshold ``delta`` on the observed gap.
    noise_std : float or (float, float)
        ``(sigma_t, sigma_v)``, the noise standard deviations of the observed training and
        validation losses (one number: the same for both). The observed gap's noise then has
        standard deviation ``sigma = sqrt(sigma_t^2 + sigma_v^2)``.
    method : {"exact", "monte_carlo"}
        ``"exact"``: the first-passage law for independent noise,

        ``P(E^ = E) = prod_{e<E} Phi(z_e) * (1 - Phi(z_e))``, ``z_e = (delta - G(e)) / sigma``,

        evaluated in log space (``log P = sum_{e<E} log Phi(z_e) + log Phi(-z_E)``, each term by
        an ``erfc``-based or, for ``z < -30``, asymptotic evaluation), stable for horizons of
        10^5 epochs and noise from 1e-6 to far above the gap's range. ``"monte_carlo"``:
        ``n_rep`` simulated runs.
    rho : float
        Epoch-to-epoch correlation of the noise, ``|rho| < 1`` (Monte Carlo only; the exact
        law needs ``rho = 0``). Each of the two noises is a stationary AR(1) sequence,
        ``eps_1 = xi_1``, ``eps_E = rho eps_{E-1} + sqrt(1 - rho^2) xi_E`` with ``xi`` iid
        N(0, 1), so every epoch's marginal variance stays ``sigma_t^2`` (``sigma_v^2``); train
        and validation noise are independent of each other. Their difference is then itself a
        stationary AR(1) sequence with the same ``rho`` and variance ``sigma^2``, which is what
        the kernel simulates (one normal per epoch).
    n_rep : int
        Monte Carlo replicas (ignored by ``"exact"``).
    rng : None, int, SeedSequence or Generator
        Seed (SPEC 7); one kernel key is drawn from it.
    num_threads : int, optional
        OpenMP threads (default: all for Monte Carlo, one for the exact law, whose per-epoch
        terms are split over threads only for horizons over 16384 epochs and only when asked).
        Results do not depend on it.
    executor : Executor or map-like callable, optional
        Run the Monte Carlo chunks there (see ``tunelab._chunks``); results are identical.
    progress : bool
        Show a progress bar (tqdm).
    n_epochs : int, optional
        Horizon ``E``; needed only when both curves are callables.

    Returns
    -------
    StoppingDistribution

    Notes
    -----
    With independent noise the Monte Carlo kernel draws the event ``{G~(e) > delta}``, whose
    probability is ``q_e = Phi(-z_e)``, as ``{U_e < q_e}`` with one uniform per epoch (inverse-CDF
    sampling: the same law as drawing the noise, at a fraction of the cost); with ``rho != 0`` it
    simulates the AR(1) noise from normals. Each replica stops drawing at its own stop. The
    stop epochs are reduced into an integer histogram, so memory does not grow with ``n_rep``.

    The exact law is the first-passage (hitting-time) distribution of a sequence of independent
    trials with varying success probabilities; see Prechelt, "Early stopping -- but when?", in
    *Neural Networks: Tricks of the Trade* (1998) for the stopping criteria it models.

    Examples
    --------
    >>> import numpy as np, tunelab
    >>> e = np.arange(1, 101)
    >>> d = tunelab.stopping_distribution(1 / e, 1 / e + 1e-4 * e**1.5, 0.05, noise_std=0.003)
    >>> d.ideal_epoch, round(d.reliability(5), 3)
    (63, 0.897)
    """
    train, val = _curves(train_loss, val_loss, n_epochs)
    threshold = check_real("threshold", threshold)
    st, sv = _noise_pair(noise_std)
    method = check_choice("method", method, ("exact", "monte_carlo"))
    rho = _rho(rho)
    n_rep = check_int("n_rep", n_rep, minimum=1)
    if method == "exact" and rho != 0.0:
        raise ValueError(
            f"rho={rho} has no closed form: method='exact' needs independent noise (rho=0); "
            "use method='monte_carlo' for correlated noise"
        )
    gap = _gap(train, val)
    sigma = math.hypot(st, sv)
    E = gap.shape[0]
    if method == "exact":
        # One thread unless asked: a curve takes ~1 ms, and on a busy machine a parallel
        # region's barrier can cost more than that. One compiled call gives the law, its
        # summary and E* (the NumPy steps around the kernel cost as much as the kernel).
        threads = resolve_num_threads(num_threads, default=1)
        pmf, p_never, mean, std, quant, ideal = _core.exact_law(gap, threshold, sigma, _LEVELS, threads)
        reps = None
    else:
        key = kernel_key(rng)
        if rho == 0.0:
            q = np.ascontiguousarray(_stop_probabilities(gap, threshold, sigma))
            task = partial(_hazard_task, q=q, key=key)
        else:
            task = partial(_ar1_task, gap=gap, threshold=threshold, sigma=sigma, rho=rho, key=key)
        counts = _counts(task, n_rep, E + 1, executor, progress, num_threads, "stopping_distribution")
        pmf, p_never, reps = counts[:E] / n_rep, float(counts[E] / n_rep), n_rep
        mean, std, quant = _summary(pmf)
        ideal = _core.ideal_epoch(gap, threshold)
    return StoppingDistribution(
        pmf=pmf,
        p_never=float(p_never),
        ideal_epoch=ideal,
        mean=mean,
        std=std,
        quantiles=quant,
        threshold=threshold,
        gap=gap,
        noise_std=(st, sv),
        rho=rho,
        method=method,
        n_rep=reps,
    )


# --------------------------------------------------------------------------------------------
# choosing the threshold


@dataclass(frozen=True, repr=False)
class ThresholdChoice(Result):
    """The threshold ``delta`` reaching a target reliability (see :func:`threshold_for_reliability`).

    Attributes
    ----------
    threshold : float or None
        The smallest ``delta`` found with ``P(|E^ - E*| <= k) >= target``; None if none does.
    reached : bool
        Whether some threshold reaches the target.
    reliability : float
        The reliability at ``threshold`` (at ``best_threshold`` when not reached).
    ideal_epoch : int or None
        ``E*`` at ``threshold`` (at ``best_threshold`` when not reached).
    best_threshold, best_reliability : float
        The scanned threshold of highest reliability and that reliability.
    message : str
        A sentence saying what was found (or why nothing was).
    thresholds, reliabilities : ndarray
        The scanned grid and the reliability at each point.
    k, target : int, float
        The inputs.
    """

    threshold: float | None
    reached: bool
    reliability: float
    ideal_epoch: int | None
    best_threshold: float
    best_reliability: float
    message: str
    thresholds: np.ndarray
    reliabilities: np.ndarray
    k: int
    target: float

    def plot(self, ax: Any = None) -> Any:
        """Reliability against the threshold, the target and the chosen threshold marked."""
        ax = get_axes(ax)
        ax.plot(self.thresholds, self.reliabilities, color="C0", lw=1.5, label=f"P(|Ê − E*| ≤ {self.k})")
        ax.axhline(self.target, color="C2", ls=":", lw=1, label=f"target {self.target:g}")
        if self.threshold is not None:
            ax.axvline(self.threshold, color="k", ls="--", lw=1, label=f"δ = {self.threshold:.4g}")
        ax.set_xlabel("threshold δ")
        ax.set_ylabel("reliability")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize="small")
        return ax


def _reliability_exact(gap: np.ndarray, delta: float, sigma: float, k: int, threads: int) -> tuple[float, int | None]:
    pmf, p_never = _core.exact_first_passage(gap, delta, sigma, threads)
    e_star = _core.ideal_epoch(gap, delta)
    if e_star is None:
        return float(p_never), None
    return float(pmf[max(e_star - k, 1) - 1 : e_star + k].sum()), e_star


def threshold_for_reliability(
    train_loss: Curve,
    val_loss: Curve,
    *,
    noise_std: float | tuple[float, float],
    k: int,
    target: float,
    bounds: tuple[float, float] | None = None,
    grid: int = 256,
    num_threads: int | None = None,
    n_epochs: int | None = None,
) -> ThresholdChoice:
    """The smallest threshold ``delta`` whose gap rule is reliable to a target.

    Reliability is ``R(delta) = P(|E^ - E*(delta)| <= k)`` under the exact law of
    :func:`stopping_distribution` (independent noise). ``E*(delta)`` is constant between
    consecutive values of the expected gap, so ``R`` is a sawtooth in ``delta``: within each
    such segment it typically rises, and peaks as ``delta`` approaches the next gap value from
    below (then ``E*`` jumps and ``R`` drops). ``R`` is scanned on ``grid`` evenly spaced
    thresholds in ``bounds`` plus (for horizons up to 4096 epochs) the right end of every
    segment, then the first crossing of ``target`` is refined by bisection to relative
    precision 1e-12. Smaller ``delta`` stops earlier (less overfitting), so the smallest
    reliable one is returned.

    The default ``bounds`` are ``[max(G(1), ..., G(k+1)), max G)``: the thresholds whose ideal
    epoch satisfies ``k + 1 < E* <= E``. Below them ``E* <= k + 1``, and a rule that stops at
    once -- which any noise makes it do -- would count as reliable; above them the expected gap
    never crosses.

    Parameters
    ----------
    train_loss, val_loss, noise_std, n_epochs
        As in :func:`stopping_distribution`.
    k : int
        Tolerance in epochs (``>= 0``).
    target : float
        Wanted reliability, in ``(0, 1]``.
    bounds : (float, float), optional
        Threshold interval to search.
    grid : int
        Evenly spaced scan points (``>= 2``). For horizons over 4096 epochs only these are
        scanned, and a window of reliable thresholds narrower than the grid step can be missed.
    num_threads : int, optional
        Threads of the exact kernel (default: one; see :func:`stopping_distribution`).

    Returns
    -------
    ThresholdChoice
        ``reached`` False, ``threshold`` None and a ``message`` explaining the best reliability
        found when no threshold reaches the target.
    """
    train, val = _curves(train_loss, val_loss, n_epochs)
    st, sv = _noise_pair(noise_std)
    k = check_int("k", k, minimum=0)
    target = check_real("target", target, minimum=0.0, maximum=1.0, strict_min=True)
    grid = check_int("grid", grid, minimum=2)
    threads = resolve_num_threads(num_threads, default=1)
    gap = _gap(train, val)
    sigma = math.hypot(st, sv)
    if bounds is None:
        lo, hi = float(gap[: k + 1].max()), float(gap.max())
    else:
        if (
            not isinstance(bounds, (tuple, list, np.ndarray))
            or (isinstance(bounds, np.ndarray) and bounds.ndim != 1)
            or len(bounds) != 2
        ):
            raise ValueError(f"bounds must be a pair (low, high); got {bounds!r}")
        lo, hi = check_real("bounds", bounds[0]), check_real("bounds", bounds[1])
        if not lo < hi:
            raise ValueError(f"bounds must satisfy low < high; got {bounds!r}")
    if not lo < hi:
        return ThresholdChoice(
            threshold=None, reached=False, reliability=math.nan, ideal_epoch=None, best_threshold=math.nan,
            best_reliability=math.nan,
            message=f"the expected gap never rises above its maximum over epochs 1..{k + 1}, so no threshold has "
            f"an ideal stopping epoch E* > k + 1 = {k + 1} to be reliable about; pass bounds= to search elsewhere",
            thresholds=np.empty(0), reliabilities=np.empty(0), k=k, target=target,
        )  # fmt: skip
    deltas = lo + (hi - lo) * np.arange(grid) / grid
    if gap.shape[0] <= _SEGMENT_LIMIT:
        # E*(delta) is constant between consecutive gap values, and within such a segment the
        # reliability peaks at its right end (delta just below G(E*)): scan those ends too.
        ends = np.nextafter(gap[(gap > lo) & (gap <= hi)], -np.inf)
        deltas = np.unique(np.concatenate([deltas, ends[ends >= lo]]))
    rel = np.array([_reliability_exact(gap, float(d), sigma, k, threads)[0] for d in deltas])
    best = int(np.argmax(rel))
    ok = np.flatnonzero(rel >= target)
    if ok.size == 0:
        r_best, e_best = _reliability_exact(gap, float(deltas[best]), sigma, k, threads)
        return ThresholdChoice(
            threshold=None, reached=False, reliability=r_best, ideal_epoch=e_best,
            best_threshold=float(deltas[best]), best_reliability=float(rel[best]),
            message=f"no threshold in [{lo:.6g}, {hi:.6g}) reaches reliability {target:g} at k={k}: the best found "
            f"is {rel[best]:.4g} at delta={deltas[best]:.6g} (noise sd {sigma:.3g} of the observed gap); "
            "raise k, lower the target, or reduce the noise (e.g. a larger validation set)",
            thresholds=deltas, reliabilities=rel, k=k, target=target,
        )  # fmt: skip
    i = int(ok[0])
    good = float(deltas[i])
    if i > 0:  # bisection between a failing and a passing grid point
        bad = float(deltas[i - 1])
        scale = max(abs(lo), abs(hi), 1e-300)
        for _ in range(200):
            if good - bad <= 1e-12 * scale:
                break
            mid = 0.5 * (bad + good)
            if _reliability_exact(gap, mid, sigma, k, threads)[0] >= target:
                good = mid
            else:
                bad = mid
    r, e_star = _reliability_exact(gap, good, sigma, k, threads)
    return ThresholdChoice(
        threshold=good, reached=True, reliability=r, ideal_epoch=e_star, best_threshold=float(deltas[best]),
        best_reliability=float(rel[best]),
        message=f"delta={good:.6g} gives P(|E^ - E*| <= {k}) = {r:.4g} >= {target:g} (E* = {e_star})",
        thresholds=deltas, reliabilities=rel, k=k, target=target,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# patience (Keras EarlyStopping)


@dataclass(frozen=True, repr=False)
class PatienceStopping(Result):
    """What Keras-style patience stopping does under noisy validation (see :func:`patience_stopping`).

    Attributes
    ----------
    stop_pmf : ndarray, shape (E,)
        ``P(training stops at epoch e)``.
    p_not_stopped : float
        ``P(the rule never fires within the horizon)`` (training runs all ``E`` epochs).
    restored_pmf : ndarray, shape (E,)
        Law of the epoch whose weights are kept at the end.
    expected_epochs, expected_epochs_se : float
        Mean number of epochs trained (``E`` when the rule never fires) and its standard error.
    regret, regret_se : float
        ``E[l_v(restored)] - min_e l_v(e)`` for the expected (noise-free) curve (for
        ``mode="max"``: ``max_e l_v(e) - E[l_v(restored)]``), and its standard error.
    best_epoch : int
        The epoch of the best expected value (``min`` or ``max`` of the true curve).
    val_loss : ndarray, shape (E,)
        The expected monitored curve.
    patience, min_delta, mode, noise_std, rho, restore_best, n_rep
        The inputs.
    """

    stop_pmf: np.ndarray
    p_not_stopped: float
    restored_pmf: np.ndarray
    expected_epochs: float
    expected_epochs_se: float
    regret: float
    regret_se: float
    best_epoch: int
    val_loss: np.ndarray
    patience: int
    min_delta: float
    mode: str
    noise_std: float
    rho: float
    restore_best: bool
    n_rep: int

    @property
    def epochs(self) -> np.ndarray:
        """Epoch numbers ``1..E``."""
        return np.arange(1, self.stop_pmf.shape[0] + 1)

    def _frame_columns(self) -> dict[str, Any]:
        return {"epoch": self.epochs, "val_loss": self.val_loss, "stop_pmf": self.stop_pmf, "restored_pmf": self.restored_pmf}

    def plot(self, ax: Any = None) -> Any:
        """Laws of the stop and restored epochs; the expected curve on the right axis."""
        ax = get_axes(ax)
        e = self.epochs
        ax.step(e, self.stop_pmf, where="mid", color="C0", label="stop epoch")
        ax.step(e, self.restored_pmf, where="mid", color="C1", label="restored epoch")
        ax.axvline(self.best_epoch, color="k", ls="--", lw=1, label=f"best epoch {self.best_epoch}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("probability")
        ax2 = ax.twinx()
        ax2.plot(e, self.val_loss, color="C3", lw=1.2, label="expected val_loss")
        ax2.set_ylabel("monitored value")
        _joint_legend(ax, ax2)
        ax.set_title(f"patience={self.patience}, min_delta={self.min_delta:g}: regret {self.regret:.3g} ± {self.regret_se:.2g}")
        return ax


def _joint_legend(ax: Any, twin: Any) -> None:
    """One legend on ``ax`` for the lines of ``ax`` and its twin axes."""
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize="small")


def _mean_se(values: np.ndarray, counts: np.ndarray, n: int) -> tuple[float, float]:
    # in units of the largest |value|, so that curves near the float64 range do not overflow
    scale = float(np.max(np.abs(values))) or 1.0
    v = values / scale
    mean = float((v * counts).sum() / n)
    if n < 2:
        return mean * scale, math.nan
    var = float((counts * (v - mean) ** 2).sum() / (n - 1))
    return mean * scale, math.sqrt(var / n) * scale


def _patience_checks(
    val_loss: Curve, mode: str, noise_std: Any, rho: Any, n_rep: Any, n_epochs: int | None
) -> tuple[np.ndarray, np.ndarray, str, float, float, int]:
    if n_epochs is not None:
        n_epochs = check_int("n_epochs", n_epochs, minimum=1, maximum=_MAX_EPOCHS)
    val = _curve(val_loss, "val_loss", n_epochs)
    mode = check_choice("mode", mode, ("min", "max"))
    sigma = check_real("noise_std", noise_std, minimum=0.0)
    rho = _rho(rho)
    n_rep = check_int("n_rep", n_rep, minimum=1)
    oriented = np.ascontiguousarray(val if mode == "min" else -val)  # the kernel minimises
    return val, oriented, mode, sigma, rho, n_rep


def _patience_run(
    val: np.ndarray, oriented: np.ndarray, *, patience: int, min_delta: float, mode: str, sigma: float, rho: float,
    restore_best: bool, n_rep: int, key: int, num_threads: int | None, executor: Any, progress: bool,
) -> PatienceStopping:  # fmt: skip
    E = val.shape[0]
    task = partial(
        _patience_task, val=oriented, patience=patience, min_delta=min_delta, sigma=sigma, rho=rho,
        restore_best=restore_best, key=key,
    )  # fmt: skip
    counts = _counts(task, n_rep, 2 * E + 1, executor, progress, num_threads, "patience_stopping")
    stop, restored = counts[: E + 1], counts[E + 1 :]
    epochs_run = np.append(np.arange(1, E + 1, dtype=np.float64), float(E))
    exp_epochs, exp_epochs_se = _mean_se(epochs_run, stop, n_rep)
    regret, regret_se = _mean_se(oriented - oriented.min(), restored, n_rep)
    return PatienceStopping(
        stop_pmf=stop[:E] / n_rep, p_not_stopped=float(stop[E] / n_rep), restored_pmf=restored / n_rep,
        expected_epochs=exp_epochs, expected_epochs_se=exp_epochs_se, regret=regret, regret_se=regret_se,
        best_epoch=int(np.argmin(oriented)) + 1, val_loss=val, patience=patience, min_delta=min_delta, mode=mode,
        noise_std=sigma, rho=rho, restore_best=restore_best, n_rep=n_rep,
    )  # fmt: skip


def patience_stopping(
    val_loss: Curve,
    *,
    patience: int,
    min_delta: float = 0.0,
    mode: str = "min",
    noise_std: float,
    rho: float = 0.0,
    restore_best: bool = True,
    n_rep: int = 100_000,
    rng: RNGLike = None,
    num_threads: int | None = None,
    executor: Any = None,
    progress: bool = False,
    n_epochs: int | None = None,
) -> PatienceStopping:
    """Simulate Keras' ``EarlyStopping`` on a noisy validation curve: when does it stop, which
    epoch does it keep, and how much does that cost?

    The monitored value at epoch ``e`` is observed as ``v~_e = v(e) + sigma eps_e`` (``eps`` a
    stationary AR(1) sequence with correlation ``rho``, as in :func:`stopping_distribution`).
    The rule follows ``keras.callbacks.EarlyStopping`` (Keras 3,
    ``keras/src/callbacks/early_stopping.py``; ``baseline=None``, ``start_from_epoch=0``) line by
    line, for ``mode="min"`` (for ``"max"`` read ``>`` and ``+ min_delta`` accordingly):

    1. ``best = +inf``, ``wait = 0`` before training.
    2. At the end of every epoch ``e``: ``wait += 1``.
    3. Improvement means ``v~_e + |min_delta| < best`` (Keras: ``monitor_op(current - min_delta,
       best)`` with ``min_delta`` negated in mode "min"). On improvement: ``best = v~_e``,
       ``best_epoch = e``, ``wait = 0``, and nothing else happens this epoch. (So with
       ``min_delta > 0`` the best epoch is the last *sufficient* improvement, not the argmin
       of the observed values.)
    4. Otherwise, if ``wait >= patience``, training stops after epoch ``e``: the stop epoch is
       ``best_epoch + max(patience, 1)``. (Keras also requires ``epoch > 0``; the first epoch
       always improves on ``+inf``, so this never matters.) Since ``wait`` is incremented
       before it is compared, ``patience=0`` -- Keras' default -- stops at the first epoch that
       does not improve, exactly as ``patience=1`` does.
    5. At the end of training -- stopped or not -- with ``restore_best_weights=True`` the
       weights of ``best_epoch`` are restored (Keras 3 restores in ``on_train_end``, also
       when the horizon ends without a stop). Without it the last epoch run is kept (the stop
       epoch, or ``E``). Note: tf.keras 2.x restored only when the rule fired; to model it, use
       ``restore_best=False`` for the runs that never stop (``p_not_stopped``).

    Parameters
    ----------
    val_loss : array_like of shape (E,) or callable
        Expected (noise-free) monitored value at epochs ``1..E``.
    patience : int
        Epochs without improvement before stopping (``>= 0``; ``0``, Keras' default, acts as
        ``1``: see step 4).
    min_delta : float
        Minimum improvement (``>= 0``; Keras takes ``abs(min_delta)``, here a negative value is
        refused).
    mode : {"min", "max"}
        Minimise (losses) or maximise (accuracies).
    noise_std : float
        Standard deviation ``sigma >= 0`` of the observed value's noise.
    rho : float
        AR(1) correlation of the noise across epochs, ``|rho| < 1``.
    restore_best : bool
        Keras' ``restore_best_weights``.
    n_rep, rng, num_threads, executor, progress, n_epochs
        As in :func:`stopping_distribution`.

    Returns
    -------
    PatienceStopping
        Laws of the stop and restored epochs, expected epochs trained, and the **regret**
        ``E[v(restored)] - min_e v(e)`` (true curve, best over the whole horizon), with Monte
        Carlo standard errors ``sd / sqrt(n_rep)``.

    Notes
    -----
    Keras documents the callback at https://keras.io/api/callbacks/early_stopping/; Prechelt
    (1998), "Early stopping -- but when?", studies such criteria empirically.
    """
    val, oriented, mode, sigma, rho, n_rep = _patience_checks(val_loss, mode, noise_std, rho, n_rep, n_epochs)
    patience = check_int("patience", patience, minimum=0)
    min_delta = check_real("min_delta", min_delta, minimum=0.0)
    check_bool("restore_best", restore_best)
    return _patience_run(
        val, oriented, patience=patience, min_delta=min_delta, mode=mode, sigma=sigma, rho=rho,
        restore_best=restore_best, n_rep=n_rep, key=kernel_key(rng), num_threads=num_threads, executor=executor,
        progress=progress,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# the rule for a training loop, and its reliability on the curve seen so far


@dataclass(frozen=True, repr=False)
class StoppingReliability(Result):
    """How reliable an :class:`EarlyStopping` rule is on the curve seen so far (see
    :meth:`EarlyStopping.reliability`).

    Attributes
    ----------
    observed : ndarray, shape (n,)
        The monitored values (from ``start_from_epoch`` on).
    smoothed : ndarray, shape (n,)
        The smoothed curve (Savitzky-Golay, local quadratics over ``window`` epochs).
    stop_pmf : ndarray, shape (n,)
        ``P(the rule stops at each of these epochs)`` on noisy copies of ``smoothed``.
    noise_std, noise_std_se : float
        The noise estimate (from the second differences of ``observed``) and its bootstrap
        standard error (NaN when ``n_boot < 2``).
    p_not_stopped : float
        ``P(the rule does not stop within these n epochs)``.
    expected_epochs, expected_epochs_se : float
        Mean number of monitored epochs run (``n`` when it does not stop) and its standard error.
    regret, regret_se : float
        Expected ``smoothed(restored) - min smoothed`` (``max - ...`` for ``mode="max"``) and its
        standard error (Monte Carlo and bootstrap together).
    first_epoch : int
        The epoch index of ``observed[0]`` (``start_from_epoch``).
    window, n_boot, n_rep : int
        The settings used.
    """

    observed: np.ndarray
    smoothed: np.ndarray
    stop_pmf: np.ndarray
    noise_std: float
    noise_std_se: float
    p_not_stopped: float
    expected_epochs: float
    expected_epochs_se: float
    regret: float
    regret_se: float
    first_epoch: int
    window: int
    n_boot: int
    n_rep: int

    @property
    def epochs(self) -> np.ndarray:
        """Epoch indices of ``observed`` (counted from 0, as :class:`EarlyStopping` counts them)."""
        return self.first_epoch + np.arange(self.observed.shape[0])

    def plot(self, ax: Any = None) -> Any:
        """Observed values, the smoothed curve with a ±noise band; the stop-epoch law on the right axis."""
        ax = get_axes(ax)
        e = self.epochs
        ax.plot(e, self.observed, "o", ms=3, color="C0", label="observed")
        ax.plot(e, self.smoothed, color="C0", label="smoothed")
        ax.fill_between(e, self.smoothed - self.noise_std, self.smoothed + self.noise_std, color="C0", alpha=0.2,
                        label=f"± noise {self.noise_std:.3g}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("monitored value")
        ax2 = ax.twinx()
        ax2.step(e, self.stop_pmf, where="mid", color="C3", label="stop epoch law")
        ax2.set_ylabel("probability")
        _joint_legend(ax, ax2)
        ax.set_title(f"regret {self.regret:.3g} ± {self.regret_se:.2g}")
        return ax


def _noise_estimate(y: np.ndarray) -> float:
    """``sigma`` from the second differences: for a smooth curve plus independent noise,
    ``y[i+1] - 2 y[i] + y[i-1]`` is the noise's ``e[i+1] - 2 e[i] + e[i-1]`` (variance ``6 sigma^2``)
    plus a small curvature term; ``1.4826 MAD / sqrt(6)`` estimates ``sigma`` robustly (the MAD
    about the median also absorbs a constant curvature)."""
    d = np.diff(y, 2)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(6.0))


def _smooth(y: np.ndarray, window: int) -> np.ndarray:
    from scipy.signal import savgol_filter

    return np.asarray(savgol_filter(y, window, 2, mode="interp"), dtype=np.float64)


class EarlyStopping:
    """Keras' ``EarlyStopping`` rule for a training loop: call :meth:`update` once per epoch with
    the monitored value; it returns True when training should stop.

    The rule is ``keras.callbacks.EarlyStopping`` (Keras 3, ``keras/src/callbacks/early_stopping.py``)
    line by line, for ``mode="min"`` (for ``"max"`` read ``>`` and ``- min_delta``). Epochs are
    counted from 0 (the number of earlier :meth:`update` calls), as Keras' ``epoch``:

    0. Before training: ``best = +inf``, ``wait = 0``, no best epoch.
    1. At epoch ``e < start_from_epoch`` (warm-up) nothing happens: the value is recorded in
       ``history`` only.
    2. At the first monitored epoch, with ``restore_best``, its ``state`` is kept and it is the
       best epoch whatever its value (Keras: "if best weights were never set, the current
       weights are the best").
    3. ``wait += 1``.
    4. Improvement means ``value + min_delta < best`` (Keras: ``monitor_op(current - min_delta,
       best)`` with ``min_delta`` negated in mode "min"; NaN never improves). On improvement:
       ``best = value``, ``best_epoch = e``, ``state`` is kept (with ``restore_best``); ``wait``
       goes back to 0 only if the value also improves on ``baseline`` (when given); and the
       epoch ends there (no stop on an improving epoch, even one that misses the baseline).
    5. Otherwise, if ``wait >= patience`` and ``e > 0``, stop: ``update`` returns True and
       ``stopped_epoch = e``. Since ``wait`` is incremented before the comparison,
       ``patience=0`` (Keras' default) stops at the first epoch that does not improve, exactly
       as ``patience=1``.

    Keras' ``restore_best_weights=True`` then loads the best weights at the end of training
    (stopped or not): here ``best_state`` holds a deep copy of the ``state`` passed with the best
    epoch, for the loop to load. A call after a stop applies the rule again (Keras' callback
    would too); ``stopped_epoch`` is the last epoch at which it said stop.

    Differences from Keras: ``mode`` has no ``"auto"`` (there is no metric name to infer it
    from); a negative ``min_delta`` is refused (Keras takes its absolute value); the epoch
    attributes are None until set (Keras: 0).

    Parameters
    ----------
    patience : int
        Epochs without improvement before stopping (``>= 0``).
    min_delta : float
        Minimum change that counts as an improvement (``>= 0``).
    mode : {"min", "max"}
        Minimise (losses) or maximise (accuracies).
    baseline : float, optional
        A value the monitored quantity must beat (``wait`` resets only on epochs that improve
        on both the best so far and the baseline).
    start_from_epoch : int
        Warm-up epochs that are not monitored (``>= 0``).
    restore_best : bool
        Keep a deep copy of the best epoch's ``state`` (Keras' ``restore_best_weights``).

    Attributes
    ----------
    history : list of float
        Every value passed to :meth:`update`, warm-up included.
    best_value : float
        The best monitored value (``+inf`` for ``"min"``, ``-inf`` for ``"max"`` before any).
    best_epoch : int or None
        The epoch of ``best_value`` (or of the first monitored epoch, see step 2).
    best_state : object
        Deep copy of the ``state`` passed with ``best_epoch`` (None without ``restore_best``).
    stopped_epoch : int or None
        The epoch at which :meth:`update` returned True.
    wait : int
        Keras' counter of epochs since the last improvement that reset it.
    """

    def __init__(
        self,
        patience: int = 0,
        min_delta: float = 0.0,
        mode: str = "min",
        baseline: float | None = None,
        start_from_epoch: int = 0,
        restore_best: bool = True,
    ) -> None:
        self.patience = check_int("patience", patience, minimum=0)
        self.min_delta = check_real("min_delta", min_delta, minimum=0.0)
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.baseline = None if baseline is None else check_real("baseline", baseline)
        self.start_from_epoch = check_int("start_from_epoch", start_from_epoch, minimum=0)
        check_bool("restore_best", restore_best)
        self.restore_best = restore_best
        self.history: list[float] = []
        self.wait = 0
        self.best_value = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.best_state: Any = None
        self.stopped_epoch: int | None = None

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta:g}, mode={self.mode!r}, "
                f"baseline={self.baseline!r}, start_from_epoch={self.start_from_epoch}, restore_best={self.restore_best}; "
                f"epochs seen={len(self.history)}, best_epoch={self.best_epoch}, stopped_epoch={self.stopped_epoch})")

    def _improves(self, value: float, reference: float) -> bool:
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def update(self, value: float, state: Any = None) -> bool:
        """Record this epoch's monitored ``value`` (a real number; NaN counts as no improvement)
        and, with ``restore_best``, a deep copy of ``state`` if it is the best epoch. Returns True
        when training should stop now (steps 1-5 of the class docstring)."""
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"value must be a real number; got {type(value).__name__}")
        value = float(value)
        epoch = len(self.history)
        self.history.append(value)
        if epoch < self.start_from_epoch:  # 1
            return False
        if self.restore_best and self.best_epoch is None:  # 2
            self.best_state, self.best_epoch = copy.deepcopy(state), epoch
        self.wait += 1  # 3
        if self._improves(value, self.best_value):  # 4
            self.best_value, self.best_epoch = value, epoch
            if self.restore_best:
                self.best_state = copy.deepcopy(state)
            if self.baseline is None or self._improves(value, self.baseline):
                self.wait = 0
            return False
        if self.wait >= self.patience and epoch > 0:  # 5
            self.stopped_epoch = epoch
            return True
        return False

    def reliability(
        self,
        *,
        window: int | None = None,
        n_boot: int = 50,
        n_rep: int = 10_000,
        rng: RNGLike = None,
        num_threads: int | None = None,
    ) -> StoppingReliability:
        """How reliable this very rule is on a curve like the one seen so far.

        From the ``n`` monitored values (``history[start_from_epoch:]``, at least 5, all finite):

        1. **Curve**: a Savitzky-Golay smoothing, local quadratic fits over a centred window of
           ``window`` epochs (odd, ``5 <= window <= n``; default the odd number nearest ``n/4``,
           at least 5), the fits over the first and last ``window`` values at the two ends
           (``scipy.signal.savgol_filter``, ``mode="interp"``).
        2. **Noise**: ``sigma = 1.4826 MAD(d) / sqrt(6)`` from the second differences
           ``d_i = y_{i+1} - 2 y_i + y_{i-1}`` (independent noise of sd ``sigma`` gives them
           variance ``6 sigma^2``; the smooth curve contributes its small curvature, which the
           MAD about the median largely absorbs). Noise correlated across epochs is not modelled.
        3. :func:`patience_stopping` on that curve and ``sigma`` with this rule's ``patience``,
           ``min_delta``, ``mode`` and ``restore_best`` (``n_rep`` noisy copies): the law of the
           stop epoch, the expected epochs run and the expected **regret** of the restored (or
           last) epoch against the best of the smoothed curve.
        4. **Uncertainty**: a parametric bootstrap, ``n_boot`` new histories ``smoothed + sigma
           eps``, each smoothed, its ``sigma`` estimated and step 3 rerun; the standard errors
           combine the Monte Carlo error of step 3 and the spread of the bootstrap answers
           (the error of estimating the curve and ``sigma`` from one noisy history).

        Needs ``baseline=None`` (:func:`patience_stopping` models no baseline). The warm-up is
        left out: the rule does not see it, and the regret is against the monitored epochs.
        """
        if self.baseline is not None:
            raise ValueError("reliability() needs baseline=None: patience_stopping simulates the rule without a baseline")
        y = np.asarray(self.history[self.start_from_epoch :], dtype=np.float64)
        n = y.shape[0]
        if n < 5:
            raise ValueError(f"reliability() needs at least 5 monitored epochs; {n} seen so far")
        if not np.isfinite(y).all():
            raise ValueError("reliability() needs finite monitored values; the history holds NaN or inf")
        if window is None:
            window = min(n if n % 2 else n - 1, max(5, 2 * int(round((n / 4 - 1) / 2)) + 1))
        window = check_int("window", window, minimum=5, maximum=n)
        if window % 2 == 0:
            raise ValueError(f"window must be odd; got {window}")
        n_boot = check_int("n_boot", n_boot, minimum=0)
        n_rep = check_int("n_rep", n_rep, minimum=1)
        gen = as_generator(rng)
        rule = partial(patience_stopping, patience=self.patience, min_delta=self.min_delta, mode=self.mode,
                       restore_best=self.restore_best, n_rep=n_rep, num_threads=num_threads)
        smoothed, sigma = _smooth(y, window), _noise_estimate(y)
        main = rule(smoothed, noise_std=sigma, rng=gen)
        boot = np.empty((n_boot, 3))
        for b in range(n_boot):
            yb = smoothed + sigma * gen.standard_normal(n)
            sb = _noise_estimate(yb)
            rb = rule(_smooth(yb, window), noise_std=sb, rng=gen)
            boot[b] = rb.regret, rb.expected_epochs, sb
        spread = boot.std(axis=0, ddof=1) if n_boot >= 2 else np.full(3, math.nan)
        with np.errstate(invalid="ignore"):
            regret_se = math.hypot(main.regret_se, spread[0]) if n_boot >= 2 else main.regret_se
            epochs_se = math.hypot(main.expected_epochs_se, spread[1]) if n_boot >= 2 else main.expected_epochs_se
        return StoppingReliability(
            observed=y, smoothed=smoothed, stop_pmf=main.stop_pmf, noise_std=sigma, noise_std_se=float(spread[2]),
            p_not_stopped=main.p_not_stopped, expected_epochs=main.expected_epochs, expected_epochs_se=epochs_se,
            regret=main.regret, regret_se=regret_se, first_epoch=self.start_from_epoch, window=window, n_boot=n_boot,
            n_rep=n_rep,
        )  # fmt: skip
