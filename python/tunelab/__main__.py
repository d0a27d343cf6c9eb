"""``python -m tunelab report [--out DIR] [--quick]``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tunelab", description="tunelab command line")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="rerun the chapter's experiments and write an HTML report")
    rep.add_argument("--out", default="tunelab-report", help="output folder (default: tunelab-report)")
    rep.add_argument("--quick", action="store_true", help="tiny sizes: seconds instead of minutes")
    rep.add_argument("--only", action="append", default=None, help="run only this section (repeatable)")
    args = parser.parse_args(argv)
    if args.command == "report":
        from .report import build_report

        path = build_report(args.out, quick=args.quick, only=args.only)
        print(f"report written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
