"""The README's promise: every result has a readable ``repr``, ``to_frame()`` (pandas) and
``plot(ax=None)`` (matplotlib). One instance of every public result type comes from
``_result_examples.RESULTS``; a public ``Result`` subclass without one fails the first test."""

from __future__ import annotations

import inspect
import re
import sys

import numpy as np
import pytest

import tunelab
from tunelab._results import Result

from . import _result_examples

pd = pytest.importorskip("pandas")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from matplotlib.axes import Axes  # noqa: E402

RESULTS = _result_examples.RESULTS

#: Leading columns of ``to_frame()`` where the generic rule (every column documented) says too little.
FIRST_COLUMNS = {
    "EigenResult": ["value", "residual", "n_iter", "converged"],
    "EigenResult[stack]": ["value", "residual", "n_iter", "converged"],
    "HutchinsonResult": ["estimate", "stderr", "n_samples", "variance"],
    "EigenpairsResult": ["rank", "value", "residual"],
    "EigenpairsResult[stack]": ["matrix", "rank", "value", "residual"],
    "SpectralDensity": ["grid", "density"],
    "NoiseScale": ["B_simple", "trace_sigma", "grad_norm_sq", "B_noise", "critical_batch_size", "method"],
    "SearchResult": ["lr", "wd", "score"],  # one column per dimension of the space, then the score
}
#: Results whose ``plot`` draws several panels (documented): it takes and returns that many axes.
PANELS = {"TransferStudy": 3}
#: Rows of ``to_frame()``: one per result for results of one estimate, one per matrix for a stack.
ROWS = {"EigenResult": 1, "EigenResult[stack]": 3, "EigenpairsResult": 2, "EigenpairsResult[stack]": 4, "HutchinsonResult": 1, "NoiseScale": 1}


def _public_result_types() -> set[str]:
    return {
        name
        for module in (tunelab, tunelab.optim)
        for name in module.__all__
        if isinstance(getattr(module, name), type) and issubclass(getattr(module, name), Result)
    }


def test_every_public_result_type_has_an_example():
    have = {k.split("[")[0] for k in RESULTS}
    assert _public_result_types() <= have, f"result types without an example: {_public_result_types() - have}"
    for name, build in RESULTS.items():
        assert type(build()).__name__ == name.split("[")[0]


def _significant_digits(number: str) -> int:
    mantissa = re.split(r"[eE]", number)[0].replace(".", "").lstrip("-0")
    return len(mantissa.rstrip("0"))


@pytest.mark.parametrize("name", list(RESULTS))
def test_repr_is_readable(name):
    """At most 8 significant digits per number (the repr shows 6), at most 1200 characters."""
    text = repr(RESULTS[name]())
    assert len(text) <= 1200, f"{name}: repr of {len(text)} characters"
    numbers = re.findall(r"-?\d+\.\d+(?:[eE][-+]?\d+)?", text)
    long = [x for x in numbers if _significant_digits(x) > 8]
    assert not long, f"{name}: repr shows {long[:3]}"
    assert text.startswith(name.split("[")[0] + "("), text[:80]


def _documentation(cls: type) -> str:
    parts = [inspect.getdoc(cls), inspect.getdoc(cls.to_frame), inspect.getdoc(cls._frame_columns)]
    return " ".join(p for p in parts if p)


@pytest.mark.parametrize("name", list(RESULTS))
def test_to_frame_has_the_documented_columns(name):
    res = RESULTS[name]()
    frame = res.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert frame.shape[0] >= 1 and frame.shape[1] >= 1, f"{name}: empty frame {frame.shape}"
    columns = [str(c) for c in frame.columns]
    if name in FIRST_COLUMNS:
        assert columns[: len(FIRST_COLUMNS[name])] == FIRST_COLUMNS[name], columns
    else:
        doc = _documentation(type(res))
        undocumented = [c for c in columns if not re.search(rf"\b{re.escape(c)}\b", doc)]
        assert not undocumented, f"{name}: to_frame columns not named in the docstrings: {undocumented}"
    if name in ROWS:
        assert frame.shape[0] == ROWS[name], frame
    if name.startswith("EigenResult"):
        np.testing.assert_array_equal(frame["value"], np.atleast_1d(res.value))  # the eigenvalue is kept


@pytest.mark.parametrize("name", list(RESULTS))
def test_plot_returns_axes_and_accepts_ax(name):
    res = RESULTS[name]()
    panels = PANELS.get(type(res).__name__, 1)
    drawn = np.atleast_1d(res.plot())
    assert len(drawn) == panels and all(isinstance(a, Axes) and a.has_data() for a in drawn), f"{name}: {drawn}"
    _, given = plt.subplots(1, panels)
    assert np.all(np.atleast_1d(res.plot(ax=given)) == np.atleast_1d(given))
    plt.close("all")


def test_sobol_plot_draws_every_output():
    res = RESULTS["SobolResult[outputs]"]()
    k, G = res.S1.shape
    ax = res.plot()
    assert len(ax.patches) == 2 * k * G  # an S1 and an ST bar per output and factor
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {f"{s} ({o})" for s in ("first order S1", "total ST") for o in res.outputs}
    one = res.plot(output=res.outputs[1]).patches  # a new figure: output y1 alone
    np.testing.assert_array_equal([p.get_height() for p in one[:G]], res.S1[1])
    with pytest.raises(ValueError, match="output"):
        res.plot(output="nope")
    plt.close("all")


def test_to_frame_without_pandas_names_the_pandas_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ModuleNotFoundError
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'tunelab\[pandas\]'"):
        RESULTS["HutchinsonResult"]().to_frame()
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'tunelab\[pandas\]'"):
        RESULTS["SobolResult"]().to_frame()
