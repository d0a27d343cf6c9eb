"""tunelab's bench: every kernel against its NumPy reference and installed peers.

    python bench/run.py [--quick] [--only AREA] [--json PATH] [--threads N]

Prints, per kernel and size, the median time of repeated runs and the ratios
``baseline time / tunelab time`` (> 1: tunelab is faster), plus the machine's streaming
bandwidth measured in the same run. Each area lives in ``bench/bench_<area>.py`` and defines
``run(bench)``.
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
    parser.add_argument("--threads", type=int, default=None, help="OpenMP threads for tunelab (default: all)")
    args = parser.parse_args(argv)

    import numpy as np

    import tunelab

    try:
        from threadpoolctl import threadpool_info
    except ModuleNotFoundError:  # bench extra not installed: record what we can
        threadpool_info = list  # type: ignore[assignment]

    bench = Bench(quick=args.quick, threads=args.threads)
    print(
        f"tunelab {tunelab.__version__} | numpy {np.__version__} | python {platform.python_version()} | "
        f"OpenMP {tunelab.openmp_enabled()} | threads {tunelab._core.max_threads() if args.threads is None else args.threads}"
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


if __name__ == "__main__":
    sys.exit(main())
