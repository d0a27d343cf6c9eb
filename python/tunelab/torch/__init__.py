"""Adapters for PyTorch models (``pip install "tunelab[torch]"``): Hessian-vector products for
the curvature tools, the learning-rate finder on a real training loop, per-example
gradients for the gradient noise scale, and the batched optimizers as torch optimizers (for
torch's learning-rate schedulers).

Imported only when used: ``import tunelab`` never imports torch. Every function here works on
CPU models and tensors (a model or a batch elsewhere is refused with a ``ValueError``), and
hands NumPy float64 arrays to the core.
"""

from __future__ import annotations

from .._optional import optional_module

optional_module("torch", "tunelab.torch")

from ._grads import gradient_noise_scale, per_example_grads
from ._hvp import HessianMatVec, hessian_matvec
from ._lr_finder import lr_finder
from ._schedulers import TorchOptimizer, as_torch_optimizer

__all__ = [
    "HessianMatVec", "hessian_matvec", "lr_finder", "per_example_grads", "gradient_noise_scale",
    "TorchOptimizer", "as_torch_optimizer",
]  # fmt: skip


def __dir__() -> list[str]:
    return __all__
