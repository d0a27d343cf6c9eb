// bind_stream: the bandwidth probes of stream.hpp (used by bench/run.py).
#include "common.hpp"
#include "tunelab/stream.hpp"

namespace tunelab::bind {

void bind_stream(py::module_& m) {
  m.def(
      "stream_axpy",
      [](inout_array<double> x, in_array<double> y, double s, int num_threads) {
        require_writeable("x", x);
        if (x.size() != y.size()) throw std::invalid_argument("y must have the size of x");
        double* px = x.mutable_data();
        const double* py_ = y.data();
        const std::int64_t n = x.size();
        py::gil_scoped_release release;
        stream::axpy(px, py_, s, n, num_threads);
      },
      py::arg("x").noconvert(), py::arg("y"), py::arg("s"), py::arg("num_threads"), "x += s*y in place (bench probe).");
  m.def(
      "stream_triad",
      [](inout_array<double> a, in_array<double> b, in_array<double> c, double s, int num_threads) {
        require_writeable("a", a);
        if (a.size() != b.size() || a.size() != c.size()) throw std::invalid_argument("a, b, c must have one size");
        double* pa = a.mutable_data();
        const double *pb = b.data(), *pc = c.data();
        const std::int64_t n = a.size();
        py::gil_scoped_release release;
        stream::triad(pa, pb, pc, s, n, num_threads);
      },
      py::arg("a").noconvert(), py::arg("b"), py::arg("c"), py::arg("s"), py::arg("num_threads"),
      "a = b + s*c (bench probe).");
}

}  // namespace tunelab::bind
