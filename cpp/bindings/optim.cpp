// bind_optim: batched SGD / Adam / AdamW steps in place (see tunelab.optim).
#include <optional>

#include "common.hpp"
#include "tunelab/optim.hpp"

namespace tunelab::bind {

namespace {

const double* per_replica(const char* name, const std::optional<in_array<double>>& a, py::ssize_t R) {
  if (!a) return nullptr;
  require_shape(name, *a, {R}, "(R,)");
  return a->data();
}

const std::uint8_t* flags(const char* name, const std::optional<in_array<bool>>& a, py::ssize_t R) {
  if (!a) return nullptr;
  require_shape(name, *a, {R}, "(R,)");
  return reinterpret_cast<const std::uint8_t*>(a->data());
}

template <class T>
py::tuple step(optim::Kind kind, inout_array<T> params, in_array<T> grads,
               std::optional<inout_array<T>> state1, std::optional<inout_array<T>> state2,
               inout_array<std::int64_t> steps, std::optional<inout_array<bool>> has_buffer, in_array<double> lr,
               std::optional<in_array<double>> momentum,
               std::optional<in_array<double>> dampening, std::optional<in_array<double>> beta1,
               std::optional<in_array<double>> beta2, std::optional<in_array<double>> eps,
               in_array<double> weight_decay, std::optional<in_array<double>> max_norm,
               std::optional<in_array<bool>> nesterov, std::optional<in_array<bool>> maximize, int num_threads) {
  require_ndim("params", params, 2);
  require_writeable("params", params);
  const py::ssize_t R = params.shape(0), d = params.shape(1);
  require_shape("grads", grads, {R, d}, "(R, d) like params");
  require_shape("steps", steps, {R}, "(R,)");
  require_writeable("steps", steps);
  T* s1 = nullptr;
  T* s2 = nullptr;
  if (state1) {
    require_shape("state", *state1, {R, d}, "(R, d) like params");
    require_writeable("state", *state1);
    s1 = state1->mutable_data();
  }
  if (state2) {
    require_shape("state", *state2, {R, d}, "(R, d) like params");
    require_writeable("state", *state2);
    s2 = state2->mutable_data();
  }
  std::uint8_t* hb = nullptr;
  if (has_buffer) {
    require_shape("has_momentum_buffer", *has_buffer, {R}, "(R,)");
    require_writeable("has_momentum_buffer", *has_buffer);
    hb = reinterpret_cast<std::uint8_t*>(has_buffer->mutable_data());
  }
  if (kind != optim::Kind::sgd && (s1 == nullptr || s2 == nullptr))
    throw std::invalid_argument("state: Adam needs exp_avg and exp_avg_sq");
  optim::Hyper h;
  h.lr = per_replica("lr", lr, R);
  h.momentum = per_replica("momentum", momentum, R);
  h.dampening = per_replica("dampening", dampening, R);
  h.beta1 = per_replica("betas", beta1, R);
  h.beta2 = per_replica("betas", beta2, R);
  h.eps = per_replica("eps", eps, R);
  h.weight_decay = per_replica("weight_decay", weight_decay, R);
  h.max_norm = per_replica("max_grad_norm", max_norm, R);
  h.nesterov = flags("nesterov", nesterov, R);
  h.maximize = flags("maximize", maximize, R);
  auto grad_norm = empty<double>({R});
  auto eff = empty<double>({R});
  auto skipped = empty<bool>({R});
  optim::StepOut out{grad_norm.mutable_data(), eff.mutable_data(),
                     reinterpret_cast<std::uint8_t*>(skipped.mutable_data())};
  T* w = params.mutable_data();
  const T* g = grads.data();
  std::int64_t* st = steps.mutable_data();
  {
    py::gil_scoped_release release;
    optim::step<T>(kind, w, g, s1, s2, st, hb, R, d, h, out, num_threads);
  }
  return py::make_tuple(grad_norm, eff, skipped);
}

template <class T>
void def_step(py::module_& m, const char* name) {
  m.def(name, &step<T>, py::arg("kind"), py::arg("params").noconvert(), py::arg("grads"),
        py::arg("state1").noconvert().none(true), py::arg("state2").noconvert().none(true),
        py::arg("steps").noconvert(), py::arg("has_buffer").noconvert().none(true), py::arg("lr"),
        py::arg("momentum").none(true), py::arg("dampening").none(true),
        py::arg("beta1").none(true), py::arg("beta2").none(true), py::arg("eps").none(true), py::arg("weight_decay"),
        py::arg("max_norm").none(true), py::arg("nesterov").none(true), py::arg("maximize").none(true),
        py::arg("num_threads"),
        "One batched optimizer step in place; see tunelab.optim. Returns (grad_norm, effective_lr, skipped).");
}

}  // namespace

void bind_optim(py::module_& m) {
  py::enum_<optim::Kind>(m, "Optimizer", "The update rule: SGD (momentum, Nesterov), Adam or AdamW.")
      .value("sgd", optim::Kind::sgd)
      .value("adam", optim::Kind::adam)
      .value("adamw", optim::Kind::adamw);
  def_step<float>(m, "optim_step_float32");
  def_step<double>(m, "optim_step_float64");
}

}  // namespace tunelab::bind
