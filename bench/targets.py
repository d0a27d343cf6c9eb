"""The speed targets of issue 13, in one table, and their evaluation against a run's rows.

Each ``Target`` names the bench row it reads (area, kernel name, size) and one figure of that
row: either a ratio ``baseline time / tunelab time`` (> 1: tunelab is faster; where several
baselines are named, the fastest one present counts, i.e. the strongest) or a value from the
row's extras (ns per draw, fraction of the streaming bandwidth, ...). A kernel name with ``*``
(fnmatch) matches every thread count the run measured, and each match is judged on its own.

Targets are defined at the full sizes only: ``size`` lists tokens the row's size must contain,
so ``--quick`` rows never match. Issue 13's promises that are not timings (same bits at every
SIMD width, no ``-ffast-math``) are the tests' business, not this table's. The issue counts a
target as met only if it holds in three consecutive runs; one run of ``bench/run.py`` judges one
run.
"""

from __future__ import annotations

import fnmatch
import math
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
MET, SHORT, NOT_RUN = "met", "short", "not run"


@dataclass(frozen=True)
class Target:
    kernel: str  # what the summary calls it (with the size)
    goal: str  # the target in words
    area: str
    row: str  # the row's kernel name; fnmatch pattern
    size: tuple[str, ...]  # tokens the row's size must contain
    baseline: tuple[str, ...] = ()  # ratio baseline/tunelab, the fastest of these present
    extra: str | None = None  # ... or this figure of the row's extras
    op: str = ">="
    value: float = 1.0
    unit: str = "x"  # "x": ratio; "%": fraction; "ns", "ms": absolute; "1/": memory fraction

    def __post_init__(self) -> None:
        if (not self.baseline) == (self.extra is None):
            raise ValueError(f"{self.kernel}: give exactly one of baseline and extra")
        if self.op not in OPS:
            raise ValueError(f"{self.kernel}: op must be one of {sorted(OPS)}")
        if self.unit not in ("x", "%", "ns", "ms", "1/"):
            raise ValueError(f"{self.kernel}: unknown unit {self.unit!r}")


def _t(kernel: str, goal: str, area: str, row: str, size: str, **kw: Any) -> Target:
    bl = kw.pop("baseline", ())
    return Target(kernel, goal, area, row, _tokens(size), (bl,) if isinstance(bl, str) else tuple(bl), **kw)


def _tokens(size: str) -> tuple[str, ...]:
    """A size string's tokens ("R=1000,d=10000" -> R=1000, d=10000)."""
    return tuple(tok for tok in re.split(r"[\s,]+", size.strip()) if tok)


ADAMW = "AdamW.step f32, R·d=1e7"
QUAD = "simulate_quadratic AdamW, R=16384 d=16"
EXACT = "exact stopping law, E=1e5"
STACK = "top_eigenvalue stack 4096×32×32"
SOBOL = "Sobol S1/ST sample+analyze, D=8 n=2^16"
TRANSFER = "transfer_study 16×1e4×200"

TARGETS: tuple[Target, ...] = (
    _t(ADAMW, "≥ 1.0× torch AdamW(fused=True) at 1 thread", "optim", "AdamW.step f32 (1 thr)", "R=1000,d=10000",
       baseline="torch AdamW fused (1 thr)"),
    _t(ADAMW, "≥ 1.0× torch AdamW(fused=True) at 2 threads", "optim", "AdamW.step f32 (2 thr)", "R=1000,d=10000",
       baseline="torch AdamW fused (2 thr)"),
    _t(ADAMW, "≥ 85% of in-place axpy bandwidth (same threads)", "optim", "AdamW.step f32 (* thr)",
       "R=1000,d=10000", extra="frac_of_axpy", value=0.85, unit="%"),
    _t(ADAMW, "≥ 5× an in-place NumPy step at 1 thread", "optim", "AdamW.step f32 (1 thr)", "R=1000,d=10000",
       baseline="numpy in-place (1 thr)", value=5.0),
    _t(QUAD, "≥ 6× an in-place NumPy loop at 1 thread", "quadratic", "simulate_quadratic adamw (1 thr)",
       "R=16384,d=16,T=1000", baseline="numpy in-place loop (1 thr)", value=6.0),
    _t(QUAD, "≥ 3× a torch (R,d) loop at 1 thread", "quadratic", "simulate_quadratic adamw (1 thr)",
       "R=16384,d=16,T=1000", baseline="torch (R,d) loop (1 thr)", value=3.0),
    _t(QUAD, "≥ 1.85× from 1 to 2 threads", "quadratic", "simulate_quadratic adamw (2 thr)", "R=16384,d=16,T=1000",
       baseline="tunelab 1 thr", value=1.85),
    _t("standard_normal, n=1e7", "≤ 1.5 ns per draw at 1 thread", "rng", "standard_normal (1 thr)", "n=1e+07",
       extra="ns_per_draw", op="<=", value=1.5, unit="ns"),
    _t("gd_quadratic n=128, 256 rates, 200 steps", "≥ 3× NumPy (reference or in-place, the faster)", "curvature",
       "gd_quadratic", "n=128 rates=256 steps=200", baseline=("numpy ref", "numpy in-place"), value=3.0),
    _t("gd_quadratic eigen n=128, 256 rates, 200 steps", "≥ 3× NumPy (reference or in-place, the faster)",
       "curvature", "gd_quadratic eigen", "n=128 rates=256 steps=200", baseline=("numpy ref", "numpy in-place"),
       value=3.0),
    _t(EXACT + ", crossing at E/2", "< 1 ms per curve at 1 thread", "early_stop",
       "exact law: crossing at E/2, sigma=0.02 (1 thr)", "E=1e+05", extra="ms_per_curve", op="<", unit="ms"),
    _t(EXACT + ", noise 10× range", "< 1 ms per curve at 1 thread", "early_stop", "exact law: noise 10x range (1 thr)",
       "E=1e+05", extra="ms_per_curve", op="<", unit="ms"),
    _t(EXACT + ", never crosses", "< 1 ms per curve at 1 thread", "early_stop",
       "exact law: worst: never crosses, z~5..30 (1 thr)", "E=1e+05", extra="ms_per_curve", op="<", unit="ms"),
    _t(STACK, "≥ 3× eigvalsh at tol=1e-10 (NumPy or SciPy, the faster)", "curvature", "power iteration stack",
       "4096x32x32 tol=1e-10", baseline=("numpy eigvalsh", "scipy eigvalsh (top only)"), value=3.0),
    _t(STACK, "≥ 10× the NumPy reference at 1 thread (tol=1e-8)", "curvature", "power iteration stack (1 thr)",
       "4096x32x32 tol=1e-08", baseline="numpy ref (batched matmul)", value=10.0),
    _t("dense power iteration n=4096", "≤ 1.25× the time of streaming A once (triad, same threads)", "curvature",
       "power iteration/iter (* thr)", "n=4096", extra="x_of_stream", op="<=", value=1.25),
    _t(SOBOL, "≥ 30× SALib", "sobol", "sample+analyze S1/ST", "D=8 n=2^16 boot=100",
       baseline="SALib sample+analyze", value=30.0),
    _t(SOBOL, "≤ 1/10 of SALib's peak memory", "sobol", "peak extra memory (S1/ST)", "D=8 n=2^16",
       extra="salib/tunelab_rss", value=10.0, unit="1/"),
    _t("Sobol S1/ST/S2 sample+analyze, same sizes", "≥ 50× SALib", "sobol", "sample+analyze S1/ST/S2",
       "D=8 n=2^16 boot=100", baseline="SALib sample+analyze", value=50.0),
    _t("sobol_points d=64, n=2^20, scrambled", "≥ 2× scipy.stats.qmc.Sobol at 1 thread", "sobol",
       "sobol_points scrambled (1 thr)", "d=64 n=2^20", baseline="scipy qmc.Sobol (1 thr)", value=2.0),
    _t("spearman_matrix 64×1e4", "≥ 10× scipy.stats.spearmanr at 1 thread", "rank", "spearman_matrix (1 thr)",
       "T=64 S=1e+04", baseline="scipy.stats.spearmanr", value=10.0),
    _t(TRANSFER + ", eval noise 1", "≥ 10× the NumPy reference at 1 thread", "transfer", "transfer_study (1 thr)",
       "T=16 S=1e+04 G=200 noise=1", baseline="numpy reference", value=10.0),
    _t(TRANSFER + ", eval noise 0.01", "≥ 10× the NumPy reference at 1 thread", "transfer", "transfer_study (1 thr)",
       "T=16 S=1e+04 G=200 noise=0.01", baseline="numpy reference", value=10.0),
)  # fmt: skip


@dataclass
class Outcome:
    target: Target
    status: str  # MET, SHORT or NOT_RUN
    measured: float | None = None
    row: str | None = None  # the row's kernel name, where one matched
    note: str = ""

    @property
    def kernel(self) -> str:
        t = self.target
        if self.row is not None and "*" in t.row:
            m = re.search(r"\((\d+ thr)\)", self.row)
            if m:
                return f"{t.kernel} ({m.group(1)})"
        return t.kernel

    def shown(self) -> str:
        return "-" if self.measured is None else fmt(self.measured, self.target.unit)

    def to_json(self) -> dict[str, Any]:
        t = self.target
        return {
            "kernel": self.kernel, "target": t.goal, "area": t.area, "row": self.row or t.row,
            "size": " ".join(t.size), "measured": self.measured, "shown": self.shown(), "op": t.op,
            "value": t.value, "unit": t.unit, "status": self.status, "note": self.note,
        }  # fmt: skip


def fmt(v: float, unit: str) -> str:
    if unit == "x":
        return f"{v:.2f}×"
    if unit == "%":
        return f"{100 * v:.0f}%"
    if unit == "1/":
        return f"1/{v:.1f}"
    return f"{v:.3g} {unit}"


def _size_ok(size: str, tokens: Sequence[str]) -> bool:
    have = set(_tokens(size))
    return all(tok in have for tok in tokens)


def _measure(t: Target, row: Any) -> tuple[float | None, str]:
    if t.extra is not None:
        v = row.extra.get(t.extra)
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            return None, f"row has no {t.extra}"
        return float(v), ""
    present = [(row.baselines[b], b) for b in t.baseline if b in row.baselines]
    if not present:
        return None, "no " + " / ".join(t.baseline) + " in this run"
    if not (row.seconds > 0 and math.isfinite(row.seconds)):
        return None, "row has no time"
    fastest, name = min(present)
    return fastest / row.seconds, (f"vs {name}" if len(t.baseline) > 1 else "")


def evaluate(rows: Iterable[Any], targets: Sequence[Target] = TARGETS) -> list[Outcome]:
    """Judge every target against ``rows`` (``harness.Row``-like: area, kernel, size, seconds,
    baselines, extra). A target whose row (or baseline) is missing is "not run", never met."""
    rows = list(rows)
    out: list[Outcome] = []
    for t in targets:
        hits = [r for r in rows if r.area == t.area and fnmatch.fnmatchcase(r.kernel, t.row) and _size_ok(r.size, t.size)]
        if not hits:
            out.append(Outcome(t, NOT_RUN, note="row not in this run"))
            continue
        for r in hits:
            v, note = _measure(t, r)
            if v is None:
                out.append(Outcome(t, NOT_RUN, None, r.kernel, note))
            else:
                out.append(Outcome(t, MET if OPS[t.op](v, t.value) else SHORT, v, r.kernel, note))
    return out


def summary_lines(outcomes: Sequence[Outcome]) -> list[str]:
    """The summary table as printed at the end of a run."""
    wk = max([len("kernel")] + [len(o.kernel) for o in outcomes])
    wt = max([len("target")] + [len(o.target.goal) for o in outcomes])
    lines = [f"  {'kernel':<{wk}}  {'target':<{wt}}  {'measured':>9}  status"]
    for o in outcomes:
        note = f"  ({o.note})" if o.note else ""
        lines.append(f"  {o.kernel:<{wk}}  {o.target.goal:<{wt}}  {o.shown():>9}  {o.status}{note}")
    counts = {s: sum(o.status == s for o in outcomes) for s in (MET, SHORT, NOT_RUN)}
    lines.append(f"  {counts[MET]} met, {counts[SHORT]} short, {counts[NOT_RUN]} not run")
    return lines


def exit_code(outcomes: Sequence[Outcome]) -> int:
    """``--check``'s exit status: 1 when any target is short, else 0 ("not run" is not short)."""
    return 1 if any(o.status == SHORT for o in outcomes) else 0
