"""transfer_study: kernel vs NumPy reference, the arcsine law, reproducibility, refusals."""

from __future__ import annotations

import concurrent.futures as cf

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tunelab
from tunelab import _core
from tunelab._random import kernel_key


@pytest.mark.parametrize("noise", [0.0, 1e-3, 0.3, 5.0])
def test_kernel_equals_full_grid_reference(noise):
    """The C++ grid search skips points that cannot win (bounded Box-Muller normals); the
    reference evaluates every point. Tuned indices must be equal and latent optima agree to
    1e-12 (libm vs NumPy log/cos in the last bits)."""
    c = np.array([0.0, 0.5, 0.9])
    mu = np.array([-3.0, -2.0, -4.0])
    sigma = np.array([1.0, 0.5, 2.0])
    log_grid = np.linspace(-9.0, 3.0, 41)
    key = kernel_key(123)
    got_t, got_l = _core.transfer_grid_search(c, mu, sigma, log_grid, noise, key, 5, 300, 2)
    ref_t, ref_l = tunelab.reference.transfer_grid_search(c, mu, sigma, log_grid, noise, key=key, first=5, count=300)
    np.testing.assert_array_equal(got_t, ref_t)
    np.testing.assert_allclose(got_l, ref_l, rtol=1e-12, atol=1e-12)


@given(
    log_grid=hnp.arrays(np.float64, st.integers(1, 120), elements=st.floats(-12.0, 2.0)).map(np.sort),
    noise=st.one_of(st.just(0.0), st.floats(1e-4, 20.0)),
    mu=st.floats(-14.0, 4.0),
    sigma=st.floats(0.0, 3.0),
    c=st.floats(0.0, 1.0),
    key=st.integers(0, 2**64 - 1),
    first=st.integers(0, 2**40),
)
def test_any_grid_and_noise_equals_full_grid_reference(log_grid, noise, mu, sigma, c, key, first):
    """Every pruning rule (a side's end at 8.6 noise, a point whose radius bound or radius cannot
    reach the best so far) must leave the tuned index of the full evaluation, on grids
    of 1 to 120 points with repeated points, at any noise level. Elements are drawn as floats,
    so the grid's spacing ranges from 0 (ties) to the whole range."""
    T, count = 2, 64
    cs, mus, sigmas = np.array([c, 1.0 - c]), np.array([mu, mu + 1.0]), np.array([sigma, 1.0])
    got_t, got_l = _core.transfer_grid_search(cs, mus, sigmas, log_grid, noise, key, first, count, 1)
    ref_t, ref_l = tunelab.reference.transfer_grid_search(cs, mus, sigmas, log_grid, noise, key=key, first=first,
                                                          count=count)
    assert got_t.shape == (T, count)
    np.testing.assert_array_equal(got_t, ref_t)
    np.testing.assert_allclose(got_l, ref_l, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("noise", [0.3, 1.0, 3.0])
def test_fine_grid_equals_full_grid_reference(noise):
    """The bench's case, scaled down: 200 points 0.05 apart, noise from 6 to 60 spacings, where
    nearly every point within reach is skipped by its radius bound or its radius."""
    c, mu, sigma = np.array([0.0, 0.5, 0.95]), np.full(3, np.log(1e-3)), np.ones(3)
    log_grid = np.linspace(np.log(1e-3) - 5, np.log(1e-3) + 5, 200)
    key = kernel_key(77)
    got_t, _ = _core.transfer_grid_search(c, mu, sigma, log_grid, noise, key, 0, 3000, 2)
    ref_t, _ = tunelab.reference.transfer_grid_search(c, mu, sigma, log_grid, noise, key=key, first=0, count=3000)
    np.testing.assert_array_equal(got_t, ref_t)


def test_study_equals_reference_study():
    c = np.array([0.2, 0.7, 0.9, 1.0])
    res = tunelab.transfer_study(c, n_seeds=700, lr_grid=np.geomspace(1e-4, 1.0, 60), mu=np.log(1e-2), sigma=1.0,
                                 eval_noise=0.05, rng=9)
    rho, tuned = tunelab.reference.transfer_study(c, n_seeds=700, log_grid=np.log(res.lr_grid), mu=np.full(4, np.log(1e-2)),
                                                  sigma=np.ones(4), eval_noise=0.05, key=kernel_key(9))
    np.testing.assert_array_equal(res.tuned_lr, res.lr_grid[tuned])
    np.testing.assert_allclose(res.spearman, rho, rtol=0, atol=1e-12)


@pytest.mark.parametrize("c", [0.0, 0.5, 0.9])
def test_fine_grid_small_noise_matches_arcsine_law(c):
    """Mean measured Spearman over K = 12 independent studies (1000 seeds, 200-point grid,
    eval_noise 1e-3) within 4 SE of (6/pi) arcsin(c^2/2); the SE is the replicate standard
    deviation / sqrt(K), computed here. Also: Bonett & Wright's approximate SE reported by the
    study lies within a factor 2 of the replicate standard deviation."""
    K, S = 12, 1000
    vals, approx = [], []
    for k in range(K):
        res = tunelab.transfer_study([c, c], n_seeds=S, eval_noise=1e-3, rng=1000 + k)
        vals.append(res.spearman[0, 1])
        approx.append(res.stderr[0, 1])
    vals = np.array(vals)
    sd = vals.std(ddof=1)
    se = sd / np.sqrt(K)
    theory = 6 / np.pi * np.arcsin(c * c / 2)
    assert res.theory[0, 1] == pytest.approx(theory, abs=1e-15)
    assert abs(vals.mean() - theory) < 4 * se, (vals.mean(), theory, se)
    assert 0.5 < np.mean(approx) / sd < 2.0


def test_coarse_grid_and_noise_attenuate_transfer():
    """With a 6-point grid or heavy evaluation noise, the tuned-rate correlation falls well below
    the true-optimum correlation (which still follows the arcsine law)."""
    c = [0.9, 0.9]
    fine = tunelab.transfer_study(c, n_seeds=4000, eval_noise=1e-3, rng=1)
    coarse = tunelab.transfer_study(c, n_seeds=4000, lr_grid=np.exp(np.linspace(-12, -2, 6)), eval_noise=1e-3, rng=1)
    noisy = tunelab.transfer_study(c, n_seeds=4000, eval_noise=2.0, rng=1)
    np.testing.assert_array_equal(coarse.latent_log_lr, fine.latent_log_lr)  # same latent model, same seeds
    for res in (coarse, noisy):
        assert res.spearman[0, 1] < fine.spearman[0, 1] - 5 * fine.stderr[0, 1]


def test_bit_identical_for_threads_chunks_and_executor():
    kw = dict(n_seeds=3000, eval_noise=0.2, rng=5, lr_grid=np.geomspace(1e-5, 1, 80))
    c = [0.1, 0.6, 0.95]
    one = tunelab.transfer_study(c, num_threads=1, **kw)
    two = tunelab.transfer_study(c, num_threads=2, chunk_size=512, **kw)
    with cf.ThreadPoolExecutor(2) as ex:
        exe = tunelab.transfer_study(c, executor=ex, chunk_size=256, **kw)
    for other in (two, exe):
        np.testing.assert_array_equal(other.tuned_lr, one.tuned_lr)
        np.testing.assert_array_equal(other.latent_log_lr, one.latent_log_lr)
        np.testing.assert_array_equal(other.spearman, one.spearman)
    # Adding a task leaves the others' draws unchanged.
    more = tunelab.transfer_study(c + [0.3], **kw)
    np.testing.assert_array_equal(more.tuned_lr[:3], one.tuned_lr)


def test_result_frame_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = tunelab.transfer_study([0.0, 0.5, 0.9], n_seeds=300, rng=2)
    df = res.to_frame()
    assert list(df["task_t"]) == [0, 0, 1] and list(df["task_u"]) == [1, 2, 2]
    axes = res.plot()
    assert len(axes) == 3
    plt.close("all")
    assert "TransferStudy(" in repr(res)
    assert (res.edge_fraction == 0).all()


def test_refusals():
    with pytest.raises(ValueError, match="coupling"):
        tunelab.transfer_study([0.5, 1.2], n_seeds=10)
    with pytest.raises(ValueError, match="coupling must be 1-dimensional"):
        tunelab.transfer_study([[0.5]], n_seeds=10)
    with pytest.raises(ValueError, match="n_seeds"):
        tunelab.transfer_study([0.5], n_seeds=1)
    with pytest.raises(ValueError, match="lr_grid must contain only positive"):
        tunelab.transfer_study([0.5], n_seeds=10, lr_grid=[0.0, 1.0])
    with pytest.raises(ValueError, match="lr_grid must be strictly increasing"):
        tunelab.transfer_study([0.5], n_seeds=10, lr_grid=[1.0, 0.1])
    with pytest.raises(ValueError, match="lr_grid must have at least 2"):
        tunelab.transfer_study([0.5], n_seeds=10, lr_grid=[1.0])
    with pytest.raises(ValueError, match="eval_noise"):
        tunelab.transfer_study([0.5], n_seeds=10, eval_noise=-1.0)
    with pytest.raises(ValueError, match="mu must be a scalar or have one value per task"):
        tunelab.transfer_study([0.5, 0.5], n_seeds=10, mu=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        tunelab.transfer_study([0.5], n_seeds=10, sigma=-1.0)
    with pytest.raises(ValueError, match="sigma must be finite"):
        tunelab.transfer_study([0.5], n_seeds=10, sigma=np.inf)
    with pytest.raises(TypeError, match="rng"):
        tunelab.transfer_study([0.5], n_seeds=10, rng="x")


def test_constant_tuned_rates_warn():
    """sigma = 0: every seed tunes to the same rate, Spearman is undefined: NaN with a warning."""
    with pytest.warns(tunelab.ConstantInputWarning):
        res = tunelab.transfer_study([0.5, 0.5], n_seeds=50, sigma=0.0, eval_noise=0.0, lr_grid=[1e-3, 1e-2, 1e-1], rng=0)
    assert np.isnan(res.spearman).all()
