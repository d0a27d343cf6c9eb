"""The learning-rate range test (SCIENCE.md §2): probing curvature with one step per rate, and
the progressive LR finder of fastai / torch-lr-finder.

From the same start ``x₀``, one gradient step at rate ``α`` gives the loss ``L(x₀ − α∇L(x₀))``.
On a quadratic started along the top eigenvector the ratio to ``L(x₀)`` is ``(1 − αλ_max)²``,
which first exceeds 1 at ``α* = 2/λ_max``: the test measures the curvature,
``λ̂_max = 2/α*``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from ._results import Result, get_axes
from ._threads import resolve_num_threads
from ._validation import as_array, check_callable, check_choice, check_int, check_real
from .curvature import SYM_TOL

__all__ = ["LRRangeResult", "LRFinderResult", "lr_range_test", "lr_range_test_quadratic", "lr_finder"]


@dataclass(frozen=True, repr=False)
class LRRangeResult(Result):
    """A one-step learning-rate range test.

    Attributes
    ----------
    lrs : ndarray (L,)
        The rates, increasing.
    losses : ndarray (L,)
        ``L(x₀ − α∇L(x₀))`` for each rate (``inf``/``nan`` where the step overflowed).
    loss0 : float
        ``L(x₀)``.
    lr_critical : float
        ``α*``: the first rate whose one-step loss exceeds ``loss0`` (or is not finite); NaN if
        none does. With a grid of ``r`` rates per decade, ``α*`` overestimates the exact
        crossing by at most a factor ``10^(1/r)``.
    curvature : float
        ``λ̂ = 2/α*``, the curvature estimate (NaN if ``α*`` is).
    """

    lrs: np.ndarray
    losses: np.ndarray
    loss0: float
    lr_critical: float
    curvature: float

    def plot(self, ax: Any = None) -> Any:
        """Loss ratio ``L(α)/L(x₀)`` against ``α`` (log axes), with ``α*`` marked."""
        ax = get_axes(ax)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.losses / self.loss0 if self.loss0 != 0 else self.losses
        ax.loglog(self.lrs, np.where(np.isfinite(ratio) & (ratio > 0), ratio, np.nan), label="one-step loss / loss0")
        ax.axhline(1.0, color="grey", lw=0.8)
        if math.isfinite(self.lr_critical):
            ax.axvline(self.lr_critical, color="C3", ls="--", label=f"α* = {self.lr_critical:.4g}")
        ax.set_xlabel("learning rate α")
        ax.set_ylabel("L(x₀ − α∇L) / L(x₀)")
        ax.legend()
        return ax


@dataclass(frozen=True, repr=False)
class LRFinderResult(Result):
    """A progressive learning-rate finder run.

    Attributes
    ----------
    lrs : ndarray (k,)
        Rates used, one per step (``k ≤ num_steps``: the run stops on divergence).
    losses : ndarray (k,)
        Raw losses returned by ``step``.
    smoothed : ndarray (k,)
        Bias-corrected exponential moving average of the losses.
    lr_suggested : float
        The chosen suggestion, ``suggestions[suggestion]`` (NaN when the curve left between the
        skipped ends is too short for it).
    diverged : bool
        Whether the run stopped because the smoothed loss exceeded ``diverge_factor`` times its
        best value (or a loss was not finite).
    suggestion : str
        The rule behind ``lr_suggested``: ``"valley"``, ``"steep"`` or ``"minimum"``.
    suggestions : dict
        Every rule's rate (see :func:`lr_finder`), keyed by its name.
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    lr_suggested: float
    diverged: bool
    suggestion: str
    suggestions: dict[str, float]

    def plot(self, ax: Any = None) -> Any:
        """Raw and smoothed loss against the rate (log x), every suggestion marked (the chosen one
        solid).

        The y-range is clipped to the informative part, from the smoothed minimum to the highest
        smoothed loss of the first tenth of the run, widened by a quarter of that span above and a
        twentieth below: a spike of the raw loss, or the blow-up at the end, does not flatten the
        valley.
        """
        ax = get_axes(ax)
        ax.semilogx(self.lrs, self.losses, color="C0", alpha=0.3, label="loss")
        ax.semilogx(self.lrs, self.smoothed, color="C0", label="smoothed loss")
        for i, (name, lr) in enumerate(self.suggestions.items()):
            if math.isfinite(lr):
                chosen = name == self.suggestion
                ax.axvline(lr, color=f"C{i + 1}", ls="-" if chosen else "--", lw=1.5 if chosen else 1.0,
                           label=f"{name} {lr:.3g}" + (" (suggested)" if chosen else ""))
        finite = self.smoothed[np.isfinite(self.smoothed)]
        if finite.size:
            low = float(finite.min())
            high = float(finite[: max(1, finite.size // 10)].max())
            if high > low:
                ax.set_ylim(low - 0.05 * (high - low), high + 0.25 * (high - low))
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.legend()
        return ax


SUGGESTIONS = ("valley", "steep", "minimum")


def _valley(curve: np.ndarray) -> int:
    """Index of the valley suggestion on ``curve`` (see :func:`lr_finder`): the lengths of the
    longest strictly decreasing subsequences ending at each point, by patience sorting on the
    negated curve (``tails[k]``: the smallest last value of a strictly increasing run of length
    ``k + 1`` seen so far)."""
    tails: list[float] = []
    depth = np.empty(curve.size, dtype=np.int64)
    for i, value in enumerate(-curve):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(float(value))
        else:
            tails[k] = float(value)
        depth[i] = k + 1
    end = int(np.argmax(depth))
    return end - int(depth[end]) // 2


def _suggestions(lrs: np.ndarray, curve: np.ndarray, first: int, last: int) -> dict[str, float]:
    """Every rule's rate on the usable smoothed ``curve``, searched in ``curve[first:last]``."""
    out = dict.fromkeys(SUGGESTIONS, math.nan)
    if last - first < 1:
        return out
    window = curve[first:last]
    out["valley"] = float(lrs[first + _valley(window)])
    if curve.size >= 2:
        out["steep"] = float(lrs[first + int(np.argmin(np.gradient(curve)[first:last]))])
    out["minimum"] = float(lrs[first + int(np.argmin(window))]) / 10.0
    return out


def _check_lrs(lrs: Any) -> np.ndarray:
    lrs = as_array(lrs, "lrs", ndim=1)
    if np.any(lrs <= 0):
        raise ValueError("lrs must be positive")
    if lrs.size > 1 and np.any(np.diff(lrs) <= 0):
        raise ValueError("lrs must be strictly increasing")
    return lrs


def _result(lrs: np.ndarray, losses: np.ndarray, loss0: float) -> LRRangeResult:
    above = ~(losses <= loss0)  # exceeds, or not finite
    if above.any():
        lr_c = float(lrs[int(np.argmax(above))])
        curv = 2.0 / lr_c
    else:
        lr_c = curv = math.nan
    return LRRangeResult(lrs=lrs, losses=losses, loss0=float(loss0), lr_critical=lr_c, curvature=curv)


def lr_range_test(
    loss: Callable[[np.ndarray], Any], grad: Callable[[np.ndarray], Any], x0: Any, lrs: Any
) -> LRRangeResult:
    """The one-step learning-rate range test for any loss and gradient.

    For each rate ``α`` in ``lrs``, one gradient step from the same ``x₀``:
    ``losses[i] = L(x₀ − αᵢ ∇L(x₀))``. The critical rate ``α*`` is the first rate whose loss
    exceeds ``L(x₀)`` (a non-finite loss counts as exceeding), and ``curvature = 2/α*``
    estimates ``λ_max`` of the Hessian along the gradient (exactly, for a quadratic started on
    the top eigenvector, where the ratio is ``(1 − αλ)²``; in general it is the curvature
    ``gᵀHg/gᵀg`` seen by the step, which is at most ``λ_max``).

    Parameters
    ----------
    loss : callable
        ``loss(x) -> float``.
    grad : callable
        ``grad(x) -> array`` of ``x``'s shape.
    x0 : array_like
        Start point (any shape).
    lrs : array_like (L,)
        Positive, strictly increasing rates (e.g. ``numpy.logspace``).

    Returns
    -------
    LRRangeResult
    """
    check_callable("loss", loss)
    check_callable("grad", grad)
    x0 = as_array(x0, "x0")
    lrs = _check_lrs(lrs)
    g_out = grad(x0)  # the user's own exceptions pass through unchanged
    try:
        g = np.asarray(g_out, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"grad must return an array-like of floats ({exc})") from None
    if g.shape != x0.shape:
        raise ValueError(f"grad must return an array of x0's shape {x0.shape}; got {g.shape}")
    if not np.isfinite(g).all():
        raise ValueError("grad returned non-finite values at x0")
    loss0 = _scalar(loss(x0))
    if not math.isfinite(loss0):
        raise ValueError(f"loss must be finite at x0; got {loss0}")
    losses = np.array([_scalar(loss(x0 - lr * g)) for lr in lrs], dtype=np.float64)
    return _result(lrs, losses, loss0)


def _scalar(value: Any, name: str = "loss") -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must return a real scalar; got {type(value).__name__} ({exc})") from None


def lr_range_test_quadratic(H: Any, x0: Any, lrs: Any, *, num_threads: int | None = None) -> LRRangeResult:
    """The one-step range test on ``f(x) = ½ xᵀHx``, in C++.

    With ``g = Hx₀`` the one-step loss is exactly ``f(x₀ − αg) = f(x₀) − α gᵀg + ½α² gᵀHg``
    (the Taylor series of a quadratic ends at the second term), so every rate costs O(1)
    after two matvecs. Started along the top eigenvector ``v`` (``x₀ = c·v``) the ratio is
    ``(1 − αλ_max)²`` and ``α* = 2/λ_max``: with ``r`` rates per decade, ``curvature``
    recovers ``λ_max`` to within a factor ``10^(1/r)`` (1.2% at ``r = 200``).

    Parameters
    ----------
    H : array_like (n, n)
        Symmetric matrix (``max|H − Hᵀ| ≤ 1e-8·max|H|``).
    x0 : array_like (n,)
        Start point.
    lrs : array_like (L,)
        Positive, strictly increasing rates.
    num_threads : int, optional
        OpenMP threads; the result does not depend on it.

    Returns
    -------
    LRRangeResult
        As :func:`lr_range_test`; losses that overflow are ``inf``.
    """
    H = as_array(H, "H", ndim=2, finite=False)
    if H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be square; got shape {H.shape}")
    x0 = as_array(x0, "x0", ndim=1)
    if x0.shape[0] != H.shape[0]:
        raise ValueError(f"x0 must have shape ({H.shape[0]},) to match H; got {x0.shape}")
    lrs = _check_lrs(lrs)
    with np.errstate(over="ignore", invalid="ignore"):
        losses, loss0 = _core.lr_range_test_quadratic(H, x0, lrs, resolve_num_threads(num_threads), SYM_TOL)
    if not math.isfinite(loss0):
        raise ValueError(f"x0 is too large: f(x0) = x0'Hx0/2 = {loss0} overflows float64; rescale H or x0")
    return _result(lrs, losses, loss0)


def lr_finder(
    step: Callable[[float], Any],
    *,
    lr_min: float = 1e-7,
    lr_max: float = 10.0,
    num_steps: int = 100,
    smooth: float = 0.98,
    diverge_factor: float = 4.0,
    suggestion: str = "valley",
    skip_start: int | None = None,
    skip_end: int = 5,
) -> LRFinderResult:
    """The progressive learning-rate finder (Smith 2017; fastai's ``lr_find``, torch-lr-finder).

    One training run whose rate grows exponentially, ``αᵢ = α_min (α_max/α_min)^{i/(K−1)}`` for
    ``i = 0..K−1``; ``step(αᵢ)`` performs one training step at that rate and returns its loss.
    The loss is smoothed by a bias-corrected exponential moving average (as in fastai),
    ``mᵢ = β mᵢ₋₁ + (1 − β) ℓᵢ``, ``ℓ̃ᵢ = mᵢ / (1 − β^{i+1})``, and the run stops at the first
    step whose smoothed loss exceeds ``diverge_factor`` times the best smoothed loss so far,
    or whose loss is not finite (that step is recorded but not used for the suggestion). The
    stopping rule assumes positive losses (as training losses are); with a best smoothed loss
    ``≤ 0`` it never triggers.

    The suggestions are searched on the smoothed loss of the ``u`` usable steps with both ends
    skipped, as fastai does: the first ``skip_start`` points (fastai: ``num_it // 10``), where
    the moving average has barely started, and the last ``skip_end`` (fastai: 5), where the
    loss is already blowing up. On that window, ties going to the earliest point:

    - ``"valley"`` (fastai's default): the longest valley. Take the longest strictly decreasing
      subsequence of the smoothed loss, of length ``d``, ending at the earliest point ``e``
      where one that long ends; the valley is the stretch of ``d`` points ending at ``e``, and
      the suggestion is its middle point, ``e − ⌊d/2⌋`` (fastai's rounding lands at most two
      points earlier).
    - ``"steep"``: the steepest descent of the smoothed loss in ``log α``. The rates are evenly
      spaced in ``log α``, so this is the least central difference ``ℓ̃ᵢ₊₁ − ℓ̃ᵢ₋₁``
      (``numpy.gradient`` on the whole usable curve, one-sided at its own ends; fastai takes
      forward differences).
    - ``"minimum"``: a tenth of the rate at the lowest smoothed loss (fastai's ``minimum``).

    The valley and minimum depend on the order of the smoothed losses alone (any increasing
    transform of them leaves both unchanged); the steep one is unchanged by ``a ℓ̃ + b`` with
    ``a > 0``. With an empty window every suggestion is NaN, and ``"steep"`` needs ``u ≥ 2``.

    Parameters
    ----------
    step : callable
        ``step(lr) -> loss``: one training step at rate ``lr`` (e.g. a PyTorch closure that sets
        the optimizer's rate, steps and returns ``loss.item()``).
    lr_min, lr_max : float
        First and last rate, ``0 < lr_min < lr_max``.
    num_steps : int
        Number of steps ``K ≥ 2``.
    smooth : float
        ``β`` in ``[0, 1)`` (0: no smoothing; fastai uses 0.98).
    diverge_factor : float
        Stop when the smoothed loss exceeds this multiple (``> 1``) of its best (fastai: 4).
    suggestion : {"valley", "steep", "minimum"}
        The rule whose rate is ``lr_suggested``; ``suggestions`` holds all three.
    skip_start : int, optional
        Points skipped at the start (``≥ 0``; default ``num_steps // 10``).
    skip_end : int
        Usable points skipped at the end (``≥ 0``).

    Returns
    -------
    LRFinderResult
    """
    check_callable("step", step)
    lr_min = check_real("lr_min", lr_min, minimum=0.0, strict_min=True)
    lr_max = check_real("lr_max", lr_max, minimum=0.0, strict_min=True)
    if lr_max <= lr_min:
        raise ValueError(f"lr_max must exceed lr_min; got lr_min={lr_min}, lr_max={lr_max}")
    if not math.isfinite(lr_max / lr_min):
        raise ValueError(f"lr_max / lr_min overflows float64; got lr_min={lr_min}, lr_max={lr_max}")
    num_steps = check_int("num_steps", num_steps, minimum=2)
    smooth = check_real("smooth", smooth, minimum=0.0, maximum=1.0, strict_max=True)
    diverge_factor = check_real("diverge_factor", diverge_factor, minimum=1.0, strict_min=True)
    suggestion = check_choice("suggestion", suggestion, SUGGESTIONS)
    skip_start = num_steps // 10 if skip_start is None else check_int("skip_start", skip_start, minimum=0)
    skip_end = check_int("skip_end", skip_end, minimum=0)
    schedule = lr_min * (lr_max / lr_min) ** (np.arange(num_steps) / (num_steps - 1))
    lrs: list[float] = []
    raw: list[float] = []
    sm: list[float] = []
    avg, best, diverged = 0.0, math.inf, False
    for i, lr in enumerate(schedule):
        value = _scalar(step(float(lr)), "step")
        lrs.append(float(lr))
        raw.append(value)
        if not math.isfinite(value):
            sm.append(math.inf)
            diverged = True
            break
        avg = smooth * avg + (1.0 - smooth) * value
        s = avg / (1.0 - smooth ** (i + 1))
        sm.append(s)
        best = min(best, s)
        if best > 0 and s > diverge_factor * best:
            diverged = True
            break
    used = len(sm) - 1 if diverged else len(sm)
    lrs_arr, sm_arr = np.asarray(lrs), np.asarray(sm)
    suggestions = _suggestions(lrs_arr, sm_arr[:used], skip_start, used - skip_end)
    return LRFinderResult(
        lrs=lrs_arr, losses=np.asarray(raw), smoothed=sm_arr, lr_suggested=suggestions[suggestion],
        diverged=diverged, suggestion=suggestion, suggestions=suggestions,
    )
