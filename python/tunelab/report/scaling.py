"""Report section: batch-size scaling law (SCIENCE.md §4)."""

from __future__ import annotations

import numpy as np

ORDER = 40
TITLE = "Batch-size scaling law: B_opt ∝ N^δ"


def run(page, quick: bool) -> None:
    import matplotlib.pyplot as plt

    import tunelab

    obj = tunelab.SGDQuadraticObjective(rng=2024)
    sizes = np.geomspace(1e3, 3e4, 4) if quick else np.geomspace(1e3, 1e5, 6)
    batches = np.geomspace(4, 1000, 13 if quick else 25)
    n_seeds = 4 if quick else 16
    page.text(
        "Built-in objective: SGD (rate 0.5) on a 128-dimensional noisy quadratic with spectrum λ_i = i^-2, "
        "initial loss ½ i^-3 per direction and gradient-noise covariance H/B, for one epoch over N examples "
        "(a sample budget of N); the score is the mean loss over the last half of the steps. Larger batches "
        "take fewer, less noisy steps; the bias ∝ (B/N)^β with β = (b-1)/a against the noise ∝ 1/B predicts "
        f"δ = (b-1)/(a+b-1) = {obj.expected_exponent:.3f}. B_opt(N) minimises the seed-averaged score (parabola "
        f"in log B through the grid minimum); {n_seeds} seeds, {batches.size} batch sizes; error bars: "
        "jackknife over seeds."
    )
    res = tunelab.batch_scaling_study(obj, sizes, batches, n_seeds=n_seeds, rng=0)
    fit = res.fit
    fig, ax = plt.subplots(figsize=(6, 4.5))
    res.plot(ax)
    page.figure(fig, "scaling_bopt", "B_opt vs N (log-log) with the fitted power law and its 95% interval.")
    lo, hi = fit.ci
    page.check(f"exponent δ ({fit.conf_level:.0%} {fit.ci_method} interval [{lo:.3f}, {hi:.3f}])", fit.exponent,
               obj.expected_exponent, lo <= obj.expected_exponent <= hi)
    page.table(
        ["N", "B_opt", "SE of log B_opt", "fitted k N^δ"],
        [[float(n), float(b), float(s), float(f)] for n, b, s, f in zip(res.dataset_sizes, res.B_opt,
                                                                         res.log_B_opt_stderr, fit(res.dataset_sizes))],
    )
    page.text(f"Fit: δ = {fit.exponent:.4f} ± {fit.stderr:.4f} (OLS SE), k = {fit.prefactor:.4g}, R² = {fit.r2:.4f}; "
              f"Student-t interval [{fit.ci_t[0]:.3f}, {fit.ci_t[1]:.3f}], percentile bootstrap "
              f"[{fit.ci_percentile[0]:.3f}, {fit.ci_percentile[1]:.3f}].")

    # Coverage of the three intervals with few points.
    trials = 100 if quick else 500
    rng = np.random.default_rng(7)
    rows = []
    for n_pts in (4, 6, 8):
        x = np.geomspace(1e2, 1e5, n_pts)
        hits = np.zeros(3)
        for t in range(trials):
            y = 3.0 * x**0.4 * np.exp(0.3 * rng.standard_normal(n_pts))
            f = tunelab.fit_power_law(x, y, rng=t, ci_method="bootstrap-t")
            for k, (a, b) in enumerate((f.ci, f.ci_t, f.ci_percentile)):
                hits[k] += a <= 0.4 <= b
        rows.append([n_pts, *(hits / trials).tolist()])
    page.text(f"Coverage of nominal 95% intervals for a planted exponent 0.4, {trials} seeded trials "
              "(Gaussian noise of SD 0.3 on log y). 'auto' uses Student-t up to 5 points and bootstrap-t above.")
    page.table(["points", "bootstrap-t", "Student-t", "percentile"], rows)

    # Gradient noise scale of the same model at its starting point.
    lam = np.arange(1, obj.dim + 1, dtype=float) ** -obj.spectrum_exponent
    theta0 = np.arange(1, obj.dim + 1, dtype=float) ** (0.5 * (obj.spectrum_exponent - obj.init_exponent))
    G = lam * theta0
    truth = obj.noise**2 * lam.sum() / (G @ G)
    m = 200 if quick else 2000
    g = np.random.default_rng(3)

    def sq(b):
        gb = G + obj.noise * np.sqrt(lam / b) * g.standard_normal((m, obj.dim))
        return (gb * gb).sum(axis=1)

    ns = tunelab.gradient_noise_scale(grad_sq_small=sq(4), grad_sq_big=sq(256), batch_small=4, batch_big=256)
    page.check(f"gradient noise scale B_simple = tr Σ / |G|² at the start (two-batch estimator, {m} measurements "
               "each at B = 4 and 256)", ns.B_simple, truth, abs(ns.B_simple / truth - 1) < 0.1)
