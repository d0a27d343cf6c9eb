"""Report section: early-stopping reliability (SCIENCE.md section 5)."""

from __future__ import annotations

import math

import numpy as np

import tunelab

ORDER = 50
TITLE = "Early stopping: how reliable is the stopping epoch?"

E = 100
EPOCHS = np.arange(1, E + 1, dtype=float)
TRAIN = 0.15 + 1.5 / np.sqrt(EPOCHS)
GAP = 0.08 * (EPOCHS / E) ** 2  # convex: overfitting accelerates
VAL = TRAIN + GAP
DELTA, NOISE = 0.03, 0.004


def run(page, quick: bool) -> None:
    import matplotlib.pyplot as plt

    n_rep = 100_000 if quick else 1_000_000
    page.text(
        f"Expected curves over E = {E} epochs, observed with Gaussian noise sd {NOISE} on both training and "
        f"validation loss (so sd {math.hypot(NOISE, NOISE):.4g} on the observed gap). The gap rule stops at the "
        f"first epoch whose observed gap exceeds delta = {DELTA}; the ideal epoch E* is where the expected gap "
        "does. The exact law is the first-passage product P(Ê = E) = prod_{e<E} Phi(z_e) (1 - Phi(z_E)), "
        "z_e = (delta - G(e)) / sigma, evaluated in log space."
    )

    # 1. the curves and the gap
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    a1.plot(EPOCHS, TRAIN, label="training loss")
    a1.plot(EPOCHS, VAL, label="validation loss")
    a1.set_xlabel("epoch")
    a1.set_ylabel("expected loss")
    a1.legend(fontsize="small")
    exact = tunelab.stopping_distribution(TRAIN, VAL, DELTA, noise_std=NOISE)
    exact.plot(ax=a2)
    a2.set_title("law of Ê (exact) and the gap curve")
    page.figure(fig, "early_stop_curves", "Left: expected curves. Right: exact law of the stop epoch, E* dashed, "
                "gap with its ±1 sd noise band and the threshold.")  # fmt: skip

    # 2. exact vs Monte Carlo
    mc = tunelab.stopping_distribution(TRAIN, VAL, DELTA, noise_std=NOISE, method="monte_carlo", n_rep=n_rep, rng=2024)
    tv = 0.5 * (np.abs(mc.pmf - exact.pmf).sum() + abs(mc.p_never - exact.p_never))
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.bar(EPOCHS, exact.pmf, width=1.0, alpha=0.5, label="exact")
    ax.step(EPOCHS, mc.pmf, where="mid", color="C3", label=f"Monte Carlo, n_rep={n_rep:.0e}")
    ax.axvline(exact.ideal_epoch, color="k", ls="--", lw=1, label=f"E* = {exact.ideal_epoch}")
    ax.set_xlim(max(exact.quantiles[0] - 15, 0), min(exact.quantiles[-1] + 15, E + 1))
    ax.set_xlabel("stop epoch Ê")
    ax.set_ylabel("probability")
    ax.legend(fontsize="small")
    page.figure(fig, "early_stop_exact_vs_mc", "Law of Ê: exact first-passage product vs Monte Carlo.")
    se_mean = mc.std / math.sqrt(n_rep)
    page.check("Monte Carlo mean of Ê vs exact (agrees: within 5 SE)", mc.mean, exact.mean,
               abs(mc.mean - exact.mean) <= 5 * se_mean)  # fmt: skip
    bound = 0.005 * math.sqrt(1e6 / n_rep)  # the 0.005 at 10^6 replicas; TV shrinks as 1/sqrt(n)
    page.check(f"total variation distance MC vs exact (agrees: below {bound:.3g})", tv, 0.0, tv < bound)
    for k in (0, 3):
        r_mc, r_ex = mc.reliability(k), exact.reliability(k)
        page.check(f"reliability P(|Ê − E*| ≤ {k}), MC vs exact (5 SE)", r_mc, r_ex,
                   abs(r_mc - r_ex) <= 5 * mc.reliability_se(k) + 1e-12)  # fmt: skip

    # 3. reliability vs threshold and vs noise
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    deltas = np.linspace(0.005, 0.075, 141 if quick else 561)
    for k in (0, 2, 5):
        rel = [tunelab.stopping_distribution(TRAIN, VAL, float(d), noise_std=NOISE).reliability(k) for d in deltas]
        a1.plot(deltas, rel, lw=1, label=f"k = {k}")
    a1.set_xlabel("threshold δ")
    a1.set_ylabel("P(|Ê − E*| ≤ k)")
    a1.set_title(f"noise sd {NOISE}")
    a1.legend(fontsize="small")
    noises = np.geomspace(1e-4, 0.05, 40 if quick else 120)
    for k in (0, 2, 5):
        rel = [tunelab.stopping_distribution(TRAIN, VAL, DELTA, noise_std=float(s)).reliability(k) for s in noises]
        a2.semilogx(noises, rel, lw=1.2, label=f"k = {k}")
    a2.set_xlabel("noise sd of each loss")
    a2.set_ylabel("P(|Ê − E*| ≤ k)")
    a2.set_title(f"δ = {DELTA}")
    a2.legend(fontsize="small")
    page.figure(fig, "early_stop_reliability", "Reliability against the threshold (a sawtooth: E* jumps at each gap "
                "value, and within a segment the reliability rises) and against the noise level.")  # fmt: skip

    rows = []
    for s in (0.001, 0.002, 0.004, 0.008):
        ch = tunelab.threshold_for_reliability(TRAIN, VAL, noise_std=s, k=3, target=0.9)
        rows.append([s, "yes" if ch.reached else "no", ch.threshold if ch.reached else "-",
                     ch.ideal_epoch if ch.reached else "-", ch.best_reliability])  # fmt: skip
    page.text("The smallest threshold whose rule stops within 3 epochs of its ideal epoch with probability 0.9 "
              "(threshold_for_reliability):")  # fmt: skip
    page.table(["noise sd", "reached", "δ", "E*", "best reliability on the scan"], rows)

    # 4. correlated noise
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for rho in (0.0, 0.5, 0.9):
        d = tunelab.stopping_distribution(TRAIN, VAL, DELTA, noise_std=NOISE, method="monte_carlo", rho=rho,
                                          n_rep=n_rep // 4, rng=7)  # fmt: skip
        ax.step(EPOCHS, d.pmf, where="mid", label=f"ρ = {rho}: reliability(3) = {d.reliability(3):.3f}")
    ax.axvline(exact.ideal_epoch, color="k", ls="--", lw=1)
    ax.set_xlabel("stop epoch Ê")
    ax.set_ylabel("probability")
    ax.legend(fontsize="small")
    page.figure(fig, "early_stop_ar1", "AR(1) noise (stationary, same marginal sd): correlated noise makes early "
                "false alarms rarer per epoch but more persistent.")  # fmt: skip

    # 5. patience trade-off (Keras EarlyStopping)
    v = 0.3 + 1.2 / np.sqrt(EPOCHS) + 0.002 * EPOCHS  # U-shaped validation loss, best near epoch 45
    sigma_v = 0.01
    pats = [1, 2, 3, 5, 8, 13, 21]
    t = tunelab.patience_tradeoff(v, patience=pats, min_delta=[0.0, 0.002], noise_std=sigma_v,
                                  n_rep=n_rep // 10, rng=11)  # fmt: skip
    fig, ax = plt.subplots(figsize=(7, 3.8))
    t.plot(ax=ax)
    ax.set_title(f"Keras EarlyStopping, restore_best_weights=True, noise sd {sigma_v}")
    page.figure(fig, "early_stop_patience", "Patience trade-off: epochs trained against regret (expected true "
                "validation loss of the restored epoch minus the best), ±2 SE bars.")  # fmt: skip
    page.table(
        ["patience", "min_delta", "E[epochs]", "regret", "regret SE", "P(stopped)"],
        [[int(p), float(m), float(x), float(r), float(se), float(ps)] for p, m, x, r, se, ps in
         zip(t.patience, t.min_delta, t.expected_epochs, t.regret, t.regret_se, t.p_stopped)],
    )  # fmt: skip
