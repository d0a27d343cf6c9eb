"""Report section: the learning-rate range test probes the curvature, λ̂ = 2/α* (SCIENCE.md §2)."""

from __future__ import annotations

import numpy as np

import tunelab

from .curvature import _matrix

ORDER = 11
TITLE = "Learning-rate range test: α* and λ̂ = 2/α*"


class _GDStep:
    def __init__(self, h: np.ndarray, x0: np.ndarray) -> None:
        self.h, self.x = h, x0.copy()

    def __call__(self, lr: float) -> float:
        self.x = self.x - lr * (self.h @ self.x)
        with np.errstate(over="ignore", invalid="ignore"):
            return float(0.5 * self.x @ self.h @ self.x)


def run(page, quick: bool) -> None:
    import matplotlib.pyplot as plt

    n = 20 if quick else 200
    h = _matrix(n, 4.0, 0)
    w, V = np.linalg.eigh(h)
    lam = float(w[-1])
    per_decade = 200
    lrs = np.logspace(-3, 1, 4 * per_decade + 1)
    page.text(
        "One gradient step from the same x₀ for each rate α on a log grid (200 per decade). Along the "
        "top eigenvector the loss ratio is (1 − αλ_max)², which first exceeds 1 at α* = 2/λ_max, so "
        "λ̂ = 2/α* measures the curvature. From a generic x₀ the test sees the curvature along the "
        "gradient, gᵀHg/gᵀg ≤ λ_max."
    )
    top = tunelab.lr_range_test_quadratic(h, 3.0 * V[:, -1], lrs)
    x_rand = np.random.default_rng(3).standard_normal(n)
    rand = tunelab.lr_range_test_quadratic(h, x_rand, lrs)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    top.plot(ax=ax)
    ax.axvline(2 / lam, color="k", lw=0.8, ls=":", label="2/λ_max (true)")
    ax.legend()
    page.figure(fig, "lr_range_top", "One-step loss ratio from the top eigenvector; α* marked.")
    page.check("λ̂ = 2/α* from the top eigenvector (within 2%)", top.curvature, lam, abs(top.curvature / lam - 1) < 0.02)
    page.check("α* vs 2/λ_max", top.lr_critical, 2 / lam, 2 / lam < top.lr_critical <= 2 / lam * 10 ** (1 / per_decade))
    g = h @ x_rand
    # L(α) − L(x₀) = −α gᵀg + ½α² gᵀHg vanishes again at α = 2gᵀg/gᵀHg: λ̂ is the curvature along g.
    along = float(g @ h @ g / (g @ g))
    page.table(
        ["start", "α*", "λ̂ = 2/α*", "λ_max", "curvature along g (gᵀHg/gᵀg)"],
        [["top eigenvector", top.lr_critical, top.curvature, lam, lam],
         ["random x₀", rand.lr_critical, rand.curvature, lam, along]],
    )
    page.check("λ̂ from a random x₀ vs gᵀHg/gᵀg (within the 1.2% grid step)", rand.curvature, along,
               abs(rand.curvature / along - 1) < 0.012)

    rng = np.random.default_rng(4)
    finder = tunelab.lr_finder(_GDStep(h, rng.standard_normal(n)), lr_min=1e-4, lr_max=10.0,
                               num_steps=100 if quick else 300, smooth=0.9)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    finder.plot(ax=ax)
    ax.axvline(2 / lam, color="k", lw=0.8, ls=":", label="2/λ_max")
    ax.set_yscale("log")
    ax.legend()
    page.figure(fig, "lr_finder", "Progressive LR finder (fastai-style) on GD over the same quadratic.")
    page.check("LR finder: suggested rate below the stability bound 2/λ_max", finder.lr_suggested, 2 / lam,
               finder.lr_suggested < 2 / lam)
