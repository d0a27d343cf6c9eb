// bind_rank: all-pairs Spearman matrices (ranks with ties as averages).
#include "common.hpp"
#include "tunelab/rank.hpp"

#include <memory>

namespace tunelab::bind {

namespace {

// X is 2-d; axis 0: columns are the variables (SciPy's default), axis 1: rows are.
py::tuple spearman(in_array<double> x, int axis, int num_threads) {
  require_ndim("X", x, 2);
  if (axis != 0 && axis != 1) throw std::invalid_argument("axis must be 0 or 1; got " + std::to_string(axis));
  const std::int64_t rows = x.shape(0), cols = x.shape(1);
  rank::SpearmanOptions opt;
  if (axis == 0) {
    opt.n_vars = cols;
    opt.n_obs = rows;
    opt.var_stride = 1;
    opt.obs_stride = cols;
  } else {
    opt.n_vars = rows;
    opt.n_obs = cols;
    opt.var_stride = cols;
    opt.obs_stride = 1;
  }
  if (opt.n_vars < 1) throw std::invalid_argument("X must have at least 1 variable; got shape " + shape_str(x));
  if (opt.n_obs < 2) throw std::invalid_argument("X must have at least 2 observations; got shape " + shape_str(x));
  const auto T = static_cast<py::ssize_t>(opt.n_vars);
  auto rho = empty<double>({T, T});
  auto constant = empty<std::uint8_t>({T});
  // Every element is written before it is read: no need to zero it.
  std::unique_ptr<double[]> scratch(new double[static_cast<std::size_t>(opt.n_vars * opt.n_obs)]);
  const double* px = x.data();
  double* pr = rho.mutable_data();
  std::uint8_t* pc = constant.mutable_data();
  {
    py::gil_scoped_release release;
    rank::spearman_matrix(px, opt, scratch.get(), pr, pc, num_threads);
  }
  return py::make_tuple(rho, constant);
}

py::array_t<double> centred_ranks(in_array<double> x) {
  require_ndim("x", x, 1);
  const auto n = static_cast<std::size_t>(x.shape(0));
  auto out = empty<double>({x.shape(0)});
  rank::RankScratch w;
  const double* px = x.data();
  double* po = out.mutable_data();
  {
    py::gil_scoped_release release;
    rank::centred_ranks(px, 1, n, po, w);
  }
  return out;
}

}  // namespace

void bind_rank(py::module_& m) {
  m.def("spearman_matrix", &spearman, py::arg("X"), py::arg("axis"), py::arg("num_threads"),
        "Spearman matrix and constant-variable flags; see tunelab.spearman_matrix.");
  m.def("centred_ranks", &centred_ranks, py::arg("x"),
        "Doubled, centred average ranks 2r - (n + 1); see tunelab.rankdata.");
}

}  // namespace tunelab::bind
