"""
tunelab's compiled kernels (private: use the functions of the tunelab package)
"""
from __future__ import annotations
import numpy
import numpy.typing
import typing
def max_threads() -> int:
    """
    The number of threads num_threads=None uses.
    """
def openmp_enabled() -> bool:
    """
    Whether the extension was built with OpenMP.
    """
def philox4x32_10(ctr: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32], key: typing.Annotated[numpy.typing.ArrayLike, numpy.uint32]) -> numpy.typing.NDArray[numpy.uint32]:
    """
    Philox4x32-10 block function (see tunelab.reference.philox4x32_10).
    """
def rng_simd_level() -> int:
    """
    Philox bulk path in use: 0 scalar, 1 AVX2, 2 AVX-512F.
    """
def standard_normal(n: typing.SupportsInt | typing.SupportsIndex, key: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Standard normals; see tunelab.standard_normal.
    """
def standard_normal_into(out: numpy.typing.NDArray[numpy.float64], key: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Fill out (C-contiguous float64) with standard normals; see tunelab.standard_normal.
    """
def stream_axpy(x: numpy.typing.NDArray[numpy.float64], y: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], s: typing.SupportsFloat | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    x += s*y in place (bench probe).
    """
def stream_normals(n: typing.SupportsInt | typing.SupportsIndex, key: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    n calls of rng::Stream::normal() from element first (tests, bench).
    """
def stream_triad(a: numpy.typing.NDArray[numpy.float64], b: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], c: typing.Annotated[numpy.typing.ArrayLike, numpy.float64], s: typing.SupportsFloat | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    a = b + s*c (bench probe).
    """
def uniform(n: typing.SupportsInt | typing.SupportsIndex, key: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
    """
    Uniforms in [0, 1); see tunelab.uniform.
    """
def uniform_into(out: numpy.typing.NDArray[numpy.float64], key: typing.SupportsInt | typing.SupportsIndex, stream: typing.SupportsInt | typing.SupportsIndex, first: typing.SupportsInt | typing.SupportsIndex, num_threads: typing.SupportsInt | typing.SupportsIndex) -> None:
    """
    Fill out (C-contiguous float64) with uniforms in [0, 1); see tunelab.uniform.
    """
def ziggurat_tables() -> tuple:
    """
    The compiled ziggurat tables (w, k, f, r, 1/r); see tunelab.reference._ziggurat.
    """
