"""Run a snippet at every x86-64 vector width tunelab dispatches to and compare the bits."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np


def same_at_every_simd_width(code: str) -> None:
    """Run ``code`` (which np.save's its result to stdout) under TUNELAB_SIMD=0, 1, 2 (read at
    start-up, hence subprocesses) and assert the three results are the same bits."""
    runs = []
    for level in ("0", "1", "2"):
        env = dict(os.environ, TUNELAB_SIMD=level)
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)
        runs.append(np.load(io.BytesIO(done.stdout)))
    for r in runs[1:]:
        np.testing.assert_array_equal(r, runs[0])
