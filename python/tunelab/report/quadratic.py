"""Report section: the noisy-quadratic laboratory (SCIENCE.md §3): steady state vs closed form,
accumulation A×b vs one batch A·b, and divergent replicas isolated."""

from __future__ import annotations

import numpy as np

ORDER = 30
TITLE = "Batch size, gradient accumulation and the SGD steady state"


def run(page, quick: bool) -> None:
    import matplotlib.pyplot as plt

    import tunelab
    from tunelab.quadratic import accumulation_study

    R = 600 if quick else 6000
    res = accumulation_study(replicas=R, rng=2024)
    page.text(
        "SGD with constant rate η on ½Σhᵢwᵢ² with per-sample gradient noise of variance s² averaged over a "
        "batch of B has the stationary loss E[L] = (η s²/2B)·Σ 1/(2 − η hᵢ). Each row runs "
        f"{R} replicas twice: accumulating A micro-batches of b, and one batch of A·b (independent draws). "
        "Averaging A independent N(0, s²/b) micro-batch means is exactly N(0, s²/(A·b)), so both must agree "
        "with each other and with the closed form within their standard errors."
    )
    fig, ax = plt.subplots(figsize=(6, 4.5))
    res.plot(ax)
    page.figure(fig, "steady_state", "Simulated stationary loss (± 2 SE) against the closed form.")
    page.table(
        ["h", "η", "A×b", "B", "closed form", "A×b: mean ± SE", "A·b: mean ± SE", "z(A×b)", "z(A·b)", "z(diff)"],
        [
            [str(np.round(res.hs[c], 3).tolist()), lr, f"{a}×{b}", B, th, f"{am:.5g} ± {asd:.2g}",
             f"{bm:.5g} ± {bsd:.2g}", za, zb, zd]
            for c, lr, a, b, B, th, am, asd, bm, bsd, za, zb, zd in zip(
                res.case, res.lr, res.accum_steps, res.micro_batch, res.batch, res.theory, res.accum_mean,
                res.accum_sem, res.batch_mean, res.batch_sem, res.z_accum, res.z_batch, res.z_diff)
        ],
    )  # fmt: skip
    worst = float(np.max(np.abs(np.concatenate([res.z_accum, res.z_batch]))))
    page.check("largest |z| of simulation vs closed form (should be < 4)", worst, 0.0, worst < 4)
    page.check("largest |z| of accumulation vs large batch (should be < 4)", float(np.max(np.abs(res.z_diff))), 0.0,
               bool(np.max(np.abs(res.z_diff)) < 4))  # fmt: skip

    # Divergence is isolated per replica: rates across the stability edge 2/h_max in one run.
    h = np.array([0.5, 1.0, 2.0, 4.0])
    lrs = np.repeat(np.geomspace(0.02, 0.8, 9), 64 if quick else 256)
    run_ = tunelab.simulate_quadratic(h, lr=lrs, noise_std=1.0, batch_size=4, steps=300, replicas=lrs.size, rng=1)
    fig, ax = plt.subplots(figsize=(6, 4))
    per = lrs.size // 9
    frac = run_.diverged.reshape(9, per).mean(axis=1)
    fin = np.where(run_.diverged, np.nan, run_.final_loss).reshape(9, per)
    ok = frac < 1
    ax.plot(np.unique(lrs)[ok], np.nanmean(fin[ok], axis=1), "o-", label="mean final loss (survivors)")
    ax.plot(np.unique(lrs), tunelab.steady_state_loss(h, np.unique(lrs), 4, 1.0), "k--", label="closed form")
    ax.axvline(2 / h.max(), color="r", ls=":", label="stability edge 2/h_max")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate η")
    ax.set_ylabel("final loss")
    ax.legend()
    page.figure(fig, "divergence", "One call over rates across the stability edge: replicas with η ≥ 2/h_max "
                "diverge, are flagged and stopped; the others' statistics stay finite.")  # fmt: skip
    page.table(["η", "fraction diverged"], [[a, f] for a, f in zip(np.unique(lrs), frac)])
