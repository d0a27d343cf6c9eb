"""NumPy reference of ``tunelab.simulate_quadratic`` and ``tunelab.steady_state_loss``.

Vectorised over replicas, one Python iteration per step. With ``key=`` it draws exactly the
kernel's random numbers (Philox4x32-10 stream ``r`` for replica ``r``, consumed in the order
step, micro-batch, coordinate), so the tests compare it with the kernel to rounding error; with
``generator=`` (a ``numpy.random.Generator``) it draws NumPy's own normals / Student-t variates
instead, which is the fast baseline the bench times.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .optim import CLIP_EPS
from .rng import _normals, _unit, philox_blocks

__all__ = ["simulate_quadratic", "steady_state_loss"]


def steady_state_loss(h: Any, lr: float, batch_size: float, noise_var: float) -> float:
    """``(η s² / 2B) Σᵢ 1/(2 − η hᵢ)`` (inf if ``η hᵢ >= 2`` for some ``i``)."""
    h = np.asarray(h, dtype=np.float64)
    if np.any(lr * h >= 2):
        return float("inf")
    return float(lr * noise_var / (2.0 * batch_size) * np.sum(1.0 / (2.0 - lr * h)))


class _PhiloxNormals:
    """Element n of stream s is the n-th normal of ``rng::Stream(key, s)`` (the ziggurat of
    ``tunelab.reference.rng``)."""

    def __init__(self, key: int, streams: np.ndarray) -> None:
        self.key, self.streams, self.pos = key, streams, np.zeros(streams.shape, dtype=np.int64)

    def draw(self, d: int, rows: np.ndarray) -> np.ndarray:
        j = self.pos[rows, None] + np.arange(d)
        streams = np.broadcast_to(self.streams[rows, None], j.shape)
        self.pos[rows] += d
        return _normals(self.key, streams.ravel(), j.ravel()).reshape(j.shape)


class _PhiloxStudentT:
    """Bailey's polar method; candidate k of a stream uses block k's two uniforms."""

    def __init__(self, key: int, streams: np.ndarray, nu: float) -> None:
        self.key, self.streams, self.nu = key, streams, nu
        self.block = np.zeros(streams.shape, dtype=np.int64)

    def draw(self, d: int, rows: np.ndarray) -> np.ndarray:
        out = np.empty((rows.size, d))
        for i in range(d):
            pending = np.arange(rows.size)
            while pending.size:
                r = rows[pending]
                b = philox_blocks(self.key, self.streams[r], self.block[r])
                self.block[r] += 1
                u = 2.0 * _unit(b[:, 0], b[:, 1]) - 1.0
                v = 2.0 * _unit(b[:, 2], b[:, 3]) - 1.0
                w = u * u + v * v
                ok = (w > 0) & (w < 1)
                wo = w[ok]
                out[pending[ok], i] = u[ok] * np.sqrt(self.nu * (wo ** (-2.0 / self.nu) - 1.0) / wo)
                pending = pending[~ok]
        return out


class _GeneratorNoise:
    def __init__(self, gen: np.random.Generator, kind: str, nu: float) -> None:
        self.gen, self.kind, self.nu = gen, kind, nu

    def draw(self, d: int, rows: np.ndarray) -> np.ndarray:
        if self.kind == "gaussian":
            return self.gen.standard_normal((rows.size, d))
        return self.gen.standard_t(self.nu, (rows.size, d))


def _col(x: Any, R: int, dtype: Any = np.float64) -> np.ndarray:
    return np.broadcast_to(np.asarray(x, dtype=dtype), (R,)).copy()


def simulate_quadratic(
    h: Any, *, optimizer: str = "sgd", lr: Any, batch_size: Any = 1, accum_steps: Any = 1, noise_std: Any = 1.0,
    steps: int, replicas: int, x0: Any = 1.0, momentum: Any = 0.0, dampening: Any = 0.0, nesterov: bool = False,
    betas: tuple[Any, Any] = (0.9, 0.999), eps: Any = 1e-8, weight_decay: Any = 0.0, max_grad_norm: Any = None,
    noise: str = "gaussian", dof: float = 3.0, record_every: int = 1, max_loss: float = np.inf,
    key: int | None = None, generator: np.random.Generator | None = None, first: int = 0, grain: int = 32,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Reference simulation; returns the per-replica outputs and the survivors' loss curve.

    ``optimizer`` is "sgd" (momentum via ``momentum``), "adam" or "adamw". Exactly one of
    ``key`` (the kernel's Philox numbers) and ``generator`` must be given.
    """
    R = replicas
    h = np.asarray(h, dtype=np.float64)
    d = h.shape[-1]
    H = np.broadcast_to(h, (R, d))
    w = np.array(np.broadcast_to(np.asarray(x0, dtype=np.float64), (R, d)))
    s1, s2 = np.zeros((R, d)), np.zeros((R, d))
    lr, wd = _col(lr, R), _col(weight_decay, R)
    mu, omd = _col(momentum, R), 1.0 - _col(dampening, R)
    b1, b2, ep = _col(betas[0], R), _col(betas[1], R), _col(eps, R)
    cmax = _col(np.inf if max_grad_norm is None else max_grad_norm, R)
    A = _col(accum_steps, R, np.int64)
    tscale = np.sqrt((dof - 2.0) / dof) if noise == "student_t" else 1.0
    scale = _col(noise_std, R) / np.sqrt(_col(batch_size, R)) * tscale / A
    streams = np.arange(first, first + R, dtype=np.uint64)
    if (key is None) == (generator is None):
        raise ValueError("give exactly one of key and generator")
    if key is not None:
        src: Any = _PhiloxNormals(key, streams) if noise == "gaussian" else _PhiloxStudentT(key, streams, dof)
    else:
        src = _GeneratorNoise(generator, noise, dof)  # type: ignore[arg-type]
    K = steps // record_every
    rec = np.zeros((R, K + 1))
    lrw = np.zeros((R, K))
    loss = 0.5 * np.sum(H * w * w, axis=1)
    rec[:, 0] = loss
    alive = np.abs(loss) <= max_loss
    div_step = np.where(alive, -1, 0)
    b1t, b2t = np.ones(R), np.ones(R)
    lr_total, lr_win, updates = np.zeros(R), np.zeros(R), np.zeros(R, dtype=np.int64)
    for t in range(1, steps + 1):
        rows = np.flatnonzero(alive)
        if rows.size == 0:
            break
        wr = w[rows]
        g = H[rows] * wr
        if np.any(scale[rows] > 0):
            noisy = rows[scale[rows] > 0]
            sel = np.searchsorted(rows, noisy)
            z = src.draw(d, noisy)
            for a in range(1, int(A[noisy].max(initial=1))):
                more = noisy[A[noisy] > a]
                z[np.searchsorted(noisy, more)] += src.draw(d, more)
            g[sel] = g[sel] + scale[noisy, None] * z
        ss = np.sum(g * g, axis=1)
        bad = ~np.isfinite(ss)
        with np.errstate(invalid="ignore", divide="ignore"):
            coef = np.minimum(1.0, cmax[rows] / (np.sqrt(ss) + CLIP_EPS))
        coef = np.where(np.isinf(cmax[rows]), 1.0, coef)[:, None]
        lr_r = lr[rows, None]
        if optimizer == "sgd":
            gi = g * coef + wd[rows, None] * wr
            m = mu[rows, None]
            b = np.where(t == 1, gi, s1[rows] * m + omd[rows, None] * gi)
            dd = (gi + m * b) if nesterov else b
            dd = np.where(m != 0, dd, gi)
            s1[rows] = np.where(m != 0, b, s1[rows])
            wn = wr + (-lr_r) * dd
        else:
            b1t[rows] *= b1[rows]
            b2t[rows] *= b2[rows]
            bc1, bc2 = 1.0 - b1t[rows, None], 1.0 - b2t[rows, None]
            if optimizer == "adamw":
                wr = wr * (1.0 - lr_r * wd[rows, None])
                gi = g * coef
            else:
                gi = g * coef + wd[rows, None] * wr
            wt = 1.0 - b1[rows, None]
            m0 = s1[rows]
            mi = np.where(wt < 0.5, m0 + wt * (gi - m0), gi - (gi - m0) * (1.0 - wt))
            vi = s2[rows] * b2[rows, None] + (1.0 - b2[rows, None]) * gi * gi
            denom = np.sqrt(vi) / np.sqrt(bc2) + ep[rows, None]
            wn = wr + (-(lr_r / bc1)) * mi / denom
            s1[rows], s2[rows] = mi, vi
        eff = lr[rows] * coef[:, 0]
        new_loss = 0.5 * np.sum(H[rows] * wn * wn, axis=1)
        with np.errstate(invalid="ignore"):
            bad2 = ~bad & ~(np.abs(new_loss) <= max_loss)
        ok = ~bad & ~bad2
        w[rows[ok]] = wn[ok]
        updates[rows[~bad]] += 1
        lr_total[rows[~bad]] += eff[~bad]
        lr_win[rows] += np.where(bad, 0.0, eff)
        div_step[rows[~ok]] = t
        alive[rows[~ok]] = False
        loss[rows[ok]] = new_loss[ok]
        if t % record_every == 0:
            k = t // record_every
            rec[rows, k] = loss[rows]
            lrw[rows, k - 1] = lr_win[rows] / record_every
            lr_win[:] = 0.0
    final = np.where(alive, loss, np.inf)
    surv = alive
    x, y = rec[surv], lrw[surv]
    n = x.shape[0]
    return {
        "final_loss": final,
        "diverged": ~alive,
        "diverged_step": div_step,
        "mean_lr": np.where(updates > 0, lr_total / np.maximum(updates, 1), 0.0),
        "loss_mean": x.mean(axis=0) if n else np.full(K + 1, np.nan),
        "loss_sem": x.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(K + 1, np.nan),
        "effective_lr_mean": y.mean(axis=0) if n else np.full(K, np.nan),
    }
