// Kernels written in C where Swift cannot say what they need: code for a wider instruction set than the build's
// target, chosen at run time (a Swift function cannot carry its own target features).
#ifndef CTITANS_KERNELS_H
#define CTITANS_KERNELS_H

#include <stdbool.h>

/// Whether this CPU (and its operating system) runs AVX2 and FMA instructions, so the kernels below may be called.
bool titans_has_avx2_fma(void);

/// A hint to the CPU that the caller is spinning on a memory location (x86's `pause`; nothing elsewhere).
static inline void titans_spin_pause(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

/// Row-major single-precision `C = alpha * op(A) * op(B) + beta * C` on the calling thread, with AVX2 and FMA; the
/// arguments mean what they mean to CBLAS (op(A) is m×k, op(B) is k×n; `beta == 0` never reads C). m, n, k > 0.
/// Call only when `titans_has_avx2_fma()`.
void titans_sgemm_avx2(bool trans_a, bool trans_b, long m, long n, long k, float alpha,
                       const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc);

/// The functions `titans_vector_function_avx2` computes.
enum titans_vector_function { titans_exp, titans_sigmoid, titans_silu, titans_erf, titans_gelu };

/// `y[i] = function(x[i])` for i < n, in float32 with AVX2: exp, sigmoid, SiLU, erf or GELU as VectorMath.swift computes them, bit
/// for bit (a few ulp from libm); y may be x (in place) but must not otherwise overlap it. Call only when
/// `titans_has_avx2_fma()`.
void titans_vector_function_avx2(enum titans_vector_function function, const float *x, float *y, long n);

/// `y[j] (+)= Σ_i a[i]·A[i·columns + j] + b[i]·B[i·columns + j]` for j < columns: rows of the row-major `rows × columns`
/// matrices A and B weighted and summed (the row `a` times A, plus `b` times B); B and b may be NULL; y is added to
/// when `accumulate`, overwritten otherwise. Call only when `titans_has_avx2_fma()`.
void titans_weighted_rows_avx2(long rows, long columns, const float *a, const float *A, const float *b, const float *B,
                               float *y, bool accumulate);

/// `y[i] = Σ_j A[i·columns + j]·x[j]` for i < rows: the row-major `rows × columns` matrix A times the column x.
/// Call only when `titans_has_avx2_fma()`.
void titans_row_dots_avx2(long rows, long columns, const float *A, const float *x, float *y);

#endif
