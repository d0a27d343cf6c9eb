"""Mergeable statistics for chunked Monte Carlo: counts, histograms, moments.

Floating-point sums depend on the order of the additions. To keep results bit-identical for
any chunking and any executor, per-replica values are reduced in fixed blocks of ``grain``
global replicas (the chunk driver aligns chunk boundaries to the grain), and block statistics
are merged one after the other in replica order (Chan, Golub & LeVeque 1979).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Moments", "Counts"]


@dataclass
class Moments:
    """Count, mean and sum of squared deviations (M2) of a stream of vectors, merged in order.

    ``add(values)`` takes an array of shape ``(count, *shape)`` whose first row is the replica
    at a multiple of ``grain``; rows are reduced in blocks of ``grain`` rows, and the blocks
    merged in order with Chan et al.'s pairwise update. NaN rows must be removed by the caller.
    """

    grain: int
    n: np.ndarray | int = 0
    mean: np.ndarray | float = 0.0
    m2: np.ndarray | float = 0.0
    _started: bool = field(default=False, repr=False)

    def add(self, values: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Merge the rows of ``values`` (optionally only those where ``weights`` is True)."""
        values = np.asarray(values, dtype=np.float64)
        mask = None if weights is None else np.asarray(weights, dtype=bool)
        for lo in range(0, values.shape[0], self.grain):
            block = values[lo : lo + self.grain]
            if mask is None:
                n_b = np.full(block.shape[1:], block.shape[0], dtype=np.int64)
                mean_b = block.mean(axis=0) if block.shape[0] else np.zeros(block.shape[1:])
                m2_b = ((block - mean_b) ** 2).sum(axis=0)
            else:
                w = mask[lo : lo + self.grain].reshape((-1,) + (1,) * (block.ndim - 1))
                n_b = np.broadcast_to(w.sum(axis=0), block.shape[1:]).astype(np.int64)
                safe = np.maximum(n_b, 1)
                mean_b = np.where(w, block, 0.0).sum(axis=0) / safe
                m2_b = np.where(w, (block - mean_b) ** 2, 0.0).sum(axis=0)
            self.merge(n_b, mean_b, m2_b)

    def merge(self, n_b: np.ndarray, mean_b: np.ndarray, m2_b: np.ndarray) -> None:
        """Merge one block given by its count, mean and M2 (Chan et al.), after the blocks so far."""
        if not self._started:
            self.n, self.mean, self.m2 = n_b.copy(), np.array(mean_b, dtype=float), np.array(m2_b, dtype=float)
            self._started = True
            return
        n_a = self.n
        n = n_a + n_b
        safe = np.maximum(n, 1)
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (n_b / safe)
        self.m2 = self.m2 + m2_b + delta**2 * (n_a * n_b / safe)
        self.n = n

    @property
    def var(self) -> np.ndarray:
        """Unbiased sample variance (NaN where fewer than two values)."""
        n = np.asarray(self.n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 1, np.asarray(self.m2) / np.maximum(n - 1, 1), np.nan)

    @property
    def sem(self) -> np.ndarray:
        """Standard error of the mean."""
        n = np.asarray(self.n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(self.var / np.maximum(n, 1))


@dataclass
class Counts:
    """An integer histogram (exact, so any merge order gives the same answer)."""

    counts: np.ndarray

    def add(self, counts: np.ndarray) -> None:
        self.counts += np.asarray(counts, dtype=self.counts.dtype)
