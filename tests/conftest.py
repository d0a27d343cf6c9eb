"""Hypothesis profiles: ``ci`` (derandomised, no database: fixed examples, as a CI run needs)
is loaded when the ``CI`` environment variable is set; ``dev`` otherwise."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the session counters of tests/_counters.py (e.g. "abuse cases run")."""
    from tests import _counters

    for name, n in sorted(_counters.COUNTS.items()):
        terminalreporter.write_line(f"tunelab: {name}: {n}")
