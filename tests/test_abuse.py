"""Bad input across the whole public API: no crash, no hang, no silent NaN.

Every public callable of ``tunelab.__all__`` has an entry in ``SPECS`` (a test fails when one
is missing, so new API cannot skip this file). An entry is a small valid call plus the *kind*
of each argument; each kind has a list of mutations (wrong shapes, dtypes, NaN/inf, empty,
huge and negative sizes, non-contiguous, Fortran-ordered and read-only arrays, lists, wrong
types, callables that return garbage or raise). Every call with one argument mutated must

* work: outputs finite (except fields the entry documents as possibly non-finite, e.g. the
  ``inf`` of a diverged GD trajectory), and for mutations that do not change the values
  (strided / read-only / Fortran / list / NumPy scalar) bit-identical to the valid call; or
* raise ``ValueError`` / ``TypeError`` whose message names the mutated argument (for a shape
  mismatch, any argument of the call); ``MemoryError`` is accepted for sizes beyond memory; an
  exception raised by a user callable must come back unchanged;
* never take more than a few seconds (``faulthandler`` kills a hang with a traceback).

The exhaustive pass runs every mutation of every argument; a hypothesis pass adds random
arrays (any shape, dtype, strides, NaN/inf) for the array arguments. The number of cases is
printed in the terminal summary ("abuse cases run").
"""

from __future__ import annotations

import faulthandler
import inspect
import math
import time
import warnings
from dataclasses import dataclass, field, fields, is_dataclass
from functools import partial
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tunelab
from tunelab._results import Result

from . import _counters

A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.5]])
STACK = np.stack([A, 2 * A])
X0 = np.array([1.0, -0.5, 0.25])
LRS = np.geomspace(1e-3, 2.0, 9)


class UserError(Exception):
    """Raised by a user callable: must reach the caller unchanged."""


def _user_x(x):
    """The user callables' own contract: a float vector of length 3 (else their own error)."""
    x = np.asarray(x)
    if x.shape != (3,) or x.dtype.kind not in "biuf":
        raise UserError(f"my model needs a float vector of length 3; got {x.dtype} {x.shape}")
    return x


def _loss(x):
    x = _user_x(x)
    with np.errstate(all="ignore"):
        return 0.5 * float(x @ A @ x)


def _grad(x):
    return A @ _user_x(x)


def _step_factory():
    state = {"x": X0.copy()}

    def step(lr):
        with np.errstate(all="ignore"):
            g = A @ state["x"]
            state["x"] = state["x"] - lr * g
            return 0.5 * float(state["x"] @ A @ state["x"]) + 1e-3

    return step


def _objective(n, b, seed):
    return (np.log(b) - np.log(2.0 * n**0.3)) ** 2 + 0.01 * seed


# max_steps bounds the work any drawn (N, B) may ask for (the default, 10^9 steps, is minutes
# per run: a valid request, but not one this test's 10-s budget can judge).
_OBJ = tunelab.SGDQuadraticObjective(dim=8, rng=1, max_steps=10**6)

# optimizers: R = 3 replicas of d = 4
_P = np.array([[1.0, -2.0, 0.5, 3.0], [0.1, 0.2, 0.3, 0.4], [-1.0, 0.0, 1.0, 2.0]])
_GRADS = np.array([[0.5, -1.0, 2.0, 0.1], [3.0, 0.0, -0.2, 1.0], [0.1, 0.1, 0.1, 0.1]])
_OPT_VALID = {
    "SGD": dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=False, max_grad_norm=2.0),
    "Adam": dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, max_grad_norm=2.0),
    "AdamW": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, max_grad_norm=None),
}
_OPT_KINDS = {
    "SGD": dict(lr="real", momentum="real", dampening="real", weight_decay="real", nesterov="bool", max_grad_norm="real"),
    "Adam": dict(lr="real", betas="array", eps="real", weight_decay="real", max_grad_norm="real"),
    "AdamW": dict(lr="real", betas="array", eps="real", weight_decay="real", max_grad_norm="real"),
}
_OPT_PER_REPLICA = {
    "SGD": dict(lr=np.array([0.1, 0.2, 0.0]), momentum=np.array([0.0, 0.5, 0.9]), weight_decay=np.array([0.0, 0.1, 1.0]),
                max_grad_norm=np.array([1.0, np.inf, 0.5])),
    "Adam": dict(lr=np.array([0.1, 0.2, 0.0]), eps=np.array([1e-8, 1e-3, 1.0]), max_grad_norm=np.array([1.0, np.inf, 0.5])),
    "AdamW": dict(lr=np.array([0.1, 0.2, 0.0]), weight_decay=np.array([0.0, 0.1, 1.0])),
}


def _opt_run(cls, params, **kw):
    """Build the optimizer (a fresh copy of the valid params: it is updated in place) and take two steps."""
    if params is _P:
        params = _P.copy()
    opt = getattr(tunelab.optim, cls)(params, **kw)
    infos = [opt.step(_GRADS), opt.step(0.5 * _GRADS)]
    return (opt.params, *infos)


def _opt_step(cls, grads, dtype=np.float64):
    opt = getattr(tunelab.optim, cls)(_P.astype(dtype), **_OPT_VALID[cls])
    infos = [opt.step(grads), opt.step(grads)]
    return (opt.params, *infos)


_H = np.array([0.5, 1.0, 2.0])
#: all replicas may diverge (large rates): their statistics are then NaN and final losses inf
_QUAD_NONFINITE = {"loss_mean", "loss_sem", "final_loss", "effective_lr_mean", "effective_lr_sem", "steady_state"}
_EP = np.arange(1, 61, dtype=float)
_TRAIN = 1.0 / _EP
_VAL = 1.0 / _EP + 1e-3 * (_EP - 20.0) ** 2 / 40.0
#: the law's mean, sd and quantiles are NaN when the rule never stops (p_never = 1, documented)
_STOP_NONFINITE = {"mean", "std", "quantiles"}


def _train_curve(e):
    return 1.0 / np.asarray(e, dtype=float)


def _val_curve(e):
    e = np.asarray(e, dtype=float)
    return 1.0 / e + 1e-3 * (e - 20.0) ** 2 / 40.0


_NX = np.random.default_rng(2).standard_normal((8, 2))
_NY = np.sin(_NX[:, 0]) + 0.1 * _NX[:, 1]


def _early_stopping_run(value=None, **kw):
    """Build the rule, feed it ``_VAL`` (``value`` replacing one epoch) until it stops, and return
    what it decided."""
    es = tunelab.EarlyStopping(**kw)
    stops = [es.update(v) for v in (_VAL[:5].tolist() + [value] + _VAL[5:].tolist() if value is not None else _VAL)]
    return stops.index(True) if any(stops) else -1, es.best_epoch, es.best_value


def _early_stopping_reliability(**kw):
    es = tunelab.EarlyStopping(patience=1000)
    for v in _VAL:
        es.update(v)
    return es.reliability(**kw)


def _net_run(**kw):
    net = tunelab.TwoLayerNet(**kw)
    theta = np.linspace(-0.5, 0.5, net.D)
    return (net.loss(theta), net.grad(theta), net.hvp(theta, np.ones(net.D)))


def _dim_run(cls):
    def run(**kw):
        dim = getattr(tunelab, cls)(**kw)
        return (np.asarray(dim.grid(4)), np.asarray(dim.sample(6, np.random.default_rng(0))))

    run.__name__ = cls
    return run


def _search_objective(**dims):
    """Vectorised: one array per dimension (any names); a real score per configuration."""
    score = 0.0
    for name, v in dims.items():
        v = np.asarray(v)
        if v.dtype.kind not in "biuf":
            raise UserError(f"my objective needs numbers for {name}; got {v.dtype}")
        with np.errstate(all="ignore"):
            score = score + ((np.log(v) + 3.0) ** 2 if name == "lr" else v.astype(float))
    return score


_SPACE = {"lr": tunelab.LogUniform(1e-4, 1.0), "wd": [0.0, 0.1, 0.2]}
_PROBLEM = tunelab.Problem(["a", "b", "c"], [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
_SOBOL_A = np.array([0.0, 1.0, 9.0])
_SOBOL_Y = tunelab.sobol_g(tunelab.saltelli_sample(_PROBLEM, 32, rng=5), _SOBOL_A)


def _sobol_model(X):
    """The user's model: rows of 3 inputs (else its own error)."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 3 or X.dtype.kind != "f":
        raise UserError(f"my model needs rows of 3 floats; got {X.dtype} {X.shape}")
    return tunelab.sobol_g(np.clip(X, 0.0, 1.0), _SOBOL_A)


# ------------------------------------------------------------------------------------ kinds
# Each mutation: (label, value or factory(valid) -> value, same) where same=True means the
# values are unchanged (the result must equal the valid call's).
def _readonly(a):
    b = np.array(a)
    b.flags.writeable = False
    return b


def _strided(a):
    a = np.asarray(a)
    big = np.zeros(tuple(2 * s for s in a.shape) if a.ndim else (), dtype=a.dtype)
    view = big[tuple(slice(None, None, 2) for _ in a.shape)] if a.ndim else big
    view[...] = a
    return view


def _with(a, value):
    b = np.array(a, dtype=np.float64)
    if b.size:
        b.flat[b.size // 2] = value
    return b


ARRAY_MUTATIONS: list[tuple[str, Callable[[Any], Any], bool]] = [
    ("strided", _strided, True),
    ("read-only", _readonly, True),
    ("fortran", lambda a: np.asfortranarray(a), True),
    ("list", lambda a: np.asarray(a).tolist(), True),
    ("float32", lambda a: np.asarray(a, dtype=np.float32), False),
    ("int", lambda a: np.round(np.asarray(a)).astype(np.int64), False),
    ("bool", lambda a: np.asarray(a) != 0, False),
    ("complex", lambda a: np.asarray(a) + 0j, False),
    ("object", lambda a: np.asarray(a).astype(object), False),
    ("strings", lambda a: np.asarray(a).astype(str), False),
    ("nan", lambda a: _with(a, np.nan), False),
    ("inf", lambda a: _with(a, np.inf), False),
    ("-inf", lambda a: _with(a, -np.inf), False),
    ("huge-values", lambda a: np.asarray(a, dtype=float) * 1e300, False),
    ("tiny-values", lambda a: np.asarray(a, dtype=float) * 1e-300, False),
    ("negated", lambda a: -np.asarray(a, dtype=float), False),
    ("zeros", lambda a: np.zeros_like(np.asarray(a, dtype=float)), False),
    ("empty", lambda a: np.zeros((0,) + np.shape(a)[1:]), False),
    ("empty-last", lambda a: np.zeros(np.shape(a)[:-1] + (0,)) if np.ndim(a) else np.zeros(0), False),
    ("extra-dim", lambda a: np.asarray(a)[None], False),
    ("scalar", lambda a: np.asarray(a).ravel()[0] if np.size(a) else 1.0, False),
    ("shorter", lambda a: np.asarray(a)[:-1] if np.ndim(a) else np.zeros(2), False),
    ("longer", lambda a: np.concatenate([np.asarray(a), np.asarray(a)[:1]]) if np.ndim(a) else np.zeros(2), False),
    ("transposed-shape", lambda a: np.ones(np.shape(a)[::-1] + (1,))[..., 0] if np.ndim(a) >= 2 else np.ones((len(a), 2)), False),
    ("ragged", [[1.0, 2.0], [3.0]], False),
    ("string", "abc", False),
    ("none", None, False),
    ("dict", {"a": 1}, False),
    ("callable", lambda v: v, False),
]

INT_MUTATIONS = [
    ("negative", -1, False),
    ("zero", 0, False),
    ("float-int", 3.0, False),
    ("float", 2.5, False),
    ("bool", True, False),
    ("string", "3", False),
    ("none", None, False),
    ("nan", math.nan, False),
    ("complex", 1 + 0j, False),
    ("array", np.array([3, 4]), False),
]
#: Huge values for counts that size an allocation (refused or MemoryError, never wrapped).
HUGE_INTS = [("2**40", 2**40, False), ("2**62", 2**62, False), ("2**63", 2**63, False), ("2**64", 2**64, False),
             ("10**30", 10**30, False), ("-2**63", -(2**63), False)]

REAL_MUTATIONS = [
    ("nan", math.nan, False), ("inf", math.inf, False), ("-inf", -math.inf, False), ("negative", -1.0, False),
    ("zero", 0.0, False), ("huge", 1e308, False), ("tiny", 1e-308, False), ("string", "1.0", False),
    ("none", None, False), ("bool", True, False), ("complex", 1 + 2j, False), ("array", np.array([0.5, 0.6]), False),
]

CHOICE_MUTATIONS = [("bogus", "bogus", False), ("none", None, False), ("int", 1, False), ("upper", "POWER", False),
                    ("list", ["power"], False)]
BOOL_MUTATIONS = [("int", 1, False), ("string", "yes", False), ("none", None, False), ("np-bool", np.bool_(True), False)]
RNG_MUTATIONS = [("negative", -1, False), ("string", "seed", False), ("float", 1.5, False), ("list", [1, 2], False),
                 ("object", object(), False), ("bool", True, False), ("randomstate", np.random.RandomState(0), False),
                 ("big", 2**80, False), ("generator", np.random.default_rng(5), False)]
THREAD_MUTATIONS = [("zero", 0, False), ("negative", -1, False), ("float", 1.5, False), ("string", "2", False),
                    ("bool", True, False), ("many", 10**6, False), ("2**40", 2**40, False), ("np-int", np.int64(2), True),
                    ("one", 1, True), ("three", 3, True)]
EXECUTOR_MUTATIONS = [("int", 42, False), ("string", "pool", False), ("object", object(), False), ("map", map, True)]


def _callable_mutations(kind: str) -> list[tuple[str, Any, bool]]:
    out: list[tuple[str, Any, bool]] = [("int", 3, False), ("string", "f", False), ("none-value", None, False)]

    def raises(*a, **k):
        raise UserError("boom")

    out.append(("raises", raises, False))
    garbage = {"nan": math.nan, "inf": math.inf, "string": "x", "none": None, "complex": 1 + 1j, "list": [1.0, 2.0]}
    if kind == "matvec":
        garbage.update({"short": np.zeros(2), "nan-vec": np.full(3, np.nan), "2d": np.zeros((3, 3)), "strings": np.array(["a"] * 3)})
    if kind == "grad":
        garbage.update({"short": np.zeros(2), "nan-vec": np.full(3, np.nan), "strings": np.array(["a"] * 3)})
    for label, value in garbage.items():
        out.append((f"returns-{label}", (lambda v: (lambda *a, **k: v))(value), False))
    return out


NAMES_MUTATIONS = [("empty", [], False), ("string", "abc", False), ("ints", [1, 2, 3], False), ("none", None, False),
                   ("duplicates", ["a", "a", "b"], False), ("shorter", ["a", "b"], False), ("longer", ["a", "b", "c", "d"], False),
                   ("dict", {"a": 1}, False), ("nested", [["a"], ["b"], ["c"]], False), ("tuple", ("p", "q", "r"), False)]
SPACE_MUTATIONS = [("empty", {}, False), ("none", None, False), ("list", [1.0, 2.0], False), ("bad-name", {"1x": [1.0]}, False),
                   ("string-dim", {"x": "abc"}, False), ("empty-dim", {"x": []}, False), ("int-dim", {"x": 3}, False),
                   ("nan-dim", {"x": [1.0, math.nan]}, False), ("2d-dim", {"x": [[1.0, 2.0]]}, False),
                   ("non-str-name", {1: [1.0]}, False)]
PROBLEM_MUTATIONS = [("empty", {}, False), ("none", None, False), ("list", [1, 2], False), ("string", "problem", False),
                     ("no-bounds", {"names": ["a", "b"]}, False), ("reversed", {"names": ["a"], "bounds": [[1.0, 0.0]]}, False),
                     ("nan-bound", {"names": ["a"], "bounds": [[0.0, math.nan]]}, False),
                     ("inf-bound", {"names": ["a"], "bounds": [[0.0, math.inf]]}, False),
                     ("num_vars", {"num_vars": 3, "names": ["a"], "bounds": [[0.0, 1.0]]}, False),
                     ("dists", {"names": ["a"], "bounds": [[0.0, 1.0]], "dists": ["norm"]}, False),
                     ("bad-groups", {"names": ["a", "b"], "bounds": [[0, 1], [0, 1]], "groups": ["g"]}, False),
                     ("huge-width", {"names": ["a", "b", "c", "d"], "bounds": [[-1e308, 1e308]] * 4}, False)]


KINDS: dict[str, list[tuple[str, Any, bool]]] = {
    "names": NAMES_MUTATIONS,
    "space": SPACE_MUTATIONS,
    "problem": PROBLEM_MUTATIONS,
    "int": INT_MUTATIONS,
    "size": INT_MUTATIONS + HUGE_INTS,
    "real": REAL_MUTATIONS,
    "choice": CHOICE_MUTATIONS,
    "bool": BOOL_MUTATIONS,
    "rng": RNG_MUTATIONS,
    "threads": THREAD_MUTATIONS,
    "executor": EXECUTOR_MUTATIONS,
    "out": [("float32", lambda a: np.empty(np.shape(a), np.float32), False), ("strided", lambda a: np.empty(2 * np.size(a))[::2], False),
            ("read-only", _readonly, False), ("list", lambda a: [0.0] * np.size(a), False), ("int", lambda a: np.empty(np.shape(a), np.int64), False),
            ("fortran", lambda a: np.asfortranarray(np.empty((np.size(a) // 2, 2))), False)],
}


# ------------------------------------------------------------------------------------ specs
@dataclass
class Spec:
    """One public callable: ``call(**valid)`` works; ``kinds`` maps argument name -> kind."""

    call: Callable[..., Any]
    valid: dict[str, Any]
    kinds: dict[str, str]
    #: result fields (or "result") that may be non-finite, as documented
    nonfinite: set[str] = field(default_factory=set)
    #: warning categories that may be issued (e.g. a documented RuntimeWarning)
    warns: tuple[type[Warning], ...] = ()


def _array_kinds(*names: str) -> dict[str, str]:
    return {n: "array" for n in names}


SPECS: dict[str, Spec] = {
    "openmp_enabled": Spec(tunelab.openmp_enabled, {}, {}),
    "standard_normal": Spec(tunelab.standard_normal, dict(size=6, rng=1, stream=0, first=0, num_threads=None),
                            dict(size="size", rng="rng", stream="size", first="size", num_threads="threads")),
    "standard_normal[out]": Spec(lambda **k: tunelab.standard_normal(**k), dict(out=np.empty(6), rng=1), dict(out="out")),
    "uniform": Spec(tunelab.uniform, dict(size=6, rng=1, stream=0, first=0, num_threads=None),
                    dict(size="size", rng="rng", stream="size", first="size", num_threads="threads")),
    "top_eigenvalue": Spec(tunelab.top_eigenvalue, dict(A=A, method="power", which="LA", tol=1e-8, max_iter=500,
                                                         reorth="full", rng=1, num_threads=None),
                           dict(A="array", method="choice", which="choice", tol="real", max_iter="int", reorth="choice",
                                rng="rng", num_threads="threads"), nonfinite=set()),
    "top_eigenvalue[stack]": Spec(tunelab.top_eigenvalue, dict(A=STACK, rng=1, num_threads=None),
                                  dict(A="array", num_threads="threads")),
    "top_eigenvalue[callable]": Spec(tunelab.top_eigenvalue, dict(A=partial(np.dot, A), n=3, method="lanczos", rng=1),
                                     dict(A="matvec", n="size", method="choice")),
    "top_eigenvalues": Spec(tunelab.top_eigenvalues, dict(A=A, k=2, which="LA", method="auto", tol=1e-8, max_iter=None,
                                                           rng=1, num_threads=None),
                            dict(A="array", k="int", which="choice", method="choice", tol="real", rng="rng",
                                 num_threads="threads")),
    "top_eigenvalues[lanczos]": Spec(tunelab.top_eigenvalues, dict(A=A, k=1, method="lanczos", max_iter=50, rng=1),
                                     dict(max_iter="int")),
    "top_eigenvalues[stack]": Spec(tunelab.top_eigenvalues, dict(A=STACK, k=2, num_threads=None),
                                   dict(A="array", num_threads="threads")),
    "top_eigenvalues[callable]": Spec(tunelab.top_eigenvalues, dict(A=partial(np.dot, A), k=2, n=3, rng=1),
                                      dict(A="matvec", n="size")),
    "spectral_density": Spec(tunelab.spectral_density, dict(A=A, n_probes=4, n_lanczos=3, grid=None, sigma=None, rng=1),
                             dict(A="array", n_probes="int", n_lanczos="int", sigma="real", rng="rng")),
    "spectral_density[grid]": Spec(tunelab.spectral_density, dict(A=A, n_probes=3, grid=np.linspace(0.0, 3.0, 7), rng=1),
                                   dict(grid="array")),
    "spectral_density[callable]": Spec(tunelab.spectral_density, dict(A=partial(np.dot, A), n=3, n_probes=3, rng=1),
                                       dict(A="matvec", n="size")),
    "stability_bound": Spec(tunelab.stability_bound, dict(A=A, tol=1e-8, max_iter=500, rng=1),
                            dict(A="array", tol="real", max_iter="int", rng="rng")),
    "gd_quadratic": Spec(tunelab.gd_quadratic, dict(H=A, x0=X0, lrs=LRS[:4], steps=5, method="iterate", num_threads=None),
                         dict(H="array", x0="array", lrs="array", steps="size", method="choice", num_threads="threads"),
                         nonfinite={"result"}),  # +-inf from the first overflow on (documented), never NaN
    "gd_quadratic[eigen]": Spec(tunelab.gd_quadratic, dict(H=A, x0=X0, lrs=LRS[:4], steps=5, method="eigen",
                                                           num_threads=None),
                                dict(H="array", x0="array", lrs="array", steps="size", num_threads="threads"),
                                nonfinite={"result"}),
    "hutchinson_trace": Spec(tunelab.hutchinson_trace, dict(A=A, n_samples=128, rng=1, num_threads=None, executor=None,
                                                             progress=False, chunk_size=None),
                             dict(A="array", n_samples="int", rng="rng", num_threads="threads", executor="executor",
                                  progress="bool", chunk_size="int")),
    "hutchinson_trace[callable]": Spec(tunelab.hutchinson_trace, dict(A=partial(np.dot, A), n_samples=64, n=3, rng=1),
                                       dict(A="matvec", n="size")),
    "lr_range_test": Spec(tunelab.lr_range_test, dict(loss=_loss, grad=_grad, x0=X0, lrs=LRS),
                          dict(loss="loss", grad="grad", x0="array", lrs="array"),
                          nonfinite={"lr_critical", "curvature", "losses"}),
    "lr_range_test_quadratic": Spec(tunelab.lr_range_test_quadratic, dict(H=A, x0=X0, lrs=LRS, num_threads=None),
                                    dict(H="array", x0="array", lrs="array", num_threads="threads"),
                                    nonfinite={"lr_critical", "curvature", "losses"}),
    "lr_finder": Spec(lambda **k: tunelab.lr_finder(k.pop("step", None) or _step_factory(), **k),
                      dict(lr_min=1e-4, lr_max=1.0, num_steps=20, smooth=0.5, diverge_factor=4.0, suggestion="steep",
                           skip_start=2, skip_end=5),
                      dict(lr_min="real", lr_max="real", num_steps="int", smooth="real", diverge_factor="real",
                           suggestion="choice", skip_start="int", skip_end="int"),
                      nonfinite={"lr_suggested", "smoothed", "losses"}),
    "lr_finder[step]": Spec(tunelab.lr_finder, dict(step=(lambda lr: 1.0 / (1.0 + lr)), num_steps=10), dict(step="loss"),
                            nonfinite={"lr_suggested", "smoothed", "losses"}),
    "arcsine_spearman": Spec(tunelab.arcsine_spearman, dict(rho=np.array([0.1, -0.5, 0.9])), dict(rho="array")),
    "spearman_matrix": Spec(tunelab.spearman_matrix, dict(X=np.arange(12.0).reshape(4, 3) ** 1.5 % 5, axis=0, num_threads=None),
                            dict(X="array", axis="int", num_threads="threads"), nonfinite={"result"},
                            warns=(tunelab.ConstantInputWarning,)),
    "fit_power_law": Spec(tunelab.fit_power_law, dict(x=np.array([1.0, 2.0, 4.0, 8.0, 16.0]),
                                                      y=np.array([1.0, 1.5, 2.1, 2.9, 4.2]), n_boot=100, conf_level=0.9,
                                                      ci_method="auto", rng=1),
                          dict(x="array", y="array", n_boot="int", conf_level="real", ci_method="choice", rng="rng")),
    "gradient_noise_scale[per-example]": Spec(tunelab.gradient_noise_scale,
                                              dict(per_example_grads=np.random.default_rng(0).standard_normal((20, 3)) + 3.0,
                                                   hessian=A),
                                              dict(per_example_grads="array", hessian="array"),
                                              nonfinite={"B_simple", "B_noise", "critical_batch_size"}, warns=(RuntimeWarning,)),
    "gradient_noise_scale[two-batch]": Spec(tunelab.gradient_noise_scale,
                                            dict(grad_sq_small=np.array([5.0, 5.2]), grad_sq_big=np.array([3.1, 3.0]),
                                                 batch_small=8.0, batch_big=64.0),
                                            dict(grad_sq_small="array", grad_sq_big="array", batch_small="real", batch_big="real"),
                                            nonfinite={"B_simple", "B_noise", "critical_batch_size"}, warns=(RuntimeWarning,)),
    "batch_scaling_study": Spec(tunelab.batch_scaling_study,
                                dict(objective=_objective, dataset_sizes=[1e2, 1e3, 1e4], batch_sizes=np.geomspace(1, 100, 7),
                                     n_seeds=2, refine=True, n_boot=100, conf_level=0.9, rng=0, executor=None, progress=False,
                                     num_threads=None),
                                dict(objective="objective", dataset_sizes="array", batch_sizes="array", n_seeds="int",
                                     refine="bool", n_boot="int", conf_level="real", rng="rng", executor="executor",
                                     progress="bool", num_threads="threads"),
                                warns=(RuntimeWarning,)),
    "transfer_study": Spec(tunelab.transfer_study,
                           dict(coupling=np.array([0.9, 0.5]), n_seeds=16, lr_grid=np.geomspace(1e-4, 1e-2, 8), mu=np.log(1e-3),
                                sigma=1.0, eval_noise=0.01, rng=3, num_threads=None, executor=None, progress=False,
                                chunk_size=None),
                           dict(coupling="array", n_seeds="size", lr_grid="array", mu="real", sigma="real", eval_noise="real",
                                rng="rng", num_threads="threads", executor="executor", progress="bool", chunk_size="int"),
                           nonfinite={"spearman", "latent_spearman", "stderr"}, warns=(tunelab.ConstantInputWarning,)),
    "transfer_study[per-task]": Spec(tunelab.transfer_study, dict(coupling=[0.9, 0.5], n_seeds=16, mu=np.array([-7.0, -6.0]),
                                                                  sigma=np.array([1.0, 0.5]), rng=3),
                                     dict(mu="array", sigma="array"), nonfinite={"spearman", "latent_spearman", "stderr"},
                                     warns=(tunelab.ConstantInputWarning,)),
    "SGDQuadraticObjective": Spec(lambda **k: tunelab.SGDQuadraticObjective(**k)(1e3, 16.0, 0),
                                  dict(dim=8, spectrum_exponent=2.0, init_exponent=3.0, lr=0.5, noise=1.0, epochs=1.0,
                                       avg_fraction=0.5, rng=0, max_steps=10**6),
                                  dict(dim="int", spectrum_exponent="real", init_exponent="real", lr="real", noise="real",
                                       epochs="real", avg_fraction="real", rng="rng", max_steps="int")),
    "SGDQuadraticObjective.evaluate_grid": Spec(_OBJ.evaluate_grid, dict(dataset_sizes=[1e3, 2e3], batch_sizes=[8.0, 32.0],
                                                                         seeds=[0, 1], num_threads=None),
                                                dict(dataset_sizes="array", batch_sizes="array", seeds="array",
                                                     num_threads="threads")),
    "SGDQuadraticObjective.__call__": Spec(lambda **k: _OBJ(k["dataset_size"], k["batch_size"], k["seed"]),
                                           dict(dataset_size=1e3, batch_size=16.0, seed=0),
                                           dict(dataset_size="real", batch_size="real", seed="int")),
    "SGDQuadraticObjective.expected_loss": Spec(_OBJ.expected_loss, dict(dataset_size=1e3, batch_size=16.0),
                                                dict(dataset_size="real", batch_size="real")),
    # ---- optimizers (params is updated in place: each call gets a fresh copy of the valid array)
    # The parameters ("result") overflow to +-inf/NaN when lr or weight_decay is huge (documented:
    # the update is PyTorch's arithmetic); a non-finite gradient skips its replica and is reported
    # in StepInfo.grad_norm (documented).
    **{f"optim.{cls}": Spec(partial(_opt_run, cls), dict(params=_P, **_OPT_VALID[cls], num_threads=None),
                            dict(params="out", **_OPT_KINDS[cls], num_threads="threads"), nonfinite={"result"})
       for cls in ("SGD", "Adam", "AdamW")},
    **{f"optim.{cls}[per-replica]": Spec(partial(_opt_run, cls), dict(params=_P, **_OPT_PER_REPLICA[cls]),
                                         {k: "array" for k in _OPT_PER_REPLICA[cls]}, nonfinite={"result"})
       for cls in ("SGD", "Adam", "AdamW")},
    **{f"optim.{cls}.step": Spec(partial(_opt_step, cls), dict(grads=_GRADS), dict(grads="array"), nonfinite={"grad_norm"})
       for cls in ("SGD", "Adam", "AdamW")},
    "optim.SGD.step[float32]": Spec(partial(_opt_step, "SGD", dtype=np.float32), dict(grads=_GRADS), dict(grads="array"),
                                    nonfinite={"grad_norm"}),
    "effective_lr": Spec(tunelab.effective_lr, dict(lr=np.array([0.1, 0.2, 0.3]), max_grad_norm=1.0,
                                                    grad_norm=np.array([0.5, 1.0, 4.0])),
                         dict(lr="array", max_grad_norm="real", grad_norm="array")),
    # ---- quadratic
    "simulate_quadratic": Spec(tunelab.simulate_quadratic,
                               dict(h=_H, optimizer="sgd", lr=0.1, batch_size=2, accum_steps=1, noise_std=1.0, steps=20,
                                    replicas=64, x0=1.0, momentum=None, dampening=0.0, nesterov=False, eps=1e-8,
                                    weight_decay=0.0, max_grad_norm=None, noise="gaussian", dof=3.0, record_every=None,
                                    max_loss=None, rng=1, num_threads=None, executor=None, progress=False, chunk_size=None),
                               dict(h="array", optimizer="choice", lr="real", batch_size="int", accum_steps="int",
                                    noise_std="real", steps="int", replicas="size", x0="real", momentum="real",
                                    dampening="real", nesterov="bool", eps="real", weight_decay="real", max_grad_norm="real",
                                    noise="choice", dof="real", record_every="int", max_loss="real", rng="rng",
                                    num_threads="threads", executor="executor", progress="bool", chunk_size="int"),
                               nonfinite=_QUAD_NONFINITE),
    "simulate_quadratic[adam,arrays]": Spec(tunelab.simulate_quadratic,
                                            dict(h=np.tile(_H, (8, 1)), optimizer="adam", lr=np.geomspace(1e-3, 0.1, 8),
                                                 x0=np.ones(3), batch_size=np.arange(1, 9), max_grad_norm=np.full(8, 2.0),
                                                 noise="student_t", steps=10, replicas=8, rng=1),
                                            dict(h="array", lr="array", x0="array", batch_size="array", max_grad_norm="array"),
                                            nonfinite=_QUAD_NONFINITE),
    "steady_state_loss": Spec(tunelab.steady_state_loss, dict(h=_H, lr=0.1, batch_size=4.0, noise_var=1.0),
                              dict(h="array", lr="real", batch_size="real", noise_var="real"),
                              nonfinite={"result"}),  # inf where lr * h >= 2 (documented: no stationary law)
    "accumulation_study": Spec(tunelab.accumulation_study,
                               # 2 replicas: random lrs/hs may ask for the longest transient (10^6 steps)
                               dict(hs=[[1.0, 2.0]], lrs=(0.2,), splits=((2, 2),), noise_std=1.0, replicas=2, rng=0,
                                    num_threads=None, executor=None),
                               dict(hs="array", lrs="array", splits="array", noise_std="real", replicas="size", rng="rng",
                                    num_threads="threads", executor="executor")),
    # ---- early stopping
    "stopping_distribution": Spec(tunelab.stopping_distribution,
                                  dict(train_loss=_TRAIN, val_loss=_VAL, threshold=0.05, noise_std=0.02, method="exact",
                                       rho=0.0, n_rep=1000, rng=1, num_threads=None, executor=None, progress=False,
                                       n_epochs=None),
                                  dict(train_loss="array", val_loss="array", threshold="real", noise_std="real",
                                       method="choice", rho="real", n_rep="int", num_threads="threads", n_epochs="int"),
                                  nonfinite=_STOP_NONFINITE),
    "stopping_distribution[monte_carlo]": Spec(tunelab.stopping_distribution,
                                               dict(train_loss=_TRAIN, val_loss=_VAL, threshold=0.05, noise_std=(0.01, 0.02),
                                                    method="monte_carlo", rho=0.3, n_rep=1000, rng=1, num_threads=None,
                                                    executor=None, progress=False),
                                               dict(train_loss="array", val_loss="array", noise_std="array", rho="real",
                                                    n_rep="int", rng="rng", num_threads="threads", executor="executor",
                                                    progress="bool"),
                                               nonfinite=_STOP_NONFINITE),
    "stopping_distribution[callables]": Spec(tunelab.stopping_distribution,
                                             dict(train_loss=_train_curve, val_loss=_val_curve, threshold=0.05,
                                                  noise_std=0.02, n_epochs=60),
                                             dict(train_loss="loss", val_loss="loss", n_epochs="size"),
                                             nonfinite=_STOP_NONFINITE),
    "threshold_for_reliability": Spec(tunelab.threshold_for_reliability,
                                      dict(train_loss=_TRAIN, val_loss=_VAL, noise_std=0.02, k=5, target=0.5, bounds=(0.0, 0.2),
                                           grid=32, num_threads=None, n_epochs=None),
                                      dict(train_loss="array", val_loss="array", noise_std="real", k="int", target="real",
                                           bounds="array", grid="int", num_threads="threads", n_epochs="int"),
                                      nonfinite={"reliability", "best_threshold", "best_reliability"}),
    "EarlyStopping": Spec(_early_stopping_run, dict(patience=3, min_delta=1e-3, mode="min", baseline=None,
                                                   start_from_epoch=2, restore_best=True),
                          dict(patience="int", min_delta="real", mode="choice", baseline="real",
                               start_from_epoch="int", restore_best="bool"),
                          nonfinite={"result"}),  # best_value: -inf once an -inf value is seen (it improves)
    "EarlyStopping.update": Spec(_early_stopping_run, dict(value=0.5), dict(value="real"),
                                 nonfinite={"result"}),  # NaN/inf values are taken, as Keras takes them
    "EarlyStopping.reliability": Spec(_early_stopping_reliability, dict(window=9, n_boot=3, n_rep=200, rng=1,
                                                                        num_threads=None),
                                      dict(window="int", n_boot="int", n_rep="int", rng="rng",
                                           num_threads="threads"),
                                      nonfinite={"noise_std_se", "regret_se", "expected_epochs_se"}),  # n_boot < 2, n_rep = 1
    "patience_stopping": Spec(tunelab.patience_stopping,
                              dict(val_loss=_VAL, patience=3, min_delta=0.0, mode="min", noise_std=0.02, rho=0.0,
                                   restore_best=True, n_rep=1000, rng=1, num_threads=None, executor=None, progress=False,
                                   n_epochs=None),
                              dict(val_loss="array", patience="int", min_delta="real", mode="choice", noise_std="real",
                                   rho="real", restore_best="bool", n_rep="int", rng="rng", num_threads="threads",
                                   executor="executor", progress="bool", n_epochs="int"),
                              nonfinite={"expected_epochs_se", "regret_se"}),  # NaN for n_rep = 1 (documented)
    "patience_tradeoff": Spec(tunelab.patience_tradeoff,
                              dict(val_loss=_VAL, patience=np.array([1, 3]), min_delta=np.array([0.0, 1e-3]), mode="max",
                                   noise_std=0.02, rho=0.2, restore_best=False, n_rep=500, rng=1, num_threads=None,
                                   executor=None, progress=False),
                              dict(val_loss="array", patience="array", min_delta="array", mode="choice", noise_std="real",
                                   rho="real", restore_best="bool", n_rep="int", rng="rng", num_threads="threads",
                                   executor="executor", progress="bool"),
                              nonfinite={"expected_epochs_se", "regret_se"}),
    # ---- weight decay
    "weight_decay_study": Spec(tunelab.weight_decay_study,
                               dict(weight_decays=(0.0, 0.1), seeds=2, steps=5, lr=0.01, hidden=3, inputs=2, n_train=8,
                                    n_test=8, label_noise=0.3, rng=0),
                               dict(weight_decays="array", seeds="int", steps="int", lr="real", hidden="int", inputs="int",
                                    n_train="int", n_test="int", label_noise="real", rng="rng")),
    "TwoLayerNet": Spec(_net_run, dict(X=_NX, y=_NY, hidden=3), dict(X="array", y="array", hidden="int")),
    # ---- search
    "Grid": Spec(_dim_run("Grid"), dict(values=[0.1, 0.5, 2.0]), dict(values="array"),
                 nonfinite={"result"}),  # +-inf values are allowed (e.g. "no clipping"); NaN is refused
    "Uniform": Spec(_dim_run("Uniform"), dict(low=0.0, high=2.0), dict(low="real", high="real")),
    "LogUniform": Spec(_dim_run("LogUniform"), dict(low=1e-3, high=2.0), dict(low="real", high="real")),
    "grid_search": Spec(tunelab.grid_search, dict(objective=_search_objective, space=_SPACE, num=3, minimize=True),
                        dict(objective="objective", space="space", num="int", minimize="bool")),
    "random_search": Spec(tunelab.random_search, dict(objective=_search_objective, space=_SPACE, n=8, rng=1, minimize=False),
                          dict(objective="objective", space="space", n="size", rng="rng", minimize="bool")),
    "clipping_study": Spec(tunelab.clipping_study,
                           dict(h=np.array([0.5, 2.0]), lrs=np.array([0.01, 0.1]), clips=np.array([1.0, np.inf]), seeds=2,
                                steps=10, noise_std=1.0, dof=3.0, batch_size=1, x0=1.0, optimizer="sgd", rng=0,
                                num_threads=None),
                           dict(h="array", lrs="array", clips="array", seeds="int", steps="int", noise_std="real",
                                dof="real", batch_size="int", x0="real", optimizer="choice", rng="rng", num_threads="threads"),
                           # inf: "no clipping", or a configuration diverged (documented); NaN: no SE there
                           nonfinite={"clip_values", "max_grad_norm", "scores", "best_loss", "best_score",
                                      "effective_lr_curves", "score_sem", "best_loss_sem"}),
    # ---- Sobol
    "Problem": Spec(tunelab.Problem, dict(names=["a", "b", "c"], bounds=np.array([[0.0, 1.0], [-1.0, 1.0], [2.0, 5.0]]),
                                          groups=None),
                    dict(names="names", bounds="array", groups="names")),
    "sobol_points": Spec(tunelab.sobol_points, dict(d=3, n=16, scramble=True, first=0, rng=1, num_threads=None),
                         dict(d="size", n="size", scramble="bool", first="size", rng="rng", num_threads="threads")),
    "sobol_points[out]": Spec(lambda **k: tunelab.sobol_points(3, 16, rng=1, **k), dict(out=np.empty((16, 3))),
                              dict(out="out")),
    "saltelli_sample": Spec(tunelab.saltelli_sample,
                            dict(problem=_PROBLEM, n=16, second_order=False, scramble=True, sampling="sobol", replicates=1,
                                 rng=1, num_threads=None),
                            dict(problem="problem", n="size", second_order="bool", scramble="bool", sampling="choice",
                                 replicates="size", rng="rng", num_threads="threads")),
    "sobol_indices": Spec(tunelab.sobol_indices,
                          dict(problem=_PROBLEM, Y=_SOBOL_Y, second_order=False, n_boot=50, conf_level=0.9,
                               conf_method="bootstrap", replicates=1, nan_policy="raise", rng=1, num_threads=None),
                          dict(problem="problem", Y="array", second_order="bool", n_boot="int", conf_level="real",
                               conf_method="choice", replicates="int", nan_policy="choice", rng="rng", num_threads="threads"),
                          nonfinite={"S1_conf", "ST_conf"}),  # NaN half-widths for n_boot=0 (documented)
    "sobol_analyze": Spec(tunelab.sobol_analyze,
                          dict(model=_sobol_model, problem=_PROBLEM, n=16, second_order=False, sampling="sobol",
                               conf_method="bootstrap", replicates=None, n_boot=50, conf_level=0.9, nan_policy="raise",
                               batch_rows=30, executor=None, progress=False, rng=1, num_threads=None),
                          dict(model="objective", problem="problem", n="size", second_order="bool", sampling="choice",
                               conf_method="choice", replicates="int", n_boot="int", conf_level="real", nan_policy="choice",
                               batch_rows="size", executor="executor", progress="bool", rng="rng", num_threads="threads"),
                          nonfinite={"S1_conf", "ST_conf", "S2", "S2_conf"}),  # S2: NaN below the diagonal (SALib's layout)
    "sobol_g": Spec(tunelab.sobol_g, dict(X=np.random.default_rng(0).random((6, 3)), a=np.array([0.0, 1.0, 9.0]),
                                          num_threads=None),
                    dict(X="array", a="array", num_threads="threads")),
    "sobol_g_indices": Spec(tunelab.sobol_g_indices, dict(a=np.array([0.0, 1.0, 9.0]), names=None),
                            dict(a="array", names="names"), nonfinite={"S2", "S1_conf", "ST_conf", "S2_conf"}),
}

#: Public names that are not called with user input: result containers and warning classes
#: (checked by rule below), the reference module.
NOT_CALLED = {"reference", "__version__"}


def _mutations(kind: str) -> list[tuple[str, Any, bool]]:
    if kind == "array":
        return ARRAY_MUTATIONS
    if kind in ("matvec", "grad", "loss", "objective"):
        return _callable_mutations(kind)
    return KINDS[kind]


# ------------------------------------------------------------------------------------ runner
def _walk(result: Any, prefix: str = "result"):
    if is_dataclass(result):
        for f in fields(result):
            yield from _walk(getattr(result, f.name), f.name)
    elif isinstance(result, (tuple, list)):
        for r in result:
            yield from _walk(r, prefix)
    elif isinstance(result, (float, np.floating, np.ndarray)):
        yield prefix, np.asarray(result)


def _check_finite(name: str, spec: Spec, result: Any) -> None:
    for label, arr in _walk(result):
        if arr.dtype.kind not in "fc":
            continue
        if label in spec.nonfinite:
            assert not (np.isnan(arr).any() and label == "result" and name.startswith("gd_quadratic")), "gd_quadratic gave NaN"
            continue
        assert np.isfinite(arr).all(), f"{name}: silent non-finite output in {label!r}"


def _same(a: Any, b: Any) -> None:
    la, lb = list(_walk(a)), list(_walk(b))
    assert len(la) == len(lb)
    for (na, xa), (_, xb) in zip(la, lb):
        np.testing.assert_array_equal(xa, xb, err_msg=na)


_BASELINES: dict[str, Any] = {}


def _run(name: str, spec: Spec, kwargs: dict[str, Any]) -> tuple[Any, BaseException | None, list[warnings.WarningMessage]]:
    faulthandler.dump_traceback_later(60, exit=True)  # a hang kills the run with a traceback
    try:
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            try:
                res, exc = spec.call(**kwargs), None
            except BaseException as e:  # noqa: BLE001 - classified by the caller
                res, exc = None, e
            elapsed = time.perf_counter() - t0
    finally:
        faulthandler.cancel_dump_traceback_later()
    _counters.add("abuse cases run")
    assert elapsed < 10, f"{name}: took {elapsed:.1f} s"
    return res, exc, list(rec)


def _baseline(name: str) -> Any:
    if name not in _BASELINES:
        spec = SPECS[name]
        res, exc, rec = _run(name, spec, dict(spec.valid))
        assert exc is None, f"{name}: the valid call failed: {exc!r}"
        assert not rec, f"{name}: the valid call warned: {[str(w.message) for w in rec]}"
        _check_finite(name, spec, res)
        _BASELINES[name] = res
    return _BASELINES[name]


def _judge(name: str, spec: Spec, arg: str, label: str, value: Any, same: bool) -> None:
    kwargs = dict(spec.valid)
    kwargs[arg] = value
    res, exc, rec = _run(name, spec, kwargs)
    where = f"{name}({arg}={label})"
    if exc is not None:
        if isinstance(exc, UserError):
            return
        if isinstance(exc, MemoryError) and label.startswith(("2**", "10**")):
            return
        if not isinstance(exc, (ValueError, TypeError)):
            raise AssertionError(f"{where}: raised {type(exc).__name__}: {exc}") from exc
        msg = str(exc)
        names = [arg] if label not in ("shorter", "longer", "transposed-shape", "extra-dim", "random") else list(spec.valid) + [arg]
        assert any(n in msg for n in names), f"{where}: message does not name {arg!r}: {type(exc).__name__}: {msg}"
        assert not same, f"{where}: refused an argument with unchanged values: {msg}"
        return
    bad = [w for w in rec if not issubclass(w.category, spec.warns)]
    assert not bad, f"{where}: unexpected warning {[str(w.message) for w in bad]}"
    _check_finite(where, spec, res)
    if same:
        _same(res, _baseline(name))


def _cases(name: str) -> list[tuple[str, str, Any, bool]]:
    spec = SPECS[name]
    out = []
    for arg, kind in spec.kinds.items():
        for label, value, same in _mutations(kind):
            if callable(value) and kind in ("array", "out") and not isinstance(value, type) and label != "callable":
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # e.g. casting inf to int while building the mutation
                    value = value(spec.valid[arg])
            out.append((arg, label, value, same))
    return out


# ------------------------------------------------------------------------------------ tests
def test_every_public_callable_has_an_entry():
    missing = []
    for public in tunelab.__all__:
        obj = getattr(tunelab, public)
        if public in NOT_CALLED or not callable(obj):
            continue
        if isinstance(obj, type) and (issubclass(obj, Result) or issubclass(obj, Warning)):
            continue  # built by the library / raised by it, not called with user input
        if not any(k == public or k.startswith(public + "[") or k.startswith(public + ".") for k in SPECS):
            missing.append(public)
    assert not missing, f"public callables without an abuse entry: {missing}"
    # SPECS' kinds name real parameters.
    for name, spec in SPECS.items():
        base = getattr(tunelab, name.split("[")[0].split(".")[0])
        if isinstance(base, type) or name.endswith("]") and "[out]" in name:
            continue
        params = inspect.signature(spec.call).parameters
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            assert set(spec.kinds) <= set(params), f"{name}: unknown arguments {set(spec.kinds) - set(params)}"


@pytest.mark.parametrize("name", list(SPECS))
def test_every_mutation(name):
    spec = SPECS[name]
    _baseline(name)
    failures = []
    for arg, label, value, same in _cases(name):
        try:
            _judge(name, spec, arg, label, value, same)
        except AssertionError as e:
            failures.append(str(e).splitlines()[0])
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)


_ARRAY_ARGS = [(n, a) for n, s in SPECS.items() for a, k in s.kinds.items() if k == "array"]

_dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.uint8, np.bool_, np.complex128, np.float16])


@st.composite
def _any_array(draw):
    dtype = draw(_dtypes)
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
    arr = draw(hnp.arrays(dtype, shape))
    if arr.ndim and draw(st.booleans()):
        arr = np.repeat(arr, 2, axis=0)[::2]  # a strided view of the same values
    if draw(st.booleans()):
        arr.flags.writeable = False
    return arr


@pytest.mark.parametrize("name,arg", _ARRAY_ARGS, ids=[f"{n}-{a}" for n, a in _ARRAY_ARGS])
@settings(max_examples=40)
@given(value=_any_array())
def test_random_arrays(name, arg, value):
    _baseline(name)
    _judge(name, SPECS[name], arg, "random", value, False)


@pytest.mark.parametrize("exp", [-900, -600, 0, 600, 900])
def test_scaled_matrices_give_scaled_answers(exp):
    """Found by the abuse pass: entries near 1e-300 made the power iteration's residual underflow
    to 0 (a wrong eigenvalue reported as converged) and near 1e300 overflow (residual inf).
    Matrices are now scaled by a power of two (exact) before the solve."""
    s = 2.0**exp
    ref = np.linalg.eigvalsh(A)[-1]
    for method in ("power", "lanczos"):
        r = tunelab.top_eigenvalue(A * s, method=method, rng=1)
        assert r.converged and r.value == pytest.approx(ref * s, rel=1e-7)
        assert np.isfinite(r.residual) and r.residual <= 1e-6 * ref * s
    stack = tunelab.top_eigenvalue(STACK * s, rng=1)
    np.testing.assert_allclose(stack.value, [ref * s, 2 * ref * s], rtol=1e-7)
    if exp > 500:  # the probe variance (~ s^2) is beyond float64: refused, not inf
        with pytest.raises(ValueError, match="A is too large"):
            tunelab.hutchinson_trace(A * s, 256, rng=1)
        return
    h = tunelab.hutchinson_trace(A * s, 256, rng=1)
    assert h.estimate == pytest.approx(np.trace(A) * s, rel=0.5) and h.stderr > 0
    if abs(exp) < 400:  # unscaled range: bit-identical to the kernel on A * s as given
        assert h == tunelab.hutchinson_trace(A * s, 256, rng=1)


def test_regressions_found_by_the_abuse_pass():
    """Numerical faults the abuse pass found in the later areas (see the fixes' comments)."""
    # sobol_g_indices: V = prod(1 + V_j) - 1 rounded to 0 for large a (indices were inf)
    a = np.array([0.0, 5e7, 1e200])
    r = tunelab.sobol_g_indices(a)
    assert np.isfinite(r.S1).all() and np.isfinite(r.ST).all()
    v = 1.0 / (3.0 * (1.0 + a[:2]) ** 2)
    np.testing.assert_allclose(r.S1[:2], v / np.expm1(np.log1p(v).sum()), rtol=1e-12)
    with pytest.raises(ValueError, match="a is too large"):
        tunelab.sobol_g_indices(np.array([1e200, 1e250]))
    # patience_stopping: the regret's standard error overflowed for curves near the float64 range
    s = 2.0**900  # exact scaling: the same stops, the regret scaled by s
    kw = dict(patience=3, n_rep=2000, rng=4)
    small = tunelab.patience_stopping(_VAL, noise_std=0.02, **kw)
    big = tunelab.patience_stopping(_VAL * s, noise_std=0.02 * s, **kw)
    np.testing.assert_array_equal(big.restored_pmf, small.restored_pmf)
    assert big.regret == pytest.approx(small.regret * s, rel=1e-12)
    assert big.regret_se == pytest.approx(small.regret_se * s, rel=1e-12)
    # Adam's betas as a length-2 array (was refused as "not a pair")
    p1, p2 = _P.copy(), _P.copy()
    tunelab.optim.Adam(p1, betas=np.array([0.8, 0.99])).step(_GRADS)
    tunelab.optim.Adam(p2, betas=(0.8, 0.99)).step(_GRADS)
    np.testing.assert_array_equal(p1, p2)
    # accumulation_study: a transient too long to simulate was an OverflowError
    with pytest.raises(ValueError, match="lrs and hs"):
        tunelab.accumulation_study(hs=[[1e-300]], lrs=(0.1,), replicas=10)
    # sobol_g outside its domain overflowed to inf
    with pytest.raises(ValueError, match="X must hold points"):
        tunelab.sobol_g(np.full((2, 3), 1e300), np.ones(3))
