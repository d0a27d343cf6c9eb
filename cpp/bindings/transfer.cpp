// bind_transfer: grid search of tuned learning rates under the latent-factor model.
#include "common.hpp"
#include "tunelab/transfer.hpp"

namespace tunelab::bind {

namespace {

py::tuple transfer_grid_search(in_array<double> coupling, in_array<double> mu, in_array<double> sigma,
                               in_array<double> log_grid, double eval_noise, std::uint64_t key, std::int64_t first,
                               std::int64_t count, int num_threads) {
  require_ndim("coupling", coupling, 1);
  const py::ssize_t T = coupling.shape(0);
  require_shape("mu", mu, {T}, "(T,)");
  require_shape("sigma", sigma, {T}, "(T,)");
  require_ndim("lr_grid", log_grid, 1);
  if (count < 0) throw std::invalid_argument("count must be >= 0; got " + std::to_string(count));
  transfer::Options opt;
  opt.n_tasks = T;
  opt.n_grid = log_grid.shape(0);
  opt.eval_noise = eval_noise;
  auto tuned = empty<std::int64_t>({T, static_cast<py::ssize_t>(count)});
  auto latent = empty<double>({T, static_cast<py::ssize_t>(count)});
  const double *pc = coupling.data(), *pm = mu.data(), *ps = sigma.data(), *pg = log_grid.data();
  std::int64_t* pt = tuned.mutable_data();
  double* pl = latent.mutable_data();
  {
    py::gil_scoped_release release;
    transfer::grid_search(pc, pm, ps, pg, opt, key, first, count, pt, pl, num_threads);
  }
  return py::make_tuple(tuned, latent);
}

}  // namespace

void bind_transfer(py::module_& m) {
  m.def("transfer_grid_search", &transfer_grid_search, py::arg("coupling"), py::arg("mu"), py::arg("sigma"),
        py::arg("log_grid"), py::arg("eval_noise"), py::arg("key"), py::arg("first"), py::arg("count"),
        py::arg("num_threads"), "Tuned grid indices and latent log-optima; see tunelab.transfer_study.");
}

}  // namespace tunelab::bind
