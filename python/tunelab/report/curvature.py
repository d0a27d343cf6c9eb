"""Report section: curvature and the stability bound α < 2/λ_max (SCIENCE.md §1)."""

from __future__ import annotations

import numpy as np

import tunelab

from .page import fmt, fmt_se

ORDER = 10
TITLE = "Curvature and the stability bound α < 2/λ_max"
SECONDS = (3, 1)

_EPS = float(np.finfo(float).eps)


def _matrix(n: int, lam_max: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    eigs = np.r_[lam_max, lam_max * rng.uniform(0.01, 0.8, n - 1)]
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    h = (q * eigs) @ q.T
    return (h + h.T) / 2


def _decade_ticks(ax, most: int = 7) -> None:
    """Major ticks of a log y-axis at 10^(k·s), s a round number of decades, at most ``most`` of them."""
    from matplotlib.ticker import FixedLocator, NullLocator

    lo, hi = np.log10(ax.get_ylim())
    s = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200) if (hi - lo) / s <= most - 1)
    ax.yaxis.set_major_locator(FixedLocator((10.0 ** (s * np.arange(np.ceil(lo / s), np.floor(hi / s) + 1))).tolist()))
    if s > 1:
        ax.yaxis.set_minor_locator(NullLocator())


def run(page, quick: bool) -> None:
    import matplotlib.pyplot as plt

    n = 20 if quick else 200
    lam_true = 4.0
    h = _matrix(n, lam_true, 0)
    w, V = np.linalg.eigh(h)
    exact, w_min = float(w[-1]), float(w[0])
    page.text(
        f"H is a random symmetric positive definite {n}×{n} matrix with λ_max = {lam_true:g} and the rest of its "
        f"spectrum in [{fmt(w_min, 3)}, {fmt(float(w[-2]), 3)}]. Gradient descent on ½xᵀHx is x ← (I − αH)x: it "
        "converges iff |1 − αλᵢ| < 1 for every eigenvalue, i.e. iff α < 2/λ_max. First λ_max itself, by power "
        "iteration and by Lanczos (tol = 10⁻¹⁰), against LAPACK's eigvalsh. For a symmetric H an eigenvalue lies "
        "within the residual ‖Hv − θv‖ of the estimate θ, so the residual (plus the rounding of eigvalsh, "
        "about n·ε·λ_max) is the tolerance of each comparison."
    )
    rows = []
    eig_round = n * _EPS * exact  # backward-stable eigvalsh: |error| ≲ n·ε·‖H‖
    results = {}
    for method in ("power", "lanczos"):
        r = tunelab.top_eigenvalue(h, method=method, tol=1e-10, rng=0)
        value, resid = float(r.value), float(r.residual)
        results[method] = (value, resid)
        err = abs(value - exact) / exact
        rows.append([method, f"{value:.12g}", f"{value - exact:+.2g}", f"{err:.2g}", int(r.n_iter), f"{resid:.2g}"])
        page.check_abs(f"λ_max by {method} vs eigvalsh (tolerance: its residual ‖Hv − θv‖ + n·ε·λ_max)",
                       value, exact, atol=resid + eig_round)
    page.table(["method", "λ̂_max", "λ̂_max − eigvalsh", "relative error", "matvecs", "residual ‖Hv − θv‖"], rows,
               caption=f"Top eigenvalue of H (n = {n}) at tol = 10⁻¹⁰; eigvalsh gives λ_max = {exact:.12g}.")

    bound = tunelab.stability_bound(h, method="power", tol=1e-10, rng=0)
    bound = float(bound)
    _, resid = results["power"]
    # 2/θ inherits θ's relative error (≤ residual/λ_max) plus one rounding of the division
    page.check_rel("stability bound 2/λ̂_max (power) vs 2/λ_max from eigvalsh (tolerance: residual/λ_max + (n+2)ε)",
                   bound, 2 / exact, rtol=(resid + eig_round) / exact + 2 * _EPS)

    # ---- GD on both sides of the bound --------------------------------------------------------
    steps = 300 if quick else 1500
    v_top = V[:, -1]
    x0 = np.random.default_rng(1).standard_normal(n) + v_top
    factors = np.array([0.5, 0.9, 0.99, 1.01, 1.1])
    lrs = factors * bound
    losses = tunelab.gd_quadratic(h, x0, lrs, steps)
    t = np.arange(steps + 1)
    c = V.T @ x0  # coordinates of x0 in the eigenbasis
    # Exact trajectory: f(x_t) = ½ Σ λᵢ cᵢ² (1 − αλᵢ)^{2t}; evaluated in logs so nothing overflows.
    def exact_loss(alpha: float, tt: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            logs = np.log(0.5 * w * c**2)[None, :] + 2 * tt[:, None] * np.log(np.abs(1 - alpha * w))[None, :]
        m = logs.max(axis=1, keepdims=True)
        return np.exp(m[:, 0]) * np.exp(logs - m).sum(axis=1)

    r99, r101 = losses[2, -1] / losses[2, 0], losses[3, -1] / losses[3, 0]
    page.text(
        f"GD from a random x₀ (with a unit component along the top eigenvector) for T = {steps} steps at rates "
        "α = f·2/λ_max. Left: just below and just above the bound (f = 0.99 and 1.01) the top mode's factor per "
        f"step is (1 − αλ_max)² = 0.98² or 1.02²: after {steps} steps the loss is {fmt(r99, 4)} times its start "
        f"at f = 0.99 and {fmt(r101, 4)} times at f = 1.01. The dotted lines are the exact eigen-expansion "
        "½Σλᵢcᵢ²(1 − αλᵢ)²ᵗ (c = the coordinates of x₀ in H's eigenbasis). Right: all five rates on one scale; "
        "α = 1.1·2/λ_max grows by 1.44× per step and dominates it, which is why the contrast gets its own panel."
    )
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for k, f in enumerate(factors):
        style = dict(color=f"C{k}", label=rf"$\alpha = {f:g}\cdot 2/\lambda_{{\max}}$")
        if f in (0.99, 1.01):
            a1.semilogy(t, losses[k], lw=2, **style)
            a1.semilogy(t[:: max(steps // 30, 1)], exact_loss(lrs[k], t[:: max(steps // 30, 1)]), "k:", lw=1)
        a2.semilogy(t, losses[k], **style)
    a1.plot([], [], "k:", lw=1, label=r"exact $\frac{1}{2}\sum_i \lambda_i c_i^2 (1-\alpha\lambda_i)^{2t}$")
    a1.axhline(losses[0, 0], color="grey", lw=0.8, label="L(0)")
    a1.set_title(r"just below vs just above $2/\lambda_{\max}$")
    a2.set_title("all five rates")
    fin = losses[np.isfinite(losses)]
    a2.set_ylim(max(fin.min(), 1e-300) / 10, min(fin.max(), 1e300) * 10)
    for a in (a1, a2):
        a.set_xlabel("step t")
        a.set_ylabel("loss ½xᵀHx")
        _decade_ticks(a)
    a1.legend(fontsize="small", loc="lower left")
    a2.legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    page.figure(fig, "gd_trajectories",
                f"GD on ½xᵀHx ({n}×{n}, {steps} steps): the loss decays for α < 2/λ_max and grows geometrically "
                "above it; the measured trajectories lie on the exact eigen-expansion (dotted).")

    # rounding: each of T steps adds relative errors of about n·ε·αλ_max to x, amplified by 2 in the loss
    for k in (2, 3):
        rtol_gd = 2 * steps * n * _EPS * float(lrs[k] * exact)
        page.check_rel(f"loss after T = {steps} steps at α = {factors[k]:g}·2/λ_max vs the exact eigen-expansion "
                       "(tolerance: rounding, 2T·n·ε·αλ_max)",
                       losses[k, -1], float(exact_loss(lrs[k], np.array([steps]))[0]), rtol=rtol_gd)
    page.check_bound("loss ratio L(T)/L(0) at α = 0.99·2/λ_max (converges: below 1)",
                     losses[2, -1] / losses[2, 0], upper=1.0, strict=True)
    page.check_bound("loss ratio L(T)/L(0) at α = 1.01·2/λ_max (diverges: above 1)",
                     losses[3, -1] / losses[3, 0], lower=1.0, strict=True)

    # ---- the transition ---------------------------------------------------------------------------
    n_grid = 80 if quick else 400  # an even count: 1.0 itself is not a grid point
    grid = np.linspace(0.8, 1.2, n_grid)
    T2 = 300
    traj = tunelab.gd_quadratic(h, x0, grid * bound, T2)
    with np.errstate(invalid="ignore"):
        final = traj[:, -1] / traj[:, -2]  # per-step loss factor once the slowest mode dominates
    theory = np.maximum((1 - grid * bound * exact) ** 2, (1 - grid * bound * w_min) ** 2)
    kink = 1 / (1 + w_min / exact)  # where (1 − αλ_max)² = (1 − αλ_min)²
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.plot(grid, final, lw=2, label=f"measured L(t)/L(t−1) at t = {T2}")
    ax.plot(grid, theory, "k:", label=r"theory $\max_i\,(1 - \alpha\lambda_i)^2$")
    ax.axvline(1.0, color="C3", ls="--", label=r"$\alpha = 2/\lambda_{\max}$")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xlabel(r"$\alpha\,/\,(2/\lambda_{\max})$")
    ax.set_ylabel("per-step loss factor")
    ax.legend(fontsize="small")
    page.figure(fig, "gd_transition",
                f"Per-step loss factor of GD after {T2} steps, {n_grid} rates in [0.8, 1.2]·2/λ_max: it crosses 1 "
                f"at α = 2/λ_max. Below {fmt(kink, 3)}·2/λ_max the slowest mode (λ_min) sets the factor, above it "
                "the top mode λ_max does.")
    step_ = float(grid[1] - grid[0])
    above = final > 1
    first_up = float(grid[np.argmax(above)]) if above.any() else float("nan")
    page.check_bound(f"first rate on the grid (step {fmt(step_, 3)}) whose per-step factor exceeds 1, in units of "
                     "2/λ_max: within one grid step above 1", first_up, lower=1.0, upper=1.0 + step_ * (1 + 1e-9))

    # ---- Hutchinson --------------------------------------------------------------------------------
    N = 500 if quick else 5000
    tr = tunelab.hutchinson_trace(h, N, rng=2)
    est, se = float(tr.estimate), float(tr.stderr)
    page.text(f"Hutchinson's trace estimate with {N} Rademacher probes: {fmt_se(est, se)} against tr H = "
              f"{fmt(float(np.trace(h)), 8)}.")
    page.check_z(f"Hutchinson trace ({N} Rademacher probes) vs tr H", est, se, float(np.trace(h)), bound=4.0)
