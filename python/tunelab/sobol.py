"""Global sensitivity analysis: Sobol' points, Saltelli designs and Sobol' indices.

Which hyperparameters matter? Decompose the variance of an output ``Y = f(X)`` over
independent uniform inputs: the first-order index ``S1_i = Var(E[Y|X_i]) / Var(Y)`` is the
share of the main effect of ``X_i``, the total index ``ST_i = E[Var(Y|X_~i)] / Var(Y)`` adds all
interactions that involve ``X_i``. The functions here give the same answers as SALib
(``SALib.sample.sobol`` + ``SALib.analyze.sobol``) on the same design, read and write SALib's
row layout, and run in C++/OpenMP.

* ``sobol_points``: (scrambled) Sobol' points, unscrambled bit-identical to SciPy's.
* ``saltelli_sample``: Saltelli designs in SALib's row layout (groups, second order,
  several independent scramblings, or plain Monte Carlo).
* ``sobol_indices``: first-order (Saltelli 2010), total (Jansen 1999) and second-order
  (Saltelli 2002) indices with bootstrap or randomised-QMC intervals, several outputs at once.
* ``sobol_analyze``: sample, evaluate a vectorised model in chunks of rows, analyse.
* ``sobol_g`` / ``sobol_g_indices``: Sobol's g-function and its closed-form indices.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from . import _core
from ._chunks import check_executor, run_chunks
from ._random import RNGLike, kernel_key
from ._results import Result, get_axes
from ._threads import resolve_num_threads
from ._validation import as_array, check_bool, check_choice, check_int, check_out, check_real

__all__ = [
    "Problem",
    "SobolResult",
    "sobol_points",
    "saltelli_sample",
    "sobol_indices",
    "sobol_analyze",
    "sobol_g",
    "sobol_g_indices",
]

_MAX_POINTS = 2**30
_BOOT_STREAM = 2**63  # bootstrap streams of sobol_analyze: disjoint from the design's streams


# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class Problem(Result):
    """Inputs of a sensitivity study: names, uniform ranges and optional groups.

    Parameters
    ----------
    names : sequence of str
        Input names (unique, at least one).
    bounds : array-like, shape (D, 2)
        ``[low, high]`` of each input (finite, ``low < high``); inputs are uniform on them.
    groups : sequence of str or mapping, optional
        SALib's form, a group name per input (length D), or a mapping ``{group: [input names]}``
        that assigns every input to exactly one group. Indices are then computed per group.
    outputs : sequence of str, optional
        Names of the model's outputs (the columns of ``Y``), as in SALib's ``ProblemSpec``;
        results of a multi-output model are labelled with them (default ``y0, y1, ...``).

    Notes
    -----
    ``Problem.from_dict`` and ``to_dict`` convert from and to SALib's problem dictionaries
    (``num_vars``, ``names``, ``bounds``, optional ``groups`` and ``outputs``); every function of this module
    takes either form.
    """

    names: Sequence[str]  # stored as a tuple
    bounds: Any  # stored as a read-only float64 array (D, 2)
    groups: Any = None  # stored as a tuple of group names (one per input) or None
    outputs: Any = None  # stored as a tuple of output names or None

    def __post_init__(self) -> None:
        names = self.names
        if isinstance(names, str) or not isinstance(names, Sequence):
            raise TypeError(f"names must be a sequence of str; got {type(names).__name__}")
        names = tuple(names)
        if len(names) == 0:
            raise ValueError("names must name at least one input (D = 0)")
        for nm in names:
            if not isinstance(nm, str):
                raise TypeError(f"names must be strings; got {type(nm).__name__} {nm!r}")
        dup = sorted({nm for nm in names if names.count(nm) > 1})
        if dup:
            raise ValueError(f"names must be unique; repeated: {', '.join(dup)}")
        D = len(names)
        bounds = as_array(self.bounds, "bounds", ndim=2, allow_empty=True)
        if bounds.shape != (D, 2):
            raise ValueError(f"bounds must have shape (D, 2) = ({D}, 2), one [low, high] per name; got {bounds.shape}")
        with np.errstate(over="ignore"):
            if not np.isfinite(bounds[:, 1] - bounds[:, 0]).all():
                raise ValueError("bounds are too wide: high - low must be finite in float64")
        bad = np.flatnonzero(bounds[:, 0] >= bounds[:, 1])
        if bad.size:
            j = int(bad[0])
            raise ValueError(
                f"bounds must have low < high; input {names[j]!r} has low={bounds[j, 0]:g} >= high={bounds[j, 1]:g}"
            )
        bounds.setflags(write=False)
        groups = _normalise_groups(self.groups, names)
        object.__setattr__(self, "outputs", _output_names(self.outputs))
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "bounds", bounds)
        object.__setattr__(self, "groups", groups)

    @property
    def num_vars(self) -> int:
        """Number of inputs D."""
        return len(self.names)

    @property
    def group_names(self) -> tuple[str, ...]:
        """Names of the analysed factors: the groups in order of first appearance, else the inputs."""
        if self.groups is None:
            return tuple(self.names)
        return tuple(dict.fromkeys(self.groups))

    @property
    def num_groups(self) -> int:
        """Number of analysed factors G (D without groups)."""
        return len(self.group_names)

    def group_ids(self) -> np.ndarray:
        """Group index (0 .. G-1) of every input, as int32."""
        if self.groups is None:
            return np.arange(self.num_vars, dtype=np.int32)
        pos = {g: i for i, g in enumerate(self.group_names)}
        return np.array([pos[g] for g in self.groups], dtype=np.int32)

    @classmethod
    def from_dict(cls, problem: Mapping[str, Any]) -> Problem:
        """A ``Problem`` from a SALib problem dictionary."""
        if not isinstance(problem, Mapping):
            raise TypeError(f"problem must be a tunelab.Problem or a SALib-style dict; got {type(problem).__name__}")
        for key in ("names", "bounds"):
            if key not in problem:
                raise ValueError(f"problem must have the key {key!r} (SALib's num_vars, names, bounds, groups)")
        dists = problem.get("dists")
        if dists is not None and any(d != "unif" for d in dists):
            raise ValueError("problem['dists']: only uniform inputs ('unif') are supported; transform other inputs in the model")
        names = problem["names"]
        if "num_vars" in problem:
            nv = problem["num_vars"]
            if isinstance(nv, bool) or not isinstance(nv, numbers.Integral):
                raise TypeError(f"num_vars must be an int; got {type(nv).__name__}")
            if not isinstance(names, str) and isinstance(names, Sequence) and nv != len(names):
                raise ValueError(f"num_vars ({nv}) must equal the number of names ({len(names)})")
        return cls(names, problem["bounds"], problem.get("groups"), problem.get("outputs"))

    def to_dict(self) -> dict[str, Any]:
        """SALib's problem dictionary."""
        out: dict[str, Any] = {"num_vars": self.num_vars, "names": list(self.names), "bounds": self.bounds.tolist()}
        if self.groups is not None:
            out["groups"] = list(self.groups)
        if self.outputs is not None:
            out["outputs"] = list(self.outputs)
        return out

    def _frame_columns(self) -> dict[str, Any]:
        """One row per input: ``name, low, high`` (and ``group`` when grouped)."""
        cols: dict[str, Any] = {"name": list(self.names), "low": self.bounds[:, 0], "high": self.bounds[:, 1]}
        if self.groups is not None:
            cols["group"] = list(self.groups)
        return cols

    def plot(self, ax: Any = None) -> Any:
        """Each input's range ``[low, high]`` as a horizontal bar (coloured by group when grouped)."""
        ax = get_axes(ax)
        y = np.arange(self.num_vars)
        colour = [f"C{g % 10}" for g in self.group_ids()] if self.groups else "C0"
        ax.barh(y, self.bounds[:, 1] - self.bounds[:, 0], left=self.bounds[:, 0], color=colour)
        ax.set_yticks(y, list(self.names))
        ax.invert_yaxis()
        ax.set_xlabel("range of the input (uniform)")
        ax.set_title(f"{self.num_vars} inputs" + (f" in {self.num_groups} groups" if self.groups else ""))
        return ax


def _normalise_groups(groups: Any, names: tuple[str, ...]) -> tuple[str, ...] | None:
    if groups is None:
        return None
    if isinstance(groups, Mapping):
        owner: dict[str, str] = {}
        for g, members in groups.items():
            if isinstance(members, str) or not isinstance(members, Sequence):
                raise TypeError(f"groups[{g!r}] must be a list of input names; got {type(members).__name__}")
            for m in members:
                if m not in names:
                    raise ValueError(f"groups[{g!r}] names an unknown input {m!r}; the inputs are {', '.join(names)}")
                if m in owner:
                    raise ValueError(f"groups assign input {m!r} twice ({owner[m]!r} and {g!r})")
                owner[m] = str(g)
        missing = [nm for nm in names if nm not in owner]
        if missing:
            raise ValueError(f"groups must assign every input to a group; missing: {', '.join(missing)}")
        out = tuple(owner[nm] for nm in names)
    else:
        if isinstance(groups, str) or not isinstance(groups, Sequence):
            raise TypeError(f"groups must be a list of group names (one per input) or a mapping; got {type(groups).__name__}")
        if len(groups) != len(names):
            raise ValueError(f"groups must give one group per input ({len(names)}); got {len(groups)}")
        out = tuple(str(g) for g in groups)
    if out == names:
        return None
    return out


def _output_names(outputs: Any) -> tuple[str, ...] | None:
    if outputs is None:
        return None
    if isinstance(outputs, str) or not isinstance(outputs, Sequence):
        raise TypeError(f"outputs must be a sequence of str; got {type(outputs).__name__}")
    out = tuple(outputs)
    if not out or not all(isinstance(o, str) for o in out) or len(set(out)) != len(out):
        raise ValueError(f"outputs must be distinct strings, at least one; got {list(out)!r}")
    return out


def _as_problem(problem: Any) -> Problem:
    if isinstance(problem, Problem):
        return problem
    try:
        return Problem.from_dict(problem)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"problem: {exc}") from None


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class SobolResult(Result):
    """Sobol' indices with confidence half-widths.

    Attributes
    ----------
    names : tuple of str
        The analysed factors (inputs, or groups).
    S1, S1_conf : ndarray, shape (G,) or (k, G)
        First-order indices and the half-widths of their intervals (``S1 ± S1_conf``); one
        row per output when ``Y`` had shape ``(rows, k)``.
    ST, ST_conf : ndarray
        Total indices and half-widths, same shape.
    S2, S2_conf : ndarray, shape (G, G) or (k, G, G), or None
        Second-order indices in SALib's layout (upper triangle, NaN elsewhere).
    conf_method : str
        ``"bootstrap"``, ``"rqmc"`` or ``"exact"`` (closed forms).
    conf_level : float
        Level of the intervals.
    n : int
        Base blocks analysed (over all replicates).
    n_omitted : int
        Base blocks dropped because of NaN outputs (``nan_policy="omit"``).
    outputs : tuple of str or None
        Names of the ``k`` outputs (``Problem.outputs``, default ``y0, y1, ...``); None for a
        single output given as ``Y`` of shape ``(rows,)``.
    replicates : int
        Independently scrambled designs (``conf_method="rqmc"``; 1 otherwise).
    n_model_rows : int
        Model evaluations (rows of ``Y``, over all replicates) behind the indices: with
        ``replicates=r`` it is ``r`` times the rows of one design of ``n`` base rows.
    """

    names: tuple[str, ...]
    S1: np.ndarray
    S1_conf: np.ndarray
    ST: np.ndarray
    ST_conf: np.ndarray
    S2: np.ndarray | None = None
    S2_conf: np.ndarray | None = None
    conf_method: str = "bootstrap"
    conf_level: float = 0.95
    n: int = 0
    n_omitted: int = 0
    outputs: tuple[str, ...] | None = None
    replicates: int = 1
    n_model_rows: int = 0

    def _per_output(self) -> list[tuple[str | None, tuple[np.ndarray, ...]]]:
        """(name, (S1, S1_conf, ST, ST_conf)) of every output; name None for a single 1-d output."""
        fields = (self.S1, self.S1_conf, self.ST, self.ST_conf)
        if self.outputs is None:
            return [(None, fields)]
        return [(name, tuple(f[i] for f in fields)) for i, name in enumerate(self.outputs)]

    def __repr__(self) -> str:
        if len(self.names) > 20:
            return super().__repr__()
        width = max(len("factor"), *(len(nm) for nm in self.names))
        rows = f"n_model_rows={self.n_model_rows}"
        if self.replicates > 1:
            rows += f" = {self.replicates} replicates x {self.n_model_rows // self.replicates}"
        lines = [
            f"SobolResult(conf_method={self.conf_method!r}, conf_level={self.conf_level:g}, n={self.n}, "
            f"n_omitted={self.n_omitted}, {rows}, second_order={self.S2 is not None})"
        ]
        for name, (s1, c1, st, ct) in self._per_output():
            if name is not None:
                lines.append(f"  output {name!r}:")
            lines.append(f"  {'factor':<{width}}  {'S1':>9} {'±':>9}  {'ST':>9} {'±':>9}")
            for j, nm in enumerate(self.names):
                lines.append(f"  {nm:<{width}}  {s1[j]:9.4g} {c1[j]:9.2g}  {st[j]:9.4g} {ct[j]:9.2g}")
        return "\n".join(lines)

    def to_frame(self) -> Any:
        """First and total order as a ``pandas.DataFrame``: columns ``S1, S1_conf, ST, ST_conf``;
        index: factor, or (output, factor) with the output names."""
        from ._optional import optional_module

        pd = optional_module("pandas", "SobolResult.to_frame()")
        cols = {k: np.asarray(getattr(self, k)).ravel() for k in ("S1", "S1_conf", "ST", "ST_conf")}
        if self.outputs is None:
            index = pd.Index(list(self.names), name="factor")
        else:
            index = pd.MultiIndex.from_product([list(self.outputs), list(self.names)], names=["output", "factor"])
        return pd.DataFrame(cols, index=index)

    def plot(self, ax: Any = None, *, output: int | str | None = None) -> Any:
        """Bar chart of S1 and ST with their intervals, for every output (side by side, a colour
        each) or only ``output`` (an index or a name)."""
        ax = get_axes(ax)
        shown = self._per_output()
        if output is not None:
            if self.outputs is None:
                raise ValueError("output: this result has a single output")
            idx = self.outputs.index(output) if isinstance(output, str) and output in self.outputs else output
            if not isinstance(idx, int) or isinstance(idx, bool) or not 0 <= idx < len(self.outputs):
                raise ValueError(f"output must be one of {list(self.outputs)!r} or an index below {len(self.outputs)}; got {output!r}")
            shown = [shown[idx]]
        x = np.arange(len(self.names))
        w = 0.38 / len(shown)  # one output: S1 at x - 0.19, ST at x + 0.19
        for k, (name, (s1, c1, st, ct)) in enumerate(shown):
            tag = "" if name is None else f" ({name})"
            left = x - len(shown) * w + (2 * k + 0.5) * w
            ax.bar(left, s1, w, yerr=c1, capsize=3, color=f"C{2 * k % 10}", label=f"first order S1{tag}")
            ax.bar(left + w, st, w, yerr=ct, capsize=3, color=f"C{(2 * k + 1) % 10}", label=f"total ST{tag}")
        ax.set_xticks(x)
        ax.set_xticklabels(self.names, rotation=45 if len(self.names) > 8 else 0)
        ax.set_ylabel("Sobol' index")
        reps = f", {self.replicates} replicates" if self.replicates > 1 else ""
        ax.set_title(f"Sobol' indices ({self.conf_method}{reps}, {self.conf_level:.0%} intervals)")
        ax.legend()
        return ax


# --------------------------------------------------------------------------------------------
# Points and designs
# --------------------------------------------------------------------------------------------


def _check_power_of_two(n: int, name: str) -> None:
    if n & (n - 1):
        lo = 1 << (n.bit_length() - 1)
        raise ValueError(
            f"{name} must be a power of two for a Sobol' design (its balance properties need it); "
            f"got {n}: the nearest powers of two are {lo} and {2 * lo}"
        )


def sobol_points(
    d: int,
    n: int,
    *,
    scramble: bool = True,
    first: int = 0,
    rng: RNGLike = None,
    num_threads: int | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Sobol' low-discrepancy points in ``[0, 1)^d``.

    Parameters
    ----------
    d : int
        Dimension, ``1 <= d <= 4096``.
    n : int
        Number of points. Powers of two keep the sequence's balance properties.
    scramble : bool
        Owen's linear matrix scramble plus a digital shift (default), seeded by ``rng``.
        ``False`` gives the plain sequence, bit-identical to
        ``scipy.stats.qmc.Sobol(d, scramble=False).random(n)``.
    first : int
        Index of the first point: ``sobol_points(d, n, first=k)`` equals rows ``k .. k+n-1`` of
        ``sobol_points(d, k + n)`` (same ``rng``).
    rng : None, int, SeedSequence or Generator
        Seed of the scrambling (SPEC 7).
    num_threads : int, optional
        OpenMP threads; the points do not depend on it.
    out : ndarray, optional
        A C-contiguous, writeable float64 array of shape exactly ``(n, d)`` to write the points
        into (every element is overwritten); it is returned, bit-identical to a call without
        ``out``, as with ``numpy.random.Generator.random(out=)``. Drawing batch after batch into
        one reused array saves the fresh output's memory and its page zeroing: the operating
        system zeroes a new array's pages on first touch, which a reused array has already
        paid (at d = 64, n = 2^20, 512 MB, a fresh call took 1.5-1.7x as long as one into a
        reused array on the 2-core machine the bench ran on). Anything else
        raises ``TypeError`` (not a float64 ndarray) or ``ValueError`` (wrong shape, not
        C-contiguous, read-only), and ``out`` is left untouched.

    Returns
    -------
    ndarray, shape (n, d)
        ``out`` itself when given.

    Notes
    -----
    Point ``i`` is ``x_i = 2^-30 (s XOR (XOR_k g_k(i) v_k))`` with ``g(i) = i XOR (i >> 1)`` the
    gray code of ``i`` (Antonov & Saleev 1979), ``v_k`` the direction integers of Joe & Kuo
    (2008, search criterion 6, as in SciPy) and ``s`` the digital shift. Scrambling replaces
    each generator matrix ``C`` by ``L C`` with ``L`` random lower-triangular with unit diagonal
    (Matousek 1998; Owen 2003), the construction ``scipy.stats.qmc.Sobol`` uses; SciPy and
    tunelab draw different random matrices, so scrambled points differ from SciPy's.
    """
    d = check_int("d", d, minimum=1, maximum=int(_core.sobol_max_dim))
    n = check_int("n", n, minimum=0)
    first = check_int("first", first, minimum=0)
    if first + n > _MAX_POINTS:
        raise ValueError(f"n: points first .. first + n - 1 must be below 2^30; got first={first}, n={n}")
    check_bool("scramble", scramble)
    if out is not None:
        out = check_out(out, (n, d), "(n, d)")
    threads = resolve_num_threads(num_threads)
    key = kernel_key(rng) if scramble else 0
    points = _core.sobol_points(d, n, first, scramble, key, 0, threads, out)
    return points if out is None else out  # out itself, also for an ndarray subclass (the kernel sees a base-class view)


def _rows_per_block(groups: int, second_order: bool) -> int:
    return 2 * groups + 2 if second_order else groups + 2


def _check_design_args(n: int, sampling: str, replicates: int, scramble: bool) -> tuple[int, str, int]:
    sampling = check_choice("sampling", sampling, ("sobol", "random"))
    n = check_int("n", n, minimum=2 if sampling == "random" else 1, maximum=_MAX_POINTS)
    if sampling == "sobol":
        _check_power_of_two(n, "n")
    replicates = check_int("replicates", replicates, minimum=1)
    scramble = check_bool("scramble", scramble)
    if replicates > 1 and sampling == "sobol" and not scramble:
        raise ValueError("replicates > 1 needs scramble=True: unscrambled replicates would be identical")
    return n, sampling, replicates


def saltelli_sample(
    problem: Problem | Mapping[str, Any],
    n: int,
    *,
    second_order: bool = False,
    scramble: bool = True,
    sampling: str = "sobol",
    replicates: int = 1,
    rng: RNGLike = None,
    num_threads: int | None = None,
) -> np.ndarray:
    """Saltelli's design for Sobol' indices, in SALib's row layout.

    Parameters
    ----------
    problem : Problem or dict
        The inputs (SALib-style dicts work too).
    n : int
        Base rows per design; a power of two for Sobol' designs (``ValueError`` otherwise).
    second_order : bool
        Add the ``BA`` rows needed for second-order indices.
    scramble : bool
        Scramble the Sobol' sequence (LMS + digital shift); ``False`` reproduces
        ``SALib.sample.sobol.sample(problem, n, calc_second_order=..., scramble=False)`` exactly.
    sampling : {"sobol", "random"}
        A Sobol' sequence of dimension 2D, or i.i.d. uniforms (plain Monte Carlo; any ``n >= 2``).
    replicates : int
        Independent designs (independent scramblings, or independent random draws) stacked one
        after the other; ``sobol_indices(..., conf_method="rqmc", replicates=r)`` turns their
        spread into intervals.
    rng : None, int, SeedSequence or Generator
        Seed (SPEC 7).
    num_threads : int, optional
        OpenMP threads; the design does not depend on it.

    Returns
    -------
    ndarray, shape (replicates * n * (G + 2), D) or (replicates * n * (2G + 2), D)
        For each base row ``i`` the block ``A_i, AB_i^(1..G), [BA_i^(1..G)], B_i`` where ``A``
        and ``B`` are the first and last D coordinates of the 2D-dimensional sequence and
        ``AB^(g)`` is ``A`` with the inputs of factor ``g`` taken from ``B`` (Saltelli 2002;
        Saltelli et al. 2010), scaled to the bounds by ``u * (high - low) + low``. G is the
        number of groups (D without groups).
    """
    prob = _as_problem(problem)
    n, sampling, replicates = _check_design_args(n, sampling, replicates, scramble)
    second_order = check_bool("second_order", second_order)
    if sampling == "sobol" and 2 * prob.num_vars > int(_core.sobol_max_dim):
        raise ValueError(f"problem: Sobol' designs support up to {int(_core.sobol_max_dim) // 2} inputs; got {prob.num_vars}")
    key = kernel_key(rng) if (scramble or sampling == "random") else 0
    return _design_rows(prob, n, replicates, second_order, sampling, scramble, key, 0, n * replicates, resolve_num_threads(num_threads))


def _design_rows(
    prob: Problem, n: int, replicates: int, second_order: bool, sampling: str, scramble: bool, key: int, first: int,
    count: int, threads: int,
) -> np.ndarray:
    low = np.ascontiguousarray(prob.bounds[:, 0])
    width = np.ascontiguousarray(prob.bounds[:, 1] - prob.bounds[:, 0])
    return _core.saltelli_sample(
        low, width, prob.group_ids(), prob.num_groups, n, replicates, second_order, sampling == "random", scramble,
        key, first, count, threads,
    )


# --------------------------------------------------------------------------------------------
# Estimation
# --------------------------------------------------------------------------------------------


def _split(est: np.ndarray, G: int, second_order: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(..., ne) estimates -> S1 (..., G), ST (..., G), S2 (..., G, G) in SALib's layout."""
    s1, st = est[..., :G], est[..., G : 2 * G]
    if not second_order:
        return s1, st, None
    s2 = np.full(est.shape[:-1] + (G, G), np.nan)
    iu = np.triu_indices(G, 1)
    s2[(Ellipsis,) + tuple(iu)] = est[..., 2 * G :]
    return s1, st, s2


def _check_y(Y: Any, rows_per_design: int, replicates: int, nan_policy: str) -> tuple[np.ndarray, bool]:
    arr = as_array(Y, "Y", ndim=(1, 2), finite=False)
    squeeze = arr.ndim == 1
    arr = arr.reshape(arr.shape[0], -1)
    if arr.shape[1] == 0:
        raise ValueError("Y must hold at least one output column; got shape (rows, 0)")
    unit = rows_per_design * replicates
    if arr.shape[0] % unit:
        raise ValueError(
            f"Y has {arr.shape[0]} rows; a Saltelli design with {replicates} replicate(s) has a multiple of "
            f"{unit} rows (replicates * rows per base row): check second_order, groups and replicates"
        )
    if np.isinf(arr).any():
        if nan_policy == "raise":
            raise ValueError("Y must be finite: it holds inf (use nan_policy='omit' to drop failed runs)")
        arr = np.where(np.isinf(arr), np.nan, arr)
    if nan_policy == "raise" and np.isnan(arr).any():
        bad = int(np.flatnonzero(np.isnan(arr).any(axis=1))[0])
        raise ValueError(
            f"Y contains NaN (first at row {bad}); use nan_policy='omit' to drop the base blocks of failed runs"
        )
    return arr, squeeze


def _indices(
    prob: Problem, Y: Any, *, second_order: bool, n_boot: int, conf_level: float, conf_method: str, replicates: int,
    nan_policy: str, key: int, first: int, threads: int,
) -> SobolResult:
    G = prob.num_groups
    step = _rows_per_block(G, second_order)
    arr, squeeze = _check_y(Y, step, replicates, nan_policy)
    k = arr.shape[1]
    n = arr.shape[0] // (step * replicates)
    blocks = arr.reshape(replicates, n, step, k)
    keep = ~np.isnan(blocks).any(axis=(2, 3))  # (replicates, n)
    n_omitted = int((~keep).sum())
    if (keep.sum(axis=1) < 2).any():
        raise ValueError(
            f"Y: fewer than 2 base blocks left to analyse (n = {n} per replicate, {n_omitted} omitted for NaN)"
        )
    if n_omitted == 0:
        est, boot = _core.sobol_estimate(arr, G, second_order, n, replicates, n_boot if conf_method == "bootstrap" else 0, key, first, threads)
    else:
        parts = []
        boot = None
        for r in range(replicates):
            yr = np.ascontiguousarray(blocks[r][keep[r]].reshape(-1, k))
            nr = int(keep[r].sum())
            e, b = _core.sobol_estimate(yr, G, second_order, nr, 1, n_boot if conf_method == "bootstrap" else 0, key, first, threads)
            parts.append(e)
            boot = b
        est = np.concatenate(parts, axis=0)
    # est: (replicates, k, ne); NaN only where the computed var([f(A); f(B)]) is 0
    flat = np.isnan(est).any(axis=(0, 2))
    if flat.any():
        c = int(np.flatnonzero(flat)[0])
        col = "" if squeeze else f"[:, {c}]"
        ab = blocks[:, :, [0, -1], c]  # (replicates, n, 2): the A and B rows
        with np.errstate(invalid="ignore"):
            spread = np.nanmax(ab, axis=(1, 2)) - np.nanmin(ab, axis=(1, 2))
        if (spread == 0).any():
            raise ValueError(
                f"Y{col} is constant on the A and B rows of a design: Sobol' indices are undefined (zero output "
                "variance)"
            )
        raise ValueError(
            f"Y{col} varies on the A and B rows of a design by less than float64 resolves beside its range over "
            "all rows (var([f(A); f(B)]) rounds to 0): the Sobol' indices would overflow"
        )
    if conf_method == "bootstrap":
        point = est[0]
        z = NormalDist().inv_cdf(0.5 + conf_level / 2)
        assert boot is not None
        if boot.shape[0] >= 2:
            with np.errstate(invalid="ignore"):
                half = z * np.nanstd(boot, axis=0, ddof=1)
        else:  # n_boot = 0: point estimates only
            half = np.full_like(point, np.nan)
    else:
        from scipy.stats import t as student_t

        point = est.mean(axis=0)
        tq = float(student_t.ppf(0.5 + conf_level / 2, replicates - 1))
        half = tq * est.std(axis=0, ddof=1) / math.sqrt(replicates)
    s1, st, s2 = _split(point, G, second_order)
    c1, ct, c2 = _split(half, G, second_order)
    if squeeze:
        s1, st, c1, ct = s1[0], st[0], c1[0], ct[0]
        if s2 is not None and c2 is not None:
            s2, c2 = s2[0], c2[0]
    outputs = None
    if not squeeze:
        outputs = prob.outputs or tuple(f"y{i}" for i in range(k))
        if len(outputs) != k:
            raise ValueError(f"Y has {k} output columns but problem names {len(outputs)} outputs: {list(outputs)!r}")
    return SobolResult(
        names=prob.group_names, S1=s1, S1_conf=c1, ST=st, ST_conf=ct, S2=s2, S2_conf=c2, conf_method=conf_method,
        conf_level=conf_level, n=int(keep.sum()), n_omitted=n_omitted, outputs=outputs, replicates=replicates,
        n_model_rows=arr.shape[0],
    )


def _check_analysis_args(
    second_order: Any, n_boot: Any, conf_level: Any, conf_method: Any, replicates: Any, nan_policy: Any
) -> tuple[bool, int, float, str, int, str]:
    second_order = check_bool("second_order", second_order)
    conf_method = check_choice("conf_method", conf_method, ("bootstrap", "rqmc"))
    n_boot = check_int("n_boot", n_boot, minimum=0)
    conf_level = check_real("conf_level", conf_level, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True)
    replicates = check_int("replicates", replicates, minimum=1)
    nan_policy = check_choice("nan_policy", nan_policy, ("raise", "omit"))
    if conf_method == "rqmc" and replicates < 2:
        raise ValueError(
            "replicates must be >= 2 for conf_method='rqmc' (intervals come from the spread of independent "
            "scramblings: sample with saltelli_sample(..., replicates=r))"
        )
    if conf_method == "bootstrap" and n_boot == 1:
        raise ValueError("n_boot must be 0 (point estimates only) or >= 2 for bootstrap intervals; got 1")
    if conf_method == "bootstrap" and replicates != 1:
        raise ValueError("replicates must be 1 with conf_method='bootstrap' (use conf_method='rqmc' for replicated designs)")
    return second_order, n_boot, conf_level, conf_method, replicates, nan_policy


def sobol_indices(
    problem: Problem | Mapping[str, Any],
    Y: Any,
    *,
    second_order: bool = False,
    n_boot: int = 1000,
    conf_level: float = 0.95,
    conf_method: str = "bootstrap",
    replicates: int = 1,
    nan_policy: str = "raise",
    rng: RNGLike = None,
    num_threads: int | None = None,
) -> SobolResult:
    """Sobol' indices from model outputs on a Saltelli design (SALib's layout).

    Parameters
    ----------
    problem : Problem or dict
        The inputs, as given to ``saltelli_sample`` (or SALib's ``sample.sobol``).
    Y : array-like, shape (rows,) or (rows, k)
        Model outputs in the design's row order; ``k`` outputs are analysed at once.
    second_order : bool
        Whether the design has the ``BA`` rows; then second-order indices are returned too.
    n_boot : int
        Bootstrap resamples (``conf_method="bootstrap"``); 0 gives point estimates only, with
        NaN half-widths.
    conf_level : float
        Level of the intervals, in (0, 1).
    conf_method : {"bootstrap", "rqmc"}
        ``"bootstrap"`` (SALib's): resample the n base blocks with replacement, half-width
        ``z * sd`` of the resampled estimates. It assumes i.i.d. rows: right for
        ``sampling="random"`` designs, far too wide on scrambled Sobol' designs (whose error
        shrinks faster than ``1/sqrt(n)``). ``"rqmc"``: ``Y`` holds ``replicates`` independently
        scrambled designs; the estimate is the mean of theirs and the half-width
        ``t_{r-1} * sd / sqrt(r)`` (randomised QMC; L'Ecuyer & Lemieux 2002; Owen 2013). Trust
        ``"rqmc"`` for Sobol' designs and ``"bootstrap"`` for random ones.
    replicates : int
        Designs stacked in ``Y`` (``rqmc`` needs at least 2).
    nan_policy : {"raise", "omit"}
        ``"omit"`` drops every base block in which an output is NaN or inf (failed runs);
        ``SobolResult.n_omitted`` says how many. Dropping blocks breaks the balance of a Sobol'
        design, so many omissions degrade the estimate.
    rng : None, int, SeedSequence or Generator
        Seed of the bootstrap (SPEC 7).
    num_threads : int, optional
        OpenMP threads (resamples run in parallel); the result does not depend on it.

    Returns
    -------
    SobolResult

    Notes
    -----
    Per output, ``Y`` is centred on its mean over the design, as SALib does (the estimators below
    are not shift-invariant; the indices are invariant under ``Y -> a Y + b`` because the centre
    moves with ``Y``). The mean is computed in two passes and kept to twice the working precision,
    and ``Y`` is scaled by powers of two (exact) before any sum, so outputs of any magnitude
    (``1e155``, ``1e-165``), behind a large offset (``Y + 1e12``) or nearly constant
    (``1 + 1e-14 f``) give the indices of the data as given up to rounding, and ``2^j Y`` gives
    bit-identical indices to ``Y``. Only exactly constant A and B rows are refused as constant.
    With ``V = var([f(A); f(B)])``:

    * first order (Saltelli et al. 2010): ``S1_g = mean(f(B) (f(AB_g) - f(A))) / V``;
    * total (Jansen 1999): ``ST_g = mean((f(A) - f(AB_g))^2) / (2 V)``;
    * second order (Saltelli 2002, as SALib): ``S2_gh = mean(f(BA_g) f(AB_h) - f(A) f(B)) / V
      - S1_g - S1_h``.

    Bootstrap resample ``b`` draws its base blocks from the counter-based stream ``b`` of the
    key drawn from ``rng``, so results are bit-identical for any thread count.
    """
    prob = _as_problem(problem)
    second_order, n_boot, conf_level, conf_method, replicates, nan_policy = _check_analysis_args(
        second_order, n_boot, conf_level, conf_method, replicates, nan_policy
    )
    key = kernel_key(rng) if conf_method == "bootstrap" else 0
    return _indices(
        prob, Y, second_order=second_order, n_boot=n_boot, conf_level=conf_level, conf_method=conf_method,
        replicates=replicates, nan_policy=nan_policy, key=key, first=0, threads=resolve_num_threads(num_threads),
    )


def _eval_chunk(
    model: Callable[[np.ndarray], Any], prob: Problem, n: int, replicates: int, second_order: bool, sampling: str,
    scramble: bool, key: int, first: int, count: int, num_threads: int,
) -> np.ndarray:
    """Base rows [first, first + count): build the design rows and evaluate the model on them."""
    X = _design_rows(prob, n, replicates, second_order, sampling, scramble, key, first, count, num_threads)
    y = np.asarray(model(X))
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(f"model must return an array of shape (rows,) or (rows, k) for X of shape {X.shape}; got {y.shape}")
    return y


def sobol_analyze(
    model: Callable[[np.ndarray], Any],
    problem: Problem | Mapping[str, Any],
    n: int,
    *,
    second_order: bool = False,
    sampling: str = "sobol",
    conf_method: str = "bootstrap",
    replicates: int | None = None,
    n_boot: int = 1000,
    conf_level: float = 0.95,
    nan_policy: str = "raise",
    batch_rows: int = 65536,
    executor: Any = None,
    progress: bool = False,
    rng: RNGLike = None,
    num_threads: int | None = None,
) -> SobolResult:
    """Sample a Saltelli design, evaluate a vectorised model on it in chunks, analyse.

    Parameters
    ----------
    model : callable
        ``model(X) -> Y`` for ``X`` of shape ``(rows, D)``, returning ``(rows,)`` or ``(rows, k)``.
        Must be picklable when ``executor`` is a process pool or a cluster.
    problem : Problem or dict
    n : int
        Base rows per design (a power of two for Sobol' designs).
    second_order, sampling, conf_method, n_boot, conf_level, nan_policy
        As in ``saltelli_sample`` and ``sobol_indices``.
    replicates : int, optional
        Independent designs; default 8 for ``conf_method="rqmc"``, else 1. Each design has
        ``n`` base rows, so ``conf_method="rqmc"`` evaluates the model ``replicates`` times as
        often (by default 8x) as one design of ``n``: ``SobolResult.n_model_rows`` says how many
        rows were evaluated. Lower ``n`` (or ``replicates``) to keep the budget.
    batch_rows : int
        Design rows per model call (rounded to whole base blocks). Memory is bounded by the
        chunk: the full design is never held, only the outputs.
    executor : Executor or map-like callable, optional
        Evaluate chunks there (e.g. ``dask.distributed.Client().get_executor()``); the result is
        identical to a local run.
    progress : bool
        Show a progress bar (tqdm).
    rng : None, int, SeedSequence or Generator
        One key is drawn; the design uses its streams ``0 .. replicates - 1`` and the bootstrap
        its streams from ``2^63`` on.
    num_threads : int, optional
        OpenMP threads for sampling and analysis.

    Returns
    -------
    SobolResult
        See ``sobol_indices`` for the estimators.
    """
    if not callable(model):
        raise TypeError(f"model must be callable; got {type(model).__name__}")
    prob = _as_problem(problem)
    conf_method = check_choice("conf_method", conf_method, ("bootstrap", "rqmc"))
    if replicates is None:
        replicates = 8 if conf_method == "rqmc" else 1
    scramble = True
    n, sampling, replicates = _check_design_args(n, sampling, replicates, scramble)
    second_order, n_boot, conf_level, conf_method, replicates, nan_policy = _check_analysis_args(
        second_order, n_boot, conf_level, conf_method, replicates, nan_policy
    )
    batch_rows = check_int("batch_rows", batch_rows, minimum=1)
    executor = check_executor(executor)
    step = _rows_per_block(prob.num_groups, second_order)
    key = kernel_key(rng)
    threads = resolve_num_threads(num_threads)
    total = n * replicates
    task = functools.partial(_eval_chunk, model, prob, n, replicates, second_order, sampling, scramble, key)
    out: dict[str, np.ndarray] = {}

    def consume(first: int, count: int, y: np.ndarray) -> None:
        if "Y" not in out:
            out["Y"] = np.empty((total * step,) + y.shape[1:])
        Y = out["Y"]
        if y.shape[1:] != Y.shape[1:]:
            raise ValueError(f"model returned outputs of shape {y.shape[1:]} for one chunk and {Y.shape[1:]} for another")
        Y[first * step : (first + count) * step] = y

    run_chunks(
        task, total, consume, grain=1, chunk_size=max(1, batch_rows // step), executor=executor, progress=progress,
        desc="sobol_analyze", num_threads=num_threads,
    )
    return _indices(
        prob, out["Y"], second_order=second_order, n_boot=n_boot, conf_level=conf_level, conf_method=conf_method,
        replicates=replicates, nan_policy=nan_policy, key=key, first=_BOOT_STREAM, threads=threads,
    )


# --------------------------------------------------------------------------------------------
# The g-function
# --------------------------------------------------------------------------------------------


def _check_a(a: Any) -> np.ndarray:
    arr = as_array(a, "a", ndim=1)
    if (arr < 0).any():
        raise ValueError(f"a must be >= 0; got {arr[arr < 0][0]:g}")
    return arr


def sobol_g(X: Any, a: Any, *, num_threads: int | None = None) -> np.ndarray:
    """Sobol's g-function ``f(x) = prod_j (|4 x_j - 2| + a_j) / (1 + a_j)`` on the rows of ``X``.

    Parameters
    ----------
    X : array-like, shape (rows, D)
        Points of ``[0, 1]^D``.
    a : array-like, shape (D,)
        Non-negative coefficients; small ``a_j`` makes input ``j`` important.

    Returns
    -------
    ndarray, shape (rows,)

    Notes
    -----
    Each factor has mean 1 and variance ``V_j = 1 / (3 (1 + a_j)^2)``, so the indices have the
    closed forms of ``sobol_g_indices`` (Sobol' 1998; Saltelli & Sobol' 1995).
    """
    x = as_array(X, "X", ndim=2)
    if x.size and (x.min() < 0.0 or x.max() > 1.0):
        raise ValueError(f"X must hold points of [0, 1]^D; got values in [{x.min():g}, {x.max():g}]")
    av = _check_a(a)
    if av.shape[0] != x.shape[1]:
        raise ValueError(f"a must have one coefficient per column of X ({x.shape[1]}); got {av.shape[0]}")
    return _core.sobol_g(x, av, resolve_num_threads(num_threads))


def sobol_g_indices(a: Any, names: Sequence[str] | None = None) -> SobolResult:
    """Closed-form Sobol' indices of the g-function (``conf_method="exact"``, zero half-widths).

    With ``V_j = 1 / (3 (1 + a_j)^2)`` and ``V = prod_j (1 + V_j) - 1``:
    ``S1_j = V_j / V``, ``ST_j = V_j prod_{l != j} (1 + V_l) / V``, ``S2_jl = V_j V_l / V``
    (Sobol' 1998). ``S2`` is in SALib's layout (upper triangle, NaN elsewhere).
    """
    av = _check_a(a)
    s1, st, s2 = _core.sobol_g_indices(av)
    G = av.shape[0]
    s2 = np.where(np.triu(np.ones((G, G), dtype=bool), 1), s2, np.nan)
    if names is None:
        names = tuple(f"x{j + 1}" for j in range(G))
    names = tuple(names)
    if len(names) != G:
        raise ValueError(f"names must have one name per coefficient ({G}); got {len(names)}")
    zero = np.zeros(G)
    return SobolResult(
        names=names, S1=s1, S1_conf=zero, ST=st, ST_conf=zero.copy(), S2=s2, S2_conf=np.where(np.isnan(s2), np.nan, 0.0),
        conf_method="exact", conf_level=1.0, n=0, n_omitted=0,
    )

