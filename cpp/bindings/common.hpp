// The one place that includes pybind11. Small helpers every binding uses: read-only input
// views, in-place views, shape checks whose messages name the argument.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tunelab::bind {

namespace py = pybind11;

// Read-only input: converted (once, with the GIL held) to a C-contiguous array of T.
template <class T>
using in_array = py::array_t<T, py::array::c_style | py::array::forcecast>;

// In-place input: must already be C-contiguous T (register with .noconvert()).
template <class T>
using inout_array = py::array_t<T, py::array::c_style>;

inline std::string shape_str(const py::array& a) {
  std::ostringstream os;
  os << '(';
  for (py::ssize_t i = 0; i < a.ndim(); ++i) os << (i ? ", " : "") << a.shape(i);
  if (a.ndim() == 1) os << ',';
  os << ')';
  return os.str();
}

// Throw ValueError "name must have shape (R, d); got (...)". A dimension of -1 matches anything.
inline void require_shape(const char* name, const py::array& a, std::initializer_list<py::ssize_t> shape,
                          const char* symbolic) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(shape.size());
  if (ok) {
    py::ssize_t i = 0;
    for (auto s : shape) {
      if (s >= 0 && a.shape(i) != s) ok = false;
      ++i;
    }
  }
  if (!ok) {
    throw std::invalid_argument(std::string(name) + " must have shape " + symbolic + "; got " + shape_str(a));
  }
}

inline void require_ndim(const char* name, const py::array& a, py::ssize_t ndim) {
  if (a.ndim() != ndim) {
    throw std::invalid_argument(std::string(name) + " must be " + std::to_string(ndim) + "-dimensional; got shape " +
                                shape_str(a));
  }
}

template <class T>
void require_writeable(const char* name, const inout_array<T>& a) {
  if (!a.writeable()) throw std::invalid_argument(std::string(name) + " must be writeable (it is updated in place)");
}

// A new C-contiguous array. Shapes whose byte size does not fit in py::ssize_t are refused
// (pybind11 would compute the strides with a signed overflow): "name is too large".
template <class T>
py::array_t<T> empty(std::vector<py::ssize_t> shape, const char* name = "the output") {
  py::ssize_t bytes = static_cast<py::ssize_t>(sizeof(T));
  for (auto s : shape) {
    if (s < 0) throw std::invalid_argument(std::string(name) + " must not be negative");
    if (s != 0 && bytes > std::numeric_limits<py::ssize_t>::max() / 4 / s)
      throw std::invalid_argument(std::string(name) + " is too large: the output cannot be allocated");
    bytes *= s == 0 ? 1 : s;
  }
  return py::array_t<T>(shape);
}

}  // namespace tunelab::bind
