// bind_curvature: top eigenvalue (dense, stack, callable), GD on quadratics, Hutchinson probes.
#include "common.hpp"
#include <cstring>

#include "tunelab/curvature.hpp"

namespace tunelab::bind {

namespace {

namespace cv = tunelab::curvature;

py::tuple top_eigen_dense(in_array<double> A, const cv::EigenOptions& o, std::uint64_t key, int num_threads,
                          double sym_tol) {
  require_shape("A", A, {-1, -1}, "(n, n)");
  const std::int64_t n = A.shape(0);
  if (A.shape(1) != n) throw std::invalid_argument("A must be square; got " + shape_str(A));
  auto vec = empty<double>({static_cast<py::ssize_t>(n)});
  double* pv = vec.mutable_data();
  const double* pa = A.data();
  cv::EigenOut e;
  {
    py::gil_scoped_release release;
    const cv::MatrixCheck c = cv::require_symmetric("A", pa, n, sym_tol);
    e = cv::top_eigen_dense(pa, n, o, key, num_threads, pv, c.max_abs);
  }
  return py::make_tuple(e.value, vec, e.n_iter, e.converged, e.residual);
}

py::tuple top_eigen_stack(in_array<double> A, const cv::EigenOptions& o, std::uint64_t key, int num_threads,
                          double sym_tol) {
  require_shape("A", A, {-1, -1, -1}, "(m, n, n)");
  const std::int64_t m = A.shape(0), n = A.shape(1);
  if (A.shape(2) != n) throw std::invalid_argument("A must be a stack of square matrices (m, n, n); got " + shape_str(A));
  auto value = empty<double>({static_cast<py::ssize_t>(m)});
  auto vec = empty<double>({static_cast<py::ssize_t>(m), static_cast<py::ssize_t>(n)});
  auto n_iter = empty<std::int64_t>({static_cast<py::ssize_t>(m)});
  auto converged = empty<bool>({static_cast<py::ssize_t>(m)});
  auto residual = empty<double>({static_cast<py::ssize_t>(m)});
  const double* pa = A.data();
  double *pval = value.mutable_data(), *pvec = vec.mutable_data(), *pres = residual.mutable_data();
  std::int64_t* pit = n_iter.mutable_data();
  bool* pconv = converged.mutable_data();
  {
    py::gil_scoped_release release;
    cv::top_eigen_stack(pa, m, n, o, key, num_threads, pval, pvec, pit, pconv, pres, sym_tol, "A");
  }
  return py::make_tuple(value, vec, n_iter, converged, residual);
}

// matvec: a Python callable taking and returning float64 arrays of shape (n,) (the Python layer
// wraps the user's callable so that it checks and converts). The GIL stays held: every step
// calls back into Python.
py::tuple top_eigen_callable(py::function matvec, std::int64_t n, const cv::EigenOptions& o, std::uint64_t key) {
  if (n < 1) throw std::invalid_argument("n must be >= 1; got " + std::to_string(n));
  if (n > std::numeric_limits<std::int64_t>::max() / 64)  // the kernel's 2n start vectors, in bytes
    throw std::invalid_argument("n is too large: the vectors cannot be allocated");
  auto vec = empty<double>({static_cast<py::ssize_t>(n)}, "n");
  const auto bytes = static_cast<std::size_t>(n) * sizeof(double);
  auto mv = [&](const double* x, double* y) {
    auto xa = empty<double>({static_cast<py::ssize_t>(n)});
    std::memcpy(xa.mutable_data(), x, bytes);
    auto ya = in_array<double>::ensure(matvec(xa));
    if (!ya || ya.ndim() != 1 || ya.shape(0) != n)
      throw std::invalid_argument("A (the matvec callable) must return a float array of shape (n,)");
    std::memcpy(y, ya.data(), bytes);
  };
  const cv::EigenOut e = cv::top_eigen_scaled(mv, n, key, o, vec.mutable_data());
  return py::make_tuple(e.value, vec, e.n_iter, e.converged, e.residual);
}

py::array_t<double> gd_quadratic(in_array<double> H, in_array<double> x0, in_array<double> lrs, std::int64_t steps,
                                 int num_threads, double sym_tol) {
  require_shape("H", H, {-1, -1}, "(n, n)");
  const std::int64_t n = H.shape(0);
  if (H.shape(1) != n) throw std::invalid_argument("H must be square; got " + shape_str(H));
  require_shape("x0", x0, {n}, "(n,)");
  require_ndim("lrs", lrs, 1);
  const std::int64_t L = lrs.shape(0);
  auto losses = empty<double>({static_cast<py::ssize_t>(L), static_cast<py::ssize_t>(steps + 1)}, "steps");
  const double *ph = H.data(), *px = x0.data(), *pl = lrs.data();
  double* po = losses.mutable_data();
  {
    py::gil_scoped_release release;
    cv::require_symmetric("H", ph, n, sym_tol);
    cv::gd_quadratic(ph, n, px, pl, L, steps, num_threads, po);
  }
  return losses;
}

// w, c: the eigenvalues of H and x0 in its eigenbasis (the Python layer calls LAPACK).
py::array_t<double> gd_quadratic_eigen(in_array<double> w, in_array<double> c, in_array<double> lrs, std::int64_t steps,
                                       int num_threads) {
  require_ndim("w", w, 1);
  const std::int64_t n = w.shape(0);
  require_shape("c", c, {n}, "(n,)");
  require_ndim("lrs", lrs, 1);
  const std::int64_t L = lrs.shape(0);
  auto losses = empty<double>({static_cast<py::ssize_t>(L), static_cast<py::ssize_t>(steps + 1)}, "steps");
  const double *pw = w.data(), *pc = c.data(), *pl = lrs.data();
  double* po = losses.mutable_data();
  {
    py::gil_scoped_release release;
    cv::gd_quadratic_eigen(pw, pc, n, pl, L, steps, num_threads, po);
  }
  return losses;
}

py::array_t<double> hutchinson_dense(in_array<double> A, std::uint64_t key, std::int64_t first, std::int64_t count,
                                     int num_threads) {
  require_shape("A", A, {-1, -1}, "(n, n)");
  const std::int64_t n = A.shape(0);
  if (A.shape(1) != n) throw std::invalid_argument("A must be square; got " + shape_str(A));
  if (count < 0) throw std::invalid_argument("count must be >= 0");
  auto out = empty<double>({static_cast<py::ssize_t>(count)});
  const double* pa = A.data();
  double* po = out.mutable_data();
  {
    py::gil_scoped_release release;
    cv::hutchinson_dense(pa, n, key, first, count, num_threads, po);
  }
  return out;
}

py::array_t<double> rademacher(std::int64_t n, std::uint64_t key, std::int64_t first, std::int64_t count,
                               int num_threads) {
  if (n < 0 || count < 0 || first < 0) throw std::invalid_argument("n, first and count must be non-negative");
  auto out = empty<double>({static_cast<py::ssize_t>(count), static_cast<py::ssize_t>(n)}, "n");
  double* po = out.mutable_data();
  {
    py::gil_scoped_release release;
    parallel_for(count, num_threads, [=](std::int64_t r) { cv::rademacher(key, first + r, n, po + r * n); });
  }
  return out;
}

py::tuple check_symmetric(in_array<double> A) {
  require_shape("A", A, {-1, -1}, "(n, n)");
  const std::int64_t n = A.shape(0);
  if (A.shape(1) != n) throw std::invalid_argument("A must be square; got " + shape_str(A));
  const cv::MatrixCheck c = cv::check_symmetric(A.data(), n);
  return py::make_tuple(c.max_asym, c.max_abs, c.finite);
}

}  // namespace

void bind_curvature(py::module_& m) {
  py::enum_<cv::Method>(m, "Method", "Eigen-solver: power iteration or Lanczos.")
      .value("power", cv::Method::power)
      .value("lanczos", cv::Method::lanczos);
  py::enum_<cv::Which>(m, "Which", "Which eigenvalue: largest algebraic (LA) or largest in magnitude (LM).")
      .value("LA", cv::Which::algebraic)
      .value("LM", cv::Which::magnitude);
  py::enum_<cv::Reorth>(m, "Reorth", "Lanczos reorthogonalisation: full or selective.")
      .value("full", cv::Reorth::full)
      .value("selective", cv::Reorth::selective);
  py::class_<cv::EigenOptions>(m, "EigenOptions", "Options of the eigen-solvers, checked when made.")
      .def(py::init([](cv::Method method, cv::Which which, cv::Reorth reorth, double tol, std::int64_t max_iter) {
             const cv::EigenOptions o{method, which, reorth, tol, max_iter};
             cv::validate(o);
             return o;
           }),
           py::kw_only(), py::arg("method"), py::arg("which"), py::arg("reorth"), py::arg("tol"), py::arg("max_iter"))
      .def_readonly("method", &cv::EigenOptions::method)
      .def_readonly("which", &cv::EigenOptions::which)
      .def_readonly("reorth", &cv::EigenOptions::reorth)
      .def_readonly("tol", &cv::EigenOptions::tol)
      .def_readonly("max_iter", &cv::EigenOptions::max_iter);
  m.def("top_eigen_dense", &top_eigen_dense, py::arg("A"), py::arg("options"), py::arg("key"), py::arg("num_threads"),
        py::arg("sym_tol"),
        "Top eigenpair of a dense symmetric matrix; see tunelab.top_eigenvalue.");
  m.def("top_eigen_stack", &top_eigen_stack, py::arg("A"), py::arg("options"), py::arg("key"), py::arg("num_threads"),
        py::arg("sym_tol"),
        "Top eigenpairs of a stack of symmetric matrices; see tunelab.top_eigenvalue.");
  m.def("top_eigen_callable", &top_eigen_callable, py::arg("matvec"), py::arg("n"), py::arg("options"), py::arg("key"),
        "Top eigenpair of a matvec callable; see tunelab.top_eigenvalue.");
  m.def("gd_quadratic", &gd_quadratic, py::arg("H"), py::arg("x0"), py::arg("lrs"), py::arg("steps"),
        py::arg("num_threads"), py::arg("sym_tol"), "GD loss trajectories on 1/2 x'Hx; see tunelab.gd_quadratic.");
  m.def("gd_quadratic_eigen", &gd_quadratic_eigen, py::arg("w"), py::arg("c"), py::arg("lrs"), py::arg("steps"),
        py::arg("num_threads"),
        "GD loss trajectories on 1/2 x'Hx in closed form from H's eigenvalues w and c = Q'x0; see tunelab.gd_quadratic.");
  m.def("hutchinson_dense", &hutchinson_dense, py::arg("A"), py::arg("key"), py::arg("first"), py::arg("count"),
        py::arg("num_threads"), "Hutchinson probes z'Az of a dense matrix; see tunelab.hutchinson_trace.");
  m.def("rademacher", &rademacher, py::arg("n"), py::arg("key"), py::arg("first"), py::arg("count"),
        py::arg("num_threads"), "Rademacher probes (count, n), probe r from stream first + r.");
  m.def("check_symmetric", &check_symmetric, py::arg("A"),
        "(max|A - A.T|, max|A|, all finite) of a square matrix.");
}

}  // namespace tunelab::bind
