// Early-stopping reliability: the exact first-passage law of the gap-threshold rule, and Monte
// Carlo for the rules that have no closed form (AR(1) noise, Keras-style patience).
//
// Gap rule (SCIENCE.md section 5): observed gap G~(e) = G(e) + sigma * eps_e, stop at
//   E^ = min{e : G~(e) > delta}.
// With independent Gaussian noise, P(E^ = e) = prod_{j<e} Phi(z_j) * (1 - Phi(z_e)),
// z_j = (delta - G(j)) / sigma, computed here in log space.
//
// Every kernel is a pure function of its inputs, the key and the first replica index: replica r
// draws from rng::Stream(key, first + r), so counts do not depend on threads or chunking.
// Histograms are integers (exact under any merge order).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "tunelab/parallel.hpp"
#include "tunelab/rng.hpp"

namespace tunelab::early_stop {

namespace detail {

constexpr double kSqrtHalf = 0.70710678118654752440084436210485;
constexpr double kHalfLog2Pi = 0.91893853320467274178032973640562;
// From this margin on, phi_terms gives (log_cdf, sf, cdf) = (0, 0, 1): the epoch cannot stop.
constexpr double kNoStopZ = 40.0;

// log Phi(z) for z <= -30 by the asymptotic series
//   Phi(z) = phi(z) / |z| * (1 - 1/z^2 + 3/z^4 - 15/z^6 + ...)
// (Abramowitz & Stegun 26.2.12). At |z| = 30 the eighth term is ~5e-18 relative, below double
// precision, so the truncation error is negligible.
inline double log_cdf_lower_tail(double z) noexcept {
  const double w = 1.0 / (z * z);
  double term = 1.0, sum = 1.0;
  for (int k = 1; k <= 8; ++k) {
    term *= -static_cast<double>(2 * k - 1) * w;
    sum += term;
  }
  return -0.5 * z * z - std::log(-z) - kHalfLog2Pi + std::log(sum);
}

// For one standardised margin z: log Phi(z) (the log-probability of *not* stopping),
// Phi(-z) = 1 - Phi(z) (the probability of stopping), both to near full relative precision,
// and Phi(z) itself (to absolute precision 1e-16).
inline void phi_terms(double z, double& log_cdf, double& sf, double& cdf) noexcept {
  if (z >= 0.0) {
    if (z >= kNoStopZ) {  // Phi(-40) ~ 3.7e-350 underflows to 0 in double: exactly representable answer
      log_cdf = 0.0;
      sf = 0.0;
      cdf = 1.0;
      return;
    }
    sf = 0.5 * std::erfc(z * kSqrtHalf);
    cdf = 1.0 - sf;
    // log1p(-sf); for small sf the series -sf(1 + sf/2 + sf^2/3 + sf^3/4 + sf^4/5) is exact to
    // double precision (next term sf^5/6 < 1e-25 relative) and cheaper.
    log_cdf = sf < 1e-5 ? -sf * (1.0 + sf * (0.5 + sf * (1.0 / 3.0 + sf * (0.25 + sf * 0.2)))) : std::log1p(-sf);
    return;
  }
  if (std::isinf(z)) {  // z = -inf (only with sigma = 0: the gap is above the threshold)
    log_cdf = -std::numeric_limits<double>::infinity();
    sf = 1.0;
    cdf = 0.0;
    return;
  }
  if (z > -30.0) {
    cdf = 0.5 * std::erfc(-z * kSqrtHalf);  // < 1/2: relative precision kept
    log_cdf = std::log(cdf);
    sf = 1.0 - cdf;
    return;
  }
  log_cdf = log_cdf_lower_tail(z);
  sf = 1.0;
  cdf = std::exp(log_cdf);
}

inline double margin(double gap, double threshold, double sigma) noexcept {
  if (sigma > 0.0) return (threshold - gap) / sigma;
  // Noise-free: the observed gap equals the expected one; stop iff gap > threshold.
  return gap > threshold ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
}

inline void require_positive(const char* name, std::int64_t v) {
  if (v < 1) throw std::invalid_argument(std::string(name) + " must be >= 1; got " + std::to_string(v));
}

inline void require_nonneg(const char* name, std::int64_t v) {
  if (v < 0) throw std::invalid_argument(std::string(name) + " must be >= 0; got " + std::to_string(v));
}

inline void require_finite_nonneg(const char* name, double v) {
  if (!(v >= 0.0) || !std::isfinite(v))
    throw std::invalid_argument(std::string(name) + " must be finite and >= 0; got " + std::to_string(v));
}

inline void require_rho(double rho) {
  if (!(rho > -1.0 && rho < 1.0)) throw std::invalid_argument("rho must satisfy |rho| < 1; got " + std::to_string(rho));
}

}  // namespace detail

// Where the nonzero entries of a pmf lie: [lo, hi) (lo == hi when there are none).
struct Support {
  std::int64_t lo = 0, hi = 0;
};

// The support of pmf[0, n): from its first to past its last nonzero entry (NaN counts as
// nonzero, as in numpy.flatnonzero); lo == hi == n when every entry is 0.
inline Support support_of(const double* pmf, std::int64_t n) noexcept {
  Support s;
  while (s.lo < n && pmf[s.lo] == 0.0) ++s.lo;
  s.hi = n;
  while (s.hi > s.lo && pmf[s.hi - 1] == 0.0) --s.hi;
  return s;
}

// Exact law of E^ for the gap rule with independent Gaussian noise of standard deviation
// sigma (>= 0) on the observed gap.
//   pmf[e-1] = exp(S_{e-1}) * Phi(-z_e),  S_e = sum_{j<=e} log Phi(z_j),  p_never = exp(S_E).
// Writes pmf[0, end) and returns end; every later entry is exactly 0 and is NOT written (the
// caller zeroes it, or uses exact_first_passage). With pmf_zeroed (pmf is already all +0.0,
// e.g. from calloc) no zero entry is written at all: a horizon's fresh pages that hold only
// zeros are then never touched (a page fault costs microseconds, the whole curve ~1 ms).
// Also gives the support of the pmf.
//
// S, the survival and the pmf are accumulated serially in epoch order, so the result does not
// depend on the thread count. The survival exp(S_{e-1}) is recomputed from S every 64 epochs
// and carried in between as a product of Phi(z_e) (relative error <= 64 * 1.1e-16 ~ 7e-15),
// which saves an exp per epoch. Work stops at the first of those recomputations that gives
// exactly 0: S never increases (every log Phi <= 0), so every later survival, pmf entry and
// p_never is then exactly 0 too -- stopping there changes no bit, and leaves at most 63 epochs
// computed past the pmf's last nonzero entry.
//
// One thread: one fused pass (no per-epoch buffers: for a horizon of 10^5 three of them cost
// more in page faults and stores than the cheap epochs they held). More threads: the first
// 8192 epochs the same way (most curves end there), then rounds of 4096 epochs per thread (at
// most the epochs left) whose per-epoch terms are computed in parallel into one buffer, reused
// round after round (its pages are faulted in once), then accumulated by the same serial code.
// A round can compute up to one round past the end: the price of parallelism.
inline std::int64_t exact_first_passage_head(const double* gap, std::int64_t n_epochs, double threshold, double sigma,
                                             double* pmf, double* p_never, Support* support, int num_threads,
                                             bool pmf_zeroed = false) {
  detail::require_positive("n_epochs", n_epochs);
  detail::require_finite_nonneg("sigma", sigma);
  if (!std::isfinite(threshold)) throw std::invalid_argument("threshold must be finite");
  constexpr std::int64_t kFirst = 8192, kSub = 2048;
  const std::int64_t threads = resolve_threads(num_threads);
  double s = 0.0, surv = 1.0;
  std::int64_t lo = -1, hi = 0;
  // Epoch i from its terms: its pmf entry (a zero only when the pmf is not pre-zeroed), S and the survival.
  auto step = [&](std::int64_t i, double lc, double q, double c) {
    const double p = q == 0.0 ? 0.0 : surv * q;  // +0.0 or positive (or NaN)
    if (p != 0.0) {  // (NaN counts as nonzero, as in numpy.flatnonzero)
      pmf[i] = p;
      if (lo < 0) lo = i;
      hi = i + 1;
    } else if (!pmf_zeroed) {
      pmf[i] = 0.0;
    }
    s += lc;
    surv *= c;
  };
  auto resync = [&](std::int64_t i) {  // before epoch i; false: every later term is exactly 0
    if ((i & 63) != 0) return true;
    surv = std::exp(s);
    return surv != 0.0;
  };
  auto finish = [&](std::int64_t end, bool underflowed) {
    *p_never = underflowed ? 0.0 : std::exp(s);
    support->lo = lo < 0 ? 0 : lo;
    support->hi = lo < 0 ? 0 : hi;
    return end;
  };
  const std::int64_t serial_end = threads > 1 ? std::min(n_epochs, kFirst) : n_epochs;
  for (std::int64_t i = 0; i < serial_end; ++i) {
    if (!resync(i)) return finish(i, true);
    const double z = detail::margin(gap[i], threshold, sigma);
    if (z >= detail::kNoStopZ) {
      // step(i, 0, 0, 1) would write pmf[i] = 0 and leave S and the survival as they are
      // (S is never -0.0, so S + 0.0 == S; x * 1.0 == x): skip it, keeping S out of the
      // loop's critical path for the long stretches of a curve far below the threshold.
      if (!pmf_zeroed) pmf[i] = 0.0;
      continue;
    }
    double lc, q, c;
    detail::phi_terms(z, lc, q, c);
    step(i, lc, q, c);
  }
  if (serial_end < n_epochs) {
    const std::int64_t round = std::min(kSub * 2 * threads, n_epochs - serial_end);
    std::vector<double> terms(static_cast<std::size_t>(3 * round));
    double* lc = terms.data();
    double* q = lc + round;
    double* c = q + round;
    for (std::int64_t b0 = serial_end; b0 < n_epochs; b0 += round) {
      const std::int64_t m = std::min(round, n_epochs - b0);
      parallel_for((m + kSub - 1) / kSub, num_threads, [&](std::int64_t j) {
        for (std::int64_t k = j * kSub, k1 = std::min(m, k + kSub); k < k1; ++k)
          detail::phi_terms(detail::margin(gap[b0 + k], threshold, sigma), lc[k], q[k], c[k]);
      });
      for (std::int64_t k = 0; k < m; ++k) {
        if (!resync(b0 + k)) return finish(b0 + k, true);
        step(b0 + k, lc[k], q[k], c[k]);
      }
    }
  }
  return finish(n_epochs, false);
}

// The same law with the whole pmf written (entries past the support set to 0).
inline void exact_first_passage(const double* gap, std::int64_t n_epochs, double threshold, double sigma, double* pmf,
                                double* p_never, int num_threads) {
  Support support;
  const std::int64_t end =
      exact_first_passage_head(gap, n_epochs, threshold, sigma, pmf, p_never, &support, num_threads);
  std::fill(pmf + end, pmf + n_epochs, 0.0);
}

// First epoch (1-based) whose expected gap exceeds the threshold, 0 if none: E* of the rule.
inline std::int64_t ideal_epoch(const double* gap, std::int64_t n_epochs, double threshold) noexcept {
  for (std::int64_t i = 0; i < n_epochs; ++i)
    if (gap[i] > threshold) return i + 1;
  return 0;
}

namespace detail {

// NumPy's pairwise summation (numpy/_core/src/umath/loops_utils.h.src, pairwise_sum), which
// numpy.sum uses on a contiguous float64 array: the same tree, so the same bits. x(i) gives the
// i-th term; terms outside [lo, hi) are exactly +0 and whole subtrees of them are skipped (a
// subtree of +0 sums to +0, and y + 0 == y).
template <class X>
double numpy_pairwise_sum(const X& x, std::int64_t begin, std::int64_t n, std::int64_t lo, std::int64_t hi) {
  if (begin + n <= lo || begin >= hi) return 0.0;
  if (n < 8) {
    double res = -0.0;
    for (std::int64_t i = 0; i < n; ++i) res += x(begin + i);
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int k = 0; k < 8; ++k) r[k] = x(begin + k);
    std::int64_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int k = 0; k < 8; ++k) r[k] += x(begin + i + k);
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += x(begin + i);
    return res;
  }
  std::int64_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(x, begin, n2, lo, hi) + numpy_pairwise_sum(x, begin + n2, n - n2, lo, hi);
}

}  // namespace detail

// The summary of a pmf over epochs 1..n whose nonzero entries lie in `support`: pmf_moments
// gives the mass and the mean and standard deviation of E^ given a stop within the horizon,
// pmf_quantiles the quantiles. The operations and their order are those of the NumPy expressions
//   mass = pmf.sum(); e = arange(lo + 1., hi + 1.); p = pmf[lo:hi]
//   mean = (e * p).sum() / mass; std = sqrt(max(((e - mean) ** 2 * p).sum() / mass, 0))
//   quantile(level) = searchsorted(cumsum(pmf), level * (1 - 1e-12), "left") + 1  (inf past n)
// so they give the same bits; the work is over the support only. mean = std = NaN when mass
// is not > 0. The 1e-12 relative slack absorbs the rounding of the cumulative sum.
struct PmfSummary {
  double mass = 0.0, mean = 0.0, std = 0.0;
};

inline PmfSummary pmf_moments(const double* pmf, std::int64_t n, Support support) {
  const std::int64_t lo = support.lo, hi = support.hi;
  PmfSummary out;
  out.mass = detail::numpy_pairwise_sum([&](std::int64_t i) { return i >= lo && i < hi ? pmf[i] : 0.0; }, 0, n, lo, hi);
  if (out.mass > 0.0) {
    const double mass = out.mass;
    const double* p = pmf + lo;
    const double e0 = static_cast<double>(lo + 1);
    const std::int64_t m = hi - lo;
    out.mean =
        detail::numpy_pairwise_sum([&](std::int64_t i) { return (e0 + static_cast<double>(i)) * p[i]; }, 0, m, 0, m) /
        mass;
    const double mean = out.mean;
    const double var = detail::numpy_pairwise_sum(
                           [&](std::int64_t i) {
                             const double d = (e0 + static_cast<double>(i)) - mean;
                             return d * d * p[i];
                           },
                           0, m, 0, m) /
                       mass;
    out.std = std::sqrt(std::max(var, 0.0));
  } else {
    out.mean = out.std = std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

// quantiles[k] for levels[k], k < n_levels. The running sum is 0 before lo and constant after
// hi; it never decreases (pmf >= 0), so each level's index is the first where it reaches the
// target.
inline void pmf_quantiles(const double* pmf, Support support, const double* levels, std::int64_t n_levels,
                          double* quantiles) {
  const std::int64_t lo = support.lo, hi = support.hi;
  std::vector<std::int64_t> order;  // levels by target (a NaN target is never reached: inf)
  std::vector<double> target(static_cast<std::size_t>(n_levels));
  for (std::int64_t k = 0; k < n_levels; ++k) {
    target[static_cast<std::size_t>(k)] = levels[k] * (1.0 - 1e-12);
    quantiles[k] = std::numeric_limits<double>::infinity();
    if (!std::isnan(target[static_cast<std::size_t>(k)])) order.push_back(k);
  }
  std::sort(order.begin(), order.end(),
            [&](std::int64_t a, std::int64_t b) { return target[static_cast<std::size_t>(a)] < target[static_cast<std::size_t>(b)]; });
  std::size_t next = 0;
  while (next < order.size() && !(target[static_cast<std::size_t>(order[next])] > 0.0))  // cumsum[0] >= 0 >= target
    quantiles[order[next++]] = 1.0;
  double c = 0.0;
  for (std::int64_t i = lo; i < hi && next < order.size(); ++i) {
    c += pmf[i];
    while (next < order.size() && c >= target[static_cast<std::size_t>(order[next])])
      quantiles[order[next++]] = static_cast<double>(i + 1);
  }
}

// Monte Carlo of a first passage with independent per-epoch stopping probabilities q[e-1]
// (the gap rule with independent noise: q_e = Phi(-z_e)). Replica r stops at the first epoch e
// with U_e < q_e, U_e the e-th uniform of stream first + r (inverse-CDF sampling of the event
// {G~(e) > delta}: the same law as drawing the Gaussian noise, one uniform per epoch).
// counts[e-1] += replicas stopping at e; counts[n_epochs] += replicas never stopping.
inline void first_passage_counts(const double* q, std::int64_t n_epochs, std::uint64_t key, std::int64_t first,
                                 std::int64_t n_rep, std::int64_t* counts, int num_threads) {
  detail::require_positive("n_epochs", n_epochs);
  detail::require_positive("n_rep", n_rep);
  if (first < 0) throw std::invalid_argument("first must be >= 0; got " + std::to_string(first));
  const rng::Key k = rng::split_key(key);
  const Histogram stops{counts, static_cast<std::size_t>(n_epochs + 1)};
  replica_histograms(n_rep, num_threads, {stops}, [&](std::int64_t r, std::int64_t* h) {
    rng::Stream st(k, static_cast<std::uint64_t>(first + r));
    std::int64_t e = 0;
    while (e < n_epochs && !(st.uniform() < q[e])) ++e;
    ++h[e];
  });
}

// Monte Carlo of the gap rule with stationary AR(1) noise on the observed gap:
//   eps_1 = xi_1,  eps_e = rho * eps_{e-1} + sqrt(1 - rho^2) * xi_e,  G~(e) = G(e) + sigma * eps_e,
// xi_e the e-th standard normal of stream first + r; each eps_e is N(0, 1), corr(eps_e, eps_{e+1}) = rho.
// Stops drawing at each replica's stop. counts as in first_passage_counts.
inline void gap_rule_ar1_counts(const double* gap, std::int64_t n_epochs, double threshold, double sigma, double rho,
                                std::uint64_t key, std::int64_t first, std::int64_t n_rep, std::int64_t* counts,
                                int num_threads) {
  detail::require_positive("n_epochs", n_epochs);
  detail::require_positive("n_rep", n_rep);
  detail::require_finite_nonneg("sigma", sigma);
  detail::require_rho(rho);
  if (!std::isfinite(threshold)) throw std::invalid_argument("threshold must be finite");
  if (first < 0) throw std::invalid_argument("first must be >= 0; got " + std::to_string(first));
  const double c = std::sqrt(1.0 - rho * rho);
  const rng::Key k = rng::split_key(key);
  const Histogram stops{counts, static_cast<std::size_t>(n_epochs + 1)};
  replica_histograms(n_rep, num_threads, {stops}, [&](std::int64_t r, std::int64_t* h) {
    rng::Stream st(k, static_cast<std::uint64_t>(first + r));
    std::int64_t e = 0;
    double eps = st.normal();
    while (!(gap[e] + sigma * eps > threshold)) {
      if (++e == n_epochs) break;
      eps = rho * eps + c * st.normal();
    }
    ++h[e];
  });
}

struct PatienceOptions {
  std::int64_t patience = 1;  // epochs without improvement before stopping (>= 0; Keras' default 0 acts as 1)
  double min_delta = 0.0;     // improvement means observed + min_delta < best (>= 0)
  double sigma = 0.0;         // noise standard deviation of the monitored value
  double rho = 0.0;           // AR(1) correlation of that noise across epochs
  bool restore_best = true;   // restored epoch: the best one (true) or the last one run (false)
};

// Monte Carlo of Keras' EarlyStopping on a monitored value to minimise (mode "min"; "max" is
// handled by negating the curve), observed as val[e-1] + sigma * eps_e with eps the AR(1)
// sequence of gap_rule_ar1_counts. Per replica, with best = +inf, wait = 0:
//   for e = 1..E: wait += 1; if obs_e + min_delta < best: best = obs_e, best_epoch = e, wait = 0
//                 else if wait >= patience: stop at e.
// (wait >= 1 whenever it is compared, so patience 0 -- Keras' default -- stops at the first epoch
// that does not improve, exactly as patience 1 does.)
// stop_counts[e-1] += replicas stopped at e, stop_counts[E] += replicas that ran all E epochs;
// restored_counts[e-1] += replicas whose restored epoch is e (best_epoch if restore_best, else
// the last epoch run).
inline void patience_counts(const double* val, std::int64_t n_epochs, const PatienceOptions& opt, std::uint64_t key,
                            std::int64_t first, std::int64_t n_rep, std::int64_t* stop_counts,
                            std::int64_t* restored_counts, int num_threads) {
  detail::require_positive("n_epochs", n_epochs);
  detail::require_positive("n_rep", n_rep);
  detail::require_nonneg("patience", opt.patience);
  detail::require_finite_nonneg("min_delta", opt.min_delta);
  detail::require_finite_nonneg("sigma", opt.sigma);
  detail::require_rho(opt.rho);
  if (first < 0) throw std::invalid_argument("first must be >= 0; got " + std::to_string(first));
  const double c = std::sqrt(1.0 - opt.rho * opt.rho);
  const rng::Key k = rng::split_key(key);
  const double rho = opt.rho, sigma = opt.sigma, min_delta = opt.min_delta;
  const std::int64_t patience = opt.patience;
  const bool restore_best = opt.restore_best;
  const Histogram stops{stop_counts, static_cast<std::size_t>(n_epochs + 1)};
  const Histogram restored{restored_counts, static_cast<std::size_t>(n_epochs)};
  replica_histograms(n_rep, num_threads, {stops, restored}, [&](std::int64_t r, std::int64_t* h) {
    rng::Stream st(k, static_cast<std::uint64_t>(first + r));
    double best = std::numeric_limits<double>::infinity();
    std::int64_t best_e = 0, wait = 0, stop = n_epochs;  // 0-based; stop == n_epochs: ran to the end
    double eps = 0.0;
    for (std::int64_t e = 0; e < n_epochs; ++e) {
      const double xi = st.normal();
      eps = e == 0 ? xi : rho * eps + c * xi;
      const double obs = val[e] + sigma * eps;
      ++wait;
      if (obs + min_delta < best) {
        best = obs;
        best_e = e;
        wait = 0;
      } else if (wait >= patience) {
        stop = e;
        break;
      }
    }
    ++h[stop];
    ++h[n_epochs + 1 + (restore_best ? best_e : std::min(stop, n_epochs - 1))];
  });
}

}  // namespace tunelab::early_stop
