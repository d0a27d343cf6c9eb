"""The base of every result class: frozen, readable repr, ``to_frame()`` and ``plot()`` hooks."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ._optional import optional_module

__all__ = ["Result", "get_axes", "short_repr"]


def short_repr(value: Any) -> str:
    """A field's value in a repr: 6 significant digits, small arrays on one line, large ones as a shape."""
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return " ".join(np.array2string(value, precision=6, separator=", ").split())
        return f"array(shape={value.shape}, dtype={value.dtype})"
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}"
    if isinstance(value, tuple) and len(value) <= 6:
        return f"({', '.join(map(short_repr, value))}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict) and len(value) <= 6:
        return "{" + ", ".join(f"{k!r}: {short_repr(v)}" for k, v in value.items()) + "}"
    return repr(value)


class Result:
    """Mixin for frozen dataclasses: a compact repr and the optional pandas/matplotlib hooks."""

    def __repr__(self) -> str:
        fields = (f"{f.name}={short_repr(getattr(self, f.name))}" for f in dataclasses.fields(self))  # type: ignore[arg-type]
        return f"{type(self).__name__}({', '.join(fields)})"

    def _frame_columns(self) -> dict[str, Any]:
        """Columns of ``to_frame()``: by default, every 1-d field of the leading length; a result
        without 1-d fields gives one row of its scalar fields."""
        cols: dict[str, Any] = {}
        length = None
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray) and v.ndim == 1:
                if length is None:
                    length = v.shape[0]
                if v.shape[0] == length:
                    cols[f.name] = v
        if not cols:
            for f in dataclasses.fields(self):  # type: ignore[arg-type]
                v = getattr(self, f.name)
                if isinstance(v, (int, float, str, np.number, np.bool_)):
                    cols[f.name] = [v]
        return cols

    def to_frame(self) -> Any:
        """The result as a ``pandas.DataFrame`` (needs the ``pandas`` extra)."""
        pd = optional_module("pandas", f"{type(self).__name__}.to_frame()")
        return pd.DataFrame(self._frame_columns())


def get_axes(ax: Any = None) -> Any:
    """Return ``ax`` or a new matplotlib axes (needs the ``report`` extra: matplotlib)."""
    if ax is not None:
        return ax
    plt = optional_module("matplotlib.pyplot", "plot()")
    _, ax = plt.subplots()
    return ax
