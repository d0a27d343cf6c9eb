"""Report section: the chapter on a real network (a PyTorch MLP): λ_max from Hessian-vector
products, the stability bound, the top of the spectrum and its density, the range test, the
trace, and the edge of stability (SCIENCE.md §1–2; Cohen et al. 2021)."""

from __future__ import annotations

import importlib.util

import numpy as np

import tunelab

from .page import fmt, fmt_se

ORDER = 95
TITLE = "A real network: curvature of an MLP from Hessian-vector products"
SECONDS = (40, 15)

_EPS = float(np.finfo(float).eps)


class _Net:
    """A float64 tanh MLP d-w-w-1 on a regression set made here, with its loss and gradient as
    functions of the flat parameter vector (for SciPy and the range test)."""

    def __init__(self, d_in: int, width: int, n: int) -> None:
        import torch

        self.torch = torch
        torch.manual_seed(0)
        self.model = torch.nn.Sequential(
            torch.nn.Linear(d_in, width), torch.nn.Tanh(), torch.nn.Linear(width, width), torch.nn.Tanh(),
            torch.nn.Linear(width, 1),
        ).double()  # fmt: skip
        g = torch.Generator().manual_seed(0)
        self.X = torch.randn(n, d_in, dtype=torch.float64, generator=g)
        self.y = torch.sin(self.X @ torch.randn(d_in, 1, dtype=torch.float64, generator=g))
        self.loss_fn = torch.nn.MSELoss()
        self.params = list(self.model.parameters())
        self.n = sum(p.numel() for p in self.params)

    @property
    def data(self) -> tuple:
        return self.X, self.y

    def get(self) -> np.ndarray:
        return np.concatenate([p.detach().numpy().ravel() for p in self.params])

    def set(self, theta: np.ndarray) -> None:
        with self.torch.no_grad():
            i = 0
            for p in self.params:
                p.copy_(self.torch.from_numpy(theta[i : i + p.numel()]).view_as(p))
                i += p.numel()

    def loss_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        self.set(theta)
        loss = self.loss_fn(self.model(self.X), self.y)
        grads = self.torch.autograd.grad(loss, self.params)
        return float(loss.detach()), np.concatenate([g.numpy().ravel() for g in grads])

    def dense_hessian(self) -> np.ndarray:
        """torch.autograd.functional.hessian of the loss in the flat parameters (symmetrised)."""
        from torch.func import functional_call

        torch = self.torch
        names = [k for k, _ in self.model.named_parameters()]
        shapes, sizes = [p.shape for p in self.params], [p.numel() for p in self.params]

        def loss(theta):
            parts = {k: t.reshape(s) for k, t, s in zip(names, torch.split(theta, sizes), shapes)}
            return self.loss_fn(functional_call(self.model, parts, (self.X,)), self.y)

        h = torch.autograd.functional.hessian(loss, torch.from_numpy(self.get()), vectorize=True).numpy()
        return (h + h.T) / 2

    def gd(self, theta: np.ndarray, lr: float, steps: int) -> np.ndarray:
        """Full-batch GD losses L(θ_t), t = 0..steps−1 (the model is left at ``theta``)."""
        out = np.empty(steps)
        start = theta
        for t in range(steps):
            out[t], g = self.loss_grad(theta)
            theta = theta - lr * g
        self.set(start)
        return out


def run(page, quick: bool) -> None:
    if importlib.util.find_spec("torch") is None:
        page.skip("this section needs PyTorch, which is not installed: pip install \".[report,torch]\" "
                  "(a CPU wheel is enough) and run the report again.")  # fmt: skip
        return
    import matplotlib.pyplot as plt
    import scipy.optimize
    import torch

    import tunelab.torch as tt

    torch.set_num_threads(1)  # small products: threads cost more than they give, and the page is reproducible
    d_in, width, n_ex = (4, 16, 128) if quick else (8, 32, 256)
    net = _Net(d_in, width, n_ex)
    theta0 = net.get()
    page.text(
        f"A float64 MLP {d_in}-{width}-{width}-1 with tanh ({net.n} parameters), fitted by mean squared error to "
        f"y = sin(xᵀw) on {n_ex} Gaussian inputs made in code. H is the Hessian of the full-batch loss in the "
        "parameters. tunelab.torch.hessian_matvec gives v ↦ Hv by double backward (one forward and two backward "
        "passes, H never formed); every number below comes from those products, and the dense H of "
        "torch.autograd.functional.hessian is computed only to check them."
    )

    # ---- at a minimum: λ_max, the stability bound, the top of the spectrum, the trace ---------
    fit = scipy.optimize.minimize(net.loss_grad, theta0, jac=True, method="L-BFGS-B",
                                  options={"maxiter": 300 if quick else 1000})  # fmt: skip
    theta_star = fit.x
    net.set(theta_star)
    hvp = tt.hessian_matvec(net.model, net.loss_fn, net.data)
    counted = _Counter(hvp)
    top = tunelab.top_eigenvalue(counted, n=hvp.n, rng=0)
    lam, resid = float(top.value), float(top.residual)
    h = net.dense_hessian()
    w = np.linalg.eigvalsh(h)
    page.step("dense Hessian")
    eig_round = net.n * _EPS * float(np.abs(w).max())
    page.text(
        f"First, the stability of GD at a minimum: L-BFGS ({fit.nit} iterations) brings the loss to {fmt(fit.fun, 3)}. "
        f"There top_eigenvalue (Lanczos, the default for a matvec callable) finds λ_max = {lam:.10g} from "
        f"{counted.calls} Hessian-vector products; the dense H's eigvalsh gives {float(w[-1]):.10g}."
    )
    page.check_abs("λ_max by Lanczos on HVPs vs eigvalsh of the dense Hessian (tolerance: the residual "
                   "‖Hv − θv‖ + n·ε·‖H‖)", lam, float(w[-1]), atol=resid + eig_round)

    steps = 200
    bound = 2.0 / lam
    below, above = net.gd(theta_star, 0.9 * bound, steps), net.gd(theta_star, 1.1 * bound, steps)
    page.text(
        f"Full-batch GD from there for {steps} steps at α = 0.9·2/λ_max and 1.1·2/λ_max. Near a minimum the loss is "
        "nearly quadratic: below the bound every mode contracts and the loss keeps falling; above it the top mode "
        "grows by |1 − αλ_max| = 1.2 per step (1.44 in the loss) until the quadratic picture breaks down: the loss "
        f"rises {fmt(float(above.max() / above[0]), 3)}-fold by step {int(np.argmax(above))} before the network "
        "moves on to a flatter region (the catapult of Lewkowycz et al. 2020)."
    )
    page.check_bound("GD at α = 0.9·2/λ_max: the loss never exceeds its start (max L(t)/L(0) ≤ 1)",
                     float(below.max() / below[0]), upper=1.0)
    page.check_bound(f"GD at α = 0.9·2/λ_max: the loss falls, L({steps - 1})/L(0) < 1",
                     float(below[-1] / below[0]), upper=1.0, strict=True)
    page.check_bound("GD at α = 1.1·2/λ_max: unstable, max L(t)/L(0) > 10 (the top mode alone grows 1.44-fold per "
                     "step)", float(above.max() / above[0]), lower=10.0, strict=True)

    k = 5
    topk = tunelab.top_eigenvalues(hvp, k, n=hvp.n, rng=0)
    rows = [[i + 1, f"{v:.10g}", f"{d:.10g}", f"{r:.2g}"] for i, (v, d, r) in
            enumerate(zip(topk.values, w[::-1][:k], topk.residuals))]  # fmt: skip
    page.table(["rank", "top_eigenvalues (HVPs)", "eigvalsh (dense H)", "residual"], rows,
               caption=f"The top {k} eigenvalues at the minimum ({topk.n_iter} HVPs, restarted Lanczos).")
    worst = int(np.argmax(np.abs(topk.values - w[::-1][:k]) - topk.residuals))
    page.check_abs(f"top_eigenvalues(k={k}): the eigenvalue farthest from eigvalsh, rank {worst + 1} (tolerance: its "
                   "residual + n·ε·‖H‖)", float(topk.values[worst]), float(w[::-1][worst]),
                   atol=float(topk.residuals[worst]) + eig_round)  # fmt: skip

    probes = 20 if quick else 40
    dens = tunelab.spectral_density(hvp, n=hvp.n, n_probes=probes, n_lanczos=40, rng=1)
    page.step("spectral density")
    for order, name in ((1, "tr(H)/n"), (2, "tr(H²)/n")):
        est = dens.moment(order)
        page.check_z(f"density moment {order} (SLQ, {probes} probes × 40 steps) vs {name} of the dense H",
                     est.value, est.stderr, float(np.sum(w**order) / net.n), bound=4.0)  # fmt: skip
    tr = tunelab.hutchinson_trace(hvp, 100 if quick else 200, n=hvp.n, rng=2)
    page.text(f"Hutchinson's trace from HVPs: {fmt_se(tr.estimate, tr.stderr)} against tr H = {fmt(float(w.sum()), 6)}; "
              f"λ_min = {fmt(float(w[0]), 3)} (the minimum is flat, not strictly convex, in a few directions).")
    page.check_z("Hutchinson trace on HVPs vs tr H of the dense Hessian", tr.estimate, tr.stderr, float(w.sum()))

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    a1.plot(np.arange(1, k + 1), topk.values, "o", ms=8, label="top_eigenvalues (HVPs)")
    a1.plot(np.arange(1, 21), w[::-1][:20], "k.", label="eigvalsh (dense H)")
    a1.set_xlabel("rank i")
    a1.set_ylabel("eigenvalue λᵢ")
    a1.set_title("the top of the spectrum")
    a1.legend(fontsize="small")
    dens.plot(ax=a2)
    edges = np.linspace(dens.grid[0], dens.grid[-1], 60)
    hist, _ = np.histogram(w, bins=edges, density=True)
    a2.stairs(np.where(hist > 0, hist, np.nan), edges, color="grey", label="histogram of eigvalsh (dense H)")
    a2.legend(fontsize="small")
    fig.tight_layout()
    page.figure(fig, "network_spectrum",
                f"Left: the {k} largest eigenvalues of H at the minimum from HVPs and the dense H's 20 largest. Right: "
                "the spectral density by stochastic Lanczos quadrature (log scale) against the histogram of the dense "
                "spectrum: a bulk at zero and a few outliers.")

    # ---- at the start of training: the range test, the finder, the edge of stability ----------
    lrs = np.logspace(-3, 1, 200)
    rng_test = tunelab.lr_range_test(lambda t: net.loss_grad(t)[0], lambda t: net.loss_grad(t)[1], theta0, lrs)
    _, g0 = net.loss_grad(theta0)
    net.set(theta0)
    hvp0 = tt.hessian_matvec(net.model, net.loss_fn, net.data)
    rq = float(g0 @ hvp0(g0) / (g0 @ g0))
    lam0 = float(tunelab.top_eigenvalue(hvp0, n=hvp0.n, rng=0).value)
    ratio = float(lrs[1] / lrs[0])
    page.text(
        f"At the initial weights: the one-step range test (200 rates per 4 decades) finds α* = {fmt(rng_test.lr_critical, 4)} "
        f"and λ̂ = 2/α* = {fmt(rng_test.curvature, 4)}, below λ_max = {fmt(lam0, 4)}. Were the loss quadratic along the "
        f"gradient g over the step, λ̂ would be g's curvature gᵀHg/gᵀg = {fmt(rq, 4)} (from one HVP) to within the grid "
        f"step ×{ratio:.3f}; the ratio measured, {fmt(rng_test.curvature / rq, 3)}, shows how much the higher-order terms "
        "of the network's loss move the crossing at a step that long. Either way the range test sees the curvature "
        "along the gradient, which bounds λ_max from below, not λ_max itself."
    )
    page.check_bound(f"range test λ̂ = 2/α* at most λ_max(θ₀) = {fmt(lam0, 4)} (a quadratic's one-step test never exceeds "
                     "it; one grid step of slack)", rng_test.curvature, upper=lam0 * ratio)

    opt = torch.optim.SGD(net.model.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in net.params]
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(net.X, net.y), batch_size=32, shuffle=True,
                                         generator=torch.Generator().manual_seed(3))  # fmt: skip
    finder = tt.lr_finder(net.model, opt, net.loss_fn, loader, start_lr=1e-4, end_lr=10.0, num_iter=100)
    same = all(torch.equal(a, p.detach()) for a, p in zip(before, net.params))
    page.check_bound("tunelab.torch.lr_finder restores the model bit for bit (parameters equal: 1)",
                     float(same), lower=1.0, upper=1.0)
    page.text("tunelab.torch.lr_finder on the same model at its initial weights (minibatches of 32, SGD, 100 rates "
              "from 10⁻⁴ to 10), with fastai's three suggestions, beside the initial stability bound 2/λ_max = "
              f"{fmt(2 / lam0, 3)}; the model and the optimizer are restored afterwards.")
    page.table(["suggestion", "rate"], [[k_, fmt(v, 3)] for k_, v in finder.suggestions.items()])

    # edge of stability: λ_max along GD at a fixed α that starts stable (α = 2/(2λ_max(θ₀)))
    alpha = 1.0 / lam0
    T, every = (600, 25) if quick else (1500, 25)
    theta, sharp, loss_t = theta0.copy(), [], np.empty(T)
    for t in range(T):
        if t % every == 0:
            net.set(theta)
            h_t = tt.hessian_matvec(net.model, net.loss_fn, net.data)
            sharp.append(float(tunelab.top_eigenvalue(h_t, n=h_t.n, tol=1e-6, rng=0).value))
        loss_t[t], g = net.loss_grad(theta)
        theta = theta - alpha * g
    net.set(theta0)
    sharp_a = np.array(sharp)
    ts = np.arange(0, T, every)
    tail = sharp_a[len(sharp_a) * 2 // 3 :]
    page.text(
        f"The edge of stability (Cohen et al. 2021): full-batch GD from the initial weights at the fixed rate "
        f"α = 1/λ_max(θ₀) = {fmt(alpha, 3)}, half the initial bound. λ_max (Lanczos on HVPs, every {every} steps) "
        f"rises from {fmt(sharp_a[0], 3)} (progressive sharpening) to 2/α = {fmt(2 / alpha, 3)} and then hovers "
        f"there (median {fmt(float(np.median(tail)), 3)} over the last third) while the loss keeps falling, "
        "non-monotonically: GD regulates its own curvature instead of diverging."
    )
    page.check_bound("edge of stability: median λ_max over the last third of the run, in units of 2/α, within "
                     "[0.8, 1.25] (Cohen et al. report it at or just above 2/α)", float(np.median(tail)) * alpha / 2,
                     lower=0.8, upper=1.25)  # fmt: skip
    fig, (b1, b2) = plt.subplots(1, 2, figsize=(10, 3.8))
    b1.plot(ts, sharp_a, "o-", ms=3, label="λ_max (Lanczos on HVPs)")
    b1.axhline(2 / alpha, color="C3", ls="--", label="2/α")
    b1.set_xlabel("GD step t")
    b1.set_ylabel("λ_max")
    b1.set_title("sharpness along GD")
    b1.legend(fontsize="small")
    b2.semilogy(np.arange(T), loss_t)
    b2.set_xlabel("GD step t")
    b2.set_ylabel("training loss")
    b2.set_title(f"loss at α = {fmt(alpha, 3)}")
    fig.tight_layout()
    page.figure(fig, "edge_of_stability",
                f"Full-batch GD at a fixed α on the MLP: λ_max rises to 2/α and hovers there (left) while the loss "
                f"falls non-monotonically (right).")
    fig = plt.figure(figsize=(6.5, 3.8))
    ax = finder.plot(ax=fig.gca())
    ax.axvline(2 / lam0, color="C3", ls="--", label="2/λ_max(θ₀)")
    ax.legend(fontsize="small")
    page.figure(fig, "network_lr_finder",
                "The LR finder on the MLP (restored afterwards): smoothed loss against the rate, with the valley, "
                "steep and minimum suggestions and the initial stability bound 2/λ_max.")


class _Counter:
    def __init__(self, fn) -> None:
        self.fn, self.calls = fn, 0

    def __call__(self, v):
        self.calls += 1
        return self.fn(v)
