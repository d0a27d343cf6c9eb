"""The batch-scaling study: the emergent exponent inside its interval, the parabola refinement,
bit-identity across threads and executors, plots and refusals."""

from __future__ import annotations

import concurrent.futures as cf

import numpy as np
import pytest

import tunelab


def test_study_recovers_emergent_exponent_within_its_interval():
    """The simulated study's fitted delta has the derived value 1/2 inside its 95% interval, and
    the interval is informative (narrower than +-0.2)."""
    obj = tunelab.SGDQuadraticObjective(rng=11)
    res = tunelab.batch_scaling_study(obj, np.geomspace(1e3, 3e4, 5), np.geomspace(6, 600, 15), n_seeds=8, rng=0)
    lo, hi = res.fit.ci
    assert lo <= obj.expected_exponent <= hi, res.fit
    assert hi - lo < 0.4
    assert not res.at_edge.any()
    assert (res.log_B_opt_stderr > 0).all()
    # N = 1e3 is only ~35 SGD steps: its optimum is the noisy end (SE ~0.4-0.6 across seeds)
    assert (res.log_B_opt_stderr[1:] < 0.3).all()


def test_objective_threads_and_executor_bit_identical():
    obj = tunelab.SGDQuadraticObjective(rng=4)
    args = ([1e3, 4e3, 9e3], np.geomspace(8, 256, 7))
    one = tunelab.batch_scaling_study(obj, *args, n_seeds=3, rng=0, num_threads=1)
    two = tunelab.batch_scaling_study(obj, *args, n_seeds=3, rng=0, num_threads=2)
    with cf.ThreadPoolExecutor(2) as ex:
        exe = tunelab.batch_scaling_study(obj, *args, n_seeds=3, rng=0, executor=ex)
    for other in (two, exe):
        np.testing.assert_array_equal(other.scores, one.scores)
        np.testing.assert_array_equal(other.B_opt, one.B_opt)
        assert other.fit.ci == one.fit.ci


def _parabola_objective(n, b, seed):
    """Score minimised exactly at B = 2 N^0.3 (a parabola in log B), plus a seed offset."""
    return (np.log(b) - np.log(2.0 * n**0.3)) ** 2 + 0.01 * seed


def test_refinement_recovers_off_grid_optimum_exactly():
    sizes = np.array([1e2, 1e3, 1e4, 1e5])
    res = tunelab.batch_scaling_study(_parabola_objective, sizes, np.geomspace(1, 100, 9), n_seeds=3, rng=0)
    np.testing.assert_allclose(res.B_opt, 2.0 * sizes**0.3, rtol=1e-10)
    assert res.fit.exponent == pytest.approx(0.3, abs=1e-10)
    np.testing.assert_allclose(res.log_B_opt_stderr, 0.0, atol=1e-10)
    coarse = tunelab.batch_scaling_study(_parabola_objective, sizes, np.geomspace(1, 100, 9), n_seeds=3, refine=False, rng=0)
    assert set(np.round(np.log10(coarse.B_opt) * 4, 9)) <= set(np.arange(9.0))  # grid points only
    with cf.ThreadPoolExecutor(2) as ex:
        exe = tunelab.batch_scaling_study(_parabola_objective, sizes, np.geomspace(1, 100, 9), n_seeds=3, rng=0, executor=ex)
    np.testing.assert_array_equal(exe.scores, res.scores)
    assert list(res.to_frame().columns)[:2] == ["dataset_size", "B_opt"]


def test_study_plot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = tunelab.batch_scaling_study(_parabola_objective, [1e2, 1e3, 1e4], np.geomspace(1, 100, 9), n_seeds=2, rng=0)
    res.plot()
    plt.close("all")


def test_study_refusals_and_edge_warning():
    b = np.geomspace(1, 100, 5)
    with pytest.raises(ValueError, match="dataset_sizes must be positive"):
        tunelab.batch_scaling_study(_parabola_objective, [0.0, 1.0, 2.0], b)
    with pytest.raises(ValueError, match="batch_sizes must be positive"):
        tunelab.batch_scaling_study(_parabola_objective, [1.0, 2.0, 3.0], [-1.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="dataset_sizes must have at least 3"):
        tunelab.batch_scaling_study(_parabola_objective, [1.0, 2.0], b)
    with pytest.raises(ValueError, match="batch_sizes must be strictly increasing"):
        tunelab.batch_scaling_study(_parabola_objective, [1.0, 2.0, 3.0], [4.0, 2.0, 8.0])
    with pytest.raises(ValueError, match="n_seeds"):
        tunelab.batch_scaling_study(_parabola_objective, [1.0, 2.0, 3.0], b, n_seeds=1)
    with pytest.raises(TypeError, match="objective must be callable"):
        tunelab.batch_scaling_study(3.0, [1.0, 2.0, 3.0], b)
    with pytest.raises(ValueError, match="objective returned a non-finite score"):
        tunelab.batch_scaling_study(lambda n, bb, s: np.nan, [1.0, 2.0, 3.0], b)
    with pytest.raises(ValueError, match="dim"):
        tunelab.SGDQuadraticObjective(dim=0)
    with pytest.raises(ValueError, match="lr"):
        tunelab.SGDQuadraticObjective(lr=2.5)
    with pytest.raises(ValueError, match="batch_sizes must be positive"):
        tunelab.SGDQuadraticObjective().evaluate_grid([10.0], [0.0], [0])
    with pytest.raises(ValueError, match="batch_sizes must be >= 1"):  # found by the abuse test: 2e8 steps, 42 s
        tunelab.SGDQuadraticObjective().evaluate_grid([2000.0], [1e-5], [0])
    with pytest.warns(RuntimeWarning, match="edge of the grid"):
        res = tunelab.batch_scaling_study(_parabola_objective, [1e4, 1e5, 1e6], np.geomspace(1, 10, 5), n_seeds=2, rng=0)
    assert res.at_edge.all()
