"""The README's quickstart runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_TEXT = README.read_text(encoding="utf-8")
_QUICKSTART = _TEXT[_TEXT.index("## Quickstart") : _TEXT.index("\n## ", _TEXT.index("## Quickstart") + 1)]
BLOCKS = re.findall(r"```python\n(.*?)```", _QUICKSTART, flags=re.S)


def test_readme_has_python_blocks():
    assert BLOCKS


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_readme_block_runs(i, capsys):
    exec(compile(BLOCKS[i], f"README.md block {i}", "exec"), {})


def _layout_paths() -> list[Path]:
    """Every file or folder the README's Layout block names (first word of each line, nested
    under the last folder above it with less indentation)."""
    block = re.search(r"### Layout\n.*?```\n(.*?)```", _TEXT, flags=re.S)
    assert block, "README.md has a '### Layout' section with a tree"
    root, stack, paths = README.parent, [], []
    for line in block.group(1).splitlines():
        word = line.split()[0] if line.strip() else ""
        depth = len(line) - len(line.lstrip())
        if not re.fullmatch(r"[\w./-]+", word) or "." not in word and not word.endswith("/") or depth > 16:
            continue  # a description's continuation, or an <area> pattern
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1] if stack else root
        path = parent / word
        paths.append(path)
        if word.endswith("/"):
            stack.append((depth, path))
    return paths


def test_readme_layout_matches_the_tree():
    """Every path the README's Layout names exists, and every folder of python/tunelab and
    every header of cpp/include/tunelab is named there (or covered by an <area> line)."""
    paths = _layout_paths()
    missing = [str(p.relative_to(README.parent)) for p in paths if not p.exists()]
    assert not missing, f"README Layout names paths that do not exist: {missing}"
    named = {p.resolve() for p in paths}
    pkg = README.parent / "python" / "tunelab"
    folders = [d for d in pkg.iterdir() if d.is_dir() and not d.name.startswith("__")]
    assert not [d.name for d in folders if d.resolve() not in named], "a package folder missing from README Layout"
