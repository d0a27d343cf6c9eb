"""Report section: transfer of tuned learning rates across tasks (SCIENCE.md §9)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from .page import fmt_se

ORDER = 90
TITLE = "Transfer of tuned learning rates across tasks"
SECONDS = (4, 1)


def run(page, quick: bool) -> None:
    import matplotlib.pyplot as plt

    import tunelab
    from tunelab.studies import transfer_study

    S = 1000 if quick else 10_000
    c = np.linspace(0.0, 1.0, 6 if quick else 11)
    page.text(
        "Latent-factor model: log η*_{t,s} = μ + σ (c_t z_s + √(1−c_t²) ε_{t,s}) for task t and seed s; the "
        "validation loss is ½ (log η − log η*)² + noise·ξ on a grid of rates, and the tuned rate is the grid's "
        f"argmin. Spearman's ρ of the tuned rates of two tasks across {S} seeds is compared with the arcsine law "
        "(6/π)·arcsin(c_t c_u / 2), the rank correlation of a bivariate normal with correlation c_t c_u."
    )
    res = transfer_study(c, n_seeds=S, eval_noise=0.01, rng=1)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    res.plot(axes)
    fig.tight_layout()
    page.figure(fig, "transfer_coupling",
                f"Tasks with couplings c = {', '.join(f'{x:.2g}' for x in c)}; 200-point grid, evaluation noise 0.01. "
                "Left and middle: measured and theoretical Spearman matrices; right: each task pair, ±2 SE.")
    df = res.to_frame()
    z = np.abs(np.asarray(df["z"], dtype=float))
    n_pairs = int(np.isfinite(z).sum())
    # Bonferroni: with probability 0.99 no |z| of n_pairs standard normals exceeds this.
    bound = float(stats.norm.isf(0.005 / n_pairs))
    page.check_bound(f"largest |measured − theory| / SE over the {n_pairs} task pairs (Bonferroni bound at 1%)",
                     float(np.nanmax(z)), upper=bound)

    # Grid coarseness and evaluation noise, two tasks with c = 0.8 (rho = 0.64).
    cc = [0.8, 0.8]
    theory = float(tunelab.arcsine_spearman(0.64))
    grids = [3, 5, 8, 12, 20, 50, 200]
    noises = [0.0, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
    mu = float(np.log(1e-3))
    g_rows, n_rows = [], []
    for G in grids:
        r = transfer_study(cc, n_seeds=S, lr_grid=np.exp(np.linspace(mu - 3, mu + 3, G)), eval_noise=0.0, rng=2)
        g_rows.append([G, float(r.spearman[0, 1]), float(r.stderr[0, 1])])
    page.step("grid sizes")
    for e in noises:
        r = transfer_study(cc, n_seeds=S, eval_noise=e, rng=3)
        n_rows.append([e, float(r.spearman[0, 1]), float(r.stderr[0, 1])])
    page.step("evaluation noise levels")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    gr = np.array(g_rows)
    a1.errorbar(gr[:, 0], gr[:, 1], yerr=2 * gr[:, 2], fmt="o-", label="measured, no noise (±2 SE)")
    a1.axhline(theory, color="k", ls="--", label="(6/π) arcsin(0.64/2)")
    a1.set_xscale("log")
    a1.set_xlabel("grid points over log η* ± 3σ")
    a1.set_ylabel("Spearman ρ of tuned rates")
    a1.legend()
    nr = np.array(n_rows)
    a2.errorbar(np.maximum(nr[:, 0], 3e-3), nr[:, 1], yerr=2 * nr[:, 2], fmt="o-", label="measured, 200-point grid (±2 SE)")
    a2.axhline(theory, color="k", ls="--", label="(6/π) arcsin(0.64/2)")
    a2.set_xscale("log")
    a2.set_xlabel("evaluation noise SD (0 drawn at 0.003)")
    a2.set_ylabel("Spearman ρ of tuned rates")
    a2.legend()
    fig.tight_layout()
    page.figure(fig, "transfer_grid_noise", "Coupling 0.8 on both tasks: a coarse grid (ties) and evaluation noise "
                "pull the measured rank correlation below the arcsine law.")
    page.table(["grid points", "Spearman ρ ± SE", "theory"],
               [[G, fmt_se(rho, se), theory] for G, rho, se in g_rows],
               caption=f"Grid coarseness, no evaluation noise, {S} seeds, couplings 0.8 and 0.8.")
    page.table(["evaluation noise SD", "Spearman ρ ± SE", "theory"],
               [[e, fmt_se(rho, se), theory] for e, rho, se in n_rows],
               caption=f"Evaluation noise on a 200-point grid, {S} seeds, couplings 0.8 and 0.8.")
    page.check_z("fine grid (200 points), small noise (0.01): Spearman ρ of tuned rates vs the arcsine law",
                 n_rows[1][1], n_rows[1][2], theory)
