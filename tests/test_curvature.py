"""Curvature: top_eigenvalue (power, Lanczos; dense, stack, callable), stability_bound,
gd_quadratic, hutchinson_trace — against numpy.linalg.eigvalsh, tunelab.reference, closed forms."""

from __future__ import annotations

import concurrent.futures as cf
from functools import partial

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tunelab
from tunelab import reference as ref
from tunelab._random import kernel_key


def sym_with_spectrum(eigs, seed):
    """Q diag(eigs) Q' with a random orthogonal Q (exactly symmetrised)."""
    n = len(eigs)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    a = (q * np.asarray(eigs)) @ q.T
    return (a + a.T) / 2


@st.composite
def gapped(draw, *, indefinite=None, max_n=12, floor=0.0):
    """A symmetric matrix whose top algebraic eigenvalue is separated from the rest by at least
    10% of the spectral norm (and is at least 10% of it in magnitude); optionally indefinite
    with the largest magnitude on the negative side."""
    n = draw(st.integers(2, max_n))
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
    z = tunelab.top_eigenvalue(np.zeros((4, 4)), rng=0)
    assert z.value == 0.0 and z.converged and z.n_iter == 1


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
    a = sym_with_spectrum([4.0, 1.0, -0.5], seed=0)
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
        tunelab.stability_bound(sym_with_spectrum([1.0, 0.999, 0.1], seed=1), max_iter=3)
    with pytest.raises(TypeError, match="which"):
        tunelab.stability_bound(a, which="LM")


# ---------------------------------------------------------------------------------------------
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
    import os
    import subprocess
    import sys

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
    import io

    runs = []
    for level in ("0", "1", "2"):
        env = dict(os.environ, TUNELAB_SIMD=level)
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
        runs.append(np.load(io.BytesIO(done.stdout)))
    for r in runs[1:]:
        np.testing.assert_array_equal(r, runs[0])


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
