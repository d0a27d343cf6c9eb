"""Hessian-vector products of a PyTorch model's mean loss, as the NumPy matvec the curvature
tools take (``top_eigenvalue``, ``hutchinson_trace``, ...)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch

from .._validation import as_array, check_callable
from ._checks import as_batches, batch, check_model, loss_of, trainable_params

__all__ = ["HessianMatVec", "hessian_matvec"]


class HessianMatVec:
    """``v ↦ Hv`` for the Hessian ``H`` of a model's mean loss over a data set; see
    :func:`hessian_matvec`.

    Attributes
    ----------
    n : int
        The number of parameters (the length of ``v``).
    params : list of torch.Tensor
        The parameters, in the order their entries take in ``v``.
    """

    def __init__(
        self, model: Any, loss_fn: Callable[..., Any], data: Any, params: Iterable[Any] | None = None
    ) -> None:
        self.model = check_model(model)
        self.loss_fn = check_callable("loss_fn", loss_fn)
        self.params = trainable_params(self.model, params)
        self.n = sum(p.numel() for p in self.params)
        self.data = as_batches(data)
        first = next(iter(self.data), None)  # a wrong loss or batch fails here, not inside a solver
        if first is None:
            raise ValueError("data yielded no batch")
        loss_of(self.model, self.loss_fn, *batch(first)[:2])

    def __call__(self, v: Any) -> np.ndarray:
        """``H v`` for a flat float64 vector ``v`` of length ``n``, as a new float64 array."""
        flat = torch.from_numpy(self._vector(v))
        sizes = [p.numel() for p in self.params]
        parts = [u.view_as(p).to(p.dtype) for u, p in zip(torch.split(flat, sizes), self.params)]
        acc = torch.zeros(self.n, dtype=torch.float64)
        total = 0
        for item in self.data:
            inputs, targets, size = batch(item)
            acc += size * self._batch_product(inputs, targets, parts)
            total += size
        if total == 0:
            raise ValueError("data yielded no batch")
        return (acc / total).numpy()

    def _batch_product(self, inputs: torch.Tensor, targets: Any, parts: list[torch.Tensor]) -> torch.Tensor:
        """``∇²L_b · v`` of one batch by double backward (Pearlmutter 1994), in float64."""
        with torch.enable_grad():
            loss = loss_of(self.model, self.loss_fn, inputs, targets)
            grads = torch.autograd.grad(loss, self.params, create_graph=True, allow_unused=True)
            terms = [(g * u).sum() for g, u in zip(grads, parts) if g is not None and g.requires_grad]
            hv: Any = [None] * len(parts)  # no term: the gradient does not depend on the parameters, H = 0
            if terms:
                hv = torch.autograd.grad(sum(terms[1:], terms[0]), self.params, allow_unused=True)
        return torch.cat([
            torch.zeros(p.numel(), dtype=torch.float64) if h is None else h.reshape(-1).to(torch.float64)
            for h, p in zip(hv, self.params)
        ])  # fmt: skip

    def _vector(self, v: Any) -> np.ndarray:
        if isinstance(v, (list, tuple)) and any(isinstance(t, torch.Tensor) for t in v):
            raise TypeError(
                f"v must be one flat vector of length n = {self.n}, not a list of tensors (PyHessian's per-parameter "
                f"form): flatten it with torch.cat([t.reshape(-1) for t in v])"
            )
        if isinstance(v, torch.Tensor):
            v = v.detach().cpu()
        arr = as_array(v, "v", ndim=1, finite=False)
        if arr.shape[0] != self.n:
            raise ValueError(f"v must have length n = {self.n} (the number of parameters); got {arr.shape[0]}")
        return np.array(arr, dtype=np.float64)  # a writable copy torch may share


def hessian_matvec(
    model: Any, loss_fn: Callable[..., Any], data: Any, *, params: Iterable[Any] | None = None
) -> HessianMatVec:
    """The Hessian of a PyTorch model's mean loss as a matvec callable ``v ↦ Hv`` on NumPy.

    ``H = ∇²_θ L(θ)`` with ``L = (1/N) Σ_b N_b L_b``, the mean over the whole data set of the
    batch losses ``L_b = loss_fn(model(inputs_b), targets_b)`` weighted by their sizes ``N_b``
    (so ``loss_fn`` must return a batch's *mean* loss, ``reduction="mean"``). Each product is
    one forward pass and a double backward (Pearlmutter's ``R``-operator, as in PyHessian) per
    batch; ``H`` is never formed.

    Parameters
    ----------
    model : torch.nn.Module
        A CPU model. Products are taken in its current mode: call ``model.eval()`` first when it
        has dropout (which makes every product random) or batch norm (which, in training mode,
        uses batch statistics and updates its running ones on each pass).
    loss_fn : callable
        ``loss_fn(outputs, targets) -> scalar tensor`` (e.g. ``torch.nn.MSELoss()``).
    data : (inputs, targets) pair, or iterable of them
        One batch, or batches such as a ``DataLoader`` or a list of pairs (passed over once per
        product; a one-shot iterator such as a generator is read into a list first).
        ``inputs`` is a tensor whose first axis is the batch.
    params : iterable of tensors, optional
        The parameters to differentiate by (default: every parameter of ``model`` that requires
        grad), in the order their entries take in the flat vector.

    Returns
    -------
    HessianMatVec
        Callable on a flat float64 array of length ``n`` (its attribute ``n``; a CPU tensor is
        accepted too, a list of per-parameter tensors is not), returning ``Hv`` as a float64
        array: the ``A`` of :func:`tunelab.top_eigenvalue` (with ``n=hvp.n``) and
        :func:`tunelab.hutchinson_trace`.

    Notes
    -----
    Precision: ``v`` is rounded to each parameter's dtype, the product is computed in the
    model's dtype and returned in float64 (batches are summed in float64). For a float64 model
    the products are exact to rounding and ``top_eigenvalue`` reaches ``tol=1e-8`` and below.
    For a float32 model each product carries a relative error of about ``1e-7`` (``2e-7`` on the
    1,732-parameter MLP of the tests; it grows with the depth of the computation): eigenvalues
    and traces are then good to about ``1e-6`` relative, and a residual reported by
    ``top_eigenvalue`` does not fall much below ``1e-7·‖H‖`` whatever ``tol`` asks
    (``model.double()`` gives the digits back).
    """
    return HessianMatVec(model, loss_fn, data, params)
