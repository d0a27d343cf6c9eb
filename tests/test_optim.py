"""Batched SGD / Adam / AdamW: equal to the NumPy reference and to PyTorch, thread-independent,
skip non-finite gradients per replica, refuse bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tunelab
from tunelab import optim
from tunelab.reference import optim as ref

from ._simd import same_at_every_simd_width

KINDS = ["SGD", "Adam", "AdamW"]


def _hyper(kind, R, rng, *, per_replica, clip, nesterov=False):
    def v(lo, hi):
        return rng.uniform(lo, hi, R) if per_replica else float(rng.uniform(lo, hi))

    kw = {"lr": v(0.0, 0.2), "weight_decay": v(0.0, 0.2)}
    if clip:
        c = rng.uniform(0.3, 5.0, R) if per_replica else 1.5
        if per_replica:
            c[0] = np.inf  # one replica unclipped
        kw["max_grad_norm"] = c
    if kind == "SGD":
        kw["momentum"] = v(0.1, 0.95) if nesterov else v(0.0, 0.95)
        kw["dampening"] = 0.0 if nesterov else v(0.0, 0.5)
        kw["nesterov"] = nesterov
        if per_replica and not nesterov:
            kw["momentum"][-1] = 0.0  # a replica without momentum (ignores dampening)
    else:
        kw["betas"] = (v(0.0, 0.99), v(0.5, 0.9999))  # beta1 < 0.5 uses torch.lerp's other branch
        kw["eps"] = v(1e-8, 1e-3)
    return kw


def _run_both(kind, R, d, dtype, kw, steps, seed, nonfinite_at=None):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((R, d)).astype(dtype)
    w_ref = w.copy()
    ours = getattr(optim, kind)(w, **kw)
    theirs = getattr(ref, kind)(w_ref, **kw)
    infos = []
    for s in range(steps):
        g = (rng.standard_normal((R, d)) * rng.uniform(0.1, 3.0)).astype(dtype)
        if nonfinite_at is not None and s == nonfinite_at[0]:
            g[nonfinite_at[1], 0] = np.nan
        info = ours.step(g)
        norm, eff, skipped = theirs.step(g)
        infos.append((info, norm, eff, skipped))
    return w, w_ref, ours, theirs, infos


def _tol(dtype, scale):
    # float64: the kernel and the reference do the same operations in the same order; they
    # differ only in the summation order of ||g||^2, which moves the clip coefficient by an
    # ulp or two, so after a few steps the parameters agree to ~1e-14 relative; 1e-12 leaves
    # room. float32: one ulp is 6e-8 relative; 1e-5 (the issue's bound) covers the same
    # effect amplified over the steps.
    return (1e-12, 1e-12 * scale) if dtype == np.float64 else (1e-5, 1e-5 * scale)


@pytest.mark.parametrize("kind", KINDS)
@given(
    R=st.integers(1, 6),
    d=st.integers(1, 40),
    dtype=st.sampled_from([np.float64, np.float32]),
    per_replica=st.booleans(),
    clip=st.booleans(),
    nesterov=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_step_equals_reference(kind, R, d, dtype, per_replica, clip, nesterov, seed):
    """Eight steps of the kernel equal eight steps of tunelab.reference (tolerance: see _tol)."""
    rng = np.random.default_rng(seed)
    kw = _hyper(kind, R, rng, per_replica=per_replica, clip=clip, nesterov=nesterov and kind == "SGD")
    w, w_ref, ours, theirs, infos = _run_both(kind, R, d, dtype, kw, 8, seed)
    rtol, atol = _tol(dtype, np.abs(w_ref).max() + 1)
    np.testing.assert_allclose(w, w_ref, rtol=rtol, atol=atol)
    for info, norm, eff, skipped in infos:
        np.testing.assert_allclose(info.grad_norm, norm, rtol=1e-6 if dtype == np.float32 else 1e-13)
        np.testing.assert_allclose(info.effective_lr, eff, rtol=1e-6 if dtype == np.float32 else 1e-13)
        np.testing.assert_array_equal(info.skipped, skipped)
    if kind != "SGD":
        np.testing.assert_allclose(ours.exp_avg, theirs.exp_avg, rtol=rtol, atol=atol)
        np.testing.assert_allclose(ours.exp_avg_sq, theirs.exp_avg_sq, rtol=rtol, atol=atol)
    np.testing.assert_array_equal(ours.steps, theirs.steps)


@pytest.mark.parametrize("kind", KINDS)
def test_long_rows_use_the_blocked_path_and_match(kind):
    """Rows longer than 2^14 elements are cut into blocks (two passes); same answer."""
    R, d = 3, (1 << 14) * 2 + 123
    kw = _hyper(kind, R, np.random.default_rng(1), per_replica=True, clip=True)
    w, w_ref, *_ = _run_both(kind, R, d, np.float64, kw, 4, 7)
    np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=1e-12 * (np.abs(w_ref).max() + 1))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("d", [5, (1 << 14) + 77])
def test_nonfinite_gradient_skips_that_replica_only(kind, d):
    """A NaN in replica 1's gradient at step 2: replica 1 keeps its parameters, state and step
    count for that step and is reported; the others match the reference exactly as usual."""
    R = 4
    kw = _hyper(kind, R, np.random.default_rng(2), per_replica=True, clip=True)
    w, w_ref, ours, theirs, infos = _run_both(kind, R, d, np.float64, kw, 5, 3, nonfinite_at=(2, 1))
    info = infos[2][0]
    assert info.skipped.tolist() == [False, True, False, False]
    assert np.isnan(info.grad_norm[1]) and info.effective_lr[1] == 0.0
    assert ours.steps.tolist() == [5, 4, 5, 5]
    np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=1e-12 * (np.abs(w_ref).max() + 1))
    assert np.all(np.isfinite(w))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("d", [17, (1 << 14) + 5])
def test_threads_give_identical_bits(kind, d):
    R = 9
    kw = _hyper(kind, R, np.random.default_rng(4), per_replica=True, clip=True)
    out = []
    for threads in (1, 2):
        rng = np.random.default_rng(0)
        w = rng.standard_normal((R, d))
        opt = getattr(optim, kind)(w, num_threads=threads, **kw)
        for _ in range(3):
            opt.step(rng.standard_normal((R, d)))
        out.append(w)
    np.testing.assert_array_equal(out[0], out[1])


def test_vector_widths_give_identical_bits():
    """The row kernels run at the widest vector width the CPU has (TUNELAB_SIMD caps it; read at
    start-up, hence subprocesses): every kind, both dtypes, both torch.lerp branches, clipping,
    maximize, a skipped replica, row tails and the blocked path give the same bits at each."""
    code = (
        "import sys, numpy as np\n"
        "from tunelab import optim\n"
        "out = []\n"
        "for dtype in (np.float32, np.float64):\n"
        "    for d in (37, (1 << 14) + 21):\n"
        "        R = 4 if d == 37 else 2\n"
        "        hyper = [('SGD', dict(momentum=[0.0, 0.9, 0.5, 0.9][:R], dampening=0.1)),\n"
        "                 ('SGD', dict(momentum=0.9, nesterov=True)),\n"
        "                 ('Adam', dict(betas=([0.3, 0.9, 0.2, 0.95][:R], 0.99), weight_decay=0.1)),\n"
        "                 ('AdamW', dict(betas=([0.9, 0.4, 0.99, 0.1][:R], 0.999), weight_decay=0.1))]\n"
        "        for kind, kw in hyper:\n"
        "            rng = np.random.default_rng(7)\n"
        "            w = rng.standard_normal((R, d)).astype(dtype)\n"
        "            opt = getattr(optim, kind)(w, lr=0.01, max_grad_norm=[np.inf, 3.0, 40.0, 1.0][:R],\n"
        "                                       maximize=[False, True, False, False][:R], **kw)\n"
        "            for t in range(4):\n"
        "                g = rng.standard_normal((R, d)).astype(dtype)\n"
        "                if t == 2:\n"
        "                    g[1, 5] = np.nan\n"
        "                info = opt.step(g)\n"
        "                out += [w.tobytes(), info.grad_norm.tobytes(), info.effective_lr.tobytes()]\n"
        "            out += [a.tobytes() for a in opt.state_dict()['state'].values() if a is not None]\n"
        "np.save(sys.stdout.buffer, np.frombuffer(b''.join(out), np.uint8))\n"
    )
    same_at_every_simd_width(code)


def test_params_updated_in_place_and_grads_untouched():
    w = np.ones((2, 3), dtype=np.float32)
    g = np.full((2, 3), 10.0, dtype=np.float32)
    g_copy = g.copy()
    opt = optim.SGD(w, lr=0.1, max_grad_norm=1.0)
    assert opt.params is w
    info = opt.step(g)
    np.testing.assert_array_equal(g, g_copy)
    # ||g|| = 10 sqrt(3); clipped to norm 1 (up to the 1e-6 guard): w = 1 - 0.1 / sqrt(3)
    np.testing.assert_allclose(w, 1 - 0.1 / np.sqrt(3), rtol=1e-6)
    np.testing.assert_allclose(info.grad_norm, 10 * np.sqrt(3), rtol=1e-7)
    np.testing.assert_allclose(info.effective_lr, 0.1 / (10 * np.sqrt(3) + 1e-6), rtol=1e-12)


def test_hyperparameters_can_be_changed_between_steps():
    """A scheduler sets opt.lr; the value is validated and used on the next step."""
    w = np.zeros((3, 2))
    opt = optim.SGD(w, lr=0.1)
    opt.step(np.ones((3, 2)))
    opt.lr = [0.0, 1.0, 2.0]
    opt.step(np.ones((3, 2)))
    np.testing.assert_allclose(w[:, 0], [-0.1, -1.1, -2.1])
    with pytest.raises(ValueError, match="lr"):
        opt.lr = -1.0


def test_effective_lr_function():
    np.testing.assert_allclose(tunelab.effective_lr(0.1, 1.0, 4.0), 0.1 / (4.0 + 1e-6))
    np.testing.assert_allclose(tunelab.effective_lr(0.1, 1.0, 0.5), 0.1)
    np.testing.assert_allclose(tunelab.effective_lr([0.1, 0.2], None, [5.0, 6.0]), [0.1, 0.2])
    np.testing.assert_allclose(tunelab.effective_lr(0.1, np.inf, 1e9), 0.1)
    np.testing.assert_allclose(tunelab.effective_lr(0.3, [1, 2], [4, 4]), ref.effective_lr(0.3, [1, 2], [4, 4]))
    with pytest.raises(ValueError, match="lr"):
        tunelab.effective_lr(-0.1, 1.0, 1.0)
    with pytest.raises(ValueError, match="max_grad_norm"):
        tunelab.effective_lr(0.1, 0.0, 1.0)
    with pytest.raises(ValueError, match="grad_norm"):
        tunelab.effective_lr(0.1, 1.0, np.nan)


def test_step_info_effective_lr_matches_the_function():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((6, 4))
    opt = optim.AdamW(w, lr=np.linspace(0.01, 0.06, 6), max_grad_norm=np.linspace(0.5, 3, 6))
    info = opt.step(rng.standard_normal((6, 4)) * 2)
    np.testing.assert_allclose(info.effective_lr, tunelab.effective_lr(opt.lr, opt.max_grad_norm, info.grad_norm))


def test_result_helpers():
    pytest.importorskip("pandas")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    info = optim.Adam(np.ones((3, 2))).step(np.ones((3, 2)))
    assert "StepInfo(" in repr(info) and "Adam(R=3, d=2" in repr(optim.Adam(np.ones((3, 2))))
    assert list(info.to_frame().columns) == ["grad_norm", "effective_lr", "skipped"]
    info.plot()


# ---- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_refusals_params(kind):
    cls = getattr(optim, kind)
    with pytest.raises(TypeError, match="params"):
        cls([[1.0, 2.0]])
    with pytest.raises(TypeError, match="params"):
        cls(np.ones((2, 2), dtype=np.float16))
    with pytest.raises(TypeError, match="params"):
        cls(np.ones((2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="params"):
        cls(np.ones(4))
    with pytest.raises(ValueError, match="params"):
        cls(np.ones((4, 4))[:, ::2])
    ro = np.ones((2, 2))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="params"):
        cls(ro)
    with pytest.raises(ValueError, match="params"):
        cls(np.array([[np.nan, 1.0]]))
    opt = cls(np.ones((2, 3)))
    with pytest.raises(ValueError, match="grads"):
        opt.step(np.ones((3, 2)))
    with pytest.raises(TypeError, match="grads"):
        opt.step(np.array([["a", "b", "c"]] * 2))
    with pytest.raises(ValueError, match="lr"):
        cls(np.ones((2, 3)), lr=-0.1)
    with pytest.raises(ValueError, match="lr"):
        cls(np.ones((2, 3)), lr=[0.1, 0.1, 0.1])
    with pytest.raises(TypeError, match="lr"):
        cls(np.ones((2, 3)), lr=True)
    with pytest.raises(ValueError, match="weight_decay"):
        cls(np.ones((2, 3)), weight_decay=np.nan)
    with pytest.raises(ValueError, match="max_grad_norm"):
        cls(np.ones((2, 3)), max_grad_norm=0.0)
    with pytest.raises(ValueError, match="num_threads"):
        cls(np.ones((2, 3)), num_threads=0)


def test_refusals_sgd():
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD(np.ones((2, 2)), momentum=1.0)
    with pytest.raises(ValueError, match="dampening"):
        optim.SGD(np.ones((2, 2)), dampening=-0.1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD(np.ones((2, 2)), momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD(np.ones((2, 2)), momentum=[0.9, 0.0], nesterov=True)
    with pytest.raises(TypeError, match="nesterov"):
        optim.SGD(np.ones((2, 2)), momentum=0.9, nesterov="yes")


@pytest.mark.parametrize("kind", ["Adam", "AdamW"])
def test_refusals_adam(kind):
    cls = getattr(optim, kind)
    with pytest.raises(ValueError, match="betas"):
        cls(np.ones((2, 2)), betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="betas"):
        cls(np.ones((2, 2)), betas=(0.9, -0.1))
    with pytest.raises(ValueError, match="betas"):
        cls(np.ones((2, 2)), betas=0.9)
    with pytest.raises(ValueError, match="eps"):
        cls(np.ones((2, 2)), eps=0.0)
    with pytest.raises(ValueError, match="eps"):
        cls(np.ones((2, 2)), eps=[1e-8, -1.0])


def test_core_refuses_converted_in_place_arrays():
    """The compiled step takes params without conversion: a float32 kernel refuses float64."""
    from tunelab import _core

    w = np.ones((2, 2))
    R = np.ones(2)
    with pytest.raises(TypeError):
        _core.optim_step_float32(
            _core.Optimizer.sgd, w, w, None, None, np.zeros(2, dtype=np.int64), None, R, 0 * R, 0 * R, None, None, None, 0 * R, None,
            None, None, 1,
        )  # fmt: skip


# ---- PyTorch --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("clip", [False, True])
def test_equals_pytorch(kind, dtype, clip):
    """Each replica equals torch.optim.<kind> on its own parameter group, after
    torch.nn.utils.clip_grad_norm_ on its row; 10 steps, per-replica hyperparameters.
    Tolerance: float64 1e-10 relative (torch sums ||g||^2 in another order and may divide by
    a scalar as a multiplication by its reciprocal: a few ulp per step); float32 1e-5."""
    torch = pytest.importorskip("torch", reason="torch is not installed (the PyTorch comparison needs it)")
    R, d, steps = 5, 7, 10
    rng = np.random.default_rng(11)
    kw = _hyper(kind, R, rng, per_replica=True, clip=clip, nesterov=False)
    if kind == "SGD":
        kw["momentum"][0] = 0.0
    w0 = rng.standard_normal((R, d)).astype(dtype)
    grads = [rng.standard_normal((R, d)).astype(dtype) * 2 for _ in range(steps)]
    w = w0.copy()
    opt = getattr(optim, kind)(w, **kw)
    tparams = [torch.tensor(w0[r].copy(), requires_grad=True) for r in range(R)]
    groups = []
    for r in range(R):
        grp = {"params": [tparams[r]], "lr": float(kw["lr"][r]), "weight_decay": float(kw["weight_decay"][r])}
        if kind == "SGD":
            grp |= {"momentum": float(kw["momentum"][r]), "dampening": float(kw["dampening"][r])}
        else:
            grp |= {"betas": (float(kw["betas"][0][r]), float(kw["betas"][1][r])), "eps": float(kw["eps"][r])}
        groups.append(grp)
    topt = getattr(torch.optim, kind)(groups, foreach=False)
    for g in grads:
        opt.step(g)
        for r in range(R):
            tparams[r].grad = torch.tensor(g[r].copy())
            if clip and np.isfinite(kw["max_grad_norm"][r]):
                torch.nn.utils.clip_grad_norm_([tparams[r]], float(kw["max_grad_norm"][r]))
        topt.step()
    tw = np.stack([p.detach().numpy() for p in tparams])
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(w, tw, rtol=rtol, atol=rtol * (np.abs(tw).max() + 1))


# ---- schedules: every hyperparameter may change between steps, per replica ------------------
#
# PyTorch's semantics under a schedule (torch/optim/sgd.py, adam.py, single-tensor path): the
# values of a step are the group's values at that step; SGD creates a parameter's momentum
# buffer at the first step at which momentum != 0 (a clone of the gradient, after weight decay),
# and a step with momentum 0 neither creates nor touches it; Adam's state (step 0, zero moments)
# is created before the first step and the bias corrections use the current betas with the
# parameter's step count.


def test_issue_example_momentum_raised_after_step_one():
    """Issue 10 item 3: momentum 0 at step 1, then 0.9 with dampening 0.5 (w0 = 1, g = 1,
    lr = 0.1). torch: w = 0.9, 0.80, 0.66 (buffer created at step 2 as a copy of g); the old
    kernel counted from the replica's first step and gave 0.85, 0.755."""
    w = np.ones((1, 1))
    opt = optim.SGD(w, lr=0.1, momentum=0.0, dampening=0.5)
    g = np.ones((1, 1))
    opt.step(g)
    assert opt.momentum_buffer is None and w[0, 0] == 0.9
    opt.momentum = 0.9
    opt.step(g)
    assert opt.has_momentum_buffer.tolist() == [True] and opt.momentum_buffer[0, 0] == 1.0
    np.testing.assert_allclose(w[0, 0], 0.80, rtol=1e-15)
    opt.step(g)
    np.testing.assert_allclose(opt.momentum_buffer[0, 0], 1.4, rtol=1e-15)
    np.testing.assert_allclose(w[0, 0], 0.66, rtol=1e-15)


def test_buffers_created_at_different_steps_per_replica_and_kept_through_momentum_zero():
    """Replica 0 has momentum from step 1, replica 1 from step 2, replica 2 never; replica 0's
    momentum drops to 0 at step 3 (its buffer is kept, untouched) and returns at step 4 (the
    buffer continues from where it was). Constant g = 1, dampening 0.5: hand-computed buffers."""
    R = 3
    w = np.zeros((R, 1))
    opt = optim.SGD(w, lr=0.0, momentum=[0.9, 0.0, 0.0], dampening=0.5)
    g = np.ones((R, 1))
    schedule = [[0.9, 0.0, 0.0], [0.9, 0.9, 0.0], [0.0, 0.9, 0.0], [0.9, 0.9, 0.0]]
    expected = [  # (has buffer, buffer value) after each step
        ([True, False, False], [1.0, 0.0]),
        ([True, True, False], [1.4, 1.0]),
        ([True, True, False], [1.4, 1.4]),
        ([True, True, False], [0.9 * 1.4 + 0.5, 0.9 * 1.4 + 0.5]),
    ]
    for mu, (has, buf) in zip(schedule, expected):
        opt.momentum = mu
        opt.step(g)
        assert opt.has_momentum_buffer.tolist() == has
        np.testing.assert_allclose(opt.momentum_buffer[:2, 0], buf, rtol=1e-15)


def test_skipped_step_creates_no_buffer():
    """A non-finite gradient skips the replica: no buffer is created at that step."""
    w = np.zeros((2, 2))
    opt = optim.SGD(w, lr=0.1, momentum=0.5)
    g = np.ones((2, 2))
    g[1, 0] = np.inf
    opt.step(g)
    assert opt.has_momentum_buffer.tolist() == [True, False]
    opt.step(np.full((2, 2), 2.0))
    assert opt.has_momentum_buffer.tolist() == [True, True]
    np.testing.assert_array_equal(opt.momentum_buffer[1], [2.0, 2.0])  # a copy of g, not 0.5·0 + g


def test_momentum_that_rounds_to_zero_in_float32_still_creates_the_buffer():
    """torch tests momentum != 0 on the Python float: 1e-300 creates a buffer in float32 too."""
    w = np.zeros((1, 2), dtype=np.float32)
    opt = optim.SGD(w, lr=0.1, momentum=1e-300)
    opt.step(np.ones((1, 2), dtype=np.float32))
    assert opt.has_momentum_buffer.tolist() == [True]
    np.testing.assert_array_equal(opt.momentum_buffer, [[1.0, 1.0]])


@pytest.mark.parametrize("d", [3, (1 << 14) + 9])
def test_blocked_path_creates_buffers_like_the_row_path(d):
    """Rows longer than 2^14 (two-pass path) create buffers at the same steps."""
    R = 3
    rng = np.random.default_rng(5)
    w = rng.standard_normal((R, d))
    w_ref = w.copy()
    ours = optim.SGD(w, lr=0.1, momentum=0.0, dampening=0.3)
    theirs = ref.SGD(w_ref, lr=0.1, momentum=0.0, dampening=0.3)
    for mu in ([0.0, 0.9, 0.0], [0.5, 0.9, 0.0], [0.5, 0.0, 0.7], [0.5, 0.9, 0.7]):
        ours.momentum = theirs.momentum = np.array(mu)
        g = rng.standard_normal((R, d))
        ours.step(g)
        theirs.step(g)
        assert ours.has_momentum_buffer.tolist() == theirs.has_momentum_buffer.tolist()
    np.testing.assert_allclose(w, w_ref, rtol=1e-13, atol=1e-13)


_FLOATS = {"allow_nan": False, "allow_infinity": False}


def _maybe_zero(lo, hi):
    """0 exactly (switched off) or a value in [lo, hi] (subnormals included)."""
    return st.one_of(st.just(0.0), st.floats(lo, hi, **_FLOATS))


@st.composite
def schedules(draw, kind, R, T):
    """Per-step, per-replica hyperparameters: a list of T dicts of (R,) arrays. Every value in
    the documented range; switches (momentum, dampening, weight decay, nesterov, maximize) flip
    on and off at random steps."""
    def per_replica(strategy):
        return np.array(draw(st.lists(strategy, min_size=R, max_size=R)))

    out = []
    for _ in range(T):
        h = {"lr": per_replica(st.floats(0.0, 0.5, **_FLOATS)), "weight_decay": per_replica(_maybe_zero(0.0, 0.5)),
             "maximize": per_replica(st.booleans()).astype(bool)}  # fmt: skip
        if kind == "SGD":
            h["momentum"] = per_replica(_maybe_zero(0.0, 0.99))
            h["dampening"] = per_replica(st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0, **_FLOATS)))
            h["nesterov"] = per_replica(st.booleans()).astype(bool)
        else:
            h["betas"] = (per_replica(st.floats(0.0, 0.99, **_FLOATS)), per_replica(st.floats(0.0, 0.9999, **_FLOATS)))
            h["eps"] = per_replica(st.floats(1e-8, 1e-2, **_FLOATS))
        out.append(h)
    return out


def _set(opt, h):
    for k, v in h.items():
        setattr(opt, k, v)


def _torch_set(group, h, r, kind):
    for k, v in h.items():
        if k == "betas":
            group["betas"] = (float(v[0][r]), float(v[1][r]))
        elif k in ("nesterov", "maximize"):
            group[k] = bool(v[r])
        else:
            group[k] = float(v[r])


def _schedule_tol(dtype, T):
    """Tolerance of a T-step trajectory against torch / the reference, relative to the scale of
    the run (max |w| + sum of the step sizes, per replica). Both sides do the same operations;
    they may differ by an ulp per operation (torch may fuse x + a·y; the Python float and its
    rounding to float32 are the same on both sides), about 8 operations per element and step,
    and an error made at step t is carried through later steps amplified at most by the
    momentum sum and the weight-decay feedback, bounded here by T (steps) -- so
    |err| <= 8 T^2 u scale, u the unit roundoff: 1e-12 relative for float64 (T <= 10: 8·100·1.1e-16
    = 9e-14), and for float32 8·100·6e-8 = 5e-5."""
    u = np.finfo(dtype).eps / 2
    return max(8 * T * T * u, 1e-12 if dtype == np.float64 else 0.0)


def _scale(traj):
    """Per replica: max |w| over the run plus the sum over steps of max |w_t - w_{t-1}|."""
    traj = np.stack(traj).astype(np.float64)  # (T+1, R, d)
    return np.abs(traj).max(axis=(0, 2)) + np.abs(np.diff(traj, axis=0)).max(axis=2).sum(axis=0)


#: sizes, step count, dtype and gradient seed of a schedule test (the schedule itself: ``schedules``)
SCHEDULE_RUNS = dict(
    data=st.data(), R=st.integers(1, 4), d=st.integers(1, 9), T=st.integers(1, 10),
    dtype=st.sampled_from([np.float64, np.float32]), seed=st.integers(0, 2**32 - 1),
)


@pytest.mark.parametrize("kind", KINDS)
@given(**SCHEDULE_RUNS)
def test_schedules_equal_reference(kind, data, R, d, T, dtype, seed):
    """Random per-step, per-replica schedules of every hyperparameter: the kernel equals the
    NumPy reference (which creates state as torch does), including which replicas have a
    momentum buffer. Tolerance: _schedule_tol."""
    sched = data.draw(schedules(kind, R, T))
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((R, d)).astype(dtype)
    w_ref = w.copy()
    ours = getattr(optim, kind)(w)
    theirs = getattr(ref, kind)(w_ref)
    traj = [w_ref.copy()]
    for h in sched:
        _set(ours, h)
        _set(theirs, h)
        g = (rng.standard_normal((R, d)) * rng.uniform(0.1, 3.0)).astype(dtype)
        ours.step(g)
        theirs.step(g)
        traj.append(w_ref.copy())
        if kind == "SGD":
            has = ours.has_momentum_buffer
            assert (has if has is not None else np.zeros(R, bool)).tolist() == theirs.has_momentum_buffer.tolist()
    tol = _schedule_tol(dtype, T)
    np.testing.assert_array_less(np.abs(w - w_ref).max(axis=1), tol * _scale(traj) + np.finfo(dtype).tiny)
    np.testing.assert_array_equal(ours.steps, theirs.steps)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=40)
@given(**SCHEDULE_RUNS)
def test_schedules_equal_pytorch(kind, data, R, d, T, dtype, seed):
    """Random per-step, per-replica schedules of every hyperparameter (lr, momentum, dampening,
    weight_decay, nesterov, maximize; betas, eps): each replica equals torch.optim.<kind>
    stepping its own tensor in its own parameter group whose values are set before every step.
    Both start from their constructors' defaults (so torch's constructor check of nesterov does
    not apply) and the first schedule entry is set before the first step. Checks the parameters
    (tolerance _schedule_tol, relative to the run's scale), which replicas have a momentum buffer
    (exactly: torch's state) and the buffers / moments themselves."""
    torch = pytest.importorskip("torch", reason="torch is not installed (the PyTorch comparison needs it)")
    sched = data.draw(schedules(kind, R, T))
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((R, d)).astype(dtype)
    tparams = [torch.tensor(w[r].copy(), requires_grad=True) for r in range(R)]
    ours = getattr(optim, kind)(w)
    topt = getattr(torch.optim, kind)([{"params": [p]} for p in tparams], foreach=False)
    traj = [w.copy()]
    for h in sched:
        _set(ours, h)
        for r, group in enumerate(topt.param_groups):
            _torch_set(group, h, r, kind)
        g = (rng.standard_normal((R, d)) * rng.uniform(0.1, 3.0)).astype(dtype)
        ours.step(g)
        for r in range(R):
            tparams[r].grad = torch.tensor(g[r].copy())
        topt.step()
        traj.append(np.stack([p.detach().numpy() for p in tparams]))
    tw = traj[-1]
    tol = _schedule_tol(dtype, T)
    scale = _scale(traj)
    np.testing.assert_array_less(np.abs(w - tw).max(axis=1), tol * scale + np.finfo(dtype).tiny)
    if kind == "SGD":
        has = [("momentum_buffer" in topt.state[p]) for p in tparams]
        assert (ours.has_momentum_buffer.tolist() if ours.has_momentum_buffer is not None else [False] * R) == has
        for r, p in enumerate(tparams):
            if has[r]:
                tb = topt.state[p]["momentum_buffer"].numpy()
                bscale = np.abs(tb).max() + scale[r] / max(float(np.max([s["lr"][r] for s in sched])), 1e-300)
                assert np.abs(ours.momentum_buffer[r] - tb).max() <= tol * bscale + np.finfo(dtype).tiny
    else:
        for r, p in enumerate(tparams):
            st_ = topt.state[p]
            assert int(st_["step"].item()) == ours.steps[r] == T
            for name in ("exp_avg", "exp_avg_sq"):
                tv = st_[name].numpy()
                np.testing.assert_allclose(getattr(ours, name)[r], tv, rtol=tol, atol=tol * (np.abs(tv).max() + 1e-300))


def test_flags_refused():
    w = np.zeros((2, 2))
    with pytest.raises(TypeError, match="maximize"):
        optim.SGD(w, maximize="yes")
    with pytest.raises(TypeError, match="maximize"):
        optim.Adam(w, maximize=[1, 0])
    with pytest.raises(ValueError, match="maximize"):
        optim.AdamW(w, maximize=np.array([True, False, True]))
    opt = optim.SGD(w, momentum=0.9)
    with pytest.raises(TypeError, match="nesterov"):
        opt.nesterov = 1
    opt.nesterov = np.array([True, False])  # later changes are applied as torch applies them
    opt.momentum = [0.0, 0.5]
    opt.step(np.ones((2, 2)))
    assert "nesterov=per-replica" in repr(opt) and "maximize=False" in repr(opt)


# ---- torch tensors in place, state_dict round trips

_TORCH_REASON = "torch is not installed (the torch-tensor tests need it)"


def _kw(kind):
    return {"SGD": {"lr": 0.05, "momentum": 0.9, "nesterov": True}, "Adam": {"lr": 0.01}, "AdamW": {"lr": 0.01}}[kind]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torch_tensor_updated_in_place_and_equal_to_numpy(kind, dtype):
    torch = pytest.importorskip("torch", reason=_TORCH_REASON)
    rng = np.random.default_rng(3)
    p0 = rng.standard_normal((4, 7)).astype(dtype)
    grads = [rng.standard_normal((4, 7)).astype(dtype) for _ in range(5)]
    t = torch.nn.Parameter(torch.from_numpy(p0.copy()))  # requires grad, as a model's parameter does
    ptr = t.data_ptr()
    opt_t = getattr(optim, kind)(t, **_kw(kind))
    arr = p0.copy()
    opt_n = getattr(optim, kind)(arr, **_kw(kind))
    for i, g in enumerate(grads):
        opt_t.step(torch.from_numpy(g) if i % 2 else g)  # torch and NumPy gradients alike
        opt_n.step(g)
    assert t.data_ptr() == ptr
    assert np.shares_memory(opt_t.params, t.detach().numpy())
    assert t.detach().numpy().tobytes() == arr.tobytes()


@pytest.mark.parametrize("kind", KINDS)
def test_non_cpu_tensors_refused_by_name(kind):
    torch = pytest.importorskip("torch", reason=_TORCH_REASON)
    device = "cuda" if torch.cuda.is_available() else "meta"  # meta stands in for any non-CPU device
    with pytest.raises(ValueError, match=r"params is a torch tensor on device .*\.cpu\(\)"):
        getattr(optim, kind)(torch.zeros(2, 3, dtype=torch.float64, device=device))
    opt = getattr(optim, kind)(torch.zeros(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"grads is a torch tensor on device .*\.cpu\(\)"):
        opt.step(torch.zeros(2, 3, dtype=torch.float64, device=device))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [0, 3])
def test_state_dict_round_trip_is_bit_identical(kind, dtype, k):
    rng = np.random.default_rng(11)
    R, d, m = 5, 6, 4
    p0 = rng.standard_normal((R, d)).astype(dtype)
    grads = [rng.standard_normal((R, d)).astype(dtype) for _ in range(k + m)]
    kw = _hyper(kind, R, rng, per_replica=True, clip=True)
    a = p0.copy()
    opt = getattr(optim, kind)(a, **kw)
    for g in grads[:k]:
        opt.step(g)
    saved = opt.state_dict()
    b = a.copy()
    for g in grads[k:]:
        opt.step(g)
    fresh = getattr(optim, kind)(b, lr=0.0)  # other hyperparameters: the state dict brings them
    fresh.load_state_dict(saved)
    for g in grads[k:]:
        fresh.step(g)
    assert a.tobytes() == b.tobytes()
    assert fresh.steps.tolist() == opt.steps.tolist()
    # copies: stepping on does not change a saved state dict, and loading it twice works
    assert saved["steps"].tolist() == [k] * R
    fresh.load_state_dict(saved)


def test_state_dict_is_plain_numpy_and_python():
    opt = optim.SGD(np.zeros((2, 3)), lr=0.1)
    sd = opt.state_dict()
    assert sd["optimizer"] == "SGD" and sd["dtype"] == "float64" and sd["shape"] == (2, 3)
    assert sd["state"] == {"momentum_buffer": None, "has_momentum_buffer": None}
    assert sd["hyper"]["max_grad_norm"] is None
    assert all(isinstance(v, np.ndarray) for k, v in sd["hyper"].items() if k != "max_grad_norm")


def test_load_state_dict_refusals():
    opt = optim.Adam(np.zeros((2, 3)), lr=0.1)
    good = opt.state_dict()

    def edited(**changes):
        sd = opt.state_dict()
        for path, value in changes.items():
            *outer, last = path.split("__")
            target = sd
            for key in outer:
                target = target[key]
            target[last] = value
        return sd

    with pytest.raises(TypeError, match="state_dict must be a dict"):
        opt.load_state_dict([1, 2])
    sd = dict(good)
    del sd["steps"]
    with pytest.raises(ValueError, match=r"missing keys \['steps'\]"):
        opt.load_state_dict(sd)
    with pytest.raises(ValueError, match="of a 'SGD' optimizer"):
        opt.load_state_dict(optim.SGD(np.zeros((2, 3))).state_dict())
    with pytest.raises(ValueError, match="dtype float32 and shape"):
        opt.load_state_dict(optim.Adam(np.zeros((2, 3), np.float32)).state_dict())
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict(optim.Adam(np.zeros((3, 3))).state_dict())
    with pytest.raises(ValueError, match=r"unexpected keys \['extra'\]"):
        opt.load_state_dict(edited(hyper__extra=1.0))
    with pytest.raises(ValueError, match=r"state_dict\['steps'\] must have shape \(2,\) and dtype int64"):
        opt.load_state_dict(edited(steps=np.zeros(2, np.int32)))
    with pytest.raises(ValueError, match="must be >= 0"):
        opt.load_state_dict(edited(steps=np.array([-1, 0])))
    with pytest.raises(TypeError, match=r"\['exp_avg'\] must be a numpy.ndarray"):
        opt.load_state_dict(edited(state__exp_avg=None))
    with pytest.raises(ValueError, match=r"\['exp_avg_sq'\] must have shape \(2, 3\) and dtype float64"):
        opt.load_state_dict(edited(state__exp_avg_sq=np.zeros((2, 3), np.float32)))
    with pytest.raises(ValueError, match="all be arrays or all be None"):
        s = optim.SGD(np.zeros((2, 3)), momentum=0.9)
        sd = s.state_dict()
        sd["state"]["has_momentum_buffer"] = None
        s.load_state_dict(sd)
    # a refused hyperparameter leaves the optimizer as it was
    before = repr(opt)
    with pytest.raises(ValueError, match="weight_decay"):
        opt.load_state_dict(edited(hyper__lr=np.array([0.5, 0.5]), hyper__weight_decay=np.array([-1.0, 0.0])))
    assert repr(opt) == before
    opt.load_state_dict(good)
