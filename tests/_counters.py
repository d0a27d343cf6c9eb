"""Session-wide counters that tests bump and ``conftest.pytest_terminal_summary`` prints
(e.g. the number of bad-input cases ``test_abuse.py`` ran)."""

from __future__ import annotations

from collections import Counter

COUNTS: Counter[str] = Counter()


def add(name: str, n: int = 1) -> None:
    COUNTS[name] += n
