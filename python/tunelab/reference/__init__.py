"""Plain NumPy versions of every kernel: the tests' and the bench's baseline.

One module per area, with the same names as the compiled kernels' public wrappers. They are
written for clarity, not speed.
"""

from __future__ import annotations

from .rng import philox4x32_10, standard_normal, uniform
from .sobol import (
    saltelli_sample,
    sobol_direction_integers,
    sobol_g,
    sobol_g_indices,
    sobol_indices,
    sobol_lms,
    sobol_points,
    sobol_scramble_matrices,
)

__all__ = [
    "philox4x32_10",
    "standard_normal",
    "uniform",
    "saltelli_sample",
    "sobol_direction_integers",
    "sobol_g",
    "sobol_g_indices",
    "sobol_indices",
    "sobol_lms",
    "sobol_points",
    "sobol_scramble_matrices",
]
