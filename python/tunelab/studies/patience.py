"""The patience trade-off (SCIENCE.md §5): epochs spent against validation loss given up, over a
grid of Keras ``EarlyStopping`` settings, every setting on the same noisy curves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._random import RNGLike, kernel_key
from .._results import Result, get_axes
from .._threads import resolve_num_threads
from .._validation import check_bool, check_int, check_real
from ..early_stop import Curve, _patience_checks, _patience_run

__all__ = ["patience_tradeoff", "PatienceTradeoff"]


@dataclass(frozen=True, repr=False)
class PatienceTradeoff(Result):
    """Epochs spent vs regret over a grid of ``patience`` and ``min_delta`` values; one row each.

    Attributes
    ----------
    patience, min_delta : ndarray
        The settings of each row.
    expected_epochs, expected_epochs_se, regret, regret_se, p_stopped : ndarray
        Per row: mean epochs trained, regret (see :class:`tunelab.PatienceStopping`), their standard
        errors, and the probability that the rule fires within the horizon.
    n_epochs, n_rep : int
        Horizon and replicas per row.
    """

    patience: np.ndarray
    min_delta: np.ndarray
    expected_epochs: np.ndarray
    expected_epochs_se: np.ndarray
    regret: np.ndarray
    regret_se: np.ndarray
    p_stopped: np.ndarray
    n_epochs: int
    n_rep: int

    def plot(self, ax: Any = None) -> Any:
        """Regret against expected epochs, one line per ``min_delta``, points labelled by patience."""
        ax = get_axes(ax)
        for j, md in enumerate(np.unique(self.min_delta)):
            sel = self.min_delta == md
            x, y = self.expected_epochs[sel], self.regret[sel]
            ax.errorbar(x, y, yerr=2 * self.regret_se[sel], marker="o", ms=4, capsize=2, color=f"C{j}",
                        label=f"min_delta={md:g}")  # fmt: skip
            for p, xi, yi in zip(self.patience[sel], x, y):
                ax.annotate(str(int(p)), (xi, yi), textcoords="offset points", xytext=(3, 3), fontsize="x-small")
        ax.set_xlabel("expected epochs trained")
        ax.set_ylabel("regret (expected val loss above the best)")
        ax.legend(fontsize="small", title="labels: patience", title_fontsize="x-small")
        return ax


def patience_tradeoff(
    val_loss: Curve,
    *,
    patience: Sequence[int] = (1, 2, 3, 5, 8, 13, 21),
    min_delta: float | Sequence[float] = 0.0,
    mode: str = "min",
    noise_std: float,
    rho: float = 0.0,
    restore_best: bool = True,
    n_rep: int = 100_000,
    rng: RNGLike = None,
    num_threads: int | None = None,
    executor: Any = None,
    progress: bool = False,
    n_epochs: int | None = None,
) -> PatienceTradeoff:
    """Scan ``patience`` (and ``min_delta``): how many epochs does each setting spend, and how
    much validation loss does it give up? (:func:`tunelab.patience_stopping` for every pair; each
    ``patience >= 0``, with Keras' meaning: ``0`` acts as ``1``.)

    All settings share one kernel key -- common random numbers: every setting sees the same
    noisy curves, so differences between rows are much less noisy than each row.

    Returns
    -------
    PatienceTradeoff
        One row per ``(min_delta, patience)`` pair, ``to_frame()`` for a table, ``plot()`` for
        the trade-off curve.
    """
    val, oriented, mode, sigma, rho, n_rep = _patience_checks(val_loss, mode, noise_std, rho, n_rep, n_epochs)
    pats = [check_int("patience", p, minimum=0) for p in np.atleast_1d(np.asarray(patience, dtype=object)).tolist()]
    deltas = [check_real("min_delta", d, minimum=0.0) for d in np.atleast_1d(np.asarray(min_delta, dtype=object)).tolist()]
    if not pats or not deltas:
        raise ValueError("patience and min_delta must each hold at least one value")
    check_bool("restore_best", restore_best)
    resolve_num_threads(num_threads)
    key = kernel_key(rng)
    rows = [
        _patience_run(
            val, oriented, patience=p, min_delta=d, mode=mode, sigma=sigma, rho=rho, restore_best=restore_best,
            n_rep=n_rep, key=key, num_threads=num_threads, executor=executor, progress=progress,
        )  # fmt: skip
        for d in deltas
        for p in pats
    ]
    return PatienceTradeoff(
        patience=np.array([r.patience for r in rows], dtype=np.int64),
        min_delta=np.array([r.min_delta for r in rows]),
        expected_epochs=np.array([r.expected_epochs for r in rows]),
        expected_epochs_se=np.array([r.expected_epochs_se for r in rows]),
        regret=np.array([r.regret for r in rows]),
        regret_se=np.array([r.regret_se for r in rows]),
        p_stopped=np.array([1.0 - r.p_not_stopped for r in rows]),
        n_epochs=int(val.shape[0]),
        n_rep=n_rep,
    )
