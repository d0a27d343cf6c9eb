// bind_rng: the Philox block function (for known-answer tests) and bulk draws.
#include "common.hpp"
#include "tunelab/parallel.hpp"
#include "tunelab/rng.hpp"

namespace tunelab::bind {

namespace {

py::array_t<std::uint32_t> philox_block(in_array<std::uint32_t> ctr, in_array<std::uint32_t> key) {
  require_shape("ctr", ctr, {4}, "(4,)");
  require_shape("key", key, {2}, "(2,)");
  const rng::Block c{ctr.at(0), ctr.at(1), ctr.at(2), ctr.at(3)};
  const rng::Key k{key.at(0), key.at(1)};
  const rng::Block out = rng::philox4x32<10>(c, k);
  auto res = empty<std::uint32_t>({4});
  for (py::ssize_t i = 0; i < 4; ++i) res.mutable_at(i) = out[static_cast<std::size_t>(i)];
  return res;
}

// Element i of the output is element first + i of the stream, a pure function of
// (key, stream, first + i) (see rng.hpp), so any split over threads or chunks gives the same
// numbers.
template <bool Normal>
void fill(inout_array<double> out, std::uint64_t key, std::uint64_t stream, std::int64_t first, int num_threads) {
  require_writeable("out", out);
  if (first < 0) throw std::invalid_argument("first must be non-negative; got " + std::to_string(first));
  const auto n = static_cast<std::int64_t>(out.size());
  double* p = out.mutable_data();
  const rng::Key k = rng::split_key(key);
  py::gil_scoped_release release;
  constexpr std::int64_t kGrain = 16384;  // elements per task: keeps per-task overhead small
  const std::int64_t tasks = (n + kGrain - 1) / kGrain;
  parallel_for(tasks, num_threads, [&](std::int64_t t) {
    const std::int64_t lo = t * kGrain, m = std::min(n - lo, kGrain);
    const auto e = static_cast<std::uint64_t>(first + lo);
    if constexpr (Normal) {
      rng::fill_normal_at(k, stream, e, p + lo, m);
    } else {
      rng::fill_uniform_at(k, stream, e, p + lo, m);
    }
  });
}

// The allocating form (the original _core signature, kept for callers such as the chunk tests).
template <bool Normal>
py::array_t<double> draw(std::int64_t n, std::uint64_t key, std::uint64_t stream, std::int64_t first, int num_threads) {
  if (n < 0) throw std::invalid_argument("size must be non-negative; got " + std::to_string(n));
  inout_array<double> out(std::vector<py::ssize_t>{static_cast<py::ssize_t>(n)});  // C-contiguous, no copy
  fill<Normal>(out, key, stream, first, num_threads);
  return out;
}

// Stream::normal() called n times from element `first` (tests and bench of the per-draw path;
// equals standard_normal(n, first=first)).
py::array_t<double> stream_normals(std::int64_t n, std::uint64_t key, std::uint64_t stream, std::int64_t first) {
  if (n < 0) throw std::invalid_argument("size must be non-negative; got " + std::to_string(n));
  if (first < 0) throw std::invalid_argument("first must be non-negative; got " + std::to_string(first));
  auto out = empty<double>({static_cast<py::ssize_t>(n)});
  double* p = out.mutable_data();
  {
    py::gil_scoped_release release;
    rng::Stream s(rng::split_key(key), stream, static_cast<std::uint64_t>(first) / 2);
    if (first % 2) (void)s.normal();
    for (std::int64_t i = 0; i < n; ++i) p[i] = s.normal();
  }
  return out;
}

py::tuple ziggurat_tables() {
  auto w = empty<double>({rng::detail::kZigLayers});
  auto k = empty<std::uint64_t>({rng::detail::kZigLayers});
  auto f = empty<double>({rng::detail::kZigLayers + 1});
  for (py::ssize_t i = 0; i < rng::detail::kZigLayers; ++i) {
    w.mutable_at(i) = rng::detail::kZigW[i];
    k.mutable_at(i) = rng::detail::kZigK[i];
  }
  for (py::ssize_t i = 0; i <= rng::detail::kZigLayers; ++i) f.mutable_at(i) = rng::detail::kZigF[i];
  return py::make_tuple(w, k, f, rng::detail::kZigR, rng::detail::kZigInvR);
}

int rng_simd_level() { return simd::level(); }

}  // namespace

void bind_rng(py::module_& m) {
  m.def("philox4x32_10", &philox_block, py::arg("ctr"), py::arg("key"),
        "Philox4x32-10 block function (see tunelab.reference.philox4x32_10).");
  m.def("standard_normal", &draw<true>, py::arg("n"), py::arg("key"), py::arg("stream"), py::arg("first"), py::arg("num_threads"),
        "Standard normals; see tunelab.standard_normal.");
  m.def("uniform", &draw<false>, py::arg("n"), py::arg("key"), py::arg("stream"), py::arg("first"), py::arg("num_threads"),
        "Uniforms in [0, 1); see tunelab.uniform.");
  m.def("standard_normal_into", &fill<true>, py::arg("out").noconvert(), py::arg("key"), py::arg("stream"), py::arg("first"), py::arg("num_threads"),
        "Fill out (C-contiguous float64) with standard normals; see tunelab.standard_normal.");
  m.def("uniform_into", &fill<false>, py::arg("out").noconvert(), py::arg("key"), py::arg("stream"), py::arg("first"), py::arg("num_threads"),
        "Fill out (C-contiguous float64) with uniforms in [0, 1); see tunelab.uniform.");
  m.def("stream_normals", &stream_normals, py::arg("n"), py::arg("key"), py::arg("stream"), py::arg("first"),
        "n calls of rng::Stream::normal() from element first (tests, bench).");
  m.def("ziggurat_tables", &ziggurat_tables, "The compiled ziggurat tables (w, k, f, r, 1/r); see tunelab.reference._ziggurat.");
  m.def("rng_simd_level", &rng_simd_level, "Philox bulk path in use: 0 scalar, 1 AVX2, 2 AVX-512F.");
}

}  // namespace tunelab::bind
