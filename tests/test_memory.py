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

import pytest

from . import _entry_points as E

# ---------------------------------------------------------------------------- flat memory
#: name -> script running ``N`` replicas (``N`` is substituted); chunks are fixed so that the
#: per-chunk buffers are the same for both sizes and only growth with N can show.
FLAT = {
    "hutchinson_trace": """
        A = np.diag(np.arange(1.0, 9.0))
        tunelab.hutchinson_trace(A, N, rng=1, chunk_size=2**16)
    """,
    # Lead: add stopping_distribution / patience_stopping (10^8 replicas or what fits a CI
    # minute), simulate_quadratic and sobol_analyze.
}
SMALL, FACTOR = 100_000, 100
#: Allowed growth of peak RSS from N to 100 N replicas (KiB). One chunk of 2^16 replicas is
#: 0.5 MiB of doubles; storing the 10^7 per-replica values would add 76 MiB.
FLAT_BOUND_KIB = 8 * 1024


def _peak_kib(body: str, n: int) -> int:
    script = "import resource, numpy as np, tunelab\nN = %d\n%s\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n" % (
        n, textwrap.dedent(body))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.parametrize("name", list(FLAT))
def test_peak_memory_does_not_grow_with_replicas(name):
    small = _peak_kib(FLAT[name], SMALL)
    large = _peak_kib(FLAT[name], SMALL * FACTOR)
    print(f"{name}: peak RSS {small / 1024:.1f} MiB at N={SMALL}, {large / 1024:.1f} MiB at N={SMALL * FACTOR}")
    assert large - small < FLAT_BOUND_KIB


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
"""
LEAK_CALLS = {
    "standard_normal_into": "_core.standard_normal_into(out, 1, 0, 0, 1)",
    "uniform_into": "_core.uniform_into(out, 1, 0, 0, 1)",
    "standard_normal": "_core.standard_normal(8, 1, 0, 0, 1)",
    "uniform": "_core.uniform(8, 1, 0, 0, 1)",
    "top_eigen_dense": "_core.top_eigen_dense(A, 0, 0, 0, 1e-8, 50, 1, 1, 1e-8)",
    "top_eigen_stack": "_core.top_eigen_stack(S, 1, 0, 0, 1e-8, 50, 1, 1, 1e-8)",
    "top_eigen_callable": "_core.top_eigen_callable(mv, 3, 1, 0, 0, 1e-8, 50, 1)",
    "gd_quadratic": "_core.gd_quadratic(A, x0, lrs, 3, 1, 1e-8)",
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
    # Lead: one line per compiled kernel of optim/quadratic/search, sobol and early_stop.
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
