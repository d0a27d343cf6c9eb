"""The bench's own logic, without timing anything: the targets table (bench/targets.py) parses
and names rows the bench writes, the summary judges synthetic rows met / short / not run, and
``bench/run.py --check`` exits with the summary's verdict."""

from __future__ import annotations

import json
import math
import sys
import types
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import run as bench_run
import targets
from harness import Bench, Row


def _target(name: str, row: str) -> targets.Target:
    """The first target of the table with this summary name and row pattern."""
    return next(t for t in targets.TARGETS if t.kernel.startswith(name) and t.row == row)


def test_table_parses_and_names_existing_areas_and_units():
    assert len(targets.TARGETS) >= 20
    areas = set(bench_run.areas())
    for t in targets.TARGETS:
        assert t.area in areas, t
        assert t.size, f"{t.kernel}: targets are set at full sizes, name them"
        assert t.op in targets.OPS and t.goal and t.kernel
        assert bool(t.baseline) != (t.extra is not None)
    with pytest.raises(ValueError):
        targets.Target("k", "g", "optim", "r", ("s",))  # neither baseline nor extra
    with pytest.raises(ValueError):
        targets.Target("k", "g", "optim", "r", ("s",), ("b",), op="=>")


def test_every_row_of_issue_13_has_a_target():
    names = " | ".join(t.kernel for t in targets.TARGETS)
    for kernel in ("AdamW.step", "simulate_quadratic", "standard_normal", "gd_quadratic", "exact stopping law",
                   "top_eigenvalue stack", "dense power iteration", "Sobol S1/ST sample", "S2", "sobol_points",
                   "spearman_matrix", "transfer_study"):  # fmt: skip
        assert kernel in names


def _rows() -> list[Row]:
    """Synthetic full-size rows: AdamW at 1 thread meets its torch target and misses NumPy's."""
    return [
        Row("optim", "AdamW.step f32 (1 thr)", "R=1000,d=10000", 1.0,
            {"torch AdamW fused (1 thr)": 1.2, "numpy in-place (1 thr)": 3.0, "numpy reference": 9.0},
            {"frac_of_axpy": 0.9}, threads=1),
        Row("optim", "AdamW.step f32 (2 thr)", "R=1000,d=10000", 1.0, {"torch AdamW fused (2 thr)": 0.5},
            {"frac_of_axpy": 0.5}, threads=2),
        Row("rng", "standard_normal (1 thr)", "n=1e+07", 0.02, {}, {"ns_per_draw": 2.0}, threads=1),
        Row("curvature", "gd_quadratic", "n=128 rates=256 steps=200", 1.0, {"numpy ref": 10.0, "numpy in-place": 2.0}),
        Row("sobol", "peak extra memory (S1/ST)", "D=8 n=2^16", math.nan, {}, {"salib/tunelab_rss": 12.0}),
    ]  # fmt: skip


def _by(outcomes, name, row):
    t = _target(name, row)
    return [o for o in outcomes if o.target is t]


def test_summary_marks_met_short_and_not_run():
    out = targets.evaluate(_rows())
    (torch1,) = _by(out, "AdamW", "AdamW.step f32 (1 thr)")[:1]
    assert torch1.status == targets.MET and torch1.measured == pytest.approx(1.2)
    (torch2,) = [o for o in _by(out, "AdamW", "AdamW.step f32 (2 thr)")]
    assert torch2.status == targets.SHORT and torch2.measured == pytest.approx(0.5)
    numpy1 = next(o for o in out if o.target.baseline == ("numpy in-place (1 thr)",))
    assert numpy1.status == targets.SHORT and numpy1.measured == pytest.approx(3.0)  # goal 5x
    # one target, a "*" pattern: judged per thread count, labelled with it
    bw = {o.kernel: o for o in _by(out, "AdamW", "AdamW.step f32 (* thr)")}
    assert bw[targets.ADAMW + " (1 thr)"].status == targets.MET
    assert bw[targets.ADAMW + " (2 thr)"].status == targets.SHORT
    # "<=" on an extra
    (rng,) = _by(out, "standard_normal", "standard_normal (1 thr)")
    assert rng.status == targets.SHORT and rng.shown() == "2 ns"
    # several baselines: the fastest present (strongest) counts
    (gd,) = _by(out, "gd_quadratic", "gd_quadratic")
    assert gd.measured == pytest.approx(2.0) and gd.status == targets.SHORT and "numpy in-place" in gd.note
    (mem,) = _by(out, targets.SOBOL, "peak extra memory (S1/ST)")
    assert mem.status == targets.MET and mem.shown() == "1/12.0"
    # rows absent from the run: not run, never met
    (spear,) = _by(out, "spearman_matrix", "spearman_matrix (1 thr)")
    assert spear.status == targets.NOT_RUN and spear.measured is None
    lines = targets.summary_lines(out)
    assert lines[0].split()[:2] == ["kernel", "target"]
    assert any("short" in line and "AdamW" in line for line in lines)
    n_short = sum(o.status == targets.SHORT for o in out)
    assert f"{n_short} short" in lines[-1]


def test_missing_baseline_or_quick_size_is_not_run():
    rows = [
        Row("optim", "AdamW.step f32 (1 thr)", "R=1000,d=10000", 1.0, {"numpy reference": 9.0}, {}),  # no torch
        Row("rank", "spearman_matrix (1 thr)", "T=8 S=1e+03", 1.0, {"scipy.stats.spearmanr": 50.0}),  # quick size
    ]
    out = targets.evaluate(rows)
    torch1 = next(o for o in out if o.target.baseline == ("torch AdamW fused (1 thr)",))
    assert torch1.status == targets.NOT_RUN and "torch" in torch1.note
    assert all(o.status == targets.NOT_RUN for o in out if o.target.area == "rank")
    assert targets.exit_code(out) == 0


def test_exit_code_follows_short():
    met = targets.evaluate([Row("rng", "standard_normal (1 thr)", "n=1e+07", 1.0, {}, {"ns_per_draw": 1.0})])
    assert targets.exit_code(met) == 0
    short = targets.evaluate([Row("rng", "standard_normal (1 thr)", "n=1e+07", 1.0, {}, {"ns_per_draw": 3.0})])
    assert targets.exit_code(short) == 1


@pytest.fixture
def fake_area(monkeypatch):
    """A bench area "fake" that records given rows, and no bandwidth probe (nothing is timed)."""
    recorded: list[Row] = []
    module = types.ModuleType("bench_fake")
    module.run = lambda bench: [bench.record(r) for r in recorded]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bench_fake", module)
    monkeypatch.setattr(bench_run, "areas", lambda: ["fake"])
    monkeypatch.setattr(Bench, "measure_bandwidth", lambda self: {"axpy_GBps": 1.0, "triad_GBps": 1.0})
    return recorded


@pytest.mark.parametrize("ns, code", [(1.0, 0), (3.0, 1)])
def test_check_exit_status_follows_the_summary(fake_area, tmp_path, capsys, ns, code):
    fake_area.append(Row("rng", "standard_normal (1 thr)", "n=1e+07", 0.01, {}, {"ns_per_draw": ns}))
    out = tmp_path / "b.json"
    assert bench_run.main(["--check", "--json", str(out)]) == code
    assert bench_run.main(["--json", str(out)]) == 0  # without --check: always 0
    text = capsys.readouterr().out
    assert "load " in text and "targets (bench/targets.py" in text
    data = json.loads(out.read_text())
    assert len(data["load"]["start"]) == 3 and len(data["load"]["end"]) == 3
    assert set(data["area_seconds"]) == {"fake"}
    assert data["targets"]["evaluated"] is True
    (rng,) = [r for r in data["targets"]["results"] if r["area"] == "rng"]
    assert rng["status"] == ("met" if code == 0 else "short") and rng["measured"] == ns


def test_quick_does_not_evaluate_and_check_needs_full_sizes(fake_area, tmp_path, capsys):
    fake_area.append(Row("rng", "standard_normal (1 thr)", "n=1e+06", 0.01, {}, {"ns_per_draw": 9.0}))
    out = tmp_path / "q.json"
    assert bench_run.main(["--quick", "--json", str(out)]) == 0
    assert "quick: targets not evaluated" in capsys.readouterr().out
    assert json.loads(out.read_text())["targets"]["evaluated"] is False
    with pytest.raises(SystemExit) as exc:
        bench_run.main(["--quick", "--check"])
    assert exc.value.code == 2


def test_scaling_table_compares_thread_counts_not_a_row_with_itself():
    rows = [
        # pinned at 1 thread in every run: left out
        Row("a", "pinned (1 thr)", "s", 1.0, threads=1), Row("a", "pinned (1 thr)", "s", 1.0, threads=1),
        # measured at 1 and 2 threads (names tagged): grouped, 2x
        Row("a", "k (1 thr)", "s", 2.0, threads=1), Row("a", "k (2 thr)", "s", 1.0, threads=2),
        # follows the limit (no tag): grouped by the limit it ran under
        Row("a", "free", "s", 3.0, threads=1), Row("a", "free", "s", 2.0, threads=2),
        Row("a", "x (alloc, 1 thr)", "s", 1.0, threads=1),
    ]  # fmt: skip
    table = {e["kernel"]: e["speedup"] for e in bench_run.scaling_table(rows)}
    assert set(table) == {"k", "free"}
    assert table["k"] == {1: 1.0, 2: 2.0} and table["free"] == {1: 1.0, 2: 1.5}


def test_record_fills_the_thread_count():
    b = Bench(quick=True, threads=3)
    assert b.record(Row("a", "k (2 thr)", "s", 1.0)).threads == 2
    assert b.record(Row("a", "k (alloc, 1 thr)", "s", 1.0)).threads == 1
    assert b.record(Row("a", "k", "s", 1.0)).threads == 3
