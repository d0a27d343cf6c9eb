// bind_quadratic: one chunk of the fused noisy-quadratic simulation (see tunelab.simulate_quadratic).
#include <optional>

#include "common.hpp"
#include "tunelab/quadratic.hpp"

namespace tunelab::bind {

namespace {

// A (1, d) or (count, d) array: row stride 0 (shared) or d.
std::int64_t row_stride(const char* name, const in_array<double>& a, py::ssize_t count, py::ssize_t d) {
  require_ndim(name, a, 2);
  if (a.shape(1) != d || (a.shape(0) != 1 && a.shape(0) != count))
    throw std::invalid_argument(std::string(name) + " must have shape (1, d) or (count, d); got " + shape_str(a));
  return a.shape(0) == 1 ? 0 : static_cast<std::int64_t>(d);
}

template <class A>
auto col(const char* name, const A& a, py::ssize_t count) {
  require_shape(name, a, {count}, "(count,)");
  return a.data();
}

py::dict simulate(const quadratic::Options& o, in_array<double> h, in_array<double> x0, in_array<double> lr,
                  in_array<double> momentum, in_array<double> dampening, in_array<double> beta1,
                  in_array<double> beta2, in_array<double> eps, in_array<double> weight_decay,
                  std::optional<in_array<double>> max_grad_norm, in_array<double> noise_std,
                  in_array<std::int64_t> batch_size, in_array<std::int64_t> accum_steps, std::uint64_t key,
                  std::int64_t first, std::int64_t count, int num_threads) {
  if (count < 0) throw std::invalid_argument("count must be >= 0");
  const py::ssize_t n = static_cast<py::ssize_t>(count);
  require_ndim("h", h, 2);
  const py::ssize_t d = h.shape(1);
  quadratic::Problem pb{h.data(), row_stride("h", h, n, d), x0.data(), row_stride("x0", x0, n, d), d};
  quadratic::Params p;
  p.hyper.lr = col("lr", lr, n);
  p.hyper.momentum = col("momentum", momentum, n);
  p.hyper.dampening = col("dampening", dampening, n);
  p.hyper.beta1 = col("betas", beta1, n);
  p.hyper.beta2 = col("betas", beta2, n);
  p.hyper.eps = col("eps", eps, n);
  p.hyper.weight_decay = col("weight_decay", weight_decay, n);
  p.hyper.max_norm = max_grad_norm ? col("max_grad_norm", *max_grad_norm, n) : nullptr;
  p.noise_std = col("noise_std", noise_std, n);
  p.batch_size = col("batch_size", batch_size, n);
  p.accum_steps = col("accum_steps", accum_steps, n);

  const py::ssize_t K = static_cast<py::ssize_t>(o.steps / o.record_every);  // QuadraticOptions are checked
  const py::ssize_t nb = static_cast<py::ssize_t>((count + o.grain - 1) / o.grain);
  auto final_loss = empty<double>({n});
  auto diverged = empty<bool>({n});
  auto diverged_step = empty<std::int64_t>({n});
  auto mean_lr = empty<double>({n});
  auto loss_n = empty<std::int64_t>({nb, K + 1});
  auto loss_mean = empty<double>({nb, K + 1});
  auto loss_m2 = empty<double>({nb, K + 1});
  auto lr_n = empty<std::int64_t>({nb, K});
  auto lr_mean = empty<double>({nb, K});
  auto lr_m2 = empty<double>({nb, K});
  quadratic::Output out{final_loss.mutable_data(),
                        reinterpret_cast<std::uint8_t*>(diverged.mutable_data()),
                        diverged_step.mutable_data(),
                        mean_lr.mutable_data(),
                        loss_n.mutable_data(),
                        loss_mean.mutable_data(),
                        loss_m2.mutable_data(),
                        lr_n.mutable_data(),
                        lr_mean.mutable_data(),
                        lr_m2.mutable_data()};
  {
    py::gil_scoped_release release;
    quadratic::simulate(pb, p, o, key, first, count, out, num_threads);
  }
  py::dict res;
  res["final_loss"] = final_loss;
  res["diverged"] = diverged;
  res["diverged_step"] = diverged_step;
  res["mean_lr"] = mean_lr;
  res["loss_n"] = loss_n;
  res["loss_mean"] = loss_mean;
  res["loss_m2"] = loss_m2;
  res["lr_n"] = lr_n;
  res["lr_mean"] = lr_mean;
  res["lr_m2"] = lr_m2;
  return res;
}

}  // namespace

void bind_quadratic(py::module_& m) {
  py::enum_<quadratic::Noise>(m, "Noise", "Gradient noise of the noisy quadratic.")
      .value("gaussian", quadratic::Noise::gaussian)
      .value("student_t", quadratic::Noise::student_t);
  using quadratic::Options;
  py::class_<Options>(m, "QuadraticOptions", "The scalar options of simulate_quadratic, checked when made.")
      .def(py::init([](optim::Kind optimizer, bool nesterov, quadratic::Noise noise, double dof, std::int64_t steps,
                       std::int64_t record_every, std::int64_t grain, double max_loss) {
             const Options o{optimizer, nesterov, noise, dof, steps, record_every, grain, max_loss};
             quadratic::check(o);
             return o;
           }),
           py::kw_only(), py::arg("optimizer"), py::arg("nesterov"), py::arg("noise"), py::arg("dof"),
           py::arg("steps"), py::arg("record_every"), py::arg("grain"), py::arg("max_loss"))
      .def_readonly("optimizer", &Options::optimizer)
      .def_readonly("nesterov", &Options::nesterov)
      .def_readonly("noise", &Options::noise)
      .def_readonly("dof", &Options::dof)
      .def_readonly("steps", &Options::steps)
      .def_readonly("record_every", &Options::record_every)
      .def_readonly("grain", &Options::grain)
      .def_readonly("max_loss", &Options::max_loss);
  m.def("simulate_quadratic", &simulate, py::arg("options"), py::kw_only(), py::arg("h"), py::arg("x0"),
        py::arg("lr"), py::arg("momentum"), py::arg("dampening"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
        py::arg("weight_decay"), py::arg("max_grad_norm").none(true), py::arg("noise_std"), py::arg("batch_size"),
        py::arg("accum_steps"), py::arg("key"), py::arg("first"), py::arg("count"), py::arg("num_threads"),
        "One chunk of replicas of the noisy-quadratic simulation; see tunelab.simulate_quadratic.");
}

}  // namespace tunelab::bind
