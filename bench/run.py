"""tunelab's bench: every kernel against its strongest baselines, and issue 13's targets.

    python bench/run.py [--quick] [--only AREA] [--json PATH] [--num-threads N] [--check]
    python bench/run.py --threads [--quick] [--only AREA] [--json PATH]

Prints, per kernel and size, the median time of repeated runs and the ratios
``baseline time / tunelab time`` (> 1: tunelab is faster). Baselines are the strongest a user
would write: in-place, preallocated NumPy; PyTorch where it has the kernel (fused AdamW at the
row's thread count, a tensor loop); SciPy and SALib; beside them ``tunelab.reference``. The
header gives the versions, the thread count, the streaming bandwidth measured in the same run
and the load average (1/5/15 min) at the start; the end of the run gives it again. Each area
lives in ``bench/bench_<area>.py`` and defines ``run(bench)``.

The run ends with a summary table: for each target of ``bench/targets.py`` (issue 13's table,
in one place) the kernel, the target, the ratio or figure measured in this run, and "met",
"short" or "not run" (the row was skipped by ``--only``, or an optional peer such as PyTorch
or SALib is missing). ``--json`` writes it too, under "targets". Targets are set at the full
sizes: with ``--quick`` they are not evaluated (CI runs ``--quick`` to keep the bench working).

``--check`` exits with status 1 when any target is short (0 otherwise; "not run" is not short),
so one command tells where the project stands. It is not run in CI: the machine is noisy, and
a target counts as met only if it holds in three runs in a row.

``--threads`` measures thread scaling instead: every area runs under an OpenMP limit of 1, 2,
4, ... up to all cores (threadpoolctl). Each row knows the thread count tunelab ran on ("(N
thr)" in its name, else the limit), and a kernel's speed-up is its time at 1 thread over its
time at t threads, whichever runs measured them; rows measured at one thread count only
(pinned ones) are left out of that table.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import pkgutil
import platform
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import targets  # noqa: E402
from harness import Bench, load_average  # noqa: E402


def areas() -> list[str]:
    return sorted(m.name[len("bench_") :] for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))


def _load_text(load: list[float] | None) -> str:
    return "n/a" if load is None else " ".join(f"{x:.2f}" for x in load)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI runs this so the bench cannot rot)")
    parser.add_argument("--only", action="append", choices=areas(), help="run only this area (repeatable)")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--num-threads", type=int, default=None, help="OpenMP threads for tunelab (default: all)")
    parser.add_argument("--threads", action="store_true", help="measure speed-up from 1 thread to all cores")
    parser.add_argument("--check", action="store_true", help="exit 1 when any target is short (full sizes only)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.check and args.quick:
        parser.error("--check judges the targets, which are set at the full sizes: drop --quick")
    if args.check and args.threads:
        parser.error("--check judges the default run, not --threads")
    if args.threads:
        return scaling(args)

    import numpy as np

    import tunelab

    try:
        from threadpoolctl import threadpool_info
    except ModuleNotFoundError:  # bench extra not installed: record what we can
        threadpool_info = list  # type: ignore[assignment]

    load_start = load_average()
    bench = Bench(quick=args.quick, threads=args.num_threads)
    top = tunelab._core.max_threads()
    print(
        f"tunelab {tunelab.__version__} | numpy {np.__version__} | python {platform.python_version()} | "
        f"OpenMP {tunelab.openmp_enabled()} | threads {top if args.num_threads is None else args.num_threads} | "
        f"load {_load_text(load_start)} (1/5/15 min)"
    )
    bw = bench.measure_bandwidth()
    print(f"streaming bandwidth: axpy {bw['axpy_GBps']:.2f} GB/s, triad {bw['triad_GBps']:.2f} GB/s")
    area_seconds: dict[str, float] = {}
    for area in args.only or areas():
        print(f"[{area}]", flush=True)
        t0 = time.perf_counter()
        importlib.import_module(f"bench_{area}").run(bench)
        area_seconds[area] = time.perf_counter() - t0
        if tunelab._core.max_threads() != top:  # e.g. a peer's set_num_threads left behind
            print(f"  warning: [{area}] left the OpenMP limit at {tunelab._core.max_threads()} (was {top})")
    load_end = load_average()
    print(f"load at the end: {_load_text(load_end)} (1/5/15 min)")
    print("seconds per area: " + ", ".join(f"{a} {s:.0f}" for a, s in area_seconds.items()))
    outcomes, lines = summarize(bench)
    for line in lines:
        print(line)
    if args.json:
        data = bench.to_json() | {
            "versions": {"tunelab": tunelab.__version__, "numpy": np.__version__, "python": platform.python_version()},
            "machine": platform.machine(),
            "load": {"start": load_start, "end": load_end},
            "area_seconds": area_seconds,
            "threadpool_info": threadpool_info(),
            "targets": targets_json(bench, outcomes),
        }
        args.json.write_text(json.dumps(data, indent=1, default=str))
        print(f"wrote {args.json}")
    if args.check:
        return targets.exit_code(outcomes or [])
    return 0


def summarize(bench: Bench) -> tuple[list[targets.Outcome] | None, list[str]]:
    """The targets judged on this run's rows (None with --quick) and the lines to print."""
    if bench.quick:
        return None, ["", "quick: targets not evaluated (they are set at the full sizes)"]
    outcomes = targets.evaluate(bench.rows)
    return outcomes, ["", "targets (bench/targets.py, issue 13):", *targets.summary_lines(outcomes)]


def targets_json(bench: Bench, outcomes: list[targets.Outcome] | None) -> dict[str, object]:
    if outcomes is None:
        return {"evaluated": False, "note": "quick: targets not evaluated", "results": []}
    return {"evaluated": True, "results": [o.to_json() for o in outcomes]}


def scaling(args: argparse.Namespace) -> int:
    """Run the chosen areas at 1, 2, 4, ... threads and print each kernel's speed-up."""
    from threadpoolctl import threadpool_limits

    import tunelab

    top = tunelab._core.max_threads()
    counts = sorted({1, top} | {2**k for k in range(1, 8) if 2**k < top})
    load_start = load_average()
    print(f"load {_load_text(load_start)} (1/5/15 min)")
    rows = []
    for t in counts:
        print(f"=== OpenMP limit {t} thread(s)", flush=True)
        with threadpool_limits(t, "openmp"):
            bench = Bench(quick=args.quick, threads=None)
            bench.measure_bandwidth()  # some areas report GB/s against it
            for area in args.only or areas():
                importlib.import_module(f"bench_{area}").run(bench)
        rows += bench.rows
    load_end = load_average()
    table = scaling_table(rows)
    print(f"\nload at the end: {_load_text(load_end)} (1/5/15 min)")
    print("speed-up over 1 thread (time at 1 thread / time at t threads; rows at one thread count only are left out):")
    print(f"  {'kernel':<56} " + " ".join(f"{t:>6}" for t in counts))
    for entry in table:
        label = f"{entry['area']}: {entry['kernel']} {entry['size']}"
        cells = [entry["speedup"].get(t) for t in counts]
        print(f"  {label[:56]:<56} " + " ".join("     -" if u is None else f"{u:6.2f}" for u in cells))
    if args.json:
        args.json.write_text(json.dumps({"threads": counts, "load": {"start": load_start, "end": load_end},
                                         "scaling": table}, indent=1))  # fmt: skip
    return 0


def scaling_table(rows: list) -> list[dict]:
    """Speed-ups over one thread, per kernel: rows are grouped by area, size and kernel name
    without its "(N thr)" tag, and keyed by the thread count each ran on (the median where
    several runs measured the same count). Groups without a 1-thread time and another count are
    left out: comparing a pinned row with itself says nothing."""
    groups: dict[tuple[str, str, str], dict[int, list[float]]] = {}
    for r in rows:
        if not (r.seconds > 0 and math.isfinite(r.seconds)) or r.threads is None:
            continue
        name = re.sub(r"\s*\((\d+) thr\)", "", r.kernel)
        name = re.sub(r",\s*\d+ thr\)", ")", name)
        groups.setdefault((r.area, name, r.size), {}).setdefault(r.threads, []).append(r.seconds)
    table = []
    for (area, name, size), by_t in groups.items():
        if 1 not in by_t or len(by_t) < 2:
            continue
        t1 = statistics.median(by_t[1])
        ups = {t: t1 / statistics.median(v) for t, v in sorted(by_t.items())}
        table.append({"area": area, "kernel": name, "size": size, "speedup": ups})
    return table


if __name__ == "__main__":
    sys.exit(main())
