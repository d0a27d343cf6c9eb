"""Report section: learning rate × gradient clipping under heavy-tailed noise (SCIENCE.md §7)."""

from __future__ import annotations

import numpy as np

from .page import fmt, fmt_se

ORDER = 31
TITLE = "Learning rate × gradient clipping (grid search, heavy-tailed noise)"
SECONDS = (2, 1)

_H = np.geomspace(0.1, 10.0, 8)  # clipping_study's default quadratic (condition number 100)


def run(page, quick: bool) -> None:
    import matplotlib.pyplot as plt

    from tunelab.studies import clipping_study

    seeds, steps = (8, 150) if quick else (48, 400)
    lrs = np.geomspace(1e-3, 2.0, 10 if quick else 15)
    clips = np.concatenate([np.geomspace(0.3, 100, 5 if quick else 8), [np.inf]])
    res = clipping_study(rng=7, seeds=seeds, steps=steps, lrs=lrs, clips=clips)
    edge = 2 / float(_H.max())
    page.text(
        "SGD on ½Σhᵢwᵢ² with 8 curvatures from 0.1 to 10 (condition number 100, so plain GD is stable for "
        f"α < 2/h_max = {edge:g}) and Student-t gradient noise (3 degrees of freedom, standard deviation 3), from "
        f"w₀ = 3. Every (α, c) pair of the {lrs.size} × {clips.size} grid is trained with {seeds} seeds for {steps} "
        "steps in one vectorised call of simulate_quadratic; the score is the mean final loss over the seeds, and "
        "a cell where any seed diverged is scored ∞ (hatched in the figure). With clipping the update is "
        "α·min(1, c/‖g‖)·g, so the two are coupled: the smaller the threshold, the larger the rate that works, and "
        "a clipped step never exceeds αc, so clipped runs survive rates above 2/h_max. Without clipping (top row, "
        "c = ∞) every rate above 2/h_max diverges, and rare huge noise draws can make even smaller rates diverge."
    )
    fig, ax = plt.subplots(figsize=(7.5, 5))
    res.plot(ax)
    page.figure(fig, "clip_lr_heatmap",
                f"Mean final loss over {seeds} seeds on the (learning rate, clipping threshold) grid; top row: no "
                "clipping. Hatched: some seed diverged (all of them in the unclipped row at α > 2/h_max). White "
                "line: the best rate for each finite threshold; red star: the best cell.")

    n_lr, n_c = lrs.size, clips.size
    sem = np.asarray(res.search.extras["score_sem"], float).reshape(n_lr, n_c)
    div = np.asarray(res.search.extras["diverged_fraction"], float).reshape(n_lr, n_c)
    best_se = np.asarray(res.best_loss_sem, float)
    best_lr, best_loss = np.asarray(res.best_lr, float), np.asarray(res.best_loss, float)
    stable_max = [float(lrs[np.nonzero(div[:, j] == 0)[0].max()]) if (div[:, j] == 0).any() else float("nan")
                  for j in range(n_c)]
    first_div = [float(lrs[np.nonzero(div[:, j] > 0)[0].min()]) if (div[:, j] > 0).any() else float("nan")
                 for j in range(n_c)]

    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    res.plot_effective_lr(ax)
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    page.figure(fig, "effective_lr",
                "Effective learning rate α·min(1, c/‖g‖) over training (mean over the seeds), at each threshold's best "
                "α. Small thresholds pair a large α with heavy clipping: the effective rate is far below α, lowest early "
                "while ‖g‖ is large. At large thresholds clipping is rarely active and the effective rate is α itself.")

    se_note = "SE = sample SD of the final losses over the seeds / √seeds"
    rows = []
    for j, c in enumerate(clips):
        rows.append([
            "∞ (no clipping)" if np.isinf(c) else f"{c:.3g}", f"{best_lr[j]:.3g}", fmt_se(best_loss[j], best_se[j]),
            f"{stable_max[j]:.3g}", "none on the grid" if np.isnan(first_div[j]) else f"{first_div[j]:.3g}",
        ])
    page.table(["clip threshold c", "best α", f"best mean final loss ± SE ({seeds} seeds)",
                "largest α with no diverged seed", "smallest α with a diverged seed"], rows,
               caption=f"Best rate per threshold on the {n_lr}-rate grid ({fmt(lrs[0])} to {fmt(lrs[-1])}); {se_note}. "
                       "The minimum over a grid of noisy means is biased low by the selection.")
    page.text(
        "Without clipping the loss has infinite variance under t₃ noise (the final iterate is a linear filter of the "
        "noise, whose 4th moment is infinite), so the SE of the unclipped row is only indicative; clipping bounds "
        "every step by αc and with it the variance."
    )
    b = res.search.best
    bj = int(np.nonzero(clips == float(b["max_grad_norm"]))[0][0])
    bi = int(np.nonzero(lrs == float(b["lr"]))[0][0])
    unc = int(np.nonzero(np.isinf(clips))[0][0])
    page.text(
        f"Best configuration overall: α = {fmt(float(b['lr']), 3)}, c = {fmt(float(b['max_grad_norm']), 3)}, "
        f"mean final loss {fmt_se(res.search.best_score, sem[bi, bj])} over {seeds} seeds. Without clipping the "
        f"best is α = {fmt(best_lr[unc], 3)} with {fmt_se(best_loss[unc], best_se[unc])}."
    )
    # Unclipped SGD is unstable for α > 2/h_max whatever the noise; heavy tails can only lower the largest safe rate.
    page.check_bound("largest rate with no diverged seed without clipping (c = ∞): at most 2/h_max",
                     stable_max[unc], upper=edge)
    # With clipping a step is at most αc long: the smallest threshold survives rates above 2/h_max.
    page.check_bound(f"largest rate with no diverged seed at the smallest threshold c = {clips[0]:.3g}: above 2/h_max",
                     stable_max[0], lower=edge, strict=True)
