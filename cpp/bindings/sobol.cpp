// bind_sobol: Sobol' points, Saltelli designs, Sobol' index estimators, the g-function.
#include "common.hpp"
#include "tunelab/sobol.hpp"

#include <optional>

namespace tunelab::bind {

namespace {

// Into out when given (C-contiguous float64 (n, d), not converted: .noconvert()), else into a new
// array; out is checked before any work and the (n, d) array is then not allocated.
py::array_t<double> sobol_points(int d, std::int64_t n, std::int64_t first, bool scramble, std::uint64_t key,
                                 std::uint64_t stream, int num_threads, std::optional<inout_array<double>> out_arg) {
  if (n < 0) throw std::invalid_argument("n must be >= 0; got " + std::to_string(n));
  if (out_arg) {
    require_shape("out", *out_arg, {static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(d)}, "(n, d)");
    require_writeable("out", *out_arg);
  }
  std::vector<std::uint32_t> v(static_cast<std::size_t>(std::max(d, 0)) * sobol::kBits), shift(static_cast<std::size_t>(std::max(d, 0)), 0u);
  sobol::direction_integers(d, v.data());
  if (scramble) sobol::scramble(d, v.data(), shift.data(), rng::split_key(key), stream);
  py::array_t<double> out = out_arg ? py::reinterpret_borrow<py::array_t<double>>(*out_arg)
                                    : empty<double>({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(d)});
  double* p = out.mutable_data();
  {
    py::gil_scoped_release release;
    sobol::fill_points(d, first, n, v.data(), shift.data(), p, num_threads);
  }
  return out;
}

// The scrambled direction integers (d, 30) (column k of dimension j, as an integer) and the shift:
// for tests against SciPy's _cscramble and the NumPy reference.
py::tuple sobol_matrices(int d, bool scramble, std::uint64_t key, std::uint64_t stream) {
  std::vector<std::uint32_t> v(static_cast<std::size_t>(std::max(d, 0)) * sobol::kBits), shift(static_cast<std::size_t>(std::max(d, 0)), 0u);
  sobol::direction_integers(d, v.data());
  if (scramble) sobol::scramble(d, v.data(), shift.data(), rng::split_key(key), stream);
  auto vo = empty<std::uint32_t>({static_cast<py::ssize_t>(d), sobol::kBits});
  auto so = empty<std::uint32_t>({static_cast<py::ssize_t>(d)});
  for (int j = 0; j < d; ++j) {
    for (int k = 0; k < sobol::kBits; ++k) vo.mutable_at(j, k) = v[static_cast<std::size_t>(k * d + j)];
    so.mutable_at(j) = shift[static_cast<std::size_t>(j)];
  }
  return py::make_tuple(vo, so);
}

py::array_t<double> saltelli(in_array<double> low, in_array<double> width, in_array<std::int32_t> group, int num_groups,
                             std::int64_t n, std::int64_t replicates, bool second_order, bool random, bool scramble,
                             std::uint64_t key, std::int64_t first, std::int64_t count, int num_threads) {
  require_ndim("low", low, 1);
  const auto D = static_cast<int>(low.shape(0));
  require_shape("width", width, {D}, "(D,)");
  require_shape("group", group, {D}, "(D,)");
  sobol::SaltelliOptions o;
  o.num_vars = D;
  o.num_groups = num_groups;
  o.second_order = second_order;
  o.random = random;
  o.scramble = scramble;
  o.n = n;
  o.replicates = replicates;
  const std::int64_t step = sobol::rows_per_block(o);
  if (count < 0) throw std::invalid_argument("count must be >= 0");
  auto out = empty<double>({static_cast<py::ssize_t>(count * step), static_cast<py::ssize_t>(D)});
  double* p = out.mutable_data();
  {
    py::gil_scoped_release release;
    sobol::fill_saltelli(o, group.data(), low.data(), width.data(), key, first, count, p, num_threads);
  }
  return out;
}

py::tuple estimate(in_array<double> y, int num_groups, bool second_order, std::int64_t n, std::int64_t replicates,
                   std::int64_t n_boot, std::uint64_t key, std::uint64_t first, int num_threads) {
  require_ndim("Y", y, 2);
  sobol::EstimateOptions o;
  o.num_groups = num_groups;
  o.outputs = static_cast<int>(y.shape(1));
  o.second_order = second_order;
  o.n = n;
  o.replicates = replicates;
  const std::int64_t step = second_order ? 2 * std::int64_t{num_groups} + 2 : std::int64_t{num_groups} + 2;
  if (y.shape(0) != n * replicates * step) {
    throw std::invalid_argument("Y must have n * replicates * rows_per_block rows; got " + shape_str(y));
  }
  const std::int64_t ne = sobol::estimates_per_output(o);
  auto est = empty<double>({static_cast<py::ssize_t>(replicates), static_cast<py::ssize_t>(o.outputs), static_cast<py::ssize_t>(ne)});
  auto boot = empty<double>({static_cast<py::ssize_t>(std::max<std::int64_t>(n_boot, 0)), static_cast<py::ssize_t>(o.outputs),
                             static_cast<py::ssize_t>(ne)});
  double* pe = est.mutable_data();
  double* pb = boot.mutable_data();
  const double* py_ = y.data();
  {
    py::gil_scoped_release release;
    sobol::estimate(o, py_, pe, n_boot, pb, key, first, num_threads);
  }
  return py::make_tuple(est, boot);
}

py::array_t<double> g_function(in_array<double> x, in_array<double> a, int num_threads) {
  require_ndim("X", x, 2);
  const auto d = static_cast<py::ssize_t>(x.shape(1));
  require_shape("a", a, {d}, "(D,)");
  auto out = empty<double>({x.shape(0)});
  double* p = out.mutable_data();
  {
    py::gil_scoped_release release;
    sobol::g_function(x.data(), x.shape(0), static_cast<int>(d), a.data(), p, num_threads);
  }
  return out;
}

py::tuple g_indices(in_array<double> a) {
  require_ndim("a", a, 1);
  const auto d = static_cast<py::ssize_t>(a.shape(0));
  auto s1 = empty<double>({d});
  auto st = empty<double>({d});
  auto s2 = empty<double>({d, d});
  sobol::g_indices(a.data(), static_cast<int>(d), s1.mutable_data(), st.mutable_data(), s2.mutable_data());
  return py::make_tuple(s1, st, s2);
}

}  // namespace

void bind_sobol(py::module_& m) {
  m.attr("sobol_max_dim") = sobol::kMaxDim;
  m.def("sobol_points", &sobol_points, py::arg("d"), py::arg("n"), py::arg("first"), py::arg("scramble"), py::arg("key"),
        py::arg("stream"), py::arg("num_threads"), py::arg("out").noconvert() = py::none(),
        "Sobol' points (n, d), written into out (C-contiguous float64 (n, d)) when given; see tunelab.sobol_points.");
  m.def("sobol_matrices", &sobol_matrices, py::arg("d"), py::arg("scramble"), py::arg("key"), py::arg("stream"),
        "Scrambled direction integers (d, 30) and digital shift (d,); see tunelab.reference.sobol.");
  m.def("saltelli_sample", &saltelli, py::arg("low"), py::arg("width"), py::arg("group"), py::arg("num_groups"), py::arg("n"),
        py::arg("replicates"), py::arg("second_order"), py::arg("random"), py::arg("scramble"), py::arg("key"),
        py::arg("first"), py::arg("count"), py::arg("num_threads"),
        "Base rows [first, first + count) of a Saltelli design; see tunelab.saltelli_sample.");
  m.def("sobol_estimate", &estimate, py::arg("Y"), py::arg("num_groups"), py::arg("second_order"), py::arg("n"),
        py::arg("replicates"), py::arg("n_boot"), py::arg("key"), py::arg("first"), py::arg("num_threads"),
        "Point and bootstrap estimates of Sobol' indices; see tunelab.sobol_indices.");
  m.def("sobol_g", &g_function, py::arg("X"), py::arg("a"), py::arg("num_threads"),
        "Sobol's g-function; see tunelab.sobol_g.");
  m.def("sobol_g_indices", &g_indices, py::arg("a"), "Closed-form indices of the g-function; see tunelab.sobol_g_indices.");
}

}  // namespace tunelab::bind
