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
