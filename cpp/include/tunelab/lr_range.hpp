// The learning-rate range test on a quadratic f(x) = 1/2 x'Hx: one gradient step from x0 for
// every rate, L(lr) = f(x0 - lr g) with g = H x0. The Taylor series of a quadratic ends at the
// second term, so L(lr) = f0 - lr g'g + lr^2/2 g'Hg exactly (two matvecs in all, however many
// rates); OpenMP over the rates.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "tunelab/linalg.hpp"
#include "tunelab/parallel.hpp"

namespace tunelab::lr_range {

// losses[l] = f(x0 - lrs[l] H x0); returns f(x0). Quantities that overflow become inf.
inline double lr_range_test_quadratic(const double* H, std::int64_t n, const double* x0, const double* lrs,
                                      std::int64_t L, int threads, double* losses) {
  if (n < 1) throw std::invalid_argument("H must not be empty");
  if (L < 0) throw std::invalid_argument("lrs must not have negative length");
  std::vector<double> g(static_cast<std::size_t>(n)), hg(static_cast<std::size_t>(n));
  linalg::symv(H, n, x0, g.data(), threads);
  linalg::symv(H, n, g.data(), hg.data(), threads);
  const double f0 = 0.5 * linalg::dot(x0, g.data(), n);
  const double gg = linalg::dot(g.data(), g.data(), n);
  const double ghg = linalg::dot(g.data(), hg.data(), n);
  parallel_for(L, threads, [=](std::int64_t l) {
    const double a = lrs[l];
    losses[l] = f0 - a * gg + 0.5 * a * a * ghg;
  });
  return f0;
}

}  // namespace tunelab::lr_range
