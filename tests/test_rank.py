"""Spearman matrices: equal to scipy.stats.spearmanr (ties as average ranks), constant
variables, threads, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

import tunelab
from tunelab import _core

from .strategies import strided


@st.composite
def tied_data(draw):
    """(S, T) float arrays with many ties: small integer levels, halves and signed zeros."""
    s = draw(st.integers(3, 40))
    t = draw(st.integers(2, 6))
    levels = draw(st.integers(2, 8))
    vals = st.sampled_from([float(v) for v in np.linspace(-2, 2, levels)] + [0.0, -0.0, 1e-300, -1e300])
    return draw(hnp.arrays(np.float64, (s, t), elements=vals))


def _scipy_matrix(x: np.ndarray, axis: int) -> np.ndarray:
    r = stats.spearmanr(x, axis=axis).statistic
    return np.array([[1.0, r], [r, 1.0]]) if np.ndim(r) == 0 else r


@given(x=tied_data(), axis=st.sampled_from([0, 1]))
def test_equals_scipy_on_tied_data(x, axis):
    """Tolerance 1e-12 absolute: both compute exact rank sums (integers); they differ only in
    the rounding of the final normalisation (a few ulps)."""
    x = x if axis == 0 else np.ascontiguousarray(x.T)
    obs = x if axis == 0 else x.T
    keep = np.array([np.unique(obs[:, j] + 0.0).size > 1 for j in range(obs.shape[1])])
    if keep.sum() < 2:
        return
    x = x[:, keep] if axis == 0 else x[keep]
    np.testing.assert_allclose(tunelab.spearman_matrix(x, axis=axis), _scipy_matrix(x, axis), rtol=0, atol=1e-12)


@given(x=strided(hnp.arrays(np.float64, st.tuples(st.integers(2, 30), st.integers(1, 5)),
                             elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))))
def test_equals_reference_on_any_data(x):
    """Against the NumPy reference (argsort ranks, matrix product), constant variables included
    (NaN rows and columns, with SciPy's warning category); tolerance 1e-12 absolute."""
    ref = tunelab.reference.spearman_matrix(x, axis=0)
    const = np.array([np.unique(x[:, j] + 0.0).size == 1 for j in range(x.shape[1])])
    if const.any():
        with pytest.warns(tunelab.ConstantInputWarning, match="constant"):
            got = tunelab.spearman_matrix(x)
    else:
        got = tunelab.spearman_matrix(x)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))


def test_large_untied_equals_scipy_and_ranks_equal_reference():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5000, 9))
    x[:, 3] = np.round(x[:, 3], 1)  # heavy ties in one column
    x[:, 4] = x[:, 0] * 1e-9 + 1.0  # values that share their upper 32 key bits
    np.testing.assert_allclose(tunelab.spearman_matrix(x), stats.spearmanr(x).statistic, rtol=0, atol=1e-12)
    for j in range(x.shape[1]):
        r = _core.centred_ranks(np.ascontiguousarray(x[:, j]))
        np.testing.assert_array_equal((r + x.shape[0] + 1) / 2, stats.rankdata(x[:, j]))


def test_signed_zeros_tie():
    x = np.array([[0.0, 1.0], [-0.0, 2.0], [1.0, 3.0]])
    np.testing.assert_array_equal(_core.centred_ranks(np.ascontiguousarray(x[:, 0])) * 0.5 + 2, [1.5, 1.5, 3.0])
    np.testing.assert_allclose(tunelab.spearman_matrix(x), stats.spearmanr(x).statistic * np.ones((2, 2)) + np.eye(2) * (1 - stats.spearmanr(x).statistic), atol=1e-15)


def test_constant_variable_gives_nan_row_and_warning():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 4))
    x[:, 2] = 7.0
    with pytest.warns(stats.ConstantInputWarning, match="variable"):
        rho = tunelab.spearman_matrix(x)
    assert np.isnan(rho[2]).all() and np.isnan(rho[:, 2]).all()
    keep = [0, 1, 3]
    np.testing.assert_allclose(rho[np.ix_(keep, keep)], stats.spearmanr(x[:, keep]).statistic, atol=1e-12)
    assert issubclass(tunelab.ConstantInputWarning, RuntimeWarning)


@pytest.mark.parametrize("axis", [0, 1])
def test_threads_and_axis_do_not_change_bits(axis):
    rng = np.random.default_rng(1)
    x = np.round(rng.standard_normal((3000, 37)), 2)
    xa = x if axis == 0 else np.ascontiguousarray(x.T)
    one = tunelab.spearman_matrix(xa, axis=axis, num_threads=1)
    np.testing.assert_array_equal(tunelab.spearman_matrix(xa, axis=axis, num_threads=2), one)
    np.testing.assert_array_equal(tunelab.spearman_matrix(x, axis=0, num_threads=3), one)


def test_refusals():
    with pytest.raises(ValueError, match="X must be 2-dimensional"):
        tunelab.spearman_matrix(np.ones(5))
    with pytest.raises(ValueError, match="X must contain only finite"):
        tunelab.spearman_matrix(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="X must have at least 2 observations"):
        tunelab.spearman_matrix(np.ones((1, 3)))
    with pytest.raises(ValueError, match="X must have at least 2 observations"):
        tunelab.spearman_matrix(np.ones((3, 1)), axis=1)
    with pytest.raises(ValueError, match="axis"):
        tunelab.spearman_matrix(np.ones((3, 3)), axis=2)
    with pytest.raises(TypeError, match="X must be a real numeric array"):
        tunelab.spearman_matrix(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="num_threads"):
        tunelab.spearman_matrix(np.eye(3), num_threads=0)


def test_sort_paths_heavy_tails_and_tiny_ranges():
    """The sort bins values by a 22-bit affine image of the value; heavy tails put many values in
    one bin (finished by a comparison sort), and a subnormal range falls back to sorting by the
    key's upper half. Both must still give scipy's ranks exactly."""
    rng = np.random.default_rng(11)
    x = np.empty((4000, 4))
    x[:, 0] = rng.standard_cauchy(4000) * 1e6
    x[:, 1] = np.round(rng.standard_cauchy(4000), 3)  # heavy tail and ties
    x[:, 2] = rng.integers(-5, 5, 4000) * 5e-324  # subnormal range: the fallback
    x[:, 3] = np.where(rng.random(4000) < 0.5, -1e300, 1e300) * rng.random(4000)  # range near overflow
    for j in range(x.shape[1]):
        r = _core.centred_ranks(np.ascontiguousarray(x[:, j]))
        np.testing.assert_array_equal((r + x.shape[0] + 1) / 2, stats.rankdata(x[:, j]))
    np.testing.assert_allclose(tunelab.spearman_matrix(x), stats.spearmanr(x).statistic, rtol=0, atol=1e-12)
