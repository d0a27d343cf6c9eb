"""``python -m tunelab report``: rerun the chapter's experiments, write ``index.html``, its PNG
figures and ``checks.json``.

Every module in this package that defines ``TITLE``, ``ORDER``, ``SECONDS`` (rough wall time of a
full and a quick run on 2 cores) and ``run(page, quick)`` is a section; they are discovered,
sorted by ``ORDER`` and run in turn. A section writes through the ``Page`` it is given (text,
tables, figures, checks of measured numbers against theory). A section that raises is shown
on the page as failed, with its traceback, and the others still run.
"""

from __future__ import annotations

import datetime
import importlib
import os
import pkgutil
import platform
import time
import traceback
from pathlib import Path
from types import ModuleType

from .page import Page

__all__ = ["build_report", "sections", "section_names", "Report"]


def sections() -> list[ModuleType]:
    """The report's section modules, in order."""
    mods = []
    for info in pkgutil.iter_modules(__path__):
        if info.name == "page":
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(mod, "run") and hasattr(mod, "TITLE"):
            mods.append(mod)
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


def section_names() -> list[str]:
    """The names ``--only`` accepts, in the report's order."""
    return [m.__name__.rsplit(".", 1)[-1] for m in sections()]


class Report:
    """What ``build_report`` wrote: the page, the checks and whether every section ran."""

    def __init__(self, path: Path, page: Page) -> None:
        self.path = path
        self.checks = page.checks
        self.failed_sections = [s.title for s in page.sections if s.error]
        self.skipped_sections = [s.title for s in page.sections if s.skipped]

    @property
    def ok(self) -> bool:
        """Every section ran to its end and every check agrees."""
        return not self.failed_sections and all(c.ok for c in self.checks)


def _git_commit() -> str:
    try:
        from .. import _build_info

        return _build_info.GIT_COMMIT or "unknown (built outside a git checkout)"
    except ImportError:
        return "unknown"


def _provenance(quick: bool, seconds: float) -> list[tuple[str, str]]:
    import matplotlib
    import numpy
    import scipy

    from .. import __version__, openmp_enabled

    threads = os.environ.get("OMP_NUM_THREADS")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [
        ("tunelab", f"{__version__}, commit {_git_commit()}"),
        ("Python, NumPy, SciPy, matplotlib",
         f"{platform.python_version()}, {numpy.__version__}, {scipy.__version__}, {matplotlib.__version__}"),
        ("threads", f"OpenMP {'on' if openmp_enabled() else 'off (serial build)'}, {os.cpu_count()} CPUs, "
                    f"OMP_NUM_THREADS={threads if threads else 'unset (all)'}"),
        ("sizes", "quick (python -m tunelab report --quick)" if quick else "full"),
        ("seeds", "fixed in each section (rng=...), so a rerun gives the same page"),
        ("written", f"{stamp}, in {seconds:.1f} s"),
    ]


def build_report(out: str | Path, *, quick: bool = False, only: list[str] | None = None,
                 verbose: bool = True) -> Report:
    """Run every section (or those named in ``only``) and write ``out/index.html``.

    ``out`` must be a folder or not exist yet (its parent must exist). Sections that raise are
    reported as failed; see ``Report.ok``.
    """
    import matplotlib

    matplotlib.use("Agg")
    names = section_names()
    if only:
        unknown = [o for o in only if o not in names]
        if unknown:
            raise ValueError(f"only: no section named {', '.join(unknown)}; the sections are {', '.join(names)}")
    chosen = [m for m in sections() if not only or m.__name__.rsplit(".", 1)[-1] in only]
    out = Path(out)
    out.mkdir(exist_ok=True)
    page = Page(out, verbose=verbose)
    t_all = time.perf_counter()
    for i, mod in enumerate(chosen, 1):
        name = mod.__name__.rsplit(".", 1)[-1]
        if verbose:
            print(f"[{i}/{len(chosen)}] {mod.TITLE} ...", flush=True)
        t0 = time.perf_counter()
        page.section(mod.TITLE, name)
        try:
            mod.run(page, quick)
        except Exception:
            page.failed(traceback.format_exc(), time.perf_counter() - t0)
            if verbose:
                print(f"      FAILED after {time.perf_counter() - t0:.1f} s:\n{traceback.format_exc()}", flush=True)
            continue
        page.sections[-1].seconds = time.perf_counter() - t0
        if verbose:
            print(f"      done in {page.sections[-1].seconds:.1f} s", flush=True)
    path = page.write(title="tunelab report", provenance=_provenance(quick, time.perf_counter() - t_all))
    return Report(path, page)
