// Batched optimizer steps on R replicas of d parameters each (row r = replica r), updated in
// place: SGD (momentum, dampening, Nesterov, coupled weight decay), Adam (L2 weight decay) and
// AdamW (decoupled weight decay), with per-replica global-norm clipping. Every hyperparameter is
// a per-replica array of doubles (the Python layer broadcasts scalars).
//
// Semantics are PyTorch's, line by line (torch.optim.SGD / Adam / AdamW, single-tensor path,
// and torch.nn.utils.clip_grad_norm_ applied to each replica's gradient row):
//   clip:   n = ||g||_2;  c = min(1, max_norm / (n + 1e-6));  g <- c * g
//   maximize: g <- -g (after clipping, as the optimizer negates the clipped .grad)
//   SGD:    g <- g + wd * w;  if mu != 0: b <- g if the replica has no buffer yet (torch: the
//           first step at which momentum != 0, whatever came before; the buffer then exists),
//           else b <- mu * b + (1 - damp) * g;  g <- nesterov ? g + mu * b : b;  w <- w - lr * g
//           (a step with mu == 0 neither creates nor touches the buffer, as in torch)
//   Adam:   t <- t + 1;  g <- g + wd * w (L2);  m <- lerp(m, g, 1 - b1);  v <- b2 * v + (1 - b2) g^2
//           w <- w - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//   AdamW:  t <- t + 1;  w <- w * (1 - lr * wd);  then the Adam step without the L2 term.
// Scalars are formed in double and rounded once to the parameter type T; element arithmetic is
// in T (as PyTorch does for float32 tensors). The squared norm is accumulated in double.
//
// Non-finite gradients: a replica whose squared gradient norm is not finite (a NaN or inf
// element, or overflow) is skipped - its parameters, state and step count are left unchanged -
// and reported in skipped[r]; the other replicas step normally.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tunelab/parallel.hpp"
#include "tunelab/simd.hpp"

namespace tunelab::optim {

// PyTorch's clip_grad_norm_ guard: coef = max_norm / (total_norm + 1e-6), capped at 1.
constexpr double kClipEps = 1e-6;

inline double clip_coef(double norm, double max_norm) noexcept {
  const double c = max_norm / (norm + kClipEps);  // max_norm = inf: no clipping (c = inf)
  return c < 1.0 ? c : 1.0;
}

// sqrt_: std::sqrt for T. The build passes -fno-math-errno (sqrt of a negative number need not
// write errno; the result is the same IEEE-754 correctly rounded value), which lets GCC
// vectorise the loops below. That flag is not -ffast-math: no arithmetic changes.
TUNELAB_ALWAYS_INLINE float sqrt_(float x) noexcept { return std::sqrt(x); }
TUNELAB_ALWAYS_INLINE double sqrt_(double x) noexcept { return std::sqrt(x); }

// torch.lerp's formula (ATen's lerp in Lerp.h): exact at both ends, weight < 0.5 from the start.
template <class T>
TUNELAB_ALWAYS_INLINE T lerp(T start, T end, T weight) noexcept {
  return (weight < T(0) ? -weight : weight) < T(0.5) ? start + weight * (end - start) : end - (end - start) * (T(1) - weight);
}

// ---- per-element updates (shared with the fused noisy-quadratic kernels) ----------------------
//
// Each is an always-inline body of plain element loops; TUNELAB_AUTOVEC_DISPATCH below compiles
// it once per x86-64 vector width and picks one at run time (SSE2's divides and square roots
// cost where the rows are in cache). Lanes are independent elements (the norm's eight partial
// sums included), so every width gives the same bits.

// Squared norm in double: eight partial sums in a fixed order (so the result depends neither on
// threads nor on the vector width, whose lanes they become), elements 8k + j into acc[j], the
// tail into acc[0].
template <class T>
struct SumSquares {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  TUNELAB_ALWAYS_INLINE void add8(const T* p) noexcept {
    for (int j = 0; j < 8; ++j) {
      const double x = static_cast<double>(p[j]);
      acc[j] += x * x;
    }
  }
  TUNELAB_ALWAYS_INLINE void add1(T v) noexcept { acc[0] += static_cast<double>(v) * static_cast<double>(v); }
  TUNELAB_ALWAYS_INLINE double total() const noexcept {
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  }
};

template <class T>
TUNELAB_ALWAYS_INLINE double sum_squares_body(const T* g, std::int64_t n) noexcept {
  SumSquares<T> s;
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) s.add8(g + i);
  for (; i < n; ++i) s.add1(g[i]);
  return s.total();
}

// upd(i) for i in [0, n); returns the squared norm of next[0, n) (0 if next is null), the same
// bits as sum_squares. The step passes the next row's gradient: one pass that streams the row's
// state and the next row's gradient together reads memory faster than the norm pass alone (a
// single stream) followed by the update (1-thread AdamW float32 at 1e7 parameters: the update
// alone ~16 ms, norm then update ~21 ms).
template <class T, class Upd>
TUNELAB_ALWAYS_INLINE double each_and_norm(std::int64_t n, const T* next, Upd upd) noexcept {
  if (next == nullptr) {
    for (std::int64_t i = 0; i < n; ++i) upd(i);
    return 0.0;
  }
  SumSquares<T> s;
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    s.add8(next + i);
    for (std::int64_t j = i; j < i + 8; ++j) upd(j);
  }
  for (; i < n; ++i) {
    s.add1(next[i]);
    upd(i);
  }
  return s.total();
}

// SGD on n elements, then the squared norm of next (see each_and_norm). g already clipped? No:
// coef multiplies g here, as clip_grad_norm_ would have (a negative coef: maximize).
// use_momentum: the momentum (as a double, before rounding to T) is non-zero -- torch tests
// `momentum != 0` on the Python float, so a momentum that rounds to 0 in float32 still creates
// and updates the buffer. first: the buffer does not exist yet and is created from g (read only
// with use_momentum; the caller tracks which replicas have a buffer).
template <class T>
TUNELAB_ALWAYS_INLINE double sgd_row_body(T* w, const T* g, T* buf, std::int64_t n, T coef, T lr, T wd, T mu,
                                          T one_minus_damp, bool nesterov, bool use_momentum, bool first,
                                          const T* next) noexcept {
  const T neg_lr = -lr;
  if (!use_momentum) {
    return each_and_norm(n, next, [&](std::int64_t i) TUNELAB_LAMBDA_INLINE {
      T gi = g[i] * coef;
      gi = gi + wd * w[i];
      w[i] = w[i] + neg_lr * gi;
    });
  }
  if (first) {
    return each_and_norm(n, next, [&](std::int64_t i) TUNELAB_LAMBDA_INLINE {
      T gi = g[i] * coef;
      gi = gi + wd * w[i];
      const T b = gi;  // torch: buf = clone(d_p) on the first step
      buf[i] = b;
      const T d = nesterov ? gi + mu * b : b;
      w[i] = w[i] + neg_lr * d;
    });
  }
  if (nesterov) {
    return each_and_norm(n, next, [&](std::int64_t i) TUNELAB_LAMBDA_INLINE {
      T gi = g[i] * coef;
      gi = gi + wd * w[i];
      const T b = buf[i] * mu + one_minus_damp * gi;
      buf[i] = b;
      w[i] = w[i] + neg_lr * (gi + mu * b);
    });
  }
  return each_and_norm(n, next, [&](std::int64_t i) TUNELAB_LAMBDA_INLINE {
    T gi = g[i] * coef;
    gi = gi + wd * w[i];
    const T b = buf[i] * mu + one_minus_damp * gi;
    buf[i] = b;
    w[i] = w[i] + neg_lr * b;
  });
}

// Scalars of one Adam/AdamW step of one replica, in T.
template <class T>
struct AdamScalars {
  T coef, l2, decay, one_minus_b1, b2, one_minus_b2, bc2_sqrt, eps, neg_step_size;
};

template <class T>
inline AdamScalars<T> adam_scalars(double coef, double lr, double b1, double b2, double eps, double wd, bool decoupled,
                                   double bc1, double bc2) noexcept {
  AdamScalars<T> s;
  s.coef = static_cast<T>(coef);
  s.l2 = static_cast<T>(decoupled ? 0.0 : wd);
  s.decay = static_cast<T>(decoupled ? 1.0 - lr * wd : 1.0);
  s.one_minus_b1 = static_cast<T>(1.0 - b1);
  s.b2 = static_cast<T>(b2);
  s.one_minus_b2 = static_cast<T>(1.0 - b2);
  s.bc2_sqrt = static_cast<T>(std::sqrt(bc2));
  s.eps = static_cast<T>(eps);
  s.neg_step_size = static_cast<T>(-(lr / bc1));
  return s;
}

// One Adam (decoupled = false) or AdamW (decoupled = true) step on n elements, then the squared
// norm of next (see each_and_norm).
template <class T>
TUNELAB_ALWAYS_INLINE double adam_row_body(T* w, const T* g, T* m, T* v, std::int64_t n, const AdamScalars<T>& s,
                                           bool decoupled, const T* next) noexcept {
  const T coef = s.coef, l2 = s.l2, decay = s.decay, w1 = s.one_minus_b1, b2 = s.b2, c2 = s.one_minus_b2,
          bc2s = s.bc2_sqrt, eps = s.eps, nss = s.neg_step_size;
  if (decoupled) {
    if (w1 < T(0.5)) {
      return each_and_norm(n, next, [&](std::int64_t i) TUNELAB_LAMBDA_INLINE {
        const T wi = w[i] * decay;                 // param.mul_(1 - lr * wd)
        const T gi = g[i] * coef;                  // clip_grad_norm_
        const T mi = m[i] + w1 * (gi - m[i]);      // exp_avg.lerp_(grad, 1 - beta1)
        const T vi = v[i] * b2 + c2 * gi * gi;     // exp_avg_sq.mul_(b2).addcmul_(g, g, 1 - b2)
        const T denom = sqrt_(vi) / bc2s + eps;    // (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
        m[i] = mi;
        v[i] = vi;
        w[i] = wi + nss * mi / denom;              // param.addcdiv_(exp_avg, denom, -step_size)
      });
    }
    return each_and_norm(n, next, [&](std::int64_t i) TUNELAB_LAMBDA_INLINE {
      const T wi = w[i] * decay;
      const T gi = g[i] * coef;
      const T mi = lerp(m[i], gi, w1);
      const T vi = v[i] * b2 + c2 * gi * gi;
      const T denom = sqrt_(vi) / bc2s + eps;
      m[i] = mi;
      v[i] = vi;
      w[i] = wi + nss * mi / denom;
    });
  }
  if (w1 < T(0.5)) {
    return each_and_norm(n, next, [&](std::int64_t i) TUNELAB_LAMBDA_INLINE {
      const T wi = w[i];
      const T gi = g[i] * coef + l2 * wi;          // grad.add(param, alpha=weight_decay)
      const T mi = m[i] + w1 * (gi - m[i]);
      const T vi = v[i] * b2 + c2 * gi * gi;
      const T denom = sqrt_(vi) / bc2s + eps;
      m[i] = mi;
      v[i] = vi;
      w[i] = wi + nss * mi / denom;
    });
  }
  return each_and_norm(n, next, [&](std::int64_t i) TUNELAB_LAMBDA_INLINE {
    const T wi = w[i];
    const T gi = g[i] * coef + l2 * wi;
    const T mi = lerp(m[i], gi, w1);
    const T vi = v[i] * b2 + c2 * gi * gi;
    const T denom = sqrt_(vi) / bc2s + eps;
    m[i] = mi;
    v[i] = vi;
    w[i] = wi + nss * mi / denom;
  });
}

TUNELAB_AUTOVEC_DISPATCH(double, sgd_row, sgd_row_body,
                         (T * w, const T* g, T* buf, std::int64_t n, T coef, T lr, T wd, T mu, T one_minus_damp,
                          bool nesterov, bool use_momentum, bool first, const T* next),
                         (w, g, buf, n, coef, lr, wd, mu, one_minus_damp, nesterov, use_momentum, first, next))
TUNELAB_AUTOVEC_DISPATCH(double, adam_row, adam_row_body,
                         (T * w, const T* g, T* m, T* v, std::int64_t n, const AdamScalars<T>& s, bool decoupled,
                          const T* next),
                         (w, g, m, v, n, s, decoupled, next))
TUNELAB_AUTOVEC_DISPATCH(double, sum_squares, sum_squares_body, (const T* g, std::int64_t n), (g, n))

// ---- the batched step ----------------------------------------------------------------------

enum class Kind { sgd, adam, adamw };

// Per-replica hyperparameters, each an array of R doubles (max_norm may be null: no clipping).
struct Hyper {
  const double* lr = nullptr;
  const double* momentum = nullptr;   // SGD
  const double* dampening = nullptr;  // SGD
  const double* beta1 = nullptr;      // Adam
  const double* beta2 = nullptr;      // Adam
  const double* eps = nullptr;        // Adam
  const double* weight_decay = nullptr;
  const double* max_norm = nullptr;
  const std::uint8_t* nesterov = nullptr;  // SGD, per replica (null: none)
  const std::uint8_t* maximize = nullptr;  // per replica (null: none): step along +g
};

struct StepOut {
  double* grad_norm;      // (R,)  ||g|| before clipping (as clip_grad_norm_ returns)
  double* effective_lr;   // (R,)  lr * clip coefficient; 0 for a skipped replica
  std::uint8_t* skipped;  // (R,)  1 where the gradient was not finite (nothing updated)
};

inline void check_hyper(Kind kind, const Hyper& h, std::int64_t R) {
  auto need = [](const double* p, const char* name) {
    if (p == nullptr) throw std::invalid_argument(std::string(name) + " is required");
  };
  need(h.lr, "lr");
  need(h.weight_decay, "weight_decay");
  if (kind == Kind::sgd) {
    need(h.momentum, "momentum");
    need(h.dampening, "dampening");
  } else {
    need(h.beta1, "betas");
    need(h.beta2, "betas");
    need(h.eps, "eps");
  }
  for (std::int64_t r = 0; r < R; ++r) {
    if (!(h.lr[r] >= 0.0) || !std::isfinite(h.lr[r])) throw std::invalid_argument("lr must be finite and >= 0");
    if (!(h.weight_decay[r] >= 0.0) || !std::isfinite(h.weight_decay[r]))
      throw std::invalid_argument("weight_decay must be finite and >= 0");
    if (h.max_norm && !(h.max_norm[r] > 0.0)) throw std::invalid_argument("max_grad_norm must be > 0");
    if (kind == Kind::sgd) {
      if (!(h.momentum[r] >= 0.0 && h.momentum[r] < 1.0)) throw std::invalid_argument("momentum must lie in [0, 1)");
      if (!(h.dampening[r] >= 0.0 && h.dampening[r] <= 1.0)) throw std::invalid_argument("dampening must lie in [0, 1]");
      // nesterov with momentum 0 or dampening != 0 is applied as torch applies it (torch checks
      // the pair only in its constructor; the Python layer does the same).
    } else {
      if (!(h.beta1[r] >= 0.0 && h.beta1[r] < 1.0) || !(h.beta2[r] >= 0.0 && h.beta2[r] < 1.0))
        throw std::invalid_argument("betas must lie in [0, 1)");
      if (!(h.eps[r] > 0.0) || !std::isfinite(h.eps[r])) throw std::invalid_argument("eps must be finite and > 0");
    }
  }
}

// Rows of at most kSplit elements are done whole by one task (each row's norm is summed while
// the previous row is updated: see each_and_norm); longer rows are cut into blocks of kSplit: a
// first parallel pass computes each block's partial squared norm, a second sums them in block
// order and updates.
constexpr std::int64_t kSplit = 1 << 14;

// w, state1, state2: (R, d) arrays of T (state2 unused by SGD, state1 unused by SGD without
// momentum: pass null only if every momentum is 0). steps: (R,) per-replica step counts.
// has_buf: SGD's (R,) flags "replica r has a momentum buffer" (torch: "momentum_buffer" in its
// state), read and set here; required with state1. A replica's buffer is created (b <- g) at its
// first non-skipped step with momentum != 0, not at its first step.
template <class T>
void step(Kind kind, T* w, const T* g, T* state1, T* state2, std::int64_t* steps, std::uint8_t* has_buf,
          std::int64_t R, std::int64_t d, const Hyper& h, const StepOut& out, int threads) {
  if (R < 0 || d < 0) throw std::invalid_argument("params must have a non-negative shape");
  check_hyper(kind, h, R);
  if (kind == Kind::sgd && (state1 == nullptr || has_buf == nullptr)) {
    for (std::int64_t r = 0; r < R; ++r)
      if (h.momentum[r] != 0.0)
        throw std::invalid_argument("momentum_buffer and its flags are required when momentum != 0");
  }
  if (R == 0) return;

  // SGD: does this step create replica r's buffer? Marks it created (call once per row, for rows
  // that are not skipped, before their update).
  auto creates_buffer = [&](std::int64_t r) -> bool {
    if (kind != Kind::sgd || h.momentum[r] == 0.0 || has_buf[r]) return false;
    has_buf[r] = 1;
    return true;
  };
  // Update of columns [lo, hi) of row r, given the row's clip coefficient (the step count of the
  // row is advanced by the caller once per row); returns the squared norm of next[0, hi - lo)
  // (null: none), summed in the same pass.
  auto update = [&](std::int64_t r, std::int64_t lo, std::int64_t hi, double coef, std::int64_t t, bool first,
                    const T* next) -> double {
    const std::int64_t off = r * d + lo, n = hi - lo;
    if (h.maximize && h.maximize[r]) coef = -coef;  // -(c g) == (-c) g exactly
    if (kind == Kind::sgd) {
      return sgd_row<T>(w + off, g + off, state1 ? state1 + off : nullptr, n, static_cast<T>(coef),
                        static_cast<T>(h.lr[r]), static_cast<T>(h.weight_decay[r]), static_cast<T>(h.momentum[r]),
                        static_cast<T>(1.0 - h.dampening[r]), h.nesterov && h.nesterov[r], h.momentum[r] != 0.0,
                        first, next);
    }
    const double td = static_cast<double>(t);
    const double bc1 = 1.0 - std::pow(h.beta1[r], td), bc2 = 1.0 - std::pow(h.beta2[r], td);
    const bool dec = kind == Kind::adamw;
    const auto s = adam_scalars<T>(coef, h.lr[r], h.beta1[r], h.beta2[r], h.eps[r], h.weight_decay[r], dec, bc1, bc2);
    return adam_row<T>(w + off, g + off, state1 + off, state2 + off, n, s, dec, next);
  };
  auto finish = [&](std::int64_t r, double ss) -> double {  // returns coef, or -1 to skip
    const double norm = std::sqrt(ss);
    out.grad_norm[r] = norm;
    if (!std::isfinite(ss)) {
      out.skipped[r] = 1;
      out.effective_lr[r] = 0.0;
      return -1.0;
    }
    const double coef = h.max_norm ? clip_coef(norm, h.max_norm[r]) : 1.0;
    out.skipped[r] = 0;
    out.effective_lr[r] = h.lr[r] * coef;
    return coef;
  };

  if (d <= kSplit) {
    // One task of consecutive rows per thread (at least kSplit elements), so that each row's
    // update also sums the next row's gradient (each_and_norm); the norms do not depend on it.
    const std::int64_t nt = resolve_threads(threads);
    const std::int64_t rows = std::max({std::int64_t{1}, kSplit / std::max<std::int64_t>(d, 1), (R + nt - 1) / nt});
    const std::int64_t tasks = (R + rows - 1) / rows;
    parallel_for(tasks, threads, [&](std::int64_t task) {
      const std::int64_t r0 = task * rows, r1 = std::min(R, r0 + rows);
      double ss = sum_squares(g + r0 * d, d);
      for (std::int64_t r = r0; r < r1; ++r) {
        const T* next = r + 1 < r1 ? g + (r + 1) * d : nullptr;
        const double coef = finish(r, ss);
        if (coef < 0.0) {
          ss = next ? sum_squares(next, d) : 0.0;
          continue;
        }
        const bool first = creates_buffer(r);
        ss = update(r, 0, d, coef, ++steps[r], first, next);
      }
    });
    return;
  }
  const std::int64_t nb = (d + kSplit - 1) / kSplit;
  std::vector<double> partial(static_cast<std::size_t>(R * nb));
  double* part = partial.data();
  parallel_for(R * nb, threads, [&](std::int64_t task) {
    const std::int64_t r = task / nb, b = task % nb, lo = b * kSplit, hi = std::min(d, lo + kSplit);
    part[task] = sum_squares(g + r * d + lo, hi - lo);
  });
  std::vector<double> coefs(static_cast<std::size_t>(R));
  std::vector<std::uint8_t> firsts(static_cast<std::size_t>(R), 0);
  for (std::int64_t r = 0; r < R; ++r) {
    double ss = 0.0;
    for (std::int64_t b = 0; b < nb; ++b) ss += part[r * nb + b];
    coefs[static_cast<std::size_t>(r)] = finish(r, ss);
    if (coefs[static_cast<std::size_t>(r)] < 0.0) continue;
    ++steps[r];
    firsts[static_cast<std::size_t>(r)] = creates_buffer(r) ? 1 : 0;
  }
  const double* cf = coefs.data();
  const std::uint8_t* fs = firsts.data();
  parallel_for(R * nb, threads, [&](std::int64_t task) {
    const std::int64_t r = task / nb, b = task % nb, lo = b * kSplit, hi = std::min(d, lo + kSplit);
    if (cf[r] < 0.0) return;
    update(r, lo, hi, cf[r], steps[r], fs[r] != 0, nullptr);
  });
}

}  // namespace tunelab::optim
