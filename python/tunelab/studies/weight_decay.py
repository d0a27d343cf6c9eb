"""Adam with L2 weight decay vs AdamW (decoupled), and the flatness of what each finds (SCIENCE.md §6).

The model is a small two-layer tanh network on synthetic regression data, batched over
replicas with closed-form gradients and Hessian-vector products (no autograd), so a whole grid
of weight decays × seeds trains in one :class:`tunelab.optim.Adam` and one
:class:`tunelab.optim.AdamW` (per-replica ``weight_decay``). Flatness is the top Hessian
eigenvalue ``λ_max`` of the data loss at the end point, from :func:`tunelab.top_eigenvalue`
(Lanczos on Hessian-vector products).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .._interrupt import interruptible
from .._random import RNGLike, as_generator
from .._results import Result, get_axes
from .._validation import as_array, check_int, check_real
from ..curvature import top_eigenvalue
from ..optim import Adam, AdamW

__all__ = ["TwoLayerNet", "weight_decay_study", "WeightDecayStudyResult"]


_MAX_DATA = 1e100


class TwoLayerNet:
    r"""``f(x) = vᵀ tanh(W x)`` with squared loss on fixed data, batched over parameter rows.

    Parameters ``θ = (vec W, v)`` with ``W`` of shape ``(k, p)`` and ``v`` of shape ``(k,)``, flattened
    to ``D = k·p + k`` numbers per replica (rows of an ``(R, D)`` array). The loss is
    ``L(θ) = 1/(2N) Σₙ (f(xₙ) − yₙ)²``. With ``H = tanh(X Wᵀ)``, ``e = H v − y``,
    ``S = (e vᵀ) ⊙ (1 − H²)``: ``∇_v L = Hᵀe/N``, ``∇_W L = SᵀX/N``. Hessian-vector products
    use Pearlmutter's R-operator ("Fast exact multiplication by the Hessian", Neural
    Computation 6, 1994): for a direction ``(dW, dv)``, ``dH = (1 − H²) ⊙ (X dWᵀ)``,
    ``df = dH v + H dv``, ``R{∇_v} = (dHᵀe + Hᵀdf)/N`` and
    ``R{∇_W} = [(df vᵀ + e dvᵀ) ⊙ (1 − H²) − 2 (e vᵀ) ⊙ H ⊙ dH]ᵀ X / N``.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, hidden: int) -> None:
        self.X = as_array(X, "X", ndim=2)
        self.y = as_array(y, "y", ndim=1)
        if self.y.shape[0] != self.X.shape[0]:
            raise ValueError(f"y must have one target per row of X ({self.X.shape[0]}); got {self.y.shape[0]}")
        for name, a in (("X", self.X), ("y", self.y)):
            if np.max(np.abs(a)) > _MAX_DATA:  # products and squared errors would overflow float64
                raise ValueError(f"{name} is too large: |values| must be <= {_MAX_DATA:g}")
        hidden = check_int("hidden", hidden, minimum=1)
        self.N, self.p = self.X.shape
        self.k = hidden
        self.D = hidden * self.p + hidden

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.atleast_2d(theta)
        return t[:, : self.k * self.p].reshape(-1, self.k, self.p), t[:, self.k * self.p :]

    def _forward(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        W, v = self.split(theta)
        H = np.tanh(self.X @ W.transpose(0, 2, 1))  # (R, N, k)
        e = np.einsum("rnk,rk->rn", H, v) - self.y
        return W, v, H, e

    def loss(self, theta: np.ndarray, X: np.ndarray | None = None, y: np.ndarray | None = None) -> np.ndarray:
        """``(R,)`` losses (on other data if ``X, y`` are given)."""
        if X is not None:
            return TwoLayerNet(X, y, self.k).loss(theta)  # type: ignore[arg-type]
        e = self._forward(theta)[3]
        return 0.5 * np.mean(e * e, axis=1)

    def grad(self, theta: np.ndarray) -> np.ndarray:
        """``(R, D)`` gradients."""
        W, v, H, e = self._forward(theta)
        gv = np.einsum("rnk,rn->rk", H, e) / self.N
        S = e[:, :, None] * v[:, None, :] * (1.0 - H * H)
        gW = S.transpose(0, 2, 1) @ self.X / self.N
        return np.concatenate([gW.reshape(len(v), -1), gv], axis=1)

    def hvp(self, theta: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """Hessian of the loss at ``theta`` (one row, ``(D,)``) times ``direction`` (``(D,)``)."""
        W, v, H, e = self._forward(theta.reshape(1, -1))
        dW, dv = self.split(np.asarray(direction, dtype=np.float64).reshape(1, -1))
        G = 1.0 - H * H
        dH = G * (self.X @ dW.transpose(0, 2, 1))
        df = np.einsum("rnk,rk->rn", dH, v) + np.einsum("rnk,rk->rn", H, dv)
        rv = (np.einsum("rnk,rn->rk", dH, e) + np.einsum("rnk,rn->rk", H, df)) / self.N
        RS = (df[:, :, None] * v[:, None, :] + e[:, :, None] * dv[:, None, :]) * G
        RS = RS - 2.0 * e[:, :, None] * v[:, None, :] * H * dH
        rW = RS.transpose(0, 2, 1) @ self.X / self.N
        return np.concatenate([rW.reshape(1, -1), rv], axis=1)[0]


@dataclasses.dataclass(frozen=True, repr=False)
class WeightDecayStudyResult(Result):
    """Result of :func:`weight_decay_study`.

    Attributes
    ----------
    weight_decay : ndarray, shape (L,)
        The ``λ`` grid (the same ``weight_decay`` value passed to both optimizers).
    adam_lmax_mean, adam_lmax_lo, adam_lmax_hi : ndarray, shape (L,)
        Adam (L2): mean ``λ_max`` of the data-loss Hessian at the end point over seeds, and a
        95% t-interval for it.
    adamw_lmax_mean, adamw_lmax_lo, adamw_lmax_hi : ndarray, shape (L,)
        The same for AdamW.
    adam_train, adamw_train, adam_test, adamw_test, adam_norm, adamw_norm : ndarray, shape (L,)
        Mean final training loss, test loss and parameter norm ``‖θ‖``.
    adam_lmax, adamw_lmax : ndarray, shape (L, seeds)
        Every replica's ``λ_max``.
    converged : bool
        Whether every Lanczos run met its tolerance.
    """

    weight_decay: np.ndarray
    adam_lmax_mean: np.ndarray
    adam_lmax_lo: np.ndarray
    adam_lmax_hi: np.ndarray
    adamw_lmax_mean: np.ndarray
    adamw_lmax_lo: np.ndarray
    adamw_lmax_hi: np.ndarray
    adam_train: np.ndarray
    adamw_train: np.ndarray
    adam_test: np.ndarray
    adamw_test: np.ndarray
    adam_norm: np.ndarray
    adamw_norm: np.ndarray
    adam_lmax: np.ndarray
    adamw_lmax: np.ndarray
    converged: bool

    def plot(self, ax: Any = None) -> Any:
        """``λ_max`` at the end point against ``weight_decay``, both optimizers, 95% intervals."""
        ax = get_axes(ax)
        x = np.where(self.weight_decay > 0, self.weight_decay, np.nan)
        x0 = np.nanmin(x) / 10 if np.isfinite(x).any() else 1.0
        x = np.where(np.isnan(x), x0, x)
        for name, m, lo, hi, mk, dx in (
            ("Adam (L2)", self.adam_lmax_mean, self.adam_lmax_lo, self.adam_lmax_hi, "o-", 0.97),
            ("AdamW (decoupled)", self.adamw_lmax_mean, self.adamw_lmax_lo, self.adamw_lmax_hi, "s-", 1.03),
        ):
            ax.errorbar(x * dx, m, yerr=[m - lo, hi - m], fmt=mk, capsize=3, label=name)
        ax.set_xscale("log")
        ax.set_xlabel(f"weight_decay λ (leftmost point: λ = 0, drawn at {x0:.0e})")
        ax.set_ylabel("λ_max of the data-loss Hessian at the end point")
        ax.legend()
        return ax

    def plot_tradeoff(self, ax: Any = None) -> Any:
        """``λ_max`` against the parameter norm reached (one point per ``λ``): the same amount of
        shrinkage, two optimizers - which one ends flatter at a matched norm?"""
        ax = get_axes(ax)
        for name, nrm, m, lo, hi, mk, off, ha in (
            ("Adam (L2)", self.adam_norm, self.adam_lmax_mean, self.adam_lmax_lo, self.adam_lmax_hi, "o-", (6, -12),
             "left"),
            ("AdamW (decoupled)", self.adamw_norm, self.adamw_lmax_mean, self.adamw_lmax_lo, self.adamw_lmax_hi, "s-",
             (-7, 3), "right"),
        ):
            bar = ax.errorbar(nrm, m, yerr=[m - lo, hi - m], fmt=mk, capsize=3, label=f"{name} (95% intervals)")
            groups: list[list[int]] = []  # points drawn on top of each other share one label
            for i in np.argsort(nrm):
                j = groups[-1][-1] if groups else None
                if j is not None and abs(np.log10(nrm[i] / nrm[j])) < 0.03 and abs(m[i] - m[j]) < 0.03 * abs(m[j]):
                    groups[-1].append(i)
                else:
                    groups.append([i])
            for g in groups:
                ws = sorted(self.weight_decay[g])
                ax.annotate(f"{ws[0]:g}" + (f"–{ws[-1]:g}" if len(ws) > 1 else ""), (nrm[g[0]], m[g[0]]),
                            textcoords="offset points", xytext=off, ha=ha, fontsize="small", color=bar[0].get_color())
        ax.set_xscale("log")
        ax.set_xlabel("mean parameter norm ‖θ‖ at the end point")
        ax.set_ylabel("mean λ_max of the data-loss Hessian")
        ax.legend()
        return ax


def _t95(n: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, n - 1))


def weight_decay_study(
    *,
    weight_decays: Any = (0.0, 1e-3, 1e-2, 1e-1, 3e-1, 1.0),
    seeds: int = 8,
    steps: int = 3000,
    lr: float = 1e-2,
    hidden: int = 16,
    inputs: int = 5,
    n_train: int = 128,
    n_test: int = 1024,
    label_noise: float = 0.3,
    rng: RNGLike = 0,
) -> WeightDecayStudyResult:
    """Train Adam (L2) and AdamW on a two-layer network over a grid of ``λ``; compare flatness.

    Data: ``x ~ N(0, I_inputs)``, ``y = v*ᵀ tanh(W* x) + label_noise·ε`` from a random teacher
    with 4 hidden units; the student (:class:`TwoLayerNet`, ``hidden`` units) is over-parametrised
    and fits the noise without regularisation. Each ``(optimizer, λ, seed)`` is one replica:
    all seeds × ``λ`` train together in one :class:`~tunelab.optim.Adam` (L2: ``g ← g + λθ`` before
    the moments, so the decay is rescaled by ``1/√v``) and one :class:`~tunelab.optim.AdamW`
    (``θ ← θ(1 − αλ)``, independent of ``v``), from the same initialisations, with full-batch
    gradients, for ``steps`` steps. Flatness: ``λ_max`` of the Hessian of the *data* loss at the
    end point by Lanczos on exact Hessian-vector products (:func:`tunelab.top_eigenvalue`),
    averaged over seeds with a 95% Student-t interval.

    Notes
    -----
    Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019, argue the two differ
    because L2 regularisation in Adam is divided by ``√v`` (weights with large gradients are
    regularised less). Whether the decoupled form finds flatter minima is an empirical question;
    this study reports what it measures, either way. Note that ``λ`` does not mean the same thing
    for the two: AdamW's per-step shrink is ``αλ``; Adam-L2's effective shrink is about
    ``αλ/(√v + ε)``.
    """
    wd = as_array(weight_decays, "weight_decays", ndim=1)
    if np.any(wd < 0):
        raise ValueError("weight_decays must be a non-empty 1-d sequence of finite values >= 0")
    seeds = check_int("seeds", seeds, minimum=2)
    steps = check_int("steps", steps, minimum=1)
    lr = check_real("lr", lr, minimum=0.0, strict_min=True)
    hidden = check_int("hidden", hidden, minimum=1)
    inputs = check_int("inputs", inputs, minimum=1)
    n_train = check_int("n_train", n_train, minimum=1)
    n_test = check_int("n_test", n_test, minimum=1)
    label_noise = check_real("label_noise", label_noise, minimum=0.0, maximum=_MAX_DATA)
    gen = as_generator(rng)
    Wt = gen.standard_normal((4, inputs)) / np.sqrt(inputs)
    vt = gen.standard_normal(4)
    X = gen.standard_normal((n_train, inputs))
    Xs = gen.standard_normal((n_test, inputs))
    y = np.tanh(X @ Wt.T) @ vt + label_noise * gen.standard_normal(n_train)
    ys = np.tanh(Xs @ Wt.T) @ vt + label_noise * gen.standard_normal(n_test)
    net = TwoLayerNet(X, y, hidden)
    L = wd.size
    init = np.concatenate(
        [gen.standard_normal((seeds, hidden * inputs)) / np.sqrt(inputs), gen.standard_normal((seeds, hidden)) / np.sqrt(hidden)],
        axis=1,
    )  # fmt: skip
    theta0 = np.tile(init, (L, 1))  # replica = (λ index) * seeds + seed
    lam = np.repeat(wd, seeds)
    out = {}
    converged = True
    for name, cls in (("adam", Adam), ("adamw", AdamW)):
        theta = theta0.copy()
        opt = cls(theta, lr=lr, weight_decay=lam)
        with interruptible() as check:  # Ctrl-C lands here, between steps (see _interrupt)
            for _ in range(steps):
                opt.step(net.grad(theta))
                check()
        with np.errstate(all="ignore"):
            diverged = not (np.all(np.isfinite(theta)) and np.all(np.isfinite(net.loss(theta))))
        if diverged:
            raise ValueError(
                f"training diverged (non-finite parameters) with lr={lr:g} and weight_decays up to {wd.max():g}: "
                "lower lr or weight_decays"
            )
        lmax = np.empty(theta.shape[0])
        for r in range(theta.shape[0]):
            try:
                with np.errstate(all="ignore"):
                    res = top_eigenvalue(lambda u, t=theta[r]: net.hvp(t, u), n=net.D, method="lanczos", rng=r)
            except ValueError as exc:  # Hessian-vector products overflow at the end point
                raise ValueError(f"the curvature at the end point of training overflows ({exc}): lower lr or "
                                 "weight_decays") from None
            lmax[r] = res.value
            converged &= bool(res.converged)
        out[name] = {
            "lmax": lmax.reshape(L, seeds),
            "train": net.loss(theta).reshape(L, seeds).mean(axis=1),
            "test": net.loss(theta, Xs, ys).reshape(L, seeds).mean(axis=1),
            "norm": np.linalg.norm(theta, axis=1).reshape(L, seeds).mean(axis=1),
        }
    t = _t95(seeds)

    def ci(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m = a.mean(axis=1)
        h = t * a.std(axis=1, ddof=1) / np.sqrt(a.shape[1])
        return m, m - h, m + h

    am, alo, ahi = ci(out["adam"]["lmax"])
    wm, wlo, whi = ci(out["adamw"]["lmax"])
    return WeightDecayStudyResult(
        weight_decay=wd, adam_lmax_mean=am, adam_lmax_lo=alo, adam_lmax_hi=ahi, adamw_lmax_mean=wm,
        adamw_lmax_lo=wlo, adamw_lmax_hi=whi, adam_train=out["adam"]["train"], adamw_train=out["adamw"]["train"],
        adam_test=out["adam"]["test"], adamw_test=out["adamw"]["test"], adam_norm=out["adam"]["norm"],
        adamw_norm=out["adamw"]["norm"], adam_lmax=out["adam"]["lmax"], adamw_lmax=out["adamw"]["lmax"],
        converged=converged,
    )  # fmt: skip
