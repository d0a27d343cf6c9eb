"""Curvature: top_eigenvalue (power, Lanczos; dense, stack, callable), stability_bound,
gd_quadratic, hutchinson_trace — against numpy.linalg.eigvalsh, tunelab.reference, closed forms."""

from __future__ import annotations

import concurrent.futures as cf
from functools import partial

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tunelab
from tunelab import reference as ref
from tunelab._random import kernel_key

from ._simd import same_at_every_simd_width


def sym_with_spectrum(eigs, seed):
    """Q diag(eigs) Q' with a random orthogonal Q (exactly symmetrised)."""
    n = len(eigs)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    a = (q * np.asarray(eigs)) @ q.T
    return (a + a.T) / 2


@st.composite
def gapped(draw, *, indefinite=None, min_n=2, max_n=12, floor=0.0):
    """A symmetric matrix whose top algebraic eigenvalue is separated from the rest by at least
    10% of the spectral norm (and is at least 10% of it in magnitude); optionally indefinite
    with the largest magnitude on the negative side."""
    n = draw(st.integers(min_n, max_n))
    scale = 10.0 ** draw(st.integers(-3, 3))
    neg = draw(st.booleans()) if indefinite is None else indefinite
    top = 1.0
    lo = -draw(st.floats(1.2, 4.0)) if neg else floor
    rest = draw(st.lists(st.floats(lo, 0.9), min_size=n - 1, max_size=n - 1))
    if neg:
        rest[0] = lo
    eigs = np.array([top, *rest]) * scale
    a = sym_with_spectrum(eigs, draw(st.integers(0, 2**32 - 1)))
    return a


# ---------------------------------------------------------------------------------------------
@given(a=gapped(), method=st.sampled_from(["power", "lanczos"]), dtype=st.sampled_from([np.float64, np.float32]),
       layout=st.sampled_from(["C", "F", "strided"]), seed=st.integers(0, 2**32 - 1))
def test_top_eigenvalue_matches_eigvalsh(a, method, dtype, layout, seed):
    """λ_max to 1e-8 relative: with tol=1e-8 the residual r <= 1e-8 ||A|| and the Rayleigh quotient
    error is <= r^2/gap with gap >= 0.1 ||A|| and |λ_max| >= 0.1 ||A|| (eigvalsh itself is
    accurate to ~n eps ||A||)."""
    a = a.astype(dtype)
    if layout == "F":
        a = np.asfortranarray(a)
    elif layout == "strided":
        big = np.zeros((2 * a.shape[0], 2 * a.shape[1]), dtype=dtype)
        big[::2, ::2] = a
        a = big[::2, ::2]
    expected = np.linalg.eigvalsh(a.astype(np.float64))[-1]
    res = tunelab.top_eigenvalue(a, method=method, rng=seed)
    assert res.converged
    np.testing.assert_allclose(res.value, expected, rtol=1e-8)
    v = res.vector
    np.testing.assert_allclose(np.linalg.norm(v), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(a.astype(np.float64) @ v - res.value * v), res.residual,
                               rtol=1e-6, atol=1e-13 * np.abs(a).max())


def _assert_rayleigh_within_kato_temple(a, res, end, tol, norm_factor=1.0):
    """Accuracy of ``res.value`` (the Rayleigh quotient ``θ`` of ``res.vector``), aimed at the
    eigenvalue ``λ`` at one ``end`` of the spectrum (-1: top, 0: bottom), from its residual
    ``r = ||A v - θ v||`` and the eigen-gap, for a symmetric ``A``:

    * always, some eigenvalue lies within ``r`` of ``θ`` (Parlett, *The Symmetric Eigenvalue
      Problem*, Thm 4.5.1);
    * ``converged`` means ``r <= tol ||A||`` (``2 tol ||A||`` for power iteration's shifted run,
      ``norm_factor=2``: its norm estimate is that of ``A + νI``);
    * converged, with ``λ`` resolved at that residual (``gap > 2 r``, ``gap`` the distance to
      the nearest other eigenvalue), Kato-Temple gives ``s (gap - s) <= r²`` with
      ``s = |θ - λ| < gap`` (Thm 10.6.1), i.e. ``s <= r² / (gap - s)``: the error follows from
      ``tol`` and the gap, ``<= (norm_factor tol ||A||)² / (gap - s)``. Unconverged
      (``max_iter`` reached: a small gap slows power iteration like ``(λ₂/λ₁)^k``), only the
      first bound is promised.

    Rounding: ``r``, ``θ`` and ``eigvalsh`` are each exact to about ``n eps ||A||`` (``slack``);
    eigenvalues within ``slack`` of ``λ`` are one (repeated) eigenvalue, and ``s (gap - s)``
    moves by at most ``2 gap slack`` when ``s`` and ``gap`` move by ``slack`` (equality in
    Kato-Temple holds for a mix of two eigenvectors, so this slack is needed)."""
    n = a.shape[0]
    lam = np.linalg.eigvalsh(a)
    norm = float(np.abs(lam).max())
    slack = 8 * n * np.finfo(float).eps * norm
    v = res.vector
    r = float(np.linalg.norm(a @ v - res.value * v))
    assert r == pytest.approx(res.residual, rel=1e-6, abs=slack)  # the reported residual is the true one
    assert np.abs(lam - res.value).min() <= r + slack
    if not res.converged:
        return
    assert r <= norm_factor * tol * norm + slack  # the solver's stopping rule
    target = lam[end]
    others = np.abs(lam - target)
    gap = float(others[others > slack].min()) if (others > slack).any() else np.inf
    if gap <= 2 * (r + slack):
        return  # λ not resolved from its neighbour at this residual
    s = abs(res.value - target)
    assert s - slack < gap, f"θ = {res.value!r} is nearer another eigenvalue than λ = {target!r}"
    assert s * (gap - s) <= (r + slack) ** 2 + 2 * gap * slack, (s, r, gap)


@given(a=gapped(indefinite=True), method=st.sampled_from(["power", "lanczos"]), seed=st.integers(0, 100))
def test_indefinite_algebraic_vs_magnitude(a, method, seed):
    """On indefinite matrices whose dominant eigenvalue is negative, which='LA' still returns the
    top algebraic eigenvalue (power: by the documented shift) and which='LM' the dominant one,
    each within the bounds that the solver's residual (``<= tol ||A||`` when converged,
    tol = 1e-8) and the eigen-gap imply (Kato-Temple, see the helper). The strategy guarantees
    the LA gap (>= 10% of ||A||), so a converged LA is accurate to ``4e-16 ||A|| / 0.1``; the LM
    gap ``λ₂ - λ₁`` can be arbitrarily small, and a fixed rtol fails there (1000 power steps
    at ``λ₂/λ₁ = 0.995`` stop unconverged with a relative error of 6e-8)."""
    la = tunelab.top_eigenvalue(a, method=method, which="LA", rng=seed)
    lm = tunelab.top_eigenvalue(a, method=method, which="LM", rng=seed)
    shifted = 2.0 if method == "power" else 1.0  # λ_max < 0 < |λ_min|: LA power runs on A + νI
    _assert_rayleigh_within_kato_temple(a, la, -1, tol=1e-8, norm_factor=shifted)
    _assert_rayleigh_within_kato_temple(a, lm, 0, tol=1e-8)
    if method == "power":
        assert la.n_iter > lm.n_iter  # the shifted second run happened and is counted


def test_plus_minus_pair_and_zero_matrix():
    """±μ pair (power iteration alone never converges): the shift still gives λ_max; the zero
    matrix gives 0 at once."""
    a = sym_with_spectrum([3.0, -3.0, 1.0, 0.5], seed=1)
    for method in ("power", "lanczos"):
        res = tunelab.top_eigenvalue(a, method=method, rng=0, max_iter=300)
        assert res.converged
        np.testing.assert_allclose(res.value, 3.0, rtol=1e-8)
    z = tunelab.top_eigenvalue(np.zeros((4, 4)), method="power", rng=0)
    assert z.value == 0.0 and z.converged and z.n_iter == 1
    z = tunelab.top_eigenvalue(np.zeros((4, 4)), rng=0)  # Lanczos: one step, then the residual's product
    assert z.value == 0.0 and z.converged and z.n_iter == 2


@given(a=gapped(max_n=8), method=st.sampled_from(["power", "lanczos"]), which=st.sampled_from(["LA", "LM"]),
       seed=st.integers(0, 2**32 - 1))
def test_matches_reference(a, method, which, seed):
    """Same start vector and stopping rule as tunelab.reference: values agree to 1e-12 relative
    (both converge to tol=1e-12; rounding differs only in the matvec's order of additions) and the
    vectors span the same line."""
    got = tunelab.top_eigenvalue(a, method=method, which=which, tol=1e-12, rng=seed)
    exp = ref.top_eigenvalue(a, method=method, which=which, tol=1e-12, key=kernel_key(seed))
    np.testing.assert_allclose(got.value, exp.value, rtol=1e-12, atol=1e-14 * np.abs(a).max())
    assert abs(got.vector @ exp.vector) > 1 - 1e-8
    assert abs(got.n_iter - exp.n_iter) <= 2


@pytest.mark.parametrize("method", ["power", "lanczos"])
@pytest.mark.parametrize("reorth", ["full", "selective"])
def test_stack_equals_per_matrix_bitwise(method, reorth):
    """Matrix i of a stack gives bit for bit the result of A[i] alone (same start vector, same
    arithmetic), for 1 and 2 threads."""
    rng = np.random.default_rng(3)
    stack = np.stack([sym_with_spectrum(rng.uniform(-2, 1, 9), seed=i) for i in range(7)])
    res1 = tunelab.top_eigenvalue(stack, method=method, reorth=reorth, rng=5, num_threads=1)
    res2 = tunelab.top_eigenvalue(stack, method=method, reorth=reorth, rng=5, num_threads=2)
    for f in ("value", "vector", "n_iter", "converged", "residual"):
        np.testing.assert_array_equal(getattr(res1, f), getattr(res2, f))
    assert res1.value.shape == (7,) and res1.vector.shape == (7, 9) and res1.converged.dtype == bool
    for i in range(7):
        one = tunelab.top_eigenvalue(stack[i], method=method, reorth=reorth, rng=5)
        assert one.value == res1.value[i] and one.n_iter == res1.n_iter[i]
        np.testing.assert_array_equal(one.vector, res1.vector[i])
    np.testing.assert_allclose(res1.value, np.linalg.eigvalsh(stack)[:, -1], rtol=1e-8)


@pytest.mark.parametrize("method", ["power", "lanczos"])
def test_dense_threads_and_parallel_path_bitwise(method):
    """n = 300 uses the OpenMP row-block matvec: identical bits for 1, 2, 3 threads, and equal to
    the same matrix solved inside a stack (serial matvec)."""
    rng = np.random.default_rng(0)
    a = sym_with_spectrum(np.r_[2.0, rng.uniform(-1, 1.6, 299)], seed=4)
    runs = [tunelab.top_eigenvalue(a, method=method, rng=1, num_threads=t) for t in (1, 2, 3)]
    for r in runs[1:]:
        assert r.value == runs[0].value
        np.testing.assert_array_equal(r.vector, runs[0].vector)
    st_ = tunelab.top_eigenvalue(a[None], method=method, rng=1)
    np.testing.assert_array_equal(st_.vector[0], runs[0].vector)
    np.testing.assert_allclose(runs[0].value, 2.0, rtol=1e-8)


def test_lanczos_needs_fewer_matvecs_and_selective_agrees():
    """λ₂/λ₁ = 0.9: Lanczos reaches the same tolerance with several times fewer matvecs than power
    iteration; selective and full reorthogonalisation agree."""
    rng = np.random.default_rng(1)
    a = sym_with_spectrum(np.r_[1.0, 0.9, rng.uniform(0, 0.9, 198)], seed=2)
    p = tunelab.top_eigenvalue(a, method="power", tol=1e-10, rng=0)
    f = tunelab.top_eigenvalue(a, method="lanczos", tol=1e-10, rng=0)
    s = tunelab.top_eigenvalue(a, method="lanczos", reorth="selective", tol=1e-10, rng=0)
    assert p.converged and f.converged and s.converged
    assert p.n_iter >= 5 * f.n_iter
    for r in (p, f, s):
        np.testing.assert_allclose(r.value, 1.0, rtol=1e-12)
    assert s.n_iter <= f.n_iter + 3


def test_selective_reorth_keeps_ghosts_away():
    """A long Lanczos run (tol far below sqrt(eps)) on a spectrum with a tiny gap: without
    reorthogonalisation copies ("ghosts") of λ_max would appear; both variants return the true
    top eigenvalue and a residual near machine precision."""
    eigs = np.r_[1.0, 1.0 - 1e-3, np.linspace(-1, 0.99, 298)]
    a = sym_with_spectrum(eigs, seed=5)
    for reorth in ("full", "selective"):
        r = tunelab.top_eigenvalue(a, method="lanczos", reorth=reorth, tol=1e-13, rng=2)
        assert r.converged
        np.testing.assert_allclose(r.value, 1.0, rtol=1e-12)
        assert r.residual < 1e-10


class _Op:
    """A matvec object that returns a list (any array-like works)."""

    def __init__(self, a):
        self.a = a

    def __call__(self, v):
        return list(self.a @ v)


@pytest.mark.parametrize("method", ["power", "lanczos"])
def test_callable_path_accepts_any_matvec(method):
    """Lists, (n, 1) columns, scipy LinearOperators and partials all work; the result equals the
    dense one to rounding (tol=1e-12)."""
    spla = pytest.importorskip("scipy.sparse.linalg")
    a = sym_with_spectrum([4.0, 1.0, -2.0, 0.5, 3.0], seed=9)
    dense = tunelab.top_eigenvalue(a, method=method, tol=1e-12, rng=0)
    matvecs = [
        lambda v: a @ v,
        _Op(a),
        lambda v: (a @ v)[:, None],
        spla.aslinearoperator(a).matvec,
        partial(np.dot, a),
    ]
    for mv in matvecs:
        r = tunelab.top_eigenvalue(mv, n=5, method=method, tol=1e-12, rng=0)
        assert r.converged
        np.testing.assert_allclose(r.value, dense.value, rtol=1e-12)
        np.testing.assert_allclose(r.value, 4.0, rtol=1e-12)
    assert isinstance(r.value, float) and isinstance(r.n_iter, int) and isinstance(r.converged, bool)


# ---------------------------------------------------------------------------------------------
def _bad_shape(v):
    return np.ones(v.shape[0] + 1)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(A=np.ones((3, 4))), ValueError, "A"),
        (dict(A=np.ones((2, 3, 4))), ValueError, "A"),
        (dict(A=np.array([[1.0, 2.0], [0.0, 1.0]])), ValueError, "A must be symmetric"),
        (dict(A=np.array([[np.nan, 0.0], [0.0, 1.0]])), ValueError, "A must contain only finite"),
        (dict(A=np.array([[np.inf, 0.0], [0.0, 1.0]])), ValueError, "A must contain only finite"),
        (dict(A=np.zeros((0, 0))), ValueError, "A must not be empty"),
        (dict(A=np.zeros((0, 3, 3))), ValueError, "A must not be empty"),
        (dict(A=np.ones(3)), ValueError, "A must be 2-dimensional or 3-dimensional"),
        (dict(A=np.ones((1, 1, 2, 2))), ValueError, "A must be"),
        (dict(A=np.eye(3), tol=0.0), ValueError, "tol"),
        (dict(A=np.eye(3), tol=-1e-3), ValueError, "tol"),
        (dict(A=np.eye(3), tol=np.nan), ValueError, "tol"),
        (dict(A=np.eye(3), max_iter=0), ValueError, "max_iter"),
        (dict(A=np.eye(3), max_iter=2.5), TypeError, "max_iter"),
        (dict(A=np.eye(3), method="qr"), ValueError, "method"),
        (dict(A=np.eye(3), which="SA"), ValueError, "which"),
        (dict(A=np.eye(3), reorth="none"), ValueError, "reorth"),
        (dict(A=np.eye(3), n=4), ValueError, "n must match"),
        (dict(A=np.eye(3), num_threads=0), ValueError, "num_threads"),
        (dict(A=np.eye(3), rng="seed"), TypeError, "rng"),
        (dict(A=[["a", "b"], ["c", "d"]]), TypeError, "A"),
        (dict(A=lambda v: v), TypeError, "n must be given"),
        (dict(A=lambda v: v, n=0), ValueError, "n"),
        (dict(A=_bad_shape, n=3), ValueError, r"A \(the matvec callable\) must return shape \(3,\)"),
        (dict(A=lambda v: np.full(3, np.nan), n=3), ValueError, "A .*non-finite"),
        (dict(A=lambda v: "abc", n=3), TypeError, "A .*array-like"),
        (dict(A=lambda v: np.eye(3), n=3), ValueError, r"A \(the matvec callable\)"),
    ],
)
def test_top_eigenvalue_refusals(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        tunelab.top_eigenvalue(**kwargs)


def test_stack_refusal_names_the_matrix():
    stack = np.stack([np.eye(3), np.triu(np.ones((3, 3)))])
    with pytest.raises(ValueError, match=r"A\[1\] must be symmetric"):
        tunelab.top_eigenvalue(stack)


def test_callable_exception_propagates():
    def boom(v):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        tunelab.top_eigenvalue(boom, n=3, method="lanczos")


# ---------------------------------------------------------------------------------------------
def test_stability_bound():
    a = sym_with_spectrum([4.0, 1.0, 0.5], seed=0)
    np.testing.assert_allclose(tunelab.stability_bound(a, rng=0), 0.5, rtol=1e-8)
    np.testing.assert_allclose(tunelab.stability_bound(a, rng=0), ref.stability_bound(a), rtol=1e-8)
    stack = np.stack([a, 2 * a])
    np.testing.assert_allclose(tunelab.stability_bound(stack, rng=0), [0.5, 0.25], rtol=1e-8)
    np.testing.assert_allclose(tunelab.stability_bound(lambda v: a @ v, n=3, method="lanczos"), 0.5, rtol=1e-8)
    with pytest.raises(ValueError, match="positive top eigenvalue"):
        tunelab.stability_bound(-np.eye(3))
    with pytest.raises(ValueError, match="positive top eigenvalue"):
        tunelab.stability_bound(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="max_iter"):
        tunelab.stability_bound(sym_with_spectrum([1.0, 0.999, 0.1], seed=1), method="power", max_iter=3)
    with pytest.raises(TypeError, match="which"):
        tunelab.stability_bound(a, which="LM")


# ---------------------------------------------------------------------------------------------
@settings(max_examples=30)
@given(a=gapped(min_n=129, max_n=300), method=st.sampled_from(["power", "lanczos"]), seed=st.integers(0, 2**32 - 1))
def test_dense_upper_triangle_solve(a, method, seed):
    """n > 128 multiplies by the upper triangle alone (blocks of 128 rows, so n = 129..300 has 2
    or 3 blocks and rows left over from groups of 4). Against the NumPy reference (full-matrix
    matvec, same start and stopping rule) to 1e-12 relative, as test_matches_reference; the
    strict lower triangle, shrunk by 1e-10 relative (inside the symmetry tolerance, and leaving
    max|A| as it is), changes no bit; nor do 2 threads."""
    got = tunelab.top_eigenvalue(a, method=method, tol=1e-12, rng=seed, num_threads=1)
    exp = ref.top_eigenvalue(a, method=method, tol=1e-12, key=kernel_key(seed))
    np.testing.assert_allclose(got.value, exp.value, rtol=1e-12, atol=1e-14 * np.abs(a).max())
    assert abs(got.vector @ exp.vector) > 1 - 1e-8
    b = a.copy()
    lower = np.tril_indices(a.shape[0], -1)
    b[lower] *= 1 - 1e-10
    assert np.abs(b).max() == np.abs(a).max()
    for other in (tunelab.top_eigenvalue(b, method=method, tol=1e-12, rng=seed, num_threads=1),
                  tunelab.top_eigenvalue(a, method=method, tol=1e-12, rng=seed, num_threads=2)):
        assert other.value == got.value
        np.testing.assert_array_equal(other.vector, got.vector)


@given(a=gapped(max_n=8), seed=st.integers(0, 1000), steps=st.integers(0, 40))
def test_gd_quadratic_matches_reference(a, seed, steps):
    """Same recursion as the batched NumPy reference; the order of additions in H x differs, so
    rtol 1e-9 over <= 40 steps (errors grow like steps * cond * eps), with atol scaled by loss0."""
    x0 = np.random.default_rng(seed).standard_normal(a.shape[0])
    lam = np.abs(np.linalg.eigvalsh(a)).max()
    lrs = np.array([0.1, 0.5, 1.0, 1.5, 1.9]) / lam
    got = tunelab.gd_quadratic(a, x0, lrs, steps)
    exp = ref.gd_quadratic(a, x0, lrs, steps)
    assert got.shape == (5, steps + 1)
    scale = 0.5 * lam * (x0 @ x0)
    np.testing.assert_allclose(got, exp, rtol=1e-9, atol=1e-12 * scale)


@given(a=gapped(indefinite=False, max_n=10, floor=0.05), seed=st.integers(0, 1000))
def test_gd_converges_below_and_diverges_above_two_over_lambda(a, seed):
    """Positive definite H (eigenvalues in [0.05, 1]·λ), x0 with a component along the top
    eigenvector: at 0.99·2/λ every mode contracts (slowest factor max(0.98, 1 − 0.099) per step),
    so the loss falls monotonically to < 1e-6 of its start in 3000 steps; at 1.01·2/λ the top
    mode grows by |1 − αλ| = 1.02 per step and dominates: loss = ½λc²·1.02^{2t} to rounding."""
    lam = np.linalg.eigvalsh(a)[-1]
    x0 = np.random.default_rng(seed).standard_normal(a.shape[0])
    v = np.linalg.eigh(a)[1][:, -1]
    x0 += v * np.sign(x0 @ v)  # ensure a sizeable top component
    steps = 3000
    f = tunelab.gd_quadratic(a, x0, [0.99 * 2 / lam, 1.01 * 2 / lam], steps)
    assert f[0, -1] < 1e-6 * f[0, 0]
    assert np.all(np.diff(f[0]) <= 0)
    assert f[1, -1] > 1e20 * f[1, 0]
    c = (x0 @ v) ** 2
    # the top mode alone: 1/2 λ c (1 - αλ)^{2t}
    np.testing.assert_allclose(f[1, -1], 0.5 * lam * c * 1.02 ** (2 * steps), rtol=1e-6)


def test_gd_overflow_becomes_inf():
    h = np.diag([1.0, 2.0])
    f = tunelab.gd_quadratic(h, [1.0, 1.0], [0.1, 100.0], 2000)
    assert np.isfinite(f[0]).all()
    assert np.isinf(f[1, -1]) and f[1, -1] > 0 and not np.isnan(f).any()
    first_inf = np.argmax(np.isinf(f[1]))
    assert np.isinf(f[1, first_inf:]).all() and np.isfinite(f[1, :first_inf]).all()
    g = tunelab.gd_quadratic(np.diag([-1.0, 0.0]), [1.0, 1.0], [10.0], 1000)
    assert g[0, -1] == -np.inf
    np.testing.assert_array_equal(f, ref.gd_quadratic(h, [1.0, 1.0], [0.1, 100.0], 2000))


def test_gd_threads_bitwise():
    a = sym_with_spectrum(np.linspace(0.1, 3, 40), seed=2)
    lrs = np.linspace(0.01, 0.7, 33)
    x0 = np.ones(40)
    np.testing.assert_array_equal(tunelab.gd_quadratic(a, x0, lrs, 50, num_threads=1),
                                  tunelab.gd_quadratic(a, x0, lrs, 50, num_threads=2))


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.ones((2, 3)), np.ones(2), [0.1], 3), "H"),
        ((np.array([[1.0, 1.0], [0.0, 1.0]]), np.ones(2), [0.1], 3), "H must be symmetric"),
        ((np.eye(2), np.ones(3), [0.1], 3), "x0"),
        ((np.eye(2), [np.nan, 1.0], [0.1], 3), "x0"),
        ((np.eye(2), np.ones(2), [[0.1]], 3), "lrs"),
        ((np.eye(2), np.ones(2), [np.inf], 3), "lrs"),
        ((np.eye(2), np.ones(2), [], 3), "lrs"),
        ((np.eye(2), np.ones(2), [0.1], -1), "steps"),
        ((np.zeros((0, 0)), np.ones(0), [0.1], 3), "H"),
    ],
)
def test_gd_quadratic_refusals(args, match):
    with pytest.raises(ValueError, match=match):
        tunelab.gd_quadratic(*args)


# ---- method="eigen": the closed form ----------------------------------------------------------
EPS = np.finfo(np.float64).eps


def _eigen_bound(h, x0, lrs, steps, k=8.0):
    """Tolerance for |f_eigen − f_ref| at each (rate, step), derived rather than tuned.

    f_t(H) = ½ x0ᵀ H (I − αH)^{2t} x0. The closed form is exact for a matrix within LAPACK's
    backward error ‖E‖ ≤ c·n·ε·‖H‖ of H, and ‖∂f_t/∂H‖ ≤ ½‖x0‖²(ρ^{2t} + 2tα‖H‖ρ^{2t−1}),
    ρ = max|1 − αλᵢ|; carrying each term by 2t + 2 roundings adds (2t + 3)·ε·½‖x0‖²‖H‖ρ^{2t}. The
    NumPy reference iteration's rounding is of the same form (a backward error ~ n·ε·‖H‖ per
    step), so k = 8 covers LAPACK's constant c (~1) for both sides with room."""
    lam = np.linalg.eigvalsh(h)
    hn = np.abs(lam).max()
    rho = np.abs(1.0 - np.outer(lrs, lam)).max(axis=1)[:, None]
    t = np.arange(steps + 1)[None, :]
    grow = rho ** (2 * t) / np.minimum(rho, 1.0)
    n = h.shape[0]
    return EPS * 0.5 * (x0 @ x0) * hn * grow * (k * n * (1 + 2 * t * np.abs(lrs)[:, None] * hn) + 2 * t + 3)


@given(a=gapped(max_n=10), seed=st.integers(0, 1000), steps=st.integers(0, 60),
       frac=st.lists(st.floats(0.02, 2.3), min_size=1, max_size=12))
def test_gd_quadratic_eigen_matches_reference(a, seed, steps, frac):
    """The closed form against the NumPy reference iteration (tunelab.reference, no shared code),
    for definite and indefinite H, convergent and divergent rates, within _eigen_bound."""
    x0 = np.random.default_rng(seed).standard_normal(a.shape[0])
    lam = np.abs(np.linalg.eigvalsh(a)).max()
    lrs = np.array(frac) / lam
    got = tunelab.gd_quadratic(a, x0, lrs, steps, method="eigen")
    exp = ref.gd_quadratic(a, x0, lrs, steps)
    assert got.shape == exp.shape == (len(frac), steps + 1)
    tol = _eigen_bound(a, x0, lrs, steps)
    fin = np.isfinite(tol) & (tol < 1e300)  # beyond: the bound itself overflows
    assert np.all(np.abs(got - exp)[fin] <= tol[fin])


def test_gd_quadratic_eigen_against_exact_arithmetic():
    """Tiny cases against the iteration in exact rational arithmetic on the stored floats: both
    methods within _eigen_bound of the exact losses (k = 4: one side is exact)."""
    from fractions import Fraction

    for seed, n, steps in ((0, 3, 25), (1, 4, 20)):
        h = sym_with_spectrum(np.linspace(0.2, 1.0, n) * (1 + seed), seed)
        x0 = np.random.default_rng(seed).standard_normal(n)
        lam = np.linalg.eigvalsh(h)[-1]
        lrs = np.array([0.3, 1.0, 1.9, 2.1]) / lam
        hq = [[Fraction(v) for v in row] for row in h]
        exact = np.empty((lrs.size, steps + 1))
        for li, lr in enumerate(lrs):
            x, al = [Fraction(v) for v in x0], Fraction(lr)
            for t in range(steps + 1):
                g = [sum(hq[i][j] * x[j] for j in range(n)) for i in range(n)]
                exact[li, t] = float(sum(xi * gi for xi, gi in zip(x, g)) / 2)
                x = [xi - al * gi for xi, gi in zip(x, g)]
        tol = _eigen_bound(h, x0, lrs, steps, k=4.0)
        for method in ("eigen", "iterate"):
            got = tunelab.gd_quadratic(h, x0, lrs, steps, method=method)
            assert np.all(np.abs(got - exact) <= tol), method


def test_gd_quadratic_eigen_overflow_contract():
    """Same contract as the iteration: +inf from the first non-finite loss on (-inf after a
    negative loss), never NaN; the first inf within a step of the iteration's."""
    h = np.diag([1.0, 2.0])
    f = tunelab.gd_quadratic(h, [1.0, 1.0], [0.1, 100.0], 2000, method="eigen")
    g = tunelab.gd_quadratic(h, [1.0, 1.0], [0.1, 100.0], 2000)
    assert np.isfinite(f[0]).all() and not np.isnan(f).any()
    first = np.argmax(np.isinf(f[1]))
    assert f[1, -1] == np.inf and np.isinf(f[1, first:]).all() and np.isfinite(f[1, :first]).all()
    assert abs(first - np.argmax(np.isinf(g[1]))) <= 1
    neg = tunelab.gd_quadratic(np.diag([-1.0, 0.0]), [1.0, 1.0], [10.0], 1000, method="eigen")
    assert neg[0, -1] == -np.inf and not np.isnan(neg).any()
    # both signs overflowing at once (inf - inf) still gives a signed inf, not NaN
    both = tunelab.gd_quadratic(np.diag([-1.0, 3.0]), [1.0, 1.0], [-5.0, 5.0], 500, method="eigen")
    assert not np.isnan(both).any() and np.isinf(both[:, -1]).all()
    # a rate that kills a mode exactly, and terms decaying below the dropping threshold: zeros, no NaN
    z = tunelab.gd_quadratic(np.diag([1.0, 0.5]), [1.0, 1.0], [1.0, 1.5], 3000, method="eigen")
    assert z[0, 1] == 0.5 * 0.5 * 0.25  # the λ = 1 mode is gone after one step, exactly
    assert np.all(z[:, -1] == 0.0) and np.all(np.diff(z, axis=1) <= 0) and np.all(z >= 0)


def _gd_in_kernel_order(h, x0, lrs, steps):
    """GD losses with the kernel's documented order of operations, written independently in
    NumPy: (H x)_i summed from 0 over j = 0..n-1 in order, f = x'Hx / 2 as four partial sums
    ((s0 + s1) + (s2 + s3)) + tail, then x -= lr (H x)."""
    n, L = h.shape[0], len(lrs)
    x = np.tile(np.asarray(x0, float), (L, 1))
    lr = np.asarray(lrs, float)[:, None]
    out = np.empty((L, steps + 1))
    m = n // 4 * 4
    for t in range(steps + 1):
        y = np.zeros((L, n))
        for j in range(n):
            y += np.outer(x[:, j], h[:, j])
        s = [np.zeros(L) for _ in range(4)]
        for i in range(0, m, 4):
            for k in range(4):
                s[k] += x[:, i + k] * y[:, i + k]
        f = (s[0] + s[1]) + (s[2] + s[3])
        for i in range(m, n):
            f += x[:, i] * y[:, i]
        out[:, t] = 0.5 * f
        x -= lr * y
    return out


@pytest.mark.parametrize("n", [1, 7, 45, 301])
def test_gd_quadratic_iterate_bitwise_against_its_order(n):
    """The direct iteration gives exactly the bits of an independent NumPy emulation of its order
    of operations: for n across vector widths, tile remainders and blocks of 256 rows of H (301),
    for an exactly symmetric H (read as its own transpose) and for one whose lower triangle is
    off by a relative 1e-12 (read through a transposed copy: y = H x, not H'x), at 1 and 2 threads."""
    rng = np.random.default_rng(n)
    h = sym_with_spectrum(rng.uniform(0.1, 2.0, n), seed=n)
    skew = h.copy()
    skew[np.tril_indices(n, -1)] *= 1 + 1e-12
    lrs = np.linspace(0.05, 0.9, 7)
    x0 = rng.standard_normal(n)
    for a in (h, skew):
        exp = _gd_in_kernel_order(a, x0, lrs, 6)
        for threads in (1, 2):
            np.testing.assert_array_equal(tunelab.gd_quadratic(a, x0, lrs, 6, num_threads=threads), exp)


def test_gd_quadratic_iterate_same_bits_at_every_width():
    """Lanes are outputs of H x, each summed in one order: the same bits at every vector width."""
    code = (
        "import numpy as np, tunelab, sys\n"
        "rng = np.random.default_rng(4)\n"
        "a = rng.standard_normal((301, 301)); a = (a + a.T) / 2 / 30\n"
        "b = a.copy(); b[np.tril_indices(301, -1)] *= 1 + 1e-12\n"
        "f = [tunelab.gd_quadratic(m, np.ones(301), np.linspace(0.01, 0.3, 9), 20) for m in (a, b)]\n"
        "h = [tunelab.hutchinson_trace(m, 64, rng=2).estimate for m in (a, b)]\n"
        "np.save(sys.stdout.buffer, np.concatenate([f[0].ravel(), f[1].ravel(), h]))\n"
    )
    same_at_every_simd_width(code)


def test_gd_quadratic_eigen_bitwise_threads_and_widths():
    """Lanes are rates, each summing its terms in one order: the same bits at 1 and 2 threads and
    at every vector width (TUNELAB_SIMD caps it; read at start-up, hence subprocesses)."""
    a = sym_with_spectrum(np.linspace(-0.1, 3, 41), seed=2)
    lrs = np.linspace(0.01, 0.75, 37)
    x0 = np.ones(41)
    np.testing.assert_array_equal(tunelab.gd_quadratic(a, x0, lrs, 150, method="eigen", num_threads=1),
                                  tunelab.gd_quadratic(a, x0, lrs, 150, method="eigen", num_threads=2))
    code = (
        "import numpy as np, tunelab, sys\n"
        "q, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((41, 41)))\n"
        "a = (q * np.linspace(-0.1, 3, 41)) @ q.T; a = (a + a.T) / 2\n"
        "f = tunelab.gd_quadratic(a, np.ones(41), np.linspace(0.01, 0.75, 37), 150, method='eigen', num_threads=2)\n"
        "np.save(sys.stdout.buffer, f)\n"
    )
    same_at_every_simd_width(code)


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((np.eye(2), np.ones(2), [0.1], 3), {"method": "Eigen"}, ValueError, "method must be one of 'iterate', 'eigen'"),
        ((np.eye(2), np.ones(2), [0.1], 3), {"method": None}, ValueError, "method"),
        ((np.array([[1.0, 1.0], [0.0, 1.0]]), np.ones(2), [0.1], 3), {"method": "eigen"}, ValueError,
         "H must be symmetric"),
        ((np.array([[1.0, np.nan], [np.nan, 1.0]]), np.ones(2), [0.1], 3), {"method": "eigen"}, ValueError,
         "H must contain only finite"),
        ((np.zeros((0, 0)), np.ones(0), [0.1], 3), {"method": "eigen"}, ValueError, "H"),
        ((np.eye(2), np.ones(3), [0.1], 3), {"method": "eigen"}, ValueError, "x0"),
        ((np.eye(2), np.ones(2), [np.nan], 3), {"method": "eigen"}, ValueError, "lrs"),
        ((np.eye(2), np.ones(2), [0.1], -1), {"method": "eigen"}, ValueError, "steps"),
        ((np.eye(2), np.ones(2), [0.1], 2.5), {"method": "eigen"}, TypeError, "steps"),
    ],
)
def test_gd_quadratic_eigen_refusals(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        tunelab.gd_quadratic(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
def _trace_matrix():
    rng = np.random.default_rng(11)
    b = rng.standard_normal((60, 60))
    return (b + b.T) / 2 + np.diag(np.linspace(0, 5, 60))


def test_hutchinson_matches_reference_and_truth():
    """Same probes as the reference (bitwise Rademacher signs); mean and SE agree to rounding
    (block-merged vs two-pass sums); the estimate is within 5 SE of tr(A), and the sample
    variance matches 2(||A||_F² − Σ A_ii²) within 5 of its own standard errors (estimated from
    the probes' fourth moment via the reference)."""
    a = _trace_matrix()
    got = tunelab.hutchinson_trace(a, 2000, rng=4)
    exp = ref.hutchinson_trace(a, 2000, key=kernel_key(4))
    np.testing.assert_allclose(got.estimate, exp.estimate, rtol=1e-12)
    np.testing.assert_allclose(got.stderr, exp.stderr, rtol=1e-10)
    assert abs(got.estimate - np.trace(a)) < 5 * got.stderr
    assert got.n_samples == 2000
    true_var = 2 * ((a**2).sum() - (np.diag(a) ** 2).sum())
    vals = np.array([z @ a @ z for z in (ref.rademacher(60, key=kernel_key(4), stream=k) for k in range(2000))])
    se_var = np.sqrt(((vals - vals.mean()) ** 2).var(ddof=1) / 2000)
    assert abs(got.variance - true_var) < 5 * se_var


def test_hutchinson_bitwise_for_threads_chunkings_executor():
    a = _trace_matrix()
    base = tunelab.hutchinson_trace(a, 1000, rng=7, num_threads=1, chunk_size=64)
    others = [
        tunelab.hutchinson_trace(a, 1000, rng=7, num_threads=2, chunk_size=64),
        tunelab.hutchinson_trace(a, 1000, rng=7, num_threads=2, chunk_size=320),
        tunelab.hutchinson_trace(a, 1000, rng=7),
    ]
    with cf.ThreadPoolExecutor(2) as ex:
        others.append(tunelab.hutchinson_trace(a, 1000, rng=7, executor=ex, chunk_size=128))
    for o in others:
        assert o.estimate == base.estimate and o.stderr == base.stderr and o.variance == base.variance


def test_hutchinson_callable_equals_dense():
    a = _trace_matrix()
    dense = tunelab.hutchinson_trace(a, 300, rng=1)
    call = tunelab.hutchinson_trace(lambda v: a @ v, 300, n=60, rng=1)
    np.testing.assert_allclose(call.estimate, dense.estimate, rtol=1e-12)
    with cf.ThreadPoolExecutor(2) as ex:
        call2 = tunelab.hutchinson_trace(lambda v: a @ v, 300, n=60, rng=1, executor=ex)
    assert call2.estimate == call.estimate


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((np.eye(3), 1), {}, ValueError, "n_samples"),
        ((np.eye(3), 10.0), {}, TypeError, "n_samples"),
        ((np.triu(np.ones((3, 3))), 10), {}, ValueError, "A must be symmetric"),
        ((np.array([[np.nan]]), 10), {}, ValueError, "A must contain only finite"),
        ((np.ones((2, 3)), 10), {}, ValueError, "A"),
        ((np.ones((2, 2, 2)), 10), {}, ValueError, "A must be 2-dimensional"),
        ((lambda v: v, 10), {}, TypeError, "n must be given"),
        ((_bad_shape, 10), {"n": 3}, ValueError, r"A \(the matvec callable\)"),
        ((np.eye(3), 10), {"executor": 3}, TypeError, "executor"),
    ],
)
def test_hutchinson_refusals(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        tunelab.hutchinson_trace(*args, **kwargs)


def test_vector_widths_give_the_same_bits():
    """The small-matrix kernels run at the widest vector width the CPU has (AVX-512F, AVX2 or
    baseline x86-64); TUNELAB_SIMD caps it. Each width must return exactly the same bits, for
    power iteration (both runs of which="LA") and Lanczos, with n not a multiple of 8."""
    code = (
        "import numpy as np, tunelab\n"
        "rng = np.random.default_rng(5)\n"
        "a = rng.standard_normal((40, 21, 21)); a = (a + a.transpose(0, 2, 1)) / 2\n"
        "out = [tunelab.top_eigenvalue(a, method=m, rng=3) for m in ('power', 'lanczos')]\n"
        "b = np.round(a[:9, :16, :16], 1); b = (b + b.transpose(0, 2, 1)) / 2\n"
        "out.append(tunelab.top_eigenvalue(b, rng=4, num_threads=2))\n"
        "import sys; np.save(sys.stdout.buffer, np.concatenate([np.r_[r.value, r.vector.ravel(), r.n_iter, r.residual]"
        " for r in out]))\n"
    )
    same_at_every_simd_width(code)


def test_stack_refusals_after_the_fused_check():
    """The stack path checks symmetry and finiteness while it copies each matrix: the refusal
    names the first bad matrix, as before, for NaN, inf and asymmetry (also when n > 128)."""
    good = np.stack([np.eye(5) * (i + 1) for i in range(6)])
    for bad_value, match in ((np.nan, r"A\[2\] must contain only finite"), (np.inf, r"A\[2\] must contain only finite")):
        s = good.copy()
        s[2, 1, 3] = bad_value
        s[4, 0, 1] = 1.0  # also bad, but later
        with pytest.raises(ValueError, match=match):
            tunelab.top_eigenvalue(s)
    s = good.copy()
    s[3, 0, 4] = 0.5
    with pytest.raises(ValueError, match=r"A\[3\] must be symmetric"):
        tunelab.top_eigenvalue(s, method="lanczos")
    big = np.stack([np.eye(130), np.eye(130)])
    big[1, 0, 1] = 1.0
    with pytest.raises(ValueError, match=r"A\[1\] must be symmetric"):
        tunelab.top_eigenvalue(big)



# ---------------------------------------------------------------------------------------------
# Issue 10, items 1, 2, 5: scale invariance, entries >= 2^1023, indefinite matrices.
EPS = np.finfo(np.float64).eps
FMAX = np.finfo(np.float64).max
TINY = np.finfo(np.float64).tiny  # smallest normal, 2^-1022


def _issue_m():
    """M of the issue: eigenvalues {-1, 0.5, 2, 7}."""
    return sym_with_spectrum([-1.0, 0.5, 2.0, 7.0], seed=3)


def _exact_scale_range(a):
    """The k for which 2^k A is exact: no nonzero entry becomes subnormal, none overflows."""
    nz = np.abs(a[a != 0])
    lo = -1022 - int(np.frexp(nz.min())[1]) + 1
    hi = 1023 - int(np.frexp(nz.max())[1])
    return lo, hi


def _top_exact(a):
    """λ_max of the stored matrix a from eigvalsh on 2^-e a (exact scaling, e the exponent of
    max|a|), scaled back with ldexp (inf where λ_max is beyond float64)."""
    e = int(np.frexp(np.abs(a).max())[1])
    with np.errstate(over="ignore"):
        return np.ldexp(np.linalg.eigvalsh(np.ldexp(a, -e))[-1], e), np.ldexp(np.abs(np.linalg.eigvalsh(np.ldexp(a, -e))).max(), e)


@pytest.mark.parametrize("method", ["power", "lanczos"])
def test_issue10_stacks_and_callables_are_scale_invariant(method):
    """The issue's examples: a stack mixing 1e170·I with M, or I with 1e-170·M, and the callable
    v ↦ (1e-170·M)v all give M's λ_max = 7 (times the scale), converged. Tolerance: a converged
    Rayleigh quotient lies within its residual (≤ tol·‖A‖ = 7e-8) of an eigenvalue; 1e-7 relative."""
    m = _issue_m()
    r = tunelab.top_eigenvalue(np.stack([1e170 * np.eye(4), m]), method=method, rng=0)
    assert r.converged.all()
    np.testing.assert_allclose(r.value, [1e170, 7.0], rtol=1e-7)
    r = tunelab.top_eigenvalue(np.stack([np.eye(4), 1e-170 * m]), method=method, rng=0)
    assert r.converged.all()
    np.testing.assert_allclose(r.value, [1.0, 7e-170], rtol=1e-7)
    r = tunelab.top_eigenvalue(lambda v: (1e-170 * m) @ v, n=4, method=method, rng=0)
    assert r.converged and r.n_iter > 2 and r.value == pytest.approx(7e-170, rel=1e-7)
    assert 0 < r.residual <= 1e-8 * 7e-170 * 1.01 or r.residual == 0.0
    for s in (1e-150, 1e150):  # Lanczos at 1e±150 broke the stack's bit-identity
        st_ = np.stack([np.eye(4), s * m, m])
        got = tunelab.top_eigenvalue(st_, method=method, rng=1)
        for i in range(3):
            one = tunelab.top_eigenvalue(st_[i], method=method, rng=1)
            assert got.value[i] == one.value and got.residual[i] == one.residual
            np.testing.assert_array_equal(got.vector[i], one.vector)


@st.composite
def _scaled_pair(draw, max_n=12):
    """(M, k): a gapped symmetric M and a power of two k in [-1000, 1000], clipped to the range in
    which 2^k M is exact (no entry subnormal or overflowing: what bitwise scaling needs)."""
    m = draw(gapped(max_n=max_n))
    lo, hi = _exact_scale_range(m)
    return m, int(np.clip(draw(st.integers(-1000, 1000)), lo, hi))


@settings(max_examples=60)
@given(pair=_scaled_pair(), method=st.sampled_from(["power", "lanczos"]), which=st.sampled_from(["LA", "LM"]),
       seed=st.integers(0, 2**32 - 1))
def test_top_eigenvalue_commutes_with_powers_of_two(pair, method, which, seed):
    """Every matrix is solved at its own scale (2^-e A, exact), so 2^k M gives exactly 2^k times
    the value and residual of M, and the same vector and matvec count: bitwise, no tolerance."""
    m, k = pair
    a = np.ldexp(m, k)
    base = tunelab.top_eigenvalue(m, method=method, which=which, rng=seed)
    got = tunelab.top_eigenvalue(a, method=method, which=which, rng=seed)
    assert got.value == np.ldexp(base.value, k) and got.residual == np.ldexp(base.residual, k)
    np.testing.assert_array_equal(got.vector, base.vector)
    assert (got.n_iter, got.converged) == (base.n_iter, base.converged)


@settings(max_examples=40)
@given(mats=st.lists(gapped(max_n=6), min_size=2, max_size=4), ks=st.lists(st.integers(-1000, 1000), min_size=4,
       max_size=4), n=st.integers(2, 6), method=st.sampled_from(["power", "lanczos"]), seed=st.integers(0, 2**16))
def test_stacks_mixing_scales_match_each_matrix_alone(mats, ks, n, method, seed):
    """A stack whose matrices have scales anywhere in float64 (2^k, k in [-1000, 1000], clipped to
    what keeps each exact): each result is bit-identical to that matrix alone (the docstring's
    promise), and λ_max agrees with eigvalsh within its residual + 8n·ε·‖A‖ (a converged Rayleigh
    quotient is within its residual of an eigenvalue; 8n·ε bounds the rounding of both)."""
    mats = [sym_with_spectrum(np.linalg.eigvalsh(x)[-n:] if x.shape[0] >= n else
                              np.r_[np.linalg.eigvalsh(x), np.zeros(n - x.shape[0])], seed + i)
            for i, x in enumerate(mats)]
    scaled = [np.ldexp(x, int(np.clip(k, *_exact_scale_range(x)))) for x, k in zip(mats, ks)]
    stack = np.stack(scaled)
    got = tunelab.top_eigenvalue(stack, method=method, rng=seed)
    for i, a in enumerate(scaled):
        one = tunelab.top_eigenvalue(a, method=method, rng=seed)
        assert got.value[i] == one.value and got.residual[i] == one.residual and got.n_iter[i] == one.n_iter
        np.testing.assert_array_equal(got.vector[i], one.vector)
        assert np.isfinite(got.value[i]) and np.isfinite(got.residual[i])


@settings(max_examples=40)
@given(m=gapped(max_n=10), k=st.integers(-1000, 1000), method=st.sampled_from(["power", "lanczos"]),
       seed=st.integers(0, 2**16))
def test_callables_do_not_depend_on_the_operators_scale(m, k, method, seed):
    """v ↦ (2^k M)v over the float64 range (k clipped so that 2^k M is exact): converged, and the
    value within residual + 8n·ε·‖A‖ of eigvalsh (the bound of a Rayleigh quotient / Ritz value
    with its residual; 8n·ε the rounding of the products and of eigvalsh). Tolerances are all
    relative: a residual that under- or overflows would stop at once or never."""
    a = np.ldexp(m, int(np.clip(k, *_exact_scale_range(m))))
    lam, norm = _top_exact(a)
    r = tunelab.top_eigenvalue(lambda v: a @ v, n=a.shape[0], method=method, rng=seed)
    assert r.converged and np.isfinite(r.residual)
    assert r.residual <= 2 * 1e-8 * norm * (1 + 1e-6)  # tol · ‖A − σI‖̂ ≤ tol · 2‖A‖ (shifted run)
    assert abs(r.value - lam) <= r.residual + 8 * a.shape[0] * EPS * norm


# ---- item 2: entries >= 2^1023 ----------------------------------------------------------------
@pytest.mark.parametrize("method", ["power", "lanczos"])
def test_issue10_entries_beyond_2_to_1023(method):
    """np.diag([1e308, 1]) (and 1e200): top_eigenvalue, stacks, callables, stability_bound and
    hutchinson_trace give the answer (eigvalsh's 1e308; the bound 2e-308; the trace, variance 0),
    exactly where the Rayleigh quotient of a diagonal matrix is dominated by its top entry (the
    scaling is by powers of two, so exact)."""
    a = np.diag([1e308, 1.0])
    assert tunelab.top_eigenvalue(a, method=method, rng=0).value == 1e308
    # (the Rayleigh quotient of I at a rounded unit vector is 1 within 2ε)
    np.testing.assert_allclose(tunelab.top_eigenvalue(np.stack([a, np.eye(2)]), method=method, rng=0).value,
                               [1e308, 1.0], rtol=4 * EPS)
    assert tunelab.top_eigenvalue(lambda v: a @ v, n=2, method=method, rng=0).value == 1e308
    assert tunelab.stability_bound(a, method=method, rng=0) == 2 / 1e308
    for big in (1e308, 1e200):
        h = tunelab.hutchinson_trace(np.diag([big, 1.0]), 64, rng=0)
        assert (h.estimate, h.stderr, h.variance) == (big + 1.0, 0.0, 0.0)
    # beyond the range: the error says what overflowed
    with pytest.raises(ValueError, match=r"eigenvalue found for A is beyond the float64 range"):
        tunelab.top_eigenvalue(np.full((2, 2), 1e308), method=method)
    with pytest.raises(ValueError, match=r"A\[1\] is beyond the float64 range"):
        tunelab.top_eigenvalue(np.stack([np.eye(2), np.full((2, 2), 1e308)]), method=method)
    with pytest.raises(ValueError, match=r"trace estimate of A is about 2.00e\+308"):
        tunelab.hutchinson_trace(np.diag([1e308, 1e308]), 64, rng=0)
    with pytest.raises(ValueError, match=r"probe variance of A is about 4.\d\de\+400"):
        tunelab.hutchinson_trace(np.array([[0.0, 1e200], [1e200, 0.0]]), 64, rng=0)
    with pytest.raises(ValueError, match=r"2/lambda_max is beyond the float64 range"):
        tunelab.stability_bound(np.diag([1e-309, 5e-310]), method=method)


@settings(max_examples=60)
@given(m=gapped(max_n=8), k=st.integers(-1074, 1100), method=st.sampled_from(["power", "lanczos"]),
       seed=st.integers(0, 2**16))
def test_any_finite_matrix_gets_its_eigenvalue_or_a_true_overflow_error(m, k, method, seed):
    """2^k M for k over the whole float64 range (clipped only so that the entries stay finite):
    λ_max within residual + 8n·ε·‖A‖ of eigvalsh (computed on 2^-e A, exact), or, exactly when
    that λ_max is beyond float64 (up to the same relative tolerance), the overflow error."""
    k = min(k, 1023 - int(np.frexp(np.abs(m).max())[1]))
    a = np.ldexp(m, k)
    if not np.abs(a).max() > 0:
        return  # every entry underflowed: the zero matrix (tested elsewhere)
    lam, norm = _top_exact(a)
    rtol = 1e-8 + 8 * a.shape[0] * EPS
    if not np.isfinite(lam) or abs(lam) > FMAX * (1 - 2 * rtol):
        try:
            r = tunelab.top_eigenvalue(a, method=method, rng=seed)
        except ValueError as exc:
            assert "beyond the float64 range" in str(exc)
            return
        assert abs(lam) > FMAX * (1 - 2 * rtol)  # borderline: an answer is fine, if finite
        assert np.isfinite(r.value)
        return
    r = tunelab.top_eigenvalue(a, method=method, rng=seed)
    assert r.converged
    tiny = 8 * a.shape[0] * TINY / EPS  # subnormal entries of a carry absolute error ~2^-1074 each
    assert abs(r.value - lam) <= r.residual + 8 * a.shape[0] * EPS * norm + tiny


@settings(max_examples=40)
@given(m=gapped(max_n=8), k=st.integers(-1000, 1000), seed=st.integers(0, 2**16))
def test_hutchinson_commutes_with_powers_of_two(m, k, seed):
    """hutchinson_trace(2^k M) is (2^k, 2^k, 4^k) times (estimate, stderr, variance) of M, bitwise,
    over the whole range (k clipped so that 2^k M is exact, and its results representable): z'Az
    and the merged moments are sums and products, which commute with exact scaling."""
    lo, hi = _exact_scale_range(m)
    k = int(np.clip(k, lo, min(hi, 480)))  # 4^k · variance must stay below 2^1024
    base = tunelab.hutchinson_trace(m, 128, rng=seed)
    if base.variance > 0:
        k = min(k, (1020 - int(np.frexp(base.variance)[1])) // 2)
        k = max(k, (-1020 - int(np.frexp(base.variance)[1])) // 2 + 1)
    got = tunelab.hutchinson_trace(np.ldexp(m, k), 128, rng=seed)
    assert got.estimate == np.ldexp(base.estimate, k) and got.stderr == np.ldexp(base.stderr, k)
    assert got.variance == np.ldexp(base.variance, 2 * k)


# ---- item 5: indefinite matrices --------------------------------------------------------------
@pytest.mark.parametrize("method", ["power", "lanczos"])
def test_issue10_stability_bound_refuses_indefinite(method):
    """diag([0.5, -3]): GD diverges at every rate along e_2, so the bound is refused, naming A
    (or A[i] of a stack, or the callable) and the negative eigenvalue found."""
    a = np.diag([0.5, -3.0])
    with pytest.raises(ValueError, match=r"^A has a negative eigenvalue \(lambda_min <= -3;"):
        tunelab.stability_bound(a, method=method, rng=0)
    with pytest.raises(ValueError, match=r"^A\[1\] has a negative eigenvalue \(lambda_min <= -3;"):
        tunelab.stability_bound(np.stack([np.eye(2), a, a]), method=method, rng=0)
    with pytest.raises(ValueError, match=r"^A has a negative eigenvalue \(lambda_min <= -3;"):
        tunelab.stability_bound(lambda v: a @ v, n=2, method=method, rng=0)
    # GD at half the old answer (4.0 / 2) does diverge: the refusal is right
    assert tunelab.gd_quadratic(a, np.ones(2), [2.0], 50)[0, -1] < -1e80
    # positive semi-definite with exact zeros and rounding noise (λ_min ~ ±1e-17): accepted
    psd = sym_with_spectrum([1.0, 0.3, 0.0, 0.0], seed=2)
    assert tunelab.stability_bound(psd, method=method, rng=0) == pytest.approx(2.0, rel=1e-7)


@st.composite
def _spectrum(draw, negative):
    """(eigs, k): n <= 8 eigenvalues with λ_max = 1 and, if negative, one in [-4, -1e-6];
    the rest in [0, 1] (gapped at the bottom for power iteration); scaled by 2^k."""
    n = draw(st.integers(2, 8))
    rest = draw(st.lists(st.floats(0.2, 0.9), min_size=n - 2, max_size=n - 2))
    low = -10.0 ** draw(st.floats(-6, np.log10(4.0))) if negative else draw(st.sampled_from([0.0, 0.05]))
    return np.array([1.0, low, *rest]), draw(st.integers(-1000, 1000))


@settings(max_examples=50)
@given(spec=_spectrum(negative=True), method=st.sampled_from(["power", "lanczos"]), seed=st.integers(0, 2**16),
       form=st.sampled_from(["dense", "stack", "callable"]))
def test_stability_bound_refuses_every_negative_eigenvalue(spec, method, seed, form):
    """Any eigenvalue below -1e-6·λ_max (far beyond the -tol·λ_max = -1e-8·λ_max accepted as
    rounding), at any scale 2^k, for dense, stacks and callables: the refusal names it (the bottom
    is found by Lanczos, which for n <= 8 exhausts the Krylov space, so it always converges)."""
    eigs, k = spec
    m = sym_with_spectrum(eigs, seed)
    a = np.ldexp(m, int(np.clip(k, *_exact_scale_range(m))))
    arg = {"dense": a, "stack": np.stack([np.eye(a.shape[0]), a]), "callable": lambda v: a @ v}[form]
    kw = {"n": a.shape[0]} if form == "callable" else {}
    with pytest.raises(ValueError, match=r"has a negative eigenvalue \(lambda_min <= -"):
        tunelab.stability_bound(arg, method=method, rng=seed, max_iter=5000, **kw)


@settings(max_examples=50)
@given(spec=_spectrum(negative=False), method=st.sampled_from(["power", "lanczos"]), seed=st.integers(0, 2**16))
def test_stability_bound_accepts_semi_definite_at_any_scale(spec, method, seed):
    """Positive semi-definite spectra (λ_min = 0 or 0.05) at any scale 2^k: 2/λ_max within
    (residual + 8n·ε·λ_max)/λ_max relative (the Rayleigh quotient's bound) plus one rounding."""
    eigs, k = spec
    m = sym_with_spectrum(eigs, seed)
    k = int(np.clip(k, *_exact_scale_range(m)))
    a = np.ldexp(m, k)
    lam, _ = _top_exact(a)
    with np.errstate(over="ignore"):
        expect = 2.0 / lam
    if not np.isfinite(expect):
        return  # 2/λ_max beyond float64: refused, tested above
    got = tunelab.stability_bound(a, method=method, rng=seed, max_iter=5000)
    res = tunelab.top_eigenvalue(a, method=method, rng=seed, max_iter=5000)
    assert got == pytest.approx(expect, rel=(res.residual + 8 * a.shape[0] * EPS * lam) / lam + 2 * EPS)
