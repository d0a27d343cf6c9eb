"""A minimal HTML page builder for the report: sections, text, tables, figures, checks."""

from __future__ import annotations

import datetime
import html
import platform
import re
from pathlib import Path
from typing import Any

__all__ = ["Page"]


class Page:
    """Collects the report's content and writes ``index.html`` beside its PNG figures."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.parts: list[str] = []
        self.n_fig = 0

    def section(self, title: str) -> None:
        self.parts.append(f"<h2>{html.escape(title)}</h2>")

    def text(self, text: str) -> None:
        self.parts.append(f"<p>{html.escape(text)}</p>")

    def table(self, header: list[str], rows: list[list[Any]]) -> None:
        def cell(v: Any) -> str:
            if isinstance(v, float):
                return f"{v:.6g}"
            return html.escape(str(v))

        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
        self.parts.append(f"<table><tr>{head}</tr>{body}</table>")

    def figure(self, fig: Any, name: str, caption: str = "") -> None:
        """Save a matplotlib figure as PNG and show it."""
        import matplotlib.pyplot as plt

        self.n_fig += 1
        stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name)
        fname = f"{self.n_fig:02d}_{stem}.png"
        fig.savefig(self.out / fname, dpi=110, bbox_inches="tight")
        plt.close(fig)
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self.parts.append(f'<figure><img src="{fname}" alt="{html.escape(name)}">{cap}</figure>')

    def check(self, what: str, measured: float, theory: float, ok: bool) -> None:
        """A measured number beside its theoretical value, marked agree / DISAGREE."""
        mark = "agrees" if ok else "DISAGREES"
        cls = "ok" if ok else "bad"
        self.parts.append(
            f'<p class="{cls}">{html.escape(what)}: measured {measured:.6g}, theory {theory:.6g} ({mark})</p>'
        )

    def write(self, *, title: str, elapsed: float, quick: bool) -> None:
        from .. import __version__, openmp_enabled

        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        meta = (
            f"tunelab {__version__}, Python {platform.python_version()}, OpenMP: {openmp_enabled()}, "
            f"{'quick sizes' if quick else 'full sizes'}, {elapsed:.1f} s, {stamp}"
        )
        style = (
            "body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
            "img{max-width:100%}.ok{color:#060}.bad{color:#a00;font-weight:bold}"
        )
        doc = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{style}</style></head><body><h1>{title}</h1><p>{html.escape(meta)}</p>"
            + "\n".join(self.parts)
            + "</body></html>"
        )
        (self.out / "index.html").write_text(doc, encoding="utf-8")
