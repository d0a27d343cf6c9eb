"""Report section: the noisy-quadratic laboratory (SCIENCE.md §3): steady state vs closed form,
accumulation A×b vs one batch A·b, and divergent replicas isolated."""

from __future__ import annotations

import numpy as np
from scipy import stats

from .page import fmt_se

ORDER = 30
TITLE = "Batch size, gradient accumulation and the SGD steady state"
SECONDS = (2, 1)


def _bonferroni(n: int, alpha: float = 1e-3) -> float:
    """|z| bound that n independent standard normals all stay under with probability 1 − alpha."""
    return float(stats.norm.isf(alpha / (2 * n)))


def _z(z: float) -> str:
    return f"{z:+.2f}".replace("-", "−")


def _flat(x) -> np.ndarray:
    return np.asarray(x, dtype=float).reshape(-1)


def _log_ticks(axis, values) -> None:
    """Round major ticks (1, 2, 5 × 10^k) spanning ``values`` on a log axis, plain labels, no minor labels."""
    from matplotlib.ticker import FixedLocator, NullFormatter, StrMethodFormatter

    lo, hi = float(np.min(values)), float(np.max(values))
    cand = np.array([m * 10.0**k for k in range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 1)
                     for m in (1, 2, 5)])
    ticks = cand[(cand >= lo / 1.3) & (cand <= hi * 1.3)]
    axis.set_major_locator(FixedLocator(ticks.tolist()))
    axis.set_major_formatter(StrMethodFormatter("{x:g}"))
    axis.set_minor_formatter(NullFormatter())


def run(page, quick: bool) -> None:
    import matplotlib.pyplot as plt

    import tunelab
    from tunelab.studies import accumulation_study

    R = 600 if quick else 6000
    s2 = 1.0
    res = accumulation_study(replicas=R, rng=2024, noise_std=np.sqrt(s2))
    page.text(
        "SGD with constant rate η on ½Σhᵢwᵢ² with per-sample gradient noise of variance s² averaged over a "
        "batch of B has the stationary loss E[L] = (η s²/2B)·Σ 1/(2 − η hᵢ). Each row runs "
        f"{R} replicas from w = 0 for long enough that the transient is far below the standard error, twice: "
        "accumulating A micro-batches of b, and one batch of A·b (independent draws). Averaging A independent "
        "N(0, s²/b) micro-batch means is exactly N(0, s²/(A·b)), so both must agree with each other and with the "
        "closed form within their standard errors (SE = sample SD/√R of the final losses)."
    )
    theory = _flat(res.theory)
    am, asd, bm, bsd = (_flat(x) for x in (res.accum_mean, res.accum_sem, res.batch_mean, res.batch_sem))
    z_a, z_b = (am - theory) / asd, (bm - theory) / bsd
    z_d = (am - bm) / np.hypot(asd, bsd)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    res.plot(ax)
    _log_ticks(ax.xaxis, theory)
    _log_ticks(ax.yaxis, theory)
    ax.legend(fontsize="small")
    page.figure(fig, "steady_state",
                f"Simulated stationary loss (± 2 SE, {R} replicas each) against the closed form, for the {theory.size} "
                "settings of the table; the one-batch points are drawn 3 % to the right so both stay visible.")
    page.table(
        ["h", "η", "A×b", "B = A·b", "closed form E[L] (10⁻³)", "A×b: mean ± SE (10⁻³)", "A·b: mean ± SE (10⁻³)",
         "z(A×b)", "z(A·b)", "z(A×b − A·b)"],
        [
            ["(" + ",\u00a0".join(f"{v:g}" for v in res.hs[int(c)]) + ")", float(lr), f"{int(a)}×{int(b)}", int(B),
             f"{1e3 * th:.5g}", fmt_se(1e3 * a_m, 1e3 * a_s), fmt_se(1e3 * b_m, 1e3 * b_s), _z(za), _z(zb), _z(zd)]
            for c, lr, a, b, B, th, a_m, a_s, b_m, b_s, za, zb, zd in zip(
                _flat(res.case), _flat(res.lr), _flat(res.accum_steps), _flat(res.micro_batch), _flat(res.batch),
                theory, am, asd, bm, bsd, z_a, z_b, z_d)
        ],
        caption=f"Stationary loss, simulated with accumulation (A×b) and with one batch (A·b), {R} replicas each, "
                "against the closed form, in units of 10⁻³; z = (mean − closed form)/SE.",
    )  # fmt: skip
    n_sim = 2 * theory.size
    page.check_bound(f"largest |z| of simulation vs closed form over the {n_sim} runs (Bonferroni bound at 0.1 %)",
                     float(np.max(np.abs(np.r_[z_a, z_b]))), upper=_bonferroni(n_sim))
    page.check_bound(f"largest |z| of accumulation vs one large batch over the {theory.size} settings "
                     "(Bonferroni bound at 0.1 %)", float(np.max(np.abs(z_d))), upper=_bonferroni(theory.size))

    # ---- divergence is isolated per replica: rates on both sides of the stability edge, one call -------
    h = np.array([0.5, 1.0, 2.0, 4.0])
    B, T = 4, 300
    edge = 2 / h.max()
    rates = np.r_[np.geomspace(0.02, 0.45, 7), 0.55, 0.8]  # 7 stable rates, 2 above the edge 2/h_max = 0.5
    per = 64 if quick else 512
    lrs = np.repeat(rates, per)
    run_ = tunelab.simulate_quadratic(h, lr=lrs, noise_std=np.sqrt(s2), batch_size=B, steps=T, replicas=lrs.size,
                                      x0=1.0, rng=1)
    div = np.asarray(run_.diverged, bool).reshape(rates.size, per)
    frac = div.mean(axis=1)
    dstep = np.asarray(run_.diverged_step).reshape(rates.size, per)
    fin = np.asarray(run_.final_loss, float).reshape(rates.size, per)
    stable = rates < edge
    mean = np.array([fin[k][~div[k]].mean() if (~div[k]).sum() > 1 else np.nan for k in range(rates.size)])
    sem = np.array([fin[k][~div[k]].std(ddof=1) / np.sqrt((~div[k]).sum()) if (~div[k]).sum() > 1 else np.nan
                    for k in range(rates.size)])
    # exact E[L_T] from w₀ = 1: per coordinate E[w_T²] = f^{2T} + v(1 − f^{2T}), f = 1 − ηh, v = ηs²/(B h(2 − ηh))
    f = 1 - rates[:, None] * h[None, :]
    v = rates[:, None] * s2 / (B * h[None, :] * (2 - rates[:, None] * h[None, :]))
    exact_T = 0.5 * np.sum(h * (f ** (2 * T) + v * (1 - f ** (2 * T))), axis=1)
    closed = _flat(tunelab.steady_state_loss(h, rates, B, s2))  # inf above the edge: no stationary law

    page.text(
        f"Divergence is isolated per replica: one call of simulate_quadratic trains {per} replicas at each of "
        f"{rates.size} rates, on h = (0.5, 1, 2, 4) from w₀ = 1 with B = {B}, for {T} steps. Above the stability "
        f"edge η = 2/h_max = {edge:g} the top coordinate grows by |1 − η h_max| per step, so every replica there "
        "diverges; it is flagged and stopped as soon as its loss passes max_loss, and never enters the statistics "
        "of the others. Below the edge the mean final loss of the survivors is compared with its exact expectation "
        f"after {T} steps, E[L_T] = ½Σhᵢ[fᵢ²ᵀ + vᵢ(1 − fᵢ²ᵀ)] with fᵢ = 1 − ηhᵢ and vᵢ = ηs²/(Bhᵢ(2 − ηhᵢ)); "
        "it approaches the closed-form steady state as fᵢ²ᵀ → 0 (at the smallest rate it is still above it). Above "
        "the edge steady_state_loss returns ∞: there is no stationary law."
    )
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.axvspan(edge, rates.max() * 1.9, color="C3", alpha=0.08, lw=0)
    ok = frac < 1
    ax.errorbar(rates[ok], mean[ok], yerr=2 * sem[ok], fmt="o", ms=5, capsize=3, label="mean final loss ± 2 SE (survivors)")
    ax.plot(rates[stable], exact_T[stable], "k:", label=f"exact E[L] after {T} steps")
    ax.plot(rates[stable], closed[stable], "k--", lw=1, label="closed-form steady state")
    ax.axvline(edge, color="C3", ls="--", lw=1, label=f"stability edge 2/h_max = {edge:g}")
    gone = frac == 1
    top = np.nanmax(np.r_[mean[ok] + 2 * sem[ok], closed[stable]]) * 3
    ax.plot(rates[gone], np.full(gone.sum(), top), "x", color="C3", ms=10, mew=2.5,
            label=f"diverged: all {per} replicas")
    if gone.any():
        ax.annotate("η > 2/h_max:\nno steady state,\nall diverge", (float(np.sqrt(edge * rates.max() * 1.9)), top),
                    xytext=(0, -14), textcoords="offset points", ha="center", va="top", fontsize="small", color="C3")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(rates.min() / 1.25, rates.max() * 1.9)
    ax.set_ylim(np.nanmin(np.r_[mean[ok], exact_T[stable]]) / 2, top * 2)
    _log_ticks(ax.xaxis, ax.get_xlim())
    ax.set_xlabel("learning rate η")
    ax.set_ylabel(f"final loss after {T} steps")
    ax.legend(fontsize="small", loc="upper left")
    n_gone = int(gone.sum())
    page.figure(fig, "divergence",
                f"One call over {rates.size} rates across the stability edge (shaded: η > 2/h_max). The {n_gone} rates "
                f"above it diverged in all {per} replicas (crosses; each replica flagged and stopped once its loss "
                f"passed max_loss, at median steps {', '.join(str(int(np.median(d))) for d in dstep[gone])}); at the {int(stable.sum())} rates below it no replica "
                "diverged and the survivors' mean lies on its exact expectation.")  # fmt: skip
    rows = []
    for k, eta in enumerate(rates):
        if frac[k] == 1:
            loss = f"— (median step of divergence {int(np.median(dstep[k]))})"
        else:
            loss = fmt_se(mean[k], sem[k])
        rows.append([float(eta), f"{eta * h.max():.3g}", f"{frac[k]:.3g}", loss,
                     f"{exact_T[k]:.4g}" if stable[k] else "—", f"{closed[k]:.4g}" if np.isfinite(closed[k]) else "none (∞)"])
    page.table(["η", "η·h_max", "fraction diverged", "mean final loss ± SE (survivors)", f"exact E[L_{T}]",
                "closed-form steady state"], rows,
               caption=f"{per} replicas per rate; a rate with η·h_max > 2 has no stationary law and diverges.")
    page.check_abs(f"fraction of replicas diverged, largest over the {int(stable.sum())} rates below 2/h_max",
                   float(frac[stable].max()), 0.0, atol=0.0)
    page.check_abs(f"fraction of replicas diverged, smallest over the {int((~stable).sum())} rates above 2/h_max",
                   float(frac[~stable].min()), 1.0, atol=0.0)
    zs = (mean[stable] - exact_T[stable]) / sem[stable]
    page.check_bound(f"largest |z| of the survivors' mean final loss vs the exact E[L_{T}] over the "
                     f"{int(stable.sum())} stable rates (Bonferroni bound at 0.1 %)", float(np.max(np.abs(zs))),
                     upper=_bonferroni(int(stable.sum())))
