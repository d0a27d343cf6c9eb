"""One small, fixed instance of every public result type (``RESULTS``: name -> builder), for the
tests that walk them all (test_results, test_scalars). A key is the class name, optionally with a
``[variant]``; test_results checks that every public ``Result`` subclass has one."""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

import tunelab

_A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.5]])
_EP = np.arange(1, 41, dtype=float)
_TRAIN = 1.0 / _EP
_VAL = 1.0 / _EP + 1e-3 * (_EP - 15.0) ** 2 / 40.0
_PROBLEM = tunelab.Problem(["x1", "x2", "x3"], [[0.0, 1.0]] * 3)


def _two_outputs(X: np.ndarray) -> np.ndarray:
    g = tunelab.sobol_g(X, np.array([0.0, 1.0, 9.0]))
    return np.stack([g, X[:, 0] + 2.0 * X[:, 1] ** 2], axis=1)


def _objective(lr, wd):
    return (np.log10(lr) + 2.0) ** 2 + wd


def _step_info() -> Any:
    opt = tunelab.optim.SGD(np.ones((4, 3)), lr=0.1, max_grad_norm=1.0)
    return opt.step(np.arange(12.0).reshape(4, 3) / 4)


def _stopping_reliability() -> Any:
    es = tunelab.EarlyStopping(patience=100)
    for v in _VAL + 0.01 * np.random.default_rng(0).standard_normal(_VAL.size):
        es.update(v)
    return es.reliability(n_boot=5, n_rep=500, rng=1)


_BUILDERS: dict[str, Callable[[], Any]] = {
    "EigenResult": lambda: tunelab.top_eigenvalue(_A, rng=1),
    "EigenResult[stack]": lambda: tunelab.top_eigenvalue(np.stack([_A, 2 * _A, 3 * _A]), rng=1),
    "HutchinsonResult": lambda: tunelab.hutchinson_trace(_A, 256, rng=1),
    "EigenpairsResult": lambda: tunelab.top_eigenvalues(_A, 2, rng=1),
    "EigenpairsResult[stack]": lambda: tunelab.top_eigenvalues(np.stack([_A, 2 * _A]), 2, rng=1),
    "SpectralDensity": lambda: tunelab.spectral_density(_A, n_probes=4, rng=1),
    "LRRangeResult": lambda: tunelab.lr_range_test_quadratic(_A, np.ones(3), np.geomspace(1e-2, 3.0, 30)),
    "LRFinderResult": lambda: tunelab.lr_finder(lambda lr: 1.0 / (1.0 + lr) + lr**2, lr_min=1e-3, lr_max=10.0,
                                                num_steps=30),
    "QuadraticResult": lambda: tunelab.simulate_quadratic([0.5, 1.0, 2.0], lr=0.1, batch_size=4, steps=40,
                                                          replicas=64, rng=0),
    "AccumulationStudyResult": lambda: tunelab.accumulation_study(hs=[[1.0]], lrs=(0.2, 0.4), splits=((2, 2),),
                                                                  replicas=200, rng=1),
    "PowerLawFit": lambda: tunelab.fit_power_law([1.0, 2.0, 4.0, 8.0, 16.0], [1.0, 1.5, 2.1, 2.9, 4.2], n_boot=100,
                                                 rng=0),
    "BatchScalingStudy": lambda: tunelab.batch_scaling_study(tunelab.SGDQuadraticObjective(dim=8, rng=4),
                                                             [1e3, 4e3, 9e3], np.geomspace(8, 256, 7), n_seeds=3,
                                                             n_boot=100, rng=0),
    "NoiseScale": lambda: tunelab.gradient_noise_scale(np.random.default_rng(0).standard_normal((20, 3)) + 3.0),
    "StoppingDistribution": lambda: tunelab.stopping_distribution(_TRAIN, _VAL, 0.05, noise_std=0.02),
    "ThresholdChoice": lambda: tunelab.threshold_for_reliability(_TRAIN, _VAL, noise_std=0.02, k=3, target=0.5,
                                                                 grid=16),
    "PatienceStopping": lambda: tunelab.patience_stopping(_VAL, patience=3, noise_std=0.02, n_rep=2000, rng=1),
    "StoppingReliability": lambda: _stopping_reliability(),
    "PatienceTradeoff": lambda: tunelab.patience_tradeoff(_VAL, patience=(1, 3), min_delta=(0.0, 1e-3),
                                                          noise_std=0.02, n_rep=2000, rng=1),
    "WeightDecayStudyResult": lambda: tunelab.weight_decay_study(weight_decays=(0.0, 0.1), seeds=2, steps=5,
                                                                 hidden=3, inputs=2, n_train=8, n_test=8, rng=0),
    "SearchResult": lambda: tunelab.grid_search(_objective, {"lr": tunelab.LogUniform(1e-4, 1.0), "wd": [0.0, 0.1]},
                                                num=4),
    "ClippingStudyResult": lambda: tunelab.clipping_study(h=[0.5, 2.0], lrs=[0.01, 0.1, 1.5], clips=[1.0, np.inf],
                                                          seeds=2, steps=10, rng=0),
    "Problem": lambda: _PROBLEM,
    "SobolResult": lambda: tunelab.sobol_g_indices([0.0, 1.0, 9.0]),
    "SobolResult[outputs]": lambda: tunelab.sobol_analyze(_two_outputs, _PROBLEM, 64, n_boot=50, rng=2),
    "TransferStudy": lambda: tunelab.transfer_study([0.9, 0.5, 0.2], n_seeds=200, rng=5),
    "StepInfo": _step_info,
}

#: name -> a builder that computes its instance once.
RESULTS: dict[str, Callable[[], Any]] = {k: functools.cache(v) for k, v in _BUILDERS.items()}
