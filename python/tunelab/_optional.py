"""Lazy imports of optional dependencies, with a message that says which extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["optional_module"]

_EXTRA = {
    "matplotlib": "report",
    "matplotlib.pyplot": "report",
    "pandas": "pandas",
    "tqdm": "progress",
    "tqdm.auto": "progress",
    "distributed": "dask",
    "dask": "dask",
}


def optional_module(name: str, purpose: str) -> ModuleType:
    """Import ``name`` or raise ``ModuleNotFoundError`` naming the extra that provides it."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        extra = _EXTRA.get(name, name.split(".")[0])
        raise ModuleNotFoundError(
            f"{purpose} needs the optional package {name.split('.')[0]!r}: "
            f"pip install 'tunelab[{extra}]'"
        ) from exc
