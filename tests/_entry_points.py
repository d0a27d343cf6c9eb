"""Tables of tunelab's entry points for the cross-cutting tests (dask, interrupt, memory, leaks,
concurrency). One entry per entry point: adding an area is one entry in each table that applies.

Everything here is module level (picklable), uses only ``tunelab`` and NumPy, and runs a
small, fixed instance.

* ``EXECUTOR``: entry points that take ``executor=``: ``run(executor)`` runs a small study there
  (``None``: locally), ``same(a, b)`` asserts two results are bit-identical.
* ``LONG``: entry points whose work can be made arbitrarily long: ``run()`` starts a run of a
  minute or more (it is interrupted by the test), ``after()`` is a small follow-up call.
* ``KERNELS``: one tiny call per compiled kernel (``kernels`` lists the ``_core`` functions it
  reaches, so a new kernel without an entry is caught), with ``check(result)`` asserting the
  answer (concurrency) and ``medium()`` a call of about 0.1-0.5 s on one thread (GIL test).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable

import numpy as np

import tunelab
from tunelab import _core


def _spd(n: int, seed: int = 0) -> np.ndarray:
    g = np.random.default_rng(seed).standard_normal((n, n))
    return g @ g.T / n + np.eye(n)


A20 = _spd(20, 1)
A8 = _spd(8, 2)
A200 = _spd(200, 3)
STACK = np.stack([_spd(6, s) for s in range(3)])


def _same_fields(*names: str) -> Callable[[Any, Any], None]:
    def same(a: Any, b: Any) -> None:
        for n in names:
            np.testing.assert_array_equal(np.asarray(getattr(a, n)), np.asarray(getattr(b, n)), err_msg=n)

    return same


# ------------------------------------------------------------------------------- executor=
@dataclass(frozen=True)
class ExecutorEntry:
    name: str
    run: Callable[[Any], Any]
    same: Callable[[Any, Any], None]


def _hutch_dense(executor: Any) -> Any:
    return tunelab.hutchinson_trace(A20, 4096, rng=3, executor=executor)


def _hutch_callable(executor: Any) -> Any:
    # partial(np.dot, A) is a picklable matvec (a lambda would not reach process workers)
    return tunelab.hutchinson_trace(partial(np.dot, A20), 640, n=20, rng=4, executor=executor)


def _transfer(executor: Any) -> Any:
    return tunelab.transfer_study([0.9, 0.5, 0.2], n_seeds=3000, eval_noise=0.1, lr_grid=np.geomspace(1e-5, 1, 60),
                                  rng=5, executor=executor)


_OBJ = tunelab.SGDQuadraticObjective(dim=16, rng=4)
_SIZES, _BATCHES = [1e3, 4e3, 9e3], np.geomspace(8, 256, 7)


def _scaling_grid(executor: Any) -> Any:
    return tunelab.batch_scaling_study(_OBJ, _SIZES, _BATCHES, n_seeds=3, n_boot=200, rng=0, executor=executor)


def _scaling_callable(executor: Any) -> Any:
    # A plain callable objective (no evaluate_grid): one task per (N, seed).
    objective = partial(tunelab.SGDQuadraticObjective.__call__, _OBJ)
    return tunelab.batch_scaling_study(objective, _SIZES, _BATCHES, n_seeds=3, n_boot=200, rng=0, executor=executor)


EXECUTOR: list[ExecutorEntry] = [
    ExecutorEntry("hutchinson_trace[dense]", _hutch_dense, _same_fields("estimate", "stderr", "variance")),
    ExecutorEntry("hutchinson_trace[callable]", _hutch_callable, _same_fields("estimate", "stderr", "variance")),
    ExecutorEntry("transfer_study", _transfer, _same_fields("tuned_lr", "latent_log_lr", "spearman", "latent_spearman")),
    ExecutorEntry("batch_scaling_study[grid]", _scaling_grid, _same_fields("scores", "B_opt", "log_B_opt_stderr")),
    ExecutorEntry("batch_scaling_study[callable]", _scaling_callable, _same_fields("scores", "B_opt", "log_B_opt_stderr")),
    # Lead: add simulate_quadratic, stopping_distribution, patience_stopping, sobol_analyze,
    # grid_search and random_search here (one small instance each).
]


# ------------------------------------------------------------------------------- long runs
@dataclass(frozen=True)
class LongEntry:
    name: str
    run: Callable[[], Any]
    after: Callable[[], Any]


def _slow_objective(n: float, b: float, seed: int) -> float:
    return float(_OBJ(n, b, seed))


LONG: list[LongEntry] = [
    LongEntry("hutchinson_trace[dense]", lambda: tunelab.hutchinson_trace(A200, 10**9, rng=1), lambda: _hutch_dense(None)),
    LongEntry("hutchinson_trace[callable]", lambda: tunelab.hutchinson_trace(partial(np.dot, A20), 10**9, n=20, rng=1),
              lambda: _hutch_callable(None)),
    LongEntry("transfer_study", lambda: tunelab.transfer_study([0.9, 0.5, 0.2], n_seeds=5 * 10**7, rng=1),
              lambda: _transfer(None)),
    LongEntry("batch_scaling_study[callable]",
              lambda: tunelab.batch_scaling_study(_slow_objective, np.geomspace(1e3, 1e5, 200), np.geomspace(8, 256, 50),
                                                  n_seeds=50, rng=0),
              lambda: _scaling_callable(None)),
    LongEntry("batch_scaling_study[grid]",
              lambda: tunelab.batch_scaling_study(_OBJ, np.geomspace(1e3, 3e4, 400), np.geomspace(8, 256, 20),
                                                  n_seeds=8, rng=0, num_threads=1),
              lambda: _scaling_grid(None)),
    # A matvec callable is called from C++ with the GIL held; its Python wrapper lets the signal in.
    LongEntry("top_eigenvalue[callable]",
              lambda: tunelab.top_eigenvalue(partial(np.dot, A20), n=20, tol=1e-300, max_iter=10**9, rng=1),
              lambda: tunelab.top_eigenvalue(partial(np.dot, A20), n=20, rng=1)),
    # 1.5e9 draws (12 GB, of which the 0.2 s before the signal touch about 2 GB): several seconds.
    LongEntry("standard_normal", lambda: tunelab.standard_normal(1_500_000_000, rng=1, num_threads=1),
              lambda: tunelab.standard_normal(10, rng=1)),
    LongEntry("uniform", lambda: tunelab.uniform(1_500_000_000, rng=1, num_threads=1), lambda: tunelab.uniform(10, rng=1)),
    # Lead: add simulate_quadratic, stopping_distribution, patience_stopping, sobol_analyze,
    # grid_search and random_search (a run of a minute or more, and a small follow-up).
]


# ------------------------------------------------------------------------------- kernels
@dataclass(frozen=True)
class KernelEntry:
    name: str
    kernels: tuple[str, ...]
    tiny: Callable[[], Any]
    check: Callable[[Any], None]
    medium: Callable[[], Any] | None = None
    #: expected value of tiny(), computed once in the main thread
    expected: dict[str, Any] = field(default_factory=dict)


def _eq(value: Any) -> Callable[[Any], None]:
    def check(got: Any) -> None:
        if isinstance(value, (tuple, list)):
            for v, g in zip(value, got):
                np.testing.assert_array_equal(g, v)
        else:
            np.testing.assert_array_equal(got, value)

    return check


def _eig(A: Any, **kw: Any) -> Any:
    r = tunelab.top_eigenvalue(A, rng=1, **kw)
    return (r.value, r.vector, r.n_iter)


def _ref_top(A: np.ndarray) -> float:
    return float(np.linalg.eigvalsh(A)[-1])


_X = np.random.default_rng(9).standard_normal((30, 4))
_LRS = np.geomspace(1e-3, 3.0, 12)
_X0 = np.ones(8)


def _gd() -> Any:
    return tunelab.gd_quadratic(A8, _X0, _LRS[:4], 5)


def _lr() -> Any:
    r = tunelab.lr_range_test_quadratic(A8, _X0, _LRS)
    return r.losses


def _hutch_tiny() -> Any:
    return tunelab.hutchinson_trace(A8, 128, rng=2).estimate


def _hutch_cb_tiny() -> Any:
    return tunelab.hutchinson_trace(partial(np.dot, A8), 64, n=8, rng=2).estimate


def _sgd_scores(num_threads: int | None = None, sizes: Any = (200.0,), seeds: Any = (0, 1)) -> Any:
    return _OBJ.evaluate_grid(list(sizes), [8.0, 16.0], list(seeds), num_threads=num_threads)


def _transfer_tiny() -> Any:
    r = tunelab.transfer_study([0.9, 0.5], n_seeds=16, lr_grid=np.geomspace(1e-4, 1e-2, 8), rng=3)
    return r.tuned_lr


def _spearman_ref(X: np.ndarray) -> np.ndarray:
    from scipy.stats import spearmanr

    return spearmanr(X).statistic


def _allclose(ref: Any, rtol: float = 1e-12) -> Callable[[Any], None]:
    def check(got: Any) -> None:
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=1e-12)

    return check


KERNELS: list[KernelEntry] = [
    KernelEntry("standard_normal", ("standard_normal_into",), lambda: tunelab.standard_normal(64, rng=1),
                _eq(_core.standard_normal(64, tunelab._random.kernel_key(1), 0, 0, 1)),
                medium=lambda: tunelab.standard_normal(30_000_000, rng=1, num_threads=1)),
    KernelEntry("uniform", ("uniform_into",), lambda: tunelab.uniform(64, rng=1),
                _eq(_core.uniform(64, tunelab._random.kernel_key(1), 0, 0, 1)),
                medium=lambda: tunelab.uniform(30_000_000, rng=1, num_threads=1)),
    KernelEntry("top_eigenvalue[dense]", ("top_eigen_dense",), lambda: tunelab.top_eigenvalue(A8, rng=1).value,
                _allclose(_ref_top(A8), 1e-7),
                medium=lambda: tunelab.top_eigenvalue(_spd(1000, 4), tol=1e-15, max_iter=150, rng=1, num_threads=1)),
    KernelEntry("top_eigenvalue[stack]", ("top_eigen_stack",), lambda: tunelab.top_eigenvalue(STACK, rng=1).value,
                _allclose([_ref_top(a) for a in STACK], 1e-7)),
    KernelEntry("top_eigenvalue[callable]", ("top_eigen_callable",),
                lambda: tunelab.top_eigenvalue(partial(np.dot, A8), n=8, method="lanczos", rng=1).value,
                _allclose(_ref_top(A8), 1e-7)),
    KernelEntry("gd_quadratic", ("gd_quadratic",), _gd, _allclose(tunelab.reference.gd_quadratic(A8, _X0, _LRS[:4], 5), 1e-10),
                medium=lambda: tunelab.gd_quadratic(_spd(600, 5), np.ones(600), np.full(8, 1e-3), 200, num_threads=1)),
    KernelEntry("hutchinson_trace[dense]", ("hutchinson_dense", "check_symmetric"), _hutch_tiny,
                _eq(_hutch_tiny()), medium=lambda: tunelab.hutchinson_trace(A200, 16_000, rng=1, num_threads=1)),
    KernelEntry("hutchinson_trace[callable]", ("rademacher",), _hutch_cb_tiny, _eq(_hutch_cb_tiny())),
    KernelEntry("lr_range_test_quadratic", ("lr_range_test_quadratic",), _lr,
                _allclose(tunelab.reference.lr_range_test_quadratic(A8, _X0, _LRS).losses, 1e-10)),
    KernelEntry("spearman_matrix", ("spearman_matrix",), lambda: tunelab.spearman_matrix(_X), _allclose(_spearman_ref(_X)),
                medium=lambda: tunelab.spearman_matrix(np.random.default_rng(0).standard_normal((20_000, 150)), num_threads=1)),
    KernelEntry("SGDQuadraticObjective.evaluate_grid", ("sgd_quadratic_scores",), _sgd_scores, _eq(_sgd_scores(1)),
                medium=lambda: _sgd_scores(1, sizes=(1e6,), seeds=range(8))),
    KernelEntry("transfer_study", ("transfer_grid_search", "spearman_matrix"), _transfer_tiny, _eq(_transfer_tiny())),
    # Lead: one entry per compiled kernel of optim/quadratic/search, sobol and early_stop.
]

#: _core functions that need no entry: metadata, bench probes, test-only helpers.
KERNEL_EXEMPT = {
    "openmp_enabled", "max_threads", "rng_simd_level", "ziggurat_tables", "philox4x32_10", "stream_normals",
    "stream_axpy", "stream_triad", "centred_ranks", "standard_normal", "uniform",
}


def core_functions() -> set[str]:
    return {n for n in dir(_core) if not n.startswith("_") and callable(getattr(_core, n))}
