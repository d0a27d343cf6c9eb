"""The counter-based generator: known answers, agreement with the NumPy reference, moments,
normality, seeding (SPEC 7) and independence from the thread count."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


R_TAIL = 3.6541528853610088  # the ziggurat's base-layer edge (Marsaglia & Tsang 2000, 256 layers)


def _assert_normals_match(z, ref):
    """Bit-identical except tail draws (|z| > r: value r - log(u1)/r uses libm's log against
    NumPy's, which may differ in the last bit), which agree to 1e-13 relative."""
    tail = np.abs(ref) > R_TAIL
    np.testing.assert_array_equal(z[~tail], ref[~tail])
    np.testing.assert_allclose(z[tail], ref[tail], rtol=1e-13, atol=0)


@given(
    size=st.integers(0, 300),
    first=st.integers(0, 1000) | st.integers(2**33 - 600, 2**33 + 100),
    stream=st.integers(0, 2**64 - 1),
    seed=st.integers(0, 2**32),
)
def test_draws_equal_reference(size, first, stream, seed):
    """Uniforms are bit-identical to the NumPy reference (pure integer work and one exact
    scaling); normals too, except tail draws (see _assert_normals_match). Starts near element
    2^33 put block 2^32, where the counter's low word wraps into its high word, inside one SIMD
    group of blocks."""
    key = kernel_key(seed)
    u = tunelab.uniform(size, rng=seed, stream=stream, first=first)
    np.testing.assert_array_equal(u, tunelab.reference.uniform(size, key=key, stream=stream, first=first))
    z = tunelab.standard_normal(size, rng=seed, stream=stream, first=first)
    _assert_normals_match(z, tunelab.reference.standard_normal(size, key=key, stream=stream, first=first))


def test_slow_paths_equal_reference():
    """On 400 001 draws (odd start, a stream above 2^32) the kernel equals the reference, and
    the sample really exercises the slow paths: >= 4000 draws failing the fast test (1.5 %)
    and >= 50 tail draws (2.6e-4 of draws)."""
    from tunelab.reference.rng import _elements, _words, _zig_fast

    n, first, stream, seed = 400_001, 12_345, 2**40 + 3, 99
    key = kernel_key(seed)
    z = tunelab.standard_normal(n, rng=seed, stream=stream, first=first)
    ref = tunelab.reference.standard_normal(n, key=key, stream=stream, first=first)
    _assert_normals_match(z, ref)
    blocks, half = _elements(key, stream, np.arange(first, first + n, dtype=np.uint64))
    slow = ~_zig_fast(_words(blocks, half))[1]
    assert slow.sum() >= 4000
    assert (np.abs(z) > R_TAIL).sum() >= 50


@pytest.mark.parametrize("first", [0, 1, 30, 31])
def test_stream_normal_equals_bulk_fill(first):
    """rng::Stream::normal() (the per-draw path, with its block cache) gives element for element
    the bulk fill's numbers."""
    key = kernel_key(4)
    n = 5003
    bulk = tunelab.standard_normal(n, rng=4, stream=7, first=first)
    np.testing.assert_array_equal(_core.stream_normals(n, key, 7, first), bulk)


def test_simd_paths_give_the_same_bits():
    """Scalar, AVX2 and AVX-512F Philox paths (capped by TUNELAB_SIMD, read at start-up,
    so each runs in a fresh interpreter) give identical uniforms and normals."""
    code = (
        "import hashlib, numpy as np, tunelab; from tunelab import _core;"
        "z = tunelab.standard_normal(100_003, rng=8, first=5, stream=2**33);"
        "u = tunelab.uniform(70_001, rng=8, first=3);"
        "s = _core.stream_normals(1001, 12345, 3, 1);"
        "print(_core.rng_simd_level(), hashlib.sha256(z.tobytes() + u.tobytes() + s.tobytes()).hexdigest())"
    )
    results = {}
    for cap in "012":
        env = {**os.environ, "TUNELAB_SIMD": cap}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        level, digest = out.stdout.split()
        assert int(level) <= int(cap)
        results[int(level)] = digest
    assert 0 in results
    assert len(set(results.values())) == 1, results


def test_ziggurat_tables_match_reference():
    """The compiled tables equal the reference's 60-digit decimal computation bit for bit (so
    rng_tables.hpp is not stale), the ladder closes (residual ~ 0) and r agrees with Marsaglia
    & Tsang's published value."""
    from tunelab.reference import _ziggurat

    t = _ziggurat.tables()
    w, k, f, r, inv_r = _core.ziggurat_tables()
    np.testing.assert_array_equal(w, t["w"])
    np.testing.assert_array_equal(k, t["k"])
    np.testing.assert_array_equal(f, t["f"])
    assert (r, inv_r) == (t["r"], t["inv_r"])
    assert abs(t["residual"]) < 1e-30
    assert r == R_TAIL
    assert np.all(np.diff(t["w"][1:]) < 0) and np.all(np.diff(t["f"][1:]) > 0)
    header = Path(__file__).resolve().parents[1] / "cpp" / "include" / "tunelab" / "rng_tables.hpp"
    if header.exists():  # in a source checkout: the header is exactly what the generator prints
        assert header.read_text() == _ziggurat.header()


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


@pytest.fixture(scope="module")
def ten_million():
    return tunelab.standard_normal(10_000_000, rng=2025)


@pytest.fixture(scope="module")
def hundred_million_tail():
    """Draws with |z| > 3.5 among 10^8 normals (drawn in pieces of 10^7: memory stays small)."""
    n, piece, seed = 100_000_000, 10_000_000, 2026
    buf = np.empty(piece)
    tails = []
    for first in range(0, n, piece):
        tunelab.standard_normal(rng=seed, first=first, out=buf)
        tails.append(buf[np.abs(buf) > 3.5])
    return n, np.concatenate(tails)


@pytest.mark.parametrize("c", [3.5, R_TAIL, 4.0, 4.5, 5.0])
def test_tail_probabilities_within_5_standard_errors(hundred_million_tail, c):
    """P(|z| > c) on 10^8 draws within 5 binomial SE of 2 Phi(-c), below, at and beyond the
    ziggurat's tail edge r (the classic ziggurat failure is a wrong tail)."""
    n, tail = hundred_million_tail
    p = 2 * stats.norm.sf(c)
    count = np.count_nonzero(np.abs(tail) > c)
    assert abs(count - n * p) < 5 * np.sqrt(n * p * (1 - p))


def test_tail_shape_and_symmetry(hundred_million_tail, ten_million):
    """The ~26 000 draws beyond r (of 10^8) follow the truncated normal (KS at level 0.001),
    both signs equally often (5 SE); the fraction of positive draws is 1/2 within 5 SE."""
    _, tail = hundred_million_tail
    beyond = tail[np.abs(tail) > R_TAIL]
    assert stats.kstest(np.abs(beyond), stats.truncnorm(R_TAIL, np.inf).cdf).pvalue > 1e-3
    k = np.count_nonzero(beyond > 0)
    assert abs(k - beyond.size / 2) < 5 * np.sqrt(beyond.size / 4)
    z = ten_million
    assert abs(np.mean(z > 0) - 0.5) < 5 * np.sqrt(0.25 / z.size)


def test_layer_histogram_chi_square(ten_million):
    """|z| binned at the 255 ziggurat layer edges x_1 > ... > x_255 (plus 0 and inf): counts
    agree with 2 (Phi(b) - Phi(a)) by Pearson's chi-square at level 0.001. A wrong wedge,
    table entry or layer would show in its own bin."""
    from tunelab.reference import _ziggurat

    edges = np.concatenate([[0.0], np.sort(_ziggurat.tables()["w"][1:] * 2.0**52), [np.inf]])
    counts = np.histogram(np.abs(ten_million), bins=edges)[0]
    expected = ten_million.size * 2 * np.diff(stats.norm.cdf(edges))
    assert stats.chisquare(counts, expected * counts.sum() / expected.sum()).pvalue > 1e-3


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


def test_out_fills_in_place_and_matches():
    out = np.full((3, 5), np.nan)
    res = tunelab.standard_normal(rng=3, first=2, out=out)
    assert res is out
    np.testing.assert_array_equal(out.ravel(), tunelab.standard_normal(15, rng=3, first=2))
    u = np.empty(7)
    tunelab.uniform(7, rng=3, out=u)
    np.testing.assert_array_equal(u, tunelab.uniform(7, rng=3))


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"out": np.empty(4, dtype=np.float32)}, TypeError, "out"),
        ({"out": [0.0, 1.0]}, TypeError, "out"),
        ({"out": np.empty(8)[::2]}, ValueError, "out"),
        ({"out": np.broadcast_to(np.empty(1), (4,))}, ValueError, "out"),
        ({"out": np.empty(4), "size": 5}, ValueError, "size"),
        ({}, TypeError, "size"),
    ],
)
def test_out_refusals(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        tunelab.standard_normal(**kwargs)
