"""Batched optimizers: ``R`` replicas of ``d`` parameters stepped at once, in place.

Each optimizer holds an ``(R, d)`` parameter array (float32 or float64, updated in place) and
its state; every hyperparameter is a scalar or an ``(R,)`` array (one value per replica), so
thousands of configurations train side by side in one OpenMP kernel call. The update rules are
PyTorch's, line by line (``torch.optim.SGD``, ``torch.optim.Adam``, ``torch.optim.AdamW``,
single-tensor path, and ``torch.nn.utils.clip_grad_norm_`` applied to each replica's row).

``params`` and ``grads`` may be CPU torch tensors: the optimizer works on their memory through
NumPy (zero copy), so the tensor given as ``params`` is updated in place; torch is never
imported here (a tensor is recognised only when the caller has imported torch). An optimizer's
whole state travels as plain NumPy arrays and Python values through ``state_dict()`` and
``load_state_dict()``.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import numpy as np

from . import _core
from ._results import Result, get_axes
from ._threads import resolve_num_threads
from ._validation import as_array, broadcast_shape, per_replica, scalar_or_array

__all__ = ["SGD", "Adam", "AdamW", "StepInfo", "effective_lr"]

CLIP_EPS = 1e-6  # torch.nn.utils.clip_grad_norm_: coef = max_norm / (total_norm + 1e-6)


@dataclasses.dataclass(frozen=True, repr=False)
class StepInfo(Result):
    """What one batched step did, per replica.

    Attributes
    ----------
    grad_norm : ndarray, shape (R,)
        Euclidean norm of each replica's gradient before clipping (what ``clip_grad_norm_``
        returns); NaN or inf where the gradient was not finite.
    effective_lr : ndarray, shape (R,)
        ``lr * min(1, max_grad_norm / (grad_norm + 1e-6))``: the rate the (clipped) gradient
        was actually applied with; 0 where the replica was skipped.
    skipped : ndarray of bool, shape (R,)
        Replicas whose gradient was not finite: nothing of theirs was updated.
    """

    grad_norm: np.ndarray
    effective_lr: np.ndarray
    skipped: np.ndarray

    def plot(self, ax: Any = None) -> Any:
        """Scatter of the effective learning rate against the gradient norm."""
        ax = get_axes(ax)
        ax.scatter(self.grad_norm, self.effective_lr, s=8)
        ax.set_xscale("log")
        ax.set_xlabel("gradient norm ‖g‖")
        ax.set_ylabel("effective learning rate")
        return ax


def effective_lr(lr: Any, max_grad_norm: Any, grad_norm: Any) -> Any:
    """Effective learning rate under global-norm clipping, ``α_eff = α · min(1, c/‖g‖)``.

    Parameters
    ----------
    lr : float or array_like
        Learning rate ``α`` (>= 0).
    max_grad_norm : float, array_like or None
        Clipping threshold ``c`` (> 0; ``inf`` or ``None``: no clipping).
    grad_norm : float or array_like
        Gradient norm ``‖g‖`` before clipping (>= 0).

    Returns
    -------
    float or ndarray
        ``α · min(1, c / (‖g‖ + 1e-6))``: a float when all inputs are scalars, else an array of
        the inputs' broadcast shape (NumPy's convention). The ``1e-6`` is the guard
        ``torch.nn.utils.clip_grad_norm_`` adds, so this is exactly the rate PyTorch (and
        ``tunelab.optim``) apply; it differs from ``α · min(1, c/‖g‖)`` only for ``‖g‖``
        within about ``1e-6`` of ``c``.

    Notes
    -----
    Clipping rescales the gradient, ``g ← g · min(1, c/‖g‖)`` (Pascanu, Mikolov & Bengio,
    "On the difficulty of training recurrent neural networks", ICML 2013), so for SGD the step
    is ``α_eff · g``: the rate and the threshold are coupled and must be tuned together.
    """
    a = as_array(lr, "lr", finite=False, allow_empty=True)
    n = as_array(grad_norm, "grad_norm", finite=False, allow_empty=True)
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("lr must be finite and >= 0")
    if np.any(np.isnan(n)) or np.any(n < 0):
        raise ValueError("grad_norm must be >= 0 (no NaN)")
    c = None if max_grad_norm is None else as_array(max_grad_norm, "max_grad_norm", finite=False, allow_empty=True)
    shape = broadcast_shape(lr=a, max_grad_norm=c, grad_norm=n)
    if c is None:
        return scalar_or_array(np.broadcast_to(a, shape).copy())
    if np.any(np.isnan(c)) or np.any(c <= 0):
        raise ValueError("max_grad_norm must be > 0 (inf: no clipping)")
    with np.errstate(invalid="ignore", over="ignore"):
        coef = np.minimum(1.0, c / (n + CLIP_EPS))
    coef = np.where(np.isinf(c), 1.0, coef)
    return scalar_or_array(a * coef)


def _from_torch(x: Any, name: str) -> Any:
    """A CPU torch tensor as a NumPy view of its memory (zero copy); anything else unchanged."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(x, torch.Tensor):
        return x
    if x.device.type != "cpu":
        raise ValueError(
            f"{name} is a torch tensor on device {x.device}; tunelab.optim works on CPU memory only: "
            f"move it to the CPU with {name}.cpu() (the optimizer then updates that CPU tensor)"
        )
    try:
        return x.detach().numpy()
    except (TypeError, RuntimeError) as exc:
        raise TypeError(f"{name}: this torch tensor has no NumPy view ({exc})") from None


def _check_params(params: Any) -> np.ndarray:
    params = _from_torch(params, "params")
    if not isinstance(params, np.ndarray):
        raise TypeError(
            f"params must be a numpy.ndarray of float32 or float64 (it is updated in place); got {type(params).__name__}"
        )
    if params.dtype not in (np.float32, np.float64):
        raise TypeError(f"params must have dtype float32 or float64 (it is updated in place); got {params.dtype}")
    if params.ndim != 2:
        raise ValueError(f"params must have shape (R, d); got shape {params.shape}")
    if not params.flags.c_contiguous:
        raise ValueError("params must be C-contiguous (it is updated in place; pass np.ascontiguousarray(params))")
    if not params.flags.writeable:
        raise ValueError("params must be writeable (it is updated in place)")
    if not np.all(np.isfinite(params)):
        raise ValueError("params must contain only finite values")
    return params


def _check_keys(name: str, d: Any, keys: set[str]) -> None:
    if not isinstance(d, dict):
        raise TypeError(f"{name} must be a dict (from state_dict()); got {type(d).__name__}")
    missing, extra = keys - set(d), set(d) - keys
    if missing or extra:
        parts = [f"{what} keys {sorted(keys)}" for what, keys in (("missing", missing), ("unexpected", extra)) if keys]
        raise ValueError(f"{name} has {' and '.join(parts)}")


def _state_array(name: str, value: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A copy of ``value``, which must be an ndarray of exactly ``shape`` and ``dtype``."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray; got {type(value).__name__}")
    if value.shape != shape or value.dtype != dtype:
        raise ValueError(f"{name} must have shape {shape} and dtype {np.dtype(dtype)}; got {value.shape} {value.dtype}")
    return np.array(value, order="C")


class _Hyper:
    """A per-replica hyperparameter: reads give the ``(R,)`` float64 array, writes validate."""

    def __init__(self, **bounds: Any) -> None:
        self.bounds = bounds

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return obj._hyper[self.name]

    def __set__(self, obj: Any, value: Any) -> None:
        if self.name == "max_grad_norm" and value is None:
            obj._hyper[self.name] = None
            return
        obj._hyper[self.name] = per_replica(self.name, value, obj.params.shape[0], **self.bounds)


class _Flag(_Hyper):
    """A per-replica switch: ``True``/``False`` for all replicas or an ``(R,)`` bool array."""

    def __set__(self, obj: Any, value: Any) -> None:
        R = obj.params.shape[0]
        if isinstance(value, (bool, np.bool_)):
            arr = np.full(R, bool(value))
        else:
            if not isinstance(value, (np.ndarray, list, tuple)):
                raise TypeError(f"{self.name} must be True, False or an (R,) array of bools; got {type(value).__name__}")
            arr = np.asarray(value)
            if arr.dtype != np.bool_:
                raise TypeError(f"{self.name} must be True, False or an (R,) array of bools; got an array of dtype {arr.dtype}")
            if arr.shape != (R,):
                raise ValueError(f"{self.name} must be a bool or have shape (R,) = ({R},); got shape {arr.shape}")
            arr = np.array(arr, dtype=np.bool_)  # a copy: later edits of the caller's array do not leak in
        obj._hyper[self.name] = arr


class _Optimizer:
    kind: _core.Optimizer
    lr = _Hyper(low=0.0)
    weight_decay = _Hyper(low=0.0)
    max_grad_norm = _Hyper(low=0.0, low_open=True, allow_inf=True)
    maximize = _Flag()

    def __init__(self, params: np.ndarray, *, num_threads: int | None) -> None:
        self.params = _check_params(params)
        self._hyper: dict[str, Any] = {}
        self.steps = np.zeros(self.params.shape[0], dtype=np.int64)
        self.num_threads = num_threads
        resolve_num_threads(num_threads)

    @property
    def num_replicas(self) -> int:
        """``R``, the number of replicas (rows of ``params``)."""
        return int(self.params.shape[0])

    def _grads(self, grads: Any) -> np.ndarray:
        grads = _from_torch(grads, "grads")
        if isinstance(grads, np.ndarray) and grads.dtype == self.params.dtype and grads.flags.c_contiguous:
            g = grads
        else:
            try:
                g = np.asarray(grads)
            except Exception as exc:
                raise ValueError(f"grads could not be converted to an array: {exc}") from None
            if g.dtype.kind not in "biuf":
                raise TypeError(f"grads must be a real numeric array; got dtype {g.dtype}")
            with np.errstate(over="ignore"):  # float64 -> float32 overflow gives inf: that replica is skipped
                g = np.ascontiguousarray(g, dtype=self.params.dtype)
        if g.shape != self.params.shape:
            raise ValueError(f"grads must have the shape of params {self.params.shape}; got {g.shape}")
        return g

    def _call(self, grads: Any, state1: Any, state2: Any, **kw: Any) -> StepInfo:
        g = self._grads(grads)
        fn = _core.optim_step_float32 if self.params.dtype == np.float32 else _core.optim_step_float64
        h = self._hyper
        maximize = h["maximize"] if h["maximize"].any() else None
        norm, eff, skipped = fn(
            self.kind, self.params, g, state1, state2, self.steps, kw.get("has_buffer"), h["lr"],
            kw.get("momentum"), kw.get("dampening"), kw.get("beta1"), kw.get("beta2"), kw.get("eps"),
            h["weight_decay"], h["max_grad_norm"], kw.get("nesterov"), maximize, resolve_num_threads(self.num_threads),
        )  # fmt: skip
        return StepInfo(norm, eff, skipped)

    def _state_specs(self) -> dict[str, tuple[tuple[int, ...], Any, bool]]:
        """The state arrays: name -> (shape, dtype, may be None)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain values (copies): load it into a fresh optimizer to continue.

        Returns
        -------
        dict
            ``"optimizer"`` (the class name), ``"dtype"`` and ``"shape"`` of ``params``,
            ``"hyper"`` (each hyperparameter's ``(R,)`` array, ``None`` for ``max_grad_norm``
            when not clipping), ``"steps"`` and ``"state"`` (the state arrays by their attribute
            names, e.g. ``exp_avg``). The parameters themselves are not included: they are the
            caller's array. Loading it into an optimizer on equal parameters and stepping gives
            bit for bit what stepping this one would have given.
        """
        return {
            "optimizer": type(self).__name__,
            "dtype": str(self.params.dtype),
            "shape": tuple(self.params.shape),
            "hyper": {k: None if v is None else v.copy() for k, v in self._hyper.items()},
            "steps": self.steps.copy(),
            "state": {k: None if getattr(self, k) is None else getattr(self, k).copy() for k in self._state_specs()},
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters, step counts and state from :meth:`state_dict` (copied in).

        Everything is checked before anything changes: the keys, the optimizer class, the
        ``params`` dtype and shape, and each array's shape and dtype; the hyperparameters are
        validated as when they are set. The parameters are left alone.
        """
        _check_keys("state_dict", state_dict, {"optimizer", "dtype", "shape", "hyper", "steps", "state"})
        R = self.num_replicas
        if state_dict["optimizer"] != type(self).__name__:
            raise ValueError(f"state_dict is of a {state_dict['optimizer']!r} optimizer; this is a {type(self).__name__!r}")
        if state_dict["dtype"] != str(self.params.dtype) or tuple(state_dict["shape"]) != self.params.shape:
            raise ValueError(
                f"state_dict is for params of dtype {state_dict['dtype']} and shape {tuple(state_dict['shape'])}; "
                f"these params are {self.params.dtype} {self.params.shape}"
            )
        hyper = state_dict["hyper"]
        _check_keys("state_dict['hyper']", hyper, set(self._hyper))
        steps = _state_array("state_dict['steps']", state_dict["steps"], (R,), np.int64)
        if np.any(steps < 0):
            raise ValueError("state_dict['steps'] must be >= 0")
        specs = self._state_specs()
        _check_keys("state_dict['state']", state_dict["state"], set(specs))
        arrays: dict[str, np.ndarray | None] = {}
        for name, (shape, dtype, optional) in specs.items():
            value = state_dict["state"][name]
            if value is None and optional:
                arrays[name] = None
            else:
                arrays[name] = _state_array(f"state_dict['state'][{name!r}]", value, shape, dtype)
        if len({v is None for v in arrays.values()}) > 1:
            raise ValueError(f"state_dict['state']: {', '.join(arrays)} must all be arrays or all be None")
        old = dict(self._hyper)
        try:  # the setters validate; restore the old values if one refuses
            for name, value in hyper.items():
                if name == "beta1":
                    self.betas = (value, hyper["beta2"])
                elif name != "beta2":
                    setattr(self, name, value)
        except Exception:
            self._hyper = old
            raise
        self.steps = steps
        for name, value in arrays.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        R, d = self.params.shape

        def show(v: Any) -> str:
            if v is None:
                return "None"
            if v.size == 0:
                return "[]"
            if not np.all(v == v[0]):
                return "per-replica"
            return str(bool(v[0])) if v.dtype == np.bool_ else f"{v[0]:g}"

        hp = ", ".join(f"{k}={show(v)}" for k, v in self._hyper.items())
        return f"{type(self).__name__}(R={R}, d={d}, dtype={self.params.dtype}, {hp})"


class SGD(_Optimizer):
    r"""Stochastic gradient descent on ``R`` replicas at once, as ``torch.optim.SGD``.

    Per replica ``r`` and step (``g`` the gradient row, ``w`` the parameter row):

    .. code-block:: text

        c = min(1, max_grad_norm / (‖g‖ + 1e-6)); g ← c·g      # clip_grad_norm_ (if max_grad_norm)
        g ← −g  if maximize
        g ← g + weight_decay·w                                  # coupled (L2) weight decay
        if momentum ≠ 0:
            b ← g                         if the replica has no buffer yet (PyTorch's clone)
            b ← momentum·b + (1 − dampening)·g   otherwise
            g ← g + momentum·b  if nesterov else  b
        w ← w − lr·g

    Every hyperparameter may be changed between steps (a schedule), per replica, with
    PyTorch's meaning: the values at the time of a step are used. In particular a replica's
    momentum buffer is created at its first step with ``momentum ≠ 0`` -- not at its first
    step -- as a copy of that step's gradient, exactly as ``torch.optim.SGD`` creates
    ``state["momentum_buffer"]``; a step with ``momentum = 0`` neither creates nor changes it,
    and a later non-zero momentum continues from the buffer as it was.

    Parameters
    ----------
    params : ndarray or CPU torch.Tensor, shape (R, d), float32 or float64
        Parameters, updated in place (C-contiguous, writeable; never copied). A torch tensor
        is updated through a NumPy view of its memory; a tensor on another device is refused.
    lr, momentum, dampening, weight_decay : float or ndarray of shape (R,)
        One value per replica or one for all: ``lr >= 0``, ``0 <= momentum < 1``,
        ``0 <= dampening <= 1``, ``weight_decay >= 0``.
    nesterov : bool or ndarray of bool, shape (R,)
        Nesterov momentum, for all replicas or per replica. At construction it needs
        ``momentum > 0`` and ``dampening == 0`` where it is on (PyTorch's constructor check);
        later changes are applied as PyTorch applies them (with ``momentum = 0`` the step is
        plain SGD; with ``dampening ≠ 0`` the formula above is used as it stands).
    maximize : bool or ndarray of bool, shape (R,)
        Ascend instead of descend (PyTorch's ``maximize``), for all replicas or per replica.
    max_grad_norm : float, ndarray of shape (R,) or None
        Global-norm clipping threshold per replica (``inf``: no clipping for that replica).
    num_threads : int, optional
        OpenMP threads (default: OpenMP's default). Results do not depend on it.

    Attributes
    ----------
    params : ndarray
        The array given (same object), or the NumPy view of the tensor given.
    momentum_buffer : ndarray or None
        ``(R, d)`` buffers of the parameters' dtype (``None`` until some replica has a
        non-zero momentum). Row ``r`` is meaningful only where ``has_momentum_buffer[r]``.
    has_momentum_buffer : ndarray of bool, shape (R,) or None
        Which replicas have a buffer (PyTorch: ``"momentum_buffer" in optimizer.state[p]``);
        ``None`` with ``momentum_buffer``.
    steps : ndarray of int64, shape (R,)
        Steps taken per replica (a skipped replica does not advance).

    Notes
    -----
    Element arithmetic is done in the parameters' dtype with each scalar rounded once to it,
    as PyTorch does; the gradient norm is accumulated in float64. A replica whose gradient is
    not finite is skipped (see :class:`StepInfo`). The update itself is not guarded (as in
    PyTorch): a rate or decay so large that it overflows the dtype leaves ±inf/NaN parameters
    (this holds for every optimizer here). References: Robbins & Monro (1951);
    Polyak (1964) for momentum; Sutskever et al., ICML 2013 for the Nesterov form PyTorch uses.
    """

    kind = _core.Optimizer.sgd
    momentum = _Hyper(low=0.0, high=1.0, high_open=True)
    dampening = _Hyper(low=0.0, high=1.0)
    nesterov = _Flag()

    def __init__(
        self,
        params: np.ndarray,
        *,
        lr: Any = 1e-3,
        momentum: Any = 0.0,
        dampening: Any = 0.0,
        weight_decay: Any = 0.0,
        nesterov: Any = False,
        maximize: Any = False,
        max_grad_norm: Any = None,
        num_threads: int | None = None,
    ) -> None:
        super().__init__(params, num_threads=num_threads)
        self.lr = lr
        self.momentum = momentum
        self.dampening = dampening
        self.weight_decay = weight_decay
        self.max_grad_norm = max_grad_norm
        self.nesterov = nesterov
        self.maximize = maximize
        on = self.nesterov
        if np.any(on & ((self.momentum <= 0) | (self.dampening != 0))):
            raise ValueError("nesterov needs momentum > 0 and dampening = 0 for every replica it is on for")
        self.momentum_buffer: np.ndarray | None = None
        self.has_momentum_buffer: np.ndarray | None = None
        if np.any(self.momentum != 0):
            self._allocate_buffer()

    def _state_specs(self) -> dict[str, tuple[tuple[int, ...], Any, bool]]:
        return {
            "momentum_buffer": (self.params.shape, self.params.dtype, True),
            "has_momentum_buffer": ((self.num_replicas,), np.bool_, True),
        }

    def _allocate_buffer(self) -> None:
        # rows are created (b <- g) by the kernel, at each replica's first step with momentum != 0
        self.momentum_buffer = np.zeros_like(self.params)
        self.has_momentum_buffer = np.zeros(self.num_replicas, dtype=np.bool_)

    def step(self, grads: Any) -> StepInfo:
        """Apply one step with ``grads`` (shape ``(R, d)``, an array or a CPU torch tensor; not modified)
        and return a :class:`StepInfo`."""
        if self.momentum_buffer is None and np.any(self.momentum != 0):
            self._allocate_buffer()  # momentum was raised after construction
        nesterov = self.nesterov if self.nesterov.any() else None
        return self._call(
            grads, self.momentum_buffer, None, momentum=self.momentum, dampening=self.dampening, nesterov=nesterov,
            has_buffer=self.has_momentum_buffer,
        )  # fmt: skip


class Adam(_Optimizer):
    r"""Adam on ``R`` replicas at once, as ``torch.optim.Adam`` (``weight_decay`` = L2 penalty).

    Per replica and step, with ``t`` the replica's step count after the increment:

    .. code-block:: text

        c = min(1, max_grad_norm / (‖g‖ + 1e-6)); g ← c·g      # clip_grad_norm_ (if max_grad_norm)
        g ← −g  if maximize
        g ← g + weight_decay·w                                  # L2: the decay enters the moments
        m ← lerp(m, g, 1 − β₁)            # = β₁·m + (1 − β₁)·g (torch.lerp's formula)
        v ← β₂·v + (1 − β₂)·g²
        w ← w − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + eps)   # eps outside the square root

    Parameters
    ----------
    params : ndarray or CPU torch.Tensor, shape (R, d), float32 or float64
        Parameters, updated in place (as for :class:`SGD`).
    lr, eps, weight_decay : float or ndarray of shape (R,)
        ``lr >= 0``, ``eps > 0``, ``weight_decay >= 0``.
    betas : (float or ndarray, float or ndarray)
        ``(β₁, β₂)``, each in ``[0, 1)``, scalar or per replica.
    maximize : bool or ndarray of bool, shape (R,)
        Ascend instead of descend (PyTorch's ``maximize``), for all replicas or per replica.
    max_grad_norm : float, ndarray of shape (R,) or None
        Global-norm clipping per replica.
    num_threads : int, optional
        OpenMP threads; results do not depend on it.

    Attributes
    ----------
    exp_avg, exp_avg_sq : ndarray, shape (R, d)
        First and second moment estimates (PyTorch's state names).
    steps : ndarray of int64, shape (R,)
        Per-replica step count ``t`` (used for the bias corrections).

    Every hyperparameter may be changed between steps, per replica, with PyTorch's meaning:
    the state is PyTorch's lazily created state (``step = 0`` and zero moments before a
    replica's first step), and each step uses the values set at that time -- e.g. after
    ``opt.betas = ...`` the bias corrections are ``1 − β₁ᵗ``, ``1 − β₂ᵗ`` with the *new* betas
    and the replica's step count ``t``, as ``torch.optim.Adam`` computes them. (AMSGrad is not
    offered.)

    Notes
    -----
    Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015 (Algorithm 1 with
    the ε placement PyTorch uses). With ``weight_decay`` the decay is added to the gradient and
    therefore normalised by ``√v`` like the loss gradient: this is not weight decay in the sense
    of Loshchilov & Hutter; see :class:`AdamW`.
    """

    kind = _core.Optimizer.adam
    eps = _Hyper(low=0.0, low_open=True)

    def __init__(
        self,
        params: np.ndarray,
        *,
        lr: Any = 1e-3,
        betas: tuple[Any, Any] = (0.9, 0.999),
        eps: Any = 1e-8,
        weight_decay: Any = 0.0,
        maximize: Any = False,
        max_grad_norm: Any = None,
        num_threads: int | None = None,
    ) -> None:
        super().__init__(params, num_threads=num_threads)
        self.lr = lr
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.maximize = maximize
        self.max_grad_norm = max_grad_norm
        self.exp_avg = np.zeros_like(self.params)
        self.exp_avg_sq = np.zeros_like(self.params)

    def _state_specs(self) -> dict[str, tuple[tuple[int, ...], Any, bool]]:
        return {name: (self.params.shape, self.params.dtype, False) for name in ("exp_avg", "exp_avg_sq")}

    @property
    def betas(self) -> tuple[np.ndarray, np.ndarray]:
        """``(β₁, β₂)`` as two ``(R,)`` arrays."""
        return self._hyper["beta1"], self._hyper["beta2"]

    @betas.setter
    def betas(self, value: Any) -> None:
        if isinstance(value, np.ndarray) and value.ndim in (1, 2) and value.shape[0] == 2:
            value = (value[0], value[1])
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2); got {value!r}")
        R = self.num_replicas
        b1 = per_replica("betas", value[0], R, low=0.0, high=1.0, high_open=True)
        b2 = per_replica("betas", value[1], R, low=0.0, high=1.0, high_open=True)
        self._hyper["beta1"], self._hyper["beta2"] = b1, b2

    def step(self, grads: Any) -> StepInfo:
        """Apply one step with ``grads`` (shape ``(R, d)``, an array or a CPU torch tensor; not modified)
        and return a :class:`StepInfo`."""
        h = self._hyper
        return self._call(grads, self.exp_avg, self.exp_avg_sq, beta1=h["beta1"], beta2=h["beta2"], eps=h["eps"])


class AdamW(Adam):
    r"""AdamW on ``R`` replicas at once, as ``torch.optim.AdamW`` (decoupled weight decay).

    Per replica and step:

    .. code-block:: text

        c = min(1, max_grad_norm / (‖g‖ + 1e-6)); g ← c·g      # clip_grad_norm_ (if max_grad_norm)
        g ← −g  if maximize
        w ← w · (1 − lr·weight_decay)                           # decoupled decay, scaled by lr
        m ← lerp(m, g, 1 − β₁);  v ← β₂·v + (1 − β₂)·g²         # moments of the loss gradient only
        w ← w − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + eps)

    Parameters and attributes are those of :class:`Adam` (PyTorch's default ``weight_decay``
    for AdamW is 0.01).

    Notes
    -----
    Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019. As in PyTorch the
    decay is multiplied by the learning rate (the paper's schedule multiplier η_t is folded
    into ``lr``).
    """

    kind = _core.Optimizer.adamw

    def __init__(
        self,
        params: np.ndarray,
        *,
        lr: Any = 1e-3,
        betas: tuple[Any, Any] = (0.9, 0.999),
        eps: Any = 1e-8,
        weight_decay: Any = 1e-2,
        maximize: Any = False,
        max_grad_norm: Any = None,
        num_threads: int | None = None,
    ) -> None:
        super().__init__(
            params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
            max_grad_norm=max_grad_norm, num_threads=num_threads,
        )  # fmt: skip
