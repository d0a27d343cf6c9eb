// Portable short vectors and run-time dispatch on the x86-64 vector width, for kernels whose
// results must not depend on the CPU.
//
// A kernel is written once as a template over a vector type V of W = 1, 2, 4 or 8 doubles
// (GCC/Clang vector extensions: element-wise IEEE operations; with -ffp-contract=off no fused
// multiply-add, and no reassociation without -ffast-math). TUNELAB_SIMD_DISPATCH instantiates
// it for AVX-512F (W = 8), AVX2 (W = 4) and the baseline (W = 2; W = 1, plain double, without
// GCC/Clang) and picks the widest the CPU supports at run time. No -march=native: the library
// stays portable. A kernel whose lanes are independent elements (never a sum whose grouping
// depends on W) gives the same bits at every width, so only the speed depends on the CPU.
// level() is the library's one CPU-feature check: these kernels and the Philox bulk paths of
// rng.hpp both ask it. TUNELAB_SIMD=0/1/2 in the environment, read once, caps the level for
// both (the tests run every path that way; the bits never depend on it).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#if defined(__GNUC__)
#define TUNELAB_ALWAYS_INLINE inline __attribute__((always_inline))
#define TUNELAB_LAMBDA_INLINE __attribute__((always_inline))  // after a lambda's parameter list
#else
#define TUNELAB_ALWAYS_INLINE inline
#define TUNELAB_LAMBDA_INLINE
#endif
#if defined(__GNUC__) && defined(__x86_64__) && !defined(TUNELAB_NO_DISPATCH)
#define TUNELAB_X86_DISPATCH 1
#endif
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define TUNELAB_SHUFFLEVECTOR 1  // __builtin_shufflevector
#endif

namespace tunelab::simd {

// 2 = AVX-512F, 1 = AVX2, 0 = baseline (capped by TUNELAB_SIMD). __builtin_cpu_supports also
// checks that the OS saves the vector registers.
inline int level() noexcept {
#ifdef TUNELAB_X86_DISPATCH
  static const int l = [] {
    __builtin_cpu_init();
    int v = __builtin_cpu_supports("avx512f") ? 2 : (__builtin_cpu_supports("avx2") ? 1 : 0);
    if (const char* cap = std::getenv("TUNELAB_SIMD"); cap && *cap >= '0' && *cap <= '2') v = std::min(v, *cap - '0');
    return v;
  }();
  return l;
#else
  return 0;
#endif
}

template <class V>
struct Mem {  // V as stored in memory: unaligned, may alias double
  typedef V type;
};
#if defined(__GNUC__)
typedef double d2 __attribute__((vector_size(16)));
typedef double d4 __attribute__((vector_size(32)));
typedef double d8 __attribute__((vector_size(64)));
template <>
struct Mem<d2> {
  typedef double type __attribute__((vector_size(16), aligned(8), may_alias));
};
template <>
struct Mem<d4> {
  typedef double type __attribute__((vector_size(32), aligned(8), may_alias));
};
template <>
struct Mem<d8> {
  typedef double type __attribute__((vector_size(64), aligned(8), may_alias));
};
using Baseline = d2;
#else
using Baseline = double;
#endif

template <class V>
inline constexpr int kW = static_cast<int>(sizeof(V) / sizeof(double));

// The W doubles at p (any alignment) as a V lvalue.
template <class V>
TUNELAB_ALWAYS_INLINE const typename Mem<V>::type& at(const double* p) noexcept {
  return *reinterpret_cast<const typename Mem<V>::type*>(p);
}
template <class V>
TUNELAB_ALWAYS_INLINE typename Mem<V>::type& at(double* p) noexcept {
  return *reinterpret_cast<typename Mem<V>::type*>(p);
}

// 64-byte-aligned scratch of `count` doubles.
struct Scratch {
  std::vector<double> buf;
  double* data = nullptr;
  explicit Scratch(std::size_t count) : buf(count + 8) {
    const auto p = reinterpret_cast<std::uintptr_t>(buf.data());
    data = buf.data() + (64 - p % 64) % 64 / sizeof(double);
  }
};

}  // namespace tunelab::simd

// Defines `ret name params` calling `impl<V> args` with the widest V the CPU supports. Use at
// namespace scope; impl is an always-inline template, and must not call lambdas or other
// non-inlined code in its hot loops (those would be compiled for the baseline target).
#ifdef TUNELAB_X86_DISPATCH
#define TUNELAB_SIMD_DISPATCH(ret, name, impl, params, args)                                                \
  __attribute__((target("avx512f"))) inline ret name##_avx512 params { return impl<::tunelab::simd::d8> args; } \
  __attribute__((target("avx2"))) inline ret name##_avx2 params { return impl<::tunelab::simd::d4> args; }      \
  inline ret name params {                                                                                   \
    switch (::tunelab::simd::level()) {                                                                      \
      case 2: return name##_avx512 args;                                                                     \
      case 1: return name##_avx2 args;                                                                       \
      default: return impl<::tunelab::simd::Baseline> args;                                                  \
    }                                                                                                        \
  }
#else
#define TUNELAB_SIMD_DISPATCH(ret, name, impl, params, args) \
  inline ret name params { return impl<::tunelab::simd::Baseline> args; }
#endif

// The same for plain element loops over a scalar type T that the compiler vectorises itself:
// defines `template <class T> ret name params` calling the always-inline `impl<T> args` compiled
// for AVX-512F, AVX2 or the baseline. Only for loops whose lanes are independent elements (no
// FMA: -ffp-contract=off; no reassociation: no -ffast-math), so the bits do not depend on it.
// A lambda that impl calls in a loop needs TUNELAB_LAMBDA_INLINE (its own body would otherwise
// be compiled for the baseline).
#ifdef TUNELAB_X86_DISPATCH
#define TUNELAB_AUTOVEC_DISPATCH(ret, name, impl, params, args)                                                \
  template <class T>                                                                                          \
  __attribute__((target("avx512f"))) ret name##_avx512 params { return impl<T> args; }                        \
  template <class T>                                                                                          \
  __attribute__((target("avx2"))) ret name##_avx2 params { return impl<T> args; }                             \
  template <class T>                                                                                          \
  inline ret name params {                                                                                    \
    switch (::tunelab::simd::level()) {                                                                      \
      case 2: return name##_avx512<T> args;                                                                   \
      case 1: return name##_avx2<T> args;                                                                     \
      default: return impl<T> args;                                                                           \
    }                                                                                                         \
  }
#else
#define TUNELAB_AUTOVEC_DISPATCH(ret, name, impl, params, args) \
  template <class T>                                           \
  inline ret name params { return impl<T> args; }
#endif
