"""The bench's shared machinery: timing (median of repeats), result rows, bandwidth probes."""

from __future__ import annotations

import contextlib
import os
import re
import statistics
import time
from collections.abc import Callable, Iterator
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
    #: OpenMP threads tunelab's side ran on: "(N thr)" in the kernel name, else the run's default
    #: (``Bench.threads`` or the OpenMP limit); filled in by ``Bench.record``.
    threads: int | None = None

    def ratios(self) -> dict[str, float]:
        """Baseline time / tunelab time: > 1 means tunelab is faster."""
        return {k: v / self.seconds for k, v in self.baselines.items()}


@dataclass
class Bench:
    quick: bool
    threads: int | None
    rows: list[Row] = field(default_factory=list)
    bandwidth: dict[str, float] = field(default_factory=dict)
    _stream: dict[tuple[str, int], float] = field(default_factory=dict, repr=False)

    def default_threads(self) -> int:
        """The thread count of rows that do not pin their own: ``threads`` or the OpenMP limit."""
        from tunelab import _core

        return self.threads or _core.max_threads()

    def record(self, row: Row) -> Row:
        if row.threads is None:
            m = _THR.search(row.kernel)
            row.threads = int(m.group(1)) if m else self.default_threads()
        self.rows.append(row)
        ratios = ", ".join(f"{k} x{v:.2f}" for k, v in row.ratios().items())
        extra = ", ".join(f"{k}={_fmt(v)}" for k, v in row.extra.items())
        timing = f"{row.seconds * 1e3:10.3f} ms" if row.seconds == row.seconds else f"{'-':>10}   "
        print(
            f"  {row.kernel:<38} {row.size:<22} {timing}"
            + (f"  [{ratios}]" if ratios else "")
            + (f"  {extra}" if extra else ""),
            flush=True,
        )
        return row

    def measure_bandwidth(self) -> dict[str, float]:
        """Streaming bandwidth in GB/s: in-place x += s*y and triad a = b + s*c (3 arrays of
        8-byte doubles moved per element), on arrays well beyond the caches."""
        threads = self.default_threads()
        self.bandwidth = {"axpy_GBps": self.stream_GBps("axpy", threads),
                          "triad_GBps": self.stream_GBps("triad", threads)}  # fmt: skip
        return self.bandwidth

    def stream_GBps(self, kind: str, threads: int) -> float:
        """Streaming bandwidth in GB/s of ``kind`` ("axpy" or "triad") at ``threads`` OpenMP
        threads, measured once per run and thread count (so rows compare against the bandwidth
        at their own thread count)."""
        from tunelab import _core

        if (kind, threads) not in self._stream:
            n = 2_000_000 if self.quick else 20_000_000
            x, y, z = np.ones(n), np.ones(n), np.ones(n)
            if kind == "axpy":
                t = median_time(lambda: _core.stream_axpy(x, y, 1e-9, threads), repeat=7)
            elif kind == "triad":
                t = median_time(lambda: _core.stream_triad(x, y, z, 1.0, threads), repeat=7)
            else:
                raise ValueError(f"unknown stream kind {kind!r}")
            self._stream[kind, threads] = 24 * n / t / 1e9
        return self._stream[kind, threads]

    def to_json(self) -> dict[str, Any]:
        return {
            "quick": self.quick,
            "threads": self.threads,
            "bandwidth": self.bandwidth,
            "stream_GBps": {f"{k} ({t} thr)": v for (k, t), v in self._stream.items()},
            "rows": [asdict(r) | {"ratios": r.ratios()} for r in self.rows],
        }


_THR = re.compile(r"(\d+) thr\)")


@contextlib.contextmanager
def torch_threads(torch: Any, n: int) -> Iterator[None]:
    """``torch.set_num_threads(n)`` for the block, then back to what it was. PyTorch's setting
    is the process's OpenMP limit (one libgomp), so leaving it changed would silently pin every
    later row's default thread count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages (None where the platform has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)
