"""Report section: curvature and the stability bound α < 2/λ_max (SCIENCE.md §1)."""

from __future__ import annotations

import numpy as np

import tunelab

ORDER = 10
TITLE = "Curvature and the stability bound α < 2/λ_max"


def _matrix(n: int, lam_max: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    eigs = np.r_[lam_max, lam_max * rng.uniform(0.01, 0.8, n - 1)]
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    h = (q * eigs) @ q.T
    return (h + h.T) / 2


def run(page, quick: bool) -> None:
    import matplotlib.pyplot as plt

    n = 20 if quick else 200
    lam_true = 4.0
    h = _matrix(n, lam_true, 0)
    spectrum = np.linalg.eigvalsh(h)
    exact, w_min = float(spectrum[-1]), float(spectrum[0])
    page.text(
        f"H is a random symmetric positive definite {n}x{n} matrix with λ_max = {lam_true} and the rest "
        "of its spectrum in [0.04, 3.2]. Gradient descent on ½xᵀHx is x ← (I − αH)x: it converges iff "
        "|1 − αλᵢ| < 1 for every eigenvalue, i.e. iff α < 2/λ_max."
    )
    rows = []
    for method in ("power", "lanczos"):
        r = tunelab.top_eigenvalue(h, method=method, tol=1e-10, rng=0)
        rows.append([method, r.value, exact, abs(r.value - exact) / exact, r.n_iter, r.residual])
        page.check(f"λ_max by {method} ({r.n_iter} matvecs)", r.value, exact, abs(r.value - exact) <= 1e-8 * exact)
    page.table(["method", "λ̂_max", "eigvalsh", "relative error", "matvecs", "residual"], rows)

    bound = tunelab.stability_bound(h, rng=0)
    page.check("stability bound 2/λ_max", bound, 2 / exact, abs(bound - 2 / exact) <= 1e-8 * bound)

    steps = 300 if quick else 1500
    v_top = np.linalg.eigh(h)[1][:, -1]
    x0 = np.random.default_rng(1).standard_normal(n) + v_top
    factors = np.array([0.5, 0.9, 0.99, 1.01, 1.1])
    losses = tunelab.gd_quadratic(h, x0, factors * bound, steps)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for f, row in zip(factors, losses):
        ax.semilogy(np.arange(steps + 1), row, label=f"α = {f:g}·2/λ_max")
    ax.set_xlabel("step t")
    ax.set_ylabel("loss ½xᵀHx")
    ax.legend()
    page.figure(fig, "gd_trajectories", "GD on ½xᵀHx: losses decay below 2/λ_max and grow geometrically above it.")
    c2 = float(x0 @ v_top) ** 2
    page.check("loss ratio after all steps at α = 0.99·2/λ_max (< 1: converges)", losses[2, -1] / losses[2, 0], 0.0,
               losses[2, -1] < losses[2, 0])
    predicted = 0.5 * exact * c2 * 1.02 ** (2 * steps)
    page.check("loss after all steps at α = 1.01·2/λ_max vs the top mode ½λc²·1.02^{2t}", losses[3, -1], predicted,
               abs(losses[3, -1] / predicted - 1) < 1e-3)

    grid = np.linspace(0.8, 1.2, 81 if quick else 401)
    traj = tunelab.gd_quadratic(h, x0, grid * bound, 300)
    final = traj[:, -1] / traj[:, -2]  # per-step loss factor once the slowest mode dominates
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    ax.semilogy(grid, final, label="measured (step 300)")
    ax.semilogy(grid, np.maximum((1 - grid * 2) ** 2, (1 - grid * bound * w_min) ** 2), "k:", label="max_i (1 − αλᵢ)²")
    ax.axvline(1.0, color="C3", ls="--", label="α = 2/λ_max")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xlabel("α / (2/λ_max)")
    ax.set_ylabel("per-step loss factor")
    ax.legend()
    page.figure(fig, "gd_transition", "Per-step loss factor of GD: it crosses 1 exactly at α = 2/λ_max.")
    first_up = float(grid[np.argmax(final > 1)])
    step_ = grid[1] - grid[0]
    page.check("first α/(2/λ_max) on the grid whose per-step loss factor exceeds 1", first_up, 1.0, 1.0 < first_up <= 1.0 + step_ + 1e-12)

    tr = tunelab.hutchinson_trace(h, 500 if quick else 5000, rng=2)
    page.check(f"Hutchinson trace (±{tr.stderr:.3g} SE, {tr.n_samples} Rademacher probes)", tr.estimate,
               float(np.trace(h)), abs(tr.estimate - np.trace(h)) < 5 * tr.stderr)
