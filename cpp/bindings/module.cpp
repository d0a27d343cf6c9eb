// PYBIND11_MODULE(_core): one bind_<area>(m) per area, each in bindings/<area>.cpp.
#include "common.hpp"
#include "tunelab/parallel.hpp"

namespace tunelab::bind {
void bind_rng(py::module_& m);
void bind_stream(py::module_& m);
void bind_optim(py::module_& m);
void bind_quadratic(py::module_& m);
void bind_curvature(py::module_& m);
void bind_lr_range(py::module_& m);
void bind_rank(py::module_& m);
void bind_transfer(py::module_& m);
void bind_scaling(py::module_& m);
void bind_early_stop(py::module_& m);
void bind_sobol(py::module_& m);
}  // namespace tunelab::bind

PYBIND11_MODULE(_core, m, pybind11::mod_gil_not_used()) {
  namespace tb = tunelab::bind;
  m.doc() = "tunelab's compiled kernels (private: use the functions of the tunelab package)";
  m.def("openmp_enabled", &tunelab::openmp_enabled, "Whether the extension was built with OpenMP.");
  m.def("max_threads", &tunelab::max_threads, "The number of threads num_threads=None uses.");
  tb::bind_rng(m);
  tb::bind_stream(m);
  tb::bind_optim(m);
  tb::bind_quadratic(m);
  tb::bind_curvature(m);
  tb::bind_lr_range(m);
  tb::bind_rank(m);
  tb::bind_transfer(m);
  tb::bind_scaling(m);
  tb::bind_early_stop(m);
  tb::bind_sobol(m);
}
