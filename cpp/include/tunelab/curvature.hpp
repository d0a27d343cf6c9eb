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

namespace tunelab::curvature {

using linalg::dot;
using linalg::max_abs;
using linalg::pow2_neg;
using linalg::scale_exponent;
using linalg::symv;
using linalg::symv_block;
using linalg::symv_multi;

// Dense (n, n) matrix: n <= kSmallN as a stack of one (small::solve_range); larger n with the
// OpenMP row-block matvec.
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
  return unscaled(top_eigen([=](const double* x, double* y) { symv(A, n, x, y, threads, f); }, n, key, o, vec), ex);
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
      auto mv = [=](const double* x, double* y) { symv_block(Ar, n, x, y, 0, n, f); };
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
  parallel_for(groups, threads, [=](std::int64_t grp) {
    const std::int64_t l0 = grp * kGroup, G = std::min(kGroup, L - l0);
    const auto N = static_cast<std::size_t>(n);
    std::vector<double> X(static_cast<std::size_t>(G) * N), Gr(static_cast<std::size_t>(G) * N);
    for (std::int64_t g = 0; g < G; ++g) std::copy(x0, x0 + n, X.begin() + static_cast<std::ptrdiff_t>(g * n));
    std::vector<char> dead(static_cast<std::size_t>(G), 0);
    std::vector<double> last(static_cast<std::size_t>(G), 0.0);
    for (std::int64_t t = 0; t < T; ++t) {
      symv_multi(H, n, X.data(), Gr.data(), G);
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
  parallel_for(groups, threads, [=](std::int64_t grp) {
    const std::int64_t r0 = grp * kGroup, G = std::min(kGroup, count - r0);
    std::vector<double> Z(static_cast<std::size_t>(G * n)), Y(static_cast<std::size_t>(G * n));
    for (std::int64_t g = 0; g < G; ++g) rademacher(key, first + r0 + g, n, Z.data() + g * n);
    symv_multi(A, n, Z.data(), Y.data(), G);
    for (std::int64_t g = 0; g < G; ++g) out[r0 + g] = dot(Z.data() + g * n, Y.data() + g * n, n);
  });
}


}  // namespace tunelab::curvature
