"""Shared hypothesis strategies: finite float arrays of both dtypes, strided views, seeds."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

dtypes = st.sampled_from([np.float64, np.float32])
seeds = st.integers(min_value=0, max_value=2**63 - 1)


def finite_arrays(shape, *, dtype=np.float64, lo=-10.0, hi=10.0):
    """Arrays of ``shape`` with finite elements in ``[lo, hi]``."""
    return hnp.arrays(
        dtype,
        shape,
        elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=np.dtype(dtype).itemsize * 8),
    )


@st.composite
def strided(draw, base):
    """Either the array itself or a non-contiguous view of a twice-as-long array."""
    arr = draw(base)
    if arr.ndim == 0 or not draw(st.booleans()):
        return arr
    big = np.repeat(arr, 2, axis=-1)
    view = big[..., ::2]
    assert not view.flags.c_contiguous or view.shape[-1] <= 1
    return view
