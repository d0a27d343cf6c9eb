// Top eigenpair of a symmetric operator known by its products: power iteration (von Mises) and
// Lanczos, with the implicit QL solver for Lanczos' tridiagonal matrices; and the checks that a
// dense matrix is symmetric and finite. Every solver is serial and fixed-order, so a solve
// gives the same bits on any thread and inside any stack. eigen_small.hpp runs them on stacks of
// small matrices; curvature.hpp has the entry points for dense matrices and stacks.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "tunelab/linalg.hpp"
#include "tunelab/parallel.hpp"
#include "tunelab/rng.hpp"
#include "tunelab/simd.hpp"

namespace tunelab::curvature {

using linalg::dot;
using linalg::max_abs;
using linalg::norm2;
using linalg::residual_norm;
using linalg::scale_by_pow2;
using linalg::scale_exponent;

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
// The state of one Lanczos run: the basis Q (row j = q_j, grown as needed), T_k's diagonal
// alpha and off-diagonal beta, the work vectors, the locked Ritz vectors of selective
// reorthogonalisation, and T_k's latest eigen-decomposition (d, z; best, tnorm).
struct Lanczos {
  std::int64_t n;
  std::size_t N;
  const EigenOptions& o;
  std::vector<double> Q, alpha, beta, w, v;
  std::vector<double> good;       // converged Ritz vectors (selective), row-major
  std::vector<double> good_vals;  // their Ritz values
  std::vector<double> d, e, z;
  std::int64_t best = 0;
  double tnorm = 0.0;

  // q_1 = start / ||start||.
  Lanczos(std::int64_t n_, const EigenOptions& o_, std::int64_t kmax, const double* start)
      : n(n_), N(static_cast<std::size_t>(n_)), o(o_), w(N), v(N) {
    Q.reserve(N * static_cast<std::size_t>(std::min<std::int64_t>(kmax, 64)));
    std::copy(start, start + n, v.begin());
    const double v0 = norm2(v.data(), n);
    for (auto& x : v) x /= v0;
    Q.insert(Q.end(), v.begin(), v.end());
  }

  const double* q(std::int64_t j) const { return Q.data() + static_cast<std::size_t>(j) * N; }

  // w -= (u'w) u.
  void subtract(const double* u) {
    const double c = dot(u, w.data(), n);
    for (std::int64_t i = 0; i < n; ++i) w[static_cast<std::size_t>(i)] -= c * u[i];
  }

  // The eigenvalues of T_k into d, the chosen one's index into best and max|theta_i| into
  // tnorm; z: the last row of the eigenvectors (full = false) or all of them (full = true).
  void ritz(std::int64_t k, bool full) {
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
  }

  // Last component of eigenvector i of T_k (after ritz(k, full)).
  double last(std::int64_t k, std::int64_t i, bool full) const {
    return full ? z[static_cast<std::size_t>((k - 1) * k + i)] : z[static_cast<std::size_t>(i)];
  }

  // y = Q s_i / ||Q s_i|| for eigenvector s_i of T_k (after ritz(k, true)).
  void ritz_vector(std::int64_t k, std::int64_t i, double* y) const {
    for (std::int64_t r = 0; r < n; ++r) y[r] = 0.0;
    for (std::int64_t j = 0; j < k; ++j) {
      const double c = z[static_cast<std::size_t>(j * k + i)];
      const double* qj = q(j);
      for (std::int64_t r = 0; r < n; ++r) y[r] += c * qj[r];
    }
    const double yn = norm2(y, n);
    for (std::int64_t r = 0; r < n; ++r) y[r] /= yn;
  }

  // Step k (0-based): w = A q_k - alpha_k q_k - beta_{k-1} q_{k-1}, reorthogonalised (against
  // every q_j twice, or against the locked Ritz vectors); beta_k = ||w||.
  template <class MatVec>
  void expand(MatVec& mv, std::int64_t k) {
    const double* qk = q(k);
    mv(qk, w.data());
    const double a = dot(qk, w.data(), n);
    alpha.push_back(a);
    for (std::int64_t i = 0; i < n; ++i) w[static_cast<std::size_t>(i)] -= a * qk[i];
    if (k > 0) {
      const double b = beta[static_cast<std::size_t>(k - 1)];
      const double* qp = qk - n;
      for (std::int64_t i = 0; i < n; ++i) w[static_cast<std::size_t>(i)] -= b * qp[i];
    }
    if (o.reorth == Reorth::full) {
      for (int pass = 0; pass < 2; ++pass)
        for (std::int64_t j = 0; j <= k; ++j) subtract(q(j));
    } else {
      const auto ng = static_cast<std::int64_t>(good_vals.size());
      for (std::int64_t g = 0; g < ng; ++g) subtract(good.data() + static_cast<std::size_t>(g) * N);
    }
    beta.push_back(norm2(w.data(), n));
  }

  // Selective reorthogonalisation after ritz(k, false): lock every Ritz pair whose residual
  // bound beta_k |s_ki| fell below sqrt(eps) ||T|| and that is not locked yet, and purge w of
  // it (beta_k becomes the purged ||w||). True when w then vanishes: the space is invariant.
  bool lock_converged(std::int64_t k) {
    constexpr double eps = std::numeric_limits<double>::epsilon();
    const double sqrt_eps = std::sqrt(eps);
    const double b = beta.back();
    std::vector<double> thetas;
    for (std::int64_t i = 0; i < k; ++i) {
      if (b * std::fabs(last(k, i, false)) > sqrt_eps * tnorm) continue;
      const double th = d[static_cast<std::size_t>(i)];
      bool seen = false;
      for (double gv : good_vals) seen = seen || std::fabs(gv - th) <= 1e3 * sqrt_eps * tnorm;
      if (!seen) thetas.push_back(th);
    }
    if (thetas.empty()) return false;
    ritz(k, true);  // same eigenvalues, now with full vectors; match by value
    std::vector<double> y(N);
    for (double th : thetas) {
      std::int64_t idx = 0;
      for (std::int64_t i = 1; i < k; ++i)
        if (std::fabs(d[static_cast<std::size_t>(i)] - th) < std::fabs(d[static_cast<std::size_t>(idx)] - th)) idx = i;
      ritz_vector(k, idx, y.data());
      good.insert(good.end(), y.begin(), y.end());
      good_vals.push_back(d[static_cast<std::size_t>(idx)]);
      subtract(y.data());  // purge the new vector now
    }
    const double b2 = norm2(w.data(), n);
    beta.back() = b2;
    if (b2 <= eps * tnorm || b2 == 0.0) {
      ritz(k, false);
      return true;
    }
    return false;
  }

  // q_{k+1} = w / beta_k.
  void append_basis_vector() {
    const double bk = beta.back();
    for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = w[static_cast<std::size_t>(i)] / bk;
    Q.insert(Q.end(), v.begin(), v.end());
  }
};

template <class MatVec>
EigenOut lanczos(MatVec&& mv, std::int64_t n, const double* start, const EigenOptions& o, double* vec) {
  constexpr double eps = std::numeric_limits<double>::epsilon();
  EigenOut out;
  const std::int64_t kmax = std::min(o.max_iter, n);
  Lanczos s(n, o, kmax, start);
  std::int64_t k = 0;
  for (;;) {
    s.expand(mv, k);
    ++out.n_iter;
    ++k;
    const double b = s.beta.back();
    s.ritz(k, false);
    const double est = b * std::fabs(s.last(k, s.best, false));
    const bool exhausted = k >= kmax || b <= eps * s.tnorm || b == 0.0;
    if (est <= o.tol * s.tnorm) {
      out.converged = true;
      break;
    }
    if (exhausted) {
      out.converged = b <= eps * s.tnorm || b == 0.0 || k >= n;
      break;
    }
    if (o.reorth == Reorth::selective && s.lock_converged(k)) {
      out.converged = true;
      break;
    }
    s.append_basis_vector();
  }
  // The Ritz vector y = Q s of the chosen pair.
  s.ritz(k, true);
  out.value = s.d[static_cast<std::size_t>(s.best)];
  s.ritz_vector(k, s.best, vec);
  mv(vec, s.w.data());
  ++out.n_iter;
  out.residual = residual_norm(s.w.data(), out.value, vec, n);
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


}  // namespace tunelab::curvature
