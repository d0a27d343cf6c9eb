"""The counter-based generator: known answers, agreement with the NumPy reference, moments,
normality, seeding (SPEC 7) and independence from the thread count."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import tunelab
from tunelab import _core
from tunelab._random import kernel_key

# Random123's published known-answer vectors for Philox4x32-10 (kat_vectors).
KAT = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    (
        [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
        [0xA4093822, 0x299F31D0],
        [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1],
    ),
]


@pytest.mark.parametrize(("ctr", "key", "expected"), KAT)
def test_philox_known_answers(ctr, key, expected):
    ctr = np.array(ctr, dtype=np.uint32)
    key = np.array(key, dtype=np.uint32)
    np.testing.assert_array_equal(_core.philox4x32_10(ctr, key), expected)
    np.testing.assert_array_equal(tunelab.reference.philox4x32_10(ctr, key), expected)


@given(size=st.integers(0, 300), first=st.integers(0, 1000), stream=st.integers(0, 2**64 - 1), seed=st.integers(0, 2**32))
def test_draws_equal_reference(size, first, stream, seed):
    """Uniforms are bit-identical to the NumPy reference (pure integer work and one exact
    scaling); normals agree to 1e-13 relative, the difference being libm's log/cos/sin
    against NumPy's in the last bits."""
    key = kernel_key(seed)
    u = tunelab.uniform(size, rng=seed, stream=stream, first=first)
    np.testing.assert_array_equal(u, tunelab.reference.uniform(size, key=key, stream=stream, first=first))
    z = tunelab.standard_normal(size, rng=seed, stream=stream, first=first)
    ref = tunelab.reference.standard_normal(size, key=key, stream=stream, first=first)
    np.testing.assert_allclose(z, ref, rtol=1e-13, atol=1e-13)


def test_pieces_join_bit_for_bit():
    whole = tunelab.standard_normal(1001, rng=7)
    pieces = np.concatenate([tunelab.standard_normal(n, rng=7, first=f) for f, n in [(0, 3), (3, 500), (503, 498)]])
    np.testing.assert_array_equal(whole, pieces)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_thread_count_does_not_change_bits(threads):
    ref = tunelab.standard_normal(200_003, rng=11, num_threads=1)
    np.testing.assert_array_equal(tunelab.standard_normal(200_003, rng=11, num_threads=threads), ref)


def test_normal_moments_within_5_standard_errors():
    """Mean, variance, skewness and excess kurtosis of 2e6 normals, each within 5 SE of the
    normal law's value; the SEs are the large-sample ones: sqrt(1/n), sqrt(2/n), sqrt(6/n),
    sqrt(24/n)."""
    n = 2_000_000
    z = tunelab.standard_normal(n, rng=2024)
    assert abs(z.mean()) < 5 * np.sqrt(1 / n)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs(stats.skew(z)) < 5 * np.sqrt(6 / n)
    assert abs(stats.kurtosis(z)) < 5 * np.sqrt(24 / n)


def test_normals_pass_kolmogorov_smirnov():
    """KS test against N(0, 1) on 10^6 draws, fixed seed, at level 0.001."""
    z = tunelab.standard_normal(1_000_000, rng=5)
    assert stats.kstest(z, "norm").pvalue > 1e-3


def test_uniforms_pass_kolmogorov_smirnov_and_lie_in_unit_interval():
    u = tunelab.uniform(1_000_000, rng=6)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_streams_are_uncorrelated():
    """Correlation of two streams' normals: within 5 SE (1/sqrt(n)) of zero."""
    n = 500_000
    a = tunelab.standard_normal(n, rng=3, stream=0)
    b = tunelab.standard_normal(n, rng=3, stream=1)
    assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(n)


def test_seeding_spec7():
    a = tunelab.standard_normal(5, rng=123)
    np.testing.assert_array_equal(a, tunelab.standard_normal(5, rng=np.random.SeedSequence(123)))
    np.testing.assert_array_equal(a, tunelab.standard_normal(5, rng=np.random.default_rng(123)))
    assert not np.array_equal(a, tunelab.standard_normal(5, rng=124))
    g = np.random.default_rng(1)
    assert not np.array_equal(tunelab.standard_normal(5, rng=g), tunelab.standard_normal(5, rng=g))


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"rng": "seed"}, TypeError, "rng"),
        ({"rng": 1.5}, TypeError, "rng"),
        ({"rng": -1}, ValueError, "rng"),
        ({"num_threads": 0}, ValueError, "num_threads"),
        ({"num_threads": 2.0}, TypeError, "num_threads"),
        ({"stream": -1}, ValueError, "stream"),
        ({"first": -1}, ValueError, "first"),
    ],
)
def test_refusals(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        tunelab.standard_normal(3, **kwargs)


@pytest.mark.parametrize(("size", "exc"), [(-1, ValueError), (2.5, TypeError), (True, TypeError)])
def test_size_refusals(size, exc):
    with pytest.raises(exc, match="size"):
        tunelab.uniform(size)
