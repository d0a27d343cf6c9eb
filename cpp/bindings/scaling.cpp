// bind_scaling: the built-in batch-size scaling objective (SGD on a noisy quadratic).
#include "common.hpp"
#include "tunelab/scaling.hpp"

namespace tunelab::bind {

namespace {

py::array_t<double> sgd_quadratic(in_array<double> sizes, in_array<double> batches, in_array<std::uint64_t> seeds,
                                  std::int64_t dim, double spectrum_exponent, double init_exponent, double lr,
                                  double noise, double epochs, double avg_fraction, std::uint64_t key, int num_threads) {
  require_ndim("dataset_sizes", sizes, 1);
  require_ndim("batch_sizes", batches, 1);
  require_ndim("seeds", seeds, 1);
  scaling::SGDQuadraticOptions opt;
  opt.dim = dim;
  opt.spectrum_exponent = spectrum_exponent;
  opt.init_exponent = init_exponent;
  opt.lr = lr;
  opt.noise = noise;
  opt.epochs = epochs;
  opt.avg_fraction = avg_fraction;
  auto out = empty<double>({sizes.shape(0), batches.shape(0), seeds.shape(0)});
  const double *pn = sizes.data(), *pb = batches.data();
  const std::uint64_t* ps = seeds.data();
  double* po = out.mutable_data();
  const std::int64_t nn = sizes.shape(0), nb = batches.shape(0), ns = seeds.shape(0);
  {
    py::gil_scoped_release release;
    scaling::sgd_quadratic(pn, nn, pb, nb, ps, ns, opt, key, po, num_threads);
  }
  return out;
}

}  // namespace

void bind_scaling(py::module_& m) {
  m.def("sgd_quadratic_scores", &sgd_quadratic, py::arg("dataset_sizes"), py::arg("batch_sizes"), py::arg("seeds"),
        py::arg("dim"), py::arg("spectrum_exponent"), py::arg("init_exponent"), py::arg("lr"), py::arg("noise"),
        py::arg("epochs"), py::arg("avg_fraction"), py::arg("key"), py::arg("num_threads"),
        "Final losses of SGD on the power-law noisy quadratic; see tunelab.SGDQuadraticObjective.");
}

}  // namespace tunelab::bind
