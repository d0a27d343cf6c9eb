"""Grid and random search: configurations, best, extras, refusals."""

from __future__ import annotations

import numpy as np
import pytest

import tunelab


def _bowl(x, y):
    return (np.log10(x) + 1) ** 2 + (y - 0.25) ** 2


def test_grid_search_enumerates_the_product_in_one_call():
    calls = []

    def obj(x, y):
        calls.append(x.size)
        return _bowl(x, y)

    res = tunelab.grid_search(obj, {"x": tunelab.LogUniform(1e-3, 10), "y": tunelab.Grid([0.0, 0.25, 0.5])}, num=9)
    assert calls == [27] and res.shape == (9, 3)
    assert res.best == pytest.approx({"x": 0.1, "y": 0.25})
    np.testing.assert_allclose(res.params["x"].reshape(9, 3)[:, 0], np.geomspace(1e-3, 10, 9))
    assert res.best_score == pytest.approx(0.0, abs=1e-12)


def test_random_search_is_reproducible_and_samples_within_bounds():
    space = {"x": tunelab.LogUniform(1e-3, 10), "y": tunelab.Uniform(-1, 1), "z": [1, 2, 3]}
    a = tunelab.random_search(lambda x, y, z: _bowl(x, y) + z, space, 500, rng=3)
    b = tunelab.random_search(lambda x, y, z: _bowl(x, y) + z, space, 500, rng=3)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert a.params["x"].min() >= 1e-3 and a.params["x"].max() <= 10
    assert set(np.unique(a.params["z"])) == {1, 2, 3}
    assert a.best["z"] == 1 and a.best_score == a.scores.min()
    # log-uniform: the fraction below 0.1 is 2/4 of the decades
    frac = np.mean(a.params["x"] < 0.1)
    assert abs(frac - 0.5) < 5 * np.sqrt(0.25 / 500)


def test_nan_scores_are_worst_extras_and_maximize():
    def obj(a):
        return {"score": np.where(a > 2, np.nan, a), "double": 2 * a}

    res = tunelab.grid_search(obj, {"a": [1.0, 2.0, 3.0]}, minimize=False)
    assert res.best == {"a": 2.0}
    pd = pytest.importorskip("pandas")
    df = res.to_frame()
    assert isinstance(df, pd.DataFrame) and list(df.columns) == ["a", "score", "double"]
    assert "SearchResult(grid (3,)" in repr(res)


def test_plots():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    g = tunelab.grid_search(_bowl, {"x": tunelab.LogUniform(1e-3, 10), "y": [0.0, np.inf]}, num=4)
    g.plot()
    tunelab.random_search(_bowl, {"x": tunelab.LogUniform(1e-3, 10), "y": tunelab.Uniform(0, 1)}, 20, rng=0).plot()
    tunelab.grid_search(lambda x: x, {"x": [1.0, 2.0]}).plot()


def test_refusals():
    with pytest.raises(TypeError, match="objective"):
        tunelab.grid_search(3, {"x": [1]})
    with pytest.raises(TypeError, match="space"):
        tunelab.grid_search(_bowl, [1, 2])
    with pytest.raises(ValueError, match="space"):
        tunelab.grid_search(lambda **k: 0, {"not ok": [1]})
    with pytest.raises(TypeError, match="space"):
        tunelab.grid_search(lambda x: x, {"x": 3.0})
    with pytest.raises(ValueError, match="num"):
        tunelab.grid_search(lambda x: x, {"x": tunelab.Uniform(0, 1)})
    with pytest.raises(ValueError, match="objective"):
        tunelab.grid_search(lambda x: x[:1], {"x": [1.0, 2.0]})
    with pytest.raises(ValueError, match="high"):
        tunelab.Uniform(1, 0)
    with pytest.raises(ValueError, match="low"):
        tunelab.LogUniform(0, 1)
    with pytest.raises(ValueError, match="values"):
        tunelab.Grid([])
    with pytest.raises(ValueError, match="n"):
        tunelab.random_search(lambda x: x, {"x": [1.0]}, 0)
