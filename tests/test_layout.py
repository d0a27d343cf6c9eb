"""Data flows one way: kernels → primitives → studies → report (README, Layout). Read from the
source with ``ast``: a primitive module (``tunelab/<area>.py``, the private helpers) imports no
study, no report section and no reference; a study imports no report section and no reference."""

from __future__ import annotations

import ast
import pathlib

import pytest

import tunelab

PKG = pathlib.Path(tunelab.__file__).parent
PRIMITIVES = sorted(p for p in PKG.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
STUDIES = sorted((PKG / "studies").glob("*.py"))


def _targets(path: pathlib.Path, package: str) -> set[str]:
    """The tunelab modules a file imports, as dotted names below ``tunelab``."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
                out |= {mod} | {f"{mod}.{a.name}" for a in node.names}
            elif node.module and node.module.startswith("tunelab"):
                out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("tunelab")}
    return out


def _forbidden(imports: set[str], floors: tuple[str, ...]) -> list[str]:
    return sorted(m for m in imports if any(m == f or m.startswith(f + ".") for f in floors))


@pytest.mark.parametrize("path", PRIMITIVES, ids=lambda p: p.name)
def test_primitives_import_no_study_report_or_reference(path):
    bad = _forbidden(_targets(path, "tunelab"), ("tunelab.studies", "tunelab.report", "tunelab.reference"))
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.name)
def test_studies_import_no_report_or_reference(path):
    bad = _forbidden(_targets(path, "tunelab.studies"), ("tunelab.report", "tunelab.reference"))
    assert not bad, f"studies/{path.name} imports {bad}"


def test_the_check_sees_imports():
    """The walker resolves relative imports (a check that sees nothing would pass vacuously)."""
    assert "tunelab.studies.weight_decay" in _targets(PKG / "studies" / "__init__.py", "tunelab.studies")
    assert "tunelab._core" in _targets(PKG / "curvature.py", "tunelab")
