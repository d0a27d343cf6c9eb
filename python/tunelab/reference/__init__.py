"""Plain NumPy versions of every kernel: the tests' and the bench's baseline.

One module per area, with the same names as the compiled kernels' public wrappers. They are
written for clarity, not speed. Each area's module lists its names in ``__all__``.
"""

from __future__ import annotations

from . import curvature, early_stop, lr_range, optim, quadratic, rank, rng, scaling, sobol, transfer
from .curvature import *  # noqa: F403
from .early_stop import *  # noqa: F403
from .lr_range import *  # noqa: F403
from .optim import effective_lr  # the optimizers stay namespaced: reference.optim.SGD, ...
from .quadratic import *  # noqa: F403
from .rank import *  # noqa: F403
from .rng import *  # noqa: F403
from .scaling import *  # noqa: F403
from .sobol import *  # noqa: F403
from .transfer import *  # noqa: F403

__all__ = [
    *rng.__all__,
    *curvature.__all__,
    *lr_range.__all__,
    *scaling.__all__,
    *rank.__all__,
    *transfer.__all__,
    *early_stop.__all__,
    "optim",
    "effective_lr",
    *quadratic.__all__,
    *sobol.__all__,
]
