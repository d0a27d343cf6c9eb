"""The report's page: sections, text, tables, figures and checks, written as ``index.html``
beside its PNG figures and ``checks.json``.

A *check* compares a measured number with the value theory gives and states its tolerance:

- ``check_z``: an estimate with its standard error against an exact value, ``|z| <= bound``;
- ``check_rel`` / ``check_abs``: a deterministic number, relative or absolute error;
- ``check_bound``: a one-sided (or two-sided) bound, written as one: ``measured <= upper``.

Every check becomes one record of ``checks.json`` (section, name, measured, theory, tolerance,
verdict) and one line on the page.
"""

from __future__ import annotations

import html
import json
import math
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Page", "Check", "fmt", "fmt_se"]


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _pow10(e: int) -> str:
    """``10`` raised to ``e``, written with superscript digits (10⁻⁵)."""
    return "10" + str(e).translate(_SUPERSCRIPT)


def fmt(x: Any, digits: int = 4) -> str:
    """A number at ``digits`` significant digits (ints as ints, inf/nan spelled out)."""
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}".replace(",", " ") if abs(int(x)) >= 10_000 else str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return "–"
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        if x == 0:
            return "0"
        if 1e-4 <= abs(x) < 1e6:
            dec = max(digits - 1 - math.floor(math.log10(abs(x))), 0)
            s = f"{x:.{dec}f}"
            if "." in s:
                s = s.rstrip("0").rstrip(".")
        else:
            s = f"{x:.{max(digits - 1, 0)}e}"
            mant, exp = s.split("e")
            s = f"{mant}·{_pow10(int(exp))}"
        return s.replace("-", "−")
    return str(x)


def fmt_se(x: float, se: float) -> str:
    """``x ± se`` with the standard error at two significant digits and ``x`` to the same place."""
    x, se = float(x), float(se)
    if not (math.isfinite(se) and se > 0 and math.isfinite(x)):
        return f"{fmt(x)} ± {fmt(se, 2)}"
    if se < 1e-9 * abs(x):
        return f"{fmt(x, 10)} ± {fmt(se, 2)}"
    top = max(abs(x), se)
    if 1e-3 <= top < 1e6:
        dec = max(1 - math.floor(math.log10(se)), 0)  # two significant digits of the SE
        return f"{x:.{dec}f} ± {se:.{dec}f}".replace("-", "−")
    e = math.floor(math.log10(top))  # a common power of ten: (6.98 ± 0.92)·10⁻⁵
    inner = fmt_se(x / 10.0**e, se / 10.0**e)
    return f"({inner})·{_pow10(e)}".replace("-", "−")


def _digits_for(rtol: float) -> int:
    """Significant digits that show a relative error of ``rtol``."""
    return min(max(int(math.ceil(-math.log10(rtol))) + 2, 4), 15) if rtol > 0 else 15


@dataclass
class Check:
    """One record of ``checks.json``."""

    section: str
    name: str
    measured: float | None
    theory: float | list[float | None] | None
    tolerance: str
    verdict: str  # "agrees", "DISAGREES" or "failed" (the section raised)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict == "agrees"


def _num(x: Any) -> float | None:
    if x is None:
        return None
    v = float(x)
    return v if math.isfinite(v) else None


@dataclass
class _Section:
    title: str
    anchor: str
    parts: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    skipped: str | None = None


class Page:
    """Collects the report's content section by section and writes it out."""

    def __init__(self, out: Path, *, verbose: bool = True) -> None:
        self.out = Path(out)
        self.verbose = verbose
        self.sections: list[_Section] = []
        self.checks: list[Check] = []
        self.n_fig = 0
        self._t_step = time.perf_counter()

    # -- structure -------------------------------------------------------------------------
    def section(self, title: str, anchor: str) -> None:
        """Start a new section (its checks and content go under it)."""
        self.sections.append(_Section(title, re.sub(r"[^A-Za-z0-9_-]+", "-", anchor)))
        self._t_step = time.perf_counter()

    @property
    def _current(self) -> _Section:
        if not self.sections:
            self.section("Report", "report")
        return self.sections[-1]

    def step(self, what: str) -> None:
        """A progress line for a long section: ``what`` has just finished (printed to stderr, not written to the page)."""
        if self.verbose:
            now = time.perf_counter()
            print(f"      · {what} ({now - self._t_step:.1f} s)", file=sys.stderr, flush=True)
            self._t_step = now

    def failed(self, error: str, seconds: float) -> None:
        """Mark the current section as failed with its traceback."""
        sec = self._current
        sec.error, sec.seconds = error, seconds
        last = error.strip().splitlines()[-1] if error.strip() else "error"
        self.checks.append(Check(sec.title, "section ran to its end", None, None, "no exception", "failed", last))

    def skip(self, reason: str) -> None:
        """Mark the current section as skipped (an optional dependency is missing): the page says
        why and how to run it; it is not a failure."""
        self._current.skipped = reason

    # -- content ---------------------------------------------------------------------------
    def text(self, text: str) -> None:
        self._current.parts.append(f"<p>{html.escape(text)}</p>")

    def table(self, header: list[str], rows: list[list[Any]], caption: str = "") -> None:
        """A table; floats are shown at 4 significant digits (pass a string to show more)."""
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(fmt(v))}</td>" for v in row) + "</tr>" for row in rows
        )
        self._current.parts.append(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def figure(self, fig: Any, name: str, caption: str) -> None:
        """Save a matplotlib figure as PNG and show it with its caption."""
        import matplotlib.pyplot as plt

        self.n_fig += 1
        stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name)
        fname = f"{self.n_fig:02d}_{stem}.png"
        fig.savefig(self.out / fname, dpi=110, bbox_inches="tight")
        plt.close(fig)
        self._current.parts.append(
            f'<figure><img src="{fname}" alt="{html.escape(name)}">'
            f"<figcaption>Figure {self.n_fig}. {html.escape(caption)}</figcaption></figure>"
        )

    # -- checks ----------------------------------------------------------------------------
    def _record(self, name: str, measured: Any, theory: Any, tolerance: str, ok: bool, line: str) -> bool:
        sec = self._current
        verdict = "agrees" if ok else "DISAGREES"
        th = [_num(t) for t in theory] if isinstance(theory, (list, tuple)) else _num(theory)
        self.checks.append(Check(sec.title, name, _num(measured), th, tolerance, verdict))
        mark, cls = ("✓", "ok") if ok else ("✗", "bad")
        sec.parts.append(
            f'<p class="check {cls}"><span class="mark">{mark}</span> <b>{html.escape(name)}</b>: '
            f"{html.escape(line)} — <i>{verdict}</i></p>"
        )
        return ok

    def check_z(self, name: str, measured: float, se: float, theory: float, *, bound: float = 4.0) -> bool:
        """An estimate with standard error ``se`` against an exact value: ``|z| <= bound``."""
        measured, se, theory = float(measured), float(se), float(theory)
        z = (measured - theory) / se if se > 0 else (0.0 if measured == theory else math.inf)
        ok = math.isfinite(z) and abs(z) <= bound
        zs = f"{z:+.2f}".replace("-", "−")
        line = f"measured {fmt_se(measured, se)}, theory {fmt(theory, 6)}; z = {zs}, tolerance |z| ≤ {bound:g}"
        return self._record(name, measured, theory, f"|z| <= {bound:g}", ok, line)

    def check_rel(self, name: str, measured: float, theory: float, *, rtol: float) -> bool:
        """A number against its exact value: relative error ``<= rtol``."""
        measured, theory = float(measured), float(theory)
        err = abs(measured - theory) / abs(theory) if theory != 0 else abs(measured - theory)
        ok = math.isfinite(err) and err <= rtol
        d = _digits_for(rtol)
        line = (f"measured {fmt(measured, d)}, theory {fmt(theory, d)}; relative error {err:.2g}, "
                f"tolerance ≤ {fmt(rtol, 2)}")
        return self._record(name, measured, theory, f"relative error <= {rtol:g}", ok, line)

    def check_abs(self, name: str, measured: float, theory: float, *, atol: float) -> bool:
        """A number against its exact value: absolute error ``<= atol``."""
        measured, theory = float(measured), float(theory)
        err = abs(measured - theory)
        ok = math.isfinite(err) and err <= atol
        line = f"measured {fmt(measured, 5)}, theory {fmt(theory, 5)}; |error| {fmt(err, 2)}, tolerance ≤ {fmt(atol, 2)}"
        return self._record(name, measured, theory, f"absolute error <= {atol:g}", ok, line)

    def check_bound(self, name: str, measured: float, *, lower: float | None = None, upper: float | None = None,
                    strict: bool = False) -> bool:
        """A bound, one- or two-sided: ``lower <= measured <= upper`` (``<`` when ``strict``)."""
        measured = float(measured)
        le = "<" if strict else "≤"
        ok = math.isfinite(measured)
        bounds = [b for b in (lower, upper) if b is not None]
        d = 4  # enough digits that the measured value and its bounds read apart
        while d < 12 and any(fmt(measured, d) == fmt(b, d) and measured != b for b in bounds):
            d += 1
        parts = []
        if lower is not None:
            ok = ok and (measured > lower if strict else measured >= lower)
            parts.append(f"{fmt(lower, d)} {le}")
        parts.append(f"measured {fmt(measured, d)}")
        if upper is not None:
            ok = ok and (measured < upper if strict else measured <= upper)
            parts.append(f"{le} {fmt(upper, d)}")
        ascii_le = "<" if strict else "<="
        if lower is not None and upper is not None:
            theory: Any = [lower, upper]
            tol = f"{lower:g} {ascii_le} measured {ascii_le} {upper:g}"
        elif upper is not None:
            theory, tol = upper, f"measured {ascii_le} {upper:g}"
        else:
            theory, tol = lower, f"measured {'>' if strict else '>='} {lower:g}"
        return self._record(name, measured, theory, tol, ok, " ".join(parts) + " (a bound)")

    # -- output ----------------------------------------------------------------------------
    def write(self, *, title: str, provenance: list[tuple[str, str]]) -> Path:
        """Write ``index.html`` and ``checks.json``; return the path of the page."""
        n_ok = sum(c.ok for c in self.checks)
        bad = [c for c in self.checks if not c.ok]
        toc = []
        for s in self.sections:
            mine = [c for c in self.checks if c.section == s.title]
            state = ("failed" if s.error else "skipped" if s.skipped
                     else f"{sum(c.ok for c in mine)}/{len(mine)} checks agree")
            cls = "bad" if s.error or any(not c.ok for c in mine) else "skip" if s.skipped else "ok"
            toc.append(f'<li><a href="#{s.anchor}">{html.escape(s.title)}</a> '
                       f'<span class="{cls}">({state}, {s.seconds:.1f} s)</span></li>')
        summary_cls = "ok" if not bad else "bad"
        summary = f'<p class="{summary_cls}"><b>{n_ok} of {len(self.checks)} checks agree.</b>'
        if bad:
            summary += " Not agreeing: " + "; ".join(
                f'<a href="#{self._anchor_of(c.section)}">{html.escape(c.section)}</a>: {html.escape(c.name)} '
                f"({c.verdict})" for c in bad)
        summary += "</p>"
        prov = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in provenance)
        body = []
        for s in self.sections:
            body.append(f'<section id="{s.anchor}"><h2>{html.escape(s.title)} '
                        f'<span class="time">{s.seconds:.1f} s</span></h2>')
            body.extend(s.parts)
            if s.skipped:
                body.append(f'<p class="skip"><b>Skipped:</b> {html.escape(s.skipped)}</p>')
            if s.error:
                body.append('<p class="bad"><b>This section failed</b> before its end; its traceback:</p>'
                            f"<pre>{html.escape(s.error)}</pre>")
            body.append("</section>")
        style = (
            "body{font-family:system-ui,sans-serif;max-width:62em;margin:auto;padding:1em 1.5em;line-height:1.45;"
            "color:#222}h2{border-top:1px solid #ddd;padding-top:.8em;margin-top:2em}h2 .time{font-size:.6em;"
            "color:#888;font-weight:normal}table{border-collapse:collapse;margin:.8em 0;font-size:.92em}"
            "caption{caption-side:top;text-align:left;font-style:italic;padding:.2em 0}"
            "td,th{border:1px solid #ccc;padding:2px 7px;text-align:right}th{background:#f4f4f4}"
            "table.prov th,table.prov td{text-align:left}figure{margin:1em 0}img{max-width:100%}"
            "figcaption{font-size:.92em;color:#444}.ok{color:#060}.bad{color:#a00}.skip{color:#8a5a00}p.check{margin:.3em 0}"
            "p.check.bad{font-weight:bold}pre{background:#fbeaea;padding:.6em;overflow-x:auto;font-size:.85em}"
        )
        doc = (
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<table class='prov'>{prov}</table>{summary}<h2>Contents</h2><ol>{''.join(toc)}</ol>"
            + "\n".join(body)
            + "</body></html>"
        )
        path = self.out / "index.html"
        path.write_text(doc, encoding="utf-8")
        records = [{k: v for k, v in asdict(c).items() if k != "detail" or v} for c in self.checks]
        (self.out / "checks.json").write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf-8")
        return path

    def _anchor_of(self, title: str) -> str:
        return next((s.anchor for s in self.sections if s.title == title), "")
