"""Argument checks whose messages name the argument and say what was wrong."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "as_array",
    "check_int",
    "check_real",
    "check_choice",
    "check_enum",
    "check_bool",
    "per_replica",
    "check_callable",
    "check_alloc",
    "check_out",
    "broadcast_shape",
    "scalar_or_array",
]

#: Larger outputs are refused outright (NumPy's own errors for them do not name the argument);
#: smaller ones that do not fit in memory raise NumPy's MemoryError.
MAX_ALLOC_BYTES = 2**62


def as_array(
    x: Any,
    name: str,
    *,
    dtype: Any = np.float64,
    ndim: int | Iterable[int] | None = None,
    finite: bool = True,
    allow_empty: bool = False,
) -> np.ndarray:
    """Convert ``x`` to a C-contiguous array of ``dtype``, refusing what the kernels cannot take.

    A 0-d input stays 0-d (``np.ascontiguousarray`` would make it ``(1,)``), so a function that
    broadcasts its inputs can give NumPy's convention back with :func:`scalar_or_array`.
    Raises ``TypeError`` for objects that are not numeric arrays and ``ValueError`` for the
    wrong number of dimensions, empty arrays or non-finite values (when ``finite``).
    """
    if callable(x) and not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be an array; got a callable {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-dimensional" for d in allowed)
            raise ValueError(f"{name} must be {want}; got shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    arr = np.asarray(arr, dtype=dtype, order="C")
    if finite and arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return arr


def broadcast_shape(**arrays: np.ndarray | None) -> tuple[int, ...]:
    """The broadcast shape of the named arrays (``None``: absent), or a ``ValueError`` naming them."""
    given = {k: v for k, v in arrays.items() if v is not None}
    try:
        return np.broadcast_shapes(*(v.shape for v in given.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {v.shape}" for k, v in given.items())
        raise ValueError(f"{', '.join(given)} must broadcast together; got shapes {shapes}") from None


def scalar_or_array(out: Any) -> Any:
    """NumPy's convention for results: a Python float for a 0-d result, else the array itself."""
    return float(out) if np.ndim(out) == 0 else out


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int, refusing bools, floats and values out of range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {v}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name} must be <= {maximum}; got {v}")
    return v


def check_real(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
    strict_max: bool = False,
) -> float:
    """Return ``value`` as a finite float within the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite; got {v}")
    if minimum is not None and (v <= minimum if strict_min else v < minimum):
        raise ValueError(f"{name} must be {'>' if strict_min else '>='} {minimum}; got {v}")
    if maximum is not None and (v >= maximum if strict_max else v > maximum):
        raise ValueError(f"{name} must be {'<' if strict_max else '<='} {maximum}; got {v}")
    return v


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def check_enum(name: str, value: Any, enum: Any) -> Any:
    """The member of a compiled ``enum`` (a ``_core`` kind) named ``value``."""
    return enum.__members__[check_choice(name, value, enum.__members__)]


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {type(value).__name__}")
    return value


def per_replica(
    name: str,
    value: Any,
    R: int,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
) -> np.ndarray:
    """``value`` (a scalar or an ``(R,)`` array) as a contiguous float64 ``(R,)`` array within bounds."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number or an (R,) array; got bool")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):  # ragged sequences
        raw = np.empty(0, dtype=object)
    if raw.dtype.kind not in "iuf":  # complex, strings, objects, bools
        raise TypeError(f"{name} must be a real number or an (R,) array; got {type(value).__name__} of dtype {raw.dtype}")
    arr = raw.astype(np.float64)
    if arr.ndim == 0:
        arr = np.full(R, float(arr))
    elif arr.shape != (R,):
        raise ValueError(f"{name} must be a scalar or have shape (R,) = ({R},); got shape {arr.shape}")
    else:
        arr = np.ascontiguousarray(arr)
    if np.any(np.isnan(arr)) or (not allow_inf and not np.all(np.isfinite(arr))):
        raise ValueError(f"{name} must be finite (no NaN{'' if allow_inf else ' or inf'})")
    if low is not None and np.any(arr <= low if low_open else arr < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}; got min {arr.min()}")
    if high is not None and np.any(arr >= high if high_open else arr > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}; got max {arr.max()}")
    return arr


def check_alloc(name: str, shape: Iterable[int], itemsize: int = 8) -> None:
    """Refuse an output of ``shape`` (set by argument ``name``) that no machine can allocate."""
    shape = tuple(int(s) for s in shape)
    n = 1
    for s in shape:
        n *= s
    if n * itemsize > MAX_ALLOC_BYTES:
        raise ValueError(f"{name} is too large: an output of shape {shape} ({n * itemsize:.3g} bytes) cannot be allocated")


def check_out(out: Any, shape: tuple[int, ...] | None = None, symbolic: str = "") -> np.ndarray:
    """Return ``out`` itself if a kernel can fill it in place: a float64 ndarray, C-contiguous and
    writeable, of exactly ``shape`` when given (``symbolic`` names it in the message, e.g. "(n, d)").

    Wrong types and dtypes raise ``TypeError``, the wrong shape, layout or a read-only array
    ``ValueError``; every message names ``out``.
    """
    if not isinstance(out, np.ndarray) or out.dtype != np.float64:
        got = out.dtype if isinstance(out, np.ndarray) else type(out).__name__
        raise TypeError(f"out must be a float64 numpy array; got {got}")
    if shape is not None and out.shape != tuple(shape):
        raise ValueError(f"out must have shape {symbolic + ' = ' if symbolic else ''}{tuple(shape)}; got {out.shape}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous (it is filled in place)")
    if not out.flags.writeable:
        raise ValueError("out must be writeable (it is filled in place)")
    return out


def check_callable(name: str, value: Any) -> Any:
    """Return ``value`` if it is callable."""
    if not callable(value):
        raise TypeError(f"{name} must be callable; got {type(value).__name__}")
    return value
