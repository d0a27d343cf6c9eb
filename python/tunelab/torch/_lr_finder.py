"""The progressive learning-rate finder on a real PyTorch training loop, leaving the model and
the optimizer as it found them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch

from .. import lr_range
from .._validation import check_callable, check_choice, check_int, check_real
from ._checks import as_batches, batch, check_model, cycle, loss_of, trainable_params

__all__ = ["lr_finder"]


def lr_finder(
    model: Any,
    optimizer: Any,
    loss_fn: Callable[..., Any],
    loader: Any,
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    step_mode: str = "exp",
    smooth: float = 0.98,
    diverge_factor: float = 4.0,
    accumulation_steps: int = 1,
    suggestion: str = "valley",
    skip_start: int | None = None,
    skip_end: int = 5,
) -> lr_range.LRFinderResult:
    """The learning-rate range test of torch-lr-finder and fastai's ``lr_find`` on a real
    training loop, by :func:`tunelab.lr_finder`; the model and the optimizer are restored
    afterwards, bit for bit.

    Step ``i`` sets every parameter group's rate to ``αᵢ = start_lr·(end_lr/start_lr)^{i/(K−1)}``,
    runs ``accumulation_steps`` forward/backward passes on the next batches (the loss divided
    by ``accumulation_steps``, as gradient accumulation does) and one ``optimizer.step()``, and
    records the mean of those batches' losses (computed before the step). The smoothing, the
    stop on divergence and the suggestion are :func:`tunelab.lr_finder`'s.

    Parameters
    ----------
    model : torch.nn.Module
        A CPU model. It is put in training mode for the test.
    optimizer : torch.optim.Optimizer
        An optimizer over (some of) the model's parameters; its moments and step counts
        evolve during the test as in training.
    loss_fn : callable
        ``loss_fn(outputs, targets) -> scalar tensor``.
    loader : iterable of (inputs, targets), or one pair
        The batches (a ``DataLoader``); a new pass is started whenever it runs out, so
        ``num_iter·accumulation_steps`` may exceed its length. A single pair is used at every
        step.
    start_lr, end_lr : float
        First and last rate, ``0 < start_lr < end_lr``.
    num_iter : int
        Number of steps ``K ≥ 2`` (fewer when the loss diverges).
    step_mode : {"exp"}
        The rates grow exponentially (the only schedule of :func:`tunelab.lr_finder`;
        torch-lr-finder's ``"linear"`` is not offered).
    smooth : float
        ``β`` of the loss's exponential moving average, in ``[0, 1)``.
    diverge_factor : float
        Stop when the smoothed loss exceeds this multiple (``> 1``) of its best.
    accumulation_steps : int
        Batches per optimizer step (``≥ 1``).
    suggestion, skip_start, skip_end
        The suggestion rule (``"valley"``, fastai's default, ``"steep"`` or ``"minimum"``) and
        the points skipped at either end, as in :func:`tunelab.lr_finder`.

    Returns
    -------
    LRFinderResult
        As :func:`tunelab.lr_finder`.

    Notes
    -----
    Before the test the model's and the optimizer's ``state_dict()`` are deep-copied (with
    every parameter's ``.grad`` and every module's training flag); after it, whether it ended
    or raised, they are loaded back, so parameters, buffers, moments, step counts and rates
    are the same bits as before. The global random state (dropout masks, a shuffling loader)
    is not restored.
    """
    model = check_model(model)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")
    check_callable("loss_fn", loss_fn)
    start_lr = check_real("start_lr", start_lr, minimum=0.0, strict_min=True)
    end_lr = check_real("end_lr", end_lr, minimum=0.0, strict_min=True)
    if end_lr <= start_lr:
        raise ValueError(f"end_lr must exceed start_lr; got start_lr={start_lr}, end_lr={end_lr}")
    num_iter = check_int("num_iter", num_iter, minimum=2)
    check_choice("step_mode", step_mode, ["exp"])
    accumulation_steps = check_int("accumulation_steps", accumulation_steps, minimum=1)
    trainable_params(model)  # refuses frozen and non-CPU models
    batches = cycle(as_batches(loader, "loader"), "loader")

    def step(lr: float) -> float:
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad()
        total = 0.0
        for _ in range(accumulation_steps):
            inputs, targets, _size = batch(next(batches), "loader")
            loss = loss_of(model, loss_fn, inputs, targets)
            (loss / accumulation_steps).backward()
            total += float(loss.detach())
        optimizer.step()
        return total / accumulation_steps

    saved = _Snapshot(model, optimizer)
    try:
        model.train()
        return lr_range.lr_finder(
            step, lr_min=start_lr, lr_max=end_lr, num_steps=num_iter, smooth=smooth, diverge_factor=diverge_factor,
            suggestion=suggestion, skip_start=skip_start, skip_end=skip_end,
        )
    finally:
        saved.restore()


class _Snapshot:
    """Deep copies of a model's and an optimizer's state (with gradients and training flags)."""

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.model, self.optimizer = model, optimizer
        self.model_state = copy.deepcopy(model.state_dict())
        self.optimizer_state = copy.deepcopy(optimizer.state_dict())
        params = {id(p): p for p in model.parameters()}
        params.update((id(p), p) for group in optimizer.param_groups for p in group["params"])
        self.grads = [(p, None if p.grad is None else p.grad.detach().clone()) for p in params.values()]
        self.training = [(m, m.training) for m in model.modules()]

    def restore(self) -> None:
        self.model.load_state_dict(self.model_state)
        self.optimizer.load_state_dict(self.optimizer_state)
        for p, g in self.grads:
            p.grad = g
        for m, flag in self.training:
            m.train(flag)
