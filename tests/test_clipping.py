"""The clipping study: the best rate and the clipping threshold are coupled."""

from __future__ import annotations

import numpy as np

from tunelab.studies import clipping_study


def test_clipping_study_shows_the_coupling():
    """With heavy-tailed noise, the best rate grows as the threshold shrinks (monotone up to
    grid ties), and the best clipped configuration beats no clipping."""
    res = clipping_study(seeds=8, steps=150, lrs=np.geomspace(1e-3, 2.0, 10),
                         clips=np.array([0.3, 3.0, 30.0, np.inf]), rng=1)  # fmt: skip
    assert res.best_lr[0] > res.best_lr[2]
    assert np.all(np.diff(res.best_lr) <= 0)
    assert res.best_loss[:-1].min() < res.best_loss[-1]
    assert res.effective_lr_curves.shape == (4, 50)
