// bind_early_stop: exact first-passage law and Monte Carlo histograms of stopping rules.
#include <cstdlib>
#include <new>
#include <optional>

#include "common.hpp"
#include "tunelab/early_stop.hpp"

namespace tunelab::bind {

namespace {

// An epoch from early_stop::ideal_epoch as Python sees it: None for 0 (the gap never crosses).
std::optional<std::int64_t> epoch_or_none(std::int64_t epoch) {
  if (epoch > 0) return epoch;
  return std::nullopt;
}

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

// The exact law and its summary in one call: (pmf, p_never, mean, std, quantiles, ideal_epoch).
py::tuple exact_law(in_array<double> gap, double threshold, double sigma, in_array<double> levels, int num_threads) {
  require_ndim("gap", gap, 1);
  require_ndim("levels", levels, 1);
  const std::int64_t n = gap.shape(0), n_levels = levels.shape(0);
  // The pmf is calloc'ed and only its nonzero entries are written: most of a long horizon's pmf
  // is exactly 0, and fresh zero pages that are never touched cost no page fault here.
  void* raw = std::calloc(static_cast<std::size_t>(std::max<std::int64_t>(n, 1)), sizeof(double));
  if (raw == nullptr) throw std::bad_alloc();
  py::capsule owner(raw, [](void* q) { std::free(q); });
  py::array_t<double> pmf({static_cast<py::ssize_t>(n)}, {static_cast<py::ssize_t>(sizeof(double))},
                          static_cast<double*>(raw), owner);
  auto quantiles = empty<double>({static_cast<py::ssize_t>(n_levels)});
  double p_never = 0.0;
  early_stop::PmfSummary summary;
  std::int64_t ideal = 0;
  {
    const double* g = gap.data();
    double* p = pmf.mutable_data();
    double* qu = quantiles.mutable_data();
    const double* lv = levels.data();
    py::gil_scoped_release release;
    early_stop::Support support;
    early_stop::exact_first_passage_head(g, n, threshold, sigma, p, &p_never, &support, num_threads, true);
    summary = early_stop::pmf_moments(p, n, support);
    early_stop::pmf_quantiles(p, support, lv, n_levels, qu);
    ideal = early_stop::ideal_epoch(g, n, threshold);
  }
  return py::make_tuple(pmf, p_never, summary.mean, summary.std, quantiles, epoch_or_none(ideal));
}

// E* of the gap rule (1-based), None if the expected gap never exceeds the threshold.
std::optional<std::int64_t> ideal_epoch(in_array<double> gap, double threshold) {
  require_ndim("gap", gap, 1);
  const std::int64_t n = gap.shape(0);
  std::int64_t epoch = 0;
  {
    const double* g = gap.data();
    py::gil_scoped_release release;
    epoch = early_stop::ideal_epoch(g, n, threshold);
  }
  return epoch_or_none(epoch);
}

// (mean, std, quantiles) of any pmf over epochs 1..n (the Monte Carlo laws use it too); without
// moments only the quantiles are computed: (None, None, quantiles).
py::tuple pmf_summary(in_array<double> pmf, in_array<double> levels, bool moments) {
  require_ndim("pmf", pmf, 1);
  require_ndim("levels", levels, 1);
  const std::int64_t n = pmf.shape(0), n_levels = levels.shape(0);
  auto quantiles = empty<double>({static_cast<py::ssize_t>(n_levels)});
  early_stop::PmfSummary summary;
  {
    const double* p = pmf.data();
    double* qu = quantiles.mutable_data();
    const double* lv = levels.data();
    py::gil_scoped_release release;
    const early_stop::Support support = early_stop::support_of(p, n);
    if (moments) summary = early_stop::pmf_moments(p, n, support);
    early_stop::pmf_quantiles(p, support, lv, n_levels, qu);
  }
  if (!moments) return py::make_tuple(py::none(), py::none(), quantiles);
  return py::make_tuple(summary.mean, summary.std, quantiles);
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
  m.def("exact_law", &exact_law, py::arg("gap"), py::arg("threshold"), py::arg("sigma"), py::arg("levels"),
        py::arg("num_threads"),
        "Exact law of the gap rule with its summary: (pmf, p_never, mean, std, quantiles at levels, ideal_epoch "
        "or None); see tunelab.stopping_distribution.");
  m.def("ideal_epoch", &ideal_epoch, py::arg("gap"), py::arg("threshold"),
        "E* = first epoch (1-based) whose expected gap exceeds the threshold, or None; see "
        "tunelab.stopping_distribution.");
  m.def("pmf_summary", &pmf_summary, py::arg("pmf"), py::arg("levels"), py::arg("moments") = true,
        "(mean, std, quantiles at levels) of a stop-epoch pmf over epochs 1..n, as NumPy's pairwise sums give them "
        "(mean and std None, not computed, with moments=False); see tunelab.StoppingDistribution.");
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
