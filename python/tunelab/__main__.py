"""``python -m tunelab report [--out DIR] [--quick] [--only SECTION ...]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} seconds" if seconds < 90 else f"{seconds / 60:.0f} minutes"


def _report_parser(prog: str) -> argparse.ArgumentParser:
    from .report import sections

    mods = sections()
    secs = [getattr(m, "SECONDS", (0, 0)) for m in mods]  # (full, quick) on 2 cores
    full, quick = sum(s[0] for s in secs), sum(s[1] for s in secs)
    listing = "\n".join(
        f"  {m.__name__.rsplit('.', 1)[-1]:<13} {m.TITLE} (~{s[0]:g} s; quick ~{s[1]:g} s)" for m, s in zip(mods, secs)
    )
    return argparse.ArgumentParser(
        prog=prog,
        description=(
            "Rerun the chapter's experiments and write an HTML report: index.html, its PNG figures and "
            "checks.json (one record per check of a measured number against theory). Exits 0 when every "
            "section ran and every check agrees, 1 otherwise, 2 on a usage error."
        ),
        epilog=(
            f"sections (--only NAME):\n{listing}\n\n"
            f"A full run takes about {_duration(full)} on 2 cores, --quick about {_duration(quick)}."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _out_problem(out: Path) -> str | None:
    """Why ``out`` cannot be the report's folder, or None."""
    if out.exists() and not out.is_dir():
        return f"--out {out}: exists and is not a folder"
    parent = out.parent if not out.exists() else out
    if not parent.exists():
        return f"--out {out}: its parent folder {out.parent} does not exist"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"--out {out}: {parent} is not writable"
    return None


def report_main(argv: list[str], prog: str = "python -m tunelab report") -> int:
    from .report import build_report, section_names

    parser = _report_parser(prog)
    parser.add_argument("--out", default="tunelab-report", help="output folder (default: tunelab-report)")
    parser.add_argument("--quick", action="store_true", help="small sizes: seconds instead of minutes")
    parser.add_argument("--only", action="append", metavar="SECTION", help="run only this section (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args(argv)
    names = section_names()
    if args.only:
        unknown = [o for o in args.only if o not in names]
        if unknown:
            parser.error(f"--only: no section named {', '.join(map(repr, unknown))}; choose from {', '.join(names)}")
    out = Path(args.out)
    problem = _out_problem(out)
    if problem:
        print(f"{prog}: error: {problem}", file=sys.stderr)
        return 2
    try:
        rep = build_report(out, quick=args.quick, only=args.only, verbose=not args.quiet)
    except OSError as exc:
        print(f"{prog}: error: could not write the report to {out}: {exc}", file=sys.stderr)
        return 2
    n_ok = sum(c.ok for c in rep.checks)
    print(f"report written to {rep.path}: {n_ok} of {len(rep.checks)} checks agree"
          + (f"; failed sections: {', '.join(rep.failed_sections)}" if rep.failed_sections else "")
          + (f"; skipped sections: {', '.join(rep.skipped_sections)}" if rep.skipped_sections else ""))
    for c in rep.checks:
        if not c.ok:
            print(f"  {c.verdict}: [{c.section}] {c.name} {c.detail}".rstrip(), file=sys.stderr)
    return 0 if rep.ok else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["report"]:
        return report_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m tunelab", description="tunelab command line")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("report", help="rerun the chapter's experiments and write an HTML report (report --help)")
    parser.parse_args(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
