"""The stubs of the compiled module (python/tunelab/_core.pyi) match it (mypy's stubtest)."""

from __future__ import annotations

import subprocess
import sys


def test_core_stubs_match_the_extension():
    proc = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "tunelab._core"], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
