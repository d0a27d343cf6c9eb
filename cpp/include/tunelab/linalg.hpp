// Level-1 and matrix-vector helpers every area shares: dot products in a fixed order, norms
// that survive over- and underflow, exact power-of-two scaling, and y = A x by rows. Serial and
// fixed-order, so every result is the same bits on any thread count (symv splits rows over
// threads, never a sum).
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

// Y[g] = A X[g] for g < G vectors at once (X, Y: G rows of n): row i of A is read once from
// memory and reused from cache for all G vectors; every element is the same dot as symv_block's.
inline void symv_multi(const double* A, std::int64_t n, const double* X, double* Y, std::int64_t G) noexcept {
  for (std::int64_t i = 0; i < n; ++i) {
    const double* row = A + i * n;
    for (std::int64_t g = 0; g < G; ++g) Y[g * n + i] = dot(row, X + g * n, n);
  }
}


}  // namespace tunelab::linalg
