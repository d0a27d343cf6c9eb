"""The bench's shared machinery: timing (median of repeats), result rows, bandwidth probes."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


def median_time(fn: Callable[[], Any], *, repeat: int = 5, min_time: float = 0.0) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if min_time and sum(times) > min_time and len(times) >= 3:
            break
    return statistics.median(times)


@dataclass
class Row:
    area: str
    kernel: str
    size: str
    seconds: float
    baselines: dict[str, float] = field(default_factory=dict)  # name -> seconds
    extra: dict[str, Any] = field(default_factory=dict)

    def ratios(self) -> dict[str, float]:
        """Baseline time / tunelab time: > 1 means tunelab is faster."""
        return {k: v / self.seconds for k, v in self.baselines.items()}


@dataclass
class Bench:
    quick: bool
    threads: int | None
    rows: list[Row] = field(default_factory=list)
    bandwidth: dict[str, float] = field(default_factory=dict)

    def record(self, row: Row) -> Row:
        self.rows.append(row)
        ratios = ", ".join(f"{k} x{v:.2f}" for k, v in row.ratios().items())
        extra = ", ".join(f"{k}={_fmt(v)}" for k, v in row.extra.items())
        print(
            f"  {row.kernel:<32} {row.size:<22} {row.seconds * 1e3:10.3f} ms"
            + (f"  [{ratios}]" if ratios else "")
            + (f"  {extra}" if extra else ""),
            flush=True,
        )
        return row

    def measure_bandwidth(self) -> dict[str, float]:
        """Streaming bandwidth in GB/s: in-place x += s*y and triad a = b + s*c (3 arrays of
        8-byte doubles moved per element), on arrays well beyond the caches."""
        from tunelab import _core

        from tunelab._threads import resolve_num_threads

        n = 2_000_000 if self.quick else 20_000_000
        threads = resolve_num_threads(self.threads)
        x, y, z = np.ones(n), np.ones(n), np.ones(n)
        t_axpy = median_time(lambda: _core.stream_axpy(x, y, 1e-9, threads), repeat=7)
        t_triad = median_time(lambda: _core.stream_triad(x, y, z, 1.0, threads), repeat=7)
        self.bandwidth = {"axpy_GBps": 24 * n / t_axpy / 1e9, "triad_GBps": 24 * n / t_triad / 1e9}
        return self.bandwidth

    def to_json(self) -> dict[str, Any]:
        return {
            "quick": self.quick,
            "threads": self.threads,
            "bandwidth": self.bandwidth,
            "rows": [asdict(r) | {"ratios": r.ratios()} for r in self.rows],
        }


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)
