"""Hypothesis profiles: ``ci`` is loaded when the ``CI`` environment variable is set (as NumPy
chooses its profile), ``dev`` otherwise. Neither is derandomised: every run draws new examples,
CI's included, so CI cannot stay green over a failure a newcomer's first run would hit. ``ci``
keeps no example database (a run starts from nothing the machine remembers) and prints the
blob that reproduces a failure (``@reproduce_failure``)."""

from __future__ import annotations

import os
import signal

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    # explicit: Hypothesis loads its own derandomised "ci" profile when it detects CI, and a
    # profile registered without a parent inherits from whatever is loaded
    derandomize=False,
    database=None,
    print_blob=True,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", deadline=None, derandomize=False, max_examples=100, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the session counters of tests/_counters.py (e.g. "abuse cases run")."""
    from tests import _counters

    for name, n in sorted(_counters.COUNTS.items()):
        terminalreporter.write_line(f"tunelab: {name}: {n}")


@pytest.fixture
def default_sigint():
    """Python's own SIGINT handler for the test (the interrupt tests use it): a handler left
    behind by anything that ran earlier in the session (SIG_IGN, a library's own) would swallow
    the test's signal, and the chunk loop rightly leaves a foreign handler in charge."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
