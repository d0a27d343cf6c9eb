"""
tunelab's compiled kernels (private: use the functions of the tunelab package)
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
class Optimizer(metaclass=type):
    """
    The update rule: SGD (momentum, Nesterov), Adam or AdamW.
    
    Members:
    
      sgd
    
      adam
    
      adamw
    """
    __members__: typing.ClassVar[dict[str, Optimizer]]
    adam: typing.ClassVar[Optimizer]
    adamw: typing.ClassVar[Optimizer]
    sgd: typing.ClassVar[Optimizer]
    @typing.overload
    def __eq__(self, other: Optimizer) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: Optimizer) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class Noise(metaclass=type):
    """
    Gradient noise of the noisy quadratic.
    
    Members:
    
      gaussian
    
      student_t
    """
    __members__: typing.ClassVar[dict[str, Noise]]
    gaussian: typing.ClassVar[Noise]
    student_t: typing.ClassVar[Noise]
    @typing.overload
    def __eq__(self, other: Noise) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: Noise) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class QuadraticOptions(metaclass=type):
    """
    The scalar options of simulate_quadratic, checked when made.
    """
    def __init__(self, *, optimizer: Optimizer, nesterov: bool, noise: Noise, dof: typing.SupportsFloat | typing.SupportsIndex, steps: typing.SupportsInt | typing.SupportsIndex, record_every: typing.SupportsInt | typing.SupportsIndex, grain: typing.SupportsInt | typing.SupportsIndex, max_loss: typing.SupportsFloat | typing.SupportsIndex) -> None:
        ...
    @property
    def dof(self) -> float:
        ...
    @property
    def grain(self) -> int:
        ...
    @property
    def max_loss(self) -> float:
        ...
    @property
    def nesterov(self) -> bool:
        ...
    @property
    def noise(self) -> Noise:
        ...
    @property
    def optimizer(self) -> Optimizer:
        ...
    @property
    def record_every(self) -> int:
        ...
    @property
    def steps(self) -> int:
        ...
class Method(metaclass=type):
    """
    Eigen-solver: power iteration or Lanczos.
    
    Members:
    
      power
    
      lanczos
    """
    __members__: typing.ClassVar[dict[str, Method]]
    lanczos: typing.ClassVar[Method]
    power: typing.ClassVar[Method]
    @typing.overload
    def __eq__(self, other: Method) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: Method) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class Which(metaclass=type):
    """
    Which eigenvalue: largest algebraic (LA) or largest in magnitude (LM).
    
    Members:
    
      LA
    
      LM
    """
    LA: typing.ClassVar[Which]
    LM: typing.ClassVar[Which]
    __members__: typing.ClassVar[dict[str, Which]]
    @typing.overload
    def __eq__(self, other: Which) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: Which) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class Reorth(metaclass=type):
    """
    Lanczos reorthogonalisation: full or selective.
    
    Members:
    
      full
    
      selective
    """
    __members__: typing.ClassVar[dict[str, Reorth]]
    full: typing.ClassVar[Reorth]
    selective: typing.ClassVar[Reorth]
    @typing.overload
    def __eq__(self, other: Reorth) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: Reorth) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class EigenOptions(metaclass=type):
    """
    Options of the eigen-solvers, checked when made.
    """
    def __init__(self, *, method: Method, which: Which, reorth: Reorth, tol: typing.SupportsFloat | typing.SupportsIndex, max_iter: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def max_iter(self) -> int:
        ...
    @property
    def method(self) -> Method:
        ...
    @property
    def reorth(self) -> Reorth:
        ...
    @property
    def tol(self) -> float:
        ...
    @property
    def which(self) -> Which:
        ...
def centred_ranks(x: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> numpy.typing.NDArray[numpy.float64]:
    """
    Doubled, centred average ranks 2r - (n + 1); see tunelab.rankdata.
    """
def check_symmetric(A: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> tuple:
    """
    (max|A - A.T|, max|A|, all finite) of a square matrix.
    """
def exact_first_passage(gap: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], threshold: typing.SupportsFloat | typing.SupportsIndex, sigma: typing.SupportsFloat | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    Exact law (pmf, p_never) of the gap rule; see tunelab.stopping_distribution.
    """
def exact_law(gap: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], threshold: typing.SupportsFloat | typing.SupportsIndex, sigma: typing.SupportsFloat | typing.SupportsIndex, levels: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], num_threads: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    Exact law of the gap rule with its summary: (pmf, p_never, mean, std, quantiles at levels, ideal_epoch or None); see tunelab.stopping_distribution.
    """
def first_passage_counts(q: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], key: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, n_rep: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.int64]:
    """
    Histogram of first passages with per-epoch stop probabilities q; see tunelab.stopping_distribution.
    """
def gap_rule_ar1_counts(gap: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], threshold: typing.SupportsFloat | typing.SupportsIndex, sigma: typing.SupportsFloat | typing.SupportsIndex, rho: typing.SupportsFloat | typing.SupportsIndex, key: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, n_rep: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.int64]:
    """
    Histogram of the gap rule's stop epoch under AR(1) noise; see tunelab.stopping_distribution.
    """
def gd_quadratic(H: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], x0: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], lrs: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], steps: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex, sym_tol: typing.SupportsFloat | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    GD loss trajectories on 1/2 x'Hx; see tunelab.gd_quadratic.
    """
def gd_quadratic_eigen(w: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], c: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], lrs: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], steps: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    GD loss trajectories on 1/2 x'Hx in closed form from H's eigenvalues w and c = Q'x0; see tunelab.gd_quadratic.
    """
def hutchinson_dense(A: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], key: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, count: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Hutchinson probes z'Az of a dense matrix; see tunelab.hutchinson_trace.
    """
def ideal_epoch(gap: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], threshold: typing.SupportsFloat | typing.SupportsIndex) -> int | None:
    """
    E* = first epoch (1-based) whose expected gap exceeds the threshold, or None; see tunelab.stopping_distribution.
    """
def lr_range_test_quadratic(H: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], x0: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], lrs: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], num_threads: typing.SupportsInt | typing.SupportsIndex, sym_tol: typing.SupportsFloat | typing.SupportsIndex) -> tuple:
    """
    One-step losses f(x0 - lr H x0) on 1/2 x'Hx; see tunelab.lr_range_test_quadratic.
    """
def max_threads() -> int:
    """
    The number of threads num_threads=None uses.
    """
def openmp_enabled() -> bool:
    """
    Whether the extension was built with OpenMP.
    """
def optim_step_float32(kind: Optimizer, params: numpy.typing.NDArray[numpy.float32], grads: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], state1: numpy.typing.NDArray[numpy.float32] | None, state2: numpy.typing.NDArray[numpy.float32] | None, steps: numpy.typing.NDArray[numpy.int64], has_buffer: numpy.typing.NDArray[numpy.bool_] | None, lr: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], momentum: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, dampening: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, beta1: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, beta2: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, eps: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, weight_decay: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], max_norm: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, nesterov: typing.Annotated[numpy.typing.ArrayLike, numpy.bool_] | None, maximize: typing.Annotated[numpy.typing.ArrayLike, numpy.bool_] | None, num_threads: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    One batched optimizer step in place; see tunelab.optim. Returns (grad_norm, effective_lr, skipped).
    """
def optim_step_float64(kind: Optimizer, params: numpy.typing.NDArray[numpy.float64], grads: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], state1: numpy.typing.NDArray[numpy.float64] | None, state2: numpy.typing.NDArray[numpy.float64] | None, steps: numpy.typing.NDArray[numpy.int64], has_buffer: numpy.typing.NDArray[numpy.bool_] | None, lr: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], momentum: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, dampening: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, beta1: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, beta2: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, eps: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, weight_decay: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], max_norm: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, nesterov: typing.Annotated[numpy.typing.ArrayLike, numpy.bool_] | None, maximize: typing.Annotated[numpy.typing.ArrayLike, numpy.bool_] | None, num_threads: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    One batched optimizer step in place; see tunelab.optim. Returns (grad_norm, effective_lr, skipped).
    """
def patience_counts(val: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], patience: typing.SupportsInt | typing.SupportsIndex, min_delta: typing.SupportsFloat | typing.SupportsIndex, sigma: typing.SupportsFloat | typing.SupportsIndex, rho: typing.SupportsFloat | typing.SupportsIndex, restore_best: bool, key: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, n_rep: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    Histograms of stop and restored epochs of Keras-style patience; see tunelab.patience_stopping.
    """
def philox4x32_10(ctr: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32], key: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32]) -> numpy.typing.NDArray[numpy.uint32]:
    """
    Philox4x32-10 block function (see tunelab.reference.philox4x32_10).
    """
def pmf_summary(pmf: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], levels: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], moments: bool = True) -> tuple:
    """
    (mean, std, quantiles at levels) of a stop-epoch pmf over epochs 1..n, as NumPy's pairwise sums give them (mean and std None, not computed, with moments=False); see tunelab.StoppingDistribution.
    """
def rademacher(n: typing.SupportsInt | typing.SupportsIndex, key: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, count: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Rademacher probes (count, n), probe r from stream first + r.
    """
def rng_simd_level() -> int:
    """
    Philox bulk path in use: 0 scalar, 1 AVX2, 2 AVX-512F.
    """
def saltelli_sample(low: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], width: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], group: typing.Annotated[numpy.typing.ArrayLike, numpy.int32], num_groups: typing.SupportsInt | typing.SupportsIndex, n: typing.SupportsInt | typing.SupportsIndex, replicates: typing.SupportsInt | typing.SupportsIndex, second_order: bool, random: bool, scramble: bool, key: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, count: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Base rows [first, first + count) of a Saltelli design; see tunelab.saltelli_sample.
    """
def sgd_quadratic_scores(dataset_sizes: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], batch_sizes: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], seeds: typing.Annotated[numpy.typing.ArrayLike, numpy.uint64], dim: typing.SupportsInt | typing.SupportsIndex, spectrum_exponent: typing.SupportsFloat | typing.SupportsIndex, init_exponent: typing.SupportsFloat | typing.SupportsIndex, lr: typing.SupportsFloat | typing.SupportsIndex, noise: typing.SupportsFloat | typing.SupportsIndex, epochs: typing.SupportsFloat | typing.SupportsIndex, avg_fraction: typing.SupportsFloat | typing.SupportsIndex, key: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Final losses of SGD on the power-law noisy quadratic; see tunelab.SGDQuadraticObjective.
    """
def simulate_quadratic(options: QuadraticOptions, *, h: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], x0: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], lr: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], momentum: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], dampening: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], beta1: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], beta2: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], eps: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], weight_decay: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], max_grad_norm: typing.Annotated[numpy.typing.ArrayLike, numpy.float64] | None, noise_std: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], batch_size: typing.Annotated[numpy.typing.ArrayLike, numpy.int64], accum_steps: typing.Annotated[numpy.typing.ArrayLike, numpy.int64], key: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, count: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> dict:
    """
    One chunk of replicas of the noisy-quadratic simulation; see tunelab.simulate_quadratic.
    """
def sobol_estimate(Y: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], num_groups: typing.SupportsInt | typing.SupportsIndex, second_order: bool, n: typing.SupportsInt | typing.SupportsIndex, replicates: typing.SupportsInt | typing.SupportsIndex, n_boot: typing.SupportsInt | typing.SupportsIndex, key: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    Point and bootstrap estimates of Sobol' indices; see tunelab.sobol_indices.
    """
def sobol_g(X: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], a: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], num_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Sobol's g-function; see tunelab.sobol_g.
    """
def sobol_g_indices(a: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> tuple:
    """
    Closed-form indices of the g-function; see tunelab.sobol_g_indices.
    """
def sobol_matrices(d: typing.SupportsInt | typing.SupportsIndex, scramble: bool, key: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    Scrambled direction integers (d, 30) and digital shift (d,); see tunelab.reference.sobol.
    """
def sobol_points(d: typing.SupportsInt | typing.SupportsIndex, n: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, scramble: bool, key: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex, out: numpy.typing.NDArray[numpy.float64] | None = None) -> numpy.typing.NDArray[numpy.float64]:
    """
    Sobol' points (n, d), written into out (C-contiguous float64 (n, d)) when given; see tunelab.sobol_points.
    """
def spearman_matrix(X: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], axis: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    Spearman matrix and constant-variable flags; see tunelab.spearman_matrix.
    """
def standard_normal(n: typing.SupportsInt | typing.SupportsIndex, key: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Standard normals; see tunelab.standard_normal.
    """
def standard_normal_into(out: numpy.typing.NDArray[numpy.float64], key: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Fill out (C-contiguous float64) with standard normals; see tunelab.standard_normal.
    """
def stream_axpy(x: numpy.typing.NDArray[numpy.float64], y: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], s: typing.SupportsFloat | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    x += s*y in place (bench probe).
    """
def stream_normals(n: typing.SupportsInt | typing.SupportsIndex, key: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    n calls of rng::Stream::normal() from element first (tests, bench).
    """
def stream_triad(a: numpy.typing.NDArray[numpy.float64], b: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], c: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], s: typing.SupportsFloat | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    a = b + s*c (bench probe).
    """
def top_eigen_callable(matvec: collections.abc.Callable, n: typing.SupportsInt | typing.SupportsIndex, options: EigenOptions, key: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    Top eigenpair of a matvec callable; see tunelab.top_eigenvalue.
    """
def top_eigen_dense(A: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], options: EigenOptions, key: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex, sym_tol: typing.SupportsFloat | typing.SupportsIndex) -> tuple:
    """
    Top eigenpair of a dense symmetric matrix; see tunelab.top_eigenvalue.
    """
def top_eigen_stack(A: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], options: EigenOptions, key: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex, sym_tol: typing.SupportsFloat | typing.SupportsIndex) -> tuple:
    """
    Top eigenpairs of a stack of symmetric matrices; see tunelab.top_eigenvalue.
    """
def transfer_grid_search(coupling: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], mu: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], sigma: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], log_grid: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], eval_noise: typing.SupportsFloat | typing.SupportsIndex, key: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, count: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> tuple:
    """
    Tuned grid indices and latent log-optima; see tunelab.transfer_study.
    """
def uniform(n: typing.SupportsInt | typing.SupportsIndex, key: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Uniforms in [0, 1); see tunelab.uniform.
    """
def uniform_into(out: numpy.typing.NDArray[numpy.float64], key: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Fill out (C-contiguous float64) with uniforms in [0, 1); see tunelab.uniform.
    """
def ziggurat_tables() -> tuple:
    """
    The compiled ziggurat tables (w, k, f, r, 1/r); see tunelab.reference._ziggurat.
    """
sobol_max_dim: int = 4096
