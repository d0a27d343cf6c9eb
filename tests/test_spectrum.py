"""top_eigenvalues and spectral_density against NumPy: eigvalsh for the eigenpairs, matrix powers
for the quadrature, the trace for the moments."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tunelab


def _orthogonal(n: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return q * np.sign(np.diag(r))


@st.composite
def separated(draw, max_n=24):
    """A symmetric matrix Q diag(λ) Qᵀ whose eigenvalues are at least 0.01 apart in [-10, 10]
    (single-vector Lanczos cannot see a multiplicity, so the property tests of Lanczos keep the
    eigenvalues distinct), with its sorted eigenvalues."""
    n = draw(st.integers(3, max_n))
    lam = np.array(sorted(draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n, unique=True)))) / 100.0
    q = _orthogonal(n, draw(st.integers(0, 2**32 - 1)))
    a = (q * lam) @ q.T
    return (a + a.T) / 2, np.linalg.eigvalsh((a + a.T) / 2)


def _expected(w: np.ndarray, k: int, which: str) -> np.ndarray:
    """The k extreme eigenvalues, most extreme first, from the sorted spectrum ``w``."""
    if which == "LA":
        return w[::-1][:k]
    if which == "SA":
        return w[:k]
    return w[np.argsort(-np.abs(w), kind="stable")][:k]


@given(separated(), st.data(), st.sampled_from(["LA", "SA", "LM"]))
def test_lanczos_equals_eigvalsh(case, data, which):
    a, w = case
    n = a.shape[0]
    k = data.draw(st.integers(1, n - 1))
    if which == "LM":  # |λ| ties (λ and −λ both present) make "the k largest in magnitude" ambiguous
        mags = np.sort(np.abs(w))[::-1]
        if k < n and mags[k - 1] - mags[k] < 1e-3:
            return
    res = tunelab.top_eigenvalues(a, k, which=which, method="lanczos", tol=1e-10, rng=1)
    ref = _expected(w, k, which)
    values, residuals = res.values, res.residuals
    if which == "LM":  # ±λ pairs may come in either order: compare in algebraic order
        order = np.argsort(values)
        values, residuals, ref = values[order], residuals[order], np.sort(ref)
    # Bauer–Fike for a symmetric matrix: an eigenvalue lies within the residual of a Ritz value;
    # eigvalsh itself is good to a few ε·‖A‖.
    norm = np.abs(w).max()
    assert np.all(np.abs(values - ref) <= residuals + 64 * n * np.finfo(float).eps * norm), (res.values, ref)
    # the reported residuals are the vectors' own
    np.testing.assert_allclose(np.linalg.norm(a @ res.vectors - res.vectors * res.values, axis=0), res.residuals,
                               rtol=1e-6, atol=16 * n * np.finfo(float).eps * norm)  # fmt: skip
    np.testing.assert_allclose(res.vectors.T @ res.vectors, np.eye(k), atol=1e-8)
    assert res.method == "lanczos" and res.n_iter >= k


@given(st.integers(1, 30), st.data(), st.sampled_from(["LA", "SA", "LM"]))
def test_eigh_equals_eigvalsh(n, data, which):
    """Any symmetric matrix (repeated eigenvalues included): LAPACK's selected end."""
    g = np.array(data.draw(st.lists(st.floats(-10, 10), min_size=n * n, max_size=n * n))).reshape(n, n)
    a = (g + g.T) / 2
    k = data.draw(st.integers(1, n))
    res = tunelab.top_eigenvalues(a, k, which=which, method="eigh")
    w = np.linalg.eigvalsh(a)
    scale = max(np.abs(w).max(), 1e-300)
    if which == "LM":  # compare magnitudes: ±λ ties may be taken in either order
        np.testing.assert_allclose(np.abs(res.values), np.sort(np.abs(w))[::-1][:k], rtol=0,
                                   atol=64 * n * np.finfo(float).eps * scale)  # fmt: skip
    else:
        np.testing.assert_allclose(res.values, _expected(w, k, which), rtol=0, atol=64 * n * np.finfo(float).eps * scale)
    assert np.all(res.residuals <= 64 * n * np.finfo(float).eps * scale)
    assert res.n_iter == 0 and res.method == "eigh"


def test_auto_chooses_by_size():
    small, _ = _spectrum(100, 0)
    big, _ = _spectrum(tunelab.spectrum.EIGH_MAX_N + 1, 0)
    assert tunelab.top_eigenvalues(small, 3).method == "eigh"
    assert tunelab.top_eigenvalues(big, 3).method == "lanczos"
    assert tunelab.top_eigenvalues(big, big.shape[0] // 2 + 1).method == "eigh"  # 2k > n
    assert tunelab.top_eigenvalues(partial(np.dot, small), 3, n=100).method == "lanczos"


def _spectrum(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    g = np.random.default_rng(seed).standard_normal((n, n))
    a = g @ g.T / n
    return a, np.linalg.eigvalsh(a)


def test_big_matrix_top_five_equal_eigvalsh():
    a, w = _spectrum(700, 3)
    res = tunelab.top_eigenvalues(a, 5, rng=2)
    assert res.method == "lanczos"
    np.testing.assert_allclose(res.values, w[::-1][:5], rtol=1e-12)


def test_stack_matrix_alone_and_threads():
    """Matrix i of a stack gives bit for bit A[i] alone, on any number of threads."""
    stack = np.stack([_spectrum(40, s)[0] for s in range(4)])
    for method in ("lanczos", "eigh"):
        one = tunelab.top_eigenvalues(stack, 3, method=method, rng=5, num_threads=1)
        two = tunelab.top_eigenvalues(stack, 3, method=method, rng=5, num_threads=2)
        assert one.values.shape == (4, 3) and one.vectors.shape == (4, 40, 3) and one.residuals.shape == (4, 3)
        np.testing.assert_array_equal(one.values, two.values)
        for i in range(4):
            alone = tunelab.top_eigenvalues(stack[i], 3, method=method, rng=5)
            np.testing.assert_array_equal(one.values[i], alone.values)
            np.testing.assert_array_equal(one.vectors[i], alone.vectors)
            np.testing.assert_allclose(one.values[i], np.linalg.eigvalsh(stack[i])[::-1][:3], rtol=1e-10)


def test_callable_equals_dense():
    a, w = _spectrum(60, 4)
    a = a / 2.0 ** math.frexp(np.abs(a).max())[1]  # max|A| in [0.5, 1): the dense path runs on A itself
    dense = tunelab.top_eigenvalues(a, 4, method="lanczos", rng=7)
    calls = []
    res = tunelab.top_eigenvalues(lambda v: calls.append(1) or a @ v, 4, n=60, rng=7)
    np.testing.assert_array_equal(res.values, dense.values)
    assert res.n_iter == len(calls) == dense.n_iter + 4  # k residual products, counted


@pytest.mark.parametrize("method", ["lanczos", "eigh"])
@pytest.mark.parametrize("exp", [-600, 600])
def test_scaled_matrices_give_scaled_values(method, exp):
    a, _ = _spectrum(30, 5)
    base = tunelab.top_eigenvalues(a, 3, method=method, rng=1)
    scaled = tunelab.top_eigenvalues(np.ldexp(a, exp), 3, method=method, rng=1)
    np.testing.assert_array_equal(scaled.values, np.ldexp(base.values, exp))


def test_top_eigenvalues_errors():
    a, _ = _spectrum(5, 6)
    with pytest.raises(ValueError, match="k must be"):
        tunelab.top_eigenvalues(a, 6)
    with pytest.raises(ValueError, match="k must be < n"):
        tunelab.top_eigenvalues(a, 5, method="lanczos")
    with pytest.raises(ValueError, match="k must be < n"):
        tunelab.top_eigenvalues(partial(np.dot, a), 5, n=5)
    with pytest.raises(ValueError, match="needs a dense matrix"):
        tunelab.top_eigenvalues(partial(np.dot, a), 2, n=5, method="eigh")
    with pytest.raises(TypeError, match="n must be given"):
        tunelab.top_eigenvalues(partial(np.dot, a), 2)
    with pytest.raises(ValueError, match="symmetric"):
        tunelab.top_eigenvalues(a + np.triu(a, 1), 2)
    with pytest.raises(ValueError, match=r"A\[1\] must be symmetric"):
        tunelab.top_eigenvalues(np.stack([a, a + np.triu(a, 1)]), 2)
    zero = tunelab.top_eigenvalues(np.zeros((3, 600, 600)), 2, method="lanczos")
    assert np.all(zero.values == 0) and np.all(zero.residuals == 0)
    with pytest.raises(ValueError, match="zero operator"):
        tunelab.top_eigenvalues(lambda v: 0 * v, 2, n=600)
    with pytest.raises(ValueError, match="did not converge"):
        tunelab.top_eigenvalues(_spectrum(600, 1)[0], 3, method="lanczos", max_iter=1, tol=1e-15)


# --------------------------------------------------------------------------- spectral density
class _Recorder:
    """A matvec that keeps the first vector of each probe (the first ``P`` calls)."""

    def __init__(self, a: np.ndarray, probes: int) -> None:
        self.a, self.probes, self.starts = a, probes, []

    def __call__(self, v: np.ndarray) -> np.ndarray:
        if len(self.starts) < self.probes:
            self.starts.append(v.copy())
        return self.a @ v


@given(st.integers(2, 16), st.data())
def test_quadrature_is_exact_for_low_degrees(n, data):
    """Σ_j w_j θ_jᵏ = qᵀAᵏq for k ≤ 2m − 1 (Gauss quadrature), q each probe's start vector;
    the right side by NumPy matrix powers."""
    g = np.array(data.draw(st.lists(st.floats(-4, 4), min_size=n * n, max_size=n * n))).reshape(n, n)
    a = (g + g.T) / 2
    m = data.draw(st.integers(1, n))
    probes = data.draw(st.integers(2, 4))
    rec = _Recorder(a, probes)
    d = tunelab.spectral_density(rec, n=n, n_probes=probes, n_lanczos=m, rng=data.draw(st.integers(0, 2**32)))
    assert len(rec.starts) == probes
    np.testing.assert_allclose(np.linalg.norm(rec.starts, axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(d.weights.sum(axis=1), 1.0, rtol=1e-12)
    norm = max(np.abs(np.linalg.eigvalsh(a)).max(), 1.0)
    for k in range(0, 2 * m):
        ak = np.linalg.matrix_power(a, k)
        exact = np.array([q @ ak @ q for q in rec.starts])
        quad = (d.weights * d.nodes**k).sum(axis=1)
        # rounding of an orthogonal Lanczos basis: a few ε·n·‖A‖ᵏ per term, and k of them
        np.testing.assert_allclose(quad, exact, rtol=0, atol=1e-12 * (k + 1) * n * norm**k)


def test_moments_estimate_the_trace_within_their_standard_error():
    """tr(A)/n and tr(A²)/n, with fixed seeds: the probe mean is within 4 standard errors (a
    two-sided normal tail of 6e-5 for each check), and the reported standard error agrees with
    the Rademacher variance 2(‖A‖_F² − Σ A_ii²)/n² of one probe to within 35% (30 probes: the
    sample standard deviation's relative spread is about 1/√(2·29) = 13%)."""
    a, w = _spectrum(200, 8)
    n, probes = 200, 30
    d = tunelab.spectral_density(a, n_probes=probes, n_lanczos=30, rng=11)
    for k in (1, 2):
        est = d.moment(k)
        exact = np.sum(w**k) / n
        assert abs(est.value - exact) <= 4 * est.stderr, (k, est, exact)
    var1 = 2 * (np.sum(a * a) - np.sum(np.diag(a) ** 2)) / n**2
    assert abs(d.moment(1).stderr / math.sqrt(var1 / probes) - 1) < 0.35


def test_diagonal_matrix_moments_are_exact():
    """Rademacher probes on a diagonal matrix: zᵀAᵏz/n = tr(Aᵏ)/n for every probe."""
    lam = np.arange(1.0, 11.0)
    d = tunelab.spectral_density(np.diag(lam), n_probes=3, n_lanczos=20, rng=1)
    assert d.exhausted.all() and np.all(d.lanczos_steps <= 10)
    for k in (1, 2, 5, 30):  # exhausted: every degree
        est = d.moment(k)
        assert est.value == pytest.approx(np.mean(lam**k), rel=1e-12) and est.stderr <= 1e-12 * est.value


def test_density_is_the_sum_of_gaussians():
    a, _ = _spectrum(50, 9)
    d = tunelab.spectral_density(a, n_probes=5, n_lanczos=10, rng=2)
    g = d.grid[:, None, None]
    ref = (d.weights * np.exp(-((g - d.nodes) ** 2) / (2 * d.sigma**2))).sum(axis=(1, 2))
    ref /= d.nodes.shape[0] * d.sigma * np.sqrt(2 * np.pi)
    np.testing.assert_allclose(d.density, ref, rtol=1e-12, atol=1e-300)
    assert np.trapezoid(d.density, d.grid) == pytest.approx(1.0, abs=1e-6)
    assert d.sigma == pytest.approx(0.01 * (d.nodes.max() - d.nodes.min()))
    grid = np.linspace(0, 3, 11)
    np.testing.assert_array_equal(tunelab.spectral_density(a, n_probes=5, n_lanczos=10, grid=grid, rng=2).grid, grid)


def test_callable_equals_dense_density():
    a, _ = _spectrum(40, 10)
    a = a / 2.0 ** math.frexp(np.abs(a).max())[1]
    dense = tunelab.spectral_density(a, n_probes=4, n_lanczos=12, rng=3)
    call = tunelab.spectral_density(partial(np.dot, a), n=40, n_probes=4, n_lanczos=12, rng=3)
    np.testing.assert_allclose(call.nodes, dense.nodes, rtol=0, atol=1e-13)
    np.testing.assert_allclose(call.weights, dense.weights, rtol=0, atol=1e-12)


def test_spectral_density_errors():
    a, _ = _spectrum(10, 12)
    d = tunelab.spectral_density(a, n_probes=3, n_lanczos=4, rng=1)
    with pytest.raises(ValueError, match="k must be <= 2\\*n_lanczos - 1 = 7"):
        d.moment(8)
    with pytest.raises(ValueError, match="n_probes"):
        tunelab.spectral_density(a, n_probes=1)
    with pytest.raises(ValueError, match="symmetric"):
        tunelab.spectral_density(a + np.triu(a, 1))
    with pytest.raises(TypeError, match="n must be given"):
        tunelab.spectral_density(partial(np.dot, a))
    with pytest.raises(ValueError, match="too small"):
        tunelab.spectral_density(a, sigma=5e-324)
