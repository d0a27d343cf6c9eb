"""Memory: a study's peak RSS does not grow with its replica count, and no compiled kernel
leaks (RSS stable over 10^4 calls).

Both run in a fresh subprocess so that the test process's own history (other tests' arrays,
the allocator's caches) cannot hide or fake growth.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import pytest

from . import _entry_points as E

# ---------------------------------------------------------------------------- flat memory
@dataclass(frozen=True)
class Flat:
    """A script running ``N`` replicas (``N`` is substituted), run at ``small`` and
    ``small * factor``. Chunks are fixed so that the per-chunk buffers are the same for both
    sizes and only growth with N can show. ``bytes_per_n``: memory the entry point documents as
    O(N) (its outputs), allowed on top of ``FLAT_BOUND_KIB``."""

    script: str
    small: int = 100_000
    factor: int = 100
    bytes_per_n: float = 0.0


FLAT = {
    "hutchinson_trace": Flat("""
        A = np.diag(np.arange(1.0, 9.0))
        tunelab.hutchinson_trace(A, N, rng=1, chunk_size=2**16)
    """),
    # 10^8 replicas (about 5 s on 2 cores) against 10^6: integer histograms only.
    "stopping_distribution[monte_carlo]": Flat("""
        e = np.arange(1, 61.0)
        tunelab.stopping_distribution(1 / e, 1 / e + 1e-3 * (e - 20) ** 2 / 40, 0.05, noise_std=0.02,
                                      method="monte_carlo", n_rep=N, rng=1)
    """, small=10**6),
    "patience_stopping": Flat("""
        e = np.arange(1, 61.0)
        tunelab.patience_stopping(1 / e + 1e-3 * (e - 20) ** 2 / 40, patience=4, noise_std=0.02, rho=0.3, n_rep=N, rng=1)
    """),
    # simulate_quadratic returns per-replica outputs (final loss, divergence, mean rate): O(R) by
    # design. Its memory must not grow with the length of the run (100 recorded steps either
    # way): steps = N / 1000 at 2000 replicas.
    "simulate_quadratic[steps]": Flat("""
        tunelab.simulate_quadratic(np.geomspace(0.5, 2, 4), optimizer="adam", lr=0.01, steps=N // 1000,
                                   replicas=2000, rng=1, chunk_size=256)
    """),
    # sobol_analyze keeps the model outputs (8 bytes per design row, 10 rows per base row at
    # D = 8, plus the 1-byte masks of its NaN/inf checks), never the design (64 bytes a row
    # here, 640 MiB at the large size): 2^20 base rows against 2^14.
    "sobol_analyze": Flat("""
        from functools import partial
        P = tunelab.Problem([f"x{j}" for j in range(8)], [[0.0, 1.0]] * 8)
        tunelab.sobol_analyze(partial(tunelab.sobol_g, a=np.arange(8.0)), P, N, n_boot=0, rng=1)
    """, small=2**14, factor=64, bytes_per_n=(8 + 1) * 10),
}
#: Allowed growth of peak RSS from N to factor x N replicas (KiB), beyond the documented O(N)
#: outputs. One chunk of 2^16 replicas is 0.5 MiB of doubles; storing the 10^7 per-replica
#: values would add 76 MiB.
FLAT_BOUND_KIB = 8 * 1024


#: Peak RSS of the script's own process. ru_maxrss survives execve on Linux (it would report the
#: pytest process's RSS at fork time, a floor that hides any smaller growth); VmHWM belongs to
#: the address space, which execve replaces.
_PEAK = """
def _peak():
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""


def _peak_kib(body: str, n: int) -> int:
    script = "import numpy as np, tunelab\nN = %d\n%s\n%s\nprint(_peak())\n" % (n, textwrap.dedent(body), _PEAK)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    return int(out.stdout.split()[-1])


_ASAN = pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                           reason="AddressSanitizer holds freed memory in quarantine: RSS grows by design")


@_ASAN
@pytest.mark.parametrize("name", list(FLAT))
def test_peak_memory_does_not_grow_with_replicas(name):
    f = FLAT[name]
    small = _peak_kib(f.script, f.small)
    large = _peak_kib(f.script, f.small * f.factor)
    allowed = FLAT_BOUND_KIB + f.bytes_per_n * f.small * (f.factor - 1) / 1024
    print(f"{name}: peak RSS {small / 1024:.1f} MiB at N={f.small}, {large / 1024:.1f} MiB at N={f.small * f.factor} "
          f"(allowed growth {allowed / 1024:.1f} MiB)")
    assert large - small < allowed


# ---------------------------------------------------------------------------- leaks
#: One tiny call per compiled kernel (``_core`` function), on tiny inputs built in ``SETUP``.
SETUP = """
import numpy as np
from tunelab import _core
A = np.diag([2.0, 1.0, 0.5]); x0 = np.ones(3); lrs = np.array([0.1, 0.5]); out = np.empty(8)
S = np.stack([A, A]); X = np.arange(12.0).reshape(4, 3) % 5; c = np.array([0.5, 0.9])
mu = np.array([-7.0, -7.0]); sg = np.ones(2); grid = np.linspace(-9.0, -5.0, 6)
sizes = np.array([100.0]); bs = np.array([10.0]); seeds = np.array([0, 1], dtype=np.uint64)
mv = lambda v: A @ v
gap = np.linspace(-0.1, 0.2, 12); q = np.linspace(0.0, 0.5, 12); R2 = np.full(2, 0.1); R2i = np.ones(2, dtype=np.int64)
P = np.ones((2, 3)); Pf = np.ones((2, 3), np.float32); Gr = np.full((2, 3), 0.5); Grf = Gr.astype(np.float32)
m1, m2, m1f = np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 3), np.float32); nsteps = np.zeros(2, dtype=np.int64)
z2, one2, b2 = np.zeros(2), np.ones(2), np.full(2, 0.999); H1 = np.array([[0.5, 1.0, 2.0]])
EP, EL = (_core.EigenOptions(method=m, which=_core.Which.LA, reorth=_core.Reorth.full, tol=1e-8, max_iter=50)
          for m in (_core.Method.power, _core.Method.lanczos))
QO = _core.QuadraticOptions(optimizer=_core.Optimizer.sgd, nesterov=False, noise=_core.Noise.gaussian, dof=3.0, steps=4,
                            record_every=1, grain=32, max_loss=1e8)
low, width, grp = np.zeros(3), np.ones(3), np.arange(3, dtype=np.int32); Ys = (np.arange(30.0) ** 1.5 % 7).reshape(15, 2)
Xg = np.full((4, 3), 0.3); Xo = np.empty((8, 3))
"""
LEAK_CALLS = {
    "standard_normal_into": "_core.standard_normal_into(out, 1, 0, 0, 1)",
    "uniform_into": "_core.uniform_into(out, 1, 0, 0, 1)",
    "standard_normal": "_core.standard_normal(8, 1, 0, 0, 1)",
    "uniform": "_core.uniform(8, 1, 0, 0, 1)",
    "top_eigen_dense": "_core.top_eigen_dense(A, EP, 1, 1, 1e-8)",
    "top_eigen_stack": "_core.top_eigen_stack(S, EL, 1, 1, 1e-8)",
    "top_eigen_callable": "_core.top_eigen_callable(mv, 3, EL, 1)",
    "gd_quadratic": "_core.gd_quadratic(A, x0, lrs, 3, 1, 1e-8)",
    "gd_quadratic_eigen": "_core.gd_quadratic_eigen(x0, x0, lrs, 3, 1)",
    "hutchinson_dense": "_core.hutchinson_dense(A, 1, 0, 16, 1)",
    "rademacher": "_core.rademacher(3, 1, 0, 4, 1)",
    "check_symmetric": "_core.check_symmetric(A)",
    "lr_range_test_quadratic": "_core.lr_range_test_quadratic(A, x0, lrs, 1, 1e-8)",
    "spearman_matrix": "_core.spearman_matrix(X, 0, 1)",
    "centred_ranks": "_core.centred_ranks(x0)",
    "sgd_quadratic_scores": "_core.sgd_quadratic_scores(sizes, bs, seeds, 4, 2.0, 3.0, 0.5, 1.0, 1.0, 0.5, 1, 1)",
    "transfer_grid_search": "_core.transfer_grid_search(c, mu, sg, grid, 0.01, 1, 0, 8, 1)",
    "philox4x32_10": "_core.philox4x32_10(np.zeros(4, np.uint32), np.zeros(2, np.uint32))",
    "stream_normals": "_core.stream_normals(8, 1, 0, 0)",
    "ziggurat_tables": "_core.ziggurat_tables()",
    "exact_first_passage": "_core.exact_first_passage(gap, 0.05, 0.1, 1)",
    "exact_law": "_core.exact_law(gap, 0.05, 0.1, q, 1)",
    "pmf_summary": "_core.pmf_summary(q / q.sum(), q)",
    "ideal_epoch": "_core.ideal_epoch(gap, 0.05)",
    "first_passage_counts": "_core.first_passage_counts(q, 1, 0, 64, 1)",
    "gap_rule_ar1_counts": "_core.gap_rule_ar1_counts(gap, 0.05, 0.1, 0.5, 1, 0, 64, 1)",
    "patience_counts": "_core.patience_counts(gap, 2, 0.0, 0.1, 0.3, True, 1, 0, 64, 1)",
    "optim_step_float64": "_core.optim_step_float64(_core.Optimizer.adam, P, Gr, m1, m2, nsteps, None, R2, None, None, R2, b2, R2 * 1e-7, z2, one2, None, None, 1)",
    "optim_step_float32": "_core.optim_step_float32(_core.Optimizer.sgd, Pf, Grf, m1f, None, nsteps, np.zeros(2, bool), R2, R2, z2, None, None, None, z2, None, None, None, 1)",
    "simulate_quadratic": "_core.simulate_quadratic(QO, h=H1, x0=x0[None], lr=R2, momentum=z2, dampening=z2, beta1=R2, "
                          "beta2=b2, eps=R2, weight_decay=z2, max_grad_norm=None, noise_std=one2, batch_size=R2i, "
                          "accum_steps=R2i, key=1, first=0, count=2, num_threads=1)",
    "saltelli_sample": "_core.saltelli_sample(low, width, grp, 3, 4, 1, True, False, True, 1, 0, 4, 1)",
    "sobol_estimate": "_core.sobol_estimate(Ys, 3, False, 3, 1, 8, 1, 0, 1)",
    "sobol_g": "_core.sobol_g(Xg, x0, 1)",
    "sobol_g_indices": "_core.sobol_g_indices(x0)",
    "sobol_matrices": "_core.sobol_matrices(4, True, 1, 0)",
    "sobol_points": "_core.sobol_points(3, 8, 0, True, 1, 0, 1)",
    "sobol_points[out]": "_core.sobol_points(3, 8, 0, True, 1, 0, 1, Xo)",
}
LEAK_EXEMPT = {"openmp_enabled", "max_threads", "rng_simd_level", "stream_axpy", "stream_triad"}  # no allocation
CALLS, WARMUP = 10_000, 1_000
#: Allowed RSS growth over 10^4 calls of one kernel, after warm-up (KiB): 100 bytes a call.
LEAK_BOUND_KIB = 1000


def test_every_kernel_has_a_leak_entry():
    missing = E.core_functions() - set(LEAK_CALLS) - LEAK_EXEMPT
    assert not missing, f"compiled kernels without a leak entry: {sorted(missing)}"


@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="AddressSanitizer holds freed memory in quarantine: RSS grows by design (it checks leaks itself)")
def test_no_kernel_leaks():
    script = SETUP + textwrap.dedent(f"""
    import os, json
    page = os.sysconf("SC_PAGE_SIZE") // 1024
    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page
    calls = {LEAK_CALLS!r}
    growth = {{}}
    for name, src in calls.items():
        code = compile(src, name, "eval")
        for _ in range({WARMUP}):
            eval(code)
        before = rss()
        for _ in range({CALLS}):
            eval(code)
        growth[name] = rss() - before
    print(json.dumps(growth))
    """)
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc/self/statm")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    import json

    growth = json.loads(out.stdout.splitlines()[-1])
    print("RSS growth over 10^4 calls (KiB):", growth)
    leaky = {k: v for k, v in growth.items() if v > LEAK_BOUND_KIB}
    assert not leaky, f"RSS grew by more than {LEAK_BOUND_KIB} KiB over {CALLS} calls: {leaky}"
