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

import functools
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


H4 = np.geomspace(0.5, 2.0, 4)
_QUAD_FIELDS = ("loss_mean", "loss_sem", "final_loss", "diverged", "diverged_step", "mean_effective_lr",
                "effective_lr_mean", "effective_lr_sem")


def _quad(executor: Any) -> Any:
    return tunelab.simulate_quadratic(H4, lr=0.3, batch_size=2, accum_steps=2, steps=40, replicas=3000, rng=6,
                                      executor=executor)


def _quad_adamw(executor: Any) -> Any:
    lr = np.geomspace(1e-3, 3.0, 2000)  # the largest rates diverge: flagged, left out of the statistics
    return tunelab.simulate_quadratic(H4, optimizer="adamw", lr=lr, weight_decay=0.01, max_grad_norm=2.0,
                                      noise="student_t", dof=3.0, steps=30, replicas=2000, rng=7, executor=executor)


def _accumulation(executor: Any) -> Any:
    return tunelab.accumulation_study(hs=[[1.0]], lrs=(0.2,), splits=((2, 2),), replicas=3000, rng=1, executor=executor)


EP = np.arange(1, 61, dtype=float)
TRAIN = 1.0 / EP
VAL = 1.0 / EP + 1e-3 * (EP - 20.0) ** 2 / 40.0


def _stop_mc(executor: Any) -> Any:
    return tunelab.stopping_distribution(TRAIN, VAL, 0.05, noise_std=0.02, method="monte_carlo", n_rep=200_000, rng=8,
                                         executor=executor)


def _stop_ar1(executor: Any) -> Any:
    return tunelab.stopping_distribution(TRAIN, VAL, 0.05, noise_std=(0.01, 0.02), method="monte_carlo", rho=0.6,
                                         n_rep=100_000, rng=9, executor=executor)


def _patience(executor: Any) -> Any:
    return tunelab.patience_stopping(VAL, patience=4, min_delta=1e-3, noise_std=0.02, rho=0.3, n_rep=100_000, rng=10,
                                     executor=executor)


def _tradeoff(executor: Any) -> Any:
    return tunelab.patience_tradeoff(VAL, patience=(1, 3), min_delta=(0.0, 1e-3), noise_std=0.02, n_rep=40_000, rng=11,
                                     executor=executor)


G_A = np.array([0.0, 0.5, 3.0, 9.0])
G_MODEL = partial(tunelab.sobol_g, a=G_A, num_threads=1)  # picklable (a lambda would not reach process workers)
PROBLEM = tunelab.Problem(["x1", "x2", "x3", "x4"], [[0.0, 1.0]] * 4)


def _sobol(executor: Any) -> Any:
    return tunelab.sobol_analyze(G_MODEL, PROBLEM, 1024, n_boot=200, batch_rows=600, rng=12, executor=executor)


def _sobol_rqmc(executor: Any) -> Any:
    return tunelab.sobol_analyze(G_MODEL, PROBLEM, 256, second_order=True, conf_method="rqmc", replicates=4,
                                 batch_rows=500, rng=13, executor=executor)


EXECUTOR: list[ExecutorEntry] = [
    ExecutorEntry("hutchinson_trace[dense]", _hutch_dense, _same_fields("estimate", "stderr", "variance")),
    ExecutorEntry("hutchinson_trace[callable]", _hutch_callable, _same_fields("estimate", "stderr", "variance")),
    ExecutorEntry("transfer_study", _transfer, _same_fields("tuned_lr", "latent_log_lr", "spearman", "latent_spearman")),
    ExecutorEntry("batch_scaling_study[grid]", _scaling_grid, _same_fields("scores", "B_opt", "log_B_opt_stderr")),
    ExecutorEntry("batch_scaling_study[callable]", _scaling_callable, _same_fields("scores", "B_opt", "log_B_opt_stderr")),
    ExecutorEntry("simulate_quadratic", _quad, _same_fields(*_QUAD_FIELDS)),
    ExecutorEntry("simulate_quadratic[adamw,student_t]", _quad_adamw, _same_fields(*_QUAD_FIELDS)),
    ExecutorEntry("accumulation_study", _accumulation, _same_fields("accum_mean", "accum_sem", "batch_mean", "batch_sem")),
    ExecutorEntry("stopping_distribution[monte_carlo]", _stop_mc, _same_fields("pmf", "p_never", "mean", "std", "quantiles")),
    ExecutorEntry("stopping_distribution[monte_carlo,ar1]", _stop_ar1,
                  _same_fields("pmf", "p_never", "mean", "std", "quantiles")),
    ExecutorEntry("patience_stopping", _patience,
                  _same_fields("stop_pmf", "restored_pmf", "expected_epochs", "expected_epochs_se", "regret", "regret_se")),
    ExecutorEntry("patience_tradeoff", _tradeoff, _same_fields("expected_epochs", "expected_epochs_se", "regret", "regret_se",
                                                               "p_stopped")),
    ExecutorEntry("sobol_analyze", _sobol, _same_fields("S1", "S1_conf", "ST", "ST_conf")),
    ExecutorEntry("sobol_analyze[rqmc,second_order]", _sobol_rqmc, _same_fields("S1", "S1_conf", "ST", "ST_conf", "S2", "S2_conf")),
    # grid_search / random_search take no executor: the objective is one vectorised call (it may
    # itself call simulate_quadratic(..., executor=...)).
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
              lambda: tunelab.top_eigenvalue(partial(np.dot, A20), n=20, method="power", tol=1e-300, max_iter=10**9, rng=1),
              lambda: tunelab.top_eigenvalue(partial(np.dot, A20), n=20, rng=1)),
    # 1.5e9 draws (12 GB, of which the 0.2 s before the signal touch about 2 GB): several seconds.
    LongEntry("standard_normal", lambda: tunelab.standard_normal(1_500_000_000, rng=1, num_threads=1),
              lambda: tunelab.standard_normal(10, rng=1)),
    LongEntry("uniform", lambda: tunelab.uniform(1_500_000_000, rng=1, num_threads=1), lambda: tunelab.uniform(10, rng=1)),
    # Chunked Monte Carlo (chunks of a few ms here): minutes of work each.
    LongEntry("simulate_quadratic", lambda: tunelab.simulate_quadratic(H4, lr=0.1, steps=10**4, replicas=10**6, rng=1),
              lambda: _quad(None)),
    LongEntry("accumulation_study", lambda: tunelab.accumulation_study(hs=[[1.0]], lrs=(0.2,), splits=((2, 2),),
                                                                       replicas=2 * 10**6, rng=1),
              lambda: _accumulation(None)),
    LongEntry("clipping_study", lambda: tunelab.clipping_study(lrs=[0.1], clips=[1.0], seeds=10**6, rng=1),
              lambda: tunelab.clipping_study(lrs=[0.1, 0.3], clips=[1.0, np.inf], seeds=4, steps=20, rng=1)),
    LongEntry("stopping_distribution[monte_carlo]",
              lambda: tunelab.stopping_distribution(TRAIN, VAL, 0.05, noise_std=0.02, method="monte_carlo", n_rep=10**13,
                                                    rng=1),
              lambda: _stop_mc(None)),
    LongEntry("stopping_distribution[monte_carlo,ar1]",
              lambda: tunelab.stopping_distribution(TRAIN, VAL, 0.05, noise_std=0.02, method="monte_carlo", rho=0.5,
                                                    n_rep=10**13, rng=1),
              lambda: _stop_ar1(None)),
    LongEntry("patience_stopping", lambda: tunelab.patience_stopping(VAL, patience=4, noise_std=0.02, n_rep=10**13, rng=1),
              lambda: _patience(None)),
    LongEntry("patience_tradeoff", lambda: tunelab.patience_tradeoff(VAL, noise_std=0.02, n_rep=10**13, rng=1),
              lambda: _tradeoff(None)),
    LongEntry("sobol_analyze", lambda: tunelab.sobol_analyze(G_MODEL, PROBLEM, 2**25, n_boot=0, rng=1),
              lambda: _sobol(None)),
    # A Python loop of optimizer steps (one kernel call each).
    LongEntry("weight_decay_study", lambda: tunelab.weight_decay_study(weight_decays=(0.0, 0.1), seeds=2, steps=10**8),
              lambda: tunelab.weight_decay_study(weight_decays=(0.0, 0.1), seeds=2, steps=5, n_train=16, n_test=16)),
    # grid_search / random_search make one call of the user's objective (its own length), and
    # threshold_for_reliability is exact (length bounded by its grid and horizon): not long.
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


def _gd_eigen() -> Any:
    return tunelab.gd_quadratic(A8, _X0, _LRS[:4], 5, method="eigen")


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


_LONG_E = np.arange(1.0, 2_000_001.0)
_LONG_T, _LONG_V = 1.0 / _LONG_E, 1.0 / _LONG_E + 1e-7 * _LONG_E  # two million epochs


def _stop_exact() -> Any:
    return tunelab.stopping_distribution(TRAIN, VAL, 0.05, noise_std=0.02).pmf


def _threshold_tiny() -> Any:
    r = tunelab.threshold_for_reliability(TRAIN, VAL, noise_std=0.02, k=5, target=0.5)
    return (r.thresholds, r.reliabilities)


def _stop_mc_tiny(n_rep: int = 20_000, num_threads: int | None = None) -> Any:
    d = tunelab.stopping_distribution(TRAIN, VAL, 0.05, noise_std=0.02, method="monte_carlo", n_rep=n_rep, rng=2,
                                      num_threads=num_threads)
    return (d.pmf, d.mean, d.std, d.quantiles)


def _stop_ar1_tiny(n_rep: int = 20_000, num_threads: int | None = None) -> Any:
    return tunelab.stopping_distribution(TRAIN, VAL, 0.05, noise_std=0.02, method="monte_carlo", rho=0.5, n_rep=n_rep,
                                         rng=2, num_threads=num_threads).pmf


def _patience_tiny(n_rep: int = 20_000, num_threads: int | None = None) -> Any:
    r = tunelab.patience_stopping(VAL, patience=3, noise_std=0.02, rho=0.2, n_rep=n_rep, rng=2, num_threads=num_threads)
    return (r.stop_pmf, r.restored_pmf)


_P0 = np.random.default_rng(3).standard_normal((16, 40))
_G = [np.random.default_rng(4 + k).standard_normal((16, 40)) for k in range(3)]


def _sgd_steps() -> Any:
    p = _P0.copy()
    opt = tunelab.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-2, max_grad_norm=3.0)
    norms = [opt.step(g).grad_norm for g in _G]
    return (p, opt.momentum_buffer, *norms)


def _adam_steps() -> Any:
    p = _P0.astype(np.float32)
    opt = tunelab.optim.Adam(p, lr=0.01, weight_decay=1e-2, max_grad_norm=3.0)
    norms = [opt.step(g).grad_norm for g in _G]
    return (p, opt.exp_avg, opt.exp_avg_sq, *norms)


@functools.cache
def _big(kind: str) -> np.ndarray:
    """Inputs of the medium calls, made on first use (the module is also imported by workers)."""
    gen = np.random.default_rng(5)
    if kind == "grads":
        return gen.standard_normal((64, 100_000))
    if kind == "grads32":
        return _big("grads").astype(np.float32)
    if kind == "Y":
        return tunelab.sobol_g(tunelab.saltelli_sample(PROBLEM, 2**12, rng=3), G_A)
    raise KeyError(kind)


def _adam_big(dtype: Any) -> Any:
    p = np.zeros((64, 100_000), dtype=dtype)
    g = _big("grads32" if dtype == np.float32 else "grads")
    opt = tunelab.optim.AdamW(p, lr=1e-3, max_grad_norm=1.0, num_threads=1)
    for _ in range(4):
        opt.step(g)
    return p


def _quad_tiny() -> Any:
    r = tunelab.simulate_quadratic(H4, optimizer="adam", lr=0.05, steps=20, replicas=100, rng=2)
    return (r.final_loss, r.loss_mean, r.effective_lr_mean)


def _repeat(times: int, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Memory-bound samplers: several calls of ~30 MB (one large call would be mostly page faults)."""
    for _ in range(times):
        out = fn(*args, **kw)
    return out


def _points_tiny() -> Any:
    return tunelab.sobol_points(5, 64, rng=2)


def _points_into_tiny() -> Any:
    return tunelab.sobol_points(5, 64, rng=2, out=np.empty((64, 5)))


def _points_into_medium() -> Any:
    """Batches into one reused array (the use of out=): no fresh pages after the first call."""
    buf = np.empty((2**14, 256))
    for k in range(25):
        tunelab.sobol_points(256, 2**14, first=k * 2**14, rng=1, num_threads=1, out=buf)
    return buf


def _saltelli_tiny() -> Any:
    return tunelab.saltelli_sample(PROBLEM, 32, second_order=True, rng=2)


_Y = tunelab.sobol_g(tunelab.saltelli_sample(PROBLEM, 64, rng=3), G_A)
_BIG_PROBLEM = tunelab.Problem([f"x{j}" for j in range(20)], [[0.0, 1.0]] * 20)
_GX = np.random.default_rng(6).random((50, 4))


def _indices_tiny() -> Any:
    r = tunelab.sobol_indices(PROBLEM, _Y, n_boot=100, rng=2)
    return (r.S1, r.S1_conf, r.ST, r.ST_conf)


KERNELS: list[KernelEntry] = [
    KernelEntry("standard_normal", ("standard_normal_into",), lambda: tunelab.standard_normal(64, rng=1),
                _eq(_core.standard_normal(64, tunelab._random.kernel_key(1), 0, 0, 1)),
                medium=lambda: tunelab.standard_normal(30_000_000, rng=1, num_threads=1)),
    KernelEntry("uniform", ("uniform_into",), lambda: tunelab.uniform(64, rng=1),
                _eq(_core.uniform(64, tunelab._random.kernel_key(1), 0, 0, 1)),
                medium=lambda: tunelab.uniform(30_000_000, rng=1, num_threads=1)),
    KernelEntry("top_eigenvalue[dense]", ("top_eigen_dense",), lambda: tunelab.top_eigenvalue(A8, rng=1).value,
                _allclose(_ref_top(A8), 1e-7),
                medium=lambda: tunelab.top_eigenvalue(_spd(1000, 4), method="power", tol=1e-15, max_iter=150, rng=1, num_threads=1)),
    KernelEntry("top_eigenvalue[stack]", ("top_eigen_stack",), lambda: tunelab.top_eigenvalue(STACK, rng=1).value,
                _allclose([_ref_top(a) for a in STACK], 1e-7)),
    KernelEntry("top_eigenvalue[callable]", ("top_eigen_callable",),
                lambda: tunelab.top_eigenvalue(partial(np.dot, A8), n=8, method="lanczos", rng=1).value,
                _allclose(_ref_top(A8), 1e-7)),
    KernelEntry("gd_quadratic", ("gd_quadratic",), _gd, _allclose(tunelab.reference.gd_quadratic(A8, _X0, _LRS[:4], 5), 1e-10),
                medium=lambda: tunelab.gd_quadratic(_spd(600, 5), np.ones(600), np.full(8, 1e-3), 200, num_threads=1)),
    # the closed form against the reference iteration: errors ~ n·ε·(1 + 2t·α‖H‖) relative (see
    # test_curvature._eigen_bound), far inside 1e-10 at n = 8, 5 steps
    KernelEntry("gd_quadratic[eigen]", ("gd_quadratic_eigen", "check_symmetric"), _gd_eigen,
                _allclose(tunelab.reference.gd_quadratic(A8, _X0, _LRS[:4], 5), 1e-10),
                medium=lambda: tunelab.gd_quadratic(_spd(600, 5), np.ones(600), np.full(8, 1e-3), 20_000, method="eigen",
                                                    num_threads=1)),
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
    KernelEntry("stopping_distribution[exact]", ("exact_law",), _stop_exact, _eq(_stop_exact()),
                medium=lambda: tunelab.stopping_distribution(_LONG_T, _LONG_V, 0.0, noise_std=0.05, num_threads=1)),
    KernelEntry("threshold_for_reliability", ("exact_first_passage", "ideal_epoch"), _threshold_tiny,
                _eq(_threshold_tiny())),
    KernelEntry("stopping_distribution[monte_carlo]", ("first_passage_counts", "pmf_summary", "ideal_epoch"),
                _stop_mc_tiny, _eq(_stop_mc_tiny()),
                medium=lambda: _stop_mc_tiny(n_rep=2_000_000, num_threads=1)),
    KernelEntry("stopping_distribution[monte_carlo,ar1]", ("gap_rule_ar1_counts",), _stop_ar1_tiny, _eq(_stop_ar1_tiny()),
                medium=lambda: _stop_ar1_tiny(n_rep=1_000_000, num_threads=1)),
    KernelEntry("patience_stopping", ("patience_counts",), _patience_tiny, _eq(_patience_tiny()),
                medium=lambda: _patience_tiny(n_rep=1_000_000, num_threads=1)),
    KernelEntry("optim.SGD.step", ("optim_step_float64",), _sgd_steps, _eq(_sgd_steps()),
                medium=lambda: _adam_big(np.float64)),
    KernelEntry("optim.Adam.step[float32]", ("optim_step_float32",), _adam_steps, _eq(_adam_steps()),
                medium=lambda: _adam_big(np.float32)),
    KernelEntry("simulate_quadratic", ("simulate_quadratic",), _quad_tiny, _eq(_quad_tiny()),
                medium=lambda: tunelab.simulate_quadratic(H4, lr=0.1, steps=2000, replicas=4096, rng=1, num_threads=1)),
    KernelEntry("sobol_points", ("sobol_points",), _points_tiny, _eq(_points_tiny()),
                medium=lambda: _repeat(25, tunelab.sobol_points, 256, 2**14, rng=1, num_threads=1)),
    KernelEntry("sobol_points[out]", ("sobol_points",), _points_into_tiny, _eq(_points_tiny()), medium=_points_into_medium),
    KernelEntry("saltelli_sample", ("saltelli_sample",), _saltelli_tiny, _eq(_saltelli_tiny()),
                medium=lambda: _repeat(40, tunelab.saltelli_sample, _BIG_PROBLEM, 2**12, second_order=True, rng=1,
                                       num_threads=1)),
    KernelEntry("sobol_indices", ("sobol_estimate",), _indices_tiny, _eq(_indices_tiny()),
                medium=lambda: tunelab.sobol_indices(PROBLEM, _big("Y"), n_boot=2000, rng=1, num_threads=1)),
    KernelEntry("sobol_g", ("sobol_g",), lambda: tunelab.sobol_g(_GX, G_A),
                _allclose(tunelab.reference.sobol_g(_GX, G_A), 1e-14)),
    KernelEntry("sobol_g_indices", ("sobol_g_indices",), lambda: tunelab.sobol_g_indices(G_A).ST,
                _allclose(tunelab.reference.sobol_g_indices(G_A)["ST"], 1e-13)),
    # test-only: the generator matrices behind sobol_points (checked against the reference there)
    KernelEntry("_core.sobol_matrices", ("sobol_matrices",), lambda: _core.sobol_matrices(8, True, 5, 0),
                _eq(_core.sobol_matrices(8, True, 5, 0))),
]

#: _core functions that need no entry: metadata, bench probes, test-only helpers.
KERNEL_EXEMPT = {
    "openmp_enabled", "max_threads", "rng_simd_level", "ziggurat_tables", "philox4x32_10", "stream_normals",
    "stream_axpy", "stream_triad", "centred_ranks", "standard_normal", "uniform",
}


def core_functions() -> set[str]:
    """The compiled kernels: ``_core``'s functions (not its options classes and enums)."""
    return {n for n in dir(_core) if not n.startswith("_") and callable(getattr(_core, n))
            and not isinstance(getattr(_core, n), type)}
