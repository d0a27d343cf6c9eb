"""Sizes and indices past 2^31: indexed correctly, or refused with an error naming the argument.

Audit (cpp/, issue 7): every element, replica, row and counter index in the kernels is
``std::int64_t`` / ``std::uint64_t`` (products such as ``r * n``, ``i * n + j``, ``t * count + j``
are formed in 64 bits; no ``int`` loop counter runs over a size). The deliberate 32-bit limits
are checked before any work and refused: Spearman ranks pack an observation index into 32 bits
(``n_obs <= 2^32 - 1``), and transfer's counter slots pack (task, grid point)
(``T < 2^31``, ``G < 2^32``). Dense arrays with more than 2^31 elements cost 16 GB, too much
for a test; instead the tests below drive the 64-bit index arithmetic through offsets (the
global replica / element index ``first``) far past 2^31, where a 32-bit product would wrap,
and check outputs too large for any machine are refused by name.
"""

from __future__ import annotations

import numpy as np
import pytest

import tunelab
from tunelab import _core, reference
from tunelab._random import kernel_key
from tunelab._validation import MAX_ALLOC_BYTES, check_alloc

KEY = kernel_key(7)
FIRSTS = [2**31 - 3, 2**32 + 5, 2**40 + 1, 2**62 - 400]


@pytest.mark.parametrize("first", FIRSTS)
def test_rng_elements_past_2_31(first):
    for fn, ref in ((tunelab.standard_normal, reference.standard_normal), (tunelab.uniform, reference.uniform)):
        got = fn(300, rng=7, first=first, num_threads=2)
        np.testing.assert_array_equal(got, ref(300, key=KEY, first=first))
        # pieces join bit for bit across the 2^31 / 2^32 boundaries
        a = fn(100, rng=7, first=first)
        b = fn(200, rng=7, first=first + 100)
        np.testing.assert_array_equal(np.concatenate([a, b]), got)


@pytest.mark.parametrize("first", FIRSTS[:3])
def test_replica_index_past_2_31(first):
    """Probe r of a chunk uses stream first + r (64-bit): equal to the reference probe."""
    A = np.diag([1.0, 2.0, 3.0])
    z = _core.rademacher(3, KEY, first, 4, 2)
    for r in range(4):
        np.testing.assert_array_equal(z[r], reference.rademacher(3, key=KEY, stream=first + r))
    vals = _core.hutchinson_dense(A, KEY, first, 4, 2)
    np.testing.assert_array_equal(vals, [zr @ A @ zr for zr in z])
    tuned, latent = _core.transfer_grid_search(np.array([0.5]), np.array([-7.0]), np.array([1.0]),
                                               np.linspace(-10, -4, 9), 0.01, KEY, first, 3, 1)
    t2, l2 = _core.transfer_grid_search(np.array([0.5]), np.array([-7.0]), np.array([1.0]),
                                        np.linspace(-10, -4, 9), 0.01, KEY, first + 1, 2, 1)
    np.testing.assert_array_equal(tuned[:, 1:], t2)
    np.testing.assert_array_equal(latent[:, 1:], l2)


def test_check_alloc():
    check_alloc("size", (2**30, 4))
    with pytest.raises(ValueError, match="steps"):
        check_alloc("steps", (4, 2**61))
    assert MAX_ALLOC_BYTES == 2**62


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: tunelab.standard_normal(2**61), "size"),
        (lambda: tunelab.uniform(2**63), "size"),
        (lambda: tunelab.gd_quadratic(np.eye(2), np.ones(2), [0.1, 0.2], 2**61), "steps"),
        (lambda: tunelab.transfer_study([0.5, 0.5], n_seeds=2**60), "n_seeds"),
        (lambda: tunelab.standard_normal(4, first=2**62 + 1), "first"),
        (lambda: tunelab.standard_normal(4, stream=2**64), "stream"),
        (lambda: tunelab.top_eigenvalue(np.eye(2), max_iter=2**64), "max_iter"),
        # found by UBSan under the abuse test: pybind11's strides of a (count, n) output overflowed
        (lambda: tunelab.hutchinson_trace(np.dot, 8, n=2**62), "n"),
        (lambda: tunelab.top_eigenvalue(np.dot, n=2**62), "n"),
        (lambda: _core.rademacher(2**62, 1, 0, 64, 1), "n"),
        (lambda: _core.top_eigen_callable(np.dot, 2**62, _core.EigenOptions(
            method=_core.Method.power, which=_core.Which.LA, reorth=_core.Reorth.full, tol=1e-8, max_iter=10), 1), "n"),
    ],
)
def test_outputs_beyond_any_machine_are_refused_by_name(call, name):
    with pytest.raises((ValueError, TypeError, OverflowError), match=name):
        call()

