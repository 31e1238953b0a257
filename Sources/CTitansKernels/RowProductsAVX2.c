// Products of one row with small matrices, with AVX2 and FMA: the memory's one-token step while decoding reads a
// memory of a few 64×128 matrices per head this way (Sources/Titans/Memory/MemoryUpdate+Fused.swift). Compiled for
// those instructions function by function (the rest of the build keeps the SSE2 baseline) and called only where the
// CPU has them (titans_has_avx2_fma); RowProducts.swift holds the portable loops they are tested against.
//
// A weighted sum of rows keeps up to 64 columns of its result in 8 ymm accumulators while the rows stream past, so
// each matrix element is loaded once and the result is stored once (a row-by-row axpy loads and stores the result
// for every row).

#include "CTitansKernels.h"

#include <stdlib.h>

#if defined(__x86_64__)
#include <immintrin.h>

enum { BLOCK = 64, LANES = 8, ACCUMULATORS = BLOCK / LANES };

__attribute__((target("avx2,fma")))
void titans_weighted_rows_avx2(long rows, long columns, const float *a, const float *A, const float *b, const float *B,
                               float *y, bool accumulate) {
    long j = 0;
    for (; j + BLOCK <= columns; j += BLOCK) {
        __m256 sum[ACCUMULATORS];
        for (int k = 0; k < ACCUMULATORS; k++) sum[k] = accumulate ? _mm256_loadu_ps(y + j + k * LANES) : _mm256_setzero_ps();
        for (long i = 0; i < rows; i++) {
            const __m256 weight = _mm256_broadcast_ss(a + i);
            const float *row = A + i * columns + j;
            for (int k = 0; k < ACCUMULATORS; k++) sum[k] = _mm256_fmadd_ps(weight, _mm256_loadu_ps(row + k * LANES), sum[k]);
            if (B) {
                const __m256 second = _mm256_broadcast_ss(b + i);
                const float *other = B + i * columns + j;
                for (int k = 0; k < ACCUMULATORS; k++) sum[k] = _mm256_fmadd_ps(second, _mm256_loadu_ps(other + k * LANES), sum[k]);
            }
        }
        for (int k = 0; k < ACCUMULATORS; k++) _mm256_storeu_ps(y + j + k * LANES, sum[k]);
    }
    for (; j + LANES <= columns; j += LANES) {
        __m256 sum = accumulate ? _mm256_loadu_ps(y + j) : _mm256_setzero_ps();
        for (long i = 0; i < rows; i++) {
            sum = _mm256_fmadd_ps(_mm256_broadcast_ss(a + i), _mm256_loadu_ps(A + i * columns + j), sum);
            if (B) sum = _mm256_fmadd_ps(_mm256_broadcast_ss(b + i), _mm256_loadu_ps(B + i * columns + j), sum);
        }
        _mm256_storeu_ps(y + j, sum);
    }
    for (; j < columns; j++) {
        float sum = accumulate ? y[j] : 0;
        for (long i = 0; i < rows; i++) {
            sum += a[i] * A[i * columns + j];
            if (B) sum += b[i] * B[i * columns + j];
        }
        y[j] = sum;
    }
}

__attribute__((target("avx2,fma")))
void titans_row_dots_avx2(long rows, long columns, const float *A, const float *x, float *y) {
    for (long i = 0; i < rows; i++) {
        const float *row = A + i * columns;
        __m256 first = _mm256_setzero_ps(), second = _mm256_setzero_ps();
        long j = 0;
        for (; j + 2 * LANES <= columns; j += 2 * LANES) {
            first = _mm256_fmadd_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(x + j), first);
            second = _mm256_fmadd_ps(_mm256_loadu_ps(row + j + LANES), _mm256_loadu_ps(x + j + LANES), second);
        }
        for (; j + LANES <= columns; j += LANES) first = _mm256_fmadd_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(x + j), first);
        __m256 both = _mm256_add_ps(first, second);
        __m128 half = _mm_add_ps(_mm256_castps256_ps128(both), _mm256_extractf128_ps(both, 1));
        half = _mm_add_ps(half, _mm_movehl_ps(half, half));
        half = _mm_add_ss(half, _mm_movehdup_ps(half));
        float sum = _mm_cvtss_f32(half);
        for (; j < columns; j++) sum += row[j] * x[j];
        y[i] = sum;
    }
}

#else

// Not an x86_64 CPU: titans_has_avx2_fma() is false and these are never called.
void titans_weighted_rows_avx2(long rows, long columns, const float *a, const float *A, const float *b, const float *B,
                               float *y, bool accumulate) {
    abort();
}

void titans_row_dots_avx2(long rows, long columns, const float *A, const float *x, float *y) { abort(); }

#endif
