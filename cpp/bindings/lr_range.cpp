// bind_lr_range: the one-step learning-rate range test on a quadratic.
#include "common.hpp"
#include "tunelab/eigen.hpp"
#include "tunelab/lr_range.hpp"

namespace tunelab::bind {

namespace {

py::tuple lr_range_test_quadratic(in_array<double> H, in_array<double> x0, in_array<double> lrs, int num_threads,
                                  double sym_tol) {
  require_shape("H", H, {-1, -1}, "(n, n)");
  const std::int64_t n = H.shape(0);
  if (H.shape(1) != n) throw std::invalid_argument("H must be square; got " + shape_str(H));
  require_shape("x0", x0, {n}, "(n,)");
  require_ndim("lrs", lrs, 1);
  const std::int64_t L = lrs.shape(0);
  auto losses = empty<double>({static_cast<py::ssize_t>(L)});
  const double *ph = H.data(), *px = x0.data(), *pl = lrs.data();
  double* po = losses.mutable_data();
  double f0 = 0.0;
  {
    py::gil_scoped_release release;
    curvature::require_symmetric("H", ph, n, sym_tol);
    f0 = lr_range::lr_range_test_quadratic(ph, n, px, pl, L, num_threads, po);
  }
  return py::make_tuple(losses, f0);
}

}  // namespace

void bind_lr_range(py::module_& m) {
  m.def("lr_range_test_quadratic", &lr_range_test_quadratic, py::arg("H"), py::arg("x0"), py::arg("lrs"),
        py::arg("num_threads"), py::arg("sym_tol"),
        "One-step losses f(x0 - lr H x0) on 1/2 x'Hx; see tunelab.lr_range_test_quadratic.");
}

}  // namespace tunelab::bind
