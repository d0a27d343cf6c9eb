// The only file that includes <omp.h>. Everything else asks it how many threads to use and
// runs loops through parallel_for (or replica_histograms, the Monte Carlo reduction built on
// it), which becomes a plain loop in a serial build.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <vector>

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

// The allocation guard. An exception escaping an OpenMP region (or an item of a worksharing
// loop) terminates the process, so code in a region that may throw (std::bad_alloc from its
// scratch vectors) runs through run(), which keeps the first exception instead of letting it
// escape; rethrow() it after the region.
class RegionGuard {
 public:
  template <class F>
  void run(F&& f) noexcept {
    try {
      f();
    } catch (...) {
#ifdef _OPENMP
#pragma omp critical(tunelab_region_guard)
#endif
      if (!error_) error_ = std::current_exception();
    }
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::exception_ptr error_;
};

// Run body(i) for i in [0, n) with a static schedule over `threads` threads (0: default).
// Static schedules keep the assignment of items to threads fixed; the results never depend on
// it anyway, because every random stream is keyed by the item, not by the thread. What body
// throws comes out after the loop (the other items still run).
template <class Body>
void parallel_for(std::int64_t n, int threads, Body&& body) {
#ifdef _OPENMP
  const int t = resolve_threads(threads);
  if (t > 1 && n > 1) {
    RegionGuard guard;
#pragma omp parallel for schedule(static) num_threads(t)
    for (std::int64_t i = 0; i < n; ++i) guard.run([&] { body(i); });
    guard.rethrow();
    return;
  }
#else
  (void)threads;
#endif
  for (std::int64_t i = 0; i < n; ++i) body(i);
}

// One output histogram of a replica Monte Carlo: counts[0 .. bins).
struct Histogram {
  std::int64_t* counts;
  std::size_t bins;
};

// The replica Monte Carlo reduction: replicas [0, n) are split into contiguous ranges, at most
// one per thread; body(r, row) counts replica r into its range's own zeroed row (the output
// histograms laid end to end, in the order given), and the rows are added into the outputs in
// range order after the parallel loop. Counts are integers, so the result does not depend on
// the number of threads.
template <class Body>
void replica_histograms(std::int64_t n, int threads, std::initializer_list<Histogram> out, Body&& body) {
  std::size_t width = 0;
  for (const Histogram& h : out) width += h.bins;
  const std::int64_t tasks = std::max<std::int64_t>(1, std::min<std::int64_t>(resolve_threads(threads), n));
  std::vector<std::int64_t> rows(static_cast<std::size_t>(tasks) * width, 0);
  std::int64_t* all = rows.data();
  parallel_for(tasks, threads, [&](std::int64_t task) {
    std::int64_t* row = all + static_cast<std::size_t>(task) * width;
    const std::int64_t lo = n * task / tasks, hi = n * (task + 1) / tasks;
    for (std::int64_t r = lo; r < hi; ++r) body(r, row);
  });
  for (std::int64_t task = 0; task < tasks; ++task) {
    const std::int64_t* row = all + static_cast<std::size_t>(task) * width;
    for (const Histogram& h : out) {
      for (std::size_t i = 0; i < h.bins; ++i) h.counts[i] += row[i];
      row += h.bins;
    }
  }
}

}  // namespace tunelab
