"""Learning-rate range tests: the quadratic kernel against the explicit reference and the exact
α* = 2/λ_max, the callable version, and the progressive finder."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tunelab
from tunelab import reference as ref

from .test_curvature import gapped, sym_with_spectrum


@given(a=gapped(indefinite=False, max_n=10), sign=st.sampled_from([-1.0, 1.0]), c=st.floats(0.1, 10.0))
def test_quadratic_recovers_lambda_max_on_top_eigenvector(a, sign, c):
    """Started on the top eigenvector the one-step ratio is (1 − αλ)², so the first grid rate above
    loss0 lies in (2/λ, 2/λ·10^(1/200)]: λ̂ = 2/α* is within 1.2% (< 2%) below λ_max."""
    w, V = np.linalg.eigh(a)
    lam = w[-1]
    lrs = np.logspace(-3, 1, 801) / lam  # 200 per decade
    res = tunelab.lr_range_test_quadratic(a, sign * c * V[:, -1], lrs)
    assert abs(res.curvature / lam - 1) < 0.02
    assert lam / 10 ** (1 / 200) * (1 - 1e-9) <= res.curvature <= lam * (1 + 1e-9)
    np.testing.assert_allclose(res.loss0, 0.5 * lam * c * c, rtol=1e-10)


@given(a=gapped(max_n=8), seed=st.integers(0, 1000))
def test_quadratic_matches_reference(a, seed):
    """Closed form f0 − α g'g + ½α² g'Hg vs the explicit step: equal up to rounding of the terms,
    atol = 1e-12 · (|f0| + α g'g + α² |g'Hg|) per rate."""
    x0 = np.random.default_rng(seed).standard_normal(a.shape[0])
    lam = np.abs(np.linalg.eigvalsh(a)).max()
    lrs = np.logspace(-2, 1, 61) / lam
    got = tunelab.lr_range_test_quadratic(a, x0, lrs)
    exp = ref.lr_range_test_quadratic(a, x0, lrs)
    g = a @ x0
    scale = abs(exp.loss0) + lrs * (g @ g) + lrs**2 * abs(g @ a @ g)
    np.testing.assert_allclose(got.losses, exp.losses, rtol=0, atol=1e-12 * scale.max())
    np.testing.assert_allclose(got.loss0, exp.loss0, rtol=1e-12, atol=1e-15 * scale.max())
    np.testing.assert_array_equal(got.lrs, lrs)


def test_quadratic_threads_bitwise_and_overflow():
    a = sym_with_spectrum(np.linspace(0.1, 2.0, 300), seed=1)
    x0 = np.ones(300)
    lrs = np.logspace(-3, 300, 2000)
    r1 = tunelab.lr_range_test_quadratic(a, x0, lrs, num_threads=1)
    r2 = tunelab.lr_range_test_quadratic(a, x0, lrs, num_threads=2)
    np.testing.assert_array_equal(r1.losses, r2.losses)
    assert np.isinf(r1.losses[-1]) and not np.isnan(r1.losses).any()


def test_generic_test_equals_quadratic_kernel_and_reference():
    """A quadratic given as callables gives the kernel's α* on the same grid; a non-quadratic
    (quartic) loss agrees with the reference loop exactly (same arithmetic)."""
    a = sym_with_spectrum([3.0, 1.0, 0.5, 0.2], seed=2)
    x0 = np.array([1.0, -2.0, 0.5, 1.0])
    lrs = np.logspace(-3, 1, 401)
    quad = tunelab.lr_range_test(lambda x: 0.5 * x @ a @ x, lambda x: a @ x, x0, lrs)
    kern = tunelab.lr_range_test_quadratic(a, x0, lrs)
    assert quad.lr_critical == kern.lr_critical
    np.testing.assert_allclose(quad.losses, kern.losses, rtol=1e-10, atol=1e-12)
    loss = lambda x: np.sum(x**4) + np.sum(x**2)  # noqa: E731
    grad = lambda x: 4 * x**3 + 2 * x  # noqa: E731
    got = tunelab.lr_range_test(loss, grad, x0, lrs)
    exp = ref.lr_range_test(loss, grad, x0, lrs)
    np.testing.assert_array_equal(got.losses, exp.losses)
    assert got.lr_critical == exp.lr_critical and got.curvature == 2 / got.lr_critical


def test_no_crossing_gives_nan_and_nonfinite_counts_as_exceeding():
    a = np.diag([1.0, 2.0])
    res = tunelab.lr_range_test_quadratic(a, [1.0, 1.0], np.logspace(-4, -1, 10))
    assert math.isnan(res.lr_critical) and math.isnan(res.curvature)

    def loss(x):
        return np.inf if np.abs(x).max() > 5 else float(x @ x)

    res = tunelab.lr_range_test(loss, lambda x: 2 * x, np.ones(2), [0.1, 0.5, 4.0])
    assert res.lr_critical == 4.0


def test_plot_and_frame():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    res = tunelab.lr_range_test_quadratic(np.diag([2.0, 1.0]), [1.0, 0.0], np.logspace(-2, 1, 50))
    ax = res.plot()
    assert ax.get_xscale() == "log"
    plt.close(ax.figure)
    pytest.importorskip("pandas")
    assert list(res.to_frame().columns) == ["lrs", "losses"]


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: tunelab.lr_range_test_quadratic(np.ones((2, 3)), [1, 1], [0.1]), ValueError, "H"),
        (lambda: tunelab.lr_range_test_quadratic(np.triu(np.ones((2, 2))), [1, 1], [0.1]), ValueError,
         "H must be symmetric"),
        (lambda: tunelab.lr_range_test_quadratic(np.eye(2), [1, 1, 1], [0.1]), ValueError, "x0"),
        (lambda: tunelab.lr_range_test_quadratic(np.eye(2), [1, 1], [0.2, 0.1]), ValueError, "lrs"),
        (lambda: tunelab.lr_range_test_quadratic(np.eye(2), [1, 1], [-0.1, 0.1]), ValueError, "lrs"),
        (lambda: tunelab.lr_range_test_quadratic(np.eye(2), [1, 1], [np.nan]), ValueError, "lrs"),
        (lambda: tunelab.lr_range_test_quadratic(np.eye(2), [1, 1], []), ValueError, "lrs"),
        (lambda: tunelab.lr_range_test_quadratic(np.array([[np.inf]]), [1], [0.1]), ValueError, "H must contain"),
        (lambda: tunelab.lr_range_test(3, lambda x: x, [1.0], [0.1]), TypeError, "loss"),
        (lambda: tunelab.lr_range_test(lambda x: 1.0, None, [1.0], [0.1]), TypeError, "grad"),
        (lambda: tunelab.lr_range_test(lambda x: 1.0, lambda x: np.ones(3), [1.0], [0.1]), ValueError, "grad"),
        (lambda: tunelab.lr_range_test(lambda x: np.ones(2), lambda x: x, [1.0], [0.1]), TypeError, "loss"),
        (lambda: tunelab.lr_range_test(lambda x: np.nan, lambda x: x, [1.0], [0.1]), ValueError, "loss"),
        (lambda: tunelab.lr_range_test(lambda x: 1.0, lambda x: x, [np.nan], [0.1]), ValueError, "x0"),
    ],
)
def test_range_test_refusals(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------------------------------------
class _GD:
    """A training step on ½xᵀHx: x ← x − lr·Hx; returns the loss after the step."""

    def __init__(self, h, x0):
        self.h, self.x = h, np.array(x0, dtype=float)

    def __call__(self, lr):
        self.x = self.x - lr * (self.h @ self.x)
        with np.errstate(over="ignore", invalid="ignore"):
            return 0.5 * self.x @ self.h @ self.x


def _gd_loss_error_bound(h, x0, lrs):
    """Forward error bound of the loss after each step of ``x ← x − lr·Hx`` in floating point,
    with ``lr`` itself off by up to an ulp (the two schedules round ``lr_min·r^i`` differently).

    Step ``j`` adds an error of at most ``c u (1 + lr_j ||H||) ||x_j||`` (``c = 4n``: the matvec's
    ``n`` terms, the update, and the rate's ulp; ``u`` the unit roundoff), and every later step
    multiplies what was there by ``||I − lr_i H||₂ = max |1 − lr_i λ|``; so
    ``||δx_k|| <= e_k = Σ_j c u (1 + lr_j ||H||) ||x_j|| Π_{i>j} max|1 − lr_i λ|``, and the loss
    ``½ xᵀHx`` is off by at most ``||H|| ||x_k|| e_k + ½ ||H|| e_k²``. Where a rate sits near
    ``1/λ`` a component is cut to rounding level and its later growth (past ``2/λ``) amplifies
    rounding: the bound grows accordingly, and a relative tolerance cannot hold there."""
    lam = np.linalg.eigvalsh(h)
    norm = float(np.abs(lam).max())
    c = 4 * h.shape[0] * np.finfo(float).eps
    x, e, out = np.array(x0, dtype=float), 0.0, []
    for lr in lrs:
        xn = float(np.linalg.norm(x))
        e = float(np.abs(1 - lr * lam).max()) * e + c * (1 + lr * norm) * xn
        x = x - lr * (h @ x)
        xn = float(np.linalg.norm(x))
        out.append(norm * xn * e + 0.5 * norm * e * e)
    return np.array(out)


@pytest.mark.parametrize("smooth", [0.0, 0.5, 0.98])
def test_lr_finder_matches_reference_and_stops_past_stability(smooth):
    """Same schedule, smoothing and suggestion as the plain-loop reference; on GD over a quadratic
    the run stops only after the rate passes 2/λ_max (below it the loss cannot grow), and the
    suggested rate is below 2/λ_max.

    The rates agree to 1e-14 (``lr_min·r^i``, rounded by two ``pow`` implementations); the
    smoothed losses to 1e-12 relative plus twice the forward error bound of the GD trajectory
    (``_gd_loss_error_bound``; each run is within it of the exact one, and the debiased moving
    average is a convex combination of the losses so far, so its error is at most their
    largest), wherever that bound leaves the loss determined to 1e-8. The trajectory passes
    rates near ``1/λ`` that cut components to rounding level, after which the losses are
    amplified rounding (relative differences of 0.37 between the two runs at the last step):
    a plain rtol on every step held only while both ``pow`` happened to round alike (NumPy
    2.x), not on NumPy 1.24."""
    h = sym_with_spectrum([4.0, 1.0, 0.3], seed=3)
    x0 = np.array([1.0, 1.0, 1.0])
    got = tunelab.lr_finder(_GD(h, x0), lr_min=1e-4, lr_max=10.0, num_steps=200, smooth=smooth)
    exp = ref.lr_finder(_GD(h, x0), lr_min=1e-4, lr_max=10.0, num_steps=200, smooth=smooth)
    np.testing.assert_allclose(got.lrs, exp.lrs, rtol=1e-14)
    assert got.smoothed.shape == exp.smoothed.shape
    bound = 2 * np.maximum.accumulate(_gd_loss_error_bound(h, x0, exp.lrs))
    # where the losses are determined (bound <= 1e-8 of the value): a prefix reaching past the
    # suggested rate and past 1/λ_max; beyond it they are amplified rounding and not compared
    determined = np.flatnonzero(bound > 1e-8 * np.abs(exp.smoothed))
    k = determined[0] if determined.size else exp.smoothed.size
    assert exp.lrs[k - 1] > max(exp.lr_suggested, 1 / 4.0)
    err = np.abs(got.smoothed[:k] - exp.smoothed[:k])
    assert np.all(err <= 1e-12 * np.abs(exp.smoothed[:k]) + bound[:k]), np.max(err / np.abs(exp.smoothed[:k]))
    np.testing.assert_allclose(got.lr_suggested, exp.lr_suggested, rtol=1e-14)
    assert got.diverged and got.lrs.size < 200
    assert got.lrs[-1] > 2 / 4.0 > got.lr_suggested
    if smooth == 0.0:
        np.testing.assert_array_equal(got.smoothed, got.losses)


def test_lr_finder_no_divergence_and_nonfinite():
    res = tunelab.lr_finder(lambda lr: 1.0 / (1.0 + lr), lr_min=1e-3, lr_max=1.0, num_steps=20)
    assert not res.diverged and res.lrs.size == 20
    np.testing.assert_allclose(res.lrs[[0, -1]], [1e-3, 1.0], rtol=1e-14)
    res = tunelab.lr_finder(lambda lr: np.nan if lr > 0.1 else 1.0 - lr, lr_min=1e-3, lr_max=1.0, num_steps=20)
    assert res.diverged and math.isinf(res.smoothed[-1]) and res.lr_suggested <= 0.1


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(step=3), TypeError, "step"),
        (dict(step=lambda lr: 1.0, lr_min=0.0), ValueError, "lr_min"),
        (dict(step=lambda lr: 1.0, lr_min=1.0, lr_max=0.5), ValueError, "lr_max"),
        (dict(step=lambda lr: 1.0, num_steps=1), ValueError, "num_steps"),
        (dict(step=lambda lr: 1.0, smooth=1.0), ValueError, "smooth"),
        (dict(step=lambda lr: 1.0, smooth=-0.1), ValueError, "smooth"),
        (dict(step=lambda lr: 1.0, diverge_factor=1.0), ValueError, "diverge_factor"),
        (dict(step=lambda lr: [1.0, 2.0]), TypeError, "step must return a real scalar"),
    ],
)
def test_lr_finder_refusals(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        tunelab.lr_finder(**kwargs)
