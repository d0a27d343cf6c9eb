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
from . import optim
from .optim import effective_lr
from .quadratic import QuadraticResult, accumulation_study, simulate_quadratic, steady_state_loss
from .search import Grid, LogUniform, SearchResult, Uniform, clipping_study, grid_search, random_search
from .weight_decay import weight_decay_study
from .curvature import (
    EigenResult,
    HutchinsonResult,
    gd_quadratic,
    hutchinson_trace,
    stability_bound,
    top_eigenvalue,
)
from .lr_range import LRFinderResult, LRRangeResult, lr_finder, lr_range_test, lr_range_test_quadratic

# scaling, rank and transfer (issue 6)
from .rank import ConstantInputWarning, spearman_matrix
from .scaling import (
    BatchScalingStudy,
    NoiseScale,
    PowerLawFit,
    SGDQuadraticObjective,
    batch_scaling_study,
    fit_power_law,
    gradient_noise_scale,
)
from .transfer import TransferStudy, arcsine_spearman, transfer_study
from .early_stop import (
    PatienceStopping,
    PatienceTradeoff,
    StoppingDistribution,
    ThresholdChoice,
    patience_stopping,
    patience_tradeoff,
    stopping_distribution,
    threshold_for_reliability,
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
    "optim",
    "effective_lr",
    "simulate_quadratic",
    "steady_state_loss",
    "QuadraticResult",
    "Grid",
    "Uniform",
    "LogUniform",
    "grid_search",
    "random_search",
    "SearchResult",
    "accumulation_study",
    "clipping_study",
    "weight_decay_study",
    "EigenResult",
    "HutchinsonResult",
    "top_eigenvalue",
    "stability_bound",
    "gd_quadratic",
    "hutchinson_trace",
    "LRRangeResult",
    "LRFinderResult",
    "lr_range_test",
    "lr_range_test_quadratic",
    "lr_finder",
    # scaling, rank and transfer (issue 6)
    "BatchScalingStudy",
    "ConstantInputWarning",
    "NoiseScale",
    "PowerLawFit",
    "SGDQuadraticObjective",
    "TransferStudy",
    "arcsine_spearman",
    "batch_scaling_study",
    "fit_power_law",
    "gradient_noise_scale",
    "spearman_matrix",
    "transfer_study",
    "StoppingDistribution",
    "ThresholdChoice",
    "PatienceStopping",
    "PatienceTradeoff",
    "stopping_distribution",
    "threshold_for_reliability",
    "patience_stopping",
    "patience_tradeoff",
]


def __dir__() -> list[str]:
    return __all__
