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
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tunelab/parallel.hpp"
#include "tunelab/rng.hpp"

namespace tunelab::curvature {

// ---------------------------------------------------------------------------------------
// Level-1 helpers (serial, fixed order).
// Four partial sums combined as ((s0 + s1) + (s2 + s3)) + tail: a fixed order (so the same bits
// on any thread), and four independent dependency chains instead of one.
inline double dot(const double* a, const double* b, std::int64_t n) noexcept {
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

// ||a||_2: the plain sum of squares, rescaled only when it overflows or underflows.
inline double norm2(const double* a, std::int64_t n) noexcept {
  const double ss = dot(a, a, n);
  if (ss > 1e-280 && ss < 1e280) return std::sqrt(ss);
  double scale = 0.0;
  for (std::int64_t i = 0; i < n; ++i) scale = std::max(scale, std::fabs(a[i]));
  if (scale == 0.0 || !std::isfinite(scale)) return scale;
  double s = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double t = a[i] / scale;
    s += t * t;
  }
  return scale * std::sqrt(s);
}

// ||a - c b||_2 (the residual of an eigenpair), fixed order like dot.
inline double residual_norm(const double* a, double c, const double* b, std::int64_t n) noexcept {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  std::int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const double t0 = a[i] - c * b[i], t1 = a[i + 1] - c * b[i + 1];
    const double t2 = a[i + 2] - c * b[i + 2], t3 = a[i + 3] - c * b[i + 3];
    s0 += t0 * t0;
    s1 += t1 * t1;
    s2 += t2 * t2;
    s3 += t3 * t3;
  }
  double s = (s0 + s1) + (s2 + s3);
  for (; i < n; ++i) {
    const double t = a[i] - c * b[i];
    s += t * t;
  }
  return std::sqrt(s);
}

// ---------------------------------------------------------------------------------------
// Matrix-vector product rows [lo, hi) of y = A x (row-major A): each y[i] is dot(A[i, :], x)
// with dot's fixed order, so every element is the same sum whatever the row blocking or thread
// count, and a matrix of a stack gives the bits it gives alone. Rows are contiguous, so the
// matrix streams from memory once, front to back.
inline void symv_block(const double* A, std::int64_t n, const double* x, double* y, std::int64_t lo,
                       std::int64_t hi) noexcept {
  for (std::int64_t i = lo; i < hi; ++i) y[i] = dot(A + i * n, x, n);
}

// y = A x, OpenMP over blocks of rows of A; serial when small.
inline void symv(const double* A, std::int64_t n, const double* x, double* y, int threads) noexcept {
  const int t = resolve_threads(threads);
  if (t <= 1 || n < 256) {
    symv_block(A, n, x, y, 0, n);
    return;
  }
  constexpr std::int64_t kBlock = 64;  // rows per task (static schedule: contiguous per thread)
  const std::int64_t tasks = (n + kBlock - 1) / kBlock;
  parallel_for(tasks, t, [=](std::int64_t b) {
    const std::int64_t lo = b * kBlock, hi = std::min(n, lo + kBlock);
    symv_block(A, n, x, y, lo, hi);
  });
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
          finite = finite && (a + b) <= std::numeric_limits<double>::max();
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
inline void require_symmetric(const char* name, const double* A, std::int64_t n, double sym_tol,
                              std::int64_t index = -1) {
  const MatrixCheck c = check_symmetric(A, n);
  const std::string which = index >= 0 ? std::string(name) + "[" + std::to_string(index) + "]" : std::string(name);
  if (!c.finite) throw std::invalid_argument(which + " must contain only finite values (no NaN or inf)");
  if (c.max_asym > sym_tol * c.max_abs) {
    throw std::invalid_argument(which + " must be symmetric: max|A - A.T| = " + std::to_string(c.max_asym) +
                                " exceeds " + std::to_string(sym_tol) + " * max|A|; symmetrise it with (A + A.T) / 2");
  }
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
EigenOut power_phase(MatVec&& mv, std::int64_t n, double* v, double* w, double shift, double scale_floor,
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
template <class MatVec>
EigenOut power_iteration(MatVec&& mv, std::int64_t n, const double* start, const EigenOptions& o, double* vec) {
  std::vector<double> w(static_cast<std::size_t>(n));
  std::copy(start, start + n, vec);
  double nu = 0.0;
  EigenOut first = power_phase(mv, n, vec, w.data(), 0.0, 0.0, o, nu);
  if (o.which == Which::magnitude || (first.converged && first.value >= 0.0)) return first;
  const double sigma = -std::max(nu, std::fabs(first.value));
  if (sigma == 0.0) return first;  // A v = 0 for the start vector: nothing better to do
  std::copy(start + n, start + 2 * n, vec);
  double nu2 = 0.0;
  EigenOut second = power_phase(mv, n, vec, w.data(), sigma, -sigma, o, nu2);
  second.n_iter += first.n_iter;
  return second;
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

// Dense (n, n) matrix; the matvec is OpenMP-parallel over row blocks.
inline EigenOut top_eigen_dense(const double* A, std::int64_t n, const EigenOptions& o, std::uint64_t key, int threads,
                                double* vec) {
  validate(o);
  if (n < 1) throw std::invalid_argument("A must not be empty");
  return top_eigen([=](const double* x, double* y) { symv(A, n, x, y, threads); }, n, key, o, vec);
}

// A stack of m (n, n) matrices, OpenMP over the stack (each solve serial). Outputs have a
// leading m axis; vec is (m, n).
inline void top_eigen_stack(const double* A, std::int64_t m, std::int64_t n, const EigenOptions& o, std::uint64_t key,
                            int threads, double* value, double* vec, std::int64_t* n_iter, bool* converged,
                            double* residual) {
  validate(o);
  if (n < 1 || m < 1) throw std::invalid_argument("A must not be empty");
  const std::vector<double> start_v = start_vectors(key, n);
  const double* start = start_v.data();
  parallel_for(m, threads, [=, &o](std::int64_t r) {
    const double* Ar = A + r * n * n;
    auto mv = [=](const double* x, double* y) { symv_block(Ar, n, x, y, 0, n); };
    const EigenOut e = o.method == Method::lanczos ? lanczos(mv, n, start, o, vec + r * n)
                                                   : power_iteration(mv, n, start, o, vec + r * n);
    value[r] = e.value;
    n_iter[r] = e.n_iter;
    converged[r] = e.converged;
    residual[r] = e.residual;
  });
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
  parallel_for(L, threads, [=](std::int64_t l) {
    std::vector<double> x(x0, x0 + n), g(static_cast<std::size_t>(n));
    const double lr = lrs[l];
    double* out = losses + l * T;
    double last_finite = 0.0;
    for (std::int64_t t = 0; t < T; ++t) {
      symv_block(H, n, x.data(), g.data(), 0, n);
      const double f = 0.5 * dot(x.data(), g.data(), n);
      if (!std::isfinite(f)) {
        const double fill = last_finite < 0.0 ? -std::numeric_limits<double>::infinity()
                                              : std::numeric_limits<double>::infinity();
        for (std::int64_t u = t; u < T; ++u) out[u] = fill;
        return;
      }
      out[t] = f;
      last_finite = f;
      for (std::int64_t i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] -= lr * g[static_cast<std::size_t>(i)];
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
  parallel_for(count, threads, [=](std::int64_t r) {
    std::vector<double> z(static_cast<std::size_t>(n)), y(static_cast<std::size_t>(n));
    rademacher(key, first + r, n, z.data());
    symv_block(A, n, z.data(), y.data(), 0, n);
    out[r] = dot(z.data(), y.data(), n);
  });
}

}  // namespace tunelab::curvature
