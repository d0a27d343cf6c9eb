"""tunelab.torch: Hessian-vector products, the LR finder and per-example gradients of a real
PyTorch model, checked against dense and looped torch computations.

The model is a float64 MLP 16-32-32-4 with tanh (1,732 parameters) on 128 examples generated
here; its Hessian at the initial weights is indefinite with λ₂/λ₁ ≈ 0.93 at the top, a gap
small enough for power iteration to need many products.
"""

from __future__ import annotations

import copy
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (pip install 'tunelab[torch]')")

import tunelab
import tunelab.torch as tt
from torch.func import functional_call
from torch.utils.data import DataLoader, TensorDataset

N, D_IN, WIDTH, D_OUT = 128, 16, 32, 4


def _mlp(dtype=torch.float64):
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(D_IN, WIDTH), torch.nn.Tanh(), torch.nn.Linear(WIDTH, WIDTH), torch.nn.Tanh(),
        torch.nn.Linear(WIDTH, D_OUT),
    ).to(dtype)  # fmt: skip


def _data(dtype=torch.float64):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(N, D_IN, dtype=dtype, generator=g)
    W = torch.randn(D_IN, D_OUT, dtype=dtype, generator=g)
    return X, torch.tanh(X @ W)


LOSS = torch.nn.MSELoss()


@pytest.fixture(scope="module")
def mlp():
    return _mlp(), _data()


@pytest.fixture(scope="module")
def dense_hessian(mlp):
    """The dense Hessian of the full-batch loss by torch.autograd.functional.hessian of the
    loss as a function of the flat parameter vector (symmetrised: its rounding is 1e-16)."""
    model, (X, Y) = mlp
    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    sizes = [p.numel() for p in model.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def loss(theta):
        parts = {n: t.reshape(s) for n, t, s in zip(names, torch.split(theta, sizes), shapes)}
        return LOSS(functional_call(model, parts, (X,)), Y)

    H = torch.autograd.functional.hessian(loss, flat, vectorize=True).numpy()
    return (H + H.T) / 2


class _Counted:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, v):
        self.calls += 1
        return self.fn(v)


def test_top_eigenvalue_equals_dense(mlp, dense_hessian):
    """Lanczos on the HVPs gives the top eigenvalue of the dense Hessian to 1e-8 relative."""
    model, data = mlp
    hvp = tt.hessian_matvec(model, LOSS, data)
    assert hvp.n == dense_hessian.shape[0] == 1732
    res = tunelab.top_eigenvalue(hvp, n=hvp.n, method="lanczos", rng=0)
    top = np.linalg.eigvalsh(dense_hessian)[-1]
    assert res.converged
    assert abs(res.value - top) <= 1e-8 * abs(top)


def test_default_method_is_lanczos_for_a_callable(mlp, dense_hessian):
    """A user who passes nothing gets Lanczos on HVPs (the fast path), to 1e-8 relative."""
    model, data = mlp
    hvp = _Counted(tt.hessian_matvec(model, LOSS, data))
    res = tunelab.top_eigenvalue(hvp, n=hvp.fn.n, rng=0)
    top = np.linalg.eigvalsh(dense_hessian)[-1]
    assert res.converged and abs(res.value - top) <= 1e-8 * abs(top) and hvp.calls <= 60


def test_top_five_equal_the_dense_top_five(mlp, dense_hessian):
    """top_eigenvalues(k=5) on the HVPs: the five largest eigenvalues of the dense Hessian to
    1e-8 relative (ARPACK's tol=1e-10 on each Ritz pair), and the eigenvectors' residuals on
    the dense Hessian as reported."""
    model, data = mlp
    hvp = tt.hessian_matvec(model, LOSS, data)
    res = tunelab.top_eigenvalues(hvp, 5, n=hvp.n, tol=1e-10, rng=0)
    top5 = np.linalg.eigvalsh(dense_hessian)[::-1][:5]
    np.testing.assert_allclose(res.values, top5, rtol=1e-8)
    np.testing.assert_allclose(np.linalg.norm(dense_hessian @ res.vectors - res.vectors * res.values, axis=0),
                               res.residuals, rtol=1e-6, atol=1e-12 * top5[0])  # fmt: skip


def test_density_moments_equal_the_trace_within_their_standard_errors(mlp, dense_hessian):
    """SLQ on the HVPs: the density's first two moments against tr(H)/n and tr(H²)/n of the
    dense Hessian, within 4 of their reported standard errors (fixed seed rng=0; a 4σ bound
    fails with probability 6e-5 for a normal estimate, and the seed is not re-drawn)."""
    model, data = mlp
    hvp = tt.hessian_matvec(model, LOSS, data)
    d = tunelab.spectral_density(hvp, n=hvp.n, n_probes=8, n_lanczos=30, rng=0)
    n, w = hvp.n, np.linalg.eigvalsh(dense_hessian)
    for k in (1, 2):
        est = d.moment(k)
        assert est.stderr > 0
        assert abs(est.value - np.sum(w**k) / n) <= 4 * est.stderr, (k, est, np.sum(w**k) / n)
    # the outlier is a node: the largest Ritz value of the probes is the top eigenvalue
    assert abs(d.nodes.max() - w[-1]) <= 1e-6 * w[-1]


def test_products_equal_dense(mlp, dense_hessian):
    model, data = mlp
    v = np.random.default_rng(1).standard_normal(dense_hessian.shape[0])
    hv = tt.hessian_matvec(model, LOSS, data)(v)
    assert hv.dtype == np.float64 and hv.shape == v.shape
    np.testing.assert_allclose(hv, dense_hessian @ v, rtol=0, atol=1e-12 * np.linalg.norm(dense_hessian @ v))


def test_lanczos_needs_five_times_fewer_products_than_power(mlp, dense_hessian):
    """At the default tol=1e-8, counting calls of the callable (measured here: Lanczos 31,
    power iteration 205)."""
    model, data = mlp
    hvp = tt.hessian_matvec(model, LOSS, data)
    lanczos, power = _Counted(hvp), _Counted(hvp)
    r_l = tunelab.top_eigenvalue(lanczos, n=hvp.n, method="lanczos", tol=1e-8, rng=0)
    r_p = tunelab.top_eigenvalue(power, n=hvp.n, method="power", tol=1e-8, rng=0)
    assert r_l.converged and r_p.converged
    assert (lanczos.calls, power.calls) == (r_l.n_iter, r_p.n_iter)
    assert 5 * lanczos.calls <= power.calls
    top = np.linalg.eigvalsh(dense_hessian)[-1]
    assert abs(r_p.value - top) <= 1e-8 * abs(top)


def test_hutchinson_trace_within_its_standard_error(mlp, dense_hessian):
    """|estimate − tr H| ≤ 4·stderr (fixed seed rng=0; a 4σ bound fails with probability 6e-5
    for a normal estimate, and this seed is not re-drawn)."""
    model, data = mlp
    hvp = tt.hessian_matvec(model, LOSS, data)
    res = tunelab.hutchinson_trace(hvp, 100, n=hvp.n, rng=0)
    assert res.stderr > 0
    assert abs(res.estimate - np.trace(dense_hessian)) <= 4 * res.stderr


def test_batches_give_the_full_batch_hessian(mlp):
    """A DataLoader in uneven batches (50, 50, 28: weighted by size), a list of pairs and a
    generator give the full-batch product to rounding."""
    model, (X, Y) = mlp
    v = np.random.default_rng(2).standard_normal(tt.hessian_matvec(model, LOSS, (X, Y)).n)
    full = tt.hessian_matvec(model, LOSS, (X, Y))(v)
    loader = DataLoader(TensorDataset(X, Y), batch_size=50)
    pairs = [(X[i : i + 50], Y[i : i + 50]) for i in range(0, N, 50)]
    gen = ((X[i : i + 50], Y[i : i + 50]) for i in range(0, N, 50))
    for data in (loader, pairs, gen):
        hvp = tt.hessian_matvec(model, LOSS, data)
        for _ in range(2):  # every call passes over all of the data again
            np.testing.assert_allclose(hvp(v), full, rtol=0, atol=1e-13 * np.linalg.norm(full))


def test_params_select_a_block(mlp, dense_hessian):
    """params= gives the Hessian block of those parameters (here the last layer's)."""
    model, data = mlp
    last = list(model[4].parameters())
    hvp = tt.hessian_matvec(model, LOSS, data, params=last)
    k = sum(p.numel() for p in last)
    assert hvp.n == k == WIDTH * D_OUT + D_OUT
    v = np.random.default_rng(3).standard_normal(k)
    block = dense_hessian[-k:, -k:]
    np.testing.assert_allclose(hvp(v), block @ v, rtol=0, atol=1e-12 * np.linalg.norm(block @ v))


def test_float32_model():
    """A float32 model: products within 1e-6 of the float64 model's (relative to their norm;
    measured 2e-7), and Lanczos at tol=1e-5 within 1e-6 of its top eigenvalue (measured 7e-9)."""
    X, Y = _data()
    h64 = tt.hessian_matvec(_mlp(), LOSS, (X, Y))
    h32 = tt.hessian_matvec(_mlp(torch.float32), LOSS, (X.float(), Y.float()))
    v = np.random.default_rng(4).standard_normal(h64.n)
    ref = h64(v)
    out = h32(v)
    assert out.dtype == np.float64
    assert np.linalg.norm(out - ref) <= 1e-6 * np.linalg.norm(ref)
    top = tunelab.top_eigenvalue(h64, n=h64.n, method="lanczos", rng=0).value
    r32 = tunelab.top_eigenvalue(h32, n=h32.n, method="lanczos", tol=1e-5, rng=0)
    assert r32.converged
    assert abs(r32.value - top) <= 1e-6 * top


def test_per_example_grads_equal_a_loop(mlp):
    model, (X, Y) = mlp
    X, Y = X[:16], Y[:16]
    G = tt.per_example_grads(model, LOSS, X, Y)
    assert G.shape == (16, sum(p.numel() for p in model.parameters())) and G.dtype == np.float64
    for i in range(16):
        g = torch.autograd.grad(LOSS(model(X[i : i + 1]), Y[i : i + 1]), list(model.parameters()))
        expected = torch.cat([t.reshape(-1) for t in g]).numpy()
        np.testing.assert_allclose(G[i], expected, rtol=0, atol=1e-13 * np.abs(expected).max())


def test_per_example_grads_skip_frozen_parameters():
    model = _mlp()
    model[0].requires_grad_(False)
    X, Y = _data()
    G = tt.per_example_grads(model, LOSS, X[:4], Y[:4])
    assert G.shape == (4, sum(p.numel() for p in model.parameters() if p.requires_grad))
    g = torch.autograd.grad(LOSS(model(X[:1]), Y[:1]), [p for p in model.parameters() if p.requires_grad])
    np.testing.assert_allclose(G[0], torch.cat([t.reshape(-1) for t in g]).numpy(), rtol=1e-12, atol=1e-15)


def test_gradient_noise_scale_over_batches(mlp):
    """Over a DataLoader: the core estimator on all the per-example gradients stacked."""
    model, (X, Y) = mlp
    res = tt.gradient_noise_scale(model, LOSS, DataLoader(TensorDataset(X, Y), batch_size=40))
    core = tunelab.gradient_noise_scale(per_example_grads=tt.per_example_grads(model, LOSS, X, Y))
    assert res.B_simple == pytest.approx(core.B_simple, rel=1e-12)
    assert np.isfinite(res.B_simple) and res.B_simple > 0


def _finder_model():
    """A model with buffers (batch norm) and a mode-dependent layer (dropout), left in eval mode."""
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Linear(D_IN, WIDTH), torch.nn.BatchNorm1d(WIDTH), torch.nn.Tanh(), torch.nn.Dropout(0.1),
        torch.nn.Linear(WIDTH, D_OUT),
    ).double()  # fmt: skip
    return model


def _assert_same_tensors(a, b, where="state"):
    """Every tensor of two nested state_dicts equal bit for bit (same dtype, shape, values),
    and everything else equal."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape, where
        assert torch.equal(a, b) and a.view(-1).view(torch.uint8).equal(b.view(-1).view(torch.uint8)), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _assert_same_tensors(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_tensors(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


@pytest.mark.parametrize("opt", ["Adam", "SGD"])
def test_lr_finder_restores_model_and_optimizer(opt):
    """Model parameters and buffers, every optimizer moment and step count, the rates, the
    gradients and the training flags are as found, bit for bit; the loader (4 batches) is
    cycled through 30 steps."""
    model = _finder_model()
    X, Y = _data()
    optimizer = getattr(torch.optim, opt)(model.parameters(), lr=1e-3, **({"momentum": 0.9} if opt == "SGD" else {}))
    for _ in range(3):  # moments and step counts to restore, and a .grad left behind
        optimizer.zero_grad()
        LOSS(model(X), Y).backward()
        optimizer.step()
    model.eval()
    before_model = copy.deepcopy(model.state_dict())
    before_opt = copy.deepcopy(optimizer.state_dict())
    before_grads = [p.grad.clone() for p in model.parameters()]
    loader = DataLoader(TensorDataset(X, Y), batch_size=32, shuffle=True)
    res = tt.lr_finder(model, optimizer, LOSS, loader, start_lr=1e-5, end_lr=1.0, num_iter=30)
    assert isinstance(res, tunelab.LRFinderResult)
    assert len(res.lrs) == 30 and not res.diverged  # more steps than batches: the loader was cycled
    assert np.isfinite(res.lr_suggested)
    _assert_same_tensors(model.state_dict(), before_model, "model")
    _assert_same_tensors(optimizer.state_dict(), before_opt, "optimizer")
    assert optimizer.state_dict()["state"], "the optimizer had state to restore"
    _assert_same_tensors([p.grad for p in model.parameters()], before_grads, "grad")
    assert not any(m.training for m in model.modules())


def test_lr_finder_restores_after_an_error():
    model = _finder_model()
    X, Y = _data()
    optimizer = torch.optim.Adam(model.parameters())
    before = copy.deepcopy(model.state_dict())
    calls = []

    def failing(out, y):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("boom")
        return LOSS(out, y)

    with pytest.raises(RuntimeError, match="boom"):
        tt.lr_finder(model, optimizer, failing, (X, Y), num_iter=10)
    _assert_same_tensors(model.state_dict(), before)
    assert optimizer.state_dict()["state"] == {}
    assert all(p.grad is None for p in model.parameters())
    assert model.training


def test_lr_finder_accumulates_batches():
    """accumulation_steps=3: three batches per step (counted), the mean of their losses."""
    model = _mlp()
    X, Y = _data()
    seen = []

    def loss(out, y):
        seen.append(len(y))
        return LOSS(out, y)

    res = tt.lr_finder(model, torch.optim.SGD(model.parameters()), loss, [(X[:64], Y[:64]), (X[64:], Y[64:])],
                       start_lr=1e-6, end_lr=1e-3, num_iter=5, accumulation_steps=3)  # fmt: skip
    assert seen == [64] * 15
    assert len(res.lrs) == 5


# --- what a user can get wrong -----------------------------------------------------------------


def test_hessian_matvec_errors(mlp):
    model, (X, Y) = mlp
    hvp = tt.hessian_matvec(model, LOSS, (X, Y))
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        tt.hessian_matvec(lambda x: x, LOSS, (X, Y))
    frozen = _mlp().requires_grad_(False)
    with pytest.raises(ValueError, match="no parameters that require grad"):
        tt.hessian_matvec(frozen, LOSS, (X, Y))
    with pytest.raises(ValueError, match="must return a scalar"):
        tt.hessian_matvec(model, torch.nn.MSELoss(reduction="none"), (X, Y))
    with pytest.raises(TypeError, match="not a Python number"):
        tt.hessian_matvec(model, lambda o, y: LOSS(o, y).item(), (X, Y))
    with pytest.raises(ValueError, match="does not depend on the parameters"):
        tt.hessian_matvec(model, lambda o, y: LOSS(o, y).detach(), (X, Y))
    with pytest.raises(ValueError, match="CPU models and tensors only"):
        tt.hessian_matvec(torch.nn.Linear(D_IN, D_OUT, device="meta"), LOSS, (X, Y))
    with pytest.raises(ValueError, match="CPU models and tensors only"):
        tt.hessian_matvec(model, LOSS, (X.to("meta"), Y))
    with pytest.raises(TypeError, match=r"\(inputs, targets\) pair"):
        tt.hessian_matvec(model, LOSS, 5)
    with pytest.raises(TypeError, match=r"each batch of data must be an \(inputs, targets\) pair"):
        tt.hessian_matvec(model, LOSS, [X])
    with pytest.raises(ValueError, match="yielded no batch"):
        tt.hessian_matvec(model, LOSS, [])
    with pytest.raises(ValueError, match="does not require grad"):
        tt.hessian_matvec(model, LOSS, (X, Y), params=[torch.zeros(3)])
    with pytest.raises(ValueError, match="twice"):
        tt.hessian_matvec(model, LOSS, (X, Y), params=[model[0].weight, model[0].weight])
    with pytest.raises(ValueError, match=f"length n = {hvp.n}"):
        hvp(np.ones(hvp.n - 1))
    with pytest.raises(ValueError, match="1-dimensional"):
        hvp(np.ones((hvp.n, 1)))
    with pytest.raises(TypeError, match="not a list of tensors"):
        hvp([torch.ones_like(p) for p in model.parameters()])
    # a tensor (even one that requires grad) is taken as the flat vector it is
    t = torch.ones(hvp.n, dtype=torch.float64, requires_grad=True)
    np.testing.assert_array_equal(hvp(t), hvp(np.ones(hvp.n)))


def test_lr_finder_and_grads_errors(mlp):
    model, (X, Y) = mlp
    opt = torch.optim.SGD(model.parameters())
    with pytest.raises(ValueError, match="step_mode"):
        tt.lr_finder(model, opt, LOSS, (X, Y), step_mode="linear")
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        tt.lr_finder(model, tunelab.optim, LOSS, (X, Y))
    with pytest.raises(ValueError, match="end_lr must exceed start_lr"):
        tt.lr_finder(model, opt, LOSS, (X, Y), start_lr=1.0, end_lr=0.1)
    with pytest.raises(ValueError, match="num_iter"):
        tt.lr_finder(model, opt, LOSS, (X, Y), num_iter=1)
    with pytest.raises(ValueError, match="accumulation_steps"):
        tt.lr_finder(model, opt, LOSS, (X, Y), accumulation_steps=0)
    with pytest.raises(ValueError, match="loader yielded no batch"):
        tt.lr_finder(model, opt, LOSS, [])
    with pytest.raises(ValueError, match="first axis of length"):
        tt.per_example_grads(model, LOSS, X, Y[:5])
    with pytest.raises(ValueError, match="must return a scalar"):
        tt.per_example_grads(model, torch.nn.MSELoss(reduction="none"), X, Y)


def _python(code):
    return subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)


def test_import_tunelab_does_not_import_torch():
    out = _python("import sys, tunelab; print('torch' in sys.modules)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_import_without_torch_names_the_extra():
    """torch hidden by a finder that refuses it (as if it were not installed)."""
    out = _python(
        "import sys\n"
        "class NoTorch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        "import tunelab.torch\n"
    )
    assert out.returncode != 0
    assert "ModuleNotFoundError" in out.stderr and "tunelab[torch]" in out.stderr


def test_lr_finder_suggestions_inside_the_curve_over_data_orders():
    """Over 10 data orders (a shuffling DataLoader, seeds 0..9) with SGD from 1e-5 to 10, no
    suggestion of any rule lies in the first or last tenth of the recorded curve (the suggested
    rate's nearest recorded rate is the place checked)."""
    X, Y = _data()
    for seed in range(10):
        model = _finder_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
        loader = DataLoader(TensorDataset(X, Y), batch_size=16, shuffle=True,
                            generator=torch.Generator().manual_seed(seed))  # fmt: skip
        res = tt.lr_finder(model, optimizer, LOSS, loader, start_lr=1e-5, end_lr=10.0, num_iter=100)
        k = len(res.lrs)
        for rule, lr in res.suggestions.items():
            i = int(np.argmin(np.abs(np.log(res.lrs) - np.log(lr))))  # the suggested rate's place on the curve
            assert k // 10 <= i < k - k // 10, (seed, rule, i, k)


# ------------------------------------------------------------------ torch's LR schedulers
def _torch_lrs(make_sched, base_lr, steps, momentum=0.0):
    """The rates torch's own SGD sees under a scheduler (the reference: torch alone)."""
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=base_lr, momentum=momentum)
    sched = make_sched(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


@pytest.mark.parametrize("make_sched", [
    lambda o: torch.optim.lr_scheduler.StepLR(o, 3, gamma=0.5),
    lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7),
    lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 1.0 / (1 + t)),
    lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4),
], ids=["StepLR", "CosineAnnealingLR", "LambdaLR", "LinearLR"])
def test_torch_schedulers_drive_the_batched_optimizers(make_sched):
    """Each replica's rate follows torch's schedule from its own base rate, step by step, and the
    parameters move as torch's SGD moves them under the same schedule."""
    base = np.array([0.1, 0.02, 0.3])
    params = np.zeros((3, 2))
    opt = tunelab.optim.SGD(params, lr=base)
    view = tt.as_torch_optimizer(opt)
    sched = make_sched(view)
    seen = []
    for _ in range(10):
        view.step(np.ones((3, 2)))
        seen.append(opt.lr.copy())
        sched.step()
    expected = np.stack([_torch_lrs(make_sched, b, 10) for b in base], axis=1)
    np.testing.assert_allclose(np.array(seen), expected, rtol=1e-15)
    np.testing.assert_allclose(params[:, 0], -expected.sum(axis=0), rtol=1e-14)


def test_one_cycle_schedules_rate_and_momentum():
    opt = tunelab.optim.SGD(np.zeros((1, 2)), lr=0.1, momentum=0.9)
    view = tt.as_torch_optimizer(opt)
    sched = torch.optim.lr_scheduler.OneCycleLR(view, max_lr=1.0, total_steps=10)
    w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    ref = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    ref_sched = torch.optim.lr_scheduler.OneCycleLR(ref, max_lr=1.0, total_steps=10)
    for _ in range(9):
        view.step(np.ones((1, 2)))
        w.grad = torch.ones(2, dtype=torch.float64)
        ref.step()
        assert opt.lr[0] == ref.param_groups[0]["lr"] and opt.momentum[0] == ref.param_groups[0]["momentum"]
        sched.step()
        ref_sched.step()
    np.testing.assert_allclose(opt.params[0], w.detach().numpy(), rtol=1e-14)


def test_torch_optimizer_state_and_errors():
    """Save after one step, continue one more; a fresh view on the saved parameters, loaded with
    the saved state (and the scheduler's), takes bit for bit the same second step."""
    opt = tunelab.optim.AdamW(np.zeros((2, 3)), lr=1e-2)
    view = tt.as_torch_optimizer(opt)
    assert view.param_groups[0]["lr"] == 1e-2 and view.param_groups[0]["betas"] == (0.9, 0.999)
    sched = torch.optim.lr_scheduler.ExponentialLR(view, gamma=0.5)
    grads = np.arange(6.0).reshape(2, 3)
    view.step(grads)
    sched.step()
    saved, saved_sched, saved_params = view.state_dict(), sched.state_dict(), opt.params.copy()
    view.step(grads)
    again = tt.as_torch_optimizer(tunelab.optim.AdamW(saved_params.copy(), lr=1.0))
    again_sched = torch.optim.lr_scheduler.ExponentialLR(again, gamma=0.5)
    again.load_state_dict(saved)
    again_sched.load_state_dict(saved_sched)
    assert again.param_groups[0]["lr"] == 5e-3 and again.optimizer.steps.tolist() == [1, 1]
    again.step(grads)
    np.testing.assert_array_equal(again.optimizer.params, opt.params)
    with pytest.raises(TypeError, match="tunelab.optim.SGD, Adam or AdamW"):
        tt.as_torch_optimizer(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1))
    with pytest.raises(TypeError, match="closure"):
        view.step(np.ones((2, 3)), closure=lambda: 0.0)
    with pytest.raises(ValueError, match="state_dict"):
        view.load_state_dict({"lr": 1.0})
