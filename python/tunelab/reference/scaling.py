"""NumPy references of the scaling area: the power-law OLS fit and the built-in objective
(SGD on a power-law noisy quadratic), step by step and in closed-form expectation."""

from __future__ import annotations

import numpy as np

from .rng import standard_normal

__all__ = ["power_law_ols", "sgd_quadratic_scores", "sgd_quadratic_expected_loss"]


def power_law_ols(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """``(exponent, prefactor, stderr)`` of the OLS fit ``log y = log k + delta log x`` (via polyfit)."""
    lx, ly = np.log(x), np.log(y)
    (d, a), cov = np.polyfit(lx, ly, 1, cov="unscaled")
    resid = ly - (a + d * lx)
    s2 = resid @ resid / (lx.size - 2)
    return float(d), float(np.exp(a)), float(np.sqrt(s2 * cov[0, 0]))


def _spectrum(dim: int, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(1, dim + 1, dtype=np.float64)
    return i**-a, i ** (0.5 * (a - b))


def sgd_quadratic_scores(
    dataset_sizes: np.ndarray, batch_sizes: np.ndarray, seeds: np.ndarray, *, dim: int, spectrum_exponent: float,
    init_exponent: float, lr: float, noise: float, epochs: float, avg_fraction: float, key: int,
) -> np.ndarray:
    """Reference of the C++ objective: final losses, shape (n_N, n_B, n_seeds), step by step."""
    lam, theta0 = _spectrum(dim, spectrum_exponent, init_exponent)
    bps = (dim + 1) // 2
    out = np.empty((len(dataset_sizes), len(batch_sizes), len(seeds)))
    for i, n in enumerate(dataset_sizes):
        for j, b in enumerate(batch_sizes):
            steps = max(1, int(np.floor(epochs * n / b)))
            avg = min(steps, max(1, int(np.ceil(avg_fraction * steps))))
            keep = 1.0 - lr * lam
            scale = lr * noise / np.sqrt(b) * np.sqrt(lam)
            for k, s in enumerate(seeds):
                z = standard_normal(2 * bps * steps, key=key, stream=int(s)).reshape(steps, 2 * bps)[:, :dim]
                theta = theta0.copy()
                total = 0.0
                for t in range(steps):
                    theta = keep * theta - scale * z[t]
                    if t >= steps - avg:
                        total += 0.5 * np.sum(lam * theta * theta)
                out[i, j, k] = total / avg
    return out


def sgd_quadratic_expected_loss(
    dataset_size: float, batch_size: float, *, dim: int, spectrum_exponent: float, init_exponent: float, lr: float,
    noise: float, epochs: float, avg_fraction: float,
) -> float:
    """Expected score of the built-in objective, moment by moment: per direction the mean
    ``m_t = r m_{t-1}`` and variance ``v_t = r^2 v_{t-1} + lr^2 s^2 lambda / B`` of
    ``theta_t = r theta_{t-1} - lr s sqrt(lambda / B) z_t`` (``r = 1 - lr lambda``), the expected
    loss ``1/2 sum lambda (m_t^2 + v_t)`` averaged over the last ``K = max(1, ceil(f T))`` of
    ``T = max(1, floor(E N / B))`` steps."""
    lam, theta0 = _spectrum(dim, spectrum_exponent, init_exponent)
    steps = max(1, int(np.floor(epochs * dataset_size / batch_size)))
    avg = min(steps, max(1, int(np.ceil(avg_fraction * steps))))
    r = 1.0 - lr * lam
    kick = lr * lr * noise * noise * lam / batch_size
    mean, var, total = theta0.copy(), np.zeros(dim), 0.0
    for t in range(1, steps + 1):
        mean = r * mean
        var = r * r * var + kick
        if t > steps - avg:
            total += 0.5 * float(np.sum(lam * (mean * mean + var)))
    return total / avg
