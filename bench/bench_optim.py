"""Batched AdamW.step (float32, in place) vs the NumPy reference, an in-place preallocated NumPy
step and torch AdamW(fused=True) at the same thread count, and its achieved bandwidth (28 bytes
per float32 parameter: read w, g, m, v; write w, m, v) beside the in-place streaming bandwidth
x += s*y at the same thread count."""

from __future__ import annotations

import math

import numpy as np
from harness import Bench, Row, median_time, torch_threads

import tunelab
from tunelab import _core
from tunelab.reference import optim as ref


class InplaceAdamW:
    """AdamW as a NumPy user writes it for speed: every update in place on preallocated float32
    buffers (one scratch array), no temporaries; the same update as torch.optim.AdamW."""

    def __init__(self, w: np.ndarray, lr: float, weight_decay: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.w, self.lr, self.wd, self.b1, self.b2, self.eps = w, lr, weight_decay, betas[0], betas[1], eps
        self.m, self.v, self.tmp = np.zeros_like(w), np.zeros_like(w), np.empty_like(w)
        self.t = 0

    def step(self, g: np.ndarray) -> None:
        self.t += 1
        w, m, v, tmp = self.w, self.m, self.v, self.tmp
        w *= 1.0 - self.lr * self.wd
        m *= self.b1
        np.multiply(g, 1.0 - self.b1, out=tmp)
        m += tmp
        v *= self.b2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp *= 1.0 / math.sqrt(1.0 - self.b2**self.t)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1.0 - self.b1**self.t)
        w -= tmp


def run(bench: Bench) -> None:
    R, d = (100, 10_000) if bench.quick else (1_000, 10_000)
    n = R * d
    rng = np.random.default_rng(0)
    w = rng.standard_normal((R, d)).astype(np.float32)
    g = rng.standard_normal((R, d)).astype(np.float32)
    w_ref = w.copy()
    ref_opt = ref.AdamW(w_ref, lr=1e-3, weight_decay=1e-2)
    t_ref = median_time(lambda: ref_opt.step(g), repeat=3)
    np_opt = InplaceAdamW(w.copy(), lr=1e-3, weight_decay=1e-2)
    t_np = median_time(lambda: np_opt.step(g), repeat=9)  # NumPy's ufuncs run on one thread
    try:
        import torch
    except ModuleNotFoundError:
        torch = None
    for threads in sorted({1, 2, _core.max_threads()}):
        opt = tunelab.optim.AdamW(w, lr=1e-3, weight_decay=1e-2, num_threads=threads)
        t = median_time(lambda: opt.step(g), repeat=9)
        base = {"numpy reference": t_ref, "numpy in-place (1 thr)": t_np}
        if torch is not None:
            with torch_threads(torch, threads):
                tw = torch.from_numpy(w.copy()).requires_grad_(True)
                tw.grad = torch.from_numpy(g.copy())
                topt = torch.optim.AdamW([tw], lr=1e-3, weight_decay=1e-2, fused=True)
                base[f"torch AdamW fused ({threads} thr)"] = median_time(topt.step, repeat=9)
        bw = bench.stream_GBps("axpy", threads)
        gbps = 28 * n / t / 1e9
        bench.record(
            Row("optim", f"AdamW.step f32 ({threads} thr)", f"R={R},d={d}", t, base,
                {"GBps": gbps, "axpy_GBps": bw, "frac_of_axpy": gbps / bw, "ns_per_param": t / n * 1e9})
        )  # fmt: skip
