"""The base of every result class: frozen, readable repr, ``to_frame()`` and ``plot()`` hooks."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ._optional import optional_module

__all__ = ["Result", "get_axes"]


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= 6:
            return np.array2string(value, precision=6, separator=", ")
        return f"array(shape={value.shape}, dtype={value.dtype})"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


class Result:
    """Mixin for frozen dataclasses: a compact repr and the optional pandas/matplotlib hooks."""

    def __repr__(self) -> str:
        fields = (f"{f.name}={_short(getattr(self, f.name))}" for f in dataclasses.fields(self))  # type: ignore[arg-type]
        return f"{type(self).__name__}({', '.join(fields)})"

    def _frame_columns(self) -> dict[str, Any]:
        """Columns of ``to_frame()``: by default, every 1-d field of the leading length."""
        cols: dict[str, Any] = {}
        length = None
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray) and v.ndim == 1:
                if length is None:
                    length = v.shape[0]
                if v.shape[0] == length:
                    cols[f.name] = v
        return cols

    def to_frame(self) -> Any:
        """The result as a ``pandas.DataFrame`` (needs the ``report`` extra)."""
        pd = optional_module("pandas", f"{type(self).__name__}.to_frame()")
        return pd.DataFrame(self._frame_columns())


def get_axes(ax: Any = None) -> Any:
    """Return ``ax`` or a new matplotlib axes (needs the ``report`` extra)."""
    if ax is not None:
        return ax
    plt = optional_module("matplotlib.pyplot", "plot()")
    _, ax = plt.subplots()
    return ax
