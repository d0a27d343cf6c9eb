"""Report section: learning rate × gradient clipping under heavy-tailed noise (SCIENCE.md §7)."""

from __future__ import annotations

import numpy as np

ORDER = 31
TITLE = "Learning rate × gradient clipping (grid search, heavy-tailed noise)"


def run(page, quick: bool) -> None:
    import matplotlib.pyplot as plt

    from tunelab.search import clipping_study

    kw = dict(seeds=8, steps=150, lrs=np.geomspace(1e-3, 2.0, 10),
              clips=np.concatenate([np.geomspace(0.3, 100, 5), [np.inf]])) if quick else dict(seeds=48, steps=400)
    res = clipping_study(rng=7, **kw)
    page.text(
        "SGD on a quadratic with condition number 100 and Student-t gradient noise (3 degrees of freedom, "
        "variance s²/B): every (α, c) pair on the grid is trained with many seeds in ONE vectorised call of "
        "simulate_quadratic; the score is the mean final loss (blank: some seed diverged). With clipping the "
        "update is α·min(1, c/‖g‖)·g, so the two are coupled: the smaller the threshold, the larger the rate "
        "that works; without clipping rare huge draws make large rates diverge."
    )
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    res.plot(ax)
    page.figure(fig, "clip_lr_heatmap", "Mean final loss over (learning rate, clipping threshold); white: best rate per threshold.")
    fig, ax = plt.subplots(figsize=(6.5, 4))
    res.plot_effective_lr(ax)
    page.figure(fig, "effective_lr", "Effective learning rate α·min(1, c/‖g‖) over training, at each threshold's best α.")
    page.table(["clip threshold c", "best α", "best mean final loss"],
               [[c, a, l] for c, a, l in zip(res.clip_values, res.best_lr, res.best_loss)])  # fmt: skip
    page.text(f"Best configuration overall: {res.search.best} with mean final loss {res.search.best_score:.4g}.")
