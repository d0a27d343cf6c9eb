"""simulate_quadratic with AdamW (R replicas, d = 16, noise drawn inside) vs the NumPy reference
(NumPy Generator noise), an in-place preallocated NumPy loop and a PyTorch (R, d) tensor loop
(torch AdamW fused, noise drawn into a preallocated tensor); thread scaling; the share of the
time spent drawing normals (rng).

Both loops do what the kernel does each step: draw the noise, form the gradient, take the AdamW
step and evaluate every replica's loss (the kernel's divergence check), keeping the mean loss
every ``record_every`` steps."""

from __future__ import annotations

import math

import numpy as np
from harness import Bench, Row, median_time, torch_threads

import tunelab
from tunelab.reference import quadratic as ref


def _numpy_loop(h, R, steps, lr, noise_std, record_every, gen, betas=(0.9, 0.999), eps=1e-8):
    d = h.size
    w = np.ones((R, d))
    m, v = np.zeros((R, d)), np.zeros((R, d))
    g, tmp = np.empty((R, d)), np.empty((R, d))
    loss = np.empty(R)
    b1, b2 = betas
    losses = []
    for t in range(1, steps + 1):
        gen.standard_normal(out=g)
        g *= noise_std
        np.multiply(w, h, out=tmp)
        g += tmp
        m *= b1
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp *= 1.0 / math.sqrt(1.0 - b2**t)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= lr / (1.0 - b1**t)
        w -= tmp
        np.multiply(w, w, out=tmp)
        tmp *= h
        tmp.sum(axis=1, out=loss)  # ×½ below, on the recorded means only
        if t % record_every == 0:
            losses.append(0.5 * loss.mean())
    return losses


def _torch_loop(torch, h, R, steps, lr, noise_std, record_every):
    w = torch.ones((R, h.size), dtype=torch.float64, requires_grad=True)
    ht = torch.from_numpy(h)
    grad = torch.empty((R, h.size), dtype=torch.float64)
    noise = torch.empty_like(grad)
    tmp = torch.empty_like(grad)
    loss = torch.empty(R, dtype=torch.float64)
    w.grad = grad
    opt = torch.optim.AdamW([w], lr=lr, weight_decay=0.0, fused=True)
    losses = []
    with torch.no_grad():
        for t in range(1, steps + 1):
            noise.normal_()
            torch.mul(ht, w, out=grad)
            grad.add_(noise, alpha=noise_std)
            opt.step()
            torch.mul(w, w, out=tmp)
            tmp.mul_(ht)
            torch.sum(tmp, dim=1, out=loss)  # every step, as the kernel (divergence check)
            if t % record_every == 0:
                losses.append(0.5 * loss.mean().item())
    return losses


def run(bench: Bench) -> None:
    R, d, steps = (1024, 16, 100) if bench.quick else (16384, 16, 1000)
    h = np.linspace(0.1, 2.0, d)
    kw = dict(optimizer="adamw", lr=1e-2, weight_decay=0.0, noise_std=1.0, steps=steps, replicas=R, rng=1,
              record_every=10)  # fmt: skip
    es = R * d * steps
    t_ref = median_time(
        lambda: ref.simulate_quadratic(h, generator=np.random.default_rng(0), **{k: v for k, v in kw.items() if k != "rng"}),
        repeat=1,
    )
    t_np = median_time(lambda: _numpy_loop(h, R, steps, 1e-2, 1.0, 10, np.random.default_rng(0)), repeat=1)
    base1 = {"numpy reference": t_ref, "numpy in-place loop (1 thr)": t_np}
    try:
        import torch
    except ModuleNotFoundError:
        torch = None
    if torch is not None:
        with torch_threads(torch, 1):
            base1["torch (R,d) loop (1 thr)"] = median_time(lambda: _torch_loop(torch, h, R, steps, 1e-2, 1.0, 10), repeat=1)
    t1 = median_time(lambda: tunelab.simulate_quadratic(h, num_threads=1, **kw), repeat=1)
    t_quiet = median_time(lambda: tunelab.simulate_quadratic(h, num_threads=1, **(kw | {"noise_std": 0.0})), repeat=1)
    bench.record(Row("quadratic", "simulate_quadratic adamw (1 thr)", f"R={R},d={d},T={steps}", t1, base1,
                     {"ns_per_elem_step": t1 / es * 1e9, "noise_free_ns": t_quiet / es * 1e9,
                      "rng_share": 1 - t_quiet / t1}))  # fmt: skip
    threads = max(2, tunelab._core.max_threads())
    t2 = median_time(lambda: tunelab.simulate_quadratic(h, num_threads=threads, **kw), repeat=1)
    bench.record(Row("quadratic", f"simulate_quadratic adamw ({threads} thr)", f"R={R},d={d},T={steps}", t2,
                     {"numpy reference": t_ref, "tunelab 1 thr": t1}, {"ns_per_elem_step": t2 / es * 1e9}))  # fmt: skip
