// Counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random
// numbers: as easy as 1, 2, 3", SC'11). A draw is a pure function of (key, stream, slot):
//   key    - 64 bits drawn once per call from the user's rng (SPEC 7),
//   stream - the global replica (or resample) index, never a thread id,
//   slot   - the position of the block inside the stream (e.g. step * blocks_per_step + j).
// So results are bit-identical for any thread count, any chunking and any machine that
// implements IEEE-754 double arithmetic and a correctly rounded sqrt (log/sin/cos come from
// libm, whose last-bit behaviour can differ between C libraries).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace tunelab::rng {

using Block = std::array<std::uint32_t, 4>;
using Key = std::array<std::uint32_t, 2>;

namespace detail {
constexpr std::uint32_t kMul0 = 0xD2511F53u;
constexpr std::uint32_t kMul1 = 0xCD9E8D57u;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9u;
constexpr std::uint32_t kWeyl1 = 0xBB67AE85u;

inline void round(Block& c, const Key& k) noexcept {
  const std::uint64_t p0 = static_cast<std::uint64_t>(kMul0) * c[0];
  const std::uint64_t p1 = static_cast<std::uint64_t>(kMul1) * c[2];
  const auto hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
  const auto hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
  c = Block{hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
}
}  // namespace detail

// The Philox4x32 block function with R rounds (10 is the published, Crush-resistant choice).
template <int R = 10>
inline Block philox4x32(Block ctr, Key key) noexcept {
  for (int r = 0; r < R; ++r) {
    if (r > 0) {
      key[0] += detail::kWeyl0;
      key[1] += detail::kWeyl1;
    }
    detail::round(ctr, key);
  }
  return ctr;
}

inline Key split_key(std::uint64_t key) noexcept {
  return Key{static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)};
}

inline Block counter(std::uint64_t stream, std::uint64_t slot) noexcept {
  return Block{static_cast<std::uint32_t>(slot), static_cast<std::uint32_t>(slot >> 32),
               static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)};
}

// 53 random bits -> a double in [0, 1).
inline double to_unit(std::uint32_t hi, std::uint32_t lo) noexcept {
  const std::uint64_t bits = (static_cast<std::uint64_t>(hi) << 32 | lo) >> 11;
  return static_cast<double>(bits) * 0x1.0p-53;
}

// Two uniforms in [0, 1) from one block.
inline std::array<double, 2> uniform_pair(const Block& b) noexcept {
  return {to_unit(b[0], b[1]), to_unit(b[2], b[3])};
}

// Two independent standard normals from one block (Box-Muller). u1 is taken in (0, 1] so the
// logarithm is finite: the largest |z| is sqrt(-2 log 2^-53) ~ 8.57.
inline std::array<double, 2> normal_pair(const Block& b) noexcept {
  constexpr double two_pi = 6.283185307179586476925286766559;
  const double u1 = 1.0 - to_unit(b[0], b[1]);
  const double u2 = to_unit(b[2], b[3]);
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double t = two_pi * u2;
  return {r * std::cos(t), r * std::sin(t)};
}

// A sequential view of one stream: the n-th call of next_*() reads block n / 2 (two values per
// block). Kernels that need draws addressed by (step, variable) call seek(slot) first.
class Stream {
 public:
  Stream(Key key, std::uint64_t stream, std::uint64_t slot = 0) noexcept
      : key_(key), stream_(stream), slot_(slot) {}

  void seek(std::uint64_t slot) noexcept {
    slot_ = slot;
    have_ = false;
    have_uniform_ = false;
  }

  Block next_block() noexcept { return philox4x32(counter(stream_, slot_++), key_); }

  double uniform() noexcept {
    if (have_uniform_) {
      have_uniform_ = false;
      return spare_uniform_;
    }
    const auto u = uniform_pair(next_block());
    spare_uniform_ = u[1];
    have_uniform_ = true;
    return u[0];
  }

  double normal() noexcept {
    if (have_) {
      have_ = false;
      return spare_;
    }
    const auto z = normal_pair(next_block());
    spare_ = z[1];
    have_ = true;
    return z[0];
  }

  // Fill n standard normals; identical to n calls of normal() from the same position.
  void fill_normal(double* out, std::int64_t n) noexcept {
    std::int64_t i = 0;
    if (have_ && n > 0) {
      out[i++] = spare_;
      have_ = false;
    }
    for (; i + 1 < n; i += 2) {
      const auto z = normal_pair(next_block());
      out[i] = z[0];
      out[i + 1] = z[1];
    }
    if (i < n) out[i] = normal();
  }

  // Rademacher signs (+1/-1), 128 per block.
  void fill_rademacher(double* out, std::int64_t n) noexcept {
    for (std::int64_t i = 0; i < n; i += 128) {
      const Block b = next_block();
      const std::int64_t m = n - i < 128 ? n - i : 128;
      for (std::int64_t j = 0; j < m; ++j) {
        const std::uint32_t word = b[static_cast<std::size_t>(j >> 5)];
        out[i + j] = (word >> (j & 31)) & 1u ? 1.0 : -1.0;
      }
    }
  }

 private:
  Key key_;
  std::uint64_t stream_;
  std::uint64_t slot_;
  double spare_ = 0.0;
  bool have_ = false;
  double spare_uniform_ = 0.0;
  bool have_uniform_ = false;
};

}  // namespace tunelab::rng
