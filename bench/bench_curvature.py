"""Curvature: dense power iteration against the machine's streaming bandwidth (triad, measured
at the row's own thread count), Lanczos vs power matvec counts, a stack of small matrices against
the NumPy reference, NumPy's batched eigvalsh and SciPy's top-eigenvalue-only eigvalsh, peers
(scipy eigsh), and gd_quadratic (direct and eigenbasis) against the reference and an in-place NumPy iteration."""

from __future__ import annotations

import numpy as np
from harness import Bench, Row, median_time

import tunelab
from tunelab import reference as ref
from tunelab._random import kernel_key


def householder_matrix(eigs: np.ndarray, seed: int) -> np.ndarray:
    """(I − 2uuᵀ) diag(eigs) (I − 2uuᵀ): a dense symmetric matrix with a known spectrum in O(n²)."""
    n = eigs.size
    u = np.random.default_rng(seed).standard_normal(n)
    u /= np.linalg.norm(u)
    du = eigs * u
    a = np.diag(eigs) - 2 * np.outer(u, du) - 2 * np.outer(du, u) + 4 * (u @ du) * np.outer(u, u)
    return (a + a.T) / 2


def run(bench: Bench) -> None:
    threads = bench.threads
    n = 512 if bench.quick else 4096
    rng = np.random.default_rng(0)
    eigs = np.r_[1.0, 0.9, rng.uniform(0.0, 0.9, n - 2)]
    a = householder_matrix(eigs, 1)

    # Dense power iteration: marginal time per iteration (slope between two iteration counts, so
    # validation and the start vector drop out), against one pass over A at the triad bandwidth.
    k1, k2 = (5, 25) if bench.quick else (5, 35)

    def power(k, thr):
        return lambda: tunelab.top_eigenvalue(a, which="LM", tol=1e-300, max_iter=k, rng=0, num_threads=thr)

    key = kernel_key(0)
    v = rng.standard_normal(n)
    t_np_iter = median_time(lambda: a @ v, repeat=9)  # NumPy/BLAS matvec, one per iteration
    gbytes = 8.0 * n * n / 1e9
    thread_list = [threads] if threads else sorted({1, tunelab._core.max_threads()})
    for thr in thread_list:
        t_stream = gbytes / bench.stream_GBps("triad", thr)
        t_iter = (median_time(power(k2, thr), repeat=3) - median_time(power(k1, thr), repeat=3)) / (k2 - k1)
        bench.record(Row("curvature", f"power iteration/iter ({thr} thr)", f"n={n} float64", t_iter,
                         {"numpy A@v (per iter)": t_np_iter, "stream A once @ triad": t_stream},
                         {"GBps": gbytes / t_iter, "x_of_stream": t_iter / t_stream}))

    # Lanczos vs power at the same tolerance, λ₂/λ₁ = 0.9; scipy's eigsh (ARPACK) as the peer.
    tol = 1e-10
    p = tunelab.top_eigenvalue(a, method="power", tol=tol, rng=0, num_threads=threads)
    lz = tunelab.top_eigenvalue(a, method="lanczos", tol=tol, rng=0, num_threads=threads)
    t_p = median_time(lambda: tunelab.top_eigenvalue(a, method="power", tol=tol, rng=0, num_threads=threads), repeat=3)
    t_l = median_time(lambda: tunelab.top_eigenvalue(a, method="lanczos", tol=tol, rng=0, num_threads=threads),
                      repeat=3)
    base = {"power": t_p}
    try:
        from scipy.sparse.linalg import eigsh

        v0 = ref.standard_normal(n, key=key)
        base["scipy eigsh"] = median_time(lambda: eigsh(a, k=1, which="LA", tol=tol, v0=v0), repeat=3)
    except ModuleNotFoundError:
        pass
    if not bench.quick or n <= 1024:
        base["numpy eigvalsh"] = median_time(lambda: np.linalg.eigvalsh(a), repeat=1)
    bench.record(Row("curvature", "lanczos (λ2/λ1=0.9)", f"n={n} tol={tol:g}", t_l, base,
                     {"matvecs_power": p.n_iter, "matvecs_lanczos": lz.n_iter,
                      "fewer_x": p.n_iter / lz.n_iter, "target_x": 5, "err": abs(lz.value - 1.0)}))
    sel = tunelab.top_eigenvalue(a, method="lanczos", reorth="selective", tol=tol, rng=0, num_threads=threads)
    t_s = median_time(lambda: tunelab.top_eigenvalue(a, method="lanczos", reorth="selective", tol=tol, rng=0,
                                                     num_threads=threads), repeat=3)
    bench.record(Row("curvature", "lanczos selective reorth", f"n={n} tol={tol:g}", t_s, {"lanczos full": t_l},
                     {"matvecs": sel.n_iter, "err": abs(sel.value - 1.0)}))

    # A stack of small matrices: spectra 1 > U(0, 0.5) (λ₂/λ₁ <= 0.5), random eigenvectors.
    m = 256 if bench.quick else 4096
    d = 32
    lam = np.concatenate([np.ones((m, 1)), rng.uniform(0, 0.5, (m, d - 1))], axis=1)
    q, _ = np.linalg.qr(rng.standard_normal((m, d, d)))
    stack = np.einsum("mij,mj,mkj->mik", q, lam, q)
    stack = (stack + stack.transpose(0, 2, 1)) / 2
    tol_s = 1e-8
    res = tunelab.top_eigenvalue(stack, tol=tol_s, rng=0, num_threads=threads)
    assert res.converged.all()
    t_stack = median_time(lambda: tunelab.top_eigenvalue(stack, tol=tol_s, rng=0, num_threads=threads), repeat=5)
    t_ref = median_time(lambda: ref.top_eigenvalue(stack, tol=tol_s, key=key), repeat=3)
    t_eigh = median_time(lambda: np.linalg.eigvalsh(stack), repeat=3)
    bench.record(Row("curvature", "power iteration stack", f"{m}x{d}x{d} tol={tol_s:g}", t_stack,
                     {"numpy ref (batched matmul)": t_ref, "numpy eigvalsh": t_eigh},
                     {"mean_iter": float(res.n_iter.mean())}))
    # The same at one thread (NumPy's side is serial), always: a target reads this row.
    t_stack1 = median_time(lambda: tunelab.top_eigenvalue(stack, tol=tol_s, rng=0, num_threads=1), repeat=5)
    bench.record(Row("curvature", "power iteration stack (1 thr)", f"{m}x{d}x{d} tol={tol_s:g}", t_stack1,
                     {"numpy ref (batched matmul)": t_ref, "numpy eigvalsh": t_eigh},
                     {"mean_iter": float(res.n_iter.mean())}))
    # The same stack at tol=1e-10 (the target's tolerance) against both eigvalsh a user reaches for:
    # NumPy's batched full spectrum and SciPy's top eigenvalue only (subset_by_index, batched).
    tol_t = 1e-10
    assert tunelab.top_eigenvalue(stack, tol=tol_t, rng=0, num_threads=threads).converged.all()
    t_tight = median_time(lambda: tunelab.top_eigenvalue(stack, tol=tol_t, rng=0, num_threads=threads), repeat=5)
    base_t = {"numpy eigvalsh": t_eigh}
    try:
        from scipy.linalg import eigvalsh as sp_eigvalsh

        base_t["scipy eigvalsh (top only)"] = median_time(
            lambda: sp_eigvalsh(stack, subset_by_index=[d - 1, d - 1], check_finite=False), repeat=3)
    except (ModuleNotFoundError, TypeError, ValueError):  # an old SciPy without batching
        pass
    bench.record(Row("curvature", "power iteration stack", f"{m}x{d}x{d} tol={tol_t:g}", t_tight, base_t))
    t_lz = median_time(lambda: tunelab.top_eigenvalue(stack, method="lanczos", tol=tol_s, rng=0,
                                                      num_threads=threads), repeat=3)
    bench.record(Row("curvature", "lanczos stack", f"{m}x{d}x{d} tol={tol_s:g}", t_lz,
                     {"numpy eigvalsh": t_eigh}, {}))

    # Hutchinson's trace and the quadratic kernels.
    nh = 256 if bench.quick else 1024
    ah = a[:nh, :nh]
    ns = 256 if bench.quick else 2048
    t_h = median_time(lambda: tunelab.hutchinson_trace(ah, ns, rng=0, num_threads=threads), repeat=3)
    t_hr = median_time(lambda: ref.hutchinson_trace(ah, ns, key=key), repeat=1)
    bench.record(Row("curvature", "hutchinson_trace", f"n={nh} probes={ns}", t_h, {"numpy ref": t_hr}, {}))
    L, steps = (64, 50) if bench.quick else (256, 200)
    ng = 128
    hg = a[:ng, :ng]
    lrs = np.linspace(0.1, 2.2, L)
    x0 = np.ones(ng)
    t_g = median_time(lambda: tunelab.gd_quadratic(hg, x0, lrs, steps, num_threads=threads), repeat=3)
    t_gr = median_time(lambda: ref.gd_quadratic(hg, x0, lrs, steps), repeat=3)
    # The strongest NumPy a user would write: preallocated, in place, BLAS X @ H per step.
    gx, gg, gout, glr = np.empty((L, ng)), np.empty((L, ng)), np.empty((L, steps + 1)), lrs[:, None]

    def gd_numpy():
        gx[:] = x0
        for t in range(steps + 1):
            np.matmul(gx, hg, out=gg)
            np.einsum("ij,ij->i", gx, gg, out=gout[:, t])
            np.multiply(gg, glr, out=gg)
            np.subtract(gx, gg, out=gx)
        return np.multiply(gout, 0.5, out=gout)

    t_gn = median_time(gd_numpy, repeat=3)
    bench.record(Row("curvature", "gd_quadratic", f"n={ng} rates={L} steps={steps}", t_g,
                     {"numpy ref": t_gr, "numpy in-place": t_gn}, {}))
    t_ge = median_time(lambda: tunelab.gd_quadratic(hg, x0, lrs, steps, method="eigen", num_threads=threads), repeat=5)
    bench.record(Row("curvature", "gd_quadratic eigen", f"n={ng} rates={L} steps={steps}", t_ge,
                     {"numpy ref": t_gr, "numpy in-place": t_gn}, {}))
