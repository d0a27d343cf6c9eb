"""Batched AdamW.step (float32, in place) vs the NumPy reference and torch AdamW(fused=True), and
its achieved bandwidth (28 bytes per float32 parameter: read w, g, m, v; write w, m, v) beside
the in-place streaming bandwidth x += s*y at the same thread count."""

from __future__ import annotations

import numpy as np
from harness import Bench, Row, median_time

import tunelab
from tunelab import _core
from tunelab.reference import optim as ref


def _axpy_GBps(threads: int, quick: bool) -> float:
    n = 2_000_000 if quick else 20_000_000
    x, y = np.ones(n), np.ones(n)
    return 24 * n / median_time(lambda: _core.stream_axpy(x, y, 1e-9, threads), repeat=7) / 1e9


def run(bench: Bench) -> None:
    R, d = (100, 10_000) if bench.quick else (1_000, 10_000)
    n = R * d
    rng = np.random.default_rng(0)
    w = rng.standard_normal((R, d)).astype(np.float32)
    g = rng.standard_normal((R, d)).astype(np.float32)
    w_ref = w.copy()
    ref_opt = ref.AdamW(w_ref, lr=1e-3, weight_decay=1e-2)
    t_ref = median_time(lambda: ref_opt.step(g), repeat=3)
    try:
        import torch
    except ModuleNotFoundError:
        torch = None
    for threads in sorted({1, 2, _core.max_threads()}):
        opt = tunelab.optim.AdamW(w, lr=1e-3, weight_decay=1e-2, num_threads=threads)
        t = median_time(lambda: opt.step(g), repeat=9)
        base = {"numpy reference": t_ref}
        if torch is not None:
            torch.set_num_threads(threads)
            tw = torch.from_numpy(w.copy()).requires_grad_(True)
            tw.grad = torch.from_numpy(g.copy())
            topt = torch.optim.AdamW([tw], lr=1e-3, weight_decay=1e-2, fused=True)
            base[f"torch AdamW fused ({threads} thr)"] = median_time(topt.step, repeat=9)
        bw = _axpy_GBps(threads, bench.quick)
        gbps = 28 * n / t / 1e9
        bench.record(
            Row("optim", f"AdamW.step f32 ({threads} thr)", f"R={R},d={d}", t, base,
                {"GBps": gbps, "axpy_GBps": bw, "frac_of_axpy": gbps / bw, "ns_per_param": t / n * 1e9})
        )  # fmt: skip
