// The noisy-quadratic laboratory: R replicas of f(w) = 1/2 sum_i h_i w_i^2 trained by SGD (with
// momentum, Nesterov, coupled weight decay), Adam or AdamW, with gradient noise drawn inside the
// kernel, gradient accumulation and per-replica global-norm clipping - the update rules of
// optim.hpp, in double precision, fused over all steps so that memory does not grow with them.
//
// One step of replica r (hyperparameters are per replica):
//   g_i = h_i w_i + (sigma / sqrt(b)) * (1/A) * sum_{a<A} z_{a,i}     (A micro-batches of size b)
//   then clipping and the optimizer update of optim.hpp; the loss after the update decides
//   divergence (non-finite, or |loss| above max_loss): the replica stops there and is flagged.
// Noise z: "gaussian" - one standard normal per coordinate per micro-batch. The mean of b
//   per-sample N(0, sigma^2) noises is exactly N(0, sigma^2 / b) in law, so drawing one normal
//   scaled by 1/sqrt(b) is exact, and A micro-batches of b average to N(0, sigma^2/(A b)):
//   accumulation A x b equals one batch A*b in law.
// "student_t" - one Student-t variate with nu degrees of freedom per coordinate per micro-batch,
//   scaled by sqrt((nu - 2) / nu) to unit variance (Bailey's polar method, Math. Comp. 62, 1994).
//   The micro-batch noise is modelled as heavy-tailed directly (variance sigma^2 / b, tail index
//   nu); accumulation then matches one batch A*b in mean and variance, not in law.
// Random numbers: stream = global replica index (first + r), consumed sequentially in the order
// (step, micro-batch, coordinate); so results are bit-identical for any threads or chunking.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "tunelab/optim.hpp"
#include "tunelab/parallel.hpp"
#include "tunelab/rng.hpp"

namespace tunelab::quadratic {

enum class Noise { gaussian, student_t };

struct Options {
  optim::Kind optimizer = optim::Kind::sgd;
  bool nesterov = false;
  Noise noise = Noise::gaussian;
  double dof = 3.0;  // student_t degrees of freedom (> 2)
  std::int64_t steps = 1;
  std::int64_t record_every = 1;
  std::int64_t grain = 32;  // replicas per statistics block
  double max_loss = std::numeric_limits<double>::infinity();
};

// Per-replica arrays of the chunk, each (count,). max_norm may be null (no clipping).
struct Params {
  optim::Hyper hyper;
  const double* noise_std = nullptr;
  const std::int64_t* batch_size = nullptr;
  const std::int64_t* accum_steps = nullptr;
};

struct Problem {
  const double* h;           // row r at h + r * h_stride (stride 0: one h for all)
  std::int64_t h_stride;
  const double* x0;          // row r at x0 + r * x0_stride
  std::int64_t x0_stride;
  std::int64_t d;
};

// Outputs. Per replica (count,): final loss (inf if diverged), diverged flag, step at which it
// diverged (-1 if not), mean effective learning rate over the updates it took. Per block of
// `grain` replicas and record k (records at steps k * record_every, k = 0..K): count, mean and
// sum of squared deviations (Welford, replicas in order) of the loss over the block's replicas
// that did not diverge; (nblocks, K + 1). The same for the effective learning rate averaged over
// the window of updates (t_{k-1}, t_k], k = 1..K: (nblocks, K).
struct Output {
  double* final_loss;
  std::uint8_t* diverged;
  std::int64_t* diverged_step;
  double* mean_lr;
  std::int64_t* loss_n;
  double* loss_mean;
  double* loss_m2;
  std::int64_t* lr_n;
  double* lr_mean;
  double* lr_m2;
};

// Student-t with nu degrees of freedom by Bailey's polar method: (U, V) uniform on the unit
// disc, W = U^2 + V^2, T = U sqrt(nu (W^(-2/nu) - 1) / W).
inline double student_t(rng::Stream& s, double nu) noexcept {
  for (;;) {
    const double u = 2.0 * s.uniform() - 1.0;
    const double v = 2.0 * s.uniform() - 1.0;
    const double w = u * u + v * v;
    if (w > 0.0 && w < 1.0) return u * std::sqrt(nu * (std::pow(w, -2.0 / nu) - 1.0) / w);
  }
}

// The options alone (they also size the outputs: steps / record_every records, blocks of grain).
inline void check(const Options& o) {
  if (o.steps < 1) throw std::invalid_argument("steps must be >= 1");
  if (o.record_every < 1) throw std::invalid_argument("record_every must be >= 1");
  if (o.grain < 1) throw std::invalid_argument("grain must be >= 1");
  if (o.noise == Noise::student_t && !(o.dof > 2.0 && std::isfinite(o.dof)))
    throw std::invalid_argument("dof must be finite and > 2 (the noise variance must exist)");
  if (!(o.max_loss > 0.0)) throw std::invalid_argument("max_loss must be > 0");
}

inline void check(const Problem& pb, const Params& p, const Options& o, std::int64_t first, std::int64_t count) {
  if (pb.d < 1) throw std::invalid_argument("h must have at least one coordinate");
  check(o);
  if (first < 0 || first % o.grain != 0) throw std::invalid_argument("first must be a non-negative multiple of grain");
  if (count < 0) throw std::invalid_argument("count must be >= 0");
  optim::check_hyper(o.optimizer, p.hyper, count);
  if (o.optimizer == optim::Kind::sgd && o.nesterov) {  // torch's constructor check (hyperparameters are constant here)
    for (std::int64_t r = 0; r < count; ++r)
      if (p.hyper.momentum[r] <= 0.0 || p.hyper.dampening[r] != 0.0)
        throw std::invalid_argument("nesterov needs momentum > 0 and dampening = 0");
  }
  for (std::int64_t r = 0; r < count; ++r) {
    if (!(p.noise_std[r] >= 0.0) || !std::isfinite(p.noise_std[r]))
      throw std::invalid_argument("noise_std must be finite and >= 0");
    if (p.batch_size[r] < 1) throw std::invalid_argument("batch_size must be >= 1");
    if (p.accum_steps[r] < 1) throw std::invalid_argument("accum_steps must be >= 1");
  }
  for (std::int64_t r = 0; r < (pb.h_stride ? count : 1); ++r)
    for (std::int64_t i = 0; i < pb.d; ++i)
      if (!std::isfinite(pb.h[r * pb.h_stride + i])) throw std::invalid_argument("h must be finite");
}

// Gaussian noise draws are made ahead, up to this many per bulk fill: a step's A * d draws are
// the next ones of the replica's stream either way, so the bits are those of a fill per
// micro-batch, while one fill of 2048 draws costs less per draw than 128 fills of 16 (the AVX2
// Philox and ziggurat work in batches). Steps needing more than this draw as they go.
constexpr std::int64_t kNoiseAhead = 2048;

// Simulate replicas [first, first + count) (global indices; first a multiple of grain).
inline void simulate(const Problem& pb, const Params& p, const Options& o, std::uint64_t key, std::int64_t first,
                     std::int64_t count, const Output& out, int threads) {
  check(pb, p, o, first, count);
  const std::int64_t d = pb.d, K = o.steps / o.record_every, nblocks = (count + o.grain - 1) / o.grain;
  const rng::Key k = rng::split_key(key);
  const optim::Hyper& hp = p.hyper;
  const bool adam = o.optimizer != optim::Kind::sgd, decoupled = o.optimizer == optim::Kind::adamw;
  const double t_scale = o.noise == Noise::student_t ? std::sqrt((o.dof - 2.0) / o.dof) : 1.0;

  parallel_for(nblocks, threads, [&](std::int64_t blk) {
    std::vector<double> scratch(static_cast<std::size_t>(6 * d + 2 * K + 1 + kNoiseAhead));
    double* w = scratch.data();
    double* g = w + d;
    double* s1 = g + d;  // momentum buffer / exp_avg
    double* s2 = s1 + d;  // exp_avg_sq
    double* z = s2 + d;   // noise draws, then their sum over micro-batches
    double* zt = z + d;   // the draws of micro-batches 2..A
    double* rec = zt + d;  // K + 1 recorded losses
    double* lrw = rec + K + 1;  // K window-mean effective rates
    double* ahead = lrw + K;    // Gaussian draws made ahead (kNoiseAhead)
    std::int64_t* bn = out.loss_n + blk * (K + 1);
    double* bm = out.loss_mean + blk * (K + 1);
    double* bq = out.loss_m2 + blk * (K + 1);
    std::int64_t* ln = out.lr_n + blk * K;
    double* lm = out.lr_mean + blk * K;
    double* lq = out.lr_m2 + blk * K;
    for (std::int64_t j = 0; j <= K; ++j) bn[j] = 0, bm[j] = 0.0, bq[j] = 0.0;
    for (std::int64_t j = 0; j < K; ++j) ln[j] = 0, lm[j] = 0.0, lq[j] = 0.0;

    const std::int64_t r1 = std::min(count, (blk + 1) * o.grain);
    for (std::int64_t r = blk * o.grain; r < r1; ++r) {
      rng::Stream s(k, static_cast<std::uint64_t>(first + r));
      const double* h = pb.h + r * pb.h_stride;
      const double* x0 = pb.x0 + r * pb.x0_stride;
      for (std::int64_t i = 0; i < d; ++i) w[i] = x0[i], s1[i] = 0.0, s2[i] = 0.0;
      double acc = 0.0;
      for (std::int64_t i = 0; i < d; ++i) acc += h[i] * w[i] * w[i];
      double loss = 0.5 * acc;
      rec[0] = loss;
      const double lr = hp.lr[r], wd = hp.weight_decay[r];
      const double cmax = hp.max_norm ? hp.max_norm[r] : std::numeric_limits<double>::infinity();
      const std::int64_t A = p.accum_steps[r];
      const double sigma = p.noise_std[r];
      const double nscale = sigma / std::sqrt(static_cast<double>(p.batch_size[r])) * t_scale / static_cast<double>(A);
      const std::int64_t per_step = A * d, steps_ahead = kNoiseAhead / per_step;  // 0: draw as we go
      std::int64_t drawn = 0, used = 0;  // draws in `ahead` and those consumed
      const double mu = adam ? 0.0 : hp.momentum[r], omd = adam ? 0.0 : 1.0 - hp.dampening[r];
      const double b1 = adam ? hp.beta1[r] : 0.0, b2 = adam ? hp.beta2[r] : 0.0;
      double b1t = 1.0, b2t = 1.0, lr_total = 0.0, lr_win = 0.0;
      std::int64_t updates = 0;
      std::int64_t div_step = -1;
      bool bad = !(std::abs(loss) <= o.max_loss);
      if (bad) div_step = 0;
      for (std::int64_t t = 1; t <= o.steps && !bad; ++t) {
        for (std::int64_t i = 0; i < d; ++i) g[i] = h[i] * w[i];
        if (sigma > 0.0) {
          if (o.noise == Noise::gaussian && steps_ahead > 0) {
            if (used == drawn) {
              drawn = std::min(steps_ahead, o.steps - t + 1) * per_step;
              s.fill_normal(ahead, drawn);
              used = 0;
            }
            const double* zs = ahead + used;
            used += per_step;
            for (std::int64_t i = 0; i < d; ++i) z[i] = zs[i];
            for (std::int64_t a = 1; a < A; ++a)
              for (std::int64_t i = 0; i < d; ++i) z[i] += zs[a * d + i];
          } else if (o.noise == Noise::gaussian) {
            s.fill_normal(z, d);
            for (std::int64_t a = 1; a < A; ++a) {
              s.fill_normal(zt, d);
              for (std::int64_t i = 0; i < d; ++i) z[i] += zt[i];
            }
          } else {
            for (std::int64_t i = 0; i < d; ++i) z[i] = student_t(s, o.dof);
            for (std::int64_t a = 1; a < A; ++a)
              for (std::int64_t i = 0; i < d; ++i) z[i] += student_t(s, o.dof);
          }
          for (std::int64_t i = 0; i < d; ++i) g[i] = g[i] + nscale * z[i];
        }
        // The optimizer's baseline row bodies, inlined: at these small d a dispatched call per step
        // costs more than AVX2 saves (bench quadratic, d = 16).
        const double ss = optim::sum_squares_body(g, d);
        if (!std::isfinite(ss)) {
          bad = true;
          div_step = t;
          break;
        }
        const double coef = optim::clip_coef(std::sqrt(ss), cmax);
        if (adam) {
          b1t *= b1;
          b2t *= b2;
          const auto sc = optim::adam_scalars<double>(coef, lr, b1, b2, hp.eps[r], wd, decoupled, 1.0 - b1t, 1.0 - b2t);
          optim::adam_row_body<double>(w, g, s1, s2, d, sc, decoupled, nullptr);
        } else {
          // Hyperparameters are constant over the run, so torch creates the buffer at step 1
          // exactly when mu != 0 (sgd_row reads `first` only then).
          optim::sgd_row_body<double>(w, g, s1, d, coef, lr, wd, mu, omd, o.nesterov, mu != 0.0, t == 1, nullptr);
        }
        const double eff = lr * coef;
        ++updates;
        lr_total += eff;
        lr_win += eff;
        acc = 0.0;
        for (std::int64_t i = 0; i < d; ++i) acc += h[i] * w[i] * w[i];
        loss = 0.5 * acc;
        if (!(std::abs(loss) <= o.max_loss)) {  // also catches NaN; |loss|: negative h is unbounded below
          bad = true;
          div_step = t;
          break;
        }
        if (t % o.record_every == 0) {
          const std::int64_t kk = t / o.record_every;
          rec[kk] = loss;
          lrw[kk - 1] = lr_win / static_cast<double>(o.record_every);
          lr_win = 0.0;
        }
      }
      out.mean_lr[r] = updates > 0 ? lr_total / static_cast<double>(updates) : 0.0;
      out.diverged[r] = bad ? 1 : 0;
      out.diverged_step[r] = div_step;
      out.final_loss[r] = bad ? std::numeric_limits<double>::infinity() : loss;
      if (bad) continue;
      for (std::int64_t j = 0; j <= K; ++j) {  // Welford over the block's surviving replicas
        const std::int64_t n = ++bn[j];
        const double delta = rec[j] - bm[j];
        bm[j] += delta / static_cast<double>(n);
        bq[j] += delta * (rec[j] - bm[j]);
      }
      for (std::int64_t j = 0; j < K; ++j) {
        const std::int64_t n = ++ln[j];
        const double delta = lrw[j] - lm[j];
        lm[j] += delta / static_cast<double>(n);
        lq[j] += delta * (lrw[j] - lm[j]);
      }
    }
  });
}

}  // namespace tunelab::quadratic
