// Sobol' points, Saltelli designs and Sobol' sensitivity estimators.
//
// Points: the gray-code construction of Antonov & Saleev (1979) with the direction numbers of
// Joe & Kuo (2008) (see sobol_directions.hpp for their licence), 30 bits, so that unscrambled
// points are bit-identical to scipy.stats.qmc.Sobol(d, scramble=False). Scrambling is Owen's
// linear matrix scramble plus a digital shift (Matousek 1998; Owen 2003), the construction SciPy
// uses: every generator matrix C_j becomes L_j C_j (L_j random lower triangular with unit
// diagonal, digit 0 = most significant) and every point is XOR-ed with a random 30-bit shift.
// The random bits of dimension j of scrambling number r come from the Philox stream (key, r),
// slots 8j .. 8j + 7 (30 words for the rows of L_j, one for the shift).
//
// Saltelli designs (SALib's row layout): for base row i the block of rows
//   A_i, AB_i^(1) .. AB_i^(G), [BA_i^(1) .. BA_i^(G)], B_i
// where A_i and B_i are the first and last D coordinates of point i of a 2D-dimensional
// sequence and AB^(g) is A with the columns of group g taken from B (BA^(g): the reverse).
// With sampling = random, A_i and B_i are i.i.d. uniforms: Philox stream (key, r), slots
// i*D .. i*D + D - 1 give the 2D coordinates of base row i of replicate r.
//
// Estimators (per output, on Y centred on its mean over all rows of the design, as SALib does,
// and scaled by powers of two; the scale cancels in every index):
//   V     = var([f(A); f(B)])                      (ddof 0)
//   S1_g  = mean(f(B) (f(AB_g) - f(A))) / V          Saltelli et al. (2010)
//   ST_g  = mean((f(A) - f(AB_g))^2) / (2 V)         Jansen (1999)
//   S2_gh = mean(f(BA_g) f(AB_h) - f(A) f(B)) / V - S1_g - S1_h   Saltelli (2002), as SALib
// Bootstrap resample b draws n base blocks with replacement from the Philox stream
// (key, first + b) (unbiased integers by Lemire's method on 32-bit words, in order).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tunelab/parallel.hpp"
#include "tunelab/rng.hpp"
#include "tunelab/sobol_directions.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tunelab::sobol {

constexpr int kBits = 30;
constexpr std::int64_t kMaxPoints = std::int64_t{1} << kBits;
constexpr double kScale = 1.0 / static_cast<double>(std::int64_t{1} << kBits);
constexpr std::uint32_t kMask = (std::uint32_t{1} << kBits) - 1u;
constexpr int kMaxDim = sobol_data::kMaxDim;

namespace detail {

inline int ctz64(std::uint64_t x) noexcept {
  int c = 0;
  while ((x & 1u) == 0u) {
    x >>= 1;
    ++c;
  }
  return c;
}

inline int parity(std::uint32_t x) noexcept {
  x ^= x >> 16;
  x ^= x >> 8;
  x ^= x >> 4;
  x ^= x >> 2;
  x ^= x >> 1;
  return static_cast<int>(x & 1u);
}

// Unbiased integers in [0, n) from 32-bit words of one stream (Lemire 2019, with rejection).
class IndexDraw {
 public:
  IndexDraw(rng::Key key, std::uint64_t stream, std::uint32_t n) noexcept : s_(key, stream), n_(n) {
    threshold_ = static_cast<std::uint32_t>((0u - n) % n);
  }
  std::uint32_t next() noexcept {
    for (;;) {
      const std::uint64_t m = static_cast<std::uint64_t>(word()) * n_;
      if (static_cast<std::uint32_t>(m) >= threshold_) return static_cast<std::uint32_t>(m >> 32);
    }
  }

 private:
  std::uint32_t word() noexcept {
    if (pos_ == 4) {
      block_ = s_.next_block();
      pos_ = 0;
    }
    return block_[static_cast<std::size_t>(pos_++)];
  }
  rng::Stream s_;
  std::uint32_t n_;
  std::uint32_t threshold_;
  rng::Block block_{};
  int pos_ = 4;
};

}  // namespace detail

// Direction integers of dimensions [0, d), scaled to 30 bits, stored bit-major:
// v[k * d + j] = v_{j,k} (column k of the generator matrix of dimension j).
inline void direction_integers(int d, std::uint32_t* v) {
  if (d < 1 || d > kMaxDim) {
    throw std::invalid_argument("d must be in [1, " + std::to_string(kMaxDim) + "]; got " + std::to_string(d));
  }
  std::uint32_t m[kBits];
  for (int j = 0; j < d; ++j) {
    if (j == 0) {
      for (int k = 0; k < kBits; ++k) m[k] = 1u;
    } else {
      const std::uint32_t p = sobol_data::kPoly[j];
      const int s = static_cast<int>(sobol_data::kOffset[j + 1] - sobol_data::kOffset[j]);
      for (int k = 0; k < s && k < kBits; ++k) m[k] = sobol_data::kMinit[sobol_data::kOffset[j] + static_cast<std::uint32_t>(k)];
      // Bratley & Fox (1988): m_k = 2 a_1 m_{k-1} ^ 4 a_2 m_{k-2} ^ ... ^ 2^s m_{k-s} ^ m_{k-s}.
      for (int k = s; k < kBits; ++k) {
        std::uint32_t nv = m[k - s];
        for (int t = 0; t < s; ++t) {
          if ((p >> (s - 1 - t)) & 1u) nv ^= m[k - t - 1] << (t + 1);
        }
        m[k] = nv;
      }
    }
    for (int k = 0; k < kBits; ++k) v[static_cast<std::int64_t>(k) * d + j] = m[k] << (kBits - 1 - k);
  }
}

// Linear matrix scramble + digital shift of direction integers v (bit-major, d dimensions),
// random bits from the Philox stream (key, stream). shift must hold d words.
inline void scramble(int d, std::uint32_t* v, std::uint32_t* shift, rng::Key key, std::uint64_t stream) {
  for (int j = 0; j < d; ++j) {
    rng::Stream s(key, stream, 8u * static_cast<std::uint64_t>(j));
    std::uint32_t words[32];
    for (int b = 0; b < 8; ++b) {
      const rng::Block blk = s.next_block();
      for (int w = 0; w < 4; ++w) words[4 * b + w] = blk[static_cast<std::size_t>(w)];
    }
    // Row p of L as an integer: bit (kBits-1-q) = L[p][q]; random below the diagonal, 1 on it.
    std::uint32_t row[kBits];
    for (int p = 0; p < kBits; ++p) {
      const std::uint32_t below = kMask ^ ((std::uint32_t{1} << (kBits - p)) - 1u);
      row[p] = (words[p] & below) | (std::uint32_t{1} << (kBits - 1 - p));
    }
    for (int k = 0; k < kBits; ++k) {
      const std::uint32_t c = v[static_cast<std::int64_t>(k) * d + j];
      std::uint32_t out = 0;
      for (int p = 0; p < kBits; ++p) out |= static_cast<std::uint32_t>(detail::parity(row[p] & c)) << (kBits - 1 - p);
      v[static_cast<std::int64_t>(k) * d + j] = out;
    }
    shift[j] = words[30] & kMask;
  }
}

// A 30-bit state as a double in [0, 1); the states fit a signed 32-bit int, whose conversion
// to double vectorises on every x86-64 (unsigned 32-bit conversion needs AVX-512).
inline double to_unit(std::uint32_t q) noexcept { return static_cast<double>(static_cast<std::int32_t>(q)) * kScale; }

// The integer state of point i (gray-code order): shift ^ XOR of v_k over the bits k of i ^ (i >> 1).
inline void point_state(std::int64_t i, int d, const std::uint32_t* v, const std::uint32_t* shift, std::uint32_t* q) {
  for (int j = 0; j < d; ++j) q[j] = shift[j];
  const auto g = static_cast<std::uint64_t>(i ^ (i >> 1));
  for (int k = 0; k < kBits; ++k) {
    if ((g >> k) & 1u) {
      const std::uint32_t* vk = v + static_cast<std::int64_t>(k) * d;
      for (int j = 0; j < d; ++j) q[j] ^= vk[j];
    }
  }
}

constexpr std::int64_t kPointBlock = 2048;  // points per parallel task

// Outputs of at least this many bytes (twice the last-level cache of a typical core complex) are
// written with non-temporal stores: the kernel never reads them back, and a cached store to a
// line not in cache first reads it from memory (read-for-ownership), doubling the traffic.
// Measured at d = 64, n = 2^20 (512 MiB) on one Zen 1 core: 76 ms -> 63 ms into a reused array.
constexpr std::int64_t kStreamBytes = std::int64_t{16} << 20;

// Point state q (d words) as a row of d doubles; the same values with or without streaming.
inline void write_row(const std::uint32_t* q, int d, double* row, bool stream) {
#if defined(__SSE2__)
  if (stream) {  // 16-byte non-temporal pairs; an unaligned first or odd last element is stored as usual
    int j = 0;
    if (reinterpret_cast<std::uintptr_t>(row) % 16 != 0) {
      row[0] = to_unit(q[0]);
      j = 1;
    }
    for (; j + 1 < d; j += 2) _mm_stream_pd(row + j, _mm_set_pd(to_unit(q[j + 1]), to_unit(q[j])));
    if (j < d) row[j] = to_unit(q[j]);
    return;
  }
#else
  (void)stream;
#endif
  for (int j = 0; j < d; ++j) row[j] = to_unit(q[j]);
}

// Points first .. first + n - 1 of the (scrambled) sequence into out (n rows of d doubles).
inline void fill_points(int d, std::int64_t first, std::int64_t n, const std::uint32_t* v, const std::uint32_t* shift,
                        double* out, int num_threads) {
  if (d < 1) throw std::invalid_argument("d must be >= 1; got " + std::to_string(d));
  if (first < 0 || n < 0 || first + n > kMaxPoints) {
    throw std::invalid_argument("points [first, first + n) must lie in [0, 2^30); got first=" + std::to_string(first) +
                                ", n=" + std::to_string(n));
  }
  const std::int64_t tasks = (n + kPointBlock - 1) / kPointBlock;
  const bool stream = n * d * static_cast<std::int64_t>(sizeof(double)) >= kStreamBytes;
  parallel_for(tasks, num_threads, [=](std::int64_t t) {  // by value: the uint32 stores below cannot alias d
    const std::int64_t lo = first + t * kPointBlock;
    const std::int64_t hi = std::min(first + n, lo + kPointBlock);
    std::vector<std::uint32_t> q(static_cast<std::size_t>(d));
    point_state(lo, d, v, shift, q.data());
    for (std::int64_t i = lo; i < hi; ++i) {
      if (i > lo) {
        const std::uint32_t* vk = v + static_cast<std::int64_t>(detail::ctz64(static_cast<std::uint64_t>(i))) * d;
        std::uint32_t* qp = q.data();
        for (int j = 0; j < d; ++j) qp[j] ^= vk[j];
      }
      write_row(q.data(), d, out + (i - first) * d, stream);
    }
#if defined(__SSE2__)
    if (stream) _mm_sfence();  // the streamed rows are visible before the task counts as done
#endif
  });
}

struct SaltelliOptions {
  int num_vars = 0;            // D
  int num_groups = 0;          // G (= D without groups)
  bool second_order = false;   // rows per block 2G + 2 instead of G + 2
  bool random = false;         // i.i.d. uniforms instead of a Sobol' sequence
  bool scramble = true;        // (Sobol' only) LMS + shift per replicate
  std::int64_t n = 0;          // base rows per replicate
  std::int64_t replicates = 1; // independent designs stacked one after the other
};

inline std::int64_t rows_per_block(const SaltelliOptions& o) {
  return o.second_order ? 2 * std::int64_t{o.num_groups} + 2 : std::int64_t{o.num_groups} + 2;
}

// Base rows first .. first + count - 1 (global: replicate r = row / n) of a Saltelli design
// into out (count * rows_per_block rows of D doubles), scaled: x = u * width + low.
inline void fill_saltelli(const SaltelliOptions& o, const int* group, const double* low, const double* width,
                          std::uint64_t key, std::int64_t first, std::int64_t count, double* out, int num_threads) {
  const int D = o.num_vars, G = o.num_groups;
  if (D < 1) throw std::invalid_argument("num_vars must be >= 1; got " + std::to_string(D));
  if (!o.random && 2 * D > kMaxDim) {
    throw std::invalid_argument("num_vars must be <= " + std::to_string(kMaxDim / 2) +
                                " for Sobol' designs (2 * num_vars dimensions); got " + std::to_string(D));
  }
  if (G < 1 || G > D) throw std::invalid_argument("num_groups must be in [1, num_vars]; got " + std::to_string(G));
  for (int j = 0; j < D; ++j) {
    if (group[j] < 0 || group[j] >= G) throw std::invalid_argument("group ids must be in [0, num_groups)");
  }
  if (o.n < 1 || (!o.random && o.n > kMaxPoints)) throw std::invalid_argument("n out of range: " + std::to_string(o.n));
  if (o.replicates < 1) throw std::invalid_argument("replicates must be >= 1");
  if (first < 0 || count < 0 || first + count > o.n * o.replicates) {
    throw std::invalid_argument("base rows [first, first + count) out of range");
  }
  const std::int64_t step = rows_per_block(o);
  const int dims = 2 * D;
  const rng::Key k = rng::split_key(key);
  std::vector<std::uint32_t> v, shift;
  if (!o.random) {
    v.resize(static_cast<std::size_t>(dims) * kBits);
    shift.assign(static_cast<std::size_t>(dims), 0u);
    direction_integers(dims, v.data());
  }
  const std::vector<std::uint32_t> v0 = v;
  std::int64_t pos = first;
  while (pos < first + count) {
    const std::int64_t r = pos / o.n;
    const std::int64_t lo_i = pos - r * o.n;
    const std::int64_t hi_i = std::min(o.n, lo_i + (first + count - pos));
    if (!o.random) {
      v = v0;
      std::fill(shift.begin(), shift.end(), 0u);
      if (o.scramble) scramble(dims, v.data(), shift.data(), k, static_cast<std::uint64_t>(r));
    }
    const std::uint32_t* vp = v.data();
    const std::uint32_t* sp = shift.data();
    double* base = out + (pos - first) * step * D;
    const std::int64_t len = hi_i - lo_i;
    const std::int64_t tasks = (len + kPointBlock - 1) / kPointBlock;
    parallel_for(tasks, num_threads, [&](std::int64_t t) {
      const std::int64_t a = lo_i + t * kPointBlock;
      const std::int64_t b = std::min(hi_i, a + kPointBlock);
      std::vector<std::uint32_t> q(static_cast<std::size_t>(dims));
      std::vector<double> xa(static_cast<std::size_t>(D)), xb(static_cast<std::size_t>(D));
      if (!o.random) point_state(a, dims, vp, sp, q.data());
      for (std::int64_t i = a; i < b; ++i) {
        if (o.random) {
          rng::Stream s(k, static_cast<std::uint64_t>(r), static_cast<std::uint64_t>(i) * static_cast<std::uint64_t>(D));
          for (int j = 0; j < D; ++j) xa[static_cast<std::size_t>(j)] = s.uniform() * width[j] + low[j];
          for (int j = 0; j < D; ++j) xb[static_cast<std::size_t>(j)] = s.uniform() * width[j] + low[j];
        } else {
          if (i > a) {
            const std::uint32_t* vk = vp + static_cast<std::int64_t>(detail::ctz64(static_cast<std::uint64_t>(i))) * dims;
            for (int j = 0; j < dims; ++j) q[static_cast<std::size_t>(j)] ^= vk[j];
          }
          for (int j = 0; j < D; ++j) {
            xa[static_cast<std::size_t>(j)] = to_unit(q[static_cast<std::size_t>(j)]) * width[j] + low[j];
            xb[static_cast<std::size_t>(j)] = to_unit(q[static_cast<std::size_t>(j + D)]) * width[j] + low[j];
          }
        }
        double* blk = base + (i - lo_i) * step * D;
        for (int j = 0; j < D; ++j) blk[j] = xa[static_cast<std::size_t>(j)];
        for (int g = 0; g < G; ++g) {
          double* row = blk + (1 + g) * std::int64_t{D};
          for (int j = 0; j < D; ++j) row[j] = group[j] == g ? xb[static_cast<std::size_t>(j)] : xa[static_cast<std::size_t>(j)];
        }
        if (o.second_order) {
          for (int g = 0; g < G; ++g) {
            double* row = blk + (1 + G + g) * std::int64_t{D};
            for (int j = 0; j < D; ++j) row[j] = group[j] == g ? xa[static_cast<std::size_t>(j)] : xb[static_cast<std::size_t>(j)];
          }
        }
        double* last = blk + (step - 1) * D;
        for (int j = 0; j < D; ++j) last[j] = xb[static_cast<std::size_t>(j)];
      }
    });
    pos += len;
  }
}

struct EstimateOptions {
  int num_groups = 0;           // G
  int outputs = 1;              // k: Y has shape (rows, k)
  bool second_order = false;
  std::int64_t n = 0;           // base blocks per replicate
  std::int64_t replicates = 1;  // designs stacked in Y (each centred on its own)
};

// Estimates per output: G first-order, G total, then G(G-1)/2 second-order (pairs g < h in
// row-major order) when second_order.
inline std::int64_t estimates_per_output(const EstimateOptions& o) {
  const std::int64_t G = o.num_groups;
  return 2 * G + (o.second_order ? G * (G - 1) / 2 : 0);
}

namespace detail {

// The affine map of one (replicate, output) that every estimate of it reads Y through:
//   z = (y * pre - hi) - lo,
// pre a power of two (exact), hi + lo the mean of y * pre over all rows of the design as a
// double-double (two passes). The estimators read zh = y * pre - hi (= z + lo) and subtract lo
// only where the centre matters: differences of two rows and the variance are shift-invariant
// (the variance's sums start from shift, a constant near the mean of zh on the A and B rows).
struct Centre {
  double pre = 1.0, hi = 0.0, lo = 0.0, shift = 0.0;
  double operator()(double y) const noexcept { return y * pre - hi; }
};

// 2^e for e clamped to the normal exponents, so that the power of two is a normal double.
inline double pow2(int e) noexcept { return std::ldexp(1.0, std::min(1022, std::max(-1022, e))); }

// The Centre of rows [0, rows) of column c of y (k columns, blocks of step rows; the A row is
// row 0 of a block, the B row row step - 1). Sobol' indices are invariant under y -> a y + b,
// so this map changes them only by rounding, and makes every later sum well scaled:
//  1. pre = 2^-e, e the exponent of max|y|: y * pre lies in (-2, 2) whatever the magnitude of
//     Y (no overflow or underflow of sums of squares at 1e155 or 1e-165), and Y * 2^j gives the
//     same y * pre bit for bit (so the same indices) while Y * 2^j stays finite and exact;
//  2. the mean m1 of y * pre, then the mean of the residuals y * pre - m1 (exact when |Y| is
//     dominated by an offset, Sterbenz), hi + lo = m1 + that mean (TwoSum): the centring error
//     is rounding of the residual sum, O(n eps) times the spread, not eps times the offset;
//  3. no second scaling is needed, even when Y is nearly constant (1 + 1e-14 f): the largest
//     |y * pre| is in [1, 2) (or y * pre lies on the grid 2^-52 for subnormal data), so unless
//     all values are equal the spread, and the largest centred |z|, is at least 2^-54; a
//     product that underflows is below 2^-900 times the largest, far below rounding.
// Each pass runs in row order within one task, so the map does not depend on the thread count.
inline Centre centre_of(const double* y, std::int64_t rows, std::int64_t step, int k, int c) {
  // Sums and maxima in kLanes interleaved lanes combined in a fixed order: a fixed function of
  // the data (no thread count involved) that does not wait on one add per row.
  constexpr std::int64_t kLanes = 4;
  const std::int64_t body = rows - rows % kLanes;
  Centre t;
  double mx[kLanes] = {0.0, 0.0, 0.0, 0.0};
  for (std::int64_t i = 0; i < body; i += kLanes) {
    for (std::int64_t l = 0; l < kLanes; ++l) mx[l] = std::max(mx[l], std::fabs(y[(i + l) * k + c]));
  }
  for (std::int64_t i = body; i < rows; ++i) mx[0] = std::max(mx[0], std::fabs(y[i * k + c]));
  const double amax = std::max(std::max(mx[0], mx[1]), std::max(mx[2], mx[3]));
  if (!(amax > 0.0)) return t;  // all zero: constant (reported by the caller)
  t.pre = pow2(-std::ilogb(amax));
  const double pre = t.pre;
  const double nr = static_cast<double>(rows);
  double sl[kLanes] = {0.0, 0.0, 0.0, 0.0};
  for (std::int64_t i = 0; i < body; i += kLanes) {
    for (std::int64_t l = 0; l < kLanes; ++l) sl[l] += y[(i + l) * k + c] * pre;
  }
  for (std::int64_t i = body; i < rows; ++i) sl[0] += y[i * k + c] * pre;
  const double m1 = ((sl[0] + sl[1]) + (sl[2] + sl[3])) / nr;
  double rl[kLanes] = {0.0, 0.0, 0.0, 0.0};
  for (std::int64_t i = 0; i < body; i += kLanes) {
    for (std::int64_t l = 0; l < kLanes; ++l) rl[l] += y[(i + l) * k + c] * pre - m1;
  }
  for (std::int64_t i = body; i < rows; ++i) rl[0] += y[i * k + c] * pre - m1;
  double rab = 0.0;
  for (std::int64_t i = 0; i < rows; i += step) rab += (y[i * k + c] * pre - m1) + (y[(i + step - 1) * k + c] * pre - m1);
  const double dm = ((rl[0] + rl[1]) + (rl[2] + rl[3])) / nr;
  t.hi = m1 + dm;  // TwoSum(m1, dm)
  const double bv = t.hi - m1;
  t.lo = (m1 - (t.hi - bv)) + (dm - bv);  // m1 + dm = hi + lo exactly
  // mean of zh on the A and B rows, approximately (any nearby constant serves as the origin)
  t.shift = rab / (2.0 * static_cast<double>(rows / step)) - dm;
  return t;
}

// One pass over the blocks idx(0..n-1) of a design whose rows start at y (k outputs per row),
// writing the estimates of every output to est (k * estimates_per_output).
// SO: second order, a template parameter so that each variant's block loop is compiled for it.
template <bool SO, class Index>
void estimate_pass_impl(const EstimateOptions& o, const double* y, const Centre* ctr, Index idx, double* est) {
  const int G = o.num_groups, k = o.outputs;
  const std::int64_t step = SO ? 2 * std::int64_t{G} + 2 : std::int64_t{G} + 2;
  const std::int64_t P = SO ? std::int64_t{G} * (G - 1) / 2 : 0;
  // per output: uA, uB, uAA, uBB (u = zh - shift), sAB, s1[G], st[G], s2[P]
  const std::int64_t nacc = 5 + 2 * std::int64_t{G} + P;
  std::vector<double> acc(static_cast<std::size_t>(nacc * k), 0.0);
  // z holds zh of the block's rows (first order), or z itself (second order: the S2 sums
  // are not shift-invariant, and nearly every row enters them)
  std::vector<double> z(static_cast<std::size_t>(step));
  for (std::int64_t t = 0; t < o.n; ++t) {
    const double* blk = y + static_cast<std::int64_t>(idx(t)) * step * k;
    for (int c = 0; c < k; ++c) {
      const Centre tc = ctr[c];
      if constexpr (SO) {
        for (std::int64_t r = 0; r < step; ++r) z[static_cast<std::size_t>(r)] = tc(blk[r * k + c]) - tc.lo;
      } else {
        for (std::int64_t r = 0; r < step; ++r) z[static_cast<std::size_t>(r)] = tc(blk[r * k + c]);
      }
      const double lo = SO ? 0.0 : tc.lo;  // still to subtract from z
      double* a = acc.data() + c * nacc;
      const double ha = z[0], hb = z[static_cast<std::size_t>(step - 1)];
      const double fa = ha - lo, fb = hb - lo;
      const double ua = ha - tc.shift, ub = hb - tc.shift;
      a[0] += ua;
      a[1] += ub;
      a[2] += ua * ua;
      a[3] += ub * ub;
      a[4] += fa * fb;
      double* s1 = a + 5;
      double* st = s1 + G;
      for (int g = 0; g < G; ++g) {
        const double dlt = ha - z[static_cast<std::size_t>(1 + g)];  // f(A) - f(AB_g)
        s1[g] -= fb * dlt;
        st[g] += dlt * dlt;
      }
      if constexpr (SO) {
        double* s2 = st + G;
        std::int64_t p = 0;
        for (int g = 0; g < G; ++g) {
          const double fba = z[static_cast<std::size_t>(1 + G + g)];
          for (int h = g + 1; h < G; ++h) s2[p++] += fba * z[static_cast<std::size_t>(1 + h)];
        }
      }
    }
  }
  const std::int64_t ne = 2 * std::int64_t{G} + P;
  const double n = static_cast<double>(o.n);
  for (int c = 0; c < k; ++c) {
    const double* a = acc.data() + c * nacc;
    double* e = est + c * ne;
    const double m = (a[0] + a[1]) / (2.0 * n);
    const double var = (a[2] + a[3]) / (2.0 * n) - m * m;
    const bool ok = var > 0.0;
    const double nan = std::nan("");
    for (int g = 0; g < G; ++g) {
      e[g] = ok ? a[5 + g] / n / var : nan;
      e[G + g] = ok ? 0.5 * a[5 + G + g] / n / var : nan;
    }
    if constexpr (SO) {
      std::int64_t p = 0;
      for (int g = 0; g < G; ++g) {
        for (int h = g + 1; h < G; ++h, ++p) {
          e[2 * G + p] = ok ? (a[5 + 2 * G + p] - a[4]) / n / var - e[g] - e[h] : nan;
        }
      }
    }
  }
}

template <class Index>
void estimate_pass(const EstimateOptions& o, const double* y, const Centre* ctr, Index idx, double* est) {
  if (o.second_order) {
    estimate_pass_impl<true>(o, y, ctr, idx, est);
  } else {
    estimate_pass_impl<false>(o, y, ctr, idx, est);
  }
}

}  // namespace detail

// Point estimates of every replicate (est: replicates x k x estimates_per_output) and, when
// n_boot > 0 (only with one replicate), bootstrap estimates (boot: n_boot x k x ...), resample
// b drawn from the Philox stream (key, first + b). Y has n * replicates * rows_per_block rows of
// k outputs. Each replicate is read through its own affine map (detail::Centre: centred on its
// mean over all rows, scaled by powers of two); bootstrap resamples use the map of the whole
// design, as SALib (which centres and scales Y once, before resampling).
inline void estimate(const EstimateOptions& o, const double* y, double* est, std::int64_t n_boot, double* boot,
                     std::uint64_t key, std::uint64_t first, int num_threads) {
  if (o.num_groups < 1) throw std::invalid_argument("num_groups must be >= 1");
  if (o.outputs < 1) throw std::invalid_argument("outputs must be >= 1");
  if (o.n < 2) throw std::invalid_argument("n must be >= 2 base blocks; got " + std::to_string(o.n));
  if (o.n > (std::int64_t{1} << 32) - 1) throw std::invalid_argument("n must be < 2^32");
  if (o.replicates < 1) throw std::invalid_argument("replicates must be >= 1");
  if (n_boot < 0) throw std::invalid_argument("n_boot must be >= 0");
  if (n_boot > 0 && o.replicates != 1) throw std::invalid_argument("bootstrap needs replicates == 1");
  const int k = o.outputs;
  const std::int64_t step = o.second_order ? 2 * std::int64_t{o.num_groups} + 2 : std::int64_t{o.num_groups} + 2;
  const std::int64_t rows = o.n * step;
  const std::int64_t ne = estimates_per_output(o);
  std::vector<detail::Centre> ctr(static_cast<std::size_t>(o.replicates * k));
  parallel_for(o.replicates * k, num_threads, [&](std::int64_t rc) {
    const std::int64_t r = rc / k;
    const int c = static_cast<int>(rc % k);
    ctr[static_cast<std::size_t>(rc)] = detail::centre_of(y + r * rows * k, rows, step, k, c);
  });
  const rng::Key kk = rng::split_key(key);
  const std::int64_t items = o.replicates + n_boot;
  parallel_for(items, num_threads, [&](std::int64_t it) {
    if (it < o.replicates) {
      detail::estimate_pass(o, y + it * rows * k, ctr.data() + it * k, [](std::int64_t t) { return t; }, est + it * k * ne);
    } else {
      const std::int64_t b = it - o.replicates;
      std::vector<std::uint32_t> idx(static_cast<std::size_t>(o.n));
      detail::IndexDraw draw(kk, first + static_cast<std::uint64_t>(b), static_cast<std::uint32_t>(o.n));
      for (auto& x : idx) x = draw.next();
      detail::estimate_pass(o, y, ctr.data(), [&idx](std::int64_t t) { return idx[static_cast<std::size_t>(t)]; },
                            boot + b * k * ne);
    }
  });
}

// Sobol's g-function: f(x) = prod_j (|4 x_j - 2| + a_j) / (1 + a_j), rows of X in parallel.
inline void g_function(const double* x, std::int64_t rows, int d, const double* a, double* out, int num_threads) {
  if (d < 1) throw std::invalid_argument("X must have at least one column");
  for (int j = 0; j < d; ++j) {
    if (!(a[j] >= 0.0)) throw std::invalid_argument("a must be >= 0 (element " + std::to_string(j) + ")");
  }
  constexpr std::int64_t kGrain = 4096;
  const std::int64_t tasks = (rows + kGrain - 1) / kGrain;
  parallel_for(tasks, num_threads, [&](std::int64_t t) {
    const std::int64_t lo = t * kGrain, hi = std::min(rows, lo + kGrain);
    for (std::int64_t i = lo; i < hi; ++i) {
      const double* xi = x + i * d;
      double f = 1.0;
      for (int j = 0; j < d; ++j) f *= (std::fabs(4.0 * xi[j] - 2.0) + a[j]) / (1.0 + a[j]);
      out[i] = f;
    }
  });
}

// Closed form of the g-function's indices: V_j = 1 / (3 (1 + a_j)^2), V = prod(1 + V_j) - 1,
// S1_j = V_j / V, ST_j = V_j prod_{l != j}(1 + V_l) / V, S2_jl = V_j V_l / V (Sobol' 1998).
inline void g_indices(const double* a, int d, double* s1, double* st, double* s2) {
  if (d < 1) throw std::invalid_argument("a must have at least one element");
  std::vector<double> vj(static_cast<std::size_t>(d));
  // V = prod(1 + V_j) - 1 as expm1(sum log1p(V_j)): for large a_j (V_j below the spacing of
  // doubles near 1) the plain product rounds V to 0 and the indices to inf.
  double log_prod = 0.0;
  for (int j = 0; j < d; ++j) {
    if (!(a[j] >= 0.0)) throw std::invalid_argument("a must be >= 0 (element " + std::to_string(j) + ")");
    const double r = 1.0 / (1.0 + a[j]);  // no overflow of (1 + a)^2 for huge a
    vj[static_cast<std::size_t>(j)] = r * r / 3.0;
    log_prod += std::log1p(vj[static_cast<std::size_t>(j)]);
  }
  const double V = std::expm1(log_prod);
  const double prod = std::exp(log_prod);
  if (!(V > 0.0)) throw std::invalid_argument("a is too large: every input's variance underflows, the indices are undefined");
  for (int j = 0; j < d; ++j) {
    const double v = vj[static_cast<std::size_t>(j)];
    s1[j] = v / V;
    st[j] = v * (prod / (1.0 + v)) / V;
    for (int l = 0; l < d; ++l) s2[j * d + l] = l == j ? 0.0 : v * vj[static_cast<std::size_t>(l)] / V;
  }
}

}  // namespace tunelab::sobol
