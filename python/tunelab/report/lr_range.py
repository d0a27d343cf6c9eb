"""Report section: the learning-rate range test probes the curvature, λ̂ = 2/α* (SCIENCE.md §2)."""

from __future__ import annotations

import numpy as np

import tunelab

from .curvature import _matrix
from .page import fmt

ORDER = 11
TITLE = "Learning-rate range test: α* and λ̂ = 2/α*"
SECONDS = (2, 1)


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
    step = 10 ** (1 / per_decade)  # the grid's ratio: α* overestimates the crossing by at most this factor
    lrs = np.logspace(-3, 1, 4 * per_decade + 1)
    page.text(
        f"One gradient step from the same x₀ for each rate α on a log grid ({per_decade} per decade, ratio "
        f"{step:.4f} between neighbours), on the {n}×{n} matrix H of the previous section. Along the top "
        "eigenvector the loss ratio is (1 − αλ_max)², which first exceeds 1 at α* = 2/λ_max, so λ̂ = 2/α* "
        "measures the curvature. α* is the first grid rate above the crossing, so it overestimates 2/λ_max "
        f"by at most one grid ratio ({100 * (step - 1):.2f} %) and λ̂ underestimates λ_max by at most as much: "
        "that bracket is the tolerance of the checks. From a generic x₀ the test sees the curvature along the "
        "gradient instead: L(x₀ − αg) − L(x₀) = −α gᵀg + ½α² gᵀHg vanishes again at α = 2gᵀg/gᵀHg, so "
        "λ̂ = gᵀHg/gᵀg ≤ λ_max."
    )
    top = tunelab.lr_range_test_quadratic(h, 3.0 * V[:, -1], lrs)
    x_rand = np.random.default_rng(3).standard_normal(n)
    rand = tunelab.lr_range_test_quadratic(h, x_rand, lrs)
    a_top, l_top = float(top.lr_critical), float(top.curvature)
    a_rand, l_rand = float(rand.lr_critical), float(rand.curvature)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [1.4, 1]})
    top.plot(ax=a1)
    a1.axvline(2 / lam, color="k", lw=1, ls=":", label=r"$2/\lambda_{\max}$ (true)")
    a1.legend(fontsize="small", loc="upper left")
    a1.set_title("from 3 × the top eigenvector")
    # zoom: a few grid steps around the bound, so the true line and α* are told apart
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = top.losses / top.loss0
    sel = (lrs > 2 / lam / step**6) & (lrs < 2 / lam * step**6)
    a2.plot(lrs[sel], ratio[sel], "o-", ms=4, label="one-step loss / loss0 (grid points)")
    a2.axhline(1.0, color="grey", lw=0.8)
    a2.axvline(a_top, color="C3", ls="--", label=f"α* = {a_top:.5g}")
    a2.axvline(2 / lam, color="k", lw=1, ls=":", label=rf"$2/\lambda_{{\max}}$ = {2 / lam:.5g}")
    a2.set_xlabel("learning rate α")
    a2.set_ylabel("L(x₀ − α∇L) / L(x₀)")
    a2.set_title(r"zoom: ±6 grid steps around $2/\lambda_{\max}$")
    a2.ticklabel_format(axis="x", style="plain", useOffset=False)
    a2.legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    page.figure(fig, "lr_range_top",
                "One-step loss ratio from the top eigenvector. Left: the whole grid, with α* (dashed) on the true "
                "2/λ_max (dotted). Right: zoomed to the grid points around the bound: α* is the first grid rate "
                "whose loss ratio exceeds 1, just above 2/λ_max.")
    page.check_bound("λ̂ = 2/α* from the top eigenvector, in [λ_max/r, λ_max] (r: the grid ratio)", l_top,
                     lower=lam / step, upper=lam)
    g = h @ x_rand
    along = float(g @ h @ g / (g @ g))
    page.table(
        ["start", "α*", "λ̂ = 2/α*", "λ_max", "curvature along g: gᵀHg/gᵀg", "λ̂ / (gᵀHg/gᵀg) − 1"],
        [["3 × top eigenvector", a_top, l_top, lam, lam, f"{l_top / lam - 1:+.2%}".replace("-", "−")],
         ["random x₀", a_rand, l_rand, lam, along, f"{l_rand / along - 1:+.2%}".replace("-", "−")]],
        caption=f"The range test from two starts ({per_decade} rates per decade): λ̂ is within one grid ratio "
                f"({100 * (step - 1):.2f} %) below the curvature along the first gradient.",
    )
    page.check_bound("λ̂ = 2/α* from a random x₀, in [κ/r, κ] with κ = gᵀHg/gᵀg (r: the grid ratio)", l_rand,
                     lower=along / step, upper=along)

    rng = np.random.default_rng(4)
    num_steps = 100 if quick else 300
    finder = tunelab.lr_finder(_GDStep(h, rng.standard_normal(n)), lr_min=1e-4, lr_max=10.0,
                               num_steps=num_steps, smooth=0.9)
    sugg = float(finder.lr_suggested)
    steep, minimum = (float(finder.suggestions[k]) for k in ("steep", "minimum"))
    page.text(
        f"The progressive LR finder (fastai / torch-lr-finder style) instead takes {num_steps} successive GD steps "
        "with the rate growing geometrically from 10⁻⁴ to 10 and stops when the smoothed loss blows up. Its "
        "suggestions skip the first tenth of the run and its last five usable steps, as fastai does. The default, "
        f"the middle of the longest valley of the smoothed loss (fastai's \"valley\"), is {fmt(sugg, 3)}, i.e. "
        f"{fmt(sugg * lam / 2, 3)} × 2/λ_max: a rate that is safely stable, below the bound rather than at it. "
        f"The steepest descent gives {fmt(steep, 3)} ({fmt(steep * lam / 2, 3)} × 2/λ_max) and a tenth of the rate "
        f"at the lowest smoothed loss {fmt(minimum, 3)} ({fmt(minimum * lam / 2, 3)} × 2/λ_max)."
    )
    fig, ax = plt.subplots(figsize=(6.5, 4))
    finder.plot(ax=ax)
    ax.axvline(2 / lam, color="k", lw=1, ls=":", label=r"$2/\lambda_{\max}$ (true)")
    ax.set_yscale("log")
    ax.set_ylim(0.5 * float(np.min(finder.losses)), 2.0 * float(finder.smoothed[0]))  # log y: every loss shown
    ax.set_ylabel("loss ½xᵀHx")
    ax.legend(fontsize="small")
    last = float(np.asarray(finder.lrs, float)[-1])
    page.figure(fig, "lr_finder", f"Progressive LR finder on GD over the same quadratic ({num_steps} steps, "
                "EMA smoothing 0.9), its three suggestions marked (the valley, solid, is the default). The loss keeps "
                "falling a little past 2/λ_max (dotted): the earlier steps had already shrunk the top mode, which "
                "needs a few steps above the bound to grow back; the run stops "
                f"at α = {fmt(last, 3)} = {fmt(last * lam / 2, 3)} × 2/λ_max, where the smoothed loss blows up.")
    page.check_bound("LR finder: suggested rate below the stability bound 2/λ_max", sugg, upper=2 / lam, strict=True)
    page.check_bound("LR finder: every suggestion (valley, steep, minimum) below 2/λ_max",
                     max(finder.suggestions.values()), upper=2 / lam, strict=True)
