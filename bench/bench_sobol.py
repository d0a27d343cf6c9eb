"""Sobol' sensitivity: Saltelli sampling + analysis vs SALib, points vs SciPy, estimates vs OpenTURNS.

Rows
----
* ``sample+analyze S1/ST`` — D = 8, n = 2^16, first and total order, 100 bootstrap resamples:
  ``saltelli_sample`` + ``sobol_indices`` against ``SALib.sample.sobol.sample`` +
  ``SALib.analyze.sobol.analyze``, each side one pipeline sample -> model -> analyze with the
  model's time left out (the same function on both sides); the two designs must have the same
  number of rows. SALib is timed once (it takes seconds), tunelab as a median of 3 runs.
* the same with second order (S1, ST and S2 on both sides).
* ``peak extra memory``: peak resident memory (VmHWM, reset through /proc/self/clear_refs;
  Linux only) of a fresh subprocess running sample -> model -> analyse, minus its resident
  memory just before (after imports and a tiny warm-up run), for SALib, for tunelab holding the whole design, and for ``sobol_analyze``
  (chunked: the design is never held whole). Also tracemalloc's peak (NumPy allocations only).
* ``sobol_points`` d = 64, n = 2^20 against ``scipy.stats.qmc.Sobol(64).random(n)``, into a
  fresh array and (``out=``) into one preallocated array reused call after call.
* ``point estimates`` (no resampling) against OpenTURNS' ``SaltelliSensitivityAlgorithm`` on
  its own design of the same size (when openturns is installed).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
from harness import Bench, Row, median_time

import tunelab

A8 = np.array([0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0])

_MEM_SCRIPT = r"""
import json, sys, tracemalloc, warnings
import numpy as np
which, n, so = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
a = np.array([0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0])
problem = {"num_vars": 8, "names": [f"x{i}" for i in range(8)], "bounds": [[0.0, 1.0]] * 8}
g = lambda X: np.prod((np.abs(4 * X - 2) + a) / (1 + a), axis=1)
if which == "salib":
    from SALib.analyze import sobol as sa
    from SALib.sample import sobol as ss
    def pipeline(m):
        X = ss.sample(problem, m, calc_second_order=so, seed=1)
        Y = g(X)
        del X
        sa.analyze(problem, Y, calc_second_order=so, num_resamples=100, seed=1)
else:
    import tunelab
    def pipeline(m):
        if which == "tunelab":
            X = tunelab.saltelli_sample(problem, m, second_order=so, rng=1)
            Y = tunelab.sobol_g(X, a)
            del X
            tunelab.sobol_indices(problem, Y, second_order=so, n_boot=100, rng=1)
        else:
            tunelab.sobol_analyze(lambda X: tunelab.sobol_g(X, a), problem, m, second_order=so, n_boot=100,
                                  batch_rows=2**15, rng=1)
def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])  # kB
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    pipeline(64)
    # ru_maxrss survives exec (it starts at the parent's peak), so use VmHWM, reset to the
    # current RSS by writing 5 to clear_refs (Linux >= 4.0).
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = status("VmRSS")
    tracemalloc.start()
    pipeline(n)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
peak = status("VmHWM")
print(json.dumps({"rss_MB": (peak - base) / 1024, "traced_MB": traced / 2**20}))
"""


def _memory(which: str, n: int, second_order: bool) -> dict[str, float] | None:
    try:
        out = subprocess.run(
            [sys.executable, "-c", _MEM_SCRIPT, which, str(n), "1" if second_order else "0"],
            capture_output=True, text=True, check=True, timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"  (memory probe {which} failed: {exc})")
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def _salib():
    try:
        from SALib.analyze import sobol as sa
        from SALib.sample import sobol as ss
    except ModuleNotFoundError:
        return None
    return ss, sa


def _pipeline_times(sample, model, analyze) -> tuple[float, float, int]:
    """One run of sample -> model -> analyze: (sample seconds, analyze seconds, design rows). The
    model's time is left out on both sides (it is the user's, the same function for both)."""
    t0 = time.perf_counter()
    X = sample()
    t_sample = time.perf_counter() - t0
    rows = X.shape[0]
    Y = model(X)
    del X
    t0 = time.perf_counter()
    analyze(Y)
    return t_sample, time.perf_counter() - t0, rows


def _bench_pipeline(bench: Bench, n: int, second_order: bool) -> None:
    """Both tools run the same pipeline at the same sizes (D, n, second order, 100 resamples),
    timed the same way: sample, then (untimed) the model, then analyze. tunelab is the median
    of 3 runs after a warm-up; SALib takes seconds to a minute, so it runs once."""
    D = 8
    problem = {"num_vars": D, "names": [f"x{i}" for i in range(D)], "bounds": [[0.0, 1.0]] * D}
    threads = bench.threads
    model = lambda X: tunelab.sobol_g(X, A8)  # noqa: E731
    ours_runs = [
        _pipeline_times(
            lambda: tunelab.saltelli_sample(problem, n, second_order=second_order, rng=1, num_threads=threads),
            model,
            lambda Y: tunelab.sobol_indices(problem, Y, second_order=second_order, n_boot=100, rng=1,
                                            num_threads=threads),
        )
        for _ in range(4)
    ][1:]  # fmt: skip
    t_sample = statistics.median(r[0] for r in ours_runs)
    t_analyze = statistics.median(r[1] for r in ours_runs)
    ours = statistics.median(r[0] + r[1] for r in ours_runs)
    rows = ours_runs[0][2]
    baselines: dict[str, float] = {}
    extra: dict[str, object] = {"sample_ms": t_sample * 1e3, "analyze_ms": t_analyze * 1e3, "design_rows": rows}
    peers = _salib()
    if peers is not None:
        ss, sa = peers
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ss, t_sa, rows_s = _pipeline_times(
                lambda: ss.sample(problem, n, calc_second_order=second_order, seed=1),
                model,
                lambda Y: sa.analyze(problem, Y, calc_second_order=second_order, num_resamples=100, seed=1),
            )
        if rows_s != rows:
            raise RuntimeError(f"SALib's design has {rows_s} rows, tunelab's {rows}: not the same problem")
        baselines["SALib sample+analyze"] = t_ss + t_sa
        extra |= {"salib_sample_ms": t_ss * 1e3, "salib_analyze_ms": t_sa * 1e3}
    label = "sample+analyze S1/ST/S2" if second_order else "sample+analyze S1/ST"
    bench.record(Row("sobol", label, f"D=8 n=2^{n.bit_length() - 1} boot=100", ours, baselines, extra))
    if not bench.quick or peers is not None:
        mem = {w: _memory(w, n, second_order) for w in (["salib"] if peers is not None else []) + ["tunelab", "tunelab-chunked"]}
        if all(v is not None for v in mem.values()):
            ex = {f"{w}_rss_MB": v["rss_MB"] for w, v in mem.items() if v} | {
                f"{w}_traced_MB": v["traced_MB"] for w, v in mem.items() if v
            }
            if "salib" in mem and mem["salib"]:
                for w in ("tunelab", "tunelab-chunked"):
                    ex[f"salib/{w}_rss"] = mem["salib"]["rss_MB"] / max(mem[w]["rss_MB"], 1e-3)  # type: ignore[index]
            # A memory row: no time of its own (nan), the figures are in its extras.
            bench.record(Row("sobol", f"peak extra memory ({'S2' if second_order else 'S1/ST'})", f"D=8 n=2^{n.bit_length() - 1}",
                             float("nan"), {}, ex))


def _bench_points(bench: Bench) -> None:
    d, n = (64, 2**16) if bench.quick else (64, 2**20)
    baselines = {}
    try:
        from scipy.stats import qmc
    except ModuleNotFoundError:  # pragma: no cover
        qmc = None
    if qmc is not None:
        baselines["scipy qmc.Sobol (1 thr)"] = median_time(lambda: qmc.Sobol(d, rng=1).random(n))
    # The kernel writes n*d doubles into a fresh array: it is bound by page faults and memory
    # bandwidth, so also show one thread (SciPy's draw runs on one). The out= rows write the same
    # points into one preallocated array (its pages touched by median_time's warm-up call), as a
    # Monte Carlo loop drawing batch after batch would: no fresh pages to zero.
    buf = np.empty((n, d))
    for threads in sorted({1, bench.threads or tunelab._core.max_threads()}):
        size = f"d={d} n=2^{n.bit_length() - 1}"
        t = median_time(lambda: tunelab.sobol_points(d, n, rng=1, num_threads=threads))
        bench.record(Row("sobol", f"sobol_points scrambled ({threads} thr)", size, t,
                         baselines, {"GB_per_s_written": n * d * 8 / t / 1e9}))
        t_out = median_time(lambda: tunelab.sobol_points(d, n, rng=1, num_threads=threads, out=buf))
        bench.record(Row("sobol", f"sobol_points scrambled, out= ({threads} thr)", size, t_out, baselines,
                         {"GB_per_s_written": n * d * 8 / t_out / 1e9, "fresh/out": t / t_out}))


def _bench_openturns(bench: Bench, n: int) -> None:
    D = 8
    problem = {"num_vars": D, "names": [f"x{i}" for i in range(D)], "bounds": [[0.0, 1.0]] * D}
    Y = tunelab.sobol_g(tunelab.saltelli_sample(problem, n, rng=1), A8)
    t = median_time(lambda: tunelab.sobol_indices(problem, Y, n_boot=0, rng=1, num_threads=bench.threads))
    baselines = {}
    try:
        import openturns as ot
    except ModuleNotFoundError:
        ot = None
    if ot is not None:
        dist = ot.JointDistribution([ot.Uniform(0.0, 1.0)] * D)
        Xo = ot.SobolIndicesExperiment(dist, n, False).generate()
        Yo = ot.Sample(tunelab.sobol_g(np.asarray(Xo), A8)[:, None])

        def run_ot():
            alg = ot.SaltelliSensitivityAlgorithm(Xo, Yo, n)
            alg.getFirstOrderIndices()
            alg.getTotalOrderIndices()

        baselines["OpenTURNS Saltelli"] = median_time(run_ot)
    bench.record(Row("sobol", "point estimates S1/ST (no boot)", f"D=8 n=2^{n.bit_length() - 1}", t, baselines,
                     {} if ot is not None else {"openturns": "not installed"}))


def run(bench: Bench) -> None:
    n = 2**10 if bench.quick else 2**16
    _bench_pipeline(bench, n, second_order=False)
    _bench_pipeline(bench, n, second_order=True)
    _bench_points(bench)
    _bench_openturns(bench, n)
