"""Grid and random search over named hyperparameter dimensions, with vectorised objectives.

An objective evaluates *many* configurations per call: it receives one array per dimension
(all of one length ``n``) and returns ``n`` scores (lower is better by default), e.g. by running
``n`` replicas of :func:`tunelab.simulate_quadratic` at once. The study
:func:`tunelab.studies.clipping_study` tunes the learning rate and the clipping threshold
jointly with :func:`grid_search` on a quadratic with heavy-tailed gradient noise (SCIENCE.md §7).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Union

import numpy as np

from ._random import RNGLike, as_generator
from ._results import Result, short_repr, get_axes
from ._validation import check_callable, check_int, check_real

__all__ = ["Grid", "Uniform", "LogUniform", "grid_search", "random_search", "SearchResult"]


@dataclasses.dataclass(frozen=True)
class Grid:
    """A dimension with an explicit list of values (searched exhaustively; sampled uniformly)."""

    values: tuple[Any, ...]

    def __init__(self, values: Any) -> None:
        try:
            arr = np.asarray(values)
        except ValueError:  # ragged
            raise ValueError("values must be a non-empty 1-d sequence; got a ragged sequence") from None
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"values must be a non-empty 1-d sequence; got shape {arr.shape}")
        if arr.dtype.kind in "fc" and np.isnan(arr).any():
            raise ValueError("values must not contain NaN (inf is allowed, e.g. 'no clipping')")
        object.__setattr__(self, "values", tuple(arr.tolist()))

    def grid(self, num: int | None = None) -> np.ndarray:
        return np.asarray(self.values)

    def sample(self, n: int, gen: np.random.Generator) -> np.ndarray:
        return np.asarray(self.values)[gen.integers(0, len(self.values), n)]


@dataclasses.dataclass(frozen=True)
class Uniform:
    """A continuous dimension, uniform on ``[low, high]`` (``num`` evenly spaced points in a grid)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        lo = check_real("low", self.low)
        hi = check_real("high", self.high)
        if not lo < hi:
            raise ValueError(f"high must be > low; got low={lo}, high={hi}")

    def grid(self, num: int | None = None) -> np.ndarray:
        if num is None:
            raise ValueError(f"num is required to search {self!r} on a grid (or use Grid(values))")
        return np.linspace(self.low, self.high, num)

    def sample(self, n: int, gen: np.random.Generator) -> np.ndarray:
        return gen.uniform(self.low, self.high, n)


@dataclasses.dataclass(frozen=True)
class LogUniform:
    """A positive dimension, log-uniform on ``[low, high]`` (``num`` geometrically spaced points)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        lo = check_real("low", self.low, minimum=0.0, strict_min=True)
        hi = check_real("high", self.high)
        if not lo < hi:
            raise ValueError(f"high must be > low; got low={lo}, high={hi}")

    def grid(self, num: int | None = None) -> np.ndarray:
        if num is None:
            raise ValueError(f"num is required to search {self!r} on a grid (or use Grid(values))")
        return np.geomspace(self.low, self.high, num)

    def sample(self, n: int, gen: np.random.Generator) -> np.ndarray:
        return np.exp(gen.uniform(np.log(self.low), np.log(self.high), n))


Dimension = Union[Grid, Uniform, LogUniform]


@dataclasses.dataclass(frozen=True, repr=False)
class SearchResult(Result):
    """Evaluated configurations, their scores and the best one.

    Attributes
    ----------
    params : dict of str to ndarray
        One ``(n,)`` array per dimension (configuration ``i`` is ``{k: v[i]}``).
    scores : ndarray, shape (n,)
        The objective's scores (NaN counts as the worst score).
    extras : dict of str to ndarray
        Further ``(n,)`` columns the objective returned (e.g. the fraction diverged).
    best : dict
        The best configuration.
    best_score : float
        Its score.
    best_index : int
        Its index.
    shape : tuple of int or None
        The grid's shape (``grid_search``, dimensions in ``space`` order), None for random search.
    space : dict
        The dimensions searched.
    minimize : bool
        Whether lower scores are better.
    """

    params: dict[str, np.ndarray]
    scores: np.ndarray
    extras: dict[str, np.ndarray]
    best: dict[str, Any]
    best_score: float
    best_index: int
    shape: tuple[int, ...] | None
    space: dict[str, Any]
    minimize: bool

    def __repr__(self) -> str:
        kind = f"grid {self.shape}" if self.shape else f"random n={self.scores.size}"
        return f"SearchResult({kind}, best={short_repr(self.best)}, best_score={self.best_score:.6g})"

    def _frame_columns(self) -> dict[str, Any]:
        """One row per configuration: one column per dimension (named as in ``space``), ``score``,
        then the ``extras``."""
        return {**self.params, "score": self.scores, **self.extras}

    def plot(self, ax: Any = None) -> Any:
        """A heatmap (2-d grid), a line (1-d) or a scatter coloured by score (random search)."""
        ax = get_axes(ax)
        names = list(self.params)
        s = np.where(np.isfinite(self.scores), self.scores, np.nan)
        if self.shape is not None and len(names) == 2:
            x, y = (_finite_axis(np.asarray(self.space[k].grid(self.shape[i]), dtype=float)) for i, k in enumerate(names))
            z = s.reshape(self.shape).T
            positive = np.nanmin(z) > 0 if np.isfinite(z).any() else False
            from matplotlib.colors import LogNorm

            mesh = ax.pcolormesh(
                _edges(x, self.space[names[0]]), _edges(y, self.space[names[1]]), np.ma.masked_invalid(z),
                norm=LogNorm() if positive else None, shading="flat",
            )  # fmt: skip
            ax.figure.colorbar(mesh, ax=ax, label="score (blank: diverged)")
            for i, k in enumerate(names):
                if isinstance(self.space[k], LogUniform) or _looks_log(np.asarray(self.space[k].grid(self.shape[i]))):
                    (ax.set_xscale if i == 0 else ax.set_yscale)("log")
        elif len(names) == 1:
            ax.plot(self.params[names[0]], s, marker="o")
            ax.set_ylabel("score")
        else:
            sc = ax.scatter(self.params[names[0]], self.params[names[1]], c=s, s=12)
            ax.figure.colorbar(sc, ax=ax, label="score")
        ax.set_xlabel(names[0])
        if len(names) > 1:
            ax.set_ylabel(names[1])
            if self.shape is not None and len(names) == 2:
                for i, k in enumerate(names):
                    if np.isinf(np.asarray(self.space[k].grid(self.shape[i]), dtype=float)).any():
                        (ax.set_xlabel if i == 0 else ax.set_ylabel)(f"{k} (last row/column: inf)")
            bx, by = (float(self.best[k]) for k in names[:2])
            if self.shape is not None:
                bx, by = (float(_finite_axis(np.asarray(self.space[k].grid(self.shape[i]), dtype=float))[
                    list(np.asarray(self.space[k].grid(self.shape[i]), dtype=float)).index(v)])
                    for i, (k, v) in enumerate(zip(names[:2], (bx, by))))
            ax.plot([bx], [by], "r*", ms=14, label="best")
            ax.legend()
        return ax


def _finite_axis(v: np.ndarray) -> np.ndarray:
    """Grid values with +inf (e.g. 'no clipping') drawn one step beyond the largest finite value."""
    if not np.isinf(v).any():
        return v
    f = v[np.isfinite(v)]
    top = f.max() * (f.max() / f.min()) ** (1 / max(f.size - 1, 1)) if f.size > 1 and f.min() > 0 else f.max() + 1
    return np.where(np.isinf(v), top, v)


def _looks_log(v: np.ndarray) -> bool:
    v = v[np.isfinite(v)] if v.dtype.kind == "f" else v
    return bool(v.size > 2 and np.all(v > 0) and v.max() / v.min() > 50)


def _edges(v: np.ndarray, dim: Any) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    if v.size == 1:
        return np.array([v[0] * 0.5, v[0] * 1.5]) if v[0] > 0 else np.array([v[0] - 0.5, v[0] + 0.5])
    if isinstance(dim, LogUniform) or _looks_log(v):
        lv = np.log(v)
        mid = (lv[1:] + lv[:-1]) / 2
        return np.exp(np.concatenate([[2 * lv[0] - mid[0]], mid, [2 * lv[-1] - mid[-1]]]))
    mid = (v[1:] + v[:-1]) / 2
    return np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])


def _check_space(space: Any) -> dict[str, Any]:
    if not isinstance(space, Mapping) or not space:
        raise TypeError("space must be a non-empty dict {name: Grid | Uniform | LogUniform | sequence}")
    out: dict[str, Any] = {}
    for k, v in space.items():
        if not isinstance(k, str) or not k.isidentifier():
            raise ValueError(f"space: dimension names must be identifiers (they are passed as keywords); got {k!r}")
        if isinstance(v, (Grid, Uniform, LogUniform)):
            out[k] = v
        elif isinstance(v, (list, tuple, np.ndarray)):
            try:
                out[k] = Grid(v)
            except ValueError as exc:
                raise ValueError(f"space[{k!r}]: {exc}") from None
        else:
            raise TypeError(f"space[{k!r}] must be Grid, Uniform, LogUniform or a sequence of values; got {type(v).__name__}")
    return out


def _evaluate(objective: Callable[..., Any], params: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    out = objective(**params)
    extras: dict[str, np.ndarray] = {}
    if isinstance(out, Mapping):
        if "score" not in out:
            raise ValueError("objective returned a dict without a 'score' entry")
        extras = {k: np.asarray(v) for k, v in out.items() if k != "score"}
        out = out["score"]
    try:
        raw = np.asarray(out)
    except ValueError:  # ragged
        raw = np.empty(0, dtype=object)
    if raw.dtype.kind not in "biuf":
        raise TypeError(f"objective must return {n} real scores; got {type(out).__name__} of dtype {raw.dtype}")
    scores = raw.astype(np.float64)
    if scores.shape != (n,):
        raise ValueError(f"objective must return {n} scores (one per configuration); got shape {scores.shape}")
    for k, v in extras.items():
        if v.shape != (n,):
            raise ValueError(f"objective's extra column {k!r} must have shape ({n},); got {v.shape}")
    return scores, extras


def _result(params: dict[str, np.ndarray], scores: np.ndarray, extras: dict[str, np.ndarray], shape: Any,
            space: dict[str, Any], minimize: bool) -> SearchResult:  # fmt: skip
    key = np.where(np.isnan(scores), np.inf, scores if minimize else -scores)
    i = int(np.argmin(key))
    best = {k: v[i].item() for k, v in params.items()}
    return SearchResult(params, scores, extras, best, float(scores[i]), i, shape, space, minimize)


def grid_search(
    objective: Callable[..., Any], space: Mapping[str, Any], *, num: int | None = None, minimize: bool = True
) -> SearchResult:
    """Evaluate ``objective`` on the Cartesian product of the dimensions, in one call.

    Parameters
    ----------
    objective : callable
        ``objective(**{name: values})`` with one ``(n,)`` array per dimension, returning ``n``
        scores, or a dict with ``"score"`` and further ``(n,)`` columns.
    space : dict
        ``{name: Grid(values) | Uniform(low, high) | LogUniform(low, high) | sequence}``.
    num : int, optional
        Points per ``Uniform`` / ``LogUniform`` dimension (evenly / geometrically spaced).
    minimize : bool
        Lower scores are better (default). NaN scores count as the worst.

    Returns
    -------
    SearchResult
        Configurations in C order of the grid (the last dimension varies fastest).

    Notes
    -----
    Exhaustive search is exponential in the number of dimensions; for more than two or three
    dimensions random search finds good configurations with far fewer evaluations (Bergstra &
    Bengio, "Random Search for Hyper-Parameter Optimization", JMLR 13, 2012).
    """
    check_callable("objective", objective)
    dims = _check_space(space)
    if num is not None:
        num = check_int("num", num, minimum=1)
    axes = [np.asarray(dim.grid(num)) for dim in dims.values()]
    mesh = np.meshgrid(*axes, indexing="ij")
    params = {k: m.ravel() for k, m in zip(dims, mesh)}
    n = int(np.prod([a.size for a in axes]))
    scores, extras = _evaluate(objective, params, n)
    return _result(params, scores, extras, tuple(a.size for a in axes), dims, minimize)


def random_search(
    objective: Callable[..., Any], space: Mapping[str, Any], n: int, *, rng: RNGLike = None, minimize: bool = True
) -> SearchResult:
    """Evaluate ``objective`` on ``n`` random configurations, in one call.

    Each dimension is sampled independently: ``Uniform`` uniformly, ``LogUniform`` uniformly in
    the logarithm, ``Grid`` uniformly among its values (Bergstra & Bengio, JMLR 13, 2012).

    Parameters
    ----------
    objective, space, minimize
        As in :func:`grid_search`.
    n : int
        Number of configurations.
    rng : None, int, SeedSequence or Generator
        Seed of the sampling (SPEC 7).
    """
    check_callable("objective", objective)
    dims = _check_space(space)
    n = check_int("n", n, minimum=1)
    gen = as_generator(rng)
    params = {k: dim.sample(n, gen) for k, dim in dims.items()}
    scores, extras = _evaluate(objective, params, n)
    return _result(params, scores, extras, None, dims, minimize)
