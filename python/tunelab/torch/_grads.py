"""Per-example gradients of a PyTorch model (``torch.func``), and the gradient noise scale on
top of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.func import functional_call, grad, vmap

from .. import scaling
from .._validation import check_callable
from ._checks import as_batches, batch, check_model, loss_of, trainable_params

__all__ = ["per_example_grads", "gradient_noise_scale"]


def per_example_grads(model: Any, loss_fn: Callable[..., Any], inputs: Any, targets: Any) -> np.ndarray:
    """The gradient of the loss of each example by itself, as a NumPy ``(n, d)`` float64 array.

    Row ``i`` is ``∇_θ loss_fn(model(inputs[i:i+1]), targets[i:i+1])``, flattened over the
    model's parameters that require grad, in ``model.parameters()`` order (the order of
    :func:`hessian_matvec`'s vector), computed for all ``i`` at once by ``torch.func``
    (``vmap`` of ``grad`` of a ``functional_call``), in the model's dtype.

    Parameters
    ----------
    model : torch.nn.Module
        A CPU model in a mode ``vmap`` can batch: call ``model.eval()`` first when it has
        dropout or batch norm (a batch of one has no batch statistics).
    loss_fn : callable
        ``loss_fn(outputs, targets) -> scalar tensor``, called on batches of one example.
    inputs : torch.Tensor (n, ...)
        The examples, along the first axis.
    targets : torch.Tensor (n, ...)
        Their targets, along the first axis.

    Returns
    -------
    ndarray (n, d)
        ``d`` is the number of trainable parameters. Memory: ``n·d`` values in the model's
        dtype plus ``8·n·d`` bytes for the float64 copy.
    """
    model = check_model(model)
    check_callable("loss_fn", loss_fn)
    params = trainable_params(model)
    inputs, targets, n = batch((inputs, targets), "inputs, targets")
    if not isinstance(targets, torch.Tensor) or targets.ndim == 0 or targets.shape[0] != n:
        raise ValueError(f"targets must be a tensor with a first axis of length {n}, as inputs")
    loss_of(model, loss_fn, inputs[:1], targets[:1])  # a wrong loss fails here, with its message
    trainable = {id(p) for p in params}
    theta = {name: p.detach() for name, p in model.named_parameters() if id(p) in trainable}
    fixed: dict[str, torch.Tensor] = {name: p for name, p in model.named_parameters() if id(p) not in trainable}
    fixed.update(model.named_buffers())

    def loss_one(theta: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, {**theta, **fixed}, (x.unsqueeze(0),))
        return loss_fn(out, y.unsqueeze(0))

    with torch.enable_grad():
        g = vmap(grad(loss_one), in_dims=(None, 0, 0))(theta, inputs, targets)
    return torch.cat([g[name].reshape(n, -1) for name in theta], dim=1).to(torch.float64).numpy()


def gradient_noise_scale(model: Any, loss_fn: Callable[..., Any], data: Any) -> scaling.NoiseScale:
    """The gradient noise scale ``B_simple = tr Σ / |G|²`` of a PyTorch model on a data set
    (McCandlish et al. 2018), from its per-example gradients.

    The per-example gradients of every batch of ``data`` (:func:`per_example_grads`) are
    stacked into one ``(N, d)`` array and passed to
    :func:`tunelab.gradient_noise_scale` (``per_example_grads=``), whose unbiased estimators
    of ``tr Σ`` and ``|G|²`` they feed.

    Parameters
    ----------
    model, loss_fn
        As in :func:`per_example_grads`.
    data : (inputs, targets) pair, or iterable of them
        One batch, or batches such as a ``DataLoader``; at least two examples in all.

    Returns
    -------
    NoiseScale
        As :func:`tunelab.gradient_noise_scale`. Memory: ``8·N·d`` bytes for the gradients.
    """
    rows = []
    for item in as_batches(data):
        inputs, targets, _size = batch(item)
        rows.append(per_example_grads(model, loss_fn, inputs, targets))
    if not rows:
        raise ValueError("data yielded no batch")
    return scaling.gradient_noise_scale(per_example_grads=np.concatenate(rows))
