// Top eigenpairs of small symmetric matrices (n <= kSmallN: the stacks' case, and any small
// dense matrix, so that a matrix gives the same bits alone and in a stack): power iteration on
// several matrices interleaved, and Lanczos, on vectorised products.
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
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "tunelab/eigen.hpp"
#include "tunelab/linalg.hpp"
#include "tunelab/simd.hpp"

namespace tunelab::curvature {

inline constexpr std::int64_t kSmallN = 128;

namespace small {

using linalg::norm2;
using linalg::pow2_neg;
using linalg::scale_by_pow2;
using linalg::scale_exponent;
using simd::at;
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
  constexpr int kSlots = 3;  // three transposed 32 x 32 copies (25 KB) stay in a 32 KB L1; four do not
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
      for (int q = 0; q < 8 && g.ahead_left > 0; ++q, g.ahead += 64, g.ahead_left -= 64) {
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

}  // namespace tunelab::curvature
