"""Report section: early-stopping reliability (SCIENCE.md section 5)."""

from __future__ import annotations

import math

import numpy as np

import tunelab
from tunelab.studies import patience_tradeoff

from .page import fmt_se

ORDER = 50
TITLE = "Early stopping: how reliable is the stopping epoch?"
SECONDS = (3, 2)

E = 100
EPOCHS = np.arange(1, E + 1, dtype=float)
TRAIN = 0.15 + 1.5 / np.sqrt(EPOCHS)
GAP = 0.08 * (EPOCHS / E) ** 2  # convex: overfitting accelerates
VAL = TRAIN + GAP
DELTA, NOISE = 0.03, 0.004
KS = (0, 3)  # the tolerances k of P(|Ê − E*| ≤ k) used in every figure, check and table below
K_TABLE = 3


def _n(count: int) -> str:
    """A count with thin spaces between thousands (1 000 000)."""
    return f"{count:,}".replace(",", "\u2009")


def run(page, quick: bool) -> None:
    import matplotlib.pyplot as plt

    n_rep = 100_000 if quick else 1_000_000
    page.text(
        f"Expected curves over E = {E} epochs, observed with Gaussian noise sd {NOISE} on both training and "
        f"validation loss (so sd {math.hypot(NOISE, NOISE):.4g} on the observed gap). The gap rule stops at the "
        f"first epoch whose observed gap exceeds delta = {DELTA}; the ideal epoch E* is where the expected gap "
        "does. The exact law is the first-passage product P(Ê = E) = prod_{e<E} Phi(z_e) (1 - Phi(z_E)), "
        "z_e = (delta - G(e)) / sigma, evaluated in log space. Reliability is P(|Ê − E*| ≤ k): throughout "
        f"this section k = {KS[0]} (stop exactly at E*) and k = {KS[1]} (within {KS[1]} epochs), in every "
        f"figure, check and table (the threshold table and the AR(1) legend use k = {K_TABLE})."
    )

    # 1. the curves and the gap
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    a1.plot(EPOCHS, TRAIN, label="training loss")
    a1.plot(EPOCHS, VAL, label="validation loss")
    a1.set_xlabel("epoch")
    a1.set_ylabel("expected loss")
    a1.legend(fontsize="small")
    exact = tunelab.stopping_distribution(TRAIN, VAL, DELTA, noise_std=NOISE)
    assert exact.ideal_epoch is not None, "the expected gap crosses DELTA inside the horizon by construction"
    exact.plot(ax=a2)
    a2.set_title("law of Ê (exact) and the gap curve")
    page.figure(fig, "early_stop_curves", "Left: expected curves. Right: exact law of the stop epoch, E* dashed, "
                "gap with its ±1 sd noise band and the threshold.")  # fmt: skip

    # 2. exact vs Monte Carlo
    mc = tunelab.stopping_distribution(TRAIN, VAL, DELTA, noise_std=NOISE, method="monte_carlo", n_rep=n_rep, rng=2024)
    tv = 0.5 * (np.abs(mc.pmf - exact.pmf).sum() + abs(mc.p_never - exact.p_never))
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.bar(EPOCHS, exact.pmf, width=1.0, alpha=0.5, label="exact")
    ax.step(EPOCHS, mc.pmf, where="mid", color="C3", label=f"Monte Carlo, {_n(n_rep)} replicas")
    ax.axvline(exact.ideal_epoch, color="k", ls="--", lw=1, label=f"E* = {exact.ideal_epoch}")
    ax.set_xlim(max(exact.quantiles[0] - 15, 0), min(exact.quantiles[-1] + 15, E + 1))
    ax.set_xlabel("stop epoch Ê")
    ax.set_ylabel("probability")
    ax.legend(fontsize="small")
    page.figure(fig, "early_stop_exact_vs_mc", f"Law of Ê: exact first-passage product (bars) vs Monte Carlo "
                f"({_n(n_rep)} replicas, line); dashed: the ideal epoch E*.")  # fmt: skip
    page.check_z("Monte Carlo mean of Ê vs the exact mean (SE: sd/√n_rep)", mc.mean, mc.std / math.sqrt(n_rep),
                 exact.mean)  # fmt: skip
    # E[TV] <= ½ Σ sqrt(p(1-p)/n) (Jensen, per cell incl. 'never'); one replica moves TV by <= 1/n, so
    # P(TV > E[TV] + t) <= exp(-2 n t²) (McDiarmid): t = sqrt(ln(10^4) / (2n)) has false-alarm rate <= 10^-4.
    p_all = np.r_[exact.pmf, exact.p_never]
    e_tv = 0.5 * float(np.sqrt(p_all * (1 - p_all) / n_rep).sum())
    bound = e_tv + math.sqrt(math.log(1e4) / (2 * n_rep))
    page.check_bound("total variation distance MC vs exact, below ½Σ√(p(1−p)/n) + √(ln 10⁴/(2n)) (a bound on "
                     "its mean plus McDiarmid's deviation at false-alarm rate 10⁻⁴)", tv, upper=bound)  # fmt: skip
    for k in KS:
        page.check_z(f"reliability P(|Ê − E*| ≤ {k}), Monte Carlo vs exact (binomial SE)", mc.reliability(k),
                     mc.reliability_se(k), exact.reliability(k))  # fmt: skip

    page.text(
        f"What this says: at noise sd {NOISE} and δ = {DELTA} the rule stops on average at epoch "
        f"{exact.mean:.1f}, {exact.ideal_epoch - exact.mean:.1f} epochs before E* = {exact.ideal_epoch} (false "
        "alarms: the noisy gap crosses δ before the expected gap does), exactly at E* with probability "
        f"{exact.reliability(KS[0]):.3f} and within {KS[1]} epochs with probability {exact.reliability(KS[1]):.3f}. "
        "The checks above test the exact law against a Monte Carlo simulation of the rule on the mean, the whole "
        "law (total variation) and these two reliabilities."
    )

    # 3. reliability vs threshold and vs noise
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    deltas = np.linspace(0.005, 0.075, 141 if quick else 561)
    dists = [tunelab.stopping_distribution(TRAIN, VAL, float(d), noise_std=NOISE) for d in deltas]
    for k in KS:
        a1.plot(deltas, [d.reliability(k) for d in dists], lw=1, label=f"k = {k}")
    a1.axvline(DELTA, color="grey", ls=":", lw=1)
    a1.set_xlabel("threshold δ")
    a1.set_ylabel("P(|Ê − E*| ≤ k)")
    a1.set_title(f"noise sd {NOISE}")
    a1.legend(fontsize="small")
    noises = np.geomspace(1e-4, 0.05, 40 if quick else 120)
    dists = [tunelab.stopping_distribution(TRAIN, VAL, DELTA, noise_std=float(s)) for s in noises]
    for k in KS:
        a2.semilogx(noises, [d.reliability(k) for d in dists], lw=1.2, label=f"k = {k}")
    a2.axvline(NOISE, color="grey", ls=":", lw=1)
    a2.set_xlabel("noise sd of each loss")
    a2.set_ylabel("P(|Ê − E*| ≤ k)")
    a2.set_title(f"δ = {DELTA}")
    a2.legend(fontsize="small")
    fig.tight_layout()
    page.figure(fig, "early_stop_reliability", f"Reliability P(|Ê − E*| ≤ k), k = {KS[0]} and {KS[1]}, exact. "
                "Left: against the threshold δ (a sawtooth: E* jumps at each gap value, and within a segment the "
                f"reliability rises). Right: against the noise sd at δ = {DELTA}. Dotted: the setting used above.")
    page.step("reliability scans")

    rows = []
    for s in (0.001, 0.002, 0.004, 0.008):
        ch = tunelab.threshold_for_reliability(TRAIN, VAL, noise_std=s, k=K_TABLE, target=0.9)
        rows.append([s, "yes" if ch.reached else "no", ch.threshold if ch.reached else "–",
                     ch.ideal_epoch if ch.reached else "–", ch.best_reliability])  # fmt: skip
    page.text(f"Which threshold to use? The smallest threshold whose rule stops within k = {K_TABLE} epochs of its "
              "ideal epoch with probability 0.9 (threshold_for_reliability, exact law): with more noise a larger "
              "threshold is needed, and beyond some noise level no threshold reaches the target.")  # fmt: skip
    page.table(["noise sd", "target reached", "δ", "E*", f"best P(|Ê − E*| ≤ {K_TABLE}) on the scan"], rows,
               caption=f"Smallest threshold δ with P(|Ê − E*| ≤ {K_TABLE}) ≥ 0.9, per noise sd of each loss.")

    # 4. correlated noise
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for rho in (0.0, 0.5, 0.9):
        d = tunelab.stopping_distribution(TRAIN, VAL, DELTA, noise_std=NOISE, method="monte_carlo", rho=rho,
                                          n_rep=n_rep // 4, rng=7)  # fmt: skip
        r = d.reliability(K_TABLE)
        ax.step(EPOCHS, d.pmf, where="mid", label=f"ρ = {rho}: P(|Ê − E*| ≤ {K_TABLE}) = "
                f"{fmt_se(r, d.reliability_se(K_TABLE))}")
    ax.axvline(exact.ideal_epoch, color="k", ls="--", lw=1, label=f"E* = {exact.ideal_epoch}")
    ax.set_xlabel("stop epoch Ê")
    ax.set_ylabel("probability")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)  # room for the legend above the curves
    ax.legend(fontsize="small", loc="upper left")
    ax.set_xlim(max(exact.quantiles[0] - 15, 0), min(exact.quantiles[-1] + 15, E + 1))
    page.figure(fig, "early_stop_ar1", f"Law of Ê under AR(1) noise (stationary, same marginal sd {NOISE}; "
                f"Monte Carlo, {_n(n_rep // 4)} replicas each; dashed: E*): correlated noise makes early false alarms "
                "rarer per epoch but more persistent.")  # fmt: skip

    # 5. patience trade-off (Keras EarlyStopping)
    v = 0.3 + 1.2 / np.sqrt(EPOCHS) + 0.002 * EPOCHS  # U-shaped validation loss, best near epoch 45
    sigma_v = 0.01
    pats = [1, 2, 3, 5, 8, 13, 21]
    t = patience_tradeoff(v, patience=pats, min_delta=[0.0, 0.002], noise_std=sigma_v,
                          n_rep=n_rep // 10, rng=11)  # fmt: skip
    fig, ax = plt.subplots(figsize=(7, 3.8))
    t.plot(ax=ax)
    ax.set_title(f"Keras EarlyStopping, restore_best_weights=True, noise sd {sigma_v}")
    page.figure(fig, "early_stop_patience", "Patience trade-off: epochs trained against regret (expected true "
                "validation loss of the restored epoch minus the best), ±2 SE bars; points labelled by patience. "
                "More patience costs epochs and buys a smaller regret, with diminishing returns.")  # fmt: skip
    page.table(
        ["patience", "min_delta", "E[epochs] ± SE", "regret ± SE", "P(stopped)"],
        [[int(p), float(m), fmt_se(x, xs), fmt_se(r, se), float(ps)] for p, m, x, xs, r, se, ps in
         zip(t.patience, t.min_delta, t.expected_epochs, t.expected_epochs_se, t.regret, t.regret_se, t.p_stopped)],
        caption=f"Keras EarlyStopping with restore_best_weights on a U-shaped validation curve, noise sd {sigma_v}, "
                f"{_n(n_rep // 10)} replicas per row.",
    )  # fmt: skip
