// bind_early_stop: exact first-passage law and Monte Carlo histograms of stopping rules.
#include "common.hpp"
#include "tunelab/early_stop.hpp"

namespace tunelab::bind {

namespace {

py::tuple exact_first_passage(in_array<double> gap, double threshold, double sigma, int num_threads) {
  require_ndim("gap", gap, 1);
  const std::int64_t n = gap.shape(0);
  auto pmf = empty<double>({static_cast<py::ssize_t>(n)});
  double p_never = 0.0;
  {
    const double* g = gap.data();
    double* p = pmf.mutable_data();
    py::gil_scoped_release release;
    early_stop::exact_first_passage(g, n, threshold, sigma, p, &p_never, num_threads);
  }
  return py::make_tuple(pmf, p_never);
}

py::array_t<std::int64_t> first_passage_counts(in_array<double> q, std::uint64_t key, std::int64_t first,
                                               std::int64_t n_rep, int num_threads) {
  require_ndim("q", q, 1);
  const std::int64_t n = q.shape(0);
  auto counts = empty<std::int64_t>({static_cast<py::ssize_t>(n + 1)});
  std::fill(counts.mutable_data(), counts.mutable_data() + n + 1, std::int64_t{0});
  {
    const double* qp = q.data();
    std::int64_t* c = counts.mutable_data();
    py::gil_scoped_release release;
    early_stop::first_passage_counts(qp, n, key, first, n_rep, c, num_threads);
  }
  return counts;
}

py::array_t<std::int64_t> gap_rule_ar1_counts(in_array<double> gap, double threshold, double sigma, double rho,
                                              std::uint64_t key, std::int64_t first, std::int64_t n_rep,
                                              int num_threads) {
  require_ndim("gap", gap, 1);
  const std::int64_t n = gap.shape(0);
  auto counts = empty<std::int64_t>({static_cast<py::ssize_t>(n + 1)});
  std::fill(counts.mutable_data(), counts.mutable_data() + n + 1, std::int64_t{0});
  {
    const double* g = gap.data();
    std::int64_t* c = counts.mutable_data();
    py::gil_scoped_release release;
    early_stop::gap_rule_ar1_counts(g, n, threshold, sigma, rho, key, first, n_rep, c, num_threads);
  }
  return counts;
}

py::tuple patience_counts(in_array<double> val, std::int64_t patience, double min_delta, double sigma, double rho,
                          bool restore_best, std::uint64_t key, std::int64_t first, std::int64_t n_rep,
                          int num_threads) {
  require_ndim("val", val, 1);
  const std::int64_t n = val.shape(0);
  auto stop = empty<std::int64_t>({static_cast<py::ssize_t>(n + 1)});
  auto restored = empty<std::int64_t>({static_cast<py::ssize_t>(n)});
  std::fill(stop.mutable_data(), stop.mutable_data() + n + 1, std::int64_t{0});
  std::fill(restored.mutable_data(), restored.mutable_data() + n, std::int64_t{0});
  early_stop::PatienceOptions opt;
  opt.patience = patience;
  opt.min_delta = min_delta;
  opt.sigma = sigma;
  opt.rho = rho;
  opt.restore_best = restore_best;
  {
    const double* v = val.data();
    std::int64_t* s = stop.mutable_data();
    std::int64_t* r = restored.mutable_data();
    py::gil_scoped_release release;
    early_stop::patience_counts(v, n, opt, key, first, n_rep, s, r, num_threads);
  }
  return py::make_tuple(stop, restored);
}

}  // namespace

void bind_early_stop(py::module_& m) {
  m.def("exact_first_passage", &exact_first_passage, py::arg("gap"), py::arg("threshold"), py::arg("sigma"),
        py::arg("num_threads"), "Exact law (pmf, p_never) of the gap rule; see tunelab.stopping_distribution.");
  m.def("first_passage_counts", &first_passage_counts, py::arg("q"), py::arg("key"), py::arg("first"),
        py::arg("n_rep"), py::arg("num_threads"),
        "Histogram of first passages with per-epoch stop probabilities q; see tunelab.stopping_distribution.");
  m.def("gap_rule_ar1_counts", &gap_rule_ar1_counts, py::arg("gap"), py::arg("threshold"), py::arg("sigma"),
        py::arg("rho"), py::arg("key"), py::arg("first"), py::arg("n_rep"), py::arg("num_threads"),
        "Histogram of the gap rule's stop epoch under AR(1) noise; see tunelab.stopping_distribution.");
  m.def("patience_counts", &patience_counts, py::arg("val"), py::arg("patience"), py::arg("min_delta"),
        py::arg("sigma"), py::arg("rho"), py::arg("restore_best"), py::arg("key"), py::arg("first"),
        py::arg("n_rep"), py::arg("num_threads"),
        "Histograms of stop and restored epochs of Keras-style patience; see tunelab.patience_stopping.");
}

}  // namespace tunelab::bind
