"""Plain NumPy versions of every kernel: the tests' and the bench's baseline.

One module per area, with the same names as the compiled kernels' public wrappers. They are
written for clarity, not speed.
"""

from __future__ import annotations

from .rng import philox4x32_10, standard_normal, uniform

__all__ = ["philox4x32_10", "standard_normal", "uniform"]

# scaling, rank and transfer (issue 6)
from .rank import rankdata, spearman_matrix  # noqa: E402
from .scaling import power_law_ols, sgd_quadratic_expected_loss, sgd_quadratic_scores  # noqa: E402
from .transfer import transfer_grid_search, transfer_study  # noqa: E402

__all__ += [
    "rankdata",
    "spearman_matrix",
    "power_law_ols",
    "sgd_quadratic_expected_loss",
    "sgd_quadratic_scores",
    "transfer_grid_search",
    "transfer_study",
]
