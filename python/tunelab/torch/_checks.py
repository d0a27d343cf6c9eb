"""What the PyTorch adapters check and share: the model and its trainable parameters, the
batches of a data set, and the loss a ``loss_fn`` returns."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch


def check_model(model: Any) -> torch.nn.Module:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    return model


def _on_cpu(name: str, t: torch.Tensor) -> None:
    if t.device.type != "cpu":
        raise ValueError(
            f"{name} is on device {t.device}; tunelab.torch supports CPU models and tensors only "
            f"(move them with .cpu())"
        )


def trainable_params(model: torch.nn.Module, params: Iterable[Any] | None = None) -> list[torch.Tensor]:
    """``params`` (default: the model's parameters that require grad), checked: tensors that
    require grad, each once, all on the CPU, at least one."""
    named = {id(p): name for name, p in model.named_parameters()}
    chosen: list[torch.Tensor]
    if params is None:
        chosen = [p for p in model.parameters() if p.requires_grad]
        if not chosen:
            raise ValueError("model has no parameters that require grad (were they frozen with requires_grad_(False)?)")
    else:
        if isinstance(params, torch.Tensor):
            params = [params]
        chosen = list(params)
        if not chosen:
            raise ValueError("params must name at least one parameter; got none")
        for i, p in enumerate(chosen):
            if not isinstance(p, torch.Tensor):
                raise TypeError(f"params[{i}] must be a torch tensor; got {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(f"params[{i}] does not require grad")
        if len({id(p) for p in chosen}) != len(chosen):
            raise ValueError("params must not name a parameter twice")
    for i, p in enumerate(chosen):
        _on_cpu(f"parameter {named.get(id(p), f'params[{i}]')!r}", p)
        if not p.is_floating_point():
            raise TypeError(f"parameter {named.get(id(p), f'params[{i}]')!r} must be floating point; got {p.dtype}")
    return chosen


def _is_pair(data: Any) -> bool:
    return isinstance(data, (tuple, list)) and len(data) == 2 and isinstance(data[0], torch.Tensor)


def as_batches(data: Any, name: str = "data") -> Iterable[Any]:
    """One ``(inputs, targets)`` pair as a one-batch list; a one-shot iterator (a generator)
    read into a list, so that it can be passed over again; anything else iterable as it is
    (a ``DataLoader``, a list of pairs)."""
    if _is_pair(data):
        return [tuple(data)]
    try:
        it = iter(data)
    except TypeError:
        raise TypeError(
            f"{name} must be an (inputs, targets) pair of tensors or an iterable of them (a DataLoader); "
            f"got {type(data).__name__}"
        ) from None
    return list(it) if it is data else data


def batch(item: Any, name: str = "data") -> tuple[torch.Tensor, Any, int]:
    """``(inputs, targets, batch size)`` of one item of the data, checked."""
    if not _is_pair(item):
        raise TypeError(
            f"each batch of {name} must be an (inputs, targets) pair whose inputs are a tensor; "
            f"got {type(item).__name__}"
        )
    inputs, targets = item
    for what, t in (("inputs", inputs), ("targets", targets)):
        if isinstance(t, torch.Tensor):
            _on_cpu(f"a batch's {what}", t)
    if inputs.ndim == 0 or inputs.shape[0] == 0:
        raise ValueError(f"a batch's inputs must have a leading batch axis of length >= 1; got shape {tuple(inputs.shape)}")
    return inputs, targets, int(inputs.shape[0])


def loss_of(model: torch.nn.Module, loss_fn: Callable[..., Any], inputs: torch.Tensor, targets: Any) -> torch.Tensor:
    """``loss_fn(model(inputs), targets)`` with grad enabled, checked to be a real scalar tensor
    that depends on the parameters."""
    with torch.enable_grad():
        loss = loss_fn(model(inputs), targets)
    if not isinstance(loss, torch.Tensor):
        raise TypeError(
            f"loss_fn must return a scalar torch tensor (not a Python number: no .item()); got {type(loss).__name__}"
        )
    if loss.numel() != 1 or loss.ndim > 1:
        raise ValueError(
            f"loss_fn must return a scalar (the batch's mean loss, reduction='mean'); got shape {tuple(loss.shape)}"
        )
    if not loss.is_floating_point():
        raise TypeError(f"loss_fn must return a floating-point tensor; got {loss.dtype}")
    if not loss.requires_grad:
        raise ValueError(
            "the loss does not depend on the parameters (was it detached, or computed under torch.no_grad()?)"
        )
    return loss.reshape(())


def cycle(batches: Iterable[Any], name: str) -> Iterator[Any]:
    """The batches over and over, starting a new pass (a new ``iter``) when one runs out."""
    while True:
        empty = True
        for item in batches:
            empty = False
            yield item
        if empty:
            raise ValueError(f"{name} yielded no batch")
