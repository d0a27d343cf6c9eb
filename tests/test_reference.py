"""tunelab.reference is a leaf: it imports nothing of tunelab (a reference that shares code with
what it checks cannot catch that code's bugs), and ``import tunelab`` does not load it."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import tunelab

REFERENCE = pathlib.Path(tunelab.__file__).parent / "reference"


def _imports(path: pathlib.Path) -> list[tuple[int, str]]:
    """(level, module) of every import in a file: level 0 for absolute imports."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.level, node.module or ""))
    return out


def test_reference_imports_nothing_of_tunelab():
    """Absolute imports are the standard library, NumPy or SciPy; relative ones stay inside
    reference/ (one dot)."""
    files = sorted(REFERENCE.glob("*.py"))
    assert files
    bad = []
    for path in files:
        for level, module in _imports(path):
            top = module.split(".")[0]
            if level > 1 or (level == 0 and (top == "tunelab" or top not in sys.stdlib_module_names | {"numpy", "scipy"})):
                bad.append(f"{path.name}: {'.' * level}{module}")
    assert not bad, bad


def test_import_tunelab_leaves_reference_unloaded():
    code = (
        "import sys, tunelab\n"
        "assert 'tunelab.reference' not in sys.modules, sorted(m for m in sys.modules if m.startswith('tunelab'))\n"
        "assert tunelab.reference.gd_quadratic is sys.modules['tunelab.reference'].gd_quadratic\n"
        "from tunelab import reference\n"
        "assert reference is tunelab.reference\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
