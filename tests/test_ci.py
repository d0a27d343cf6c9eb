"""CI runs what a newcomer runs: new Hypothesis examples each run, no example database, the
README's test command as written, in a virtual environment it creates itself."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
CI_RUN = ROOT / ".ci" / "run"


def test_ci_profile_draws_new_examples():
    """The ``ci`` profile is not derandomised and keeps no database (CONVENTIONS.md, Tests)."""
    ci = settings.get_profile("ci")
    assert ci.derandomize is False
    assert ci.database is None
    assert ci.deadline is None and ci.print_blob is True


def test_ci_script_runs_the_readme_command_in_a_fresh_venv():
    """``.ci/run`` reads the README's test command from README.md (the line after "this is what
    CI runs"), creates its own venv, fixes no seed, and runs mypy, the main job and the bench."""
    script = CI_RUN.read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"this is what CI runs\):\n\n```bash\n(.*)\n", readme)
    assert m and m.group(1) == 'pip install ".[test]" && python -m pytest', "the README's test command moved or changed"
    assert "this is what CI runs" in script and "python3 -m venv" in script and "set -euo pipefail" in script
    assert "python -m tunelab report --quick" in script and "python bench/run.py --quick" in script
    assert "\npython -m mypy\n" in script, "CI type-checks the package (issue 11: mypy clean, run in CI)"
    for fixed in ("hypothesis-seed", "derandomize", "--hypothesis-profile", "PYTHONHASHSEED"):
        assert fixed not in script
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    extract = re.search(r'readme_cmd="\$\((awk .*? README\.md)\)"', script)
    assert extract, "the awk line that reads the README's command"
    got = subprocess.run(["bash", "-c", extract.group(1)], cwd=ROOT, capture_output=True, text=True, check=True)
    assert got.stdout.strip() == m.group(1)


def test_readme_records_the_tested_floors():
    """The lower bounds of NumPy and SciPy in pyproject.toml are versions the README says the
    tests ran on (raise them together, after running the suite on the new floor)."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for dist, name in (("numpy", "NumPy"), ("scipy", "SciPy")):
        m = re.search(rf'"{dist}>=([0-9.]+)"', pyproject)
        assert m, f"pyproject.toml has no {dist} lower bound"
        assert f"{name} {m.group(1)}" in readme.replace("\n", " "), f"README does not record {name} {m.group(1)}"
