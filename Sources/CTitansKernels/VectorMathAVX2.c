// exp, sigmoid, SiLU, erf and GELU over float arrays with AVX2, 8 floats at a time: the algorithms of VectorMath.swift
// (exp: Cody–Waite reduction, degree-7 Taylor polynomial, scaling by 2^n in two halves; erf: two fitted forms), written branch-free so the compiler turns the loop into
// 8-wide vector code; compiled for AVX2 function by function (the rest of the build keeps the SSE2
// baseline) and called only where the CPU has them (titans_has_avx2_fma).

#include "CTitansKernels.h"

// No fused multiply-adds in place of a product and a sum: every operation rounds as Swift's does in VectorMath, so the
// results are those of the portable loops bit for bit, on every CPU (a view and its contiguous copy, which take the two
// paths, give the same numbers).
#pragma clang fp contract(off)

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)

/// exp(x): x = n·ln2 + r, |r| ≤ ln2/2; exp(r) by its Taylor polynomial; 2^n as two halves so that overflow gives +inf
/// and underflow subnormals or 0; NaN stays NaN.
__attribute__((target("avx2"), always_inline))
static inline float exp_avx2(float x) {
    float c = x < -104.0f ? -104.0f : (x > 89.0f ? 89.0f : x);
    const float magic = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer held in the low mantissa bits
    float t = c * 1.44269504f + magic;
    float n = t - magic;
    float r = c - n * 0.693359375f + n * 2.1219444e-4f;  // ln 2 in a part exact in float and a correction
    float p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1;
    p = p * r + 1;
    int32_t t_bits, magic_bits;
    memcpy(&t_bits, &t, 4);
    memcpy(&magic_bits, &magic, 4);
    int32_t ni = t_bits - magic_bits, half = ni >> 1;
    uint32_t bits1 = (uint32_t)(half + 127) << 23, bits2 = (uint32_t)(ni - half + 127) << 23;
    float scale1, scale2;
    memcpy(&scale1, &bits1, 4);
    memcpy(&scale2, &bits2, 4);
    float y = p * scale1 * scale2;
    return x != x ? x : y;
}

/// 1 / (1 + exp(-x)), as e / (1 + e) with e = exp(-|x|) for negative x, so nothing overflows.
__attribute__((target("avx2"), always_inline))
static inline float sigmoid_avx2(float x) {
    float e = exp_avx2(x < 0 ? x : -x);
    float r = 1 / (1 + e);
    return x < 0 ? e * r : r;
}

/// erf(x): x·P(x²) below 0.921875, else 1 − e^(−a²)·R(1/(1 + a)) with a = |x| clamped to 4; both computed, one
/// chosen; the sign of x put back; NaN stays NaN (coefficients from tools/vector-math/fit_erf.py).
__attribute__((target("avx2"), always_inline))
static inline float erf_avx2(float x) {
    uint32_t x_bits;
    memcpy(&x_bits, &x, 4);
    float magnitude = x < 0 ? -x : x;
    float a = magnitude < 4.0f ? magnitude : 4.0f;
    float z = a * a;
    float p = 8.37024927e-5f;
    p = p * z - 8.14274594e-4f;
    p = p * z + 5.20103658e-3f;
    p = p * z - 2.68594008e-2f;
    p = p * z + 0.112836957f;
    p = p * z - 0.376126349f;
    p = p * z + 1.12837923f;
    float t = 1 / (1 + a);
    float r = -0.573025584f;
    r = r * t + 1.2341764f;
    r = r * t - 0.551442087f;
    r = r * t - 0.665144682f;
    r = r * t + 0.438204408f;
    r = r * t + 0.532954097f;
    r = r * t + 0.567405581f;
    r = r * t - 1.36416988e-4f;
    float y = a < 0.921875f ? a * p : 1 - exp_avx2(-z) * r;
    uint32_t y_bits;
    memcpy(&y_bits, &y, 4);
    y_bits |= x_bits & 0x80000000u;
    float signed_y;
    memcpy(&signed_y, &y_bits, 4);
    return x != x ? x : signed_y;
}

__attribute__((target("avx2")))
void titans_vector_function_avx2(enum titans_vector_function function, const float *x, float *y, long n) {
    // y[i] depends on x[i] alone, so the loops are vectorised even where y is x (in place): without the pragma the
    // compiler's overlap check sends in-place calls to its scalar loop.
#define EACH_ELEMENT(expression) \
    _Pragma("clang loop vectorize(assume_safety)") for (long i = 0; i < n; i++) y[i] = (expression)
    switch (function) {
    case titans_exp: EACH_ELEMENT(exp_avx2(x[i])); break;
    case titans_sigmoid: EACH_ELEMENT(sigmoid_avx2(x[i])); break;
    case titans_silu: EACH_ELEMENT(x[i] * sigmoid_avx2(x[i])); break;
    case titans_erf: EACH_ELEMENT(erf_avx2(x[i])); break;
    case titans_gelu: EACH_ELEMENT(x[i] * ((1 + erf_avx2(x[i] * 0.707106769f)) * 0.5f)); break;
    }
#undef EACH_ELEMENT
}

#else

// Not an x86_64 CPU: titans_has_avx2_fma() is false and this is never called.
void titans_vector_function_avx2(enum titans_vector_function function, const float *x, float *y, long n) {
    abort();
}

#endif
