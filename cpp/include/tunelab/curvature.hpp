// Curvature of a quadratic model: the top eigenvalue of a symmetric matrix (power iteration,
// Lanczos), gradient descent on 1/2 x'Hx for many learning rates at once, and Hutchinson's
// trace estimator. Pure C++: pointers, sizes, an options struct, a key, num_threads.
//
// Arithmetic order is fixed (no reductions whose order depends on the thread count), so every
// result is bit-identical for any num_threads, and a matrix of a stack gives the same bits as
// the same matrix on its own.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tunelab/parallel.hpp"
#include "tunelab/rng.hpp"
#include "tunelab/simd.hpp"

namespace tunelab::curvature {

// ---------------------------------------------------------------------------------------
// Level-1 helpers (serial, fixed order).
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

// Largest |A_ij - A_ji| and whether every entry is finite (validation, before any solve).
struct MatrixCheck {
  double max_asym = 0.0;
  double max_abs = 0.0;
  bool finite = true;
};

inline MatrixCheck check_symmetric(const double* A, std::int64_t n) noexcept {
  MatrixCheck c;
  double big = 0.0, asym = 0.0;
  bool finite = true;
  constexpr std::int64_t kTile = 64;
  for (std::int64_t i0 = 0; i0 < n; i0 += kTile) {
    const std::int64_t i1 = std::min(n, i0 + kTile);
    for (std::int64_t j0 = i0; j0 < n; j0 += kTile) {
      const std::int64_t j1 = std::min(n, j0 + kTile);
      for (std::int64_t i = i0; i < i1; ++i) {
        for (std::int64_t j = std::max(j0, i); j < j1; ++j) {
          const double a = std::fabs(A[i * n + j]), b = std::fabs(A[j * n + i]);
          const double d = std::fabs(A[i * n + j] - A[j * n + i]);
          big = std::max(big, std::max(a, b));
          asym = std::max(asym, d);
          finite = finite && a <= std::numeric_limits<double>::max() && b <= std::numeric_limits<double>::max();
        }
      }
    }
  }
  c.max_abs = big;
  c.max_asym = asym;
  c.finite = finite;
  return c;
}

// Refuse non-finite or non-symmetric matrices (relative tolerance on max|A|). `name` is the
// argument's name in the public API; `index` is the matrix's index in a stack (or -1).
inline MatrixCheck require_symmetric(const char* name, const double* A, std::int64_t n, double sym_tol,
                                     std::int64_t index = -1) {
  const MatrixCheck c = check_symmetric(A, n);
  const std::string which = index >= 0 ? std::string(name) + "[" + std::to_string(index) + "]" : std::string(name);
  if (!c.finite) throw std::invalid_argument(which + " must contain only finite values (no NaN or inf)");
  if (c.max_asym > sym_tol * c.max_abs) {
    throw std::invalid_argument(which + " must be symmetric: max|A - A.T| = " + std::to_string(c.max_asym) +
                                " exceeds " + std::to_string(sym_tol) + " * max|A|; symmetrise it with (A + A.T) / 2");
  }
  return c;
}

// The same check for a stack of m matrices, OpenMP over the stack; names the first offender.
inline void require_symmetric_stack(const char* name, const double* A, std::int64_t m, std::int64_t n, double sym_tol,
                                    int threads) {
  std::vector<MatrixCheck> c(static_cast<std::size_t>(m));
  MatrixCheck* pc = c.data();
  parallel_for(m, threads, [=](std::int64_t r) { pc[r] = check_symmetric(A + r * n * n, n); });
  for (std::int64_t r = 0; r < m; ++r) {
    const MatrixCheck& x = c[static_cast<std::size_t>(r)];
    if (!x.finite || x.max_asym > sym_tol * x.max_abs) require_symmetric(name, A + r * n * n, n, sym_tol, r);
  }
}

// ---------------------------------------------------------------------------------------
// Symmetric tridiagonal eigenproblem by the implicit QL method with Wilkinson shifts
// (Bowdler, Martin, Reinsch & Wilkinson 1968; Golub & Van Loan, "Matrix Computations", 8.3).
// d (k): diagonal, overwritten by the eigenvalues (unsorted). e (k): e[i] = T(i, i+1), e[k-1]
// ignored; destroyed. z: `rows` x k row-major, the rows of the orthogonal factor to track
// (identity rows on entry: all k rows for the eigenvectors, or only the last row e_k' when only
// the last components are needed, which is what a Lanczos convergence test uses). On exit
// column i of z holds the tracked components of the eigenvector of d[i]. Returns false if an
// eigenvalue took more than 60 sweeps (never seen in practice).
inline bool tridiag_ql(std::vector<double>& d, std::vector<double>& e, std::vector<double>& z, std::int64_t rows) {
  const std::int64_t k = static_cast<std::int64_t>(d.size());
  if (k == 0) return true;
  e[static_cast<std::size_t>(k - 1)] = 0.0;
  constexpr double eps = std::numeric_limits<double>::epsilon();
  auto D = [&](std::int64_t i) -> double& { return d[static_cast<std::size_t>(i)]; };
  auto E = [&](std::int64_t i) -> double& { return e[static_cast<std::size_t>(i)]; };
  auto Z = [&](std::int64_t r, std::int64_t c) -> double& { return z[static_cast<std::size_t>(r * k + c)]; };
  for (std::int64_t l = 0; l < k; ++l) {
    int sweeps = 0;
    for (;;) {
      std::int64_t m = l;
      for (; m < k - 1; ++m) {
        const double dd = std::fabs(D(m)) + std::fabs(D(m + 1));
        if (std::fabs(E(m)) <= eps * dd) break;
      }
      if (m == l) break;
      if (++sweeps > 60) return false;
      // Wilkinson shift from the leading 2x2 block.
      double g = (D(l + 1) - D(l)) / (2.0 * E(l));
      double r = std::hypot(g, 1.0);
      g = D(m) - D(l) + E(l) / (g + (g >= 0.0 ? r : -r));
      double s = 1.0, c = 1.0, p = 0.0;
      bool underflow = false;
      for (std::int64_t i = m - 1; i >= l; --i) {
        const double f = s * E(i), b = c * E(i);
        r = std::hypot(f, g);
        E(i + 1) = r;
        if (r == 0.0) {  // the rotation underflowed: deflate and restart
          D(i + 1) -= p;
          E(m) = 0.0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = D(i + 1) - p;
        r = (D(i) - g) * s + 2.0 * c * b;
        p = s * r;
        D(i + 1) = g + p;
        g = c * r - b;
        for (std::int64_t row = 0; row < rows; ++row) {
          const double zf = Z(row, i + 1);
          Z(row, i + 1) = s * Z(row, i) + c * zf;
          Z(row, i) = c * Z(row, i) - s * zf;
        }
      }
      if (underflow) continue;
      D(l) -= p;
      E(l) = g;
      E(m) = 0.0;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Options and per-solve outputs.
enum class Method : int { power = 0, lanczos = 1 };
enum class Which : int { algebraic = 0, magnitude = 1 };  // largest algebraic (LA) / magnitude (LM)
enum class Reorth : int { full = 0, selective = 1 };

struct EigenOptions {
  Method method = Method::power;
  Which which = Which::algebraic;
  Reorth reorth = Reorth::full;
  double tol = 1e-8;
  std::int64_t max_iter = 1000;
};

struct EigenOut {
  double value = 0.0;
  std::int64_t n_iter = 0;  // matrix-vector products
  bool converged = false;
  double residual = 0.0;  // ||A v - value v|| with ||v|| = 1
};

inline void validate(const EigenOptions& o) {
  if (!(o.tol > 0.0) || !std::isfinite(o.tol)) throw std::invalid_argument("tol must be a positive finite number");
  if (o.max_iter < 1) throw std::invalid_argument("max_iter must be >= 1; got " + std::to_string(o.max_iter));
}

// The start vectors: 2n standard normals of stream 0 of `key` (the first n start a solve, the
// next n the shifted second run of power iteration), so they depend on (key, n) only and every
// matrix of a stack starts where it would start on its own. Drawn once per call.
inline std::vector<double> start_vectors(std::uint64_t key, std::int64_t n) {
  std::vector<double> s(static_cast<std::size_t>(2 * n));
  rng::Stream(rng::split_key(key), 0).fill_normal(s.data(), 2 * n);
  return s;
}

// ---------------------------------------------------------------------------------------
// Power iteration (von Mises): v <- A v / ||A v||, estimate = Rayleigh quotient v'Av, stopping
// when the residual ||A v - theta v|| <= tol * ||A v|| (||A v|| -> |theta| = ||A||_2 for the
// dominant pair). Finds the eigenvalue of largest magnitude. `shift` runs it on A - shift*I
// instead (reported value and residual are those of A). `scale_floor` is a lower bound on the
// scale of the stopping test (the norm estimate of A from an earlier phase). v: in, the start
// vector (any norm, nonzero); out, the unit eigenvector estimate. `nu` returns the largest
// ||A v|| seen (a lower bound on ||A - shift I||_2 that converges to it).
template <class MatVec>
TUNELAB_ALWAYS_INLINE EigenOut power_phase(MatVec&& mv, std::int64_t n, double* v, double* w, double shift, double scale_floor,
                     const EigenOptions& o, double& nu) {
  EigenOut out;
  const double v0 = norm2(v, n);
  for (std::int64_t i = 0; i < n; ++i) v[i] /= v0;
  nu = 0.0;
  for (std::int64_t it = 1; it <= o.max_iter; ++it) {
    mv(v, w);
    if (shift != 0.0)
      for (std::int64_t i = 0; i < n; ++i) w[i] -= shift * v[i];
    const double theta = dot(v, w, n);
    const double wn = norm2(w, n);
    nu = std::max(nu, wn);
    out.value = theta + shift;
    out.residual = residual_norm(w, theta, v, n);
    out.n_iter = it;
    const double scale = std::max(std::max(wn, std::fabs(out.value)), scale_floor);
    if (!std::isfinite(wn)) break;  // unreachable for finite A; never loop on NaN
    if (out.residual <= o.tol * scale) {
      out.converged = true;
      break;
    }
    if (it == o.max_iter) break;
    for (std::int64_t i = 0; i < n; ++i) v[i] = w[i] / wn;
  }
  return out;
}

// Power iteration for the top algebraic (or magnitude) eigenvalue. For Which::algebraic, a
// first run finds the dominant eigenvalue mu; if it converged with mu >= 0 it is lambda_max.
// Otherwise (mu < 0, or no convergence, e.g. a +-mu pair) a second run from a fresh random
// vector works on B = A - sigma I with sigma = -nu (nu ~ ||A||_2 from the first run), whose
// eigenvalues lambda - sigma are >= 0 (up to the accuracy of nu), so its dominant eigenvalue
// is lambda_max - sigma. n_iter counts the matvecs of both runs.
template <class Phase>
EigenOut power_iteration_with(Phase&& phase, std::int64_t n, const double* start, const EigenOptions& o, double* vec) {
  std::vector<double> w(static_cast<std::size_t>(n));
  std::copy(start, start + n, vec);
  double nu = 0.0;
  EigenOut first = phase(vec, w.data(), 0.0, 0.0, nu);
  if (o.which == Which::magnitude || (first.converged && first.value >= 0.0)) return first;
  const double sigma = -std::max(nu, std::fabs(first.value));
  if (sigma == 0.0) return first;  // A v = 0 for the start vector: nothing better to do
  std::copy(start + n, start + 2 * n, vec);
  double nu2 = 0.0;
  EigenOut second = phase(vec, w.data(), sigma, -sigma, nu2);
  second.n_iter += first.n_iter;
  return second;
}

template <class MatVec>
EigenOut power_iteration(MatVec&& mv, std::int64_t n, const double* start, const EigenOptions& o, double* vec) {
  return power_iteration_with(
      [&](double* v, double* w, double shift, double floor, double& nu) {
        return power_phase(mv, n, v, w, shift, floor, o, nu);
      },
      n, start, o, vec);
}

// ---------------------------------------------------------------------------------------
// Lanczos (Lanczos 1950; Golub & Van Loan 10.1; Parlett, "The Symmetric Eigenvalue Problem"
// ch. 13). Builds an orthonormal Krylov basis q_1..q_k and the tridiagonal T_k = Q'AQ; the
// Ritz pair (theta, y = Q s) of T_k's top eigenvalue (or largest |theta| for Which::magnitude)
// has residual ||A y - theta y|| = beta_k |s_k|, and the run stops when that is
// <= tol * max|theta_i| (the norm estimate), or when the Krylov space is exhausted.
// Reorthogonalisation: full (classical Gram-Schmidt against every basis vector, twice: "twice
// is enough", Giraud et al. 2005), or selective (Parlett & Scott 1979: only against the Ritz
// vectors that have converged to sqrt(eps) * ||T||, which is where orthogonality is lost).
// The reported residual is recomputed as ||A y - theta y|| with one extra matvec (counted).
template <class MatVec>
EigenOut lanczos(MatVec&& mv, std::int64_t n, const double* start, const EigenOptions& o, double* vec) {
  EigenOut out;
  const std::int64_t kmax = std::min(o.max_iter, n);
  const auto N = static_cast<std::size_t>(n);
  std::vector<double> Q;  // row j = q_j (grows as needed)
  Q.reserve(N * static_cast<std::size_t>(std::min<std::int64_t>(kmax, 64)));
  std::vector<double> alpha, beta, w(N), v(N);
  std::vector<double> good;       // converged Ritz vectors (selective), row-major
  std::vector<double> good_vals;  // their Ritz values
  std::vector<double> d, e, z;
  constexpr double eps = std::numeric_limits<double>::epsilon();
  const double sqrt_eps = std::sqrt(eps);

  std::copy(start, start + n, v.begin());
  const double v0 = norm2(v.data(), n);
  for (auto& x : v) x /= v0;
  Q.insert(Q.end(), v.begin(), v.end());

  std::int64_t best = 0;
  double tnorm = 0.0;
  auto ritz = [&](std::int64_t k, bool full) {
    d.assign(alpha.begin(), alpha.begin() + k);
    e.assign(beta.begin(), beta.begin() + k);
    const std::int64_t rows = full ? k : 1;
    z.assign(static_cast<std::size_t>(rows * k), 0.0);
    if (full) {
      for (std::int64_t i = 0; i < k; ++i) z[static_cast<std::size_t>(i * k + i)] = 1.0;
    } else {
      z[static_cast<std::size_t>(k - 1)] = 1.0;
    }
    tridiag_ql(d, e, z, rows);
    best = 0;
    tnorm = 0.0;
    for (std::int64_t i = 0; i < k; ++i) {
      const double di = d[static_cast<std::size_t>(i)], db = d[static_cast<std::size_t>(best)];
      tnorm = std::max(tnorm, std::fabs(di));
      const bool better = o.which == Which::algebraic ? di > db : std::fabs(di) > std::fabs(db);
      if (better) best = i;
    }
  };
  // Last component of eigenvector i of T_k (rows == 1) or of the full z (rows == k).
  auto last = [&](std::int64_t k, std::int64_t i, bool full) {
    return full ? z[static_cast<std::size_t>((k - 1) * k + i)] : z[static_cast<std::size_t>(i)];
  };

  std::int64_t k = 0;
  for (;;) {
    const double* q = Q.data() + static_cast<std::size_t>(k) * N;
    mv(q, w.data());
    ++out.n_iter;
    const double a = dot(q, w.data(), n);
    alpha.push_back(a);
    for (std::int64_t i = 0; i < n; ++i) w[static_cast<std::size_t>(i)] -= a * q[i];
    if (k > 0) {
      const double b = beta[static_cast<std::size_t>(k - 1)];
      const double* qp = q - n;
      for (std::int64_t i = 0; i < n; ++i) w[static_cast<std::size_t>(i)] -= b * qp[i];
    }
    ++k;
    if (o.reorth == Reorth::full) {
      for (int pass = 0; pass < 2; ++pass) {
        for (std::int64_t j = 0; j < k; ++j) {
          const double* qj = Q.data() + static_cast<std::size_t>(j) * N;
          const double c = dot(qj, w.data(), n);
          for (std::int64_t i = 0; i < n; ++i) w[static_cast<std::size_t>(i)] -= c * qj[i];
        }
      }
    } else {
      const auto ng = static_cast<std::int64_t>(good_vals.size());
      for (std::int64_t g = 0; g < ng; ++g) {
        const double* yg = good.data() + static_cast<std::size_t>(g) * N;
        const double c = dot(yg, w.data(), n);
        for (std::int64_t i = 0; i < n; ++i) w[static_cast<std::size_t>(i)] -= c * yg[i];
      }
    }
    const double b = norm2(w.data(), n);
    beta.push_back(b);
    ritz(k, false);
    const double est = b * std::fabs(last(k, best, false));
    const bool exhausted = k >= kmax || b <= eps * tnorm || b == 0.0;
    if (est <= o.tol * tnorm) {
      out.converged = true;
      break;
    }
    if (exhausted) {
      out.converged = b <= eps * tnorm || b == 0.0 || k >= n;
      break;
    }
    if (o.reorth == Reorth::selective) {
      // Any Ritz pair whose residual bound fell below sqrt(eps) ||T|| and is not yet kept.
      bool need = false;
      std::vector<std::int64_t> fresh;
      for (std::int64_t i = 0; i < k; ++i) {
        if (b * std::fabs(last(k, i, false)) > sqrt_eps * tnorm) continue;
        const double th = d[static_cast<std::size_t>(i)];
        bool seen = false;
        for (double gv : good_vals) seen = seen || std::fabs(gv - th) <= 1e3 * sqrt_eps * tnorm;
        if (!seen) {
          need = true;
          fresh.push_back(i);
        }
      }
      if (need) {
        std::vector<double> thetas;
        for (auto i : fresh) thetas.push_back(d[static_cast<std::size_t>(i)]);
        ritz(k, true);  // same eigenvalues, now with full vectors; match by value
        for (double th : thetas) {
          std::int64_t idx = 0;
          for (std::int64_t i = 1; i < k; ++i)
            if (std::fabs(d[static_cast<std::size_t>(i)] - th) < std::fabs(d[static_cast<std::size_t>(idx)] - th)) idx = i;
          std::vector<double> y(N, 0.0);
          for (std::int64_t j = 0; j < k; ++j) {
            const double c = z[static_cast<std::size_t>(j * k + idx)];
            const double* qj = Q.data() + static_cast<std::size_t>(j) * N;
            for (std::int64_t i = 0; i < n; ++i) y[static_cast<std::size_t>(i)] += c * qj[i];
          }
          const double yn = norm2(y.data(), n);
          for (auto& x : y) x /= yn;
          good.insert(good.end(), y.begin(), y.end());
          good_vals.push_back(d[static_cast<std::size_t>(idx)]);
          const double c = dot(y.data(), w.data(), n);  // purge the new vector now
          for (std::int64_t i = 0; i < n; ++i) w[static_cast<std::size_t>(i)] -= c * y[static_cast<std::size_t>(i)];
        }
        const double b2 = norm2(w.data(), n);
        beta.back() = b2;
        if (b2 <= eps * tnorm || b2 == 0.0) {
          ritz(k, false);
          out.converged = true;
          break;
        }
      }
    }
    const double bk = beta.back();
    for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = w[static_cast<std::size_t>(i)] / bk;
    Q.insert(Q.end(), v.begin(), v.end());
  }
  // The Ritz vector y = Q s of the chosen pair.
  ritz(k, true);
  out.value = d[static_cast<std::size_t>(best)];
  for (std::int64_t i = 0; i < n; ++i) vec[i] = 0.0;
  for (std::int64_t j = 0; j < k; ++j) {
    const double c = z[static_cast<std::size_t>(j * k + best)];
    const double* qj = Q.data() + static_cast<std::size_t>(j) * N;
    for (std::int64_t i = 0; i < n; ++i) vec[i] += c * qj[i];
  }
  const double yn = norm2(vec, n);
  for (std::int64_t i = 0; i < n; ++i) vec[i] /= yn;
  mv(vec, w.data());
  ++out.n_iter;
  out.residual = residual_norm(w.data(), out.value, vec, n);
  return out;
}

template <class MatVec>
EigenOut top_eigen(MatVec&& mv, std::int64_t n, std::uint64_t key, const EigenOptions& o, double* vec) {
  const std::vector<double> start = start_vectors(key, n);
  return o.method == Method::lanczos ? lanczos(mv, n, start.data(), o, vec)
                                     : power_iteration(mv, n, start.data(), o, vec);
}

// Value and residual of a solve on 2^-e A, scaled back to A (+-inf when they exceed float64).
inline EigenOut unscaled(EigenOut e, int ex) noexcept {
  e.value = std::ldexp(e.value, ex);
  e.residual = std::ldexp(e.residual, ex);
  return e;
}

// An operator known only by its products (a callable): the solve runs on 2^-e A with e the
// binary exponent of the largest entry of the first product A v0 (v0 the unit start vector, so
// 2^e ~ ||A||), every later product scaled by the same exact factor. The iteration then sees the
// same numbers whatever the operator's scale, and its tests are all relative (see scale_exponent).
template <class MatVec>
EigenOut top_eigen_scaled(MatVec&& mv, std::int64_t n, std::uint64_t key, const EigenOptions& o, double* vec) {
  int ex = 0;
  bool first = true;
  auto smv = [&](const double* x, double* y) {
    mv(x, y);
    if (first) {
      ex = scale_exponent(max_abs(y, n));
      first = false;
    }
    scale_by_pow2(y, n, ex);
  };
  const EigenOut e = top_eigen(smv, n, key, o, vec);  // sets ex (a separate statement: evaluation order)
  return unscaled(e, ex);
}

// ---------------------------------------------------------------------------------------
// Small matrices (n <= kSmallN: the stacks' case, and any small dense matrix, so that a matrix
// gives the same bits alone and in a stack).
//
// A solve works on a copy T = A' (row j of T is column j of A, rows padded to a multiple of 8
// doubles and 64-byte aligned) and forms y = A x as a sum of T's rows scaled by x_j, which
// vectorises across the outputs with no horizontal sums. Per output the order is fixed:
// y_i = e_i + o_i, e_i = sum over even j of A_ij x_j and o_i over odd j, each in increasing j
// (two chains, so consecutive additions are independent). This is exactly A x (never A' x),
// whether or not A is exactly symmetric. The level-1 work of an iteration is fused into two
// passes (w -= shift v, v'w and w'w together; then the residual) summed in eight lanes (lane l
// takes the elements i = l mod 8; the lanes are added as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) +
// (s6 + s7)), then the last n mod 8 elements in order), and v = w / ||w|| is formed as
// w * (1 / ||w||).
//
// The kernels are written once over a vector type V of W = 1, 2, 4 or 8 doubles (GCC/Clang
// vector extensions: element-wise IEEE operations, no reassociation, no fused multiply-add
// under -ffp-contract=off) and compiled for AVX-512F, AVX2 and the baseline; the widest the CPU
// supports is picked at run time. No -march=native, no -ffast-math: every width performs the
// same operations on every element in the same order, so the results are the same bits on any
// x86-64 CPU (and, as far as IEEE arithmetic goes, anywhere); only the speed differs.
inline constexpr std::int64_t kSmallN = 128;

namespace small {

using simd::at;
using simd::Baseline;
using simd::kW;
using simd::Scratch;

// The eight lanes of Q = 8 / W vectors, lane l = element l % W of vector l / W.
template <class V>
TUNELAB_ALWAYS_INLINE double lanes(const V* acc) noexcept {
#ifdef TUNELAB_SHUFFLEVECTOR
  if constexpr (kW<V> == 8) {  // the same sums in registers (a + b = b + a exactly)
    const V a = acc[0];
    const V u = a + __builtin_shufflevector(a, a, 1, 0, 3, 2, 5, 4, 7, 6);
    const V t = u + __builtin_shufflevector(u, u, 2, 3, 0, 1, 6, 7, 4, 5);
    return t[0] + t[4];
  }
#endif
  double s[8];
  std::memcpy(s, acc, sizeof s);
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// Row stride of the transposed copy: n rounded up to a multiple of 8 doubles (64 bytes).
inline std::int64_t stride(std::int64_t n) noexcept { return (n + 7) / 8 * 8; }

// Outputs i0 .. i0 + Q W - 1 of y = A x from T = A' (row stride ld), held in registers.
template <class V, int Q>
TUNELAB_ALWAYS_INLINE void matvec_block(const double* T, std::int64_t ld, std::int64_t n, const double* x, double* y,
                                        std::int64_t i0) noexcept {
  constexpr int W = kW<V>;
  V e[Q], o[Q];
  for (int q = 0; q < Q; ++q) e[q] = o[q] = V{};
  std::int64_t j = 0;
  for (; j + 2 <= n; j += 2) {
    const double xe = x[j], xo = x[j + 1];
    const double* te = T + j * ld + i0;
    const double* to = te + ld;
    for (int q = 0; q < Q; ++q) e[q] += at<V>(te + q * W) * xe;
    for (int q = 0; q < Q; ++q) o[q] += at<V>(to + q * W) * xo;
  }
  if (j < n) {
    const double xe = x[j];
    const double* te = T + j * ld + i0;
    for (int q = 0; q < Q; ++q) e[q] += at<V>(te + q * W) * xe;
  }
  for (int q = 0; q < Q; ++q) at<V>(y + i0 + q * W) = e[q] + o[q];
}

// y = A x from T = A': blocks of 4 W outputs, then of W, then one at a time (the order of the
// additions for an output does not depend on its block).
template <class V>
TUNELAB_ALWAYS_INLINE void matvec(const double* T, std::int64_t ld, std::int64_t n, const double* x,
                                  double* y) noexcept {
  constexpr int W = kW<V>;
  std::int64_t i0 = 0;
  for (; i0 + 4 * W <= n; i0 += 4 * W) matvec_block<V, 4>(T, ld, n, x, y, i0);
  for (; i0 + W <= n; i0 += W) matvec_block<V, 1>(T, ld, n, x, y, i0);
  for (std::int64_t i = i0; i < n; ++i) {
    double e = 0.0, o = 0.0;
    std::int64_t j = 0;
    for (; j + 2 <= n; j += 2) {
      e += T[j * ld + i] * x[j];
      o += T[(j + 1) * ld + i] * x[j + 1];
    }
    if (j < n) e += T[j * ld + i] * x[j];
    y[i] = e + o;
  }
}

// w -= shift v (if shift != 0); v'w and w'w.
template <class V>
TUNELAB_ALWAYS_INLINE void dots(const double* v, double* w, std::int64_t n, double shift, double& vw,
                                double& ww) noexcept {
  constexpr int W = kW<V>, Q = 8 / W;
  V a[Q], b[Q];
  for (int q = 0; q < Q; ++q) a[q] = b[q] = V{};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int q = 0; q < Q; ++q) {
      const V vv = at<V>(v + i + q * W);
      V wv = at<V>(w + i + q * W);
      if (shift != 0.0) {
        wv -= shift * vv;
        at<V>(w + i + q * W) = wv;
      }
      a[q] += vv * wv;
      b[q] += wv * wv;
    }
  }
  vw = lanes(a);
  ww = lanes(b);
  for (; i < n; ++i) {
    if (shift != 0.0) w[i] -= shift * v[i];
    vw += v[i] * w[i];
    ww += w[i] * w[i];
  }
}

// ||w - c v||.
template <class V>
TUNELAB_ALWAYS_INLINE double residual(const double* w, double c, const double* v, std::int64_t n) noexcept {
  constexpr int W = kW<V>, Q = 8 / W;
  V a[Q];
  for (int q = 0; q < Q; ++q) a[q] = V{};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int q = 0; q < Q; ++q) {
      const V t = at<V>(w + i + q * W) - c * at<V>(v + i + q * W);
      a[q] += t * t;
    }
  }
  double s = lanes(a);
  for (; i < n; ++i) {
    const double t = w[i] - c * v[i];
    s += t * t;
  }
  return std::sqrt(s);
}

// T = A' (row stride ld) and the numbers of check_symmetric (max|A - A'|, max|A|, and whether
// every entry is finite): maxima are exact, so the lanes do not change them.
template <class V>
TUNELAB_ALWAYS_INLINE MatrixCheck transpose_check(const double* A, std::int64_t n, double* T,
                                                  std::int64_t ld) noexcept {
  constexpr int W = kW<V>;
  std::int64_t nb = 0;  // W x W blocks transposed in registers
#ifdef TUNELAB_SHUFFLEVECTOR
  if constexpr (W >= 2) {
    nb = n - n % W;
    for (std::int64_t i0 = 0; i0 < nb; i0 += W) {
      for (std::int64_t j0 = 0; j0 < nb; j0 += W) {
        V r[W];
        for (int q = 0; q < W; ++q) r[q] = at<V>(A + (i0 + q) * n + j0);
        if constexpr (W == 2) {
          at<V>(T + j0 * ld + i0) = __builtin_shufflevector(r[0], r[1], 0, 2);
          at<V>(T + (j0 + 1) * ld + i0) = __builtin_shufflevector(r[0], r[1], 1, 3);
        } else if constexpr (W == 4) {
          const V t0 = __builtin_shufflevector(r[0], r[1], 0, 4, 2, 6);
          const V t1 = __builtin_shufflevector(r[0], r[1], 1, 5, 3, 7);
          const V t2 = __builtin_shufflevector(r[2], r[3], 0, 4, 2, 6);
          const V t3 = __builtin_shufflevector(r[2], r[3], 1, 5, 3, 7);
          at<V>(T + j0 * ld + i0) = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
          at<V>(T + (j0 + 1) * ld + i0) = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
          at<V>(T + (j0 + 2) * ld + i0) = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
          at<V>(T + (j0 + 3) * ld + i0) = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
        } else {
          static_assert(W == 8, "vector widths are 1, 2, 4 or 8 doubles");
          V t[8], u[8];
          for (int q = 0; q < 8; q += 2) {
            t[q] = __builtin_shufflevector(r[q], r[q + 1], 0, 8, 2, 10, 4, 12, 6, 14);
            t[q + 1] = __builtin_shufflevector(r[q], r[q + 1], 1, 9, 3, 11, 5, 13, 7, 15);
          }
          for (int q = 0; q < 8; q += 4) {
            for (int h = 0; h < 2; ++h) {
              u[q + h] = __builtin_shufflevector(t[q + h], t[q + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
              u[q + h + 2] = __builtin_shufflevector(t[q + h], t[q + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
            }
          }
          // u[q] (q < 4): columns c and c + 4 (c = q) of rows 0..3; u[q + 4]: the same of rows 4..7.
          for (int q = 0; q < 4; ++q) {
            at<V>(T + (j0 + q) * ld + i0) = __builtin_shufflevector(u[q], u[q + 4], 0, 1, 2, 3, 8, 9, 10, 11);
            at<V>(T + (j0 + q + 4) * ld + i0) = __builtin_shufflevector(u[q], u[q + 4], 4, 5, 6, 7, 12, 13, 14, 15);
          }
        }
      }
    }
  }
#endif
  for (std::int64_t i = 0; i < n; ++i)  // what the blocks left (everything without them)
    for (std::int64_t j = i < nb ? nb : 0; j < n; ++j) T[j * ld + i] = A[i * n + j];

  V big = V{}, asym = V{}, nan = V{};
  double sbig = 0.0, sasym = 0.0, snan = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double* a = A + i * n;
    const double* t = T + i * ld;
    std::int64_t j = 0;
    for (; j + W <= n; j += W) {
      const V x = at<V>(a + j), y = at<V>(t + j), dxy = x - y;
      const V fx = x < 0.0 ? -x : x, d = dxy < 0.0 ? -dxy : dxy;
      big = big < fx ? fx : big;
      asym = asym < d ? d : asym;
      nan += fx * 0.0;  // NaN once an entry is NaN or inf (the maxima skip NaN); every entry is some x
    }
    for (; j < n; ++j) {
      const double fx = std::fabs(a[j]), d = std::fabs(a[j] - t[j]);
      sbig = std::max(sbig, fx);
      sasym = std::max(sasym, d);
      snan += fx * 0.0;
    }
  }
  double lb[W], la[W], ln[W];
  std::memcpy(lb, &big, sizeof lb);
  std::memcpy(la, &asym, sizeof la);
  std::memcpy(ln, &nan, sizeof ln);
  for (int l = 0; l < W; ++l) {
    sbig = std::max(sbig, lb[l]);
    sasym = std::max(sasym, la[l]);
    snan += ln[l];
  }
  MatrixCheck c;
  c.max_abs = sbig;
  c.max_asym = sasym;
  c.finite = snan == 0.0 && sbig <= std::numeric_limits<double>::max();
  return c;
}

// One power_phase in progress, advanced one iteration at a time so that a driver can
// interleave several matrices (independent dependency chains that the CPU overlaps).
struct Phase {
  double* v = nullptr;
  double* w = nullptr;
  double shift = 0.0, floor = 0.0, nu = 0.0;
  EigenOut out;
  std::int64_t it = 0;
};

inline void begin(Phase& p, std::int64_t n, double* v, double* w, double shift, double floor) noexcept {
  p.v = v;
  p.w = w;
  p.shift = shift;
  p.floor = floor;
  p.nu = 0.0;
  p.out = EigenOut{};
  p.it = 0;
  const double v0 = norm2(v, n);
  for (std::int64_t i = 0; i < n; ++i) v[i] /= v0;
}

// One iteration of power_phase on T = A'; true when the phase has ended (converged, max_iter,
// or not finite). Same stopping rule, value, residual and n_iter as power_phase.
template <class V>
TUNELAB_ALWAYS_INLINE bool step(Phase& p, const double* T, std::int64_t ld, std::int64_t n,
                                const EigenOptions& o) noexcept {
  const std::int64_t it = ++p.it;
  double* v = p.v;
  double* w = p.w;
  matvec<V>(T, ld, n, v, w);
  double theta = 0.0, ss = 0.0;
  dots<V>(v, w, n, p.shift, theta, ss);
  const double wn = (ss > 1e-280 && ss < 1e280) ? std::sqrt(ss) : norm2(w, n);
  p.nu = std::max(p.nu, wn);
  p.out.value = theta + p.shift;
  p.out.residual = residual<V>(w, theta, v, n);
  p.out.n_iter = it;
  const double scale = std::max(std::max(wn, std::fabs(p.out.value)), p.floor);
  if (!std::isfinite(wn)) return true;  // unreachable for finite A; never loop on NaN
  if (p.out.residual <= o.tol * scale) {
    p.out.converged = true;
    return true;
  }
  if (it == o.max_iter) return true;
  if (wn > 1e-300) {  // n divisions would cost more than the product itself
    const double inv = 1.0 / wn;
    for (std::int64_t i = 0; i < n; ++i) v[i] = w[i] * inv;
  } else {
    for (std::int64_t i = 0; i < n; ++i) v[i] = w[i] / wn;
  }
  return false;
}

struct Out {  // per-matrix outputs of a stack (leading m axis); bad[r] = 1: refused, not solved
  double* value;
  double* vec;
  std::int64_t* n_iter;
  bool* converged;
  double* residual;
  std::uint8_t* bad;
};

// Power iteration (power_iteration_with: one phase, or a second shifted one) on matrices
// r0 .. r1-1 of a stack, kSlots at a time, interleaved step by step. Each matrix gets exactly
// the arithmetic it gets alone, so nothing depends on the interleaving, the chunking or the
// threads. Loading a matrix makes its transposed copy and checks it; with sym_tol >= 0 one that
// fails is flagged in bad[r] and skipped. The next matrix to load is prefetched a few cache
// lines per step, so it streams in from memory while the others are solved. (No lambdas here:
// they would be compiled for the baseline target, not the caller's.)
struct Slot {
  std::int64_t r = -1;  // -1: empty
  int stage = 0;        // 1: first phase, 2: the shifted phase
  Phase ph;
  EigenOut first;
  double* T = nullptr;  // the transposed copy (of 2^-ex A), then w
  int ex = 0;           // the matrix's scale exponent (scale_exponent of max|A|)
};

struct Range {
  const double* A;
  std::int64_t n, ld, r1, next;
  const double* start;
  double sym_tol;
  const Out* res;
  const char* ahead;
  std::int64_t ahead_left;
};

template <class V>
TUNELAB_ALWAYS_INLINE void load(Range& g, Slot& s) noexcept {  // the next valid matrix, or leave s empty
  const std::int64_t n = g.n;
  s.r = -1;
  while (g.next < g.r1) {
    const std::int64_t r = g.next++;
    const MatrixCheck chk = transpose_check<V>(g.A + r * n * n, n, s.T, g.ld);
    if (g.sym_tol >= 0.0 && (!chk.finite || chk.max_asym > g.sym_tol * chk.max_abs)) {
      g.res->bad[r] = 1;
      continue;
    }
    s.r = r;
    s.stage = 1;
    s.ex = scale_exponent(chk.max_abs);  // each matrix solved at its own scale
    if (s.ex != 0) {
      const double f = pow2_neg(s.ex);
      double* T = s.T;
      for (std::int64_t i = 0; i < n * g.ld; ++i) T[i] *= f;
    }
    double* v = g.res->vec + r * n;
    std::copy(g.start, g.start + n, v);
    begin(s.ph, n, v, s.T + n * g.ld, 0.0, 0.0);
    break;
  }
  const bool more = g.next < g.r1;
  g.ahead = more ? reinterpret_cast<const char*>(g.A + g.next * n * n) : nullptr;
  g.ahead_left = more ? n * n * static_cast<std::int64_t>(sizeof(double)) : 0;
}

template <class V>
TUNELAB_ALWAYS_INLINE void power_range(const double* A, std::int64_t n, std::int64_t r0, std::int64_t r1,
                                       const double* start, const EigenOptions& o, double sym_tol, const Out& res) {
  constexpr int kSlots = 4;
  const std::int64_t ld = stride(n), per = n * ld + ld;
  Scratch scratch(static_cast<std::size_t>(kSlots * per));
  Slot slot[kSlots];
  Range g{A, n, ld, r1, r0, start, sym_tol, &res, nullptr, 0};
  int active = 0;
  for (int k = 0; k < kSlots; ++k) {
    slot[k].T = scratch.data + k * per;
    load<V>(g, slot[k]);
    active += slot[k].r >= 0 ? 1 : 0;
  }
  while (active > 0) {
    for (int k = 0; k < kSlots; ++k) {
      Slot& s = slot[k];
      if (s.r < 0) continue;
      for (int q = 0; q < 4 && g.ahead_left > 0; ++q, g.ahead += 64, g.ahead_left -= 64) {
#if defined(__GNUC__)
        __builtin_prefetch(g.ahead, 0, 3);
#endif
      }
      if (!step<V>(s.ph, s.T, ld, n, o)) continue;
      EigenOut e = s.ph.out;
      if (s.stage == 1) {  // the first phase ended: the logic of power_iteration_with
        const double sigma = -std::max(s.ph.nu, std::fabs(e.value));
        if (!(o.which == Which::magnitude || (e.converged && e.value >= 0.0)) && sigma != 0.0) {
          s.first = e;
          s.stage = 2;
          std::copy(start + n, start + 2 * n, s.ph.v);
          begin(s.ph, n, s.ph.v, s.ph.w, sigma, -sigma);
          continue;
        }
      } else {
        e.n_iter += s.first.n_iter;
      }
      e = unscaled(e, s.ex);
      res.value[s.r] = e.value;
      res.n_iter[s.r] = e.n_iter;
      res.converged[s.r] = e.converged;
      res.residual[s.r] = e.residual;
      load<V>(g, s);
      if (s.r < 0) --active;
    }
  }
}

// The entry points: each instantiated for AVX-512F, AVX2 and the baseline, dispatched at run time.
TUNELAB_SIMD_DISPATCH(void, matvec_any, matvec,
                       (const double* T, std::int64_t ld, std::int64_t n, const double* x, double* y), (T, ld, n, x, y))
TUNELAB_SIMD_DISPATCH(MatrixCheck, transpose_check_any, transpose_check,
                       (const double* A, std::int64_t n, double* T, std::int64_t ld), (A, n, T, ld))
TUNELAB_SIMD_DISPATCH(void, power_range_any, power_range,
                       (const double* A, std::int64_t n, std::int64_t r0, std::int64_t r1, const double* start,
                        const EigenOptions& o, double sym_tol, const Out& res),
                       (A, n, r0, r1, start, o, sym_tol, res))
#undef TUNELAB_SMALL_DISPATCH

// Matrices r0 .. r1-1 of a stack of small matrices (power iteration or Lanczos).
inline void solve_range(const double* A, std::int64_t n, std::int64_t r0, std::int64_t r1, const double* start,
                        const EigenOptions& o, double sym_tol, const Out& res) {
  if (o.method == Method::power) {
    power_range_any(A, n, r0, r1, start, o, sym_tol, res);
    return;
  }
  const std::int64_t ld = stride(n);
  Scratch T(static_cast<std::size_t>(n * ld));
  for (std::int64_t r = r0; r < r1; ++r) {
    const MatrixCheck chk = transpose_check_any(A + r * n * n, n, T.data, ld);
    if (sym_tol >= 0.0 && (!chk.finite || chk.max_asym > sym_tol * chk.max_abs)) {
      res.bad[r] = 1;
      continue;
    }
    const int ex = scale_exponent(chk.max_abs);
    scale_by_pow2(T.data, n * ld, ex);
    const double* Tp = T.data;
    const EigenOut e = unscaled(
        lanczos([=](const double* x, double* y) { matvec_any(Tp, ld, n, x, y); }, n, start, o, res.vec + r * n), ex);
    res.value[r] = e.value;
    res.n_iter[r] = e.n_iter;
    res.converged[r] = e.converged;
    res.residual[r] = e.residual;
  }
}

}  // namespace small

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
