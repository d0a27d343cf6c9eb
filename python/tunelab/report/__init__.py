"""``python -m tunelab report``: rerun the chapter's experiments, write ``index.html`` + PNGs.

Every module in this package that defines ``TITLE``, ``ORDER`` and ``run(page, quick)`` is a
section; they are discovered, sorted by ``ORDER`` and run in turn. A section writes through
the ``Page`` it is given (text, tables, figures, numbers beside their theory).
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from pathlib import Path
from types import ModuleType

from .page import Page

__all__ = ["build_report", "sections"]


def sections() -> list[ModuleType]:
    """The report's section modules, in order."""
    mods = []
    for info in pkgutil.iter_modules(__path__):
        if info.name in {"page"}:
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(mod, "run") and hasattr(mod, "TITLE"):
            mods.append(mod)
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


def build_report(out: str | Path, *, quick: bool = False, only: list[str] | None = None) -> Path:
    """Run every section (or those named in ``only``) and write ``out/index.html``."""
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    page = Page(out)
    chosen = [m for m in sections() if not only or m.__name__.rsplit(".", 1)[-1] in only]
    if only and not chosen:
        names = ", ".join(m.__name__.rsplit(".", 1)[-1] for m in sections())
        raise ValueError(f"only: no section named {only}; the sections are {names}")
    t_all = time.perf_counter()
    for i, mod in enumerate(chosen, 1):
        print(f"[{i}/{len(chosen)}] {mod.TITLE} ...", flush=True)
        t0 = time.perf_counter()
        page.section(mod.TITLE)
        mod.run(page, quick)
        print(f"      done in {time.perf_counter() - t0:.1f} s", flush=True)
    page.write(title="tunelab report", elapsed=time.perf_counter() - t_all, quick=quick)
    return out / "index.html"
