"""Early-stopping reliability: the exact first-passage law, Monte Carlo of the gap rule (with
AR(1) noise) and of Keras-style patience, threshold selection, reproducibility, refusals."""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.special import ndtr

import tunelab
from tunelab import reference as ref
from tunelab._random import kernel_key

from .strategies import finite_arrays, seeds, strided

EP = np.arange(1, 61, dtype=float)
TRAIN = 1.0 / EP
# Three gap curves: convex overfitting, linear, and one that rises then saturates.
GAPS = {
    "convex": 2e-4 * EP**1.5,
    "linear": 0.002 * EP,
    "saturating": 0.12 * (1 - np.exp(-EP / 25)),
}


def _tv(a_pmf, a_never, b_pmf, b_never):
    return 0.5 * (np.abs(a_pmf - b_pmf).sum() + abs(a_never - b_never))


# --------------------------------------------------------------------------------------------
# exact law


@given(
    gap=strided(finite_arrays(st.integers(1, 300), lo=-1.0, hi=1.0)),
    threshold=st.floats(-1.0, 1.0),
    sigma=st.sampled_from([0.0, 1e-6, 1e-3, 0.05, 1.0, 100.0]),
)
def test_exact_equals_log_ndtr_reference(gap, threshold, sigma):
    """The compiled law equals the log_ndtr reference. Both evaluate each log-term to ~1e-16
    relative; the running log-survival S is used only while S > -800 (beyond, every term is
    exactly 0 in both), so S differs by at most ~300 * 800 * 1e-16 ~ 2.4e-11 and exp(S) by
    that relative amount, inside rtol 1e-9; atol 1e-290 covers values that underflow to
    subnormals differently."""
    train = np.zeros_like(gap)
    d = tunelab.stopping_distribution(train, gap, threshold, noise_std=(0.0, sigma))
    pmf, p_never = ref.stopping_distribution(np.ascontiguousarray(gap), threshold, sigma)
    np.testing.assert_allclose(d.pmf, pmf, rtol=1e-9, atol=1e-290)
    np.testing.assert_allclose(d.p_never, p_never, rtol=1e-9, atol=1e-290)
    assert abs(d.pmf.sum() + d.p_never - 1.0) < 1e-12


def _numpy_summary(pmf, levels):
    """The NumPy summary the compiled one (``_core.pmf_summary``, ``_core.exact_law``) must
    reproduce: plain numpy sums (pairwise) over the support, cumsum + searchsorted."""
    mass = pmf.sum()
    nz = np.flatnonzero(pmf)
    if mass > 0:
        lo, hi = int(nz[0]), int(nz[-1]) + 1
        e, p = np.arange(lo + 1.0, hi + 1.0), pmf[lo:hi]
        mean = float((e * p).sum() / mass)
        std = float(math.sqrt(max(((e - mean) ** 2 * p).sum() / mass, 0.0)))
    else:
        mean = std = math.nan
    idx = np.searchsorted(np.cumsum(pmf), np.asarray(levels, dtype=float) * (1.0 - 1e-12), side="left")
    return mean, std, np.where(idx < pmf.shape[0], idx + 1.0, math.inf)


def _same_bits(a, b):
    return np.asarray(a, dtype=float).tobytes() == np.asarray(b, dtype=float).tobytes()


def _assert_summary_close(got, want):
    """mean and std against the NumPy expressions. The compiled summary follows numpy.sum's
    pairwise tree (NumPy 2.4: the same bits), but that tree is NumPy's implementation detail, so
    the test allows what another summation order could change: a few ulp of the result (the
    std's squared deviations are non-negative, the mean's terms too: relative error of any order
    <= n eps, far below 1e-12 for n <= 5000)."""
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0.0)


@st.composite
def _pmfs(draw):
    """Sub-stochastic pmfs: a random support (up to 3000 epochs, so NumPy's pairwise tree has
    several levels) inside a longer horizon, entries spanning many magnitudes, exact zeros inside."""
    n = draw(st.integers(1, 5000))
    lo = draw(st.integers(0, n - 1))
    hi = draw(st.integers(lo, min(n, lo + 3000)))
    seed = draw(st.integers(0, 2**32 - 1))
    g = np.random.default_rng(seed)
    pmf = np.zeros(n)
    w = g.random(hi - lo) ** draw(st.sampled_from([1.0, 8.0, 60.0]))
    w[g.random(hi - lo) < draw(st.sampled_from([0.0, 0.3]))] = 0.0
    if w.sum() > 0:
        pmf[lo:hi] = w / w.sum() * draw(st.sampled_from([1.0, 0.7, 1e-3, 1e-300]))
    return pmf


@given(pmf=_pmfs(), level=st.floats(1e-300, 1.0))
def test_compiled_summary_equals_numpy(pmf, level):
    """mean, std and quantiles of any pmf (Monte Carlo laws included) are the NumPy expressions':
    quantiles exactly (cumsum's sequential order), mean and std to rounding."""
    from tunelab.early_stop import StoppingDistribution, _quantile, _summary

    mean, std, q = _summary(pmf)
    ref_mean, ref_std, ref_q = _numpy_summary(pmf, StoppingDistribution.quantile_levels)
    _assert_summary_close([mean, std], [ref_mean, ref_std])
    np.testing.assert_array_equal(q, ref_q)
    assert _quantile(pmf, level) == _numpy_summary(pmf, [level])[2][0]
    assert tunelab._core.pmf_summary(pmf, np.array([level]), moments=False)[:2] == (None, None)  # quantiles only


@given(
    n=st.integers(1, 20_000),
    slope=st.floats(0.0, 3.0),
    threshold=st.floats(-0.5, 1.5),
    sigma=st.sampled_from([0.0, 1e-4, 0.01, 0.1, 1.0, 30.0]),
)
def test_exact_law_summary_and_threads(n, slope, threshold, sigma):
    """Long horizons, where the kernel stops at the first exact underflow of the survival (mid
    block): the law equals the reference (tolerances of test_exact_equals_log_ndtr_reference),
    does not depend on the thread count (bits), and its summary and E* are NumPy's on its pmf."""
    e = np.arange(1, n + 1, dtype=float)
    gap = slope * (e / n) ** 2
    d1 = tunelab.stopping_distribution(np.zeros(n), gap, threshold, noise_std=(0.0, sigma), num_threads=1)
    d2 = tunelab.stopping_distribution(np.zeros(n), gap, threshold, noise_std=(0.0, sigma), num_threads=2)
    for a, b in [(d1.pmf, d2.pmf), (d1.p_never, d2.p_never), (d1.mean, d2.mean), (d1.std, d2.std)]:
        assert _same_bits(a, b)
    pmf, p_never = ref.stopping_distribution(gap, threshold, sigma)
    np.testing.assert_allclose(d1.pmf, pmf, rtol=1e-8, atol=1e-290)
    np.testing.assert_allclose(d1.p_never, p_never, rtol=1e-8, atol=1e-290)
    mean, std, q = _numpy_summary(d1.pmf, d1.quantile_levels)
    _assert_summary_close([d1.mean, d1.std], [mean, std])
    np.testing.assert_array_equal(d1.quantiles, q)
    crossed = np.flatnonzero(gap > threshold)
    assert d1.ideal_epoch == (int(crossed[0]) + 1 if crossed.size else None)
    # the pmf the public function returns is the one the plain kernel writes
    k_pmf, k_never = tunelab._core.exact_first_passage(gap, threshold, sigma, 1)
    assert _same_bits(d1.pmf, k_pmf) and _same_bits(d1.p_never, k_never)


@pytest.mark.parametrize("shape", ["convex", "flat-below", "crossing-late"])
def test_exact_law_stable_for_1e5_epochs_and_all_noise_levels(shape):
    """Horizon 10^5, noise from 1e-6 to 10x the gap's range: finite, non-negative, and the pmf
    plus p_never sums to 1 within 1e-12."""
    E = 100_000
    e = np.arange(1, E + 1, dtype=float)
    gap = {
        "convex": 0.3 * (e / E) ** 2,
        "flat-below": 0.01 + 0.0 * e,
        "crossing-late": 0.1 * np.log1p(e) / np.log1p(E),
    }[shape]
    rng_ = float(np.ptp(gap)) or 0.01
    for sigma in np.geomspace(1e-6, 10 * rng_, 9):
        for delta in (0.02, 0.05, 0.099):
            d = tunelab.stopping_distribution(np.zeros(E), gap, delta, noise_std=(0.0, float(sigma)))
            assert np.isfinite(d.pmf).all() and np.isfinite(d.p_never)
            assert (d.pmf >= 0).all() and 0.0 <= d.p_never <= 1.0
            assert abs(d.pmf.sum() + d.p_never - 1.0) < 1e-12, (sigma, delta)


def test_exact_law_long_horizon_equals_reference():
    """One 10^5-epoch case against the log_ndtr reference (tolerance as above, 1e5 terms)."""
    E = 100_000
    e = np.arange(1, E + 1, dtype=float)
    gap = 0.3 * (e / E) ** 2
    d = tunelab.stopping_distribution(np.zeros(E), gap, 0.2, noise_std=(0.0, 0.01))
    pmf, p_never = ref.stopping_distribution(gap, 0.2, 0.01)
    np.testing.assert_allclose(d.pmf, pmf, rtol=1e-8, atol=1e-290)
    # More threads compute the terms after epoch 8192 in parallel rounds whose size depends on
    # the thread count; the law must be the same bits (this pmf is nonzero up to epoch ~81,000).
    for threads in (2, 3):
        dt = tunelab.stopping_distribution(np.zeros(E), gap, 0.2, noise_std=(0.0, 0.01), num_threads=threads)
        assert _same_bits(dt.pmf, d.pmf) and _same_bits(dt.p_never, d.p_never)


@pytest.mark.parametrize("E", [8192, 8193, 9000])
def test_exact_law_parallel_rounds_at_the_serial_head_edge(E):
    """Horizons at and just past the 8192 epochs computed serially before the parallel rounds,
    with many threads (a round would be larger than what is left): the same bits as 1 thread."""
    e = np.arange(1, E + 1, dtype=float)
    gap = 0.3 * (e / E) ** 2
    # (0.45, 0.006): far below the threshold, pmf entries only in the last ~1200 epochs (z < 40);
    # (0.29, 0.01): crossing at the very end. Both laws reach the last epoch.
    for delta, sigma in ((0.45, 0.006), (0.29, 0.01)):
        d1 = tunelab.stopping_distribution(np.zeros(E), gap, delta, noise_std=(0.0, sigma), num_threads=1)
        assert d1.pmf[-1] > 0.0
        for threads in (2, 64):
            dt = tunelab.stopping_distribution(np.zeros(E), gap, delta, noise_std=(0.0, sigma), num_threads=threads)
            assert _same_bits(dt.pmf, d1.pmf) and _same_bits(dt.p_never, d1.p_never)


def test_exact_noise_free_is_a_point_mass_at_the_ideal_epoch():
    d = tunelab.stopping_distribution(TRAIN, TRAIN + GAPS["linear"], 0.05, noise_std=0.0)
    assert d.ideal_epoch == 26  # 0.002 * 26 = 0.052 > 0.05 >= 0.002 * 25
    expected = np.zeros(60)
    expected[25] = 1.0
    np.testing.assert_array_equal(d.pmf, expected)
    assert d.p_never == 0.0 and d.reliability(0) == 1.0
    assert d.mean == 26 and d.std == 0 and np.all(d.quantiles == 26)


def test_exact_two_epoch_closed_form():
    """P(E^=1) = Phi(-z1), P(E^=2) = Phi(z1) Phi(-z2), p_never = Phi(z1) Phi(z2)."""
    gap, delta, st_, sv = np.array([0.1, 0.3]), 0.2, 0.05, 0.12
    s = math.hypot(st_, sv)
    z = (delta - gap) / s
    d = tunelab.stopping_distribution(np.zeros(2), gap, delta, noise_std=(st_, sv))
    np.testing.assert_allclose(d.pmf, [ndtr(-z[0]), ndtr(z[0]) * ndtr(-z[1])], rtol=1e-14)
    np.testing.assert_allclose(d.p_never, ndtr(z[0]) * ndtr(z[1]), rtol=1e-14)


def test_summaries_and_reliability():
    d = tunelab.stopping_distribution(TRAIN, TRAIN + GAPS["convex"], 0.05, noise_std=0.004)
    e = np.arange(1, 61)
    stopped = d.pmf.sum()
    assert d.mean == pytest.approx((e * d.pmf).sum() / stopped, rel=1e-12)
    assert d.std == pytest.approx(math.sqrt(((e - d.mean) ** 2 * d.pmf).sum() / stopped), rel=1e-12)
    cdf = np.cumsum(d.pmf)
    for lv, q in zip(d.quantile_levels, d.quantiles):
        assert cdf[int(q) - 1] >= lv * (1 - 1e-12) and (q == 1 or cdf[int(q) - 2] < lv)
    es = d.ideal_epoch
    assert d.reliability(3) == pytest.approx(d.pmf[es - 4 : es + 3].sum(), rel=1e-14)
    assert d.reliability(0) <= d.reliability(1) <= d.reliability(100) == pytest.approx(stopped)
    # never crossing: the right answer is "do not stop" -> reliability = p_never
    never = tunelab.stopping_distribution(TRAIN, TRAIN + GAPS["linear"], 0.5, noise_std=0.01)
    assert never.ideal_epoch is None and never.reliability(5) == never.p_never
    assert math.isinf(tunelab.stopping_distribution(TRAIN, TRAIN + GAPS["linear"], 0.5, noise_std=0.0).quantile(0.5))


def test_curves_as_callables():
    arrays = tunelab.stopping_distribution(TRAIN, TRAIN + GAPS["convex"], 0.05, noise_std=0.01)
    vec = tunelab.stopping_distribution(lambda e: 1 / e, lambda e: 1 / e + 2e-4 * e**1.5, 0.05, noise_std=0.01, n_epochs=60)
    scalar = tunelab.stopping_distribution(TRAIN, lambda e: 1 / e + 2e-4 * math.pow(e, 1.5), 0.05, noise_std=0.01)
    np.testing.assert_allclose(vec.pmf, arrays.pmf, rtol=1e-12)
    np.testing.assert_allclose(scalar.pmf, arrays.pmf, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# Monte Carlo of the gap rule


@pytest.mark.slow
@pytest.mark.parametrize(
    "name,delta,noise",
    [("convex", 0.05, 0.004), ("linear", 0.06, (0.005, 0.01)), ("saturating", 0.08, 0.006)],
)
def test_monte_carlo_matches_exact_law_tv(name, delta, noise):
    """n_rep = 10^6: total variation to the exact law below 0.005 (the issue's bound; the
    expected TV here is ~ sum_e sqrt(p_e / n) sqrt(2 / pi) / 2 ~ 0.001-0.003), and every bin
    within 5 binomial standard errors."""
    gap = GAPS[name]
    ex = tunelab.stopping_distribution(TRAIN, TRAIN + gap, delta, noise_std=noise)
    mc = tunelab.stopping_distribution(TRAIN, TRAIN + gap, delta, noise_std=noise, method="monte_carlo", n_rep=10**6, rng=7)
    assert _tv(mc.pmf, mc.p_never, ex.pmf, ex.p_never) < 0.005
    se = np.sqrt(ex.pmf * (1 - ex.pmf) / 10**6) + 1e-7
    assert np.all(np.abs(mc.pmf - ex.pmf) <= 5 * se)
    assert abs(mc.reliability(3) - ex.reliability(3)) <= 5 * mc.reliability_se(3) + 1e-7


@given(
    gap=finite_arrays(st.integers(1, 40), lo=-0.2, hi=0.2),
    delta=st.floats(-0.1, 0.1),
    sigma=st.sampled_from([0.0, 0.01, 0.1, 1.0]),
    rho=st.sampled_from([0.0, 0.5, -0.3, 0.95]),
    seed=seeds,
)
def test_monte_carlo_equals_numpy_reference(gap, delta, sigma, rho, seed):
    """Counts equal the vectorised NumPy reference's, which draws the same Philox numbers
    (uniforms: bit-identical; normals: equal to ~1e-13, so a comparison could flip only for a
    draw within 1e-13 of the threshold -- probability ~1e-10 per test, accepted)."""
    n_rep = 300
    key = kernel_key(seed)
    d = tunelab.stopping_distribution(
        np.zeros_like(gap), gap, delta, noise_std=(0.0, sigma), method="monte_carlo", rho=rho, n_rep=n_rep, rng=seed
    )
    counts = ref.stopping_distribution(gap, delta, sigma, method="monte_carlo", rho=rho, n_rep=n_rep, key=key)
    np.testing.assert_array_equal(np.round(d.pmf * n_rep).astype(np.int64), counts[:-1])
    assert round(d.p_never * n_rep) == counts[-1]
    crossed = np.flatnonzero(gap > delta)
    assert d.ideal_epoch == (int(crossed[0]) + 1 if crossed.size else None)


@pytest.mark.parametrize("rho", [0.0, 0.6])
def test_monte_carlo_bit_identical_threads_and_executors(rho):
    kw = dict(noise_std=0.01, method="monte_carlo", rho=rho, n_rep=50_000, rng=3)
    args = (TRAIN, TRAIN + GAPS["convex"], 0.05)
    one = tunelab.stopping_distribution(*args, num_threads=1, **kw)
    two = tunelab.stopping_distribution(*args, num_threads=2, **kw)
    with cf.ThreadPoolExecutor(2) as ex:
        pooled = tunelab.stopping_distribution(*args, executor=ex, **kw)
    mapped = tunelab.stopping_distribution(*args, executor=map, progress=True, **kw)
    for other in (two, pooled, mapped):
        np.testing.assert_array_equal(other.pmf, one.pmf)
        assert other.p_never == one.p_never


def test_ar1_with_rho_to_zero_matches_independent_noise():
    """rho = 1e-9 runs the AR(1) (normal) kernel; its law must match the exact independent law
    (every bin within 5 SE) and the rho = 0 (uniform) kernel's within 5 SE of the difference."""
    n = 400_000
    args = (TRAIN, TRAIN + GAPS["convex"], 0.05)
    ex = tunelab.stopping_distribution(*args, noise_std=0.004)
    tiny = tunelab.stopping_distribution(*args, noise_std=0.004, method="monte_carlo", rho=1e-9, n_rep=n, rng=11)
    zero = tunelab.stopping_distribution(*args, noise_std=0.004, method="monte_carlo", rho=0.0, n_rep=n, rng=12)
    se = np.sqrt(ex.pmf * (1 - ex.pmf) / n) + 1e-7
    assert np.all(np.abs(tiny.pmf - ex.pmf) <= 5 * se)
    assert np.all(np.abs(tiny.pmf - zero.pmf) <= 5 * np.sqrt(2) * se)
    # ...and a clearly correlated noise does change the law (so the check above can fail)
    corr = tunelab.stopping_distribution(*args, noise_std=0.004, method="monte_carlo", rho=0.9, n_rep=n, rng=11)
    assert _tv(corr.pmf, corr.p_never, ex.pmf, ex.p_never) > 0.05


@pytest.mark.parametrize("rho", [0.5, 0.9, -0.7])
def test_ar1_two_epoch_horizon_matches_bivariate_normal(rho):
    """Two epochs: (eps1, eps2) is bivariate normal with correlation rho, so with z_e =
    (delta - G(e)) / sigma: P(E^=1) = Phi(-z1), p_never = Phi2(z1, z2; rho),
    P(E^=2) = Phi(z1) - Phi2(z1, z2; rho). Tolerance 5 binomial SE (+ 1e-5 for the Genz
    integration of multivariate_normal.cdf). The independent value Phi(z1) Phi(z2) is far
    outside that band, so the check discriminates."""
    gap, delta, noise = np.array([0.05, 0.12]), 0.1, (0.03, 0.04)
    s = math.hypot(*noise)
    z1, z2 = (delta - gap) / s
    phi2 = stats.multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([z1, z2])
    expected = np.array([ndtr(-z1), ndtr(z1) - phi2, phi2])
    n = 400_000
    d = tunelab.stopping_distribution(np.zeros(2), gap, delta, noise_std=noise, method="monte_carlo", rho=rho, n_rep=n, rng=5)
    got = np.append(d.pmf, d.p_never)
    se = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(got - expected) <= 5 * se + 1e-5)
    assert abs(ndtr(z1) * ndtr(z2) - phi2) > 20 * se[2]


# --------------------------------------------------------------------------------------------
# threshold selection


def test_threshold_for_reliability_reaches_target_and_is_smallest():
    train, val = TRAIN, TRAIN + GAPS["convex"]
    ch = tunelab.threshold_for_reliability(train, val, noise_std=0.003, k=3, target=0.9)
    assert ch.reached and ch.threshold is not None
    d = tunelab.stopping_distribution(train, val, ch.threshold, noise_std=0.003)
    assert d.reliability(3) >= 0.9 and d.reliability(3) == pytest.approx(ch.reliability)
    assert d.ideal_epoch == ch.ideal_epoch and ch.ideal_epoch > 4
    assert ch.ideal_epoch == int(np.flatnonzero(val - train > ch.threshold)[0]) + 1
    # just below, the target is missed (the bisection's bracket)
    below = tunelab.stopping_distribution(train, val, ch.threshold - 1e-9, noise_std=0.003)
    assert below.reliability(3) < 0.9
    # the reference's brute-force scan (fine grid + segment ends) finds it within its grid step
    r = ref.threshold_for_reliability(GAPS["convex"], 0.003 * math.sqrt(2), k=3, target=0.9)
    step = (GAPS["convex"].max() - GAPS["convex"][:4].max()) / 2049
    assert r - step <= ch.threshold <= r + 1e-12
    # the reliability is a sawtooth in delta; every scanned point before the answer misses
    assert np.all(ch.reliabilities[ch.thresholds < ch.threshold] < 0.9)


def test_threshold_for_reliability_says_when_none_does():
    ch = tunelab.threshold_for_reliability(TRAIN, TRAIN + GAPS["convex"], noise_std=0.05, k=1, target=0.99)
    assert not ch.reached and ch.threshold is None
    assert "no threshold" in ch.message and ch.best_reliability < 0.99
    assert ch.best_reliability == pytest.approx(ch.reliabilities.max())
    assert ref.threshold_for_reliability(GAPS["convex"], 0.05 * math.sqrt(2), k=1, target=0.99) is None
    flat = tunelab.threshold_for_reliability(TRAIN, TRAIN + 0.01, noise_std=0.01, k=1, target=0.5)
    assert not flat.reached and "never rises" in flat.message


# --------------------------------------------------------------------------------------------
# patience (Keras EarlyStopping)

KERAS_CURVE = np.array([1.0, 0.9, 0.95, 0.85, 0.86, 0.87, 0.88, 0.7, 0.71, 0.72])


@pytest.mark.parametrize(
    "patience,min_delta,restore_best,stop,restored",
    [
        # e2 improves, e3 wait 1, e4 improves (0.85 < 0.9), e5 wait 1, e6 wait 2 -> stop; best e4
        (2, 0.0, True, 6, 4),
        (2, 0.0, False, 6, 6),
        # min_delta 0.06: e2 (0.96 < 1.0) improves; e3 (1.01) wait 1; e4 (0.91 < 0.9? no) wait 2 -> stop
        (2, 0.06, True, 4, 2),
        # patience 4: e4 best, e5..e7 wait 1..3, e8 (0.7) improves, e9 1, e10 2: runs out unstopped
        (4, 0.0, True, None, 8),
        (4, 0.0, False, None, 10),
    ],
)
def test_patience_follows_keras_semantics_noise_free(patience, min_delta, restore_best, stop, restored):
    """Hand-traced Keras 3 EarlyStopping on a fixed curve (noise_std=0)."""
    r = tunelab.patience_stopping(
        KERAS_CURVE, patience=patience, min_delta=min_delta, noise_std=0.0, restore_best=restore_best, n_rep=10
    )
    if stop is None:
        assert r.p_not_stopped == 1.0 and r.expected_epochs == 10
    else:
        assert r.stop_pmf[stop - 1] == 1.0 and r.expected_epochs == stop
    assert r.restored_pmf[restored - 1] == 1.0
    assert r.regret == pytest.approx(KERAS_CURVE[restored - 1] - KERAS_CURVE.min())
    assert r.best_epoch == 8


class KerasEarlyStopping:
    """Plain-Python transcription of keras.callbacks.EarlyStopping (Keras 3,
    keras/src/callbacks/early_stopping.py; baseline=None, start_from_epoch=0), driven by the
    monitored values one epoch at a time (epoch is 0-based, as Keras passes it)."""

    def __init__(self, patience, min_delta, mode, restore_best_weights):
        self.patience = patience
        self.min_delta = abs(min_delta)
        self.monitor_op = (lambda a, b: a < b) if mode == "min" else (lambda a, b: a > b)
        if mode == "min":
            self.min_delta *= -1
        self.restore_best_weights = restore_best_weights
        self.wait, self.stopped_epoch, self.best, self.best_weights, self.best_epoch = 0, 0, None, None, 0
        self.last_epoch = None

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return self.monitor_op(monitor_value - self.min_delta, reference_value)

    def on_epoch_end(self, epoch, current):
        """Returns True when Keras sets model.stop_training."""
        self.last_epoch = epoch
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = epoch, epoch  # "weights": the epoch they are from
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = epoch
            self.wait = 0
            return False
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            return True
        return False

    def kept_epoch(self):
        """on_train_end: the epoch whose weights the model ends with (0-based)."""
        return self.best_weights if self.restore_best_weights else self.last_epoch


def keras_run(val, patience, min_delta, mode, restore_best):
    """(stop epoch or None, kept epoch), both 1-based."""
    cb = KerasEarlyStopping(patience, min_delta, mode, restore_best)
    for epoch, v in enumerate(val):
        if cb.on_epoch_end(epoch, float(v)):
            return epoch + 1, cb.kept_epoch() + 1
    return None, cb.kept_epoch() + 1


def test_patience_zero_is_keras_default():
    """Issue 10 item 6: patience=0 (Keras' default) is accepted; it stops at the first epoch
    that does not improve (wait is incremented before it is compared), as patience=1 does."""
    r = tunelab.patience_stopping(KERAS_CURVE, patience=0, noise_std=0.0, n_rep=10)
    assert r.stop_pmf[2] == 1.0 and r.restored_pmf[1] == 1.0 and r.patience == 0  # e3 (0.95) does not improve
    assert keras_run(KERAS_CURVE, 0, 0.0, "min", True) == (3, 2)
    kw = dict(noise_std=0.05, rho=0.3, n_rep=4000, rng=3)
    zero, one = tunelab.patience_stopping(KERAS_CURVE, patience=0, **kw), tunelab.patience_stopping(KERAS_CURVE, patience=1, **kw)
    np.testing.assert_array_equal(zero.stop_pmf, one.stop_pmf)
    np.testing.assert_array_equal(zero.restored_pmf, one.restored_pmf)
    t = tunelab.patience_tradeoff(KERAS_CURVE, patience=(0, 1, 2), **kw)
    assert t.patience.tolist() == [0, 1, 2] and t.expected_epochs[0] == t.expected_epochs[1] == zero.expected_epochs
    with pytest.raises(ValueError, match="patience"):
        tunelab.patience_stopping(KERAS_CURVE, patience=-1, noise_std=0.0)
    with pytest.raises(ValueError, match="patience"):
        tunelab.patience_tradeoff(KERAS_CURVE, patience=(0, -1), noise_std=0.0)


_curves = st.one_of(
    finite_arrays(st.integers(1, 40), lo=-1.0, hi=1.0),
    # plateaus and exact ties (improvement is strict)
    st.lists(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), min_size=1, max_size=40).map(np.array),
)


@given(
    val=_curves,
    patience=st.integers(0, 8),
    min_delta=st.one_of(st.just(0.0), st.sampled_from([0.25, 0.5]), st.floats(0.0, 1.0, allow_nan=False)),
    mode=st.sampled_from(["min", "max"]),
    restore_best=st.booleans(),
)
def test_patience_equals_keras_transcription(val, patience, min_delta, mode, restore_best):
    """Noise-free curves (every replica observes the curve itself): the stop epoch and the kept
    epoch are those of the plain-Python transcription of Keras' EarlyStopping, for every
    patience >= 0 (exact: both compare the same doubles; expected_epochs, a mean computed in
    units of the largest epoch, to 4 ulp)."""
    stop, kept = keras_run(val, patience, min_delta, mode, restore_best)
    r = tunelab.patience_stopping(
        val, patience=patience, min_delta=min_delta, mode=mode, noise_std=0.0, restore_best=restore_best, n_rep=3
    )
    if stop is None:
        assert r.p_not_stopped == 1.0 and r.expected_epochs == pytest.approx(len(val), rel=1e-15)
    else:
        assert r.stop_pmf[stop - 1] == 1.0 and r.expected_epochs == pytest.approx(stop, rel=1e-15)
    assert r.restored_pmf[kept - 1] == 1.0


@given(
    val=finite_arrays(st.integers(1, 40), lo=-1.0, hi=1.0),
    patience=st.integers(0, 6),
    min_delta=st.sampled_from([0.0, 0.01, 0.2]),
    sigma=st.sampled_from([0.0, 0.05, 0.5]),
    rho=st.sampled_from([0.0, 0.7]),
    restore_best=st.booleans(),
    seed=seeds,
)
def test_patience_equals_numpy_reference(val, patience, min_delta, sigma, rho, restore_best, seed):
    """Counts equal the vectorised reference's (same Philox normals; see the gap-rule test for
    the ~1e-13 normal agreement)."""
    n_rep = 200
    r = tunelab.patience_stopping(
        val, patience=patience, min_delta=min_delta, noise_std=sigma, rho=rho, restore_best=restore_best, n_rep=n_rep,
        rng=seed,
    )
    stop, restored = ref.patience_stopping(
        val, patience=patience, min_delta=min_delta, sigma=sigma, rho=rho, restore_best=restore_best, n_rep=n_rep,
        key=kernel_key(seed),
    )
    np.testing.assert_array_equal(np.round(r.stop_pmf * n_rep).astype(np.int64), stop[:-1])
    assert round(r.p_not_stopped * n_rep) == stop[-1]
    np.testing.assert_array_equal(np.round(r.restored_pmf * n_rep).astype(np.int64), restored)
    gaps = val - val.min()
    assert r.regret == pytest.approx((restored * gaps).sum() / n_rep, rel=1e-12, abs=1e-15)


def test_patience_mode_max_is_mode_min_of_the_negated_curve():
    v = 0.5 + 0.3 * (1 - np.exp(-EP / 10)) - 0.002 * EP
    a = tunelab.patience_stopping(v, patience=4, min_delta=0.001, mode="max", noise_std=0.02, n_rep=5000, rng=2)
    b = tunelab.patience_stopping(-v, patience=4, min_delta=0.001, mode="min", noise_std=0.02, n_rep=5000, rng=2)
    np.testing.assert_array_equal(a.stop_pmf, b.stop_pmf)
    np.testing.assert_array_equal(a.restored_pmf, b.restored_pmf)
    assert a.regret == b.regret and a.regret > 0 and a.best_epoch == b.best_epoch == int(np.argmax(v)) + 1


def test_patience_regret_standard_error_and_bit_identity():
    """The regret's SE is sd/sqrt(n) of the per-replica regret; 4 independent seeds agree
    within 5 SE of their differences; threads, executors and chunkings give identical bits."""
    v = 1 / EP + 0.003 * EP
    kw = dict(patience=3, noise_std=0.03, rho=0.3, n_rep=60_000)
    one = tunelab.patience_stopping(v, rng=1, num_threads=1, **kw)
    two = tunelab.patience_stopping(v, rng=1, num_threads=2, **kw)
    with cf.ThreadPoolExecutor(2) as ex:
        pooled = tunelab.patience_stopping(v, rng=1, executor=ex, **kw)
    for other in (two, pooled):
        np.testing.assert_array_equal(other.stop_pmf, one.stop_pmf)
        np.testing.assert_array_equal(other.restored_pmf, one.restored_pmf)
        assert other.regret == one.regret
    g = v - v.min()
    sd = math.sqrt((one.restored_pmf * (g - one.regret) ** 2).sum() * kw["n_rep"] / (kw["n_rep"] - 1))
    assert one.regret_se == pytest.approx(sd / math.sqrt(kw["n_rep"]), rel=1e-9)
    others = [tunelab.patience_stopping(v, rng=s, **kw) for s in (2, 3)]
    for o in others:
        assert abs(o.regret - one.regret) <= 5 * math.hypot(o.regret_se, one.regret_se)
        assert abs(o.expected_epochs - one.expected_epochs) <= 5 * math.hypot(o.expected_epochs_se, one.expected_epochs_se)


def test_patience_through_a_forkserver_pool():
    v = 1 / EP + 0.003 * EP
    local = tunelab.patience_stopping(v, patience=3, noise_std=0.03, n_rep=20_000, rng=9)
    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver")) as ex:
        remote = tunelab.patience_stopping(v, patience=3, noise_std=0.03, n_rep=20_000, rng=9, executor=ex)
    np.testing.assert_array_equal(remote.restored_pmf, local.restored_pmf)


def test_frames_and_plots(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = tunelab.stopping_distribution(TRAIN, TRAIN + GAPS["convex"], 0.05, noise_std=0.004)
    assert list(d.to_frame().columns) == ["epoch", "pmf", "gap"]
    ch = tunelab.threshold_for_reliability(TRAIN, TRAIN + GAPS["convex"], noise_std=0.003, k=3, target=0.9)
    p = tunelab.patience_stopping(1 / EP + 0.003 * EP, patience=3, noise_std=0.03, n_rep=2000, rng=0)
    assert list(p.to_frame().columns) == ["epoch", "val_loss", "stop_pmf", "restored_pmf"]
    t = tunelab.patience_tradeoff(1 / EP + 0.003 * EP, patience=[1, 2], noise_std=0.03, n_rep=2000, rng=0)
    for obj in (d, ch, p, t):
        ax = obj.plot()
        ax.figure.savefig(tmp_path / f"{type(obj).__name__}.png")
        plt.close(ax.figure)
        assert type(obj).__name__ in repr(obj)


# --------------------------------------------------------------------------------------------
# refusals


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(train_loss=np.ones(5)), ValueError, "same length"),
        (dict(val_loss=np.array([1.0, np.nan] + [1.0] * 4)), ValueError, "val_loss"),
        (dict(train_loss=np.array([np.inf] + [1.0] * 5)), ValueError, "train_loss"),
        (dict(noise_std=-0.1), ValueError, "noise_std"),
        (dict(noise_std=(0.1, -0.1)), ValueError, "noise_std"),
        (dict(noise_std=(0.1, 0.2, 0.3)), TypeError, "noise_std"),
        (dict(noise_std="a"), TypeError, "noise_std"),
        (dict(rho=1.0, method="monte_carlo"), ValueError, "rho"),
        (dict(rho=-1.5, method="monte_carlo"), ValueError, "rho"),
        (dict(rho=0.5), ValueError, "rho"),  # method="exact" with correlated noise
        (dict(n_rep=0, method="monte_carlo"), ValueError, "n_rep"),
        (dict(method="bootstrap"), ValueError, "method"),
        (dict(threshold=float("nan")), ValueError, "threshold"),
        (dict(num_threads=0), ValueError, "num_threads"),
        (dict(rng="seed", method="monte_carlo"), TypeError, "rng"),
        (dict(executor=42, method="monte_carlo"), TypeError, "executor"),
        (dict(train_loss=np.ones((2, 3))), ValueError, "train_loss"),
        # finite curves whose difference overflows
        (dict(train_loss=np.full(6, -1e308), val_loss=np.full(6, 1e308)), ValueError, "val_loss - train_loss"),
        (dict(train_loss=np.full(6, -1e308), val_loss=np.full(6, 1e308), method="monte_carlo"), ValueError,
         "val_loss - train_loss"),
    ],
)
def test_stopping_distribution_refusals(kwargs, exc, match):
    args = dict(train_loss=np.ones(6), val_loss=np.ones(6), threshold=0.1, noise_std=0.1)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        tunelab.stopping_distribution(**args)


def test_callable_curves_need_a_horizon():
    with pytest.raises(ValueError, match="n_epochs"):
        tunelab.stopping_distribution(lambda e: e, lambda e: e, 0.1, noise_std=0.1)
    with pytest.raises(ValueError, match="n_epochs"):
        tunelab.stopping_distribution(lambda e: e, lambda e: e, 0.1, noise_std=0.1, n_epochs=0)


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(patience=-1), ValueError, "patience"),
        (dict(patience=1.5), TypeError, "patience"),
        (dict(n_rep=0), ValueError, "n_rep"),
        (dict(min_delta=-0.1), ValueError, "min_delta"),
        (dict(noise_std=-1.0), ValueError, "noise_std"),
        (dict(rho=1.0), ValueError, "rho"),
        (dict(mode="auto"), ValueError, "mode"),
        (dict(restore_best=1), TypeError, "restore_best"),
        (dict(val_loss=np.array([1.0, np.nan])), ValueError, "val_loss"),
        (dict(num_threads=-1), ValueError, "num_threads"),
    ],
)
def test_patience_refusals(kwargs, exc, match):
    args = dict(val_loss=np.ones(6), patience=2, noise_std=0.1, n_rep=10)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        tunelab.patience_stopping(**args)


def test_tradeoff_and_threshold_refusals():
    with pytest.raises(ValueError, match="patience"):
        tunelab.patience_tradeoff(np.ones(6), patience=[1, -1], noise_std=0.1, n_rep=10)
    with pytest.raises(ValueError, match="min_delta"):
        tunelab.patience_tradeoff(np.ones(6), patience=[1], min_delta=[-1.0], noise_std=0.1, n_rep=10)
    with pytest.raises(ValueError, match="at least one"):
        tunelab.patience_tradeoff(np.ones(6), patience=[], noise_std=0.1, n_rep=10)
    g = np.linspace(0, 1, 10)
    with pytest.raises(ValueError, match="target"):
        tunelab.threshold_for_reliability(np.zeros(10), g, noise_std=0.1, k=1, target=1.5)
    with pytest.raises(ValueError, match="k"):
        tunelab.threshold_for_reliability(np.zeros(10), g, noise_std=0.1, k=-1, target=0.5)
    with pytest.raises(ValueError, match="bounds"):
        tunelab.threshold_for_reliability(np.zeros(10), g, noise_std=0.1, k=1, target=0.5, bounds=(0.5, 0.1))
    with pytest.raises(ValueError, match="same length"):
        tunelab.threshold_for_reliability(np.zeros(9), g, noise_std=0.1, k=1, target=0.5)
    with warnings.catch_warnings():  # refused with a message, not NumPy's overflow warning
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="val_loss - train_loss overflows"):
            tunelab.threshold_for_reliability(np.full(10, -1e308), 1e308 * g, noise_std=0.1, k=1, target=0.5)
    d = tunelab.stopping_distribution(np.zeros(10), g, 0.5, noise_std=0.1)
    with pytest.raises(ValueError, match="k"):
        d.reliability(-1)
    with pytest.raises(ValueError, match="level"):
        d.quantile(0.0)


# ---------------------------------------------------------------------------------------------
# EarlyStopping: Keras' rule for a training loop
def _run_rule(values, **kwargs):
    es = tunelab.EarlyStopping(**kwargs)
    stops = []
    for v in values:
        stops.append(es.update(v))
        if stops[-1]:
            break
    return es, stops


@pytest.mark.parametrize(
    "kwargs, values, stop_at, best_epoch, best_value",
    [
        # patience 0: e0, e1 improve; e2 does not (wait 1 >= 0, e > 0): stop
        (dict(), [1.0, 0.9, 0.95, 0.8], 2, 1, 0.9),
        # min_delta 0.1: e1 (0.95 + 0.1 < 1.0? no) wait 1; e2 improves (0.95 < 1.0) wait 0; e3 wait 1; e4 wait 2: stop
        (dict(patience=2, min_delta=0.1), [1.0, 0.95, 0.85, 0.84, 0.80, 0.70], 4, 2, 0.85),
        # mode max: 0.6 is not > 0.6, wait 1 >= 1: stop at e2
        (dict(patience=1, mode="max"), [0.5, 0.6, 0.6, 0.7, 0.65], 2, 1, 0.6),
        # warm-up e0, e1 ignored (their lower values too); e2 first monitored, e3 does not improve: stop
        (dict(patience=1, start_from_epoch=2), [0.1, 0.05, 1.0, 1.1, 0.9, 0.95], 3, 2, 1.0),
        # baseline 0.5: improvements above it do not reset wait (1, 2, 3); e3 does not improve, wait 4 >= 2: stop
        (dict(patience=2, baseline=0.5), [1.0, 0.9, 0.8, 0.85, 0.4], 3, 2, 0.8),
        # ... the same sequence without a baseline runs on (wait 1 at e3)
        (dict(patience=2), [1.0, 0.9, 0.8, 0.85, 0.4, 0.5, 0.6], 6, 4, 0.4),
        # baseline beaten at e1 resets wait; e2 wait 1, e3 wait 2: stop
        (dict(patience=2, baseline=0.5), [1.0, 0.4, 0.45, 0.46, 0.3], 3, 1, 0.4),
        # NaN never improves; at e0 the rule cannot stop (Keras: epoch > 0), at e2 it does
        (dict(), [np.nan, 1.0, np.nan], 2, 1, 1.0),
    ],
)
def test_early_stopping_reproduces_hand_derived_keras_sequences(kwargs, values, stop_at, best_epoch, best_value):
    es, stops = _run_rule(values, **kwargs)
    assert stops == [False] * stop_at + [True]
    assert es.stopped_epoch == stop_at and es.best_epoch == best_epoch and es.best_value == best_value
    assert es.history == pytest.approx(values[: stop_at + 1], nan_ok=True)


def test_early_stopping_never_stops_and_restore_best():
    es, stops = _run_rule([3.0, 2.0, 1.0], patience=0)
    assert not any(stops) and es.stopped_epoch is None and es.best_epoch == 2
    es = tunelab.EarlyStopping(patience=1)
    model = {"w": [0.0]}
    for epoch, v in enumerate([1.0, 0.5, 0.7]):
        model["w"][0] = float(epoch)  # the loop mutates its state in place
        stop = es.update(v, state=model)
    assert stop and es.best_epoch == 1 and es.best_state == {"w": [1.0]} and es.best_state is not model
    # first monitored epoch with restore_best: kept whatever its value (Keras), then replaced on improvement
    es = tunelab.EarlyStopping(patience=3)
    es.update(np.nan, state="s0")
    assert es.best_epoch == 0 and es.best_state == "s0" and es.best_value == math.inf
    es.update(2.0, state="s1")
    assert es.best_epoch == 1 and es.best_state == "s1"
    es = tunelab.EarlyStopping(restore_best=False)
    es.update(1.0, state={"w": 1})
    assert es.best_state is None and es.best_epoch == 0


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(patience=-1), ValueError, "patience"),
        (dict(patience=1.5), TypeError, "patience"),
        (dict(min_delta=-0.1), ValueError, "min_delta"),
        (dict(min_delta=np.nan), ValueError, "min_delta"),
        (dict(mode="auto"), ValueError, "mode"),
        (dict(baseline="0.5"), TypeError, "baseline"),
        (dict(baseline=np.inf), ValueError, "baseline"),
        (dict(start_from_epoch=-1), ValueError, "start_from_epoch"),
        (dict(restore_best=1), TypeError, "restore_best"),
    ],
)
def test_early_stopping_refusals(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        tunelab.EarlyStopping(**kwargs)


def test_early_stopping_update_and_reliability_refusals():
    es = tunelab.EarlyStopping()
    for bad in ("1.0", None, True, [1.0], 1 + 1j):
        with pytest.raises(TypeError, match="value"):
            es.update(bad)
    with pytest.raises(ValueError, match="5 monitored epochs"):
        es.reliability()
    for v in range(6):
        es.update(float(-v))
    with pytest.raises(ValueError, match="window"):
        es.reliability(window=4)
    with pytest.raises(ValueError, match="window"):
        es.reliability(window=7)
    es.update(np.nan)
    with pytest.raises(ValueError, match="finite"):
        es.reliability()
    with pytest.raises(ValueError, match="baseline"):
        _run_rule(np.linspace(1, 0, 8), baseline=0.5)[0].reliability()


def test_early_stopping_reliability_on_a_noisy_curve():
    """A U-shaped validation curve with noise 0.02 (fixed seed), run through the rule until it
    stops; reliability() from that history alone agrees with the truth (patience_stopping on
    the noise-free curve over the same epochs, true sigma) within 4 of its reported standard
    errors: the regret, the expected epochs run and the noise."""
    e = np.arange(60)
    clean = 1.0 / (1.0 + e / 5.0) + 0.002 * e
    values = clean + 0.02 * np.random.default_rng(2).standard_normal(60)
    es, stops = _run_rule(values, patience=5)
    n = len(es.history)
    assert stops[-1] and n < 60
    rel = es.reliability(n_boot=20, n_rep=5000, rng=1)
    truth = tunelab.patience_stopping(clean[:n], patience=5, noise_std=0.02, n_rep=50_000, rng=2)
    assert abs(rel.noise_std - 0.02) <= 4 * rel.noise_std_se
    assert abs(rel.regret - truth.regret) <= 4 * math.hypot(rel.regret_se, truth.regret_se)
    assert abs(rel.expected_epochs - truth.expected_epochs) <= 4 * math.hypot(rel.expected_epochs_se,
                                                                              truth.expected_epochs_se)
    np.testing.assert_array_equal(rel.observed, values[:n])
    np.testing.assert_array_equal(rel.epochs, np.arange(n))
    assert rel.stop_pmf.sum() + rel.p_not_stopped == pytest.approx(1.0)
    assert np.max(np.abs(rel.smoothed - clean[:n])) < 4 * 0.02
    # the same inputs give the same answer
    again = es.reliability(n_boot=20, n_rep=5000, rng=1)
    assert again.regret == rel.regret and again.regret_se == rel.regret_se
