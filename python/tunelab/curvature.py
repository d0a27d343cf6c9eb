"""Curvature and stability: the top eigenvalue of a Hessian, ``2/λ_max``, GD on quadratics,
Hutchinson's trace estimator.

Gradient descent on ``f(x) = ½ xᵀHx`` is the linear map ``x ← (I − αH)x``; for a positive
semi-definite ``H`` it converges iff ``α < 2/λ_max(H)`` (SCIENCE.md §1). ``top_eigenvalue``
estimates ``λ_max`` from matrix-vector products alone (for a network: Hessian-vector
products), so it works on a dense matrix, a stack of matrices or any matvec callable.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from . import _core
from ._chunks import run_chunks
from ._random import RNGLike, kernel_key
from ._results import Result, get_axes
from ._stats import Moments
from ._threads import resolve_num_threads
from ._validation import as_array, check_alloc, check_callable, check_choice, check_enum, check_int, check_real

__all__ = [
    "EigenResult",
    "HutchinsonResult",
    "top_eigenvalue",
    "stability_bound",
    "gd_quadratic",
    "hutchinson_trace",
]

#: Relative tolerance of the symmetry check: ``max|A − Aᵀ| ≤ SYM_TOL · max|A|``.
SYM_TOL = 1e-8


@dataclass(frozen=True, repr=False)
class EigenResult(Result):
    """The top eigenpair found by :func:`top_eigenvalue`.

    For a stack of ``m`` matrices every field has a leading ``m`` axis.

    Attributes
    ----------
    value : float or ndarray (m,)
        The eigenvalue estimate (a Rayleigh quotient / Ritz value).
    vector : ndarray (n,) or (m, n)
        Its unit eigenvector estimate (sign arbitrary).
    n_iter : int or ndarray (m,)
        Matrix-vector products used.
    converged : bool or ndarray (m,)
        Whether the stopping test was met within ``max_iter``.
    residual : float or ndarray (m,)
        ``‖A v − value·v‖`` (for a symmetric ``A`` an eigenvalue lies within it of ``value``).

    ``to_frame()`` has one row per matrix (one row for a single one), with the columns
    ``value, residual, n_iter, converged``; the eigenvectors stay in ``vector``.
    """

    value: Any
    vector: np.ndarray
    n_iter: Any
    converged: Any
    residual: Any

    def _frame_columns(self) -> dict[str, Any]:
        return {k: np.atleast_1d(getattr(self, k)) for k in ("value", "residual", "n_iter", "converged")}

    def plot(self, ax: Any = None) -> Any:
        """A single matrix: the eigenvector's components; a stack: the eigenvalue of each matrix
        with its residual as an error bar (unconverged ones marked)."""
        ax = get_axes(ax)
        if self.vector.ndim == 1:
            ax.stem(np.arange(self.vector.size), self.vector)
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.set_xlabel("component i")
            ax.set_ylabel("eigenvector vᵢ")
            ax.set_title(f"λ = {self.value:.6g} (residual {self.residual:.2g}, {self.n_iter} matvecs)")
            return ax
        m = np.arange(self.value.size)
        ax.errorbar(m, self.value, yerr=self.residual, fmt="o", capsize=3, label="eigenvalue ± residual")
        bad = ~np.asarray(self.converged)
        if bad.any():
            ax.plot(m[bad], self.value[bad], "rx", ms=10, label="not converged")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("matrix")
        ax.set_ylabel("top eigenvalue")
        ax.legend()
        return ax


@dataclass(frozen=True, repr=False)
class HutchinsonResult(Result):
    """Hutchinson's trace estimate.

    Attributes
    ----------
    estimate : float
        Mean of ``zᵀAz`` over the probes.
    stderr : float
        Its standard error, ``sqrt(s²/N)`` with ``s²`` the sample variance of the probes.
    n_samples : int
        Number of probes ``N``.
    variance : float
        Sample variance of one probe (for Rademacher probes its expectation is
        ``2(‖A‖_F² − Σᵢ A_ii²)``).

    ``to_frame()`` is one row with these four columns.
    """

    estimate: float
    stderr: float
    n_samples: int
    variance: float

    def plot(self, ax: Any = None) -> Any:
        """The estimate with its 95% normal interval (± 1.96 SE)."""
        ax = get_axes(ax)
        ax.errorbar([0], [self.estimate], yerr=[1.96 * self.stderr], fmt="o", capsize=6,
                    label=f"{self.estimate:.6g} ± {1.96 * self.stderr:.2g} (95%)")  # fmt: skip
        ax.set_xticks([0], [f"{self.n_samples} probes"])
        ax.set_ylabel("trace estimate")
        ax.set_title("Hutchinson trace estimate")
        ax.legend()
        return ax


# ---------------------------------------------------------------------------------------------
def _options(method: str, which: str, reorth: str, tol: Any, max_iter: Any, stack: bool) -> _core.EigenOptions:
    method = check_choice("method", method, ("auto", *_core.Method.__members__))
    if method == "auto":
        method = "power" if stack else "lanczos"
    return _core.EigenOptions(
        method=_core.Method.__members__[method],
        which=check_enum("which", which, _core.Which),
        reorth=check_enum("reorth", reorth, _core.Reorth),
        tol=check_real("tol", tol, minimum=0.0, strict_min=True),
        max_iter=check_int("max_iter", max_iter, minimum=1),
    )


def _is_stack(A: Any) -> bool:
    """Whether ``A`` looks like a stack of matrices (it is validated later)."""
    if callable(A):
        return False
    try:
        return bool(np.ndim(A) == 3)
    except (TypeError, ValueError):  # ragged: refused by the validation, naming A
        return False


class _CheckedMatVec:
    """Wrap a user's matvec: any array-like of shape ``(n,)`` (or ``(n, 1)``) back, finite."""

    def __init__(self, fn: Callable[[np.ndarray], Any], n: int, name: str) -> None:
        self.fn, self.n, self.name = fn, n, name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        out = self.fn(x)
        try:
            y = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{self.name} (the matvec callable) must return an array-like of floats; got "
                f"{type(out).__name__} ({exc})"
            ) from None
        if y.shape == (self.n, 1):
            y = y[:, 0]
        if y.shape != (self.n,):
            raise ValueError(f"{self.name} (the matvec callable) must return shape ({self.n},); got {y.shape}")
        if not np.isfinite(y).all():
            raise ValueError(f"{self.name} (the matvec callable) returned non-finite values (NaN or inf)")
        return np.ascontiguousarray(y)


def _square(A: Any, name: str, ndim: tuple[int, ...] = (2, 3)) -> np.ndarray:
    arr = as_array(A, name, ndim=ndim, finite=False)
    if arr.shape[-1] != arr.shape[-2]:
        raise ValueError(f"{name} must be square (n, n) or a stack (m, n, n); got shape {arr.shape}")
    return arr


def top_eigenvalue(
    A: Any,
    *,
    n: int | None = None,
    method: str = "auto",
    which: str = "LA",
    tol: float = 1e-8,
    max_iter: int = 1000,
    reorth: str = "full",
    rng: RNGLike = None,
    num_threads: int | None = None,
) -> EigenResult:
    """The top eigenvalue of a symmetric matrix, a stack of them, or a matvec callable.

    Parameters
    ----------
    A : array_like (n, n) or (m, n, n), or callable
        A symmetric matrix (``max|A − Aᵀ| ≤ 1e-8·max|A|``; in float64), a stack of ``m`` of
        them (solved in parallel, one result each), or a callable
        ``A(v) -> A @ v`` taking a float64 array of shape ``(n,)`` and returning any array-like
        of that shape (NumPy, a CPU PyTorch tensor, a Hessian-vector product, ...). A matrix
        with ``n ≤ 128`` is used as given; a larger one is multiplied by its upper triangle
        alone, as LAPACK's symmetric routines (and ``numpy.linalg.eigvalsh(A, UPLO="U")``) do:
        each product then reads half the bytes. Within the symmetry tolerance the two agree to
        ``1e-8·max|A|·n`` at worst.
    n : int, optional
        The dimension; required when ``A`` is a callable (must match ``A`` otherwise).
    method : {"auto", "power", "lanczos"}
        Power iteration (one matvec per step, converges like ``(λ₂/λ₁)^k``) or Lanczos
        (Krylov subspace; converges like ``1/T_k(1 + 2γ)`` with ``γ = (λ₁ − λ₂)/(λ₂ − λ_n)``,
        so it needs far fewer matvecs: 65 against 2,000 on a 1024×1024 Wishart matrix at
        ``tol=1e-8``, 11 against 1,044 Hessian-vector products on a small network). ``"auto"``
        (default) takes Lanczos for a single matrix and a callable, where each product is a
        pass over ``A`` or a network, and power iteration for a stack, whose small matrices are
        solved by a vectorised kernel (about 5× faster than Lanczos per matrix on 4096 of
        32×32). Power iteration is also the better choice when memory is tight (Lanczos keeps
        its basis: ``8·n·k`` bytes) and when the top eigenvalue is well separated
        (``λ₂/λ₁ ≲ 0.5``: a few dozen products either way, power's each cheaper).
    which : {"LA", "LM"}
        Largest algebraic eigenvalue ``λ_max`` (default; what the stability bound needs) or
        largest magnitude (scipy.sparse.linalg.eigsh's names).
    tol : float
        Stop when the residual ``‖Av − θv‖ ≤ tol · ‖A‖̂`` where ``‖A‖̂`` is the running estimate of
        the spectral norm (``‖Av‖`` for power iteration, ``max|θᵢ|`` of the Ritz values for
        Lanczos): ARPACK's criterion. Power iteration's shifted second run (``which="LA"``,
        see Notes) applies it to ``B = A + νI``, whose norm is at most ``2‖A‖₂``. For a symmetric ``A`` it bounds the eigenvalue error by
        the residual, and by ``residual²/gap`` once the eigenvalue is isolated.
    max_iter : int
        Power: steps per run (``which="LA"`` on an indefinite matrix may need two runs).
        Lanczos: the largest Krylov dimension (capped at ``n``); the basis is stored, so memory
        is ``8·n·k`` bytes after ``k`` steps.
    reorth : {"full", "selective"}
        Lanczos reorthogonalisation: against every basis vector (twice), or only against
        converged Ritz vectors (Parlett & Scott 1979), cheaper per step for long runs.
    rng : None, int, SeedSequence or Generator
        Seeds the random start vector (SPEC 7). The start vector depends only on the key and
        ``n``, so matrix ``i`` of a stack gives bit for bit the result of ``A[i]`` alone.
    num_threads : int, optional
        OpenMP threads (dense: over row blocks of the matvec; stack: over the matrices). The
        result does not depend on it.

    Returns
    -------
    EigenResult
        ``value, vector, n_iter, converged, residual`` (leading ``m`` axis for a stack).

    Notes
    -----
    Power iteration (von Mises 1929) ``v ← Av/‖Av‖`` with the Rayleigh quotient ``θ = vᵀAv``
    converges to the eigenvalue of largest *magnitude*. For ``which="LA"`` the top *algebraic*
    one is obtained by a shift: if the first run converges to ``θ ≥ 0`` that is ``λ_max``;
    otherwise (``θ < 0``, or no convergence, as with a ``±μ`` pair) a second run from a fresh
    random vector iterates on ``B = A + νI`` with ``ν ≈ ‖A‖₂`` (the largest ``‖Av‖`` seen),
    whose eigenvalues ``λᵢ + ν ≥ 0`` make ``λ_max + ν`` dominant; ``n_iter`` counts both runs.
    Lanczos (Lanczos 1950; Golub & Van Loan, *Matrix Computations*, §10.1) returns the Ritz
    value of the tridiagonal ``T_k`` that is algebraically largest (``"LA"``) or largest in
    magnitude (``"LM"``) directly, so it needs no shift; its residual is recomputed with one
    extra matvec at the end (counted in ``n_iter``).

    Matrices with ``n ≤ 128`` (a stack's, or a single one) are solved on a transposed copy
    whose columns are combined with short vectors, several matrices interleaved per thread;
    the code is compiled for AVX-512F, AVX2 and baseline x86-64 and the widest the CPU has is
    used. Every width performs the same IEEE operations in the same order (no fused
    multiply-adds, no reassociation), so the result is the same bits on any CPU.
    """
    options = _options(method, which, reorth, tol, max_iter, _is_stack(A))
    threads = resolve_num_threads(num_threads)
    if callable(A) and not isinstance(A, np.ndarray):
        if n is None:
            raise TypeError("n must be given when A is a matvec callable")
        n = check_int("n", n, minimum=1)
        check_alloc("n", (2, n))
        key = kernel_key(rng)
        value, vec, it, conv, res = _core.top_eigen_callable(_CheckedMatVec(A, n, "A"), n, options, key)
        _check_representable(value, "A")
        return EigenResult(float(value), vec, int(it), bool(conv), float(res))
    arr = _square(A, "A")
    if n is not None and check_int("n", n, minimum=1) != arr.shape[-1]:
        raise ValueError(f"n must match A's size {arr.shape[-1]}; got {n}")
    key = kernel_key(rng)
    if arr.ndim == 2:
        value, vec, it, conv, res = _core.top_eigen_dense(arr, options, key, threads, SYM_TOL)
        _check_representable(value, "A")
        return EigenResult(float(value), vec, int(it), bool(conv), float(res))
    value, vec, it, conv, res = _core.top_eigen_stack(arr, options, key, threads, SYM_TOL)
    _check_representable(value, "A")
    return EigenResult(value, vec, it, conv, res)


def _check_symmetric(arr: np.ndarray, name: str) -> float:
    """Refuse a matrix (or any matrix of a stack) that is not finite and symmetric to
    ``SYM_TOL``, naming it; return the largest ``|A - Aᵀ|`` seen."""
    worst = 0.0
    for i, a in enumerate(arr.reshape(-1, *arr.shape[-2:])):
        where = name if arr.ndim == 2 else f"{name}[{i}]"
        max_asym, max_abs, finite = _core.check_symmetric(a)
        if not finite:
            raise ValueError(f"{where} must contain only finite values (no NaN or inf)")
        if max_asym > SYM_TOL * max_abs:
            raise ValueError(
                f"{where} must be symmetric: max|{name} - {name}.T| = {max_asym:.3g} exceeds {SYM_TOL} * max|{name}|; "
                f"symmetrise it with ({name} + {name}.T) / 2"
            )
        worst = max(worst, max_asym)
    return worst


def _check_representable(value: Any, name: str) -> None:
    """Refuse an eigenvalue beyond float64 (the kernel solves on ``2^-e A`` and returns
    ``2^e θ``, which is ``±inf`` only when ``|θ|`` itself exceeds ``1.8e308``)."""
    bad = np.flatnonzero(np.isinf(np.atleast_1d(value)))
    if bad.size:
        where = name if np.ndim(value) == 0 else f"{name}[{int(bad[0])}]"
        raise ValueError(
            f"the eigenvalue found for {where} is beyond the float64 range (|lambda| > "
            f"{np.finfo(np.float64).max:.4g}); rescale {name} (e.g. by 2**-k) and scale the eigenvalue back"
        )


#: hutchinson_trace scales a matrix whose largest entry lies outside [2^-400, 2^400] by a power
#: of two (exact): the probe values z'Az (up to n² max|A|) and their squares would over- or
#: underflow. The moments are scaled back with ldexp (never by forming 2^e itself).
_SAFE_EXP = 400


def _rescaled(arr: np.ndarray) -> tuple[np.ndarray, int]:
    big = max(float(arr.max()), -float(arr.min())) if arr.size else 0.0  # no |A| copy
    if big == 0.0 or not np.isfinite(big):
        return arr, 0  # zero matrices need no scaling; non-finite ones are refused before
    e = math.frexp(big)[1]
    if -_SAFE_EXP <= e <= _SAFE_EXP:
        return arr, 0
    return np.ldexp(arr, -e), e


def stability_bound(A: Any, **kwargs: Any) -> Any:
    """The largest stable learning rate of gradient descent on ``½ xᵀAx``: ``2/λ_max(A)``.

    GD is ``x ← (I − αA)x``, which contracts every eigendirection iff ``|1 − αλᵢ| < 1``, i.e.
    (for positive semi-definite ``A``) iff ``α < 2/λ_max``. Along an eigenvector of a negative
    eigenvalue GD diverges at every rate (``|1 − αλ| > 1`` for all ``α > 0``), and with
    ``λ_max ≤ 0`` there is no positive bound: both are refused with a ``ValueError`` that names
    the matrix and the eigenvalue found.

    Parameters
    ----------
    A : array_like (n, n) or (m, n, n), or callable
        As in :func:`top_eigenvalue` (a stack gives an array of bounds; each matrix is checked).
    **kwargs
        Passed to :func:`top_eigenvalue` (``n``, ``method``, ``tol``, ``max_iter``, ``rng``, ...;
        ``which`` is fixed to ``"LA"``).

    Returns
    -------
    float or ndarray (m,)

    Notes
    -----
    Two solves: ``λ_max`` of ``A`` with the options given, then the top algebraic eigenvalue of
    ``−A`` by Lanczos (whatever ``method`` is: power iteration converges far too slowly on a
    clustered bottom of the spectrum, as a Gram matrix's or a Hessian's is; the Lanczos basis
    costs ``8·n·k`` bytes for ``k ≤ min(max_iter, n)`` steps). Its negative ``θ_min`` is a Ritz
    value of ``A`` and hence an upper bound on ``λ_min`` (Courant–Fischer): ``θ_min < 0``
    proves a negative eigenvalue. ``A`` is refused when ``θ_min < −tol·λ_max``: eigenvalues are resolved
    only to ``tol·‖A‖``, the rounding of a computed Rayleigh quotient is about ``n·ε·‖A‖``, and
    along an eigenvalue in ``[−tol·λ_max, 0)`` GD at ``α < 2/λ_max`` grows by at most
    ``(1 + 2·tol)`` per step, so a positive semi-definite matrix with rounding noise is accepted.
    Both solves must converge (an unconverged bottom could hide a negative eigenvalue); Lanczos
    always does within ``max_iter >= n`` steps (the Krylov space is then exhausted).
    """
    if "which" in kwargs:
        raise TypeError("which is fixed to 'LA' by stability_bound")
    max_iter, tol = kwargs.get("max_iter", 1000), kwargs.get("tol", 1e-8)
    unconverged = (
        f"did not converge within max_iter={max_iter} at tol={tol}; raise max_iter or tol, or use method='lanczos'"
    )
    res = top_eigenvalue(A, **kwargs)
    value = np.asarray(res.value, dtype=float)
    if not np.all(res.converged):
        raise ValueError(f"top_eigenvalue {unconverged}")
    if np.any(value <= 0):
        raise ValueError(
            f"A must have a positive top eigenvalue for a stability bound; got lambda_max = {value.min():.6g} <= 0"
        )
    if callable(A) and not isinstance(A, np.ndarray):
        negated: Any = _Negated(A)
    else:
        negated = np.negative(_square(A, "A"))  # exact; A was validated by the first solve
    bottom = top_eigenvalue(negated, **{**kwargs, "method": "lanczos"})
    theta_min = -np.asarray(bottom.value, dtype=float)  # >= lambda_min(A)
    negative = theta_min < -float(tol) * value
    if np.any(negative):
        i = int(np.flatnonzero(np.atleast_1d(negative))[0])
        where = "A" if value.ndim == 0 else f"A[{i}]"
        lo, hi = float(np.atleast_1d(theta_min)[i]), float(np.atleast_1d(value)[i])
        raise ValueError(
            f"{where} has a negative eigenvalue (lambda_min <= {lo:.6g}; lambda_max = {hi:.6g}): gradient descent "
            f"on 1/2 x'Ax diverges along its eigenvector at every learning rate > 0, so no stable learning rate "
            f"exists; damp it (A + c*I with c > {-lo:.3g}) or project out the negative directions"
        )
    if not np.all(bottom.converged):
        raise ValueError(
            f"the bottom of A's spectrum (the check for negative eigenvalues, by Lanczos) did not converge "
            f"within max_iter={max_iter} at tol={tol}; raise max_iter (>= n always converges) or tol"
        )
    with np.errstate(over="ignore", divide="ignore"):
        bound = 2.0 / value
    if not np.all(np.isfinite(bound)):
        raise ValueError(
            f"the stability bound 2/lambda_max is beyond the float64 range (lambda_max = {value.min():.6g}); "
            f"rescale A (e.g. by 2**k) and scale the bound back"
        )
    return float(bound) if bound.ndim == 0 else bound


class _Negated:
    """``v ↦ −A(v)`` for a user's matvec (picklable; top_eigenvalue checks what it returns)."""

    def __init__(self, fn: Callable[[np.ndarray], Any]) -> None:
        self.fn = fn

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.negative(np.asarray(self.fn(x), dtype=np.float64))


def gd_quadratic(
    H: Any, x0: Any, lrs: Any, steps: int, *, method: str = "iterate", num_threads: int | None = None
) -> np.ndarray:
    """Loss trajectories of gradient descent on ``f(x) = ½ xᵀHx`` for many learning rates.

    ``x_{t+1} = x_t − α H x_t`` from the same ``x0`` for every ``α`` in ``lrs``. In the
    eigenbasis ``f(x_t) = ½ Σᵢ λᵢ cᵢ² (1 − αλᵢ)^{2t}`` with ``c = Qᵀx0``, so the losses decay for
    ``α < 2/λ_max`` and grow geometrically for ``α > 2/λ_max`` (given a component along the
    top eigenvector).

    Parameters
    ----------
    H : array_like (n, n)
        Symmetric matrix (``max|H − Hᵀ| ≤ 1e-8·max|H|``).
    x0 : array_like (n,)
        Start point.
    lrs : array_like (L,)
        Learning rates (any finite reals).
    steps : int
        Number of GD steps (``>= 0``).
    method : {"iterate", "eigen"}
        ``"iterate"`` (default) runs the iteration itself: ``(steps + 1)·L`` products ``H x``
        in C++, OpenMP over the rates, ``O(steps·L·n²)``. ``"eigen"`` uses the closed form: one
        ``numpy.linalg.eigh`` of ``(H + Hᵀ)/2`` (LAPACK, ``O(n³)``), then every loss as the sum
        above, each term carried from step to step by one multiplication (C++, OpenMP over the
        rates, ``O(steps·L·n)``): at n = 128, 256 rates and 200 steps it is about 9–13× faster
        than the iteration and than a preallocated in-place NumPy loop (BLAS ``X @ H``), which
        run about as fast as each other on 2 threads.
    num_threads : int, optional
        OpenMP threads; the result does not depend on it (nor, for ``"eigen"``, on the CPU's
        vector width).

    Returns
    -------
    ndarray (L, steps + 1)
        ``f(x_t)`` for ``t = 0..steps``. A trajectory that overflows never crashes: from its
        first non-finite loss on, every loss is ``+inf`` (``-inf`` if the last finite loss was
        negative, which only an indefinite ``H`` allows). The two methods may put the first
        ``inf`` one step apart when a loss is within rounding of the float64 limit.

    Notes
    -----
    **Accuracy.** Measured against the same iteration in 80-bit extended precision on the
    stored ``H``, ``x0`` and rates (n = 16 and 128; spectra uniform, log-spaced over 10⁶,
    clustered to 1e-9, slightly indefinite; rates 0.05–1.95 and 2.02–2.2 over ``λ_max``), the
    largest relative error of any loss was, for ``"iterate"`` / ``"eigen"``: ≤ 6e-15 / ≤ 4e-14
    up to step 10, ≤ 8e-14 / ≤ 4e-13 up to step 50, ≤ 1e-13 / ≤ 7e-13 up to step 200 and
    ≤ 1.2e-12 / ≤ 1.4e-12 up to step 1000 — the same order, but the iteration was closer in
    32 of the 36 comparisons, usually by 1–10× (up to 160×). So the closed form is faster but
    not more accurate, and ``"iterate"`` stays the default; ``"eigen"`` is the choice when speed
    matters more than the last digit or two — above all for large n, long horizons or many
    rates, where its ``O(n)`` work per loss beats the iteration's ``O(n²)``.
    Neither error is bounded in ``t``. The closed form computes exactly the trajectory of a
    matrix within LAPACK's backward error ``~ n·ε·‖H‖`` of ``H``: an eigenvalue off by ``δλ``
    puts a relative error ``~ 2t·α·δλ / |1 − αλ|`` on its term at step ``t``, eigenvectors off
    by ``~ ε‖H‖/gap`` add one that does not grow, and carrying each term by ``t``
    multiplications adds up to ``~ t·ε``. (Refining the eigenvalues by Rayleigh quotients and
    taking the powers in extended precision was tried: it cut the growth, but the eigenvector
    term kept the closed form behind the iteration in most cases up to step 1000, so it was
    not adopted.) The iteration rounds
    afresh at every step, and errors along a decaying direction decay with it. Both methods
    follow the same overflow contract for indefinite ``H`` or rates past ``2/λ_max``.
    ``"eigen"`` drops a term once it falls below ``2⁻⁵⁰⁰ ≈ 3e-151`` of ``½ Σᵢ |λᵢ| cᵢ²`` (this
    keeps the arithmetic out of the slow subnormal range): a loss below that, relative to that
    sum, is returned within an absolute ``n·2⁻⁵⁰⁰`` of it only. ``"eigen"`` diagonalises the
    symmetric part ``(H + Hᵀ)/2`` (the Hessian of ``f``); ``"iterate"`` multiplies by ``H``
    as given, which differs only for an ``H`` asymmetric within the tolerance.
    """
    H = _square(H, "H", ndim=(2,))
    x0 = as_array(x0, "x0", ndim=1)
    if x0.shape[0] != H.shape[0]:
        raise ValueError(f"x0 must have shape ({H.shape[0]},) to match H; got {x0.shape}")
    lrs = as_array(lrs, "lrs", ndim=1)
    steps = check_int("steps", steps, minimum=0)
    method = check_choice("method", method, ("iterate", "eigen"))
    check_alloc("steps", (lrs.size, steps + 1))
    threads = resolve_num_threads(num_threads)
    if method == "iterate":
        return _core.gd_quadratic(H, x0, lrs, steps, threads, SYM_TOL)
    if H.shape[0] == 0:
        raise ValueError("H must not be empty")
    max_asym = _check_symmetric(H, "H")
    w, q = np.linalg.eigh(H if max_asym == 0 else 0.5 * H + 0.5 * H.T)  # no overflow in H + H.T
    return _core.gd_quadratic_eigen(w, q.T @ x0, lrs, steps, threads)


# ---------------------------------------------------------------------------------------------
_GRAIN = 64


def _dense_probes(first: int, count: int, num_threads: int, *, A: np.ndarray, key: int, shift: float) -> np.ndarray:
    return _core.hutchinson_dense(A, key, first, count, num_threads) - shift


def _callable_probes(first: int, count: int, num_threads: int, *, matvec: Any, n: int, key: int) -> np.ndarray:
    z = _core.rademacher(n, key, first, count, num_threads)
    return np.array([z[i] @ matvec(z[i]) for i in range(count)], dtype=np.float64)


def hutchinson_trace(
    A: Any,
    n_samples: int,
    *,
    n: int | None = None,
    rng: RNGLike = None,
    num_threads: int | None = None,
    executor: Any = None,
    progress: bool = False,
    chunk_size: int | None = None,
) -> HutchinsonResult:
    """Hutchinson's stochastic trace estimator with its standard error.

    ``tr(A) ≈ (1/N) Σ_k z_kᵀ A z_k`` with Rademacher probes ``z_k ∈ {±1}ⁿ`` (Hutchinson 1989;
    for a Hessian, the trace PyHessian reports, Yao et al. 2020). The estimator is unbiased;
    with Rademacher probes one term has variance ``2(‖A‖_F² − Σᵢ A_ii²)``, the smallest of any
    i.i.d. probe distribution.

    Parameters
    ----------
    A : array_like (n, n), or callable
        A symmetric matrix, or a matvec callable ``A(v) -> A @ v`` (then ``n`` is required).
    n_samples : int
        Number of probes ``N >= 2``.
    n : int, optional
        Dimension, for a callable.
    rng : None, int, SeedSequence or Generator
        Seed (SPEC 7). Probe ``k`` draws its signs from stream ``k`` of the key.
    num_threads : int, optional
        OpenMP threads per chunk (dense: over probes).
    executor : Executor or map-like callable, optional
        Run chunks of probes there (see ``tunelab._chunks``); a callable ``A`` must then be
        picklable for process pools.
    progress : bool
        Show a progress bar (tqdm).
    chunk_size : int, optional
        Probes per chunk (rounded up to a multiple of 64); default adaptive. The result does not
        depend on it.

    Returns
    -------
    HutchinsonResult
        ``estimate``, ``stderr``, ``n_samples``, ``variance``. Probes are reduced in fixed
        blocks of 64 with Chan et al.'s merge, so the result is bit-identical for any thread
        count, chunking or executor.
    """
    n_samples = check_int("n_samples", n_samples, minimum=2)
    ex = 0  # the dense matrix is solved as 2^-ex A (see _rescaled)
    shift = 0.0  # the moments are accumulated on z'Az - shift (see below)
    if callable(A) and not isinstance(A, np.ndarray):
        if n is None:
            raise TypeError("n must be given when A is a matvec callable")
        n = check_int("n", n, minimum=1)
        check_alloc("n", (_GRAIN, n))
        key = kernel_key(rng)
        task: Any = partial(_callable_probes, matvec=_CheckedMatVec(A, n, "A"), n=n, key=key)
    else:
        arr = _square(A, "A", ndim=(2,))
        if n is not None and check_int("n", n, minimum=1) != arr.shape[0]:
            raise ValueError(f"n must match A's size {arr.shape[0]}; got {n}")
        _check_symmetric(arr, "A")
        key = kernel_key(rng)
        arr, ex = _rescaled(arr)
        # Probes shifted by probe 0's value (the same bits in any chunk): identical probes, as
        # of a diagonal A, then give a variance of exactly 0, not the rounding of their mean
        # (which, scaled back by 4^ex, could overflow although the true variance is 0).
        shift = float(_core.hutchinson_dense(arr, key, 0, 1, 1)[0])
        task = partial(_dense_probes, A=arr, key=key, shift=shift)
    moments = Moments(grain=_GRAIN)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is refused just below
        run_chunks(
            task,
            n_samples,
            lambda first, count, values: moments.add(values),
            grain=_GRAIN,
            chunk_size=chunk_size,
            executor=executor,
            progress=progress,
            desc="hutchinson_trace",
            num_threads=num_threads,
        )
    with np.errstate(over="ignore", invalid="ignore"):
        mean, sem, var = float(moments.mean) + shift, float(moments.sem), float(moments.var)
    if not (math.isfinite(mean) and math.isfinite(sem) and math.isfinite(var)):
        # only a callable's products can get here (a dense A is scaled so that they cannot)
        raise ValueError("A is too large: the probe values z'Az or their variance overflow float64; rescale A")
    with np.errstate(over="ignore"):  # ldexp: exact scaling back, inf only past float64
        estimate, stderr = float(np.ldexp(mean, ex)), float(np.ldexp(sem, ex))
        variance = float(np.ldexp(var, 2 * ex))
    for what, value, scaled, e in (("trace estimate", estimate, mean, ex), ("standard error", stderr, sem, ex),
                                   ("probe variance", variance, var, 2 * ex)):
        if not math.isfinite(value):
            approx = math.log10(abs(scaled)) + e * math.log10(2.0)  # log10 of the true value
            raise ValueError(
                f"A is too large: the {what} of A is about {10 ** (approx % 1):.2f}e+{int(approx // 1)}, beyond "
                f"the float64 range "
                f"(1.8e308); rescale A (e.g. by 2**-k) and scale the result back"
            )
    return HutchinsonResult(estimate=estimate, stderr=stderr, n_samples=n_samples, variance=variance)

