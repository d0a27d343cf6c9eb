"""simulate_quadratic with AdamW (R replicas, d = 16, noise drawn inside) vs the NumPy reference
(NumPy Generator noise) and a PyTorch (R, d) tensor loop (torch AdamW fused, torch.randn);
thread scaling; the share of the time spent drawing normals (rng)."""

from __future__ import annotations

import numpy as np
from harness import Bench, Row, median_time

import tunelab
from tunelab.reference import quadratic as ref


def _torch_loop(torch, h, R, steps, lr, noise_std, record_every):
    w = torch.ones((R, h.size), dtype=torch.float64, requires_grad=True)
    ht = torch.from_numpy(h)
    opt = torch.optim.AdamW([w], lr=lr, weight_decay=0.0, fused=True)
    losses = []
    with torch.no_grad():
        for t in range(1, steps + 1):
            w.grad = ht * w + noise_std * torch.randn((R, h.size), dtype=torch.float64)
            opt.step()
            loss = 0.5 * (ht * w * w).sum(dim=1)  # every step, as the kernel (divergence check)
            if t % record_every == 0:
                losses.append(loss.mean().item())
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
    base1 = {"numpy reference": t_ref}
    try:
        import torch
    except ModuleNotFoundError:
        torch = None
    if torch is not None:
        torch.set_num_threads(1)
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
