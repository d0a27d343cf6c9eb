"""Plain NumPy versions of every kernel: the tests' and the bench's baseline.

One module per area, with the same names as the compiled kernels' public wrappers. They are
written for clarity, not speed.
"""

from __future__ import annotations

from .rng import philox4x32_10, standard_normal, uniform
from . import optim
from .optim import effective_lr
from .quadratic import simulate_quadratic, steady_state_loss

from .curvature import gd_quadratic, hutchinson_trace, rademacher, stability_bound, top_eigenvalue
from .lr_range import lr_finder, lr_range_test, lr_range_test_quadratic

__all__ = [
    "philox4x32_10",
    "standard_normal",
    "uniform",
    "top_eigenvalue",
    "stability_bound",
    "gd_quadratic",
    "hutchinson_trace",
    "rademacher",
    "lr_range_test",
    "lr_range_test_quadratic",
    "lr_finder",
    "optim",
    "effective_lr",
    "simulate_quadratic",
    "steady_state_loss",
]
