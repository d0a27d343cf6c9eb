"""The noisy-quadratic laboratory: equal to the reference (same Philox draws), steady state
against the closed form, accumulation = large batch, divergence isolated, bit-identical for
threads / chunkings / executors, refusals."""

from __future__ import annotations

import concurrent.futures as cf

import numpy as np
import pytest

import tunelab
from tunelab._random import kernel_key
from tunelab.reference import quadratic as ref

from ._simd import same_at_every_simd_width

H = np.array([0.5, 1.0, 2.0, 4.0, 3.0])


def _config(opt, noise, R, seed):
    rng = np.random.default_rng(seed)
    kw = dict(
        optimizer=opt, lr=rng.uniform(0.01, 0.6, R), batch_size=rng.integers(1, 5, R),
        accum_steps=rng.integers(1, 4, R), noise_std=rng.uniform(0, 2, R), steps=40, replicas=R,
        weight_decay=rng.uniform(0, 0.05, R), max_grad_norm=rng.uniform(0.5, 5, R), noise=noise, record_every=3,
    )  # fmt: skip
    kw["noise_std"][0] = 0.0  # a noiseless replica
    kw["max_grad_norm"][1] = np.inf  # an unclipped one
    if opt == "sgd":
        kw.update(momentum=rng.uniform(0, 0.9, R), dampening=0.1)
    else:
        kw.update(betas=(rng.uniform(0.0, 0.99, R), 0.99))
    return kw


@pytest.mark.parametrize("opt", ["sgd", "adam", "adamw"])
@pytest.mark.parametrize("noise", ["gaussian", "student_t"])
def test_equals_reference_with_the_same_draws(opt, noise):
    """The kernel and tunelab.reference draw the same Philox numbers and apply the same
    arithmetic in the same order except the summation order of ||g||^2 and of the loss, so
    the trajectories agree to ~1e-14 relative; 1e-11 leaves room for 40 steps. Some replicas
    diverge (large rates, a low max_loss); flags and steps must agree exactly."""
    R = 70
    kw = _config(opt, noise, R, 3)
    kw["lr"][2:6] = [2.0, 3.0, 5.0, 8.0]  # these diverge (unclipped)
    kw["max_grad_norm"][2:6] = np.inf
    if opt != "sgd":
        kw["lr"][2:6] *= 10
    a = tunelab.simulate_quadratic(H, rng=5, max_loss=60.0, **kw)
    b = ref.simulate_quadratic(H, key=kernel_key(5), max_loss=60.0, **kw)
    assert a.diverged.sum() >= 2
    np.testing.assert_array_equal(a.diverged, b["diverged"])
    np.testing.assert_array_equal(a.diverged_step, b["diverged_step"])
    np.testing.assert_allclose(a.final_loss, b["final_loss"], rtol=1e-11)
    np.testing.assert_allclose(a.loss_mean, b["loss_mean"], rtol=1e-11)
    np.testing.assert_allclose(a.loss_sem[1:], b["loss_sem"][1:], rtol=1e-9)
    np.testing.assert_allclose(a.mean_effective_lr, b["mean_lr"], rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(a.effective_lr_mean, b["effective_lr_mean"], rtol=1e-11)
    assert np.all(np.isfinite(a.loss_mean)) and np.all(np.isfinite(a.effective_lr_mean))
    assert a.n_survivors == R - a.diverged.sum()


@pytest.mark.parametrize("d, A, steps", [(13, 3, 120), (700, 3, 4)])
def test_noise_drawn_ahead_equals_reference(d, A, steps):
    """Gaussian draws are made ahead of the steps, up to 2048 per bulk fill. (13, 3) needs 39
    draws a step: fills of 52 steps at steps 1 and 53, then a shorter one of 16 at step 105.
    (700, 3) needs 2100, more than a fill holds, and draws micro-batch by micro-batch. Both
    follow the reference's draws (tolerances as in test_equals_reference_with_the_same_draws)."""
    h = np.random.default_rng(d).uniform(0.2, 3.0, d)
    kw = dict(optimizer="adamw", lr=0.05, batch_size=2, accum_steps=A, noise_std=1.0, steps=steps, replicas=5,
              record_every=1)  # fmt: skip
    a = tunelab.simulate_quadratic(h, rng=8, **kw)
    b = ref.simulate_quadratic(h, key=kernel_key(8), **kw)
    np.testing.assert_allclose(a.final_loss, b["final_loss"], rtol=1e-11)
    np.testing.assert_allclose(a.loss_mean, b["loss_mean"], rtol=1e-11)


def test_per_replica_h_and_x0():
    R, d = 40, 3
    rng = np.random.default_rng(0)
    h = rng.uniform(0.1, 3, (R, d))
    x0 = rng.standard_normal((R, d))
    a = tunelab.simulate_quadratic(h, lr=0.3, steps=20, replicas=R, x0=x0, rng=1, noise_std=0.5)
    b = ref.simulate_quadratic(h, lr=0.3, steps=20, replicas=R, x0=x0, key=kernel_key(1), noise_std=0.5)
    np.testing.assert_allclose(a.final_loss, b["final_loss"], rtol=1e-12)


def _stats(res):
    return [res.final_loss, res.diverged, res.loss_mean, res.loss_m2 if hasattr(res, "loss_m2") else res.loss_sem,
            res.effective_lr_mean, res.mean_effective_lr]  # fmt: skip


def test_bit_identical_for_threads_chunkings_and_executors():
    kw = _config("adamw", "gaussian", 300, 9)
    kw["steps"] = 30
    base = tunelab.simulate_quadratic(H, rng=2, num_threads=1, chunk_size=32, **kw)
    runs = [
        tunelab.simulate_quadratic(H, rng=2, num_threads=2, **kw),
        tunelab.simulate_quadratic(H, rng=2, num_threads=2, chunk_size=96, **kw),
    ]
    with cf.ThreadPoolExecutor(2) as ex:
        runs.append(tunelab.simulate_quadratic(H, rng=2, executor=ex, chunk_size=64, **kw))
    runs.append(tunelab.simulate_quadratic(H, rng=2, executor=map, **kw))
    for r in runs:
        for x, y in zip(_stats(base), _stats(r)):
            np.testing.assert_array_equal(x, y)


def test_bit_identical_at_every_vector_width():
    """The noise draws run at the widest vector width the CPU has (TUNELAB_SIMD caps it, read at
    start-up: subprocesses); the bits must not depend on it, for every optimizer (d = 13)."""
    code = (
        "import sys, numpy as np, tunelab\n"
        "h = np.linspace(0.2, 3.0, 13)\n"
        "R = 40\n"
        "lr = np.linspace(0.01, 0.5, R)\n"
        "runs = [dict(optimizer='sgd', momentum=0.9, nesterov=True), dict(optimizer='sgd', momentum=0.5, dampening=0.2),\n"
        "        dict(optimizer='adam', betas=(np.linspace(0.0, 0.99, R), 0.99), weight_decay=0.01),\n"
        "        dict(optimizer='adamw', betas=(np.linspace(0.0, 0.99, R), 0.999), weight_decay=0.05)]\n"
        "out = []\n"
        "for kw in runs:\n"
        "    r = tunelab.simulate_quadratic(h, lr=lr, steps=25, replicas=R, noise_std=0.5, max_grad_norm=2.0,\n"
        "                                   record_every=5, rng=3, **kw)\n"
        "    out += [r.final_loss, r.loss_mean, r.loss_sem, r.effective_lr_mean, r.mean_effective_lr]\n"
        "np.save(sys.stdout.buffer, np.concatenate(out))\n"
    )
    same_at_every_simd_width(code)


def _steady(h, lr, B, A=1, b=None, R=3000, noise="gaussian", seed=0, s=1.0, dof=6.0):
    """Final-step loss over R replicas started at 0 (mean 0; variance relaxes as
    (1 - lr h)^(2t)); steps chosen so the relaxation bias is < 1e-4 relative."""
    steps = int(np.ceil(np.log(1e-4) / (2 * np.log(abs(1 - lr * np.min(h))))))
    return tunelab.simulate_quadratic(
        h, lr=lr, batch_size=b or B, accum_steps=A, noise_std=s, steps=steps, replicas=R, x0=0.0, rng=seed,
        noise=noise, dof=dof, record_every=steps,
    )  # fmt: skip


@pytest.mark.parametrize(
    "h,lr,B",
    [
        ([1.0], 0.1, 1),
        ([0.5, 1.0, 2.0, 4.0], 0.2, 4),
        ([0.5, 1.0, 2.0, 4.0], 0.45, 16),  # close to the stability edge 2/4 = 0.5
        (np.geomspace(0.2, 5.0, 6), 0.05, 2),
        ([3.0, 3.0], 0.6, 32),
        ([0.3, 7.0], 0.25, 8),
    ],
)
def test_steady_state_matches_closed_form(h, lr, B):
    """SGD's mean final loss over independent replicas is within 4 standard errors of
    (eta s^2 / 2B) sum 1/(2 - eta h_i). The SE is the sample SD over replicas / sqrt(R)."""
    res = _steady(np.asarray(h), lr, B)
    m, se = res.final_mean()
    theory = tunelab.steady_state_loss(h, lr, B, 1.0)
    assert res.steady_state == pytest.approx(theory, rel=1e-15)
    assert abs(m - theory) < 4 * se, (m, se, theory)


@pytest.mark.parametrize("noise", ["gaussian", "student_t"])
def test_accumulation_equals_large_batch(noise):
    """A = 4 micro-batches of b = 2 and one batch of 8: independent draws (A x b reads four
    normals per coordinate and step), yet the steady states agree within 4 combined SE, and
    both agree with the closed form (which depends only on the noise variance, so it holds
    for Student-t noise too; dof = 6 keeps the fourth moment, hence the SE, finite)."""
    h = np.array([0.5, 1.0, 2.0])
    acc = _steady(h, 0.3, 8, A=4, b=2, noise=noise, seed=1)
    big = _steady(h, 0.3, 8, A=1, b=8, noise=noise, seed=2)
    (m1, s1), (m2, s2) = acc.final_mean(), big.final_mean()
    assert abs(m1 - m2) < 4 * np.hypot(s1, s2)
    theory = tunelab.steady_state_loss(h, 0.3, 8, 1.0)
    assert abs(m1 - theory) < 4 * s1 and abs(m2 - theory) < 4 * s2


def test_student_t_noise_has_the_documented_variance():
    """One noisy SGD step from w = 0 with lr = 1, h = 1: w_1 = -xi, so E[w_1^2] = s^2/b and
    the loss is xi^2/2; mean over 4000 replicas x 8 coordinates within 5 SE of s^2 / (2b)."""
    res = tunelab.simulate_quadratic(
        np.ones(8), lr=1.0, noise_std=2.0, batch_size=4, steps=1, replicas=4000, x0=0.0, noise="student_t",
        dof=8.0, rng=3,
    )  # fmt: skip
    m, se = res.final_mean()
    assert abs(m - 8 * 0.5 * 4.0 / 4) < 5 * se


def test_divergent_replicas_are_isolated():
    """Noise-free SGD: rates above 2/h_max diverge (flagged, at a deterministic step, loss
    inf) and the curve statistics equal the exact survivors' mean (1 - lr h)^(2t) / 2."""
    lrs = np.array([0.1, 0.5, 2.5, 0.9, 3.0])
    res = tunelab.simulate_quadratic([1.0], lr=lrs, noise_std=0.0, steps=50, replicas=5, x0=1.0, rng=0,
                                     record_every=10, max_loss=1e6)  # fmt: skip
    np.testing.assert_array_equal(res.diverged, [False, False, True, False, True])
    # |1 - 2.5| = 1.5: loss 1.5^(2t)/2 > 1e6 first at t = 18; |1 - 3| = 2: t = 11
    np.testing.assert_array_equal(res.diverged_step, [-1, -1, 18, -1, 11])
    assert np.isinf(res.final_loss[[2, 4]]).all()
    t = res.steps
    ok = lrs[[0, 1, 3]]
    expect = np.mean([(1 - a) ** (2 * t) / 2 for a in ok], axis=0)
    np.testing.assert_allclose(res.loss_mean, expect, rtol=1e-12, atol=1e-300)
    assert res.n_survivors == 3 and np.all(np.isfinite(res.loss_sem))


def test_negative_curvature_diverges_downwards():
    """A negative curvature makes the loss unbounded below: |loss| > max_loss is divergence too
    (the loss is -½|h|(1 + lr|h|)^(2t) noise-free: |h| = 3, lr = 1 gives 1.5·16^t > 1e6 first at
    t = 5), and the survivors' statistics never see the huge negative values."""
    h = np.array([[1.0, 1.0], [1.0, -3.0]])
    res = tunelab.simulate_quadratic(h, lr=1.0, noise_std=0.0, steps=20, replicas=2, x0=1.0, rng=0, max_loss=1e6)
    np.testing.assert_array_equal(res.diverged, [False, True])
    np.testing.assert_array_equal(res.diverged_step, [-1, 5])
    assert np.isfinite(res.loss_mean).all()
    big = tunelab.simulate_quadratic([-74795.0], lr=0.1, steps=20, replicas=4, rng=0)  # found by the abuse pass
    assert big.diverged.all() and np.isinf(big.final_loss).all()


def test_all_diverged_gives_nan_curves_not_errors():
    res = tunelab.simulate_quadratic([1.0], lr=5.0, noise_std=0.0, steps=50, replicas=3, rng=0)
    assert res.diverged.all() and res.n_survivors == 0 and np.isnan(res.loss_mean).all()


def test_clipping_effective_lr_noise_free():
    """From w0 = 10 (||g|| = 10 h) with c = 1, the first update's effective rate is
    lr / (10 + 1e-6); window means are recorded per window."""
    res = tunelab.simulate_quadratic([1.0], lr=0.1, noise_std=0.0, steps=1, replicas=2, x0=10.0, max_grad_norm=1.0,
                                     rng=0, record_every=1)  # fmt: skip
    np.testing.assert_allclose(res.effective_lr_mean, [0.1 / (10 + 1e-6)])
    np.testing.assert_allclose(res.final_loss, 0.5 * (10 - 0.1 * 10 / (10 + 1e-6)) ** 2)


def test_momentum_optimizer_default_and_result_helpers():
    pytest.importorskip("pandas")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    res = tunelab.simulate_quadratic(H, optimizer="momentum", lr=0.05, steps=50, replicas=64, rng=0)
    assert res.steady_state is None  # momentum: no closed form offered
    plain = tunelab.simulate_quadratic(H, optimizer="sgd", lr=0.05, steps=50, replicas=64, rng=0)
    assert not np.array_equal(res.final_loss, plain.final_loss)
    assert list(res.to_frame().columns)[:3] == ["steps", "loss_mean", "loss_sem"]
    assert "QuadraticResult(" in repr(res)
    res.plot()


def test_steady_state_loss():
    np.testing.assert_allclose(tunelab.steady_state_loss([1.0, 2.0], 0.1, 4, 2.0),
                               0.1 * 2 / 8 * (1 / 1.9 + 1 / 1.8))  # fmt: skip
    np.testing.assert_allclose(tunelab.steady_state_loss([1.0], [0.1, 0.2], 1, 1.0), [0.1 / 2 / 1.9, 0.2 / 2 / 1.8])
    assert tunelab.steady_state_loss([1.0, 4.0], 0.5, 1, 1.0) == np.inf
    assert tunelab.steady_state_loss([1.0], 0.1, 1, 0.0) == 0.0
    assert tunelab.steady_state_loss([1.0], 0.1, 1, 1.0) == ref.steady_state_loss([1.0], 0.1, 1, 1.0)
    with pytest.raises(ValueError, match="h"):
        tunelab.steady_state_loss([-1.0], 0.1, 1, 1.0)
    with pytest.raises(ValueError, match="lr"):
        tunelab.steady_state_loss([1.0], 0.0, 1, 1.0)
    with pytest.raises(ValueError, match="batch_size"):
        tunelab.steady_state_loss([1.0], 0.1, 0, 1.0)
    with pytest.raises(ValueError, match="noise_var"):
        tunelab.steady_state_loss([1.0], 0.1, 1, -1.0)


@pytest.mark.parametrize(
    "kw,exc,match",
    [
        ({"optimizer": "rmsprop"}, ValueError, "optimizer"),
        ({"noise": "cauchy"}, ValueError, "noise"),
        ({"h": [[[1.0]]]}, ValueError, "h"),
        ({"h": [np.nan]}, ValueError, "h"),
        ({"h": np.ones((3, 1))}, ValueError, "h"),
        ({"x0": [1.0, 2.0]}, ValueError, "x0"),
        ({"lr": -0.1}, ValueError, "lr"),
        ({"lr": [0.1, 0.2, 0.3]}, ValueError, "lr"),
        ({"betas": (1.0, 0.9), "optimizer": "adam"}, ValueError, "betas"),
        ({"betas": 0.9, "optimizer": "adam"}, ValueError, "betas"),
        ({"eps": 0.0, "optimizer": "adamw"}, ValueError, "eps"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ({"accum_steps": 0}, ValueError, "accum_steps"),
        ({"noise_std": -1.0}, ValueError, "noise_std"),
        ({"dof": 2.0, "noise": "student_t"}, ValueError, "dof"),
        ({"record_every": 20}, ValueError, "record_every"),
        ({"steps": 0}, ValueError, "steps"),
        ({"replicas": 0}, ValueError, "replicas"),
        ({"momentum": 0.9, "optimizer": "adam"}, ValueError, "momentum"),
        ({"momentum": 1.0}, ValueError, "momentum"),
        ({"nesterov": True}, ValueError, "nesterov"),
        ({"max_grad_norm": 0.0}, ValueError, "max_grad_norm"),
        ({"max_loss": 0.0}, ValueError, "max_loss"),
        ({"executor": 3}, TypeError, "executor"),
        ({"num_threads": 0}, ValueError, "num_threads"),
        ({"rng": "seed"}, TypeError, "rng"),
    ],
)
def test_refusals(kw, exc, match):
    args = {"h": [1.0], "lr": 0.1, "steps": 10, "replicas": 2} | kw
    h = args.pop("h")
    with pytest.raises(exc, match=match):
        tunelab.simulate_quadratic(h, **args)
