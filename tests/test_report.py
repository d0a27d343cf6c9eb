"""The main job, ``python -m tunelab report``, end to end: the quick report runs in a subprocess as
a user runs it, writes its page, its figures and ``checks.json``, and every check of the
chapter's claims agrees. Also the command line's refusals and a section that fails."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from tunelab import report  # noqa: E402
from tunelab.__main__ import main  # noqa: E402
from tunelab.report.page import Page, fmt, fmt_se  # noqa: E402

FIELDS = {"section", "name", "measured", "theory", "tolerance", "verdict"}


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tunelab", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "quick"
    proc = _cli("report", "--quick", "--out", str(out), cwd=out.parent)
    return proc, out


def test_quick_report_exits_zero(quick_report):
    proc, out = quick_report
    assert proc.returncode == 0, f"report --quick failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert (out / "index.html").is_file()


def test_quick_report_images_present(quick_report):
    _, out = quick_report
    page = (out / "index.html").read_text(encoding="utf-8")
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) >= len(report.sections()), "fewer figures than sections"
    missing = [i for i in images if not (out / i).is_file() or (out / i).stat().st_size < 1000]
    assert not missing, f"index.html references missing or empty images: {missing}"


def _skipped(proc: subprocess.CompletedProcess) -> set[str]:
    """The sections the report's summary line names as skipped."""
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("report written to")), "")
    return set(line.split("; skipped sections: ", 1)[1].split(", ")) if "; skipped sections: " in line else set()


def test_quick_report_every_check_agrees(quick_report):
    proc, out = quick_report
    records = json.loads((out / "checks.json").read_text(encoding="utf-8"))
    sections_with_checks = {r["section"] for r in records}
    # only the network section may be skipped, and only where PyTorch is missing
    import importlib.util

    from tunelab.report import network

    skipped = _skipped(proc)
    assert skipped == (set() if importlib.util.find_spec("torch") else {network.TITLE}), skipped
    assert sections_with_checks == {m.TITLE for m in report.sections()} - skipped, "a section states no check"
    for r in records:
        assert set(r) >= FIELDS, r
        assert r["tolerance"], r
    bad = [f"[{r['section']}] {r['name']}: measured {r['measured']}, theory {r['theory']}, {r['tolerance']}"
           f" -> {r['verdict']}" for r in records if r["verdict"] != "agrees"]
    assert not bad, "checks of the quick report that do not agree:\n" + "\n".join(bad)


def test_quick_report_page_has_contents_and_provenance(quick_report):
    _, out = quick_report
    page = (out / "index.html").read_text(encoding="utf-8")
    for m in report.sections():
        anchor = m.__name__.rsplit(".", 1)[-1]
        assert f'href="#{anchor}"' in page and f'id="{anchor}"' in page, anchor
    for word in ("tunelab", "NumPy", "SciPy", "matplotlib", "threads", "seeds"):
        assert word in page, word
    # no float printed at full precision (repr's 16-17 digits); a rel check at rtol 1e-12 shows 14
    shown = re.search(r"\d\.\d{14,}", re.sub(r"<[^>]+>", " ", page))
    assert not shown, f"a number shown with 15+ decimals: {shown.group()}"


def test_every_section_declares_itself():
    names = report.section_names()
    assert len(names) == len(set(names))
    for m in report.sections():
        full, quick = m.SECONDS
        assert 0 < quick <= full, m.__name__
        assert isinstance(m.TITLE, str) and m.TITLE


def test_unknown_only_is_a_usage_error_before_any_folder(tmp_path):
    out = tmp_path / "never"
    proc = _cli("report", "--only", "bogus", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 2
    assert "bogus" in proc.stderr and all(n in proc.stderr for n in report.section_names())
    assert not out.exists()


@pytest.mark.parametrize("case", ["file", "missing parent", "unwritable"])
def test_bad_out_is_a_one_line_error(tmp_path, case):
    if case == "file":
        out = tmp_path / "a-file"
        out.write_text("x")
    elif case == "missing parent":
        out = tmp_path / "no" / "such" / "folder"
    else:
        out = Path("/proc/tunelab-report")  # not creatable, even by root
    proc = _cli("report", "--quick", "--only", "sobol", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "--out" in proc.stderr or "could not write" in proc.stderr


def test_help_lists_sections_and_durations(tmp_path):
    proc = _cli("report", "--help", cwd=tmp_path)
    assert proc.returncode == 0
    for m in report.sections():
        assert m.__name__.rsplit(".", 1)[-1] in proc.stdout
    assert "full run takes about" in proc.stdout and "--quick about" in proc.stdout


def test_unknown_option_prints_the_reports_usage(tmp_path):
    proc = _cli("report", "--bogus", cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage: python -m tunelab report" in proc.stderr and "--bogus" in proc.stderr


def test_a_failing_section_is_shown_and_the_rest_still_render(tmp_path, monkeypatch, capsys):
    mods = report.sections()
    victim, other = mods[0], mods[1]

    def boom(page, quick):
        page.text("started")
        raise RuntimeError("planted failure")

    monkeypatch.setattr(victim, "run", boom)
    names = [victim.__name__.rsplit(".", 1)[-1], other.__name__.rsplit(".", 1)[-1]]
    rc = main(["report", "--quick", "--quiet", "--out", str(tmp_path / "r"), *sum((["--only", n] for n in names), [])])
    assert rc == 1
    page = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "This section failed" in page and "RuntimeError: planted failure" in page
    assert other.TITLE in page
    records = json.loads((tmp_path / "r" / "checks.json").read_text(encoding="utf-8"))
    failed = [r for r in records if r["verdict"] == "failed"]
    assert len(failed) == 1 and failed[0]["section"] == victim.TITLE
    assert any(r["section"] == other.TITLE and r["verdict"] == "agrees" for r in records)
    assert "planted failure" in capsys.readouterr().err


def test_check_lines_state_tolerances(tmp_path):
    page = Page(tmp_path, verbose=False)
    page.section("S", "s")
    assert page.check_z("z", 1.02, 0.01, 1.0, bound=4)
    assert not page.check_z("z far", 1.2, 0.01, 1.0, bound=4)
    assert page.check_rel("rel", 1.0 + 1e-9, 1.0, rtol=1e-8)
    assert page.check_bound("bound", 0.0102, upper=0.5)
    assert not page.check_bound("two-sided", 0.5, lower=0.9, upper=0.99)
    assert not page.check_abs("nan", float("nan"), 0.0, atol=1.0)
    page.write(title="t", provenance=[])
    text = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "tolerance |z| ≤ 4" in text and "(a bound)" in text and "theory 0.5" not in text
    records = json.loads((tmp_path / "checks.json").read_text(encoding="utf-8"))
    assert [r["verdict"] for r in records] == ["agrees", "DISAGREES", "agrees", "agrees", "DISAGREES", "DISAGREES"]
    assert records[3]["tolerance"] == "measured <= 0.5" and records[4]["theory"] == [0.9, 0.99]


@pytest.mark.parametrize(("x", "want"), [(0.1 + 0.2, "0.3"), (1234567.0, "1.235·10⁶"), (2e-7, "2.000·10⁻⁷"),
                                         (float("inf"), "∞"), (12, "12"), (123456, "123 456")])
def test_fmt(x, want):
    assert fmt(x) == want


@pytest.mark.parametrize(("x", "se", "want"), [(0.012341, 0.00012, "0.01234 ± 0.00012"), (1234.5, 12.0, "1234 ± 12"),
                                               (-0.5, 0.25, "−0.50 ± 0.25"),
                                               (6.98e-5, 9.2e-6, "(6.98 ± 0.92)·10⁻⁵")])
def test_fmt_se(x, se, want):
    assert fmt_se(x, se) == want


def test_network_section_without_torch_is_skipped_with_its_reason(tmp_path, monkeypatch, capsys):
    """Where PyTorch is missing the network section says so and how to install it; the report
    still exits 0 (a skipped section is not a failed one) and the summary line names it."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    rc = main(["report", "--quick", "--quiet", "--out", str(tmp_path / "r"), "--only", "network"])
    assert rc == 0
    page = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "Skipped:" in page and "pip install" in page and "(skipped," in page
    assert "skipped sections: A real network" in capsys.readouterr().out
