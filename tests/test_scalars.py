"""NumPy's scalar convention across the public API: a scalar in gives a Python float out, arrays
give arrays of the inputs' broadcast shape (as NumPy ufuncs and SciPy do).

``ELEMENTWISE`` has one entry per public function or method that broadcasts array-or-scalar
arguments; ``SCALAR_ONLY`` one per public function or method that takes scalars and is
documented to return a float. Every other public callable is listed in ``NOT_ELEMENTWISE``
with the reason, so a new function cannot be forgotten (``test_every_public_callable_is_classified``).
Result fields and properties annotated ``float`` must hold Python floats (they are checked on
one instance of every result type, from ``_result_examples``).
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

import tunelab

from . import _result_examples

_FIT = tunelab.fit_power_law([1.0, 2.0, 4.0, 8.0, 16.0], [1.0, 1.5, 2.1, 2.9, 4.2], n_boot=100, rng=0)
_NOISE = tunelab.gradient_noise_scale(np.random.default_rng(0).standard_normal((20, 3)) + 3.0)
_OBJ = tunelab.SGDQuadraticObjective(dim=8, rng=1)
_STOP = tunelab.stopping_distribution(
    np.linspace(1.0, 0.2, 30), np.linspace(1.0, 0.2, 30) + np.linspace(0.0, 0.1, 30), 0.05, noise_std=0.02
)


@dataclass(frozen=True)
class Elementwise:
    """``call(**fixed, **{a: v})`` broadcasts the arguments ``args`` (valid scalar values given;
    arrays are filled with values within 10% of them)."""

    call: Callable[..., Any]
    args: dict[str, float]
    fixed: dict[str, Any] = field(default_factory=dict)


ELEMENTWISE: dict[str, Elementwise] = {
    "arcsine_spearman": Elementwise(tunelab.arcsine_spearman, {"rho": 0.64}),
    "effective_lr": Elementwise(tunelab.effective_lr, {"lr": 0.1, "max_grad_norm": 1.0, "grad_norm": 4.0}),
    "effective_lr[no clipping]": Elementwise(tunelab.effective_lr, {"lr": 0.1, "grad_norm": 4.0},
                                             {"max_grad_norm": None}),
    "steady_state_loss": Elementwise(tunelab.steady_state_loss, {"lr": 0.1, "batch_size": 4.0, "noise_var": 1.0},
                                     {"h": np.array([0.5, 1.0, 2.0])}),
    "PowerLawFit.__call__": Elementwise(_FIT, {"x": 10.0}),
    "NoiseScale.steps_and_examples": Elementwise(_NOISE.steps_and_examples, {"batch_size": 8.0}),
}

#: name -> (call, kwargs): scalars in, documented to return a float (or a tuple of floats).
SCALAR_ONLY: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "SpectralDensity.moment": (_result_examples.RESULTS["SpectralDensity"]().moment, {"k": 2}),
    "SGDQuadraticObjective.expected_loss": (_OBJ.expected_loss, {"dataset_size": 1000.0, "batch_size": 8.0}),
    "SGDQuadraticObjective.__call__": (_OBJ, {"dataset_size": 1000.0, "batch_size": 8.0, "seed": 0}),
    "StoppingDistribution.reliability": (_STOP.reliability, {"k": 2}),
    "StoppingDistribution.reliability_se": (_STOP.reliability_se, {"k": 2}),
    "StoppingDistribution.quantile": (_STOP.quantile, {"level": 0.5}),
    "QuadraticResult.final_mean": (_result_examples.RESULTS["QuadraticResult"]().final_mean, {}),
}

_FIXED = "takes arrays of documented, fixed dimensions (matrices, curves, designs), not elementwise"
_PER_REPLICA = "scalar or per-replica (R,) settings: the outputs are per replica by design"
_SIZES = "takes counts, options or callables, no array-or-scalar value"
_STATE = "saves or restores an optimizer's whole state (a dict), no array-or-scalar value"
_PER_EPOCH = "a stateful rule for a training loop: settings, then one value per call, by design"
NOT_ELEMENTWISE: dict[str, str] = {
    **dict.fromkeys(
        ["top_eigenvalue", "top_eigenvalues", "spectral_density", "stability_bound", "gd_quadratic", "hutchinson_trace", "lr_range_test",
         "lr_range_test_quadratic", "accumulation_study", "fit_power_law", "batch_scaling_study",
         "gradient_noise_scale", "stopping_distribution", "threshold_for_reliability", "patience_stopping",
         "patience_tradeoff", "weight_decay_study", "clipping_study", "saltelli_sample", "sobol_indices",
         "sobol_g", "sobol_g_indices", "spearman_matrix", "transfer_study", "SGDQuadraticObjective.evaluate_grid",
         "TwoLayerNet", "TwoLayerNet.split", "TwoLayerNet.loss", "TwoLayerNet.grad", "TwoLayerNet.hvp", "Grid",
         "Problem.group_ids", "SGD.step", "Adam.step", "AdamW.step"],
        _FIXED,
    ),
    **dict.fromkeys(["simulate_quadratic", "SGD", "Adam", "AdamW"], _PER_REPLICA),
    **dict.fromkeys([f"{c}.{m}" for c in ("SGD", "Adam", "AdamW") for m in ("state_dict", "load_state_dict")], _STATE),
    **dict.fromkeys(["EarlyStopping", "EarlyStopping.update", "EarlyStopping.reliability"], _PER_EPOCH),
    **dict.fromkeys(
        ["openmp_enabled", "standard_normal", "uniform", "lr_finder", "SGDQuadraticObjective", "Uniform",
         "LogUniform", "Grid.grid", "Grid.sample", "Uniform.grid", "Uniform.sample", "LogUniform.grid",
         "LogUniform.sample", "grid_search", "random_search", "sobol_points", "sobol_analyze"],
        _SIZES,
    ),
}
#: Methods that take no array-or-scalar value (the result hooks), and the public names that are not callables.
_HOOKS = ("plot", "to_frame", "to_dict", "from_dict")


def _public_callables() -> list[str]:
    """Every public function, class and method (own or inherited from a tunelab class)."""
    out = []
    for module in (tunelab, tunelab.optim):
        for name in module.__all__:
            obj = getattr(module, name)
            if not callable(obj) or isinstance(obj, type) and issubclass(obj, Warning):
                continue
            if not isinstance(obj, type):
                out.append(name)
                continue
            if not issubclass(obj, tunelab._results.Result):
                out.append(name)  # constructed by users (result classes are built by the library)
            for klass in obj.__mro__:
                if not klass.__module__.startswith("tunelab"):
                    continue
                for attr, value in vars(klass).items():
                    if attr.startswith("_") and attr != "__call__" or attr.startswith(_HOOKS):
                        continue
                    if callable(value) or isinstance(value, (classmethod, staticmethod)):
                        out.append(f"{name}.{attr}")
    return sorted(set(out))


def test_every_public_callable_is_classified():
    known = {k.split("[")[0] for k in ELEMENTWISE} | set(SCALAR_ONLY) | set(NOT_ELEMENTWISE)
    missing = [n for n in _public_callables() if n not in known]
    assert not missing, f"public callables missing from test_scalars' tables: {missing}"
    stale = sorted(known - set(_public_callables()))
    assert not stale, f"entries for names that are not public callables: {stale}"


def _values(scalar: float, shape: tuple[int, ...]) -> np.ndarray:
    """Distinct valid values within 10% of ``scalar``, in ``shape``."""
    n = int(np.prod(shape))
    return (scalar * np.linspace(0.9, 1.1, n) if n > 1 else np.full(n, scalar)).reshape(shape)


def _parts(result: Any) -> tuple[Any, ...]:
    return result if isinstance(result, tuple) else (result,)


def _call(entry: Elementwise, **args: Any) -> tuple[Any, ...]:
    return _parts(entry.call(**entry.fixed, **args))


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_scalars_give_python_floats(name):
    """All arguments scalar (Python floats, NumPy scalars, 0-d arrays): a Python float, equal
    (bit for bit: the same formula on the same value) to the 1-element array call."""
    entry = ELEMENTWISE[name]
    one = _call(entry, **{a: np.array([v]) for a, v in entry.args.items()})
    for wrap in (float, np.float64, np.array):
        got = _call(entry, **{a: wrap(v) for a, v in entry.args.items()})
        for g, o in zip(got, one, strict=True):
            assert type(g) is float, f"{name}: {wrap.__name__} inputs gave {type(g).__name__} {np.shape(g)}"
            assert isinstance(o, np.ndarray) and o.shape == (1,)
            assert g == o[0]


def _shape_cases(args: list[str]) -> list[dict[str, tuple[int, ...]]]:
    """Every argument alone in shapes (), (3,), (2, 3), the others scalar; and every pair broadcast
    as (2, 1) with (3,)."""
    cases = [{a: s} for a in args for s in ((), (3,), (2, 3))]
    cases += [{a: (2, 1), b: (3,)} for a, b in itertools.permutations(args, 2)]
    return cases


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_arrays_give_the_broadcast_shape(name):
    """Each element equals the all-scalar call at that element's values (rtol 1e-14: NumPy's SIMD
    loops may round the last bit of the vector body and of a length-1 call differently)."""
    entry = ELEMENTWISE[name]
    for shapes in _shape_cases(list(entry.args)):
        arrays = {a: _values(v, shapes.get(a, ())) for a, v in entry.args.items()}
        want = np.broadcast_shapes(*(x.shape for x in arrays.values()))
        got = _call(entry, **arrays)
        for g in got:
            if want == ():
                assert type(g) is float, f"{name} {shapes}: {type(g).__name__}"
            else:
                assert isinstance(g, np.ndarray) and g.shape == want, f"{name} {shapes}: {np.shape(g)} != {want}"
        for idx in np.ndindex(*want):
            one = _call(entry, **{a: float(np.broadcast_to(x, want)[idx]) for a, x in arrays.items()})
            for g, o in zip(got, one, strict=True):
                np.testing.assert_allclose(np.asarray(g)[idx], o, rtol=1e-14, err_msg=f"{name} {shapes} at {idx}")


@pytest.mark.parametrize("name", [n for n, e in ELEMENTWISE.items() if len(e.args) > 1])
def test_shapes_that_do_not_broadcast_are_refused_by_name(name):
    entry = ELEMENTWISE[name]
    a, b = list(entry.args)[:2]
    bad = {a: _values(entry.args[a], (2,)), b: _values(entry.args[b], (3,))}
    with pytest.raises(ValueError, match=f"{a}.*{b}.*broadcast"):
        entry.call(**entry.fixed, **{**entry.args, **bad})


@pytest.mark.parametrize("name", list(SCALAR_ONLY))
def test_scalar_only_functions_give_python_floats(name):
    call, kwargs = SCALAR_ONLY[name]
    for g in _parts(call(**kwargs)):
        assert type(g) is float, f"{name}: {type(g).__name__} {np.shape(g)}"


def _float_annotated(cls: type) -> list[tuple[str, bool]]:
    """(name, may be None) of the fields and properties annotated ``float`` / ``float | None``."""
    out = []
    for f in dataclasses.fields(cls):
        if f.type in ("float", "float | None"):
            out.append((f.name, f.type != "float"))
    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            if isinstance(value, property):
                ret = inspect.signature(value.fget).return_annotation
                if ret in ("float", "float | None"):
                    out.append((name, ret != "float"))
    return out


@pytest.mark.parametrize("name", list(_result_examples.RESULTS))
def test_float_fields_hold_python_floats(name):
    """E.g. ``QuadraticResult.steady_state`` (it once came back as a (1,) array)."""
    res = _result_examples.RESULTS[name]()
    for field_name, optional in _float_annotated(type(res)):
        v = getattr(res, field_name)
        assert type(v) is float or optional and v is None, f"{name}.{field_name}: {type(v).__name__} {np.shape(v)}"


def test_steady_state_is_a_float():
    """The field the report's accumulation section reads (a (1,) array broadcast its z-scores)."""
    res = tunelab.simulate_quadratic([0.5, 1.0], lr=0.1, batch_size=4, steps=20, replicas=64, rng=0)
    assert type(res.steady_state) is float
    assert res.steady_state == tunelab.steady_state_loss([0.5, 1.0], 0.1, 4, 1.0)
    study = tunelab.accumulation_study(hs=[[1.0]], lrs=(0.2,), splits=((2, 2),), replicas=200, rng=1)
    assert study.theory.shape == study.accum_mean.shape == study.z_accum.shape == (1,)
