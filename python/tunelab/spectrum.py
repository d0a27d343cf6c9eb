"""Beyond the top eigenvalue: the ``k`` extreme eigenpairs of a Hessian and the density of its
whole spectrum.

``top_eigenvalues`` gives the outliers of a Hessian's spectrum (the few large eigenvalues a
network's loss has, Ghorbani et al. 2019), ``spectral_density`` the bulk, by stochastic Lanczos
quadrature. Both take a dense matrix, or a matvec callable such as
:func:`tunelab.torch.hessian_matvec`; ``top_eigenvalues`` also a stack of matrices.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, LinearOperator, eigsh

from . import _core
from ._random import RNGLike, kernel_key
from ._results import Result, get_axes
from ._threads import resolve_num_threads
from ._validation import as_array, check_alloc, check_choice, check_int, check_real
from .curvature import _check_symmetric, _CheckedMatVec, _square

__all__ = ["EigenpairsResult", "SpectralDensity", "top_eigenvalues", "spectral_density"]

#: ``method="auto"`` solves matrices up to this size with LAPACK (all of the spectrum, exact to
#: rounding, and faster there than any Krylov method); larger ones by Lanczos.
EIGH_MAX_N = 512


@dataclass(frozen=True, repr=False)
class EigenpairsResult(Result):
    """The ``k`` extreme eigenpairs found by :func:`top_eigenvalues`.

    For a stack of ``m`` matrices every field but ``method`` has a leading ``m`` axis.

    Attributes
    ----------
    values : ndarray (k,) or (m, k)
        The eigenvalues, most extreme first: descending for ``which="LA"``, ascending for
        ``"SA"``, by descending magnitude for ``"LM"``.
    vectors : ndarray (n, k) or (m, n, k)
        Unit eigenvectors, one per column (``vectors[:, i]`` belongs to ``values[i]``; signs
        arbitrary).
    residuals : ndarray (k,) or (m, k)
        ``‖A vᵢ − λᵢ vᵢ‖``: for a symmetric ``A`` an eigenvalue lies within it of ``λᵢ``.
    n_iter : int or ndarray (m,)
        Matrix-vector products used (``0`` for ``method="eigh"``, which never forms one).
    method : str
        ``"lanczos"`` or ``"eigh"``: the method that ran.

    ``to_frame()`` has one row per eigenvalue of a single matrix (``rank, value, residual``).
    """

    values: np.ndarray
    vectors: np.ndarray
    residuals: np.ndarray
    n_iter: Any
    method: str

    def _frame_columns(self) -> dict[str, Any]:
        if self.values.ndim == 1:
            return {"rank": np.arange(self.values.size), "value": self.values, "residual": self.residuals}
        m, k = self.values.shape
        return {"matrix": np.repeat(np.arange(m), k), "rank": np.tile(np.arange(k), m),
                "value": self.values.ravel(), "residual": self.residuals.ravel()}  # fmt: skip

    def plot(self, ax: Any = None) -> Any:
        """The eigenvalues against their rank (a stack: one line per matrix)."""
        ax = get_axes(ax)
        values = np.atleast_2d(self.values)
        for i, row in enumerate(values):
            ax.plot(np.arange(1, row.size + 1), row, "o-", ms=4, label=f"matrix {i}" if values.shape[0] > 1 else None)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("rank i")
        ax.set_ylabel("eigenvalue λᵢ")
        ax.set_title(f"top {values.shape[1]} eigenvalues ({self.method})")
        return ax


class MomentEstimate(NamedTuple):
    """A moment of a spectral density with its standard error over the probes."""

    value: float
    stderr: float


@dataclass(frozen=True, repr=False)
class SpectralDensity(Result):
    """The spectral density of a symmetric matrix, from :func:`spectral_density`.

    Attributes
    ----------
    grid : ndarray (G,)
        Eigenvalue axis.
    density : ndarray (G,)
        ``φ(t) = (1/P) Σ_p Σ_j w_pj · N(t; θ_pj, σ²)``: the quadrature nodes of the ``P``
        probes, each a Gaussian of width ``sigma`` (integrates to 1 over a wide enough grid).
    nodes : ndarray (P, m)
        Gauss quadrature nodes (Ritz values) of each probe.
    weights : ndarray (P, m)
        Their weights (each row sums to 1). A probe whose Krylov space was exhausted after
        ``j < m`` steps has ``weights[p, j:] = 0`` (and ``nodes[p, j:]`` repeats its last node).
    sigma : float
        The Gaussian's standard deviation.
    lanczos_steps : ndarray (P,)
        Lanczos steps each probe ran.
    exhausted : ndarray (P,) of bool
        Whether the probe's Krylov space was invariant (its quadrature is then exact for every
        polynomial, not only up to degree ``2·steps − 1``).

    ``to_frame()`` has the columns ``grid, density``.
    """

    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    sigma: float
    lanczos_steps: np.ndarray
    exhausted: np.ndarray

    def _frame_columns(self) -> dict[str, Any]:
        return {"grid": self.grid, "density": self.density}

    def moment(self, k: int) -> MomentEstimate:
        """``(1/n) tr(Aᵏ) = (1/n) Σᵢ λᵢᵏ`` estimated from the quadrature, with its standard error.

        Each probe's ``Σ_j w_j θ_jᵏ`` equals ``zᵀAᵏz/‖z‖²`` exactly (Gauss quadrature is exact
        for polynomials of degree up to ``2·steps − 1``), an unbiased estimate of
        ``tr(Aᵏ)/n`` for Rademacher ``z``; the standard error is the probes' sample standard
        deviation over ``√P``. Degrees beyond ``2·steps − 1`` are refused: the quadrature would
        add a bias the standard error does not cover.
        """
        k = check_int("k", k, minimum=0)
        limit = 2 * self.lanczos_steps - 1
        short = ~self.exhausted & (k > limit)
        if short.any():
            raise ValueError(
                f"k must be <= 2*n_lanczos - 1 = {int(limit[short].min())} for the quadrature to be exact; got {k} "
                f"(run spectral_density with n_lanczos >= {k // 2 + 1})"
            )
        with np.errstate(over="ignore", invalid="ignore"):
            per_probe = (self.weights * self.nodes**k).sum(axis=1)
            value = float(per_probe.mean())
            stderr = float(per_probe.std(ddof=1) / math.sqrt(per_probe.size))
        if not (math.isfinite(value) and math.isfinite(stderr)):
            raise ValueError(f"moment {k} overflows float64 (nodes up to {np.abs(self.nodes).max():.3g})")
        return MomentEstimate(value, stderr)

    def plot(self, ax: Any = None) -> Any:
        """The density on a log scale (down to 1e-6 of its peak), as spectra of Hessians are
        usually shown: a bulk near zero and a few outliers."""
        ax = get_axes(ax)
        ax.semilogy(self.grid, self.density)
        ax.set_ylim(bottom=float(self.density.max()) * 1e-6)
        ax.set_xlabel("eigenvalue λ")
        ax.set_ylabel("density")
        ax.set_title(f"spectral density (SLQ, {self.nodes.shape[0]} probes × {int(self.lanczos_steps.max())} steps, "
                     f"σ = {self.sigma:.2g})")  # fmt: skip
        return ax


# ---------------------------------------------------------------------------------------------
def _rescaled(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(2^-e A, e)`` with ``max|2^-e A|`` in [0.5, 1) for each matrix (``e`` of shape
    ``arr.shape[:-2]``): exact, no product can overflow, and a stack's matrix is scaled as it
    would be alone."""
    big = np.abs(arr).max(axis=(-2, -1))
    e = np.frexp(big)[1]  # 0 for a zero matrix
    return np.ldexp(arr, -e[..., None, None]), e
def _order(values: np.ndarray, which: str) -> np.ndarray:
    """Indices along the last axis, most extreme first."""
    if which == "LA":
        return np.argsort(-values, axis=-1, kind="stable")
    if which == "SA":
        return np.argsort(values, axis=-1, kind="stable")
    return np.argsort(-np.abs(values), axis=-1, kind="stable")


def _select(values: np.ndarray, vectors: np.ndarray, k: int, which: str) -> tuple[np.ndarray, np.ndarray]:
    idx = _order(values, which)[..., :k]
    vals = np.take_along_axis(values, idx, axis=-1)
    vecs = np.take_along_axis(vectors, idx[..., None, :], axis=-1)
    return vals, vecs


def _eigh(arr: np.ndarray, k: int, which: str) -> tuple[np.ndarray, np.ndarray]:
    """LAPACK's whole spectrum (syevd through numpy.linalg.eigh, batched over a stack: each
    matrix gives the bits it would alone), then the wanted end."""
    values, vectors = np.linalg.eigh(arr)
    return _select(values, vectors, k, which)


class _Counter:
    def __init__(self, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        self.fn, self.calls = fn, 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.fn(np.ravel(x))


def _lanczos(matvec: Callable[[np.ndarray], np.ndarray], n: int, k: int, which: str, tol: float,
             max_iter: int | None, v0: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
    """ARPACK's implicitly restarted Lanczos (scipy.sparse.linalg.eigsh) on one operator."""
    counted = _Counter(matvec)
    op = LinearOperator((n, n), matvec=counted, dtype=np.float64)
    try:
        values, vectors = eigsh(op, k=k, which=which, tol=tol, maxiter=max_iter, v0=v0)
    except ArpackNoConvergence as exc:
        raise ValueError(
            f"top_eigenvalues did not converge for {where}: {len(exc.eigenvalues)} of {k} eigenvalues within "
            f"max_iter={max_iter} restarts at tol={tol}; raise max_iter or tol"
        ) from None
    except ArpackError as exc:  # e.g. -9: A maps the start vector to 0 (a zero operator)
        raise ValueError(f"Lanczos (ARPACK) could not run on {where}: {exc} (is {where} the zero operator?)") from None
    values, vectors = _select(values, vectors, k, which)
    return values, vectors, counted.calls


def top_eigenvalues(
    A: Any,
    k: int,
    *,
    n: int | None = None,
    which: str = "LA",
    method: str = "auto",
    tol: float = 1e-8,
    max_iter: int | None = None,
    rng: RNGLike = None,
    num_threads: int | None = None,
) -> EigenpairsResult:
    """The ``k`` extreme eigenvalues and eigenvectors of a symmetric matrix, a stack of them, or
    a matvec callable (such as a network's Hessian-vector product).

    Parameters
    ----------
    A : array_like (n, n) or (m, n, n), or callable
        A symmetric matrix (``max|A − Aᵀ| ≤ 1e-8·max|A|``, used in float64), a stack of ``m``
        of them (one result each), or a callable ``A(v) -> A @ v`` on float64 arrays of shape
        ``(n,)`` returning any array-like of that shape.
    k : int
        How many eigenpairs: ``1 <= k <= n`` (``k < n`` for a callable, which only Lanczos
        can solve).
    n : int, optional
        The dimension; required when ``A`` is a callable (must match ``A`` otherwise).
    which : {"LA", "SA", "LM"}
        Largest algebraic (the outliers that bound the learning rate), smallest algebraic (the
        most negative curvature) or largest magnitude: scipy.sparse.linalg.eigsh's names.
    method : {"auto", "lanczos", "eigh"}
        ``"lanczos"``: implicitly restarted Lanczos (Sorensen 1992; ARPACK through
        ``scipy.sparse.linalg.eigsh``) from matvecs alone, what a Hessian needs. ``"eigh"``:
        LAPACK on the dense matrix (the whole spectrum by ``syevd``, batched over a stack):
        exact to rounding, in ``O(n³)``. ``"auto"`` (default)
        takes ``"eigh"`` for matrices with ``n <= 512`` or ``2k > n`` and ``"lanczos"``
        otherwise and for callables.
    tol : float
        Lanczos' stopping test, ARPACK's: each Ritz pair's residual ``‖Av − θv‖ <= tol·|θ|``
        (``tol > 0``; the eigenvalue error is then at most the residual, and about
        ``residual²/gap`` once it is isolated). Unused by ``"eigh"``.
    max_iter : int, optional
        Lanczos restarts (ARPACK's ``maxiter``; default ``10·n``). A solve that does not
        converge raises a ``ValueError`` naming how many eigenvalues did.
    rng : None, int, SeedSequence or Generator
        Seeds Lanczos' start vector (SPEC 7); it depends only on the key and ``n``, so matrix
        ``i`` of a stack gives the result of ``A[i]`` alone.
    num_threads : int, optional
        Threads for a stack's Lanczos solves (one matrix per thread; LAPACK's threads are its
        own). The result does not depend on it.

    Returns
    -------
    EigenpairsResult
        ``values, vectors, residuals, n_iter, method``.

    Notes
    -----
    With ``k = 1`` this is :func:`tunelab.top_eigenvalue`'s Lanczos (which keeps the whole
    Krylov basis and reuses it for nothing else); for ``k > 1`` restarts keep the memory at
    ``ncv = max(2k + 1, 20)`` vectors of length ``n`` whatever the number of steps, and the
    ``k`` Ritz values converge together. The residuals are recomputed from ``A`` itself (for a
    callable with ``k`` more matvecs, counted in ``n_iter``). A dense matrix is solved as
    ``2^-e A`` (exact scaling; no product can overflow) and its eigenvalues scaled back.
    """
    which = check_choice("which", which, ("LA", "SA", "LM"))
    method = check_choice("method", method, ("auto", "lanczos", "eigh"))
    tol = check_real("tol", tol, minimum=0.0, strict_min=True)
    if max_iter is not None:
        max_iter = check_int("max_iter", max_iter, minimum=1)
    threads = resolve_num_threads(num_threads)
    if callable(A) and not isinstance(A, np.ndarray):
        if n is None:
            raise TypeError("n must be given when A is a matvec callable")
        n = check_int("n", n, minimum=1)
        k = check_int("k", k, minimum=1)
        if k >= n:
            raise ValueError(f"k must be < n = {n} for a callable A (Lanczos finds at most n - 1 eigenpairs); got {k}")
        if method == "eigh":
            raise ValueError("method='eigh' needs a dense matrix; a callable A is solved by method='lanczos'")
        check_alloc("n", (max(2 * k + 1, 20), n))
        matvec = _CheckedMatVec(A, n, "A")
        v0 = _core.standard_normal(n, kernel_key(rng), 0, 0, 1)
        values, vectors, calls = _lanczos(matvec, n, k, which, tol, max_iter, v0, "A")
        products = np.stack([matvec(vectors[:, i]) for i in range(k)], axis=1)
        residuals = np.linalg.norm(products - vectors * values, axis=0)
        _check_values(values, "A")
        return EigenpairsResult(values, vectors, residuals, calls + k, "lanczos")
    arr = _square(A, "A")
    size = arr.shape[-1]
    if n is not None and check_int("n", n, minimum=1) != size:
        raise ValueError(f"n must match A's size {size}; got {n}")
    k = check_int("k", k, minimum=1, maximum=size)
    if method == "lanczos" and k >= size:
        raise ValueError(f"k must be < n = {size} for method='lanczos'; got {k} (method='eigh' gives all n)")
    _check_symmetric(arr, "A")
    if method == "auto":
        method = "eigh" if size <= EIGH_MAX_N or 2 * k > size else "lanczos"
    key = kernel_key(rng)
    scaled, e = _rescaled(arr)
    if method == "eigh":
        values, vectors = _eigh(scaled, k, which)
        n_iter: Any = 0 if arr.ndim == 2 else np.zeros(arr.shape[0], dtype=np.int64)
    else:
        v0 = _core.standard_normal(size, key, 0, 0, 1)
        mats = scaled.reshape(-1, size, size)
        where = ["A"] if arr.ndim == 2 else [f"A[{i}]" for i in range(mats.shape[0])]

        def solve(i: int) -> tuple[np.ndarray, np.ndarray, int]:
            if not mats[i].any():  # the zero matrix: every vector is an eigenvector of 0 (ARPACK cannot start)
                values, vectors = _eigh(mats[i], k, which)
                return values, vectors, 0
            return _lanczos(mats[i].dot, size, k, which, tol, max_iter, v0, where[i])

        if threads > 1 and mats.shape[0] > 1:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                parts = list(pool.map(solve, range(mats.shape[0])))
        else:
            parts = [solve(i) for i in range(mats.shape[0])]
        values = np.stack([p[0] for p in parts]).reshape(*arr.shape[:-2], k)
        vectors = np.stack([p[1] for p in parts]).reshape(*arr.shape[:-1], k)
        n_iter = parts[0][2] if arr.ndim == 2 else np.array([p[2] for p in parts], dtype=np.int64)
    residuals = np.linalg.norm(scaled @ vectors - vectors * values[..., None, :], axis=-2)
    with np.errstate(over="ignore"):
        values, residuals = np.ldexp(values, e[..., None]), np.ldexp(residuals, e[..., None])
    _check_values(values, "A")
    return EigenpairsResult(values, vectors, residuals, n_iter, method)


def _check_values(values: np.ndarray, name: str) -> None:
    if not np.isfinite(values).all():
        raise ValueError(
            f"the eigenvalues of {name} are beyond the float64 range (|lambda| > {np.finfo(np.float64).max:.4g}); "
            f"rescale {name} (e.g. by 2**-k) and scale the eigenvalues back"
        )


# ---------------------------------------------------------------------------------------------
def _slq_lanczos(products: Callable[[np.ndarray], np.ndarray], q: np.ndarray,
                 steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Lanczos with full reorthogonalisation from each column of ``q`` (unit vectors), all probes
    advancing together. Returns ``alpha (P, m)``, ``beta (P, m)`` (``beta[:, j]`` couples steps
    ``j`` and ``j + 1``), the steps each probe ran and whether its Krylov space was exhausted."""
    n, P = q.shape
    basis = np.empty((steps, n, P))
    alpha, beta = np.zeros((P, steps)), np.zeros((P, steps))
    length = np.full(P, steps)
    exhausted = np.zeros(P, dtype=bool)
    active = np.ones(P, dtype=bool)
    scale = np.zeros(P)  # a running estimate of ‖A‖ per probe (max |α| + β)
    for j in range(steps):
        basis[j] = q
        w = np.zeros((n, P))
        w[:, active] = products(q[:, active])
        a = np.einsum("ip,ip->p", q, w)
        alpha[:, j] = np.where(active, a, 0.0)
        w -= a * q
        if j:
            w -= beta[:, j - 1] * basis[j - 1]
        for _ in range(2):  # full reorthogonalisation, twice ("twice is enough", Parlett 1980)
            coef = np.einsum("jip,ip->jp", basis[: j + 1], w)
            w -= np.einsum("jip,jp->ip", basis[: j + 1], coef)
        b = np.linalg.norm(w, axis=0)
        scale = np.maximum(scale, np.abs(a) + b)
        if j == steps - 1:
            break
        # An invariant Krylov space: the residual is rounding (full reorthogonalisation keeps
        # it at a few ε·‖A‖·√n); the quadrature is then exact and the probe stops.
        done = active & (b <= 10.0 * math.sqrt(n) * np.finfo(np.float64).eps * scale)
        length[done] = j + 1
        exhausted |= done
        active &= ~done
        if not active.any():
            break
        beta[:, j] = np.where(active, b, 0.0)
        q = np.where(active, w / np.where(active, b, 1.0), 0.0)
    exhausted |= length == n  # n steps span the whole space
    return alpha, beta, length, exhausted


def spectral_density(
    A: Any,
    *,
    n: int | None = None,
    n_probes: int = 10,
    n_lanczos: int = 80,
    grid: Any = None,
    sigma: float | None = None,
    rng: RNGLike = None,
) -> SpectralDensity:
    """The eigenvalue density of a symmetric matrix or a matvec callable by stochastic Lanczos
    quadrature.

    For each of ``P`` Rademacher probes ``z``, ``m`` Lanczos steps from ``z/‖z‖`` give a
    tridiagonal ``T``; its eigenvalues ``θ_j`` and the squared first components ``w_j`` of its
    eigenvectors are the nodes and weights of the Gauss quadrature of the measure
    ``Σᵢ (zᵀuᵢ)²/n · δ(λ − λᵢ)``, whose expectation over ``z`` is the spectral density
    ``(1/n) Σᵢ δ(λ − λᵢ)`` (Lin, Saad & Yang 2016; for Hessians, Ghorbani, Krishnan & Xiao
    2019, and PyHessian, Yao et al. 2020). The nodes, each widened to a Gaussian, give a smooth
    density; :meth:`SpectralDensity.moment` gives ``tr(Aᵏ)/n`` with its standard error.

    Parameters
    ----------
    A : array_like (n, n), or callable
        A symmetric matrix, or a matvec callable ``A(v) -> A @ v`` (then ``n`` is required).
    n : int, optional
        The dimension, for a callable.
    n_probes : int
        Probes ``P >= 2`` (the moments' standard errors come from their spread).
    n_lanczos : int
        Lanczos steps per probe ``m >= 1`` (capped at ``n``; a probe stops early when its
        Krylov space is invariant). Costs ``P·m`` matvecs and ``8·m·n·P`` bytes of basis;
        reorthogonalisation ``O(m²·n·P)``.
    grid : array_like (G,), optional
        Where to evaluate the density; default 1,000 points from ``min θ − 5σ`` to
        ``max θ + 5σ``.
    sigma : float, optional
        The Gaussian's width; default 1% of the range of the nodes (``max θ − min θ``; 1 if
        that is 0).
    rng : None, int, SeedSequence or Generator
        Seeds the probes (SPEC 7): probe ``p`` draws its signs from stream ``p`` of the key.

    Returns
    -------
    SpectralDensity
        ``grid, density, nodes, weights, sigma, lanczos_steps, exhausted``.

    Notes
    -----
    Lanczos runs with full reorthogonalisation (twice per step), so the nodes are Ritz values
    of an orthonormal basis: no ghost copies of converged eigenvalues. A dense matrix is run on
    all probes at once (one matrix-matrix product per step) and solved as ``2^-e A``; a callable
    once per probe and step. The width ``sigma`` smooths: the density resolves eigenvalues no
    finer than it; the quadrature itself resolves the outliers exactly after a few steps and
    the bulk in ``m`` nodes.
    """
    n_probes = check_int("n_probes", n_probes, minimum=2)
    n_lanczos = check_int("n_lanczos", n_lanczos, minimum=1)
    if sigma is not None:
        sigma = check_real("sigma", sigma, minimum=0.0, strict_min=True)
    grid_arr = None if grid is None else as_array(grid, "grid", ndim=1)
    e = 0
    products: Callable[[np.ndarray], np.ndarray]
    if callable(A) and not isinstance(A, np.ndarray):
        if n is None:
            raise TypeError("n must be given when A is a matvec callable")
        n = check_int("n", n, minimum=1)
        matvec = _CheckedMatVec(A, n, "A")

        def products(q: np.ndarray) -> np.ndarray:
            return np.stack([matvec(np.ascontiguousarray(q[:, p])) for p in range(q.shape[1])], axis=1)
    else:
        arr = _square(A, "A", ndim=(2,))
        if n is not None and check_int("n", n, minimum=1) != arr.shape[0]:
            raise ValueError(f"n must match A's size {arr.shape[0]}; got {n}")
        _check_symmetric(arr, "A")
        n = arr.shape[0]
        arr, exponent = _rescaled(arr)
        e = int(exponent)
        products = partial(np.dot, arr)
    steps = min(n_lanczos, n)
    check_alloc("n_lanczos", (steps, n, n_probes))
    probes = _core.rademacher(n, kernel_key(rng), 0, n_probes, 1).T / math.sqrt(n)
    alpha, beta, length, exhausted = _slq_lanczos(products, np.ascontiguousarray(probes), steps)
    nodes, weights = np.empty((n_probes, steps)), np.zeros((n_probes, steps))
    for p in range(n_probes):
        L = int(length[p])
        theta, y = scipy.linalg.eigh_tridiagonal(alpha[p, :L], beta[p, : L - 1])
        nodes[p, :L], nodes[p, L:] = theta, theta[-1]
        weights[p, :L] = y[0] ** 2
    with np.errstate(over="ignore"):
        nodes = np.ldexp(nodes, e)
    if not np.isfinite(nodes).all():
        raise ValueError("A's eigenvalues are beyond the float64 range; rescale A (e.g. by 2**-k)")
    if sigma is None:
        spread = float(nodes.max() - nodes.min())
        sigma = 0.01 * spread if spread > 0 else 1.0
    if grid_arr is None:
        lo, hi = float(nodes.min()) - 5 * sigma, float(nodes.max()) + 5 * sigma
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"sigma = {sigma:.3g} is too large: the default grid (nodes ± 5 sigma) overflows float64")
        grid_arr = np.linspace(lo, hi, 1000)
    check_alloc("grid", (grid_arr.size, n_probes * steps))
    with np.errstate(over="ignore", invalid="ignore"):  # a far-away point only contributes 0
        z = (grid_arr[:, None] - nodes.ravel()[None, :]) / sigma
        kernel = np.exp(-0.5 * np.minimum(z * z, 1e4))
        density = kernel @ weights.ravel() / (n_probes * sigma * math.sqrt(2 * math.pi))
    if not np.isfinite(density).all():
        raise ValueError(f"sigma = {sigma:.3g} is too small: the density's peaks 1/(sigma*sqrt(2*pi)) overflow float64")
    return SpectralDensity(grid_arr, density, nodes, weights, float(sigma), length, exhausted)
