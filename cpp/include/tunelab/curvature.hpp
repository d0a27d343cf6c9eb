// Curvature of a quadratic model: the top eigenvalue of a dense symmetric matrix or of a stack
// of them (the solvers of eigen.hpp, small matrices through eigen_small.hpp), gradient descent
// on 1/2 x'Hx for many learning rates at once, and Hutchinson's trace estimator. Pure C++:
// pointers, sizes, an options struct, a key, num_threads.
//
// Arithmetic order is fixed (no reductions whose order depends on the thread count), so every
// result is bit-identical for any num_threads, and a matrix of a stack gives the same bits as
// the same matrix on its own.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "tunelab/eigen.hpp"
#include "tunelab/eigen_small.hpp"
#include "tunelab/linalg.hpp"
#include "tunelab/parallel.hpp"
#include "tunelab/rng.hpp"
#include "tunelab/simd.hpp"

namespace tunelab::curvature {

using linalg::dot;
using linalg::max_abs;
using linalg::pow2_neg;
using linalg::scale_exponent;
using linalg::symv_upper;
using linalg::symv_upper_scratch;
using linalg::matvecs;

// Dense (n, n) matrix: n <= kSmallN as a stack of one (small::solve_range); larger n with the
// upper-triangle matvec (symv_upper: half the bytes per matvec, OpenMP over row blocks).
// Every matrix is solved as 2^-e A, e = scale_exponent(max|A|) (see there), scaled back at the
// end: max_abs, when known (>= 0; from require_symmetric), saves a pass over A.
inline EigenOut top_eigen_dense(const double* A, std::int64_t n, const EigenOptions& o, std::uint64_t key, int threads,
                                double* vec, double max_abs_A = -1.0) {
  validate(o);
  if (n < 1) throw std::invalid_argument("A must not be empty");
  if (n <= kSmallN) {  // a stack of one: the stack's arithmetic
    const std::vector<double> start = start_vectors(key, n);
    EigenOut e;
    std::uint8_t bad = 0;
    small::solve_range(A, n, 0, 1, start.data(), o, -1.0,
                       small::Out{&e.value, vec, &e.n_iter, &e.converged, &e.residual, &bad});
    return e;
  }
  const int ex = scale_exponent(max_abs_A >= 0.0 ? max_abs_A : max_abs(A, n * n));
  const double f = pow2_neg(ex);
  std::vector<double> part(static_cast<std::size_t>(symv_upper_scratch(n)));
  double* pp = part.data();
  return unscaled(top_eigen([=](const double* x, double* y) { symv_upper(A, n, x, y, pp, threads, f); }, n, key, o, vec),
                  ex);
}

// A stack of m (n, n) matrices, OpenMP over the stack (each solve serial). Outputs have a
// leading m axis; vec is (m, n). With sym_tol >= 0 the matrices are checked as by
// require_symmetric_stack (for n <= kSmallN in the same pass that makes each transposed copy;
// a refusal is thrown after the parallel loop, naming the first offender).
inline void top_eigen_stack(const double* A, std::int64_t m, std::int64_t n, const EigenOptions& o, std::uint64_t key,
                            int threads, double* value, double* vec, std::int64_t* n_iter, bool* converged,
                            double* residual, double sym_tol = -1.0, const char* name = "A") {
  validate(o);
  if (n < 1 || m < 1) throw std::invalid_argument("A must not be empty");
  const std::vector<double> start_v = start_vectors(key, n);
  const double* start = start_v.data();
  if (n > kSmallN) {
    if (sym_tol >= 0.0) require_symmetric_stack(name, A, m, n, sym_tol, threads);
    parallel_for(m, threads, [=, &o](std::int64_t r) {
      const double* Ar = A + r * n * n;
      const int ex = scale_exponent(max_abs(Ar, n * n));  // each matrix at its own scale
      const double f = pow2_neg(ex);
      std::vector<double> part(static_cast<std::size_t>(symv_upper_scratch(n)));
      double* pp = part.data();
      auto mv = [=](const double* x, double* y) { symv_upper(Ar, n, x, y, pp, 1, f); };
      const EigenOut e = unscaled(o.method == Method::lanczos ? lanczos(mv, n, start, o, vec + r * n)
                                                              : power_iteration(mv, n, start, o, vec + r * n),
                                  ex);
      value[r] = e.value;
      n_iter[r] = e.n_iter;
      converged[r] = e.converged;
      residual[r] = e.residual;
    });
    return;
  }
  constexpr std::int64_t kChunk = 64;  // matrices per task (results do not depend on it)
  std::vector<std::uint8_t> bad(static_cast<std::size_t>(m), 0);
  std::uint8_t* pbad = bad.data();
  const small::Out res{value, vec, n_iter, converged, residual, pbad};
  parallel_for((m + kChunk - 1) / kChunk, threads, [=, &o](std::int64_t c) {
    const std::int64_t r0 = c * kChunk;
    small::solve_range(A, n, r0, std::min(m, r0 + kChunk), start, o, sym_tol, res);
  });
  for (std::int64_t r = 0; r < m; ++r)
    if (pbad[r]) require_symmetric(name, A + r * n * n, n, sym_tol, r);
}

// A' for matvecs: A itself when check_symmetric finds it finite and exactly symmetric (the
// usual case; a +0.0 / -0.0 pair counts as equal, which changes no sum that starts from +0.0),
// else a transposed copy kept in `copy`.
inline const double* transposed(const double* A, std::int64_t n, std::vector<double>& copy) {
  const MatrixCheck c = check_symmetric(A, n);
  if (c.finite && c.max_asym == 0.0) return A;
  copy.resize(static_cast<std::size_t>(n * n));
  constexpr std::int64_t kB = 32;  // tiles, so that the transposed writes stay in cache
  for (std::int64_t i0 = 0; i0 < n; i0 += kB)
    for (std::int64_t j0 = 0; j0 < n; j0 += kB)
      for (std::int64_t i = i0; i < std::min(n, i0 + kB); ++i)
        for (std::int64_t j = j0; j < std::min(n, j0 + kB); ++j)
          copy[static_cast<std::size_t>(j * n + i)] = A[i * n + j];
  return copy.data();
}

// ---------------------------------------------------------------------------------------
// Gradient descent on f(x) = 1/2 x'Hx for L learning rates at once: x_{t+1} = x_t - lr H x_t,
// losses[l, t] = f(x_t) for t = 0..steps (row-major (L, steps + 1)). OpenMP over the rates.
// Once a loss is not finite (the iterate overflowed), it and all later losses of that rate are
// +inf (-inf if the last finite loss was negative, which only an indefinite H allows).
inline void gd_quadratic(const double* H, std::int64_t n, const double* x0, const double* lrs, std::int64_t L,
                         std::int64_t steps, int threads, double* losses) {
  if (n < 1) throw std::invalid_argument("H must not be empty");
  if (steps < 0) throw std::invalid_argument("steps must be >= 0; got " + std::to_string(steps));
  const std::int64_t T = steps + 1;
  constexpr std::int64_t kGroup = 8;  // rates sharing each pass over H (results do not depend on it)
  const std::int64_t groups = (L + kGroup - 1) / kGroup;
  std::vector<double> copy;
  const double* Ht = transposed(H, n, copy);
  parallel_for(groups, threads, [=](std::int64_t grp) {
    const std::int64_t l0 = grp * kGroup, G = std::min(kGroup, L - l0);
    const auto N = static_cast<std::size_t>(n);
    std::vector<double> X(static_cast<std::size_t>(G) * N), Gr(static_cast<std::size_t>(G) * N);
    for (std::int64_t g = 0; g < G; ++g) std::copy(x0, x0 + n, X.begin() + static_cast<std::ptrdiff_t>(g * n));
    std::vector<char> dead(static_cast<std::size_t>(G), 0);
    std::vector<double> last(static_cast<std::size_t>(G), 0.0);
    for (std::int64_t t = 0; t < T; ++t) {
      matvecs(Ht, n, X.data(), Gr.data(), G);
      for (std::int64_t g = 0; g < G; ++g) {
        const auto gi = static_cast<std::size_t>(g);
        double* out = losses + (l0 + g) * T;
        if (dead[gi]) {
          out[t] = last[gi] < 0.0 ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
          continue;
        }
        double* x = X.data() + g * n;
        const double* gr = Gr.data() + g * n;
        const double f = 0.5 * dot(x, gr, n);
        if (!std::isfinite(f)) {
          dead[gi] = 1;
          out[t] = last[gi] < 0.0 ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
          std::fill(x, x + n, 0.0);  // keep later matvecs finite and cheap
          continue;
        }
        out[t] = f;
        last[gi] = f;
        const double lr = lrs[l0 + g];
        for (std::int64_t i = 0; i < n; ++i) x[i] -= lr * gr[i];
      }
    }
  });
}

// ---------------------------------------------------------------------------------------
// The same trajectories in closed form, from the eigendecomposition H = Q diag(w) Q' (computed
// by the caller, e.g. LAPACK) and c = Q' x0: the iterate's coordinates are c_i (1 - lr w_i)^t,
// so losses[l, t] = sum_i a_i r_il^t with a_i = w_i c_i^2 / 2 and r_il = (1 - lr_l w_i)^2.
// O(m L (steps + 1)): each term is carried from step to step by one multiplication.
//
// Lanes are rates: a group of kLanes rates is advanced together, every lane summing its terms
// in the order i = 0..m-1, so the bits do not depend on the vector width, the group or the
// thread count. Terms that are exactly 0 (w_i = 0 or c_i = 0) are dropped up front. A term
// below kDrop * s0 (s0 = sum_i |a_i|, kDrop = 2^-500) is set to 0, and so is a factor r_il
// below kDrop: this keeps the products out of the subnormal range (slow on x86) at an absolute
// error of at most m * kDrop * s0 per loss. Overflow follows gd_quadratic's contract.
namespace eig_detail {

constexpr int kLanes = 8;
constexpr std::int64_t kBlock = 64;  // steps per pass over the terms (results do not depend on it)

// S[t * kLanes + k] = sum of the terms of lane k at steps t0..t0+tb-1; P advanced by tb steps.
template <class V>
TUNELAB_ALWAYS_INLINE void advance(double* P, const double* R, std::int64_t m, std::int64_t tb, double drop,
                                   double* S) noexcept {
  constexpr int W = simd::kW<V>, Q = kLanes / W;
  for (std::int64_t t = 0; t < tb; ++t) {
    V s[Q];
    for (int q = 0; q < Q; ++q) s[q] = V{};
    for (std::int64_t i = 0; i < m; ++i) {
      double* p = P + i * kLanes;
      const double* r = R + i * kLanes;
      for (int q = 0; q < Q; ++q) {
        V x = simd::at<V>(p + q * W);
        s[q] += x;
        x *= simd::at<V>(r + q * W);
        const V ax = x < 0.0 ? -x : x;
        simd::at<V>(p + q * W) = ax < drop ? V{} : x;
      }
    }
    for (int q = 0; q < Q; ++q) simd::at<V>(S + t * kLanes + q * W) = s[q];
  }
}

}  // namespace eig_detail

TUNELAB_SIMD_DISPATCH(void, gd_eigen_advance, eig_detail::advance,
                      (double* P, const double* R, std::int64_t m, std::int64_t tb, double drop, double* S),
                      (P, R, m, tb, drop, S))

inline void gd_quadratic_eigen(const double* w, const double* c, std::int64_t n, const double* lrs, std::int64_t L,
                               std::int64_t steps, int threads, double* losses) {
  using eig_detail::kBlock;
  using eig_detail::kLanes;
  if (n < 1) throw std::invalid_argument("H must not be empty");
  if (steps < 0) throw std::invalid_argument("steps must be >= 0; got " + std::to_string(steps));
  const std::int64_t T = steps + 1;
  const double kDrop = std::ldexp(1.0, -500);
  std::vector<double> a, ws;  // the nonzero terms
  double s0 = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double ai = 0.5 * w[i] * c[i] * c[i];
    if (ai == 0.0) continue;
    a.push_back(ai);
    ws.push_back(w[i]);
    s0 += std::fabs(ai);
  }
  const auto m = static_cast<std::int64_t>(a.size());
  const double drop = kDrop * s0;  // NaN or inf if s0 is: then nothing is dropped
  const double *pa = a.data(), *pw = ws.data();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const std::int64_t groups = (L + kLanes - 1) / kLanes;
  parallel_for(groups, threads, [=](std::int64_t grp) {
    const std::int64_t l0 = grp * kLanes, G = std::min<std::int64_t>(kLanes, L - l0);
    const auto M = static_cast<std::size_t>(std::max<std::int64_t>(m, 1));
    simd::Scratch buf(2 * M * kLanes + static_cast<std::size_t>(kBlock * kLanes));
    double *P = buf.data, *R = P + M * kLanes, *S = R + M * kLanes;
    for (std::int64_t i = 0; i < m; ++i)
      for (int k = 0; k < kLanes; ++k) {
        const double lr = k < G ? lrs[l0 + k] : 0.0;  // padding lanes: r = 1
        const double r = 1.0 - lr * pw[i], r2 = r * r;
        P[i * kLanes + k] = pa[i];
        R[i * kLanes + k] = r2 < kDrop ? 0.0 : r2;
      }
    bool dead[kLanes] = {};
    double last[kLanes] = {};
    int alive = static_cast<int>(G);
    for (std::int64_t t0 = 0; t0 < T; t0 += kBlock) {
      const std::int64_t tb = std::min(kBlock, T - t0);
      if (alive > 0) gd_eigen_advance(P, R, m, tb, drop, S);
      for (std::int64_t g = 0; g < G; ++g) {
        double* out = losses + (l0 + g) * T + t0;
        for (std::int64_t t = 0; t < tb; ++t) {
          const double f = S[t * kLanes + g];
          if (!dead[g] && !std::isfinite(f)) {
            dead[g] = true;
            --alive;
          }
          if (dead[g]) {
            std::fill(out + t, out + tb, last[g] < 0.0 ? -kInf : kInf);
            break;
          }
          out[t] = f;
          last[g] = f;
        }
      }
    }
  });
}

// ---------------------------------------------------------------------------------------
// Hutchinson's trace estimator (Hutchinson 1989): tr(A) = E[z'Az] for Rademacher z. Probe r
// (global index first + r) draws its signs from stream first + r of the key, so a probe is the
// same on any thread or chunk. out[r] = z_r' A z_r. OpenMP over the probes.
inline void rademacher(std::uint64_t key, std::int64_t stream, std::int64_t n, double* z) noexcept {
  rng::Stream s(rng::split_key(key), static_cast<std::uint64_t>(stream));
  s.fill_rademacher(z, n);
}

inline void hutchinson_dense(const double* A, std::int64_t n, std::uint64_t key, std::int64_t first,
                             std::int64_t count, int threads, double* out) {
  if (n < 1) throw std::invalid_argument("A must not be empty");
  if (first < 0 || count < 0) throw std::invalid_argument("first and count must be non-negative");
  constexpr std::int64_t kGroup = 8;  // probes sharing each pass over A (results do not depend on it)
  const std::int64_t groups = (count + kGroup - 1) / kGroup;
  std::vector<double> copy;
  const double* At = transposed(A, n, copy);
  parallel_for(groups, threads, [=](std::int64_t grp) {
    const std::int64_t r0 = grp * kGroup, G = std::min(kGroup, count - r0);
    std::vector<double> Z(static_cast<std::size_t>(G * n)), Y(static_cast<std::size_t>(G * n));
    for (std::int64_t g = 0; g < G; ++g) rademacher(key, first + r0 + g, n, Z.data() + g * n);
    matvecs(At, n, Z.data(), Y.data(), G);
    for (std::int64_t g = 0; g < G; ++g) out[r0 + g] = dot(Z.data() + g * n, Y.data() + g * n, n);
  });
}


}  // namespace tunelab::curvature
