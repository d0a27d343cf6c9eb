// Memory-bandwidth probes (McCalpin's STREAM kernels) used by the bench to put memory-bound
// kernels' throughput beside what the machine can stream: in-place axpy x += s*y (reads 2,
// writes 1 array) and triad a = b + s*c (reads 2, writes 1).
#pragma once

#include <cstdint>

#include "tunelab/parallel.hpp"

namespace tunelab::stream {

inline void axpy(double* x, const double* y, double s, std::int64_t n, int threads) {
  constexpr std::int64_t kBlock = 1 << 14;
  const std::int64_t tasks = (n + kBlock - 1) / kBlock;
  parallel_for(tasks, threads, [=](std::int64_t t) {
    const std::int64_t hi = (t + 1) * kBlock < n ? (t + 1) * kBlock : n;
    for (std::int64_t i = t * kBlock; i < hi; ++i) x[i] += s * y[i];
  });
}

inline void triad(double* a, const double* b, const double* c, double s, std::int64_t n, int threads) {
  constexpr std::int64_t kBlock = 1 << 14;
  const std::int64_t tasks = (n + kBlock - 1) / kBlock;
  parallel_for(tasks, threads, [=](std::int64_t t) {
    const std::int64_t hi = (t + 1) * kBlock < n ? (t + 1) * kBlock : n;
    for (std::int64_t i = t * kBlock; i < hi; ++i) a[i] = b[i] + s * c[i];
  });
}

}  // namespace tunelab::stream
