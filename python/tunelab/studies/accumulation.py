"""Gradient accumulation is a large batch (SCIENCE.md §3): ``A`` micro-batches of ``b`` against
one batch of ``A·b``, and both against the closed-form steady state, on the noisy quadratic."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .._random import RNGLike, as_generator
from .._results import Result, get_axes
from .._validation import as_array, check_int, check_real
from ..quadratic import simulate_quadratic, steady_state_loss

__all__ = ["accumulation_study", "AccumulationStudyResult"]


@dataclasses.dataclass(frozen=True, repr=False)
class AccumulationStudyResult(Result):
    """Result of :func:`accumulation_study`: one row per ``(h, η, A, b)`` setting.

    Attributes
    ----------
    case : ndarray of int
        Index of the curvature vector in ``hs``.
    lr, accum_steps, micro_batch, batch : ndarray
        ``η``, ``A``, ``b`` and ``B = A·b``.
    theory : ndarray
        :func:`steady_state_loss` at ``(h, η, B)``.
    accum_mean, accum_sem : ndarray
        Mean stationary loss (and SE) simulated with ``A`` micro-batches of ``b``.
    batch_mean, batch_sem : ndarray
        The same with one batch of ``A·b``.
    z_accum, z_batch, z_diff : ndarray
        ``(accum − theory)/SE``, ``(batch − theory)/SE`` and ``(accum − batch)/√(SE₁² + SE₂²)``.
    hs : list of ndarray
        The curvature vectors.
    """

    case: np.ndarray
    lr: np.ndarray
    accum_steps: np.ndarray
    micro_batch: np.ndarray
    batch: np.ndarray
    theory: np.ndarray
    accum_mean: np.ndarray
    accum_sem: np.ndarray
    batch_mean: np.ndarray
    batch_sem: np.ndarray
    z_accum: np.ndarray
    z_batch: np.ndarray
    z_diff: np.ndarray
    hs: list

    def plot(self, ax: Any = None) -> Any:
        """Simulated steady state (both ways, ± 2 SE) against the closed form, log-log."""
        ax = get_axes(ax)
        ax.errorbar(self.theory, self.accum_mean, yerr=2 * self.accum_sem, fmt="o", label="A micro-batches of b")
        ax.errorbar(self.theory * 1.03, self.batch_mean, yerr=2 * self.batch_sem, fmt="s", mfc="none",
                    label="one batch of A·b")  # fmt: skip
        lo, hi = self.theory.min() * 0.8, self.theory.max() * 1.2
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="closed form")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("closed form (η s²/2B) Σ 1/(2 − η hᵢ)")
        ax.set_ylabel("simulated stationary loss")
        ax.legend()
        return ax


_MAX_TRANSIENT = 10**6  # steps; a 200-replica study at this length already takes about half a minute


def accumulation_study(
    *,
    hs: Any = None,
    lrs: Any = (0.05, 0.2, 0.4),
    splits: Any = ((4, 2), (2, 8)),
    noise_std: float = 1.0,
    replicas: int = 4000,
    rng: RNGLike = 0,
    num_threads: int | None = None,
    executor: Any = None,
) -> AccumulationStudyResult:
    """Accumulation ``A×b`` vs one batch ``A·b``, and both vs the closed-form steady state.

    For every curvature vector ``h`` in ``hs``, rate ``η`` in ``lrs`` (skipping unstable
    ``η·max h >= 2``) and split ``(A, b)`` in ``splits``, runs ``replicas`` SGD replicas from
    ``w = 0`` twice - accumulating ``A`` micro-batches of ``b``, and with one batch of ``A·b``
    (independent noise) - for ``T`` steps with ``(1 − η min h)^{2T} < 1e-4`` (the transient is
    then far below the standard error), and compares the mean final loss (SE = sample SD / √R)
    with :func:`steady_state_loss`. Averaging ``A`` independent ``N(0, s²/b)`` micro-batch means
    gives ``N(0, s²/(A b))``: the two are identical in law, so every ``|z|`` should be small.

    Raises ``ValueError`` naming ``lrs and hs`` when ``T`` would exceed 10⁶ steps
    (``η·min h`` below about 5·10⁻⁶): use larger rates, or :func:`simulate_quadratic` directly.
    """
    if hs is None:
        hs = [np.array([1.0]), np.array([0.5, 1.0, 2.0, 4.0])]
    else:
        if callable(hs) or isinstance(hs, (str, bytes, dict)):
            raise TypeError(f"hs must be a sequence of curvature vectors; got {type(hs).__name__}")
        try:
            items = list(hs)
        except TypeError:
            raise TypeError(f"hs must be a sequence of curvature vectors; got {type(hs).__name__}") from None
        hs = [as_array(h, "hs", ndim=1) for h in items]
        if not hs:
            raise ValueError("hs must hold at least one curvature vector")
        if any(np.any(h <= 0) for h in hs):
            raise ValueError("hs must be > 0 (the steady state needs a positive definite quadratic)")
    lrs = as_array(lrs, "lrs", ndim=1)
    if np.any(lrs <= 0):
        raise ValueError(f"lrs must be > 0; got min {lrs.min()}")
    try:
        sp = np.asarray(splits)
    except ValueError:
        raise ValueError("splits must be a sequence of (accum_steps, micro_batch) int pairs; got a ragged sequence") from None
    if sp.dtype.kind not in "iu":
        raise TypeError(f"splits must be (accum_steps, micro_batch) pairs of ints; got dtype {sp.dtype}")
    if sp.ndim != 2 or sp.shape[1] != 2 or sp.shape[0] == 0:
        raise ValueError(f"splits must have shape (k, 2): (accum_steps, micro_batch) pairs; got shape {sp.shape}")
    if np.any(sp < 1):
        raise ValueError("splits must hold ints >= 1")
    splits = [(int(a), int(b)) for a, b in sp]
    noise_std = check_real("noise_std", noise_std, minimum=1e-150, maximum=1e150)  # noise_std² must be a normal float
    replicas = check_int("replicas", replicas, minimum=2)
    gen = as_generator(rng)
    rows: dict[str, list[Any]] = {k: [] for k in ("case", "lr", "A", "b", "theory", "am", "as", "bm", "bs")}
    for ci, h in enumerate(hs):
        for lr in lrs:
            if lr * h.max() >= 2:
                continue
            with np.errstate(divide="ignore"):
                steps_f = np.ceil(np.log(1e-4) / (2 * np.log(abs(1 - lr * h.min()))))
            if not np.isfinite(steps_f) or steps_f > _MAX_TRANSIENT:
                raise ValueError(
                    f"lrs and hs: lr * min(h) = {lr * h.min():.3g} is too small, the transient would need more "
                    f"than {_MAX_TRANSIENT} steps"
                )
            steps = max(1, int(steps_f))
            for A, b in splits:
                out = []
                for acc, mb in ((A, b), (1, A * b)):
                    r = simulate_quadratic(
                        h, lr=lr, batch_size=mb, accum_steps=acc, noise_std=noise_std, steps=steps,
                        replicas=replicas, x0=0.0, rng=gen, record_every=steps, num_threads=num_threads,
                        executor=executor,
                    )  # fmt: skip
                    out.append(r.final_mean())
                for k, v in zip(rows, (ci, lr, A, b, steady_state_loss(h, lr, A * b, noise_std**2), *out[0], *out[1])):
                    rows[k].append(v)
    f = {k: np.asarray(v) for k, v in rows.items()}
    return AccumulationStudyResult(
        case=f["case"], lr=f["lr"], accum_steps=f["A"], micro_batch=f["b"], batch=f["A"] * f["b"],
        theory=f["theory"], accum_mean=f["am"], accum_sem=f["as"], batch_mean=f["bm"], batch_sem=f["bs"],
        z_accum=(f["am"] - f["theory"]) / f["as"], z_batch=(f["bm"] - f["theory"]) / f["bs"],
        z_diff=(f["am"] - f["bm"]) / np.hypot(f["as"], f["bs"]), hs=hs,
    )  # fmt: skip
