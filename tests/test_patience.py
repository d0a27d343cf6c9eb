"""The patience trade-off: its rows are patience_stopping runs on common random numbers, equal
to the NumPy reference. (Its plot and refusals are tested beside patience_stopping's.)"""

from __future__ import annotations

import numpy as np

import tunelab
from tunelab import reference as ref
from tunelab._random import kernel_key

EP = np.arange(1, 61, dtype=float)


def test_patience_tradeoff_rows_are_patience_stopping_runs():
    v = 1 / EP + 0.003 * EP
    t = tunelab.patience_tradeoff(v, patience=[1, 3, 8], min_delta=[0.0, 0.01], noise_std=0.03, n_rep=20_000, rng=4)
    assert t.patience.tolist() == [1, 3, 8, 1, 3, 8] and t.min_delta.tolist() == [0.0] * 3 + [0.01] * 3
    single = tunelab.patience_stopping(v, patience=8, min_delta=0.01, noise_std=0.03, n_rep=20_000, rng=4)
    assert t.regret[5] == single.regret and t.expected_epochs[5] == single.expected_epochs
    # more patience: more epochs spent (common random numbers make this hold replica by replica)
    assert np.all(np.diff(t.expected_epochs[:3]) > 0)
    rows = ref.patience_tradeoff(
        v, patiences=[1, 3, 8], min_deltas=[0.0, 0.01], sigma=0.03, rho=0.0, restore_best=True, n_rep=2000, key=kernel_key(4)
    )
    small = tunelab.patience_tradeoff(v, patience=[1, 3, 8], min_delta=[0.0, 0.01], noise_std=0.03, n_rep=2000, rng=4)
    np.testing.assert_allclose(small.expected_epochs, rows[:, 2], rtol=1e-12)
    np.testing.assert_allclose(small.regret, rows[:, 3], rtol=1e-12, atol=1e-15)
    frame = t.to_frame()
    assert list(frame.columns[:3]) == ["patience", "min_delta", "expected_epochs"] and len(frame) == 6
