// The built-in batch-size scaling objective: SGD on a noisy quadratic with a power-law spectrum,
// trained for a fixed number of epochs over N examples (a sample budget of E * N gradient
// evaluations), simulated for many (N, B, seed) at once.
//
// Model, in the Hessian's eigenbasis (d directions, i = 1..d):
//   L(theta) = 1/2 sum_i lambda_i theta_i^2,  lambda_i = i^-a,
//   start theta_{0,i} = i^((a - b) / 2)        (so lambda_i theta_{0,i}^2 = i^-b),
//   per-example gradient noise covariance s^2 H (as for least squares with label noise s^2 near
//   the optimum), so a batch of B examples has noise covariance s^2 H / B;
//   SGD: theta <- theta - alpha (lambda * theta + s sqrt(lambda / B) * z),  z ~ N(0, I_d),
//   for T = max(1, floor(E N / B)) steps; the score is the mean loss over the last
//   K = max(1, ceil(f T)) steps (f = avg_fraction; f -> 0 scores the final iterate alone).
//   Averaging the loss over the tail removes most of the step-to-step scatter of the stiff
//   directions (correlation time 1 / (alpha lambda_i)) without changing the scaling.
// Random numbers: stream = the seed; step t reads normals from block t * ceil(d / 2) on. Every
// (N, B) of one seed therefore sees the same noise sequence (common random numbers), which makes
// the comparison across batch sizes smooth; results do not depend on threads.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tunelab/parallel.hpp"
#include "tunelab/rng.hpp"

namespace tunelab::scaling {

struct SGDQuadraticOptions {
  std::int64_t dim = 128;          // d
  double spectrum_exponent = 2.0;  // a: lambda_i = i^-a
  double init_exponent = 3.0;      // b: lambda_i theta_{0,i}^2 = i^-b
  double lr = 0.5;                 // alpha (stable while alpha * lambda_max = alpha < 2)
  double noise = 1.0;              // s
  double epochs = 1.0;             // E
  double avg_fraction = 0.5;       // f: the score averages the loss over the last ceil(f T) steps
};

inline std::int64_t n_steps(double n, double b, double epochs) noexcept {
  const double t = std::floor(epochs * n / b);
  return t < 1.0 ? 1 : static_cast<std::int64_t>(t);
}

// K = max(1, ceil(f T)) steps whose loss the score averages.
inline std::int64_t n_avg(std::int64_t steps, double frac) noexcept {
  const auto k = static_cast<std::int64_t>(std::ceil(frac * static_cast<double>(steps)));
  return k < 1 ? 1 : (k > steps ? steps : k);
}

// scores[(i * nB + j) * nS + k] = final loss for (N[i], B[j], seeds[k]).
inline void sgd_quadratic(const double* sizes, std::int64_t n_sizes, const double* batches, std::int64_t n_batches,
                          const std::uint64_t* seeds, std::int64_t n_seeds, const SGDQuadraticOptions& opt,
                          std::uint64_t key, double* scores, int num_threads) {
  if (opt.dim < 1) throw std::invalid_argument("dim must be >= 1; got " + std::to_string(opt.dim));
  if (!(opt.lr > 0.0 && opt.lr < 2.0)) throw std::invalid_argument("lr must lie in (0, 2) (stability: lr * lambda_max < 2)");
  if (!(opt.noise >= 0.0) || !std::isfinite(opt.noise)) throw std::invalid_argument("noise must be finite and >= 0");
  if (!(opt.epochs > 0.0) || !std::isfinite(opt.epochs)) throw std::invalid_argument("epochs must be finite and > 0");
  if (!(opt.avg_fraction >= 0.0 && opt.avg_fraction <= 1.0)) throw std::invalid_argument("avg_fraction must lie in [0, 1]");
  if (!std::isfinite(opt.spectrum_exponent) || !std::isfinite(opt.init_exponent))
    throw std::invalid_argument("spectrum_exponent and init_exponent must be finite");
  for (std::int64_t i = 0; i < n_sizes; ++i)
    if (!(sizes[i] > 0.0) || !std::isfinite(sizes[i])) throw std::invalid_argument("dataset_sizes must be finite and > 0");
  for (std::int64_t j = 0; j < n_batches; ++j)
    if (!(batches[j] > 0.0) || !std::isfinite(batches[j])) throw std::invalid_argument("batch_sizes must be finite and > 0");
  double max_steps = 0.0;
  for (std::int64_t i = 0; i < n_sizes; ++i)
    for (std::int64_t j = 0; j < n_batches; ++j) max_steps = std::max(max_steps, opt.epochs * sizes[i] / batches[j]);
  if (max_steps > 1e9) throw std::invalid_argument("dataset_sizes, batch_sizes: epochs * N / B exceeds 1e9 steps; choose larger batch_sizes");

  const std::int64_t d = opt.dim;
  std::vector<double> lam(static_cast<std::size_t>(d)), theta0(static_cast<std::size_t>(d)), sq(static_cast<std::size_t>(d));
  for (std::int64_t i = 0; i < d; ++i) {
    const double idx = static_cast<double>(i + 1);
    lam[static_cast<std::size_t>(i)] = std::pow(idx, -opt.spectrum_exponent);
    theta0[static_cast<std::size_t>(i)] = std::pow(idx, 0.5 * (opt.spectrum_exponent - opt.init_exponent));
    sq[static_cast<std::size_t>(i)] = std::sqrt(lam[static_cast<std::size_t>(i)]);
  }
  const rng::Key k = rng::split_key(key);
  const std::uint64_t blocks_per_step = static_cast<std::uint64_t>((d + 1) / 2);
  const std::int64_t runs = n_sizes * n_batches * n_seeds;
  const double* plam = lam.data();
  const double* pth0 = theta0.data();
  const double* psq = sq.data();
  const double alpha = opt.lr, s = opt.noise, epochs = opt.epochs, frac = opt.avg_fraction;

  // Runs differ a lot in cost (T ∝ N / B): a dynamic schedule balances them. Each run is a pure
  // function of its (N, B, seed), so the schedule cannot change the results. A thread whose
  // scratch cannot be allocated skips its runs; the guard reports it after the region.
  RegionGuard guard;
#ifdef _OPENMP
  const int threads = resolve_threads(num_threads);
#pragma omp parallel num_threads(threads) if (threads > 1 && runs > 1) default(none) \
    shared(sizes, batches, seeds, scores, plam, pth0, psq, k, blocks_per_step, runs, d, alpha, s, epochs, frac, n_batches, n_seeds, guard)
#else
  (void)num_threads;
#endif
  {
    std::vector<double> theta, z, scale, keep;
    const auto du = static_cast<std::size_t>(d);
    guard.run([&] {
      theta.resize(du);
      z.resize(du);
      scale.resize(du);
      keep.resize(du);
    });
    const bool ready = keep.size() == du;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (std::int64_t r = 0; r < runs; ++r) {
      if (!ready) continue;
      const std::int64_t kseed = r % n_seeds, jb = (r / n_seeds) % n_batches, in = r / (n_seeds * n_batches);
      const double b = batches[jb];
      const std::int64_t steps = n_steps(sizes[in], b, epochs);
      const double noise_b = alpha * s / std::sqrt(b);
      for (std::int64_t i = 0; i < d; ++i) {
        const auto u = static_cast<std::size_t>(i);
        theta[u] = pth0[u];
        keep[u] = 1.0 - alpha * plam[u];
        scale[u] = noise_b * psq[u];
      }
      const std::int64_t avg = n_avg(steps, frac);
      rng::Stream st(k, seeds[kseed]);
      double total = 0.0;
      for (std::int64_t t = 0; t < steps; ++t) {
        st.seek(static_cast<std::uint64_t>(t) * blocks_per_step);
        st.fill_normal(z.data(), d);
        for (std::size_t u = 0; u < static_cast<std::size_t>(d); ++u) theta[u] = keep[u] * theta[u] - scale[u] * z[u];
        if (t >= steps - avg) {
          double loss = 0.0;
          for (std::size_t u = 0; u < static_cast<std::size_t>(d); ++u) loss += plam[u] * theta[u] * theta[u];
          total += 0.5 * loss;
        }
      }
      scores[r] = total / static_cast<double>(avg);
    }
  }
  guard.rethrow();
}

}  // namespace tunelab::scaling
