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
// = 8.5717. Grid points are visited outward from the point nearest the optimum (found by binary
// search), where the noise-free loss rises along each side; once the next one's noise-free loss
// exceeds the best measured loss so far by more than 8.6 * eval_noise, it and every point after
// it can never be the measured minimum, and their noise is not drawn (each side of that point
// is walked on its own, outward, so the bound applies to the rest of the side). Below that, a
// point whose pair's radius r = sqrt(-2 ln u1) (|xi| <= r) cannot bring it down to the best so
// far is skipped without its cos/sin, and usually without its log (a table indexed by the top
// bits of u1 bounds r; see radius_bounds). The answer is the same as evaluating every point (the NumPy
// reference does), only faster.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
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

// Pruning one point by its radius: a point of noise-free loss q, with slack = q - best - margin
// > 0, cannot reach the best measured loss when its pair's Box-Muller radius r = sqrt(-2 ln u1)
// (which bounds |xi|) is below slack / noise. A bound r <= radius_bound(u1) from the top 16 bits
// of u1 (its exponent and 4 leading fraction bits: u1 >= 2^e (1 + f / 16), so r <= sqrt(-2 ln
// (2^e (1 + f / 16)))) decides most points with no log: radius_bounds()[i] is that bound for
// index i = (bits of u1 >> 48) - kRadiusIndex0, times (1 + 1e-6) to cover the rounding of the
// computed log and sqrt. u1 lies in [2^-53, 1].
constexpr int kRadiusIndex0 = (1023 - 53) << 4;              // top bits of 2^-53
constexpr int kRadiusBounds = (1023 << 4) - kRadiusIndex0 + 1;  // .. of 1.0
inline const std::array<double, kRadiusBounds>& radius_bounds() {
  static const std::array<double, kRadiusBounds> table = [] {
    std::array<double, kRadiusBounds> t{};
    for (int i = 0; i < kRadiusBounds; ++i) {
      const int top = i + kRadiusIndex0;  // 11 exponent bits, 4 fraction bits
      const double low = std::ldexp(1.0 + (top & 15) / 16.0, (top >> 4) - 1023);  // least u1 with these bits
      t[static_cast<std::size_t>(i)] = std::sqrt(-2.0 * std::log(low)) * (1.0 + 1e-6);
    }
    return t;
  }();
  return table;
}
inline double radius_bound(double u1, const double* bounds) noexcept {
  std::uint64_t bits;
  std::memcpy(&bits, &u1, sizeof bits);
  return bounds[static_cast<int>(bits >> 48) - kRadiusIndex0];
}

// The noise blocks of one side of the walk (left: decreasing g, right: increasing): block b of
// task t in stream s is noise_slot(t, 2 b), holding xi for g = 2 b and 2 b + 1. Blocks are made
// kChunk at a time (consecutive counters: one SIMD Philox call), and each block's radius and
// normal pair only when the walk needs them.
class NoiseSide {
 public:
  static constexpr std::int64_t kChunk = 8;

  NoiseSide(bool leftward, std::int64_t n_blocks, const double* bounds)
      : leftward_(leftward), n_blocks_(n_blocks), bounds_(bounds) {}

  // Caches the chunk holding point g (computing it when g's block is not cached); returns how
  // many points g, g + dir, ... (dir = -1 leftward, +1 rightward) lie in the cached chunk and in
  // the grid of G points.
  std::int64_t load(std::int64_t g, std::int64_t G, std::uint64_t s, std::int64_t t, const rng::Key& k) {
    const std::int64_t b = g / 2;
    if (b < first_ || b >= first_ + count_) {
      first_ = leftward_ ? std::max<std::int64_t>(b - kChunk + 1, 0) : b;
      count_ = leftward_ ? b - first_ + 1 : std::min(kChunk, n_blocks_ - b);
      rng::detail::philox_blocks(k, s, noise_slot(t, 2 * first_), count_, words_.data());
      for (std::int64_t i = 0; i < count_; ++i) {
        const auto j = static_cast<std::size_t>(i);
        radius_[j] = -1.0;
        paired_[j] = false;
        bound_[j] = transfer::radius_bound(u1(i), bounds_);
      }
    }
    return leftward_ ? g - 2 * first_ + 1 : std::min(2 * (first_ + count_), G) - g;
  }
  std::int64_t slot_of(std::int64_t g) const { return g / 2 - first_; }  // g's block, cached
  double u1(std::int64_t i) const { return rng::box_muller_u1(word(i, 0), word(i, 1)); }
  double radius_bound(std::int64_t i) const { return bound_[static_cast<std::size_t>(i)]; }  // >= radius(i)
  double radius(std::int64_t i) {
    double& r = radius_[static_cast<std::size_t>(i)];
    if (r < 0.0) r = rng::box_muller_radius(u1(i));
    return r;
  }
  double normal(std::int64_t i, std::int64_t g) {
    const auto j = static_cast<std::size_t>(i);
    if (!paired_[j]) {
      pair_[j] = rng::box_muller(radius(i), word(i, 2), word(i, 3));
      paired_[j] = true;
    }
    return pair_[j][static_cast<std::size_t>(g % 2)];
  }

 private:
  std::uint32_t word(std::int64_t i, int w) const { return words_[static_cast<std::size_t>(4 * i + w)]; }

  bool leftward_;
  std::int64_t n_blocks_;
  const double* bounds_;  // radius_bounds()
  std::int64_t first_ = 0, count_ = 0;
  // Filled by load() before any read (count_ = 0 until the first chunk).
  alignas(32) std::array<std::uint32_t, 4 * kChunk> words_;
  std::array<double, kChunk> radius_, bound_;
  std::array<std::array<double, 2>, kChunk> pair_;
  std::array<bool, kChunk> paired_;
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
  const std::int64_t n_blocks = (G + 1) / 2;
  const double inv_noise = (1.0 - 1e-12) / noise;
  const double* bounds = radius_bounds().data();  // built before the threads start

  parallel_for(count, num_threads, [=](std::int64_t j) {
    const auto s = static_cast<std::uint64_t>(first + j);
    const double z = rng::normal_pair(rng::philox4x32(rng::counter(s, 0), k))[0];
    for (std::int64_t t = 0; t < T; ++t) {
      const double eps = rng::normal_pair(rng::philox4x32(rng::counter(s, eps_slot(t)), k))[0];
      const double c = coupling[t];
      const double u_star = mu[t] + sigma[t] * (c * z + std::sqrt(1.0 - c * c) * eps);
      // Visit the grid outward from the point nearest u*: it, then rightward, then leftward. Along
      // each side the noise-free loss q_g = (u_g - u*)^2 / 2 never decreases (the grid is
      // increasing), so a side ends at its first point with
      // q > best + kMaxAbsNormal * noise: its measured loss q + noise * xi > best can neither win
      // nor tie, and neither can any point beyond it. Points that are skipped (a side's end, or a
      // radius too small, see radius_bounds) all measure above the best loss at that moment, hence
      // above the final one, so the winner is the least (loss, g) over the whole grid: the first
      // grid point of least measured loss, in any visiting order.
      const std::int64_t g0 = nearest(log_grid, G, u_star);
      std::int64_t best = -1;
      double best_loss = HUGE_VAL;
      auto q_at = [&](std::int64_t g) {
        const double d = log_grid[g] - u_star;
        return 0.5 * (d * d);
      };
      auto take = [&](std::int64_t g, double loss) {
        if (loss < best_loss || (loss == best_loss && g < best)) {
          best_loss = loss;
          best = g;
        }
      };
      if (noise == 0.0) {  // the measured loss is q: a side ends at its first q above the best
        auto visit = [&](std::int64_t g) {  // false once the side has ended
          const double q = q_at(g);
          if (best >= 0 && q > best_loss + 1e-9 * std::fabs(best_loss)) return false;
          take(g, q);
          return true;
        };
        for (std::int64_t g = g0; g < G && visit(g); ++g) {
        }
        for (std::int64_t g = g0 - 1; g >= 0 && visit(g); --g) {
        }
      } else {
        // A side, a chunk of its noise blocks at a time: first, without branching on the noise,
        // the chunk's points up to the side's end, each marked unless its block's radius bound
        // proves it cannot reach the best so far; then the marked ones in walking order, each
        // skipped if its radius cannot reach the (maybe lower) best, else measured.
        auto scan = [&](NoiseSide& side, std::int64_t g, std::int64_t dir) {
          while (g >= 0 && g < G) {
            const std::int64_t n = side.load(g, G, s, t, k);
            const double margin = 1e-9 * (std::fabs(best_loss) + reach);
            const double limit = best_loss + reach + margin;
            const double base = best_loss + margin;
            std::array<double, 2 * NoiseSide::kChunk> qs;  // of the marked points
            std::array<std::int64_t, 2 * NoiseSide::kChunk> gs;
            std::size_t marked = 0;
            std::int64_t m = 0;
            for (; m < n; ++m) {
              const std::int64_t gm = g + dir * m;
              const double q = q_at(gm);
              if (q > limit) break;
              qs[marked] = q;
              gs[marked] = gm;
              marked += !((q - base) * inv_noise > side.radius_bound(side.slot_of(gm)));  // can it reach? (NaN: yes)
            }
            for (std::size_t mi = 0; mi < marked; ++mi) {
              const std::int64_t gm = gs[mi];
              const double q = qs[mi];
              const std::int64_t i = side.slot_of(gm);
              const double slack = q - best_loss - 1e-9 * (std::fabs(best_loss) + reach);
              if (best >= 0 && slack > 0.0 && side.radius(i) < slack * inv_noise) continue;
              take(gm, q + noise * side.normal(i, gm));
            }
            if (m < n) return;  // the side has ended
            g += dir * n;
          }
        };
        NoiseSide right(false, n_blocks, bounds), left(true, n_blocks, bounds);
        right.load(g0, G, s, t, k);  // the nearest point first: the scans then start with a best
        take(g0, q_at(g0) + noise * right.normal(right.slot_of(g0), g0));
        scan(right, g0 + 1, 1);
        scan(left, g0 - 1, -1);
      }
      tuned[t * count + j] = best;
      latent[t * count + j] = u_star;
    }
  });
}

}  // namespace tunelab::transfer
