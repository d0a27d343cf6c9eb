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
// they compare equal), radix-sorts (h | index) words by a 22-bit monotone image h of the value
// (two passes of 11-bit digits; see centred_ranks) and finishes runs that share h by a
// comparison sort on the full key. Ties are then read off the sorted words, looking up full
// keys only within runs that share h. Inputs must be free of NaN (the Python layer refuses them).
//
// When the observations are the rows of X, X is first transposed in cache-sized tiles so that
// each variable is ranked from contiguous memory. The Gram matrix is a symmetric rank-S update in 4 x 4 register tiles of
// short vectors along the observations (tunelab/simd.hpp: AVX-512F, AVX2 or baseline, chosen
// at run time), blocked over the observations so that the rows stay in cache; each block's
// partial Gram is exact, so adding the blocks in any order gives the same bits.
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
#include "tunelab/simd.hpp"

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
// `passes` = 3 sorts by all 32 upper bits; 2 by the lowest 22 of them (the caller guarantees the
// others are zero).
inline void radix_sort_hi32(std::vector<std::uint64_t>& a, std::vector<std::uint64_t>& b, std::size_t n,
                            int passes = 3) {
  constexpr int kBits = 11, kPasses = 3;
  constexpr std::uint64_t kMask = (1u << kBits) - 1u;
  std::array<std::array<std::uint32_t, 1u << kBits>, kPasses> hist{};
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint64_t v = a[k] >> 32;
    for (int p = 0; p < passes; ++p) ++hist[static_cast<std::size_t>(p)][(v >> (kBits * p)) & kMask];
  }
  for (int p = 0; p < passes; ++p) {
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
// written to out[0..n) (out may be x itself when stride is 1: x is read before out is written).
// Returns true when the variable is constant (all q are then 0).
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
  double mn = x[0], mx = x[0];
  for (std::size_t k = 0; k < n; ++k) {
    const double v = x[static_cast<std::int64_t>(k) * stride];
    key[k] = detail::sortable_key(v);
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  // Sort words (h | index) by h. h is a 22-bit affine image of the value, floor((v/2 - min/2) *
  // scale): each floating-point step is monotone, so h never inverts an order, and two radix
  // passes suffice; values that share an h (rare unless the distribution has heavy tails) are
  // put in order below. If the range is too small for that map, h is the key's upper half
  // (three passes).
  const double hmn = 0.5 * mn, scale = static_cast<double>((1u << 22) - 1u) / (0.5 * mx - hmn);
  if (n > 0 && mn < mx && std::isfinite(scale)) {
    for (std::size_t k = 0; k < n; ++k) {
      const double t = (0.5 * x[static_cast<std::int64_t>(k) * stride] - hmn) * scale;  // in [0, 2^22 - 1]
      const auto h = std::min<std::uint64_t>(static_cast<std::uint64_t>(t), (1u << 22) - 1u);
      w.a[k] = (h << 32) | static_cast<std::uint64_t>(k);
    }
    detail::radix_sort_hi32(w.a, w.b, n, 2);
  } else {
    for (std::size_t k = 0; k < n; ++k) w.a[k] = (key[k] & 0xFFFFFFFF00000000ull) | static_cast<std::uint64_t>(k);
    detail::radix_sort_hi32(w.a, w.b, n, 3);
  }
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
  for (std::size_t lo = 0; lo < n;) {  // tie groups: equal upper halves, then equal full keys
    std::size_t hi = lo + 1;
    const std::uint64_t h0 = a[lo] >> 32;
    while (hi < n && (a[hi] >> 32) == h0 && key[a[hi] & kLo] == key[a[lo] & kLo]) ++hi;
    // Ranks lo+1 .. hi (1-based) share the average (lo + 1 + hi) / 2; doubled and centred:
    const double q = static_cast<double>(lo + hi) - nn;
    for (std::size_t k = lo; k < hi; ++k) out[a[k] & kLo] = q;
    lo = hi;
  }
  return n > 0 && key[a[0] & kLo] == key[a[n - 1] & kLo];
}

namespace detail {

// G += Q_rows' Q_cols over observations k0 .. k1-1 for the 4 x 4 tile of variables (i0.., j0..)
// (rows of the centred ranks, S apart; rows past T repeat the last one and are not stored).
// All products and sums are integers below 2^53, so the lanes and their order do not matter.
template <class V>
TUNELAB_ALWAYS_INLINE void gram_tile(const double* q, std::int64_t S, std::int64_t T, std::int64_t i0,
                                     std::int64_t j0, std::int64_t k0, std::int64_t k1, double* g) noexcept {
  constexpr int W = simd::kW<V>;
  const double* a[4];
  const double* b[4];
  for (int r = 0; r < 4; ++r) {
    a[r] = q + std::min<std::int64_t>(i0 + r, T - 1) * S;
    b[r] = q + std::min<std::int64_t>(j0 + r, T - 1) * S;
  }
  V acc[4][4];
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) acc[r][c] = V{};
  std::int64_t k = k0;
  for (; k + W <= k1; k += W) {
    V x[4], y[4];
    for (int r = 0; r < 4; ++r) {
      x[r] = simd::at<V>(a[r] + k);
      y[r] = simd::at<V>(b[r] + k);
    }
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) acc[r][c] += x[r] * y[c];
  }
  double tile[4][4];
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) {
      double l[W];
      std::memcpy(l, &acc[r][c], sizeof l);
      double t = 0.0;
      for (int i = 0; i < W; ++i) t += l[i];
      for (std::int64_t kk = k; kk < k1; ++kk) t += a[r][kk] * b[c][kk];
      tile[r][c] = t;
    }
  }
  const std::int64_t ni = std::min<std::int64_t>(4, T - i0), nj = std::min<std::int64_t>(4, T - j0);
  for (std::int64_t r = 0; r < ni; ++r)
    for (std::int64_t c = 0; c < nj; ++c) g[(i0 + r) * T + (j0 + c)] += tile[r][c];
}

// g (T x T, upper triangle of 4 x 4 tiles) += the Gram of observations k0 .. k1-1.
template <class V>
TUNELAB_ALWAYS_INLINE void gram_block(const double* q, std::int64_t S, std::int64_t T, std::int64_t k0,
                                      std::int64_t k1, double* g) noexcept {
  for (std::int64_t i0 = 0; i0 < T; i0 += 4)
    for (std::int64_t j0 = i0; j0 < T; j0 += 4) gram_tile<V>(q, S, T, i0, j0, k0, k1, g);
}

TUNELAB_SIMD_DISPATCH(void, gram_block_any, gram_block,
                      (const double* q, std::int64_t S, std::int64_t T, std::int64_t k0, std::int64_t k1, double* g),
                      (q, S, T, k0, k1, g))

}  // namespace detail

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

  // 1. Ranks into rows of `scratch`. When the observations are rows of X (axis 0), X is first
  //    transposed into `scratch` in tiles of 64 observations (both sides in cache-friendly order);
  //    each row is then ranked in place. Otherwise each variable is ranked from X directly.
  const bool transpose = opt.var_stride == 1 && opt.obs_stride != 1;
  if (transpose) {
    constexpr std::int64_t kKT = 64;
    parallel_for((S + kKT - 1) / kKT, num_threads, [=](std::int64_t b) {
      const std::int64_t k0 = b * kKT, k1 = std::min(S, k0 + kKT);
      for (std::int64_t v0 = 0; v0 < T; v0 += 8) {
        const std::int64_t v1 = std::min(T, v0 + 8);
        for (std::int64_t k = k0; k < k1; ++k) {
          const double* row = x + k * opt.obs_stride;
          for (std::int64_t v = v0; v < v1; ++v) scratch[v * S + k] = row[v];
        }
      }
    });
  }
  RegionGuard guard;  // centred_ranks grows w's vectors
#ifdef _OPENMP
  const int threads = resolve_threads(num_threads);
#pragma omp parallel num_threads(threads) if (threads > 1 && T > 1) default(none) shared(x, opt, scratch, constant, T, S, n, transpose, guard)
#else
  (void)num_threads;
#endif
  {
    RankScratch w;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
    for (std::int64_t v = 0; v < T; ++v) {
      guard.run([&] {
        const bool c = transpose ? centred_ranks(scratch + v * S, 1, n, scratch + v * S, w)
                                 : centred_ranks(x + v * opt.var_stride, opt.obs_stride, n, scratch + v * S, w);
        constant[v] = c ? 1 : 0;
      });
    }
  }
  guard.rethrow();

  // 2. Gram matrix of the centred ranks (upper triangle), blocks of observations in parallel,
  //    each into its own partial matrix; the partials are exact integers, so their sum is too.
  constexpr std::int64_t kKB = 1024;  // observations per block: 64 rows x 8 KiB stay in L2
  const std::int64_t nkb = (S + kKB - 1) / kKB;
  const auto TT = static_cast<std::size_t>(T * T);
  std::vector<double> part(static_cast<std::size_t>(nkb) * TT, 0.0);
  double* pp = part.data();
  parallel_for(nkb, num_threads, [=](std::int64_t b) {
    detail::gram_block_any(scratch, S, T, b * kKB, std::min(S, (b + 1) * kKB), pp + static_cast<std::size_t>(b) * TT);
  });
  std::vector<double> gram(TT, 0.0);
  double* g = gram.data();
  for (std::int64_t b = 0; b < nkb; ++b)
    for (std::size_t e = 0; e < TT; ++e) g[e] += pp[static_cast<std::size_t>(b) * TT + e];

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
