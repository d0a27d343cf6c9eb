// Level-1 and matrix-vector helpers every area shares: dot products in a fixed order, norms
// that survive over- and underflow, exact power-of-two scaling, y = A x by rows, and Y = A X
// for many vectors. Serial and fixed-order, so every result is the same bits on any thread
// count (symv splits rows over threads, never a sum; symv_upper's blocks do not depend on the
// thread count).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "tunelab/parallel.hpp"
#include "tunelab/simd.hpp"

namespace tunelab::linalg {

// Four partial sums combined as ((s0 + s1) + (s2 + s3)) + tail: a fixed order (so the same bits
// on any thread), and four independent dependency chains instead of one.
TUNELAB_ALWAYS_INLINE double dot(const double* a, const double* b, std::int64_t n) noexcept {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  double s = (s0 + s1) + (s2 + s3);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// ---------------------------------------------------------------------------------------
// Exact power-of-two scaling. A solve runs on 2^-e A with e the binary exponent of max|A_ij|
// (frexp: max|2^-e A| in [0.5, 1)), or, for a matvec callable, of the first product's largest
// entry; the value and residual are scaled back by 2^e at the end. Multiplying by a power of
// two is exact (unless a result is subnormal), and every IEEE operation commutes with it, so a
// solve on 2^k A performs, on the same scaled numbers, exactly the operations of the solve on
// A: the result is 2^k times the result on A, bit for bit, and it never depends on which other
// matrices share a stack. The exponent is clamped to [-1023, 1024] so that 2^-e is a double.
inline int scale_exponent(double big) noexcept {
  if (!(big > 0.0) || !std::isfinite(big)) return 0;  // zero: nothing to scale; non-finite: refused elsewhere
  int e = 0;
  (void)std::frexp(big, &e);
  return std::clamp(e, -1023, 1024);
}

// 2^-e as a double (e in [-1023, 1024]: 2^1023 .. 2^-1024, all representable).
inline double pow2_neg(int e) noexcept { return std::ldexp(1.0, -e); }

// x[0..count) *= 2^-e.
inline void scale_by_pow2(double* x, std::int64_t count, int e) noexcept {
  if (e == 0) return;
  const double f = pow2_neg(e);
  for (std::int64_t i = 0; i < count; ++i) x[i] *= f;
}

inline double max_abs(const double* a, std::int64_t count) noexcept {
  double big = 0.0;
  for (std::int64_t i = 0; i < count; ++i) big = std::max(big, std::fabs(a[i]));
  return big;
}

// sum_i (x(i) f)^2 in dot's fixed order (four chains, then the tail).
template <class Elem>
TUNELAB_ALWAYS_INLINE double sum_squares(Elem&& x, std::int64_t n, double f) noexcept {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const double t0 = x(i) * f, t1 = x(i + 1) * f, t2 = x(i + 2) * f, t3 = x(i + 3) * f;
    s0 += t0 * t0;
    s1 += t1 * t1;
    s2 += t2 * t2;
    s3 += t3 * t3;
  }
  double s = (s0 + s1) + (s2 + s3);
  for (; i < n; ++i) {
    const double t = x(i) * f;
    s += t * t;
  }
  return s;
}

// sqrt(sum_i x(i)^2) given the plain sum ss: ss itself when it neither over- nor underflowed,
// otherwise the same sum on x scaled by the power of two of its largest |x(i)| (exact, so both
// give the same bits where both are valid), scaled back.
template <class Elem>
TUNELAB_ALWAYS_INLINE double safe_norm(Elem&& x, std::int64_t n, double ss) noexcept {
  if (ss > 1e-280 && ss < 1e280) return std::sqrt(ss);
  double big = 0.0;
  for (std::int64_t i = 0; i < n; ++i) big = std::max(big, std::fabs(x(i)));
  if (big == 0.0 || !std::isfinite(big)) return big;
  const int e = scale_exponent(big);
  return std::ldexp(std::sqrt(sum_squares(x, n, pow2_neg(e))), e);
}

// ||a||_2.
TUNELAB_ALWAYS_INLINE double norm2(const double* a, std::int64_t n) noexcept {
  return safe_norm([a](std::int64_t i) { return a[i]; }, n, dot(a, a, n));
}

// ||a - c b||_2 (the residual of an eigenpair), fixed order like dot; rescaled like norm2 when
// the sum of squares over- or underflows (a residual that underflows to 0 would stop a solve).
TUNELAB_ALWAYS_INLINE double residual_norm(const double* a, double c, const double* b, std::int64_t n) noexcept {
  auto x = [a, b, c](std::int64_t i) { return a[i] - c * b[i]; };
  return safe_norm(x, n, sum_squares(x, n, 1.0));
}

// dot(a * f, b): the same order as dot, each a[i] first multiplied by f (a power of two: exact).
TUNELAB_ALWAYS_INLINE double dot_scaled(const double* a, double f, const double* b, std::int64_t n) noexcept {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += (a[i] * f) * b[i];
    s1 += (a[i + 1] * f) * b[i + 1];
    s2 += (a[i + 2] * f) * b[i + 2];
    s3 += (a[i + 3] * f) * b[i + 3];
  }
  double s = (s0 + s1) + (s2 + s3);
  for (; i < n; ++i) s += (a[i] * f) * b[i];
  return s;
}

// ---------------------------------------------------------------------------------------
// Matrix-vector product rows [lo, hi) of y = A x (row-major A): each y[i] is dot(A[i, :], x)
// with dot's fixed order, so every element is the same sum whatever the row blocking or thread
// count, and a matrix of a stack gives the bits it gives alone. Rows are contiguous, so the
// matrix streams from memory once, front to back.
inline void symv_block(const double* A, std::int64_t n, const double* x, double* y, std::int64_t lo,
                       std::int64_t hi, double f = 1.0) noexcept {
  if (f == 1.0) {
    for (std::int64_t i = lo; i < hi; ++i) y[i] = dot(A + i * n, x, n);
  } else {  // y = (f A) x, f a power of two (the solve's scaling): the same sums on f A_ij
    for (std::int64_t i = lo; i < hi; ++i) y[i] = dot_scaled(A + i * n, f, x, n);
  }
}

// y = (f A) x, OpenMP over blocks of rows of A; serial when small.
inline void symv(const double* A, std::int64_t n, const double* x, double* y, int threads, double f = 1.0) noexcept {
  const int t = resolve_threads(threads);
  if (t <= 1 || n < 256) {
    symv_block(A, n, x, y, 0, n, f);
    return;
  }
  constexpr std::int64_t kBlock = 64;  // rows per task (static schedule: contiguous per thread)
  const std::int64_t tasks = (n + kBlock - 1) / kBlock;
  parallel_for(tasks, t, [=](std::int64_t b) {
    const std::int64_t lo = b * kBlock, hi = std::min(n, lo + kBlock);
    symv_block(A, n, x, y, lo, hi, f);
  });
}

// y = (f A) x for a symmetric A, reading only its upper triangle (j >= i; the lower one is never
// touched, as in LAPACK's dsymv with uplo = 'U'): half the bytes of symv, for the solves that
// stream a large matrix once per matvec. Each element a_ij (i < j), read once, serves twice: in
// row i's sum and, as a_ji, in row j's. Rows are cut into blocks of kSymBlock; block b gives
//   y[i]      = (c0 + c1) + (c2 + c3),  chain c_k = sum of a_ij x_j over j >= i, j = k mod 4,
//               in ascending j (four independent chains, fixed by the column, not the row),
//   part_b[j] = sum_{i in block b, i < j} a_ij x_i, in ascending i,
// then y[j] += part_0[j], part_1[j], ... up to j's own block, in that order. Every sum has a
// fixed order and the blocks do not depend on the thread count, so the result is the same bits
// on any thread count, and a stack's matrix (one thread) gives the bits it gives alone. Rows go
// four at a time where they can (each x and part element loaded once for four rows; the same
// sums as one at a time). Tasks pair block b with block nb - 1 - b: equal shares of the triangle.
// part: symv_upper_scratch(n) doubles (the blocks' parts, then f x), overwritten.
constexpr std::int64_t kSymBlock = 128;
inline std::int64_t symv_upper_scratch(std::int64_t n) noexcept { return ((n + kSymBlock - 1) / kSymBlock + 1) * n; }

// Rows i .. i + R - 1 of symv_upper (i a multiple of 4 when R > 1) into y and part (their
// block's). xf = f x: a_ij (f x_j) is the bits of (f a_ij) x_j (f a power of two: exact).
template <int R>
TUNELAB_ALWAYS_INLINE void symv_upper_group(const double* A, std::int64_t n, const double* xf, double* y,
                                            double* part, std::int64_t i) noexcept {
  double c[R][4] = {};
  // Columns up to the first multiple of 4 past every row's diagonal, one by one (so the
  // diagonal a_rr goes to row r's chain alone, never to part).
  const std::int64_t j0 = std::min(n, (i + R + 3) / 4 * 4);
  for (int r = 0; r < R; ++r) {
    const double* row = A + (i + r) * n;
    for (std::int64_t j = i + r; j < j0; ++j) {
      c[r][j % 4] += row[j] * xf[j];
      if (j > i + r) part[j] += row[j] * xf[i + r];
    }
  }
  std::int64_t j = j0;
#if defined(__GNUC__)
  if (j % 4 == 0) {  // whole groups of 4 columns: chains 0, 1 and 2, 3 as pairs
    using simd::at;
    using simd::d2;
    d2 s01[R], s23[R], xr[R];
    for (int r = 0; r < R; ++r) {
      s01[r] = d2{c[r][0], c[r][1]};
      s23[r] = d2{c[r][2], c[r][3]};
      xr[r] = d2{xf[i + r], xf[i + r]};
    }
    for (; j + 4 <= n; j += 4) {
      const d2 x01 = at<d2>(xf + j), x23 = at<d2>(xf + j + 2);
      d2 p01 = at<d2>(part + j), p23 = at<d2>(part + j + 2);
      for (int r = 0; r < R; ++r) {
        const double* row = A + (i + r) * n + j;
        const d2 a01 = at<d2>(row), a23 = at<d2>(row + 2);
        s01[r] += a01 * x01;
        s23[r] += a23 * x23;
        p01 += a01 * xr[r];
        p23 += a23 * xr[r];
      }
      at<d2>(part + j) = p01;
      at<d2>(part + j + 2) = p23;
    }
    for (int r = 0; r < R; ++r) {
      c[r][0] = s01[r][0];
      c[r][1] = s01[r][1];
      c[r][2] = s23[r][0];
      c[r][3] = s23[r][1];
    }
  }
#endif
  for (; j < n; ++j) {
    for (int r = 0; r < R; ++r) {
      const double a = A[(i + r) * n + j];
      c[r][j % 4] += a * xf[j];
      part[j] += a * xf[i + r];
    }
  }
  for (int r = 0; r < R; ++r) y[i + r] = (c[r][0] + c[r][1]) + (c[r][2] + c[r][3]);
}

inline void symv_upper_rows(const double* A, std::int64_t n, const double* xf, double* y, double* part,
                            std::int64_t lo, std::int64_t hi) noexcept {
  std::fill(part + lo, part + n, 0.0);
  std::int64_t i = lo;  // a multiple of kSymBlock, so of 4
#if defined(__GNUC__)
  for (; i + 4 <= hi; i += 4) symv_upper_group<4>(A, n, xf, y, part, i);
#endif
  for (; i < hi; ++i) symv_upper_group<1>(A, n, xf, y, part, i);
}

inline void symv_upper(const double* A, std::int64_t n, const double* x, double* y, double* part, int threads,
                       double f = 1.0) noexcept {
  const std::int64_t nb = (n + kSymBlock - 1) / kSymBlock;
  const int t = n < 256 ? 1 : resolve_threads(threads);
  double* xf = part + nb * n;
  for (std::int64_t j = 0; j < n; ++j) xf[j] = f * x[j];
  auto rows_of = [=](std::int64_t b) {
    symv_upper_rows(A, n, xf, y, part + b * n, b * kSymBlock, std::min(n, (b + 1) * kSymBlock));
  };
  parallel_for((nb + 1) / 2, t, [=](std::int64_t b) {
    rows_of(b);
    if (nb - 1 - b != b) rows_of(nb - 1 - b);
  });
  parallel_for(nb, t, [=](std::int64_t jb) {
    const std::int64_t lo = jb * kSymBlock, hi = std::min(n, lo + kSymBlock);
    for (std::int64_t b = 0; b <= jb; ++b) {
      const double* pb = part + b * n;
      for (std::int64_t j = lo; j < hi; ++j) y[j] += pb[j];
    }
  });
}

// ---------------------------------------------------------------------------------------
// Y[g] = A X[g] for G vectors at once (X, Y: G rows of n), from T = A' (row j of T is column j
// of A). Every Y[g][i] is sum_j A[i][j] X[g][j] added from 0 in the order j = 0, 1, ..., n-1.
// Vector lanes are outputs i, so neither the vector width nor the tiling changes a bit: register
// tiles of 4 vectors x 3 W outputs (then narrower), over rows of T in blocks of kMatvecsRows
// whose partial sums go through Y. A tile uses each loaded piece of T for 4 vectors and each X
// element for up to 3 W outputs: on Zen 1 about 3.1 multiply-adds per cycle of the 4 that its
// two multipliers allow, against 1.7 for a dot per output (two loads per multiply).
constexpr std::int64_t kMatvecsRows = 256;

template <class V, int R, int Q>
TUNELAB_ALWAYS_INLINE void matvecs_tile(const double* T, std::int64_t n, const double* X, double* Y, std::int64_t g0,
                                        std::int64_t i0, std::int64_t j0, std::int64_t j1) noexcept {
  constexpr int W = simd::kW<V>;
  V acc[R][Q];
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < Q; ++q) acc[r][q] = j0 == 0 ? V{} : simd::at<V>(Y + (g0 + r) * n + i0 + q * W);
  for (std::int64_t j = j0; j < j1; ++j) {
    V col[Q];
    for (int q = 0; q < Q; ++q) col[q] = simd::at<V>(T + j * n + i0 + q * W);
    for (int r = 0; r < R; ++r) {
      const double x = X[(g0 + r) * n + j];
      for (int q = 0; q < Q; ++q) acc[r][q] += col[q] * x;
    }
  }
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < Q; ++q) simd::at<V>(Y + (g0 + r) * n + i0 + q * W) = acc[r][q];
}

template <class V, int Q>
TUNELAB_ALWAYS_INLINE void matvecs_cols(const double* T, std::int64_t n, const double* X, double* Y, std::int64_t G,
                                        std::int64_t i0, std::int64_t j0, std::int64_t j1) noexcept {
  std::int64_t g = 0;
  for (; g + 4 <= G; g += 4) matvecs_tile<V, 4, Q>(T, n, X, Y, g, i0, j0, j1);
  for (; g < G; ++g) matvecs_tile<V, 1, Q>(T, n, X, Y, g, i0, j0, j1);
}

template <class V>
TUNELAB_ALWAYS_INLINE void matvecs_impl(const double* T, std::int64_t n, const double* X, double* Y,
                                        std::int64_t G) noexcept {
  constexpr int W = simd::kW<V>;
  for (std::int64_t j0 = 0; j0 < n; j0 += kMatvecsRows) {
    const std::int64_t j1 = std::min(n, j0 + kMatvecsRows);
    std::int64_t i = 0;
    for (; i + 3 * W <= n; i += 3 * W) matvecs_cols<V, 3>(T, n, X, Y, G, i, j0, j1);
    for (; i + 2 * W <= n; i += 2 * W) matvecs_cols<V, 2>(T, n, X, Y, G, i, j0, j1);
    for (; i + W <= n; i += W) matvecs_cols<V, 1>(T, n, X, Y, G, i, j0, j1);
    for (; i < n; ++i) matvecs_cols<double, 1>(T, n, X, Y, G, i, j0, j1);
  }
}

TUNELAB_SIMD_DISPATCH(void, matvecs, matvecs_impl,
                       (const double* T, std::int64_t n, const double* X, double* Y, std::int64_t G), (T, n, X, Y, G))

}  // namespace tunelab::linalg
