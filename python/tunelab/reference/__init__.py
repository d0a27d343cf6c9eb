"""Plain NumPy versions of every kernel: the tests' and the bench's baseline.

One module per area, with the same names as the compiled kernels' public wrappers. They are
written for clarity, not speed.
"""

from __future__ import annotations

from .rng import philox4x32_10, standard_normal, uniform
from .early_stop import (
    patience_stopping,
    patience_tradeoff,
    stop_probabilities,
    stopping_distribution,
    threshold_for_reliability,
)

__all__ = ["philox4x32_10", "standard_normal", "uniform"]
__all__ += [
    "stopping_distribution",
    "threshold_for_reliability",
    "patience_stopping",
    "patience_tradeoff",
    "stop_probabilities",
]
