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

// Element i of the output is global element first + i of the stream, a pure function of
// (key, stream, first + i): normals come in pairs from block (first + i) / 2, so any split over
// threads or chunks gives the same numbers.
template <bool Normal>
py::array_t<double> fill(std::int64_t n, std::uint64_t key, std::uint64_t stream, std::int64_t first,
                         int num_threads) {
  if (n < 0) throw std::invalid_argument("size must be non-negative; got " + std::to_string(n));
  if (first < 0) throw std::invalid_argument("first must be non-negative; got " + std::to_string(first));
  auto out = empty<double>({static_cast<py::ssize_t>(n)});
  double* p = out.mutable_data();
  const rng::Key k = rng::split_key(key);
  const std::int64_t b0 = first / 2, b1 = (first + n + 1) / 2;  // blocks [b0, b1)
  {
    py::gil_scoped_release release;
    constexpr std::int64_t kGrain = 4096;  // blocks per task: keeps per-task overhead small
    const std::int64_t tasks = (b1 - b0 + kGrain - 1) / kGrain;
    parallel_for(tasks, num_threads, [&](std::int64_t t) {
      const std::int64_t lo = b0 + t * kGrain, hi = std::min(b1, lo + kGrain);
      for (std::int64_t j = lo; j < hi; ++j) {
        const rng::Block b = rng::philox4x32(rng::counter(stream, static_cast<std::uint64_t>(j)), k);
        const auto v = Normal ? rng::normal_pair(b) : rng::uniform_pair(b);
        const std::int64_t i0 = 2 * j - first;
        if (i0 >= 0) p[i0] = v[0];
        if (i0 + 1 < n) p[i0 + 1] = v[1];
      }
    });
  }
  return out;
}

}  // namespace

void bind_rng(py::module_& m) {
  m.def("philox4x32_10", &philox_block, py::arg("ctr"), py::arg("key"),
        "Philox4x32-10 block function (see tunelab.reference.philox4x32_10).");
  m.def("standard_normal", &fill<true>, py::arg("n"), py::arg("key"), py::arg("stream"), py::arg("first"), py::arg("num_threads"),
        "Standard normals; see tunelab.standard_normal.");
  m.def("uniform", &fill<false>, py::arg("n"), py::arg("key"), py::arg("stream"), py::arg("first"), py::arg("num_threads"),
        "Uniforms in [0, 1); see tunelab.uniform.");
}

}  // namespace tunelab::bind
