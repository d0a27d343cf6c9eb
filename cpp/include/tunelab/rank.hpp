// Ranks with ties as averages, and all-pairs Spearman rank correlation matrices.
//
// Spearman's rho of two variables is Pearson's correlation of their ranks (Spearman 1904),
// with tied values given the average of the ranks they span (the "average" method of
// scipy.stats.rankdata). We store each variable's ranks doubled and centred,
//   q_k = 2 r_k - (S + 1)   (an integer: average ranks are multiples of 1/2),
// so that rho_ij = sum_k q_ik q_jk / sqrt(sum_k q_ik^2 * sum_k q_jk^2). Every product and
// partial sum is an integer of magnitude at most S^3, exactly representable in a double while
// S^3 < 2^53 (S up to ~2e5): the Gram matrix is then exact whatever the summation order, and the
// only rounding is in the final division and square root.
//
// Ranking maps the doubles to order-preserving unsigned 64-bit keys (-0.0 and +0.0 tie, as
// they compare equal), radix-sorts (upper 32 key bits | index) words with 11-bit digits and
// finishes runs that share the upper 32 bits by a comparison sort on the full key. Inputs must be free of NaN (the Python layer refuses them).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "tunelab/parallel.hpp"

namespace tunelab::rank {

namespace detail {

inline std::uint64_t sortable_key(double x) noexcept {
  x += 0.0;  // -0.0 -> +0.0: equal values must get equal keys
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return (u >> 63) ? ~u : (u | 0x8000000000000000ull);
}

// Stable LSD radix sort (11-bit digits) of n words by their upper 32 bits; the lower 32 bits
// ride along (they hold the observation index). The result is in `a`.
inline void radix_sort_hi32(std::vector<std::uint64_t>& a, std::vector<std::uint64_t>& b, std::size_t n) {
  constexpr int kBits = 11, kPasses = 3;
  constexpr std::uint64_t kMask = (1u << kBits) - 1u;
  std::array<std::array<std::uint32_t, 1u << kBits>, kPasses> hist{};
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint64_t v = a[k] >> 32;
    for (int p = 0; p < kPasses; ++p) ++hist[static_cast<std::size_t>(p)][(v >> (kBits * p)) & kMask];
  }
  for (int p = 0; p < kPasses; ++p) {
    auto& h = hist[static_cast<std::size_t>(p)];
    bool trivial = false;  // every word has this digit: the pass would be the identity
    for (std::size_t q = 0; q < h.size(); ++q) trivial = trivial || h[q] == n;
    if (trivial) continue;
    std::uint32_t sum = 0;
    for (std::size_t q = 0; q < h.size(); ++q) {
      const std::uint32_t c = h[q];
      h[q] = sum;
      sum += c;
    }
    const unsigned shift = static_cast<unsigned>(32 + kBits * p);
    for (std::size_t k = 0; k < n; ++k) {
      const std::uint64_t v = a[k];
      b[h[(v >> shift) & kMask]++] = v;
    }
    a.swap(b);
  }
}

}  // namespace detail

// Scratch for centred_ranks, reused across calls by one thread.
struct RankScratch {
  std::vector<std::uint64_t> key, a, b;
};

// Doubled, centred average ranks q = 2r - (n + 1) of the n values x[0], x[stride], ...
// written to out[0..n). Returns true when the variable is constant (all q are then 0).
//
// The words (upper 32 bits of the order-preserving key | index) are radix-sorted, then runs
// that share the upper 32 bits are put in full-key order (rare for continuous data; runs of
// exactly equal values, the ties, are detected and left as they are).
inline bool centred_ranks(const double* x, std::int64_t stride, std::size_t n, double* out, RankScratch& w) {
  if (w.key.size() < n) {
    w.key.resize(n);
    w.a.resize(n);
    w.b.resize(n);
  }
  std::uint64_t* key = w.key.data();
  for (std::size_t k = 0; k < n; ++k) {
    key[k] = detail::sortable_key(x[static_cast<std::int64_t>(k) * stride]);
    w.a[k] = (key[k] & 0xFFFFFFFF00000000ull) | static_cast<std::uint64_t>(k);
  }
  detail::radix_sort_hi32(w.a, w.b, n);
  std::uint64_t* a = w.a.data();
  constexpr std::uint64_t kLo = 0xFFFFFFFFull;
  for (std::size_t lo = 0; lo < n;) {
    std::size_t hi = lo + 1;
    while (hi < n && (a[hi] >> 32) == (a[lo] >> 32)) ++hi;
    if (hi - lo > 1) {
      bool all_equal = true;
      const std::uint64_t k0 = key[a[lo] & kLo];
      for (std::size_t k = lo + 1; k < hi && all_equal; ++k) all_equal = key[a[k] & kLo] == k0;
      if (!all_equal)
        std::sort(a + lo, a + hi, [key](std::uint64_t u, std::uint64_t v) { return key[u & kLo] < key[v & kLo]; });
    }
    lo = hi;
  }
  const double nn = static_cast<double>(n);
  for (std::size_t lo = 0; lo < n;) {
    std::size_t hi = lo + 1;
    const std::uint64_t k0 = key[a[lo] & kLo];
    while (hi < n && key[a[hi] & kLo] == k0) ++hi;
    // Ranks lo+1 .. hi (1-based) share the average (lo + 1 + hi) / 2; doubled and centred:
    const double q = static_cast<double>(lo + hi) - nn;
    for (std::size_t k = lo; k < hi; ++k) out[a[k] & kLo] = q;
    lo = hi;
  }
  return n > 0 && key[a[0] & kLo] == key[a[n - 1] & kLo];
}

struct SpearmanOptions {
  std::int64_t n_vars = 0;     // T
  std::int64_t n_obs = 0;      // S
  std::int64_t var_stride = 0; // elements between consecutive variables
  std::int64_t obs_stride = 1; // elements between consecutive observations
};

// Spearman matrix of T variables over S observations: x(v, k) = x[v * var_stride + k * obs_stride].
// Writes rho (T x T, row-major) and constant[v] (1 if variable v is constant; its row and column
// of rho are then NaN, the diagonal included). `scratch` must hold T * S doubles (the centred ranks).
inline void spearman_matrix(const double* x, const SpearmanOptions& opt, double* scratch, double* rho,
                            std::uint8_t* constant, int num_threads) {
  if (opt.n_vars < 1) throw std::invalid_argument("X must have at least 1 variable; got " + std::to_string(opt.n_vars));
  if (opt.n_obs < 2) throw std::invalid_argument("X must have at least 2 observations; got " + std::to_string(opt.n_obs));
  if (opt.n_obs > static_cast<std::int64_t>(std::numeric_limits<std::uint32_t>::max()))
    throw std::invalid_argument("X has too many observations for 32-bit indices");
  const std::int64_t T = opt.n_vars, S = opt.n_obs;
  const auto n = static_cast<std::size_t>(S);

  // 1. ranks, one variable per task (per-thread scratch for the sort).
#ifdef _OPENMP
  const int threads = resolve_threads(num_threads);
#pragma omp parallel num_threads(threads) if (threads > 1 && T > 1) default(none) shared(x, opt, scratch, constant, T, S, n)
#else
  (void)num_threads;
#endif
  {
    RankScratch w;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
    for (std::int64_t v = 0; v < T; ++v) {
      constant[v] = centred_ranks(x + v * opt.var_stride, opt.obs_stride, n, scratch + v * S, w) ? 1 : 0;
    }
  }

  // 2. Gram matrix of the centred ranks in 4 x 4 register tiles over the upper triangle.
  //    The sums are exact integers (see the header comment), so the tiling does not change them.
  constexpr std::int64_t kTile = 4;
  const std::int64_t nb = (T + kTile - 1) / kTile;
  const std::int64_t n_pairs = nb * (nb + 1) / 2;
  std::vector<double> gram(static_cast<std::size_t>(T * T), 0.0);
  double* g = gram.data();
  parallel_for(n_pairs, num_threads, [=](std::int64_t p) {
    // Map p to the tile pair (bi <= bj), rows of the upper triangle in order.
    std::int64_t bi = 0, rem = p;
    while (rem >= nb - bi) {
      rem -= nb - bi;
      ++bi;
    }
    const std::int64_t bj = bi + rem;
    const std::int64_t i0 = bi * kTile, j0 = bj * kTile;
    const std::int64_t ni = std::min(kTile, T - i0), nj = std::min(kTile, T - j0);
    const double* a[kTile];
    const double* b[kTile];
    for (std::int64_t r = 0; r < kTile; ++r) {
      a[r] = scratch + std::min(i0 + r, T - 1) * S;  // padded rows repeat the last one; ignored below
      b[r] = scratch + std::min(j0 + r, T - 1) * S;
    }
    double acc[kTile][kTile] = {};
    for (std::int64_t k = 0; k < S; ++k) {
      const double a0 = a[0][k], a1 = a[1][k], a2 = a[2][k], a3 = a[3][k];
      const double b0 = b[0][k], b1 = b[1][k], b2 = b[2][k], b3 = b[3][k];
      acc[0][0] += a0 * b0; acc[0][1] += a0 * b1; acc[0][2] += a0 * b2; acc[0][3] += a0 * b3;
      acc[1][0] += a1 * b0; acc[1][1] += a1 * b1; acc[1][2] += a1 * b2; acc[1][3] += a1 * b3;
      acc[2][0] += a2 * b0; acc[2][1] += a2 * b1; acc[2][2] += a2 * b2; acc[2][3] += a2 * b3;
      acc[3][0] += a3 * b0; acc[3][1] += a3 * b1; acc[3][2] += a3 * b2; acc[3][3] += a3 * b3;
    }
    for (std::int64_t r = 0; r < ni; ++r)
      for (std::int64_t c = 0; c < nj; ++c) g[(i0 + r) * T + (j0 + c)] = acc[r][c];
  });

  // 3. Normalise: rho_ij = G_ij / sqrt(G_ii G_jj), clipped to [-1, 1] against rounding.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::int64_t i = 0; i < T; ++i) {
    for (std::int64_t j = i; j < T; ++j) {
      double r;
      if (constant[i] || constant[j]) {
        r = nan;
      } else if (i == j) {
        r = 1.0;
      } else {
        r = g[i * T + j] / (std::sqrt(g[i * T + i]) * std::sqrt(g[j * T + j]));
        r = std::min(1.0, std::max(-1.0, r));
      }
      rho[i * T + j] = r;
      rho[j * T + i] = r;
    }
  }
}

}  // namespace tunelab::rank
