"""tunelab's bench: every kernel against its NumPy reference and installed peers.

    python bench/run.py [--quick] [--only AREA] [--json PATH] [--num-threads N] [--threads]

Prints, per kernel and size, the median time of repeated runs and the ratios
``baseline time / tunelab time`` (> 1: tunelab is faster), plus the machine's streaming
bandwidth measured in the same run. Each area lives in ``bench/bench_<area>.py`` and defines
``run(bench)``.

``--threads`` measures thread scaling instead: every area runs under an OpenMP limit of 1, 2,
4, ... up to all cores (threadpoolctl), and each kernel's speed-up over one thread is printed.
Kernels whose bench fixes its own thread count show about 1x there, by design.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import Bench  # noqa: E402


def areas() -> list[str]:
    return sorted(m.name[len("bench_") :] for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (CI runs this so the bench cannot rot)")
    parser.add_argument("--only", action="append", choices=areas(), help="run only this area (repeatable)")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--num-threads", type=int, default=None, help="OpenMP threads for tunelab (default: all)")
    parser.add_argument("--threads", action="store_true", help="measure speed-up from 1 thread to all cores")
    args = parser.parse_args(argv)
    if args.threads:
        return scaling(args)

    import numpy as np

    import tunelab

    try:
        from threadpoolctl import threadpool_info
    except ModuleNotFoundError:  # bench extra not installed: record what we can
        threadpool_info = list  # type: ignore[assignment]

    bench = Bench(quick=args.quick, threads=args.num_threads)
    print(
        f"tunelab {tunelab.__version__} | numpy {np.__version__} | python {platform.python_version()} | "
        f"OpenMP {tunelab.openmp_enabled()} | threads {tunelab._core.max_threads() if args.num_threads is None else args.num_threads}"
    )
    bw = bench.measure_bandwidth()
    print(f"streaming bandwidth: axpy {bw['axpy_GBps']:.2f} GB/s, triad {bw['triad_GBps']:.2f} GB/s")
    for area in args.only or areas():
        print(f"[{area}]", flush=True)
        importlib.import_module(f"bench_{area}").run(bench)
    if args.json:
        data = bench.to_json() | {
            "versions": {"tunelab": tunelab.__version__, "numpy": np.__version__, "python": platform.python_version()},
            "machine": platform.machine(),
            "threadpool_info": threadpool_info(),
        }
        args.json.write_text(json.dumps(data, indent=1, default=str))
        print(f"wrote {args.json}")
    return 0


def scaling(args: argparse.Namespace) -> int:
    """Run the chosen areas at 1, 2, 4, ... threads and print each kernel's speed-up."""
    import json

    from threadpoolctl import threadpool_limits

    import tunelab

    top = tunelab._core.max_threads()
    counts = sorted({1, top} | {2**k for k in range(1, 8) if 2**k < top})
    runs: dict[int, Bench] = {}
    for t in counts:
        print(f"=== {t} thread(s)", flush=True)
        with threadpool_limits(t, "openmp"):
            bench = Bench(quick=args.quick, threads=None)
            bench.measure_bandwidth()  # some areas report GB/s against it
            for area in args.only or areas():
                importlib.import_module(f"bench_{area}").run(bench)
        runs[t] = bench
    print("\nspeed-up over 1 thread (time at 1 thread / time at t threads):")
    print(f"  {'kernel':<48} " + " ".join(f"{t:>6}" for t in counts))
    table = []
    timed = {t: {(r.area, r.kernel, r.size): r.seconds for r in b.rows} for t, b in runs.items()}
    for key, base in timed[1].items():
        if not all(key in timed[t] for t in counts):
            continue
        ups = [base / timed[t][key] for t in counts]
        label = f"{key[0]}: {key[1]} {key[2]}"
        print(f"  {label[:48]:<48} " + " ".join(f"{u:6.2f}" for u in ups))
        table.append({"area": key[0], "kernel": key[1], "size": key[2], "speedup": dict(zip(counts, ups))})
    if args.json:
        args.json.write_text(json.dumps({"threads": counts, "scaling": table}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
