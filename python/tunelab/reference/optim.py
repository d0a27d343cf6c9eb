"""NumPy reference of ``tunelab.optim``: the same batched SGD / Adam / AdamW, written plainly.

Arithmetic is in the parameters' dtype with each per-replica scalar rounded once to it (as the
kernels and PyTorch do); the gradient norm is accumulated in float64. Hyperparameters are plain
attributes (a scalar or an (R,) array each) read at every step, so a schedule sets them between
steps; the state is created as PyTorch creates it (SGD: a replica's momentum buffer at its first
step with momentum != 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["SGD", "Adam", "AdamW", "effective_lr", "clip_coefficients"]

CLIP_EPS = 1e-6


def _col(x: Any, R: int) -> np.ndarray:
    """A per-replica hyperparameter as an (R, 1) float64 column."""
    return np.broadcast_to(np.asarray(x, dtype=np.float64), (R,)).reshape(R, 1)


def clip_coefficients(grads: np.ndarray, max_grad_norm: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(‖g‖, min(1, c/(‖g‖ + 1e-6)))`` per row, as ``torch.nn.utils.clip_grad_norm_``."""
    g = grads.astype(np.float64)
    norm = np.sqrt(np.sum(g * g, axis=1))
    if max_grad_norm is None:
        return norm, np.ones_like(norm)
    c = np.broadcast_to(np.asarray(max_grad_norm, dtype=np.float64), norm.shape)
    with np.errstate(invalid="ignore", over="ignore"):
        coef = np.minimum(1.0, c / (norm + CLIP_EPS))
    return norm, np.where(np.isinf(c), 1.0, coef)


def effective_lr(lr: Any, max_grad_norm: Any, grad_norm: Any) -> np.ndarray:
    """``lr · min(1, c/(‖g‖ + 1e-6))`` (``lr`` if ``max_grad_norm`` is None)."""
    lr = np.asarray(lr, dtype=np.float64)
    if max_grad_norm is None:
        return lr * np.ones_like(np.asarray(grad_norm, dtype=np.float64))
    c = np.asarray(max_grad_norm, dtype=np.float64)
    coef = np.minimum(1.0, c / (np.asarray(grad_norm, dtype=np.float64) + CLIP_EPS))
    return lr * np.where(np.isinf(c), 1.0, coef)


class _Base:
    def __init__(self, params: np.ndarray, lr: Any, weight_decay: Any, max_grad_norm: Any, maximize: Any) -> None:
        self.params = params
        R = params.shape[0]
        self.R = R
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_grad_norm = max_grad_norm
        self.maximize = maximize
        self.steps = np.zeros(R, dtype=np.int64)

    def col(self, name: str) -> np.ndarray:
        """Hyperparameter ``name`` now, as an (R, 1) float64 column."""
        return _col(getattr(self, name), self.R)

    def _clip(self, grads: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Returns (norm, coef, effective lr, ok): ok marks replicas with a finite gradient; coef is
        negated where maximize is on (the optimizer steps along -(clipped grad))."""
        c = None if self.max_grad_norm is None else self.col("max_grad_norm")[:, 0]
        norm, coef = clip_coefficients(grads, c)
        with np.errstate(over="ignore", invalid="ignore"):
            ok = np.isfinite(np.sum(grads.astype(np.float64) ** 2, axis=1))
        eff = np.where(ok, self.col("lr")[:, 0] * coef, 0.0)
        sign = np.where(np.broadcast_to(np.asarray(self.maximize, dtype=bool), (self.R,)), -1.0, 1.0)
        return norm, sign * coef, eff, ok

    def _t(self, x: Any) -> np.ndarray:
        return np.asarray(x).astype(self.params.dtype)


class SGD(_Base):
    """Reference ``torch.optim.SGD`` (+ per-replica clipping) on (R, d) arrays, in place."""

    def __init__(
        self, params: np.ndarray, *, lr: Any = 1e-3, momentum: Any = 0.0, dampening: Any = 0.0,
        weight_decay: Any = 0.0, nesterov: Any = False, maximize: Any = False, max_grad_norm: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(params, lr, weight_decay, max_grad_norm, maximize)
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.momentum_buffer = np.zeros_like(params)
        self.has_momentum_buffer = np.zeros(self.R, dtype=bool)  # torch: "momentum_buffer" in state

    def step(self, grads: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w, buf = self.params, self.momentum_buffer
        norm, coef, eff, ok = self._clip(grads)
        idx = np.flatnonzero(ok)
        self.steps[idx] += 1
        T = self._t
        g = grads[idx] * T(coef[idx, None])
        g = g + T(self.col("weight_decay")[idx]) * w[idx]
        momentum = self.col("momentum")[idx]
        mu = T(momentum)
        has_mu = momentum != 0
        first = has_mu & ~self.has_momentum_buffer[idx, None]  # torch: buf is None -> clone(grad)
        b = np.where(first, g, buf[idx] * mu + T(1.0 - self.col("dampening")[idx]) * g)
        buf[idx] = np.where(has_mu, b, buf[idx])
        self.has_momentum_buffer[idx] |= has_mu[:, 0]
        nesterov = np.broadcast_to(np.asarray(self.nesterov, dtype=bool), (self.R,))[idx, None]
        d = np.where(nesterov, g + mu * b, b)
        d = np.where(has_mu, d, g)
        w[idx] = w[idx] + T(-self.col("lr")[idx]) * d
        return norm, eff, ~ok


class Adam(_Base):
    """Reference ``torch.optim.Adam`` (L2 weight decay; + per-replica clipping), in place."""

    decoupled = False

    def __init__(
        self, params: np.ndarray, *, lr: Any = 1e-3, betas: tuple[Any, Any] = (0.9, 0.999), eps: Any = 1e-8,
        weight_decay: Any = 0.0, maximize: Any = False, max_grad_norm: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(params, lr, weight_decay, max_grad_norm, maximize)
        self.betas = betas
        self.eps = eps
        self.exp_avg = np.zeros_like(params)
        self.exp_avg_sq = np.zeros_like(params)

    def step(self, grads: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w, m, v = self.params, self.exp_avg, self.exp_avg_sq
        norm, coef, eff, ok = self._clip(grads)
        i = np.flatnonzero(ok)
        self.steps[i] += 1
        T = self._t
        t = self.steps[i, None].astype(np.float64)
        lr, wd = self.col("lr")[i], self.col("weight_decay")[i]
        b1, b2 = _col(self.betas[0], self.R)[i], _col(self.betas[1], self.R)[i]
        bc1 = 1.0 - b1**t
        bc2 = 1.0 - b2**t
        wi = w[i]
        if self.decoupled:
            wi = wi * T(1.0 - lr * wd)                      # param.mul_(1 - lr * weight_decay)
            g = grads[i] * T(coef[i, None])
        else:
            g = grads[i] * T(coef[i, None]) + T(wd) * wi    # grad.add(param, alpha=weight_decay)
        weight = T(1.0 - b1)
        mi, vi = m[i], v[i]
        # torch.lerp: start + weight*(end - start) if |weight| < 0.5 else end - (end - start)*(1 - weight)
        mi = np.where(weight < 0.5, mi + weight * (g - mi), g - (g - mi) * (T(1.0) - weight))
        vi = vi * T(b2) + T(1.0 - b2) * g * g
        denom = np.sqrt(vi) / T(np.sqrt(bc2)) + T(self.col("eps")[i])
        w[i] = wi + T(-(lr / bc1)) * mi / denom
        m[i], v[i] = mi, vi
        return norm, eff, ~ok


class AdamW(Adam):
    """Reference ``torch.optim.AdamW`` (decoupled weight decay; + per-replica clipping), in place."""

    decoupled = True

    def __init__(
        self, params: np.ndarray, *, lr: Any = 1e-3, betas: tuple[Any, Any] = (0.9, 0.999), eps: Any = 1e-8,
        weight_decay: Any = 1e-2, maximize: Any = False, max_grad_norm: Any = None,
    ) -> None:  # fmt: skip
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
            max_grad_norm=max_grad_norm,
        )  # fmt: skip
