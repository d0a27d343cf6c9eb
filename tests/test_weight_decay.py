"""The two-layer network's closed-form gradient and Hessian-vector product, and the Adam vs
AdamW flatness study."""

from __future__ import annotations

import numpy as np
import pytest

import tunelab
from tunelab.studies import TwoLayerNet, weight_decay_study


def _net(seed=0):
    g = np.random.default_rng(seed)
    X = g.standard_normal((20, 3))
    return TwoLayerNet(X, g.standard_normal(20), hidden=4), g


def test_gradient_matches_central_differences():
    """Central differences with h = 1e-6 have error O(h^2 L''') + O(eps/h) ~ 1e-9; rtol 1e-6."""
    net, g = _net()
    theta = g.standard_normal((3, net.D))
    G = net.grad(theta)
    h = 1e-6
    for j in range(net.D):
        e = np.zeros(net.D)
        e[j] = h
        fd = (net.loss(theta + e) - net.loss(theta - e)) / (2 * h)
        np.testing.assert_allclose(G[:, j], fd, rtol=1e-6, atol=1e-8)


def test_hvp_matches_differences_of_the_gradient_and_is_symmetric():
    net, g = _net(1)
    theta = g.standard_normal(net.D)
    u, w = g.standard_normal(net.D), g.standard_normal(net.D)
    h = 1e-6
    fd = (net.grad(theta + h * u)[0] - net.grad(theta - h * u)[0]) / (2 * h)
    np.testing.assert_allclose(net.hvp(theta, u), fd, rtol=1e-6, atol=1e-8)
    assert w @ net.hvp(theta, u) == pytest.approx(u @ net.hvp(theta, w), rel=1e-12)


def test_top_eigenvalue_on_hvps_equals_dense_hessian():
    net, g = _net(2)
    theta = g.standard_normal(net.D)
    Hd = np.stack([net.hvp(theta, e) for e in np.eye(net.D)])
    res = tunelab.top_eigenvalue(lambda u: net.hvp(theta, u), n=net.D, method="lanczos", rng=0)
    assert res.value == pytest.approx(np.linalg.eigvalsh((Hd + Hd.T) / 2)[-1], rel=1e-8)


def test_study_runs_and_reports_intervals():
    res = weight_decay_study(weight_decays=(0.0, 0.1), seeds=3, steps=60, rng=1)
    assert res.converged
    # lambda = 0: Adam and AdamW are the same algorithm from the same starts
    np.testing.assert_allclose(res.adam_lmax[0], res.adamw_lmax[0], rtol=1e-10)
    for m, lo, hi in ((res.adam_lmax_mean, res.adam_lmax_lo, res.adam_lmax_hi),
                      (res.adamw_lmax_mean, res.adamw_lmax_lo, res.adamw_lmax_hi)):  # fmt: skip
        assert np.all(lo <= m) and np.all(m <= hi) and np.all(np.isfinite(m))
    # decay shrinks the weights for both
    assert res.adam_norm[1] < res.adam_norm[0] and res.adamw_norm[1] < res.adamw_norm[0]
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    res.plot()
    res.plot_tradeoff()


def test_refusals():
    with pytest.raises(ValueError, match="weight_decays"):
        weight_decay_study(weight_decays=(-1.0,), steps=1)
    with pytest.raises(ValueError, match="seeds"):
        weight_decay_study(seeds=1, steps=1)
    with pytest.raises(ValueError, match="lr"):
        weight_decay_study(lr=0.0, steps=1)
