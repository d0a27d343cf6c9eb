"""tunelab: hyperparameter tuning as measurable science.

Fast, tested kernels (C++17 + OpenMP behind pybind11) for the mechanisms of hyperparameter
tuning: curvature and stability, learning-rate range tests, batch size and noise, scaling
laws, early-stopping reliability, Adam vs AdamW, clipping, Sobol sensitivity and the
transfer of tuned rates across tasks.
"""

from __future__ import annotations

try:
    from . import _core
except ImportError as exc:  # pragma: no cover - only on a broken install
    raise ImportError(
        "tunelab's compiled extension tunelab._core could not be imported. If you are working "
        "from a source checkout, install it first: python -m pip install -e '.[test]' "
        f"(original error: {exc})"
    ) from exc

from . import reference
from .rng import standard_normal, uniform
from .sobol import (
    Problem,
    SobolResult,
    saltelli_sample,
    sobol_analyze,
    sobol_g,
    sobol_g_indices,
    sobol_indices,
    sobol_points,
)

__version__ = "0.1.0"


def openmp_enabled() -> bool:
    """Whether the compiled core was built with OpenMP (otherwise every kernel runs serially)."""
    return bool(_core.openmp_enabled())


__all__ = [
    "__version__",
    "openmp_enabled",
    "reference",
    "standard_normal",
    "uniform",
    "Problem",
    "SobolResult",
    "saltelli_sample",
    "sobol_analyze",
    "sobol_g",
    "sobol_g_indices",
    "sobol_indices",
    "sobol_points",
]


def __dir__() -> list[str]:
    return __all__
