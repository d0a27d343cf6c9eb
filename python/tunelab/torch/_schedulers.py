"""A tunelab batched optimizer seen as a ``torch.optim.Optimizer``, so that PyTorch's
learning-rate schedulers (``torch.optim.lr_scheduler``) drive its rate."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .. import optim

__all__ = ["TorchOptimizer", "as_torch_optimizer"]


class TorchOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` over a tunelab optimizer (:func:`as_torch_optimizer`).

    Attributes
    ----------
    optimizer : tunelab.optim.SGD, Adam or AdamW
        The optimizer stepped: ``step(grads)`` sets its ``lr`` and ``momentum`` (SGD) or
        ``betas`` (Adam, AdamW) from ``param_groups[0]`` (where a scheduler writes them; the
        momentum for ``OneCycleLR``'s ``cycle_momentum``) and calls its ``step(grads)``.
    """

    def __init__(self, optimizer: Any) -> None:
        if not isinstance(optimizer, (optim.SGD, optim.Adam)):  # AdamW is an Adam
            raise TypeError(
                f"optimizer must be a tunelab.optim.SGD, Adam or AdamW; got {type(optimizer).__name__} "
                f"(a torch optimizer needs no adapter)"
            )
        self.optimizer = optimizer
        group = {"lr": _value(optimizer.lr)}
        if isinstance(optimizer, optim.SGD):
            group["momentum"] = _value(optimizer.momentum)
        else:
            group["betas"] = tuple(_value(b) for b in optimizer.betas)
        super().__init__([torch.from_numpy(optimizer.params)], group)

    def step(self, grads: Any, closure: Any = None) -> Any:  # type: ignore[override]
        """Set the tunelab optimizer's ``lr`` from the parameter group and take one step on
        ``grads`` (shape ``(R, d)``, as :meth:`tunelab.optim.SGD.step` takes it); returns its
        :class:`tunelab.optim.StepInfo`. ``closure`` is refused (a batched step takes its
        gradients, it does not compute them)."""
        if closure is not None:
            raise TypeError("closure is not supported: pass the gradients, step(grads)")
        group, opt = self.param_groups[0], self.optimizer
        opt.lr = group["lr"]
        if isinstance(opt, optim.SGD):
            opt.momentum = group["momentum"]
        else:
            opt.betas = group["betas"]
        return self.optimizer.step(grads)

    def state_dict(self) -> dict[str, Any]:  # type: ignore[override]
        """The tunelab optimizer's :meth:`~tunelab.optim.SGD.state_dict` and the group's rate
        (a scheduler's own ``state_dict`` holds the schedule)."""
        group = {k: _copy(v) for k, v in self.param_groups[0].items() if k != "params"}
        return {"tunelab": self.optimizer.state_dict(), "group": group}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:  # type: ignore[override]
        """Restore what :meth:`state_dict` saved."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"tunelab", "group"}:
            raise ValueError("state_dict must be a dict from TorchOptimizer.state_dict() (keys tunelab, group)")
        self.optimizer.load_state_dict(state_dict["tunelab"])
        self.param_groups[0].update({k: _copy(v) for k, v in state_dict["group"].items()})


def _value(values: Any) -> Any:
    """One value for all replicas as a float (as torch's optimizers hold it), else the (R,) array."""
    arr = np.array(values, dtype=np.float64)
    first = float(arr[0]) if arr.size else 0.0
    return first if np.all(arr == first) else arr


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def as_torch_optimizer(optimizer: Any) -> TorchOptimizer:
    """A tunelab optimizer (``tunelab.optim.SGD``, ``Adam``, ``AdamW``) as a
    ``torch.optim.Optimizer``, so that ``torch.optim.lr_scheduler`` schedules its rate.

    The view has one parameter group whose only parameter is the ``(R, d)`` parameter array
    (shared, not copied), with ``"lr"`` and ``"momentum"`` (SGD) or ``"betas"`` (Adam, AdamW):
    floats when every replica has the same, else ``(R,)`` arrays. A scheduler writes the group's rate; ``step(grads)`` copies
    it into the tunelab optimizer and steps. Use it as torch's own::

        opt = tunelab.optim.AdamW(params, lr=1e-3)
        view = tunelab.torch.as_torch_optimizer(opt)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(view, T_max=100)
        for t in range(100):
            view.step(grads_at(params))
            sched.step()

    A per-replica ``(R,)`` rate works with every scheduler that scales the rate it finds
    (``StepLR``, ``MultiStepLR``, ``ExponentialLR``, ``LambdaLR``, ``CosineAnnealingLR``,
    ``LinearLR``, ...): each replica follows the schedule from its own rate. Schedulers that
    convert the rate to a float (``ReduceLROnPlateau``) need one rate for all replicas.
    """
    return TorchOptimizer(optimizer)
