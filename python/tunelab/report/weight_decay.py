"""Report section: Adam (L2) vs AdamW (decoupled) and the flatness of their end points (SCIENCE.md §6)."""

from __future__ import annotations

import numpy as np

from .page import fmt, fmt_se

ORDER = 32
TITLE = "Weight decay: Adam (L2) vs AdamW (decoupled), flatness by λ_max"
SECONDS = (9, 2)

COLLAPSE = 1e-2  # ‖θ‖ below this fraction of the unregularised norm: the network has collapsed to θ ≈ 0


def _ci(m: float, lo: float, hi: float) -> str:
    """Mean ± the half-width of its 95% interval, with enough digits to show the half-width."""
    h = 0.5 * (hi - lo)
    if not h > 1e-9 * max(abs(m), 1e-300):
        return f"{fmt(m, 6)} (all seeds equal)"
    if h < 1e-4 * abs(m):  # the seeds agree to better than 10^-4: six digits and the half-width's size
        return f"{fmt(m, 6)} ± {fmt(h, 1)}"
    return fmt_se(m, h)


def _data(seed: int = 0, inputs: int = 5, n_train: int = 128, label_noise: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """The study's training data, drawn in weight_decay_study's documented order (teacher, X, test X, y)."""
    gen = np.random.default_rng(seed)
    Wt = gen.standard_normal((4, inputs)) / np.sqrt(inputs)
    vt = gen.standard_normal(4)
    X = gen.standard_normal((n_train, inputs))
    gen.standard_normal((1024, inputs))  # the test inputs
    y = np.tanh(X @ Wt.T) @ vt + label_noise * gen.standard_normal(n_train)
    return X, y


def run(page, quick: bool) -> None:
    import matplotlib.pyplot as plt

    from tunelab.studies import weight_decay_study

    kw = dict(seeds=4, steps=400) if quick else dict(seeds=8, steps=3000)
    res = weight_decay_study(rng=0, **kw)
    page.step(f"trained {res.weight_decay.size} × {kw['seeds']} × 2 networks for {kw['steps']} steps, Lanczos at each")
    wd = res.weight_decay
    X, y = _data()
    lam0 = float(np.linalg.norm(X.T @ y) / len(y))  # λ_max of the data-loss Hessian at θ = 0
    page.text(
        "A two-layer tanh network (16 hidden units, 5 inputs, 128 noisy training points from a 4-unit teacher) "
        f"is trained by Adam with L2 weight decay and by AdamW, {kw['seeds']} seeds (initialisations; the data "
        "are the same) per λ, all (λ, seed) pairs as replicas of ONE batched optimizer (per-replica "
        f"weight_decay), full-batch, lr = 0.01, {kw['steps']} steps. Flatness = λ_max of the data-loss Hessian "
        "at the end point (Lanczos on exact Hessian-vector products); intervals are 95% Student-t over seeds."
    )
    fig, ax = plt.subplots(figsize=(7, 4.3))
    res.plot(ax)
    page.figure(fig, "lmax_vs_wd", "λ_max at the end point against weight_decay λ, mean over seeds with 95% "
                "intervals (Adam-L2 and AdamW points shifted slightly apart in λ to be seen).")  # fmt: skip

    norm0 = res.adam_norm[wd == 0]
    ref = float(norm0[0]) if norm0.size else float(max(res.adam_norm.max(), res.adamw_norm.max()))
    collapsed_a = res.adam_norm < COLLAPSE * ref
    collapsed_w = res.adamw_norm < COLLAPSE * ref

    def norm_cell(n: float, c: bool) -> str:
        return f"{fmt(n, 3)} (collapsed)" if c else fmt(n, 3)

    page.table(
        ["λ", "Adam-L2 λ_max", "AdamW λ_max", "Adam-L2 train / test", "AdamW train / test", "Adam-L2 ‖θ‖",
         "AdamW ‖θ‖"],
        [[w, _ci(am, al, ah), _ci(wm, wl, wh), f"{fmt(atr, 3)} / {fmt(ate, 3)}", f"{fmt(wtr, 3)} / {fmt(wte, 3)}",
          norm_cell(an, ca), norm_cell(wn, cw)]
         for w, am, al, ah, wm, wl, wh, atr, ate, wtr, wte, an, wn, ca, cw in zip(
             wd, res.adam_lmax_mean, res.adam_lmax_lo, res.adam_lmax_hi, res.adamw_lmax_mean,
             res.adamw_lmax_lo, res.adamw_lmax_hi, res.adam_train, res.adam_test, res.adamw_train, res.adamw_test,
             res.adam_norm, res.adamw_norm, collapsed_a, collapsed_w)],
        caption=f"Per λ: λ_max as mean ± half-width of its 95% interval over {kw['seeds']} seeds; mean final "
                "training / test loss and mean parameter norm. 'collapsed': ‖θ‖ below 1% of the unregularised "
                "norm (the network computes f ≈ 0).",
    )  # fmt: skip

    # Why some intervals have (almost) zero width: the seeds reach the same end point.
    spread = res.adam_lmax.std(axis=1, ddof=1) / np.maximum(np.abs(res.adam_lmax.mean(axis=1)), 1e-300)
    narrow = [float(w) for w, s in zip(wd, spread) if w > 0 and s < 1e-3]
    if narrow:
        page.text(
            "Why some Adam-L2 intervals have almost no width (λ = "
            + ", ".join(f"{w:g}" for w in narrow)
            + f": relative spread of λ_max over seeds ≤ {fmt(max(spread[wd == w][0] for w in narrow), 2)}): "
            "this is not a bug in the interval. Adam-L2 follows the regularised loss L(θ) + ½λ‖θ‖², whose "
            "minimum is, at these λ, unique up to the network's symmetries (permuting hidden units, flipping "
            "their signs); every initialisation ends at the same function, and the Hessian's spectrum is "
            "invariant under those symmetries. The interval covers the seed-to-seed (initialisation) scatter "
            "only, with the data fixed, and that scatter really is nearly zero there (at a collapsed λ the common end "
            "point is θ = 0, see below)."
        )
    if collapsed_a.any():
        lc = ", ".join(f"{w:g}" for w in wd[collapsed_a])
        page.text(
            f"Collapse. At λ = {lc} Adam-L2 has collapsed to θ ≈ 0 (‖θ‖ = "
            f"{', '.join(fmt(n, 2) for n in res.adam_norm[collapsed_a])}): the network predicts f ≡ 0, "
            "its training loss is ½·mean(y²), and its 'flatness' says nothing about a fitted model. This is "
            "predicted: θ = 0 is a stationary point of the data loss, where the Hessian is [[0, C], [Cᵀ, 0]] "
            f"with each block C = −Xᵀy/N, so its eigenvalues are ±‖Xᵀy‖/N = ±{fmt(lam0)}; the L2-regularised "
            f"loss has a strict local minimum at 0 as soon as λ > {fmt(lam0)}. AdamW does not collapse: its "
            "update is normalised (about lr per coordinate) while its decay lr·λ·θ shrinks with θ, so the two "
            "balance at a finite norm."
        )
        j = int(np.flatnonzero(collapsed_a)[-1])
        page.check_rel(f"Adam-L2 at λ = {wd[j]:g}, collapsed (mean ‖θ‖ = {fmt(res.adam_norm[j], 2)}): mean λ_max "
                       "at the end point vs ‖Xᵀy‖/N, the data-loss Hessian's top eigenvalue at θ = 0 (the Hessian "
                       "moves by O(‖θ‖) away from 0; 1% allows for that)",
                       float(res.adam_lmax_mean[j]), lam0, rtol=0.01)  # fmt: skip
    if (wd == 0).any():
        i = int(np.flatnonzero(wd == 0)[0])
        page.check_rel("λ = 0: Adam-L2 and AdamW are then the same algorithm from the same initialisations, so "
                       "their mean λ_max agree to rounding", float(res.adam_lmax_mean[i]),
                       float(res.adamw_lmax_mean[i]), rtol=1e-9)  # fmt: skip

    fig, ax = plt.subplots(figsize=(7, 4.3))
    res.plot_tradeoff(ax)
    ax.set_title("λ_max against the norm reached (labels: λ)")
    page.figure(fig, "lmax_vs_norm", "λ_max against the mean parameter norm reached, one point per λ (labelled), "
                "with 95% intervals over seeds on λ_max: the two optimizers compared at matched shrinkage. "
                + ("Adam-L2's leftmost point is the collapsed network (θ ≈ 0)." if collapsed_a.any() else ""))  # fmt: skip

    # Matched norm: interpolate Adam-L2's λ_max (linear in log ‖θ‖) at AdamW's norms inside Adam-L2's range.
    ok = ~collapsed_a & (res.adam_norm > 0)
    order = np.argsort(res.adam_norm[ok])
    xa, ya = np.log(res.adam_norm[ok][order]), res.adam_lmax_mean[ok][order]
    pos = wd > 0
    inside = pos & (np.log(res.adamw_norm) >= xa.min()) & (np.log(res.adamw_norm) <= xa.max())
    if inside.any() and xa.size >= 2:
        ha = 0.5 * (res.adam_lmax_hi - res.adam_lmax_lo)[ok][order]
        hw = 0.5 * (res.adamw_lmax_hi - res.adamw_lmax_lo)[inside]
        xw = np.log(res.adamw_norm[inside])
        diff = res.adamw_lmax_mean[inside] - np.interp(xw, xa, ya)
        half = np.hypot(hw, np.interp(xw, xa, ha))  # rough: the two 95% half-widths combined
        sig = np.abs(diff) > half
        cells = [f"λ = {w:g}: {fmt(d, 2)} ± {fmt(h, 2)}" for w, d, h in zip(wd[inside], diff, half)]
        flatter, sharper = int((sig & (diff < 0)).sum()), int((sig & (diff > 0)).sum())
        page.text(
            "What the second figure shows. At the same λ the two optimizers do not regularise equally: Adam-L2 "
            "divides the decay by √v, which is tiny once the gradients are small, so its effective decay is far "
            "larger and it shrinks the weights far more (compare the norms in the table); a comparison at equal λ "
            "mixes 'which optimizer' with 'how much shrinkage'. Plotted against the norm reached instead, at the AdamW points whose norm lies within Adam-L2's range, AdamW's "
            "λ_max minus Adam-L2's (interpolated linearly in log ‖θ‖, ± the two 95% half-widths combined) is "
            + "; ".join(cells) + f". It exceeds that allowance at {flatter + sharper} of {len(cells)} points"
            + (f" (AdamW flatter at λ = {', '.join(f'{w:g}' for w in wd[inside][sig & (diff < 0)]) or '–'}, "
               f"sharper at {', '.join(f'{w:g}' for w in wd[inside][sig & (diff > 0)]) or '–'})" if sig.any() else "")
            + ". So most of the large gap seen at equal λ is the difference in shrinkage; what remains at matched "
            "norm is " + ("within the seed scatter. " if not sig.any() else "smaller, and shown where it "
                          "exceeds the scatter. ")
            + "This is one small network and one data set; the finding is descriptive, not a theorem. All Lanczos "
            f"runs converged: {'yes' if res.converged else 'NO'}."
        )
    else:
        page.text("The norms the two optimizers reach do not overlap, so no matched-norm comparison is possible "
                  f"here. All Lanczos runs converged: {'yes' if res.converged else 'NO'}.")
