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
    atol = 1e-12 · (|f0| + α g'g + α² |g'Hg|) per rate. loss0 = ½x'Ax itself agrees to the
    rounding bound of a quadratic form, 2(n + 1)·ε·½|x|'|A||x| (it cancels when A is nearly
    singular along x, so a relative tolerance alone cannot hold)."""
    x0 = np.random.default_rng(seed).standard_normal(a.shape[0])
    lam = np.abs(np.linalg.eigvalsh(a)).max()
    lrs = np.logspace(-2, 1, 61) / lam
    got = tunelab.lr_range_test_quadratic(a, x0, lrs)
    exp = ref.lr_range_test_quadratic(a, x0, lrs)
    g = a @ x0
    scale = abs(exp.loss0) + lrs * (g @ g) + lrs**2 * abs(g @ a @ g)
    np.testing.assert_allclose(got.losses, exp.losses, rtol=0, atol=1e-12 * scale.max())
    n = a.shape[0]
    form_bound = 2 * (n + 1) * np.finfo(float).eps * 0.5 * (np.abs(x0) @ np.abs(a) @ np.abs(x0))
    np.testing.assert_allclose(got.loss0, exp.loss0, rtol=0, atol=form_bound)
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
        (dict(step=lambda lr: 1.0, suggestion="steepest"), ValueError, "suggestion"),
        (dict(step=lambda lr: 1.0, suggestion=None), ValueError, "suggestion"),
        (dict(step=lambda lr: 1.0, skip_start=-1), ValueError, "skip_start"),
        (dict(step=lambda lr: 1.0, skip_start=2.0), TypeError, "skip_start"),
        (dict(step=lambda lr: 1.0, skip_end=-1), ValueError, "skip_end"),
    ],
)
def test_lr_finder_refusals(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        tunelab.lr_finder(**kwargs)


# ---------------------------------------------------------------------------------------------
# the suggestions: valley, steep, minimum
class _Curve:
    """``step`` that returns the given losses in order, whatever the rate."""

    def __init__(self, values):
        self.values, self.i = list(values), 0

    def __call__(self, lr):
        self.i += 1
        return self.values[self.i - 1]


def _noisy_lr_curve(seed, num_steps=100):
    """A typical finder curve on a log grid from 1e-7 to 10: flat, a descent around 1e-3..1e-1, a
    blow-up near 10, with 5 % multiplicative noise."""
    t = np.linspace(-7.0, 1.0, num_steps)  # log10 of the rate
    clean = 1.0 + 2.0 / (1.0 + np.exp(2.5 * (t + 2.5))) + np.exp(8.0 * (t - 0.3))
    return clean * np.exp(0.05 * np.random.default_rng(seed).standard_normal(num_steps))


def _index(res, lr):
    """Index of ``lr`` in ``res.lrs`` (``lr`` is one of the rates, or a tenth of one for "minimum")."""
    i = int(np.argmin(np.abs(np.log(res.lrs) - np.log(lr))))
    np.testing.assert_allclose(res.lrs[i], lr, rtol=1e-14)
    return i


def test_suggestions_on_a_hand_derived_curve():
    """Losses 5 4 6 3 2 7 1 8 (no smoothing, nothing skipped). Longest strictly decreasing
    subsequences ending at each point: 1 2 1 3 4 1 5 1, so the longest valley has d = 5 points and
    ends at e = 6: its middle is 6 − 2 = 4. Central differences (one-sided at the ends):
    −1, ½, −½, −2, 2, −½, ½, 7, least at 3. The lowest loss is at 6."""
    values = [5.0, 4.0, 6.0, 3.0, 2.0, 7.0, 1.0, 8.0]
    for name, index, scale in (("valley", 4, 1.0), ("steep", 3, 1.0), ("minimum", 6, 0.1)):
        res = tunelab.lr_finder(_Curve(values), lr_min=1e-3, lr_max=1.0, num_steps=8, smooth=0.0, diverge_factor=100.0,
                                skip_start=0, skip_end=0, suggestion=name)
        assert res.suggestion == name and not res.diverged
        assert res.lr_suggested == res.suggestions[name] == res.lrs[index] * scale
        assert list(res.suggestions) == ["valley", "steep", "minimum"]
    # fastai's defaults skip num_steps // 10 = 0 points at the start and 5 at the end: 5 4 6 left
    res = tunelab.lr_finder(_Curve(values), lr_min=1e-3, lr_max=1.0, num_steps=8, smooth=0.0, diverge_factor=100.0)
    assert res.suggestions == {"valley": res.lrs[0], "steep": res.lrs[0], "minimum": res.lrs[1] / 10}


@pytest.mark.parametrize("suggestion", ["valley", "steep", "minimum"])
@pytest.mark.parametrize("smooth", [0.0, 0.9, 0.98])
def test_suggestions_match_reference_on_noisy_curves(suggestion, smooth):
    """Every rule, on ten noisy finder curves, equals the reference's (same point; the rates agree
    to 1e-14, two ``pow`` implementations)."""
    for seed in range(10):
        values = _noisy_lr_curve(seed)
        got = tunelab.lr_finder(_Curve(values), suggestion=suggestion, smooth=smooth)
        exp = ref.lr_finder(_Curve(values), suggestion=suggestion, smooth=smooth)
        np.testing.assert_allclose(got.smoothed, exp.smoothed, rtol=1e-12)
        assert got.suggestion == exp.suggestion == suggestion and got.diverged == exp.diverged
        for name in ("valley", "steep", "minimum"):
            np.testing.assert_allclose(got.suggestions[name], exp.suggestions[name], rtol=1e-14)
        np.testing.assert_allclose(got.lr_suggested, exp.lr_suggested, rtol=1e-14)


def test_suggestions_avoid_the_ends_of_noisy_curves():
    """The issue's failure: steepest descent over the whole curve lands on the first rate of a
    noisy run (on six of these ten: the moving average's first steps). With the ends skipped, on
    ten data orders no suggested rate is in the first or last tenth of the curve, and the valley
    lies on the descent (1e-4 < α < 1e-1)."""
    for seed in range(10):
        res = tunelab.lr_finder(_Curve(_noisy_lr_curve(seed)))
        assert res.diverged
        k = res.lrs.size
        for name, lr in res.suggestions.items():
            assert res.lrs[k // 10] <= lr < res.lrs[k - k // 10], (seed, name, lr)
        assert 1e-4 < res.suggestions["valley"] < 1e-1


_CURVES = st.lists(st.integers(-20, 20), min_size=2, max_size=40)


def _run_curve(values, **kwargs):
    kwargs.setdefault("diverge_factor", 1e300)
    return tunelab.lr_finder(_Curve(values), lr_min=1e-3, lr_max=1.0, num_steps=len(values), **kwargs)


@given(values=_CURVES, smooth=st.sampled_from([0.0, 0.5, 0.9]), skip_start=st.integers(0, 6),
       skip_end=st.integers(0, 6), diverge=st.sampled_from([1.5, 4.0, 1e300]))
def test_suggestions_lie_inside_the_skipped_ends(values, smooth, skip_start, skip_end, diverge):
    """Each rule's point is in ``[skip_start, u − skip_end)`` (``u``: the usable steps, the stopping
    step left out); with that window empty every suggestion is NaN. Without smoothing (exact
    arithmetic in both) it matches the reference. With smoothing the two compute the moving
    average differently (recursion vs weighted mean), and on these integer curves equal losses
    give smoothed values that differ in the last bits, so a tie (in the valley's strict descent,
    the minimum, the least slope) may break either way: there only the window is checked (the
    agreement on noisy curves is test_suggestions_match_reference_on_noisy_curves')."""
    values = [float(np.exp(v / 4)) for v in values]  # positive losses, so the divergence rule can fire
    res = _run_curve(values, smooth=smooth, skip_start=skip_start, skip_end=skip_end, diverge_factor=diverge)
    used = res.lrs.size - res.diverged
    exp = ref.lr_finder(_Curve(values), lr_min=1e-3, lr_max=1.0, num_steps=len(values), smooth=smooth,
                        skip_start=skip_start, skip_end=skip_end, diverge_factor=diverge)
    for name, lr in res.suggestions.items():
        if smooth == 0.0:
            np.testing.assert_allclose(lr, exp.suggestions[name], rtol=1e-14)
        if used - skip_end <= skip_start or (name == "steep" and used < 2):
            assert math.isnan(lr), name
        else:
            assert skip_start <= _index(res, lr * 10 if name == "minimum" else lr) < used - skip_end, name


_INCREASING = [np.exp, lambda y: y**3 + 5 * y, lambda y: np.arctan(y / 8)]


@given(values=_CURVES, transform=st.sampled_from(_INCREASING), skip_start=st.integers(0, 3), skip_end=st.integers(0, 3))
def test_valley_and_minimum_depend_only_on_the_order(values, transform, skip_start, skip_end):
    """Without smoothing, any increasing transform of the losses (each keeps distinct integers
    distinct in float64) leaves the valley and the minimum unchanged."""
    y = np.array(values, dtype=float)
    kw = dict(smooth=0.0, skip_start=skip_start, skip_end=skip_end)
    a, b = _run_curve(y, **kw), _run_curve(transform(y), **kw)
    for name in ("valley", "minimum"):
        assert a.suggestions[name] == b.suggestions[name] or math.isnan(a.suggestions[name]) and math.isnan(b.suggestions[name])


@given(values=_CURVES, scale=st.sampled_from([0.25, 1.0, 8.0]), shift=st.integers(-100, 100),
       skip_start=st.integers(0, 3), skip_end=st.integers(0, 3))
def test_steep_is_invariant_to_positive_affine_maps(values, scale, shift, skip_start, skip_end):
    """Without smoothing, ``a ℓ + b`` with ``a > 0`` (exact here: a power of two times small
    integers plus an integer) leaves every suggestion unchanged; ``−ℓ`` turns the least slope
    into the greatest, so "steep" is not invariant to decreasing maps (checked on one curve)."""
    y = np.array(values, dtype=float)
    kw = dict(smooth=0.0, skip_start=skip_start, skip_end=skip_end)
    a, b = _run_curve(y, **kw), _run_curve(scale * y + shift, **kw)
    np.testing.assert_array_equal(list(a.suggestions.values()), list(b.suggestions.values()))
    up = _run_curve([3.0, 2.0, 0.0, -1.0, 5.0], smooth=0.0, skip_start=0, skip_end=0)
    down = _run_curve([-3.0, -2.0, 0.0, 1.0, -5.0], smooth=0.0, skip_start=0, skip_end=0)
    assert up.suggestions["steep"] == up.lrs[1] and down.suggestions["steep"] == down.lrs[4]


def test_lr_finder_plot_clips_a_spike_and_marks_every_suggestion():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    values = _noisy_lr_curve(0)
    values[30] = 1e4  # one spike of the raw loss
    res = tunelab.lr_finder(_Curve(values), smooth=0.0)
    ax = res.plot()
    assert ax.get_xscale() == "log"
    low, high = ax.get_ylim()
    assert high < 10 and low < np.min(res.smoothed) < high
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    for name in ("valley", "steep", "minimum"):
        assert sum(label.startswith(name) for label in labels) == 1
    assert any(label.endswith("(suggested)") and label.startswith("valley") for label in labels)
    plt.close(ax.figure)
