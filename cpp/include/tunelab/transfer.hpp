// Transfer of tuned learning rates across tasks: the latent-factor model of SCIENCE.md §9 and a
// grid search per (task, seed) on a simulated noisy validation loss.
//
// Model (natural-log units of the rate): for task t and seed s,
//   u*_{t,s} = log eta*_{t,s} = mu_t + sigma_t (c_t z_s + sqrt(1 - c_t^2) eps_{t,s}),
// with z_s (shared by every task of seed s) and eps_{t,s} independent standard normals. The
// validation loss measured at grid point g (log rate u_g) is
//   L_{t,s}(g) = (u_g - u*_{t,s})^2 / 2 + eval_noise * xi_{t,s,g},   xi iid N(0, 1),
// i.e. a parabola in log-rate distance from the optimum (unit curvature) plus Gaussian
// evaluation noise. The tuned rate is the grid point of least measured loss (the first such
// point on exact ties).
//
// Random numbers (Philox4x32-10, key from the user's rng): stream = global seed index s; in it,
//   block 0                         -> z_s (first normal of the Box-Muller pair),
//   block 1 + t                     -> eps_{t,s} (first normal),
//   block (t + 1) * 2^32 + g / 2    -> xi_{t,s,g} (normal g % 2 of the pair).
// So task t's draws depend only on (key, s, t, g): the latent optima do not depend on the grid,
// adding tasks, seeds or grid points changes nothing else, and results are bit-identical for any
// thread count or chunking.
// Exact pruning: Box-Muller normals from 53-bit uniforms are bounded, |xi| <= sqrt(-2 ln 2^-53)
// = 8.5717. Grid points are visited in increasing order of their noise-free loss (outward from
// the point nearest the optimum, found by binary search); once the next one's noise-free loss
// exceeds the best measured loss so far by more than 8.6 * eval_noise, it and every point after
// it can never be the measured minimum, and their noise is not drawn. The answer is the same as
// evaluating every point (the NumPy reference does), only faster when the noise is small
// compared with the loss differences across the grid.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "tunelab/parallel.hpp"
#include "tunelab/rng.hpp"

namespace tunelab::transfer {

// Upper bound (with margin) of |normal| from rng::normal_pair: sqrt(-2 log(2^-53)) = 8.5717.
constexpr double kMaxAbsNormal = 8.6;

struct Options {
  std::int64_t n_tasks = 0;   // T
  std::int64_t n_grid = 0;    // G
  double eval_noise = 0.0;    // standard deviation of the evaluation noise
};

inline std::uint64_t eps_slot(std::int64_t t) noexcept { return 1u + static_cast<std::uint64_t>(t); }
inline std::uint64_t noise_slot(std::int64_t t, std::int64_t g) noexcept {
  return (static_cast<std::uint64_t>(t) + 1u) << 32 | static_cast<std::uint64_t>(g / 2);
}

// The grid point nearest u (the first of two equally near): binary search on the increasing grid.
inline std::int64_t nearest(const double* grid, std::int64_t G, double u) noexcept {
  std::int64_t a = 0, b = G;  // first index with grid[i] >= u lies in [a, b]
  while (a < b) {
    const std::int64_t m = a + (b - a) / 2;
    if (grid[m] < u) a = m + 1; else b = m;
  }
  if (a == G) return G - 1;
  if (a > 0 && (u - grid[a - 1]) <= (grid[a] - u)) return a - 1;
  return a;
}

// xi_{t,s,g}: normal g % 2 of the Box-Muller pair in block noise_slot(t, g), the last pair kept
// (neighbouring grid points share a block).
struct NoiseCache {
  std::uint64_t block = ~0ull;
  std::array<double, 2> pair{0.0, 0.0};
  double normal(std::uint64_t s, std::int64_t t, std::int64_t g, const rng::Key& k) {
    const std::uint64_t blk = noise_slot(t, g);
    if (blk != block) {
      pair = rng::normal_pair(rng::philox4x32(rng::counter(s, blk), k));
      block = blk;
    }
    return pair[static_cast<std::size_t>(g % 2)];
  }
};

// Seeds first .. first + count - 1. coupling, mu, sigma: (T,); log_grid: (G,) natural logs of the
// rates. Outputs (T, count) row-major: tuned[t * count + j] = grid index of the tuned rate,
// latent[t * count + j] = u*_{t, first + j}.
inline void grid_search(const double* coupling, const double* mu, const double* sigma, const double* log_grid,
                        const Options& opt, std::uint64_t key, std::int64_t first, std::int64_t count,
                        std::int64_t* tuned, double* latent, int num_threads) {
  if (opt.n_tasks < 1) throw std::invalid_argument("coupling must have at least 1 task; got " + std::to_string(opt.n_tasks));
  if (opt.n_tasks >= (std::int64_t{1} << 31)) throw std::invalid_argument("coupling has too many tasks");
  if (opt.n_grid >= (std::int64_t{1} << 32)) throw std::invalid_argument("lr_grid has too many points");
  if (opt.n_grid < 1) throw std::invalid_argument("lr_grid must have at least 1 point; got " + std::to_string(opt.n_grid));
  if (!(opt.eval_noise >= 0.0) || !std::isfinite(opt.eval_noise))
    throw std::invalid_argument("eval_noise must be finite and >= 0");
  if (first < 0) throw std::invalid_argument("first must be >= 0; got " + std::to_string(first));
  if (count < 0) throw std::invalid_argument("count must be >= 0; got " + std::to_string(count));
  for (std::int64_t t = 0; t < opt.n_tasks; ++t) {
    if (!(coupling[t] >= 0.0 && coupling[t] <= 1.0)) throw std::invalid_argument("coupling must lie in [0, 1]");
    if (!(sigma[t] >= 0.0) || !std::isfinite(sigma[t]) || !std::isfinite(mu[t]))
      throw std::invalid_argument("mu must be finite and sigma finite and >= 0");
  }
  const std::int64_t T = opt.n_tasks, G = opt.n_grid;
  const double noise = opt.eval_noise;
  const rng::Key k = rng::split_key(key);
  const double reach = kMaxAbsNormal * noise;

  parallel_for(count, num_threads, [=](std::int64_t j) {
    const auto s = static_cast<std::uint64_t>(first + j);
    const double z = rng::normal_pair(rng::philox4x32(rng::counter(s, 0), k))[0];
    for (std::int64_t t = 0; t < T; ++t) {
      const double eps = rng::normal_pair(rng::philox4x32(rng::counter(s, eps_slot(t)), k))[0];
      const double c = coupling[t];
      const double u_star = mu[t] + sigma[t] * (c * z + std::sqrt(1.0 - c * c) * eps);
      // Visit the grid outward from the point nearest u* (the noise-free losses q_g = (u_g - u*)^2 / 2
      // rise on both sides of it: the grid is increasing), always the side with the smaller q,
      // and stop once both sides' next q exceeds best + kMaxAbsNormal * noise: such a point's
      // measured loss q + noise * xi > best can neither win nor tie, and neither can any point
      // beyond it. The winner is the least (loss, g) over the points visited, i.e. the first
      // grid point of least measured loss over the whole grid.
      const std::int64_t g0 = nearest(log_grid, G, u_star);
      std::int64_t lo = g0 - 1, hi = g0;  // next candidates on the left and on the right
      std::int64_t best = -1;
      double best_loss = HUGE_VAL;
      NoiseCache left, right;
      auto q_at = [&](std::int64_t g) {
        const double d = log_grid[g] - u_star;
        return 0.5 * (d * d);
      };
      // q_lo, q_hi: the next candidates' noise-free losses, each computed once (HUGE_VAL past an end).
      double q_lo = lo >= 0 ? q_at(lo) : HUGE_VAL, q_hi = hi < G ? q_at(hi) : HUGE_VAL;
      while (lo >= 0 || hi < G) {
        const bool take_lo = lo >= 0 && (hi >= G || !(q_lo > q_hi));  // a NaN q (u* NaN) cannot stall the walk
        const double q = take_lo ? q_lo : q_hi;
        if (best >= 0 && q > best_loss + reach + 1e-9 * (std::fabs(best_loss) + reach)) break;
        const std::int64_t g = take_lo ? lo-- : hi++;
        if (take_lo) q_lo = lo >= 0 ? q_at(lo) : HUGE_VAL;
        else q_hi = hi < G ? q_at(hi) : HUGE_VAL;
        double loss = q;
        if (noise > 0.0) loss = q + noise * (take_lo ? left : right).normal(s, t, g, k);
        if (loss < best_loss || (loss == best_loss && g < best)) {
          best_loss = loss;
          best = g;
        }
      }
      tuned[t * count + j] = best;
      latent[t * count + j] = u_star;
    }
  });
}

}  // namespace tunelab::transfer
