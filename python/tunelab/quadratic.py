"""The noisy-quadratic laboratory: many replicas of SGD / momentum / Adam / AdamW on a noisy
diagonal quadratic, simulated in one fused kernel with the noise drawn inside it.

On ``f(w) = ½ Σᵢ hᵢ wᵢ²`` with constant rate ``η`` and per-sample gradient noise of variance
``s²`` averaged over a batch of ``B``, SGD's stationary expected loss is (SCIENCE.md §3)
``E[L] = (η s² / 2B) · Σᵢ 1/(2 − η hᵢ)`` (:func:`steady_state_loss`); the simulation checks it
(the study :func:`tunelab.studies.accumulation_study` also shows that accumulating ``A``
micro-batches of ``b`` is the same as one batch of ``A·b``) and serves as a cheap, exactly
understood objective for hyperparameter searches.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any

import numpy as np

from . import _core
from ._chunks import run_chunks
from ._random import RNGLike, kernel_key
from ._results import Result, get_axes
from ._stats import Moments
from ._validation import (
    as_array,
    broadcast_shape,
    check_alloc,
    check_bool,
    check_choice,
    check_enum,
    check_int,
    check_real,
    per_replica,
    scalar_or_array,
)

__all__ = ["simulate_quadratic", "steady_state_loss", "QuadraticResult"]

GRAIN = 32  # replicas per statistics block (chunk boundaries are multiples of it)
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")


def steady_state_loss(h: Any, lr: Any, batch_size: Any, noise_var: Any) -> Any:
    """Stationary expected loss of constant-rate SGD on a noisy diagonal quadratic.

    ``E[L] = (η s² / 2B) · Σᵢ 1 / (2 − η hᵢ)``

    Parameters
    ----------
    h : array_like, shape (d,)
        Curvatures ``hᵢ > 0`` of ``f(w) = ½ Σ hᵢ wᵢ²``.
    lr : float or array_like
        Learning rate ``η > 0``; broadcast with ``batch_size`` and ``noise_var``.
    batch_size : float or array_like
        Batch size ``B >= 1`` (with accumulation, ``B = A·b``).
    noise_var : float or array_like
        Per-sample gradient-noise variance ``s² >= 0`` (each coordinate).

    Returns
    -------
    float or ndarray
        ``E[L]``: a float when ``lr``, ``batch_size`` and ``noise_var`` are scalars, else an
        array of their broadcast shape (NumPy's convention); ``inf`` where ``η hᵢ >= 2`` for some ``i`` (no stationary law: SGD diverges).

    Notes
    -----
    Per coordinate, ``wᵢ ← (1 − η hᵢ) wᵢ − η ξᵢ`` with ``Var ξᵢ = s²/B`` is an AR(1) process with
    stationary variance ``vᵢ = η s² / (B hᵢ (2 − η hᵢ))``, so ``E[L] = ½ Σ hᵢ vᵢ``. See e.g.
    Mandt, Hoffman & Blei, "Stochastic Gradient Descent as Approximate Bayesian Inference",
    JMLR 2017, and Zhang et al., "Which Algorithmic Choices Matter at Which Batch Sizes?
    Insights From a Noisy Quadratic Model", NeurIPS 2019.
    """
    hv = as_array(h, "h", ndim=1)
    if np.any(hv <= 0):
        raise ValueError("h must be > 0 (the closed form needs a positive definite quadratic)")
    eta = as_array(lr, "lr", finite=False, allow_empty=True)
    B = as_array(batch_size, "batch_size", finite=False, allow_empty=True)
    s2 = as_array(noise_var, "noise_var", finite=False, allow_empty=True)
    if not np.all(np.isfinite(eta)) or np.any(eta <= 0):
        raise ValueError("lr must be finite and > 0")
    if not np.all(np.isfinite(B)) or np.any(B < 1):
        raise ValueError("batch_size must be >= 1")
    if not np.all(np.isfinite(s2)) or np.any(s2 < 0):
        raise ValueError("noise_var must be finite and >= 0")
    broadcast_shape(lr=eta, batch_size=B, noise_var=s2)
    e = eta[..., None]
    with np.errstate(over="ignore"):  # overflow only where the answer is inf (unstable) or 0
        stable = np.all(e * hv < 2.0, axis=-1)
        terms = np.where(e * hv < 2.0, 1.0 / np.maximum(2.0 - e * hv, 1e-300), 0.0).sum(axis=-1)
        out = np.where(stable, eta * s2 / (2.0 * B) * terms, np.inf)
    return scalar_or_array(out)


def sgd_quadratic_expected_loss(
    dataset_size: float, batch_size: float, *, dim: int, spectrum_exponent: float, init_exponent: float, lr: float,
    noise: float, epochs: float, avg_fraction: float,
) -> float:
    """Expected score of SGD on the power-law noisy quadratic (``SGDQuadraticObjective``), exact.

    Curvatures ``λᵢ = i^{-a}``, start ``θ₀ᵢ = i^{(a-b)/2}`` (``i = 1..dim``), gradient noise of
    covariance ``s² H / B``, ``T = max(1, ⌊E N / B⌋)`` steps at rate ``α``; with
    ``rᵢ = 1 − α λᵢ`` the expected loss after ``t`` steps is
    ``½ Σᵢ λᵢ [rᵢ^{2t} θ₀ᵢ² + α² s² λᵢ (1 − rᵢ^{2t}) / (B (1 − rᵢ²))]``, and the score is its
    mean over the last ``K = max(1, ⌈f T⌉)`` steps. Arguments are not checked (the objective
    checks them).
    """
    i = np.arange(1, dim + 1, dtype=np.float64)
    lam, theta0 = i**-spectrum_exponent, i ** (0.5 * (spectrum_exponent - init_exponent))
    steps = max(1, int(np.floor(epochs * dataset_size / batch_size)))
    scored = min(steps, max(1, int(np.ceil(avg_fraction * steps))))
    t = np.arange(steps - scored + 1, steps + 1, dtype=np.float64)[:, None]
    r = 1.0 - lr * lam
    r2t = r ** (2 * t)
    noise_part = lr**2 * noise**2 * lam / batch_size * (1 - r2t) / (1 - r * r)
    return float(np.mean(0.5 * np.sum(lam * (r2t * theta0**2 + noise_part), axis=1)))


@dataclasses.dataclass(frozen=True, repr=False)
class QuadraticResult(Result):
    """Result of :func:`simulate_quadratic`.

    Attributes
    ----------
    steps : ndarray of int, shape (K + 1,)
        Recorded steps ``0, r, 2r, …`` (``r = record_every``).
    loss_mean, loss_sem : ndarray, shape (K + 1,)
        Mean loss over the replicas that did not diverge, and its standard error.
    final_loss : ndarray, shape (R,)
        Loss of each replica after the last step (``inf`` if it diverged).
    diverged : ndarray of bool, shape (R,)
        Replicas stopped because the loss became non-finite or exceeded ``max_loss`` in magnitude.
    diverged_step : ndarray of int, shape (R,)
        Step at which each replica diverged (-1: it did not).
    mean_effective_lr : ndarray, shape (R,)
        Each replica's effective learning rate ``α·min(1, c/(‖g‖+1e-6))`` averaged over its updates.
    lr_steps : ndarray of int, shape (K,)
        Ends of the windows of ``effective_lr_mean``: ``r, 2r, …``.
    effective_lr_mean, effective_lr_sem : ndarray, shape (K,)
        Effective learning rate averaged over each window of ``r`` updates, then over the
        surviving replicas, and its standard error.
    n_survivors : int
        Replicas that did not diverge (the statistics are over them).
    steady_state : float or None
        :func:`steady_state_loss` when it applies (plain SGD, Gaussian noise, no clipping,
        weight decay or momentum, one configuration for all replicas).
    """

    steps: np.ndarray
    loss_mean: np.ndarray
    loss_sem: np.ndarray
    final_loss: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    mean_effective_lr: np.ndarray
    lr_steps: np.ndarray
    effective_lr_mean: np.ndarray
    effective_lr_sem: np.ndarray
    n_survivors: int
    steady_state: float | None

    def final_mean(self) -> tuple[float, float]:
        """Mean final loss over the surviving replicas and its standard error."""
        x = self.final_loss[~self.diverged]
        if x.size == 0:
            return float("nan"), float("nan")
        sem = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")
        return float(x.mean()), sem

    def plot(self, ax: Any = None) -> Any:
        """Mean loss ± 2 standard errors against the step (log scale), with the closed form."""
        ax = get_axes(ax)
        ax.plot(self.steps, self.loss_mean, label="mean loss (survivors)")
        ax.fill_between(self.steps, self.loss_mean - 2 * self.loss_sem, self.loss_mean + 2 * self.loss_sem, alpha=0.3)
        if self.steady_state is not None and np.isfinite(self.steady_state):
            ax.axhline(self.steady_state, color="k", ls="--", label="steady state (closed form)")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.set_title(f"{self.n_survivors}/{self.diverged.size} replicas did not diverge")
        ax.legend()
        return ax


def _ints(name: str, value: Any, R: int) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except ValueError:  # ragged
        raise ValueError(f"{name} must be an int or an (R,) array of ints; got a ragged sequence") from None
    if arr.dtype.kind not in "iu" or arr.dtype == bool:
        raise TypeError(f"{name} must be an int or an (R,) array of ints; got dtype {arr.dtype}")
    if arr.ndim == 0:
        arr = np.full(R, int(arr), dtype=np.int64)
    elif arr.shape != (R,):
        raise ValueError(f"{name} must be an int or have shape (R,) = ({R},); got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if np.any(arr < 1):
        raise ValueError(f"{name} must be >= 1; got min {arr.min()}")
    return arr


def _rows(name: str, value: Any, R: int, d: int) -> np.ndarray:
    try:
        nd = np.ndim(value)
    except ValueError:  # ragged
        raise ValueError(f"{name} must be a scalar or an array of shape (d,) or (R, d); got a ragged sequence") from None
    if nd == 0:
        v = as_array(np.reshape(value, 1), name)
        return np.full((1, d), float(v[0]))
    arr = as_array(value, name, ndim=(1, 2))
    if arr.ndim == 1:
        if arr.shape != (d,):
            raise ValueError(f"{name} must be a scalar or have shape (d,) = ({d},) or (R, d); got shape {arr.shape}")
        return arr.reshape(1, d)
    if arr.shape != (R, d):
        raise ValueError(f"{name} must have shape (d,) or (R, d) = ({R}, {d}); got shape {arr.shape}")
    return arr


def _chunk(first: int, count: int, num_threads: int, *, spec: dict[str, Any]) -> dict[str, np.ndarray]:
    """Run replicas ``first .. first + count - 1`` (module level: picklable for executors)."""
    sl = slice(first, first + count)
    h, x0 = spec["h"], spec["x0"]
    arrays: dict[str, Any] = {k: None if v is None else v[sl] for k, v in spec["per_replica"].items()}
    return _core.simulate_quadratic(
        _core.QuadraticOptions(**spec["options"]), h=h if h.shape[0] == 1 else h[sl],
        x0=x0 if x0.shape[0] == 1 else x0[sl], key=spec["key"], first=first, count=count, num_threads=num_threads,
        **arrays,
    )  # fmt: skip


def simulate_quadratic(
    h: Any,
    *,
    optimizer: str = "sgd",
    lr: Any,
    batch_size: Any = 1,
    accum_steps: Any = 1,
    noise_std: Any = 1.0,
    steps: int,
    replicas: int,
    x0: Any = 1.0,
    momentum: Any = None,
    dampening: Any = 0.0,
    nesterov: bool = False,
    betas: tuple[Any, Any] = (0.9, 0.999),
    eps: Any = 1e-8,
    weight_decay: Any = 0.0,
    max_grad_norm: Any = None,
    noise: str = "gaussian",
    dof: float = 3.0,
    record_every: int | None = None,
    max_loss: float | None = None,
    rng: RNGLike = None,
    num_threads: int | None = None,
    executor: Any = None,
    progress: bool = False,
    chunk_size: int | None = None,
) -> QuadraticResult:
    r"""Train ``R`` replicas on the noisy quadratic ``½ Σ hᵢ wᵢ²`` and return loss statistics.

    Each step of replica ``r`` forms the accumulated stochastic gradient

    .. code-block:: text

        g_i = h_i w_i + (1/A) Σ_{a<A} ξ_{a,i},   ξ_{a,i} = noise_std / √b · z_{a,i}

    (``A = accum_steps`` micro-batches of ``b = batch_size`` samples; ``z`` standard noise), then
    applies clipping and the update of :class:`tunelab.optim.SGD` / :class:`~tunelab.optim.Adam`
    / :class:`~tunelab.optim.AdamW` (PyTorch's rules, in float64). The loss after each update is
    checked: a replica whose loss is non-finite or above ``max_loss`` in magnitude (negative
    curvatures make the loss unbounded below) is stopped and flagged in
    ``diverged``; it never enters the statistics (which are over the surviving replicas at every
    recorded step), so a search over large rates simply scores it ``inf``.

    Parameters
    ----------
    h : array_like, shape (d,) or (R, d)
        Curvatures (any finite values; negative ones make the problem unbounded below).
    optimizer : {"sgd", "momentum", "adam", "adamw"}
        ``"momentum"`` is SGD with ``momentum=0.9`` by default.
    lr, noise_std, momentum, dampening, eps, weight_decay, max_grad_norm : float or (R,) array
        Per-replica hyperparameters (see :mod:`tunelab.optim`); ``noise_std`` is the standard
        deviation ``s`` of one sample's gradient noise per coordinate.
    batch_size, accum_steps : int or (R,) array of ints
        Micro-batch size ``b`` and number ``A`` of micro-batches averaged per update.
    steps : int
        Updates per replica.
    replicas : int
        Number of replicas ``R``.
    x0 : float or array_like, shape (d,) or (R, d)
        Starting point (default: all ones).
    nesterov : bool
        Nesterov momentum (SGD).
    betas : pair of float or (R,) arrays
        Adam's ``(β₁, β₂)``.
    noise : {"gaussian", "student_t"}
        ``"gaussian"``: ``z`` is standard normal. The mean of ``b`` per-sample ``N(0, s²)``
        noises is exactly ``N(0, s²/b)``, so one normal scaled by ``1/√b`` per coordinate and
        micro-batch is exact in law, and ``A`` micro-batches of ``b`` give exactly the law of one
        batch of ``A·b``. ``"student_t"``: ``z = T·√((ν−2)/ν)`` with ``T`` Student-t with
        ``ν = dof`` degrees of freedom (unit variance; Bailey's polar method): the micro-batch
        noise itself is modelled as heavy-tailed with variance ``s²/b`` (as observed for
        minibatch gradients by Şimşekli, Sagun & Gürbüzbalaban, ICML 2019, and the setting of
        Zhang et al., "Why are adaptive methods good for attention models?", NeurIPS 2020).
        A true mean of ``b`` t-draws would tend to a normal; here accumulation ``A×b`` matches
        one batch ``A·b`` in mean and variance but keeps heavier tails.
    dof : float
        Degrees of freedom ``ν > 2`` of the Student-t noise.
    record_every : int, optional
        Record the loss every this many steps (default ``max(1, steps // 100)``). Memory is
        ``O(R + steps / record_every)``, independent of ``steps`` at a fixed number of records.
    max_loss : float, optional
        Divergence bound on ``|loss|`` (default ``1e8 · max(1, max_r |L(x0_r)|)``).
    rng : None, int, SeedSequence or Generator
        Seed (SPEC 7); one key per call. Replica ``r`` uses Philox stream ``r``, so the result is
        bit-identical for any ``num_threads``, ``chunk_size`` or ``executor``.
    num_threads : int, optional
        OpenMP threads per chunk (default: all locally, 1 in executor workers).
    executor : Executor or map-like callable, optional
        Run chunks of replicas elsewhere (e.g. a process pool or dask); same result.
    progress : bool
        Show a progress bar (tqdm).
    chunk_size : int, optional
        Replicas per chunk (default adaptive).

    Returns
    -------
    QuadraticResult
    """
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
    noise_kind = check_enum("noise", noise, _core.Noise)
    hv = as_array(h, "h", ndim=(1, 2))
    R = check_int("replicas", replicas, minimum=1)
    steps = check_int("steps", steps, minimum=1)
    d = hv.shape[-1]
    if hv.ndim == 2 and hv.shape[0] != R:
        raise ValueError(f"h must have shape (d,) or (R, d) = ({R}, {d}); got shape {hv.shape}")
    h2 = hv.reshape(1, d) if hv.ndim == 1 else hv
    x02 = _rows("x0", x0, R, d)
    record_every = max(1, steps // 100) if record_every is None else check_int("record_every", record_every, minimum=1)
    if record_every > steps:
        raise ValueError(f"record_every must be <= steps ({steps}); got {record_every}")
    dof = check_real("dof", dof, minimum=2.0, strict_min=True)
    nesterov = check_bool("nesterov", nesterov)
    if momentum is None:
        momentum = 0.9 if optimizer == "momentum" else 0.0
    if optimizer in ("adam", "adamw") and np.any(np.asarray(momentum) != 0):
        raise ValueError("momentum applies to 'sgd' and 'momentum'; use betas for Adam")
    if isinstance(betas, np.ndarray) and betas.ndim in (1, 2) and betas.shape[0] == 2:
        betas = (betas[0], betas[1])
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2); got {betas!r}")
    # per-replica arrays (about 11 doubles) and per-replica outputs: refuse what cannot be allocated
    check_alloc("replicas", (R, 16))
    p = {
        "lr": per_replica("lr", lr, R, low=0.0),
        "momentum": per_replica("momentum", momentum, R, low=0.0, high=1.0, high_open=True),
        "dampening": per_replica("dampening", dampening, R, low=0.0, high=1.0),
        "beta1": per_replica("betas", betas[0], R, low=0.0, high=1.0, high_open=True),
        "beta2": per_replica("betas", betas[1], R, low=0.0, high=1.0, high_open=True),
        "eps": per_replica("eps", eps, R, low=0.0, low_open=True),
        "weight_decay": per_replica("weight_decay", weight_decay, R, low=0.0),
        "max_grad_norm": None
        if max_grad_norm is None
        else per_replica("max_grad_norm", max_grad_norm, R, low=0.0, low_open=True, allow_inf=True),
        "noise_std": per_replica("noise_std", noise_std, R, low=0.0),
        "batch_size": _ints("batch_size", batch_size, R),
        "accum_steps": _ints("accum_steps", accum_steps, R),
    }
    if nesterov and (np.any(p["momentum"] <= 0) or np.any(p["dampening"] != 0)):
        raise ValueError("nesterov needs momentum > 0 and dampening = 0 for every replica")
    with np.errstate(over="ignore", invalid="ignore"):
        L0 = 0.5 * np.sum(h2 * x02 * x02, axis=1)
    if not np.all(np.isfinite(L0)):
        raise ValueError("x0 and h: the initial loss ½ Σ h x0² overflows float64")
    if max_loss is None:
        max_loss = 1e8 * max(1.0, float(np.max(np.abs(L0))))
    else:
        max_loss = check_real("max_loss", max_loss, minimum=0.0, strict_min=True)
    spec = {
        "options": {
            "optimizer": _core.Optimizer.__members__["sgd" if optimizer == "momentum" else optimizer],
            "nesterov": nesterov, "noise": noise_kind, "dof": dof, "steps": steps, "record_every": record_every,
            "grain": GRAIN, "max_loss": float(max_loss),
        },  # fmt: skip
        "h": h2,
        "x0": x02,
        "per_replica": p,
        "key": kernel_key(rng),
    }
    K = steps // record_every
    final = np.empty(R)
    div = np.empty(R, dtype=bool)
    div_step = np.empty(R, dtype=np.int64)
    mean_lr = np.empty(R)
    loss_m = Moments(grain=GRAIN)
    lr_m = Moments(grain=GRAIN)

    def consume(first: int, count: int, out: dict[str, np.ndarray]) -> None:
        sl = slice(first, first + count)
        final[sl], div[sl], div_step[sl], mean_lr[sl] = (
            out["final_loss"], out["diverged"], out["diverged_step"], out["mean_lr"],
        )  # fmt: skip
        for b in range(out["loss_n"].shape[0]):  # blocks merged in global order
            loss_m.merge(out["loss_n"][b], out["loss_mean"][b], out["loss_m2"][b])
            lr_m.merge(out["lr_n"][b], out["lr_mean"][b], out["lr_m2"][b])

    run_chunks(
        partial(_chunk, spec=spec), R, consume, grain=GRAIN, chunk_size=chunk_size, executor=executor,
        progress=progress, desc="simulate_quadratic", num_threads=num_threads,
    )  # fmt: skip
    n_surv = int(R - div.sum())
    steady = None
    uniform = all(
        v is None or np.all(v == v[0]) for k, v in p.items() if k not in ("beta1", "beta2", "eps")
    ) and hv.ndim == 1
    if (
        optimizer in ("sgd", "momentum") and noise == "gaussian" and p["max_grad_norm"] is None and uniform
        and not np.any(p["momentum"]) and not np.any(p["weight_decay"]) and np.all(hv > 0) and p["lr"][0] > 0
        and p["noise_std"][0] < 1e150  # its square must be finite
    ):  # fmt: skip
        steady = steady_state_loss(
            hv, p["lr"][0], p["batch_size"][0] * p["accum_steps"][0], p["noise_std"][0] ** 2
        )
    nan_k = np.full(K + 1, np.nan)
    return QuadraticResult(
        steps=np.arange(K + 1, dtype=np.int64) * record_every,
        loss_mean=np.asarray(loss_m.mean, dtype=float) if n_surv else nan_k,
        loss_sem=np.asarray(loss_m.sem, dtype=float) if n_surv else nan_k,
        final_loss=final,
        diverged=div,
        diverged_step=div_step,
        mean_effective_lr=mean_lr,
        lr_steps=np.arange(1, K + 1, dtype=np.int64) * record_every,
        effective_lr_mean=np.asarray(lr_m.mean, dtype=float) if n_surv else nan_k[:K],
        effective_lr_sem=np.asarray(lr_m.sem, dtype=float) if n_surv else nan_k[:K],
        n_survivors=n_surv,
        steady_state=steady,
    )
