// The only file that includes <omp.h>. Everything else asks it how many threads to use
// and runs loops through parallel_for, which becomes a plain loop in a serial build.
#pragma once

#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace tunelab {

inline bool openmp_enabled() noexcept {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

// 0 means "OpenMP's default" (omp_get_max_threads(), which honours OMP_NUM_THREADS and
// threadpoolctl); a serial build always runs on one thread.
inline int resolve_threads(int requested) noexcept {
#ifdef _OPENMP
  return requested > 0 ? requested : omp_get_max_threads();
#else
  (void)requested;
  return 1;
#endif
}

inline int max_threads() noexcept { return resolve_threads(0); }

// Run body(i) for i in [0, n) with a static schedule over `threads` threads (0: default).
// Static schedules keep the assignment of items to threads fixed; the results never depend on
// it anyway, because every random stream is keyed by the item, not by the thread.
// `body` must not throw: an exception escaping an OpenMP region terminates the process.
template <class Body>
void parallel_for(std::int64_t n, int threads, Body&& body) {
#ifdef _OPENMP
  const int t = resolve_threads(threads);
  if (t > 1 && n > 1) {
#pragma omp parallel for schedule(static) num_threads(t)
    for (std::int64_t i = 0; i < n; ++i) body(i);
    return;
  }
#else
  (void)threads;
#endif
  for (std::int64_t i = 0; i < n; ++i) body(i);
}

}  // namespace tunelab
