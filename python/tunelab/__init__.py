"""tunelab: hyperparameter tuning as measurable science.

Fast, tested kernels (C++17 + OpenMP behind pybind11) for the mechanisms of hyperparameter
tuning: curvature and stability, learning-rate range tests, batch size and noise, scaling
laws, early-stopping reliability, Adam vs AdamW, clipping, Sobol sensitivity and the
transfer of tuned rates across tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

try:
    from . import _core
except ImportError as exc:  # pragma: no cover - only on a broken install
    raise ImportError(
        "tunelab's compiled extension tunelab._core could not be imported. If you are working "
        "from a source checkout, install it first: python -m pip install -e '.[test]' "
        f"(original error: {exc})"
    ) from exc

from . import optim
from .curvature import *  # noqa: F403
from .early_stop import *  # noqa: F403
from .lr_range import *  # noqa: F403
from .optim import effective_lr  # the optimizers stay namespaced: tunelab.optim.AdamW, ...
from .quadratic import *  # noqa: F403
from .rank import *  # noqa: F403
from .rng import *  # noqa: F403
from .scaling import *  # noqa: F403
from .search import *  # noqa: F403
from .sobol import *  # noqa: F403
from .spectrum import *  # noqa: F403
from .studies import *  # noqa: F403
from .transfer import *  # noqa: F403

if TYPE_CHECKING:  # at run time loaded on first use (__getattr__ below)
    from . import reference

__version__ = "0.1.0"


def openmp_enabled() -> bool:
    """Whether the compiled core was built with OpenMP (otherwise every kernel runs serially)."""
    return bool(_core.openmp_enabled())


def __getattr__(name: str) -> object:
    """``tunelab.reference`` (the NumPy references the tests check against) on first use:
    ``import tunelab`` does not load it."""
    if name == "reference":
        import importlib

        return importlib.import_module(f"{__name__}.reference")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _public(module_name: str) -> list[str]:
    import importlib

    return list(importlib.import_module(f"{__name__}.{module_name}").__all__)


# One line per area, in the order of the chapter (SCIENCE.md sections 1-9).
__all__ = [
    "__version__",
    "openmp_enabled",
    "reference",
    "optim",
    "effective_lr",
    *_public("rng"),
    *_public("curvature"),  # 1. curvature and stability
    *_public("spectrum"),
    *_public("lr_range"),  # 2. learning-rate range test
    *_public("quadratic"),  # 3. batch size, accumulation, steady state
    *_public("studies.accumulation"),
    *_public("scaling"),  # 4. batch-size scaling law
    *_public("studies.batch_scaling"),
    *_public("early_stop"),  # 5. early-stopping reliability
    *_public("studies.patience"),
    *_public("studies.weight_decay"),  # 6. Adam (L2) vs AdamW
    *_public("search"),  # 7. clipping x learning rate, grid and random search
    *_public("studies.clipping"),
    *_public("sobol"),  # 8. Sobol sensitivity
    *_public("rank"),  # 9. transfer across tasks
    *_public("transfer"),
    *_public("studies.transfer"),
]


def __dir__() -> list[str]:
    return __all__
