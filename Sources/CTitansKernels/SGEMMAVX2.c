// Single-precision GEMM with AVX2 and FMA, compiled for those instructions function by function (the rest of the
// build keeps the SSE2 baseline) and called only where the CPU has them (titans_has_avx2_fma).
//
// The layered scheme of the built-in Swift kernel (BuiltinGEMM.swift: Goto / BLIS): a kc×nc panel of op(B) packed
// into NR-wide slivers, an mc×kc block of op(A) packed into MR-tall slivers, and a micro-kernel that multiplies one A
// sliver by one B sliver into an MR×NR tile of C held in registers. Here MR = 6 rows × NR = 16 columns: 12 ymm
// accumulators, 2 ymm for the B row and 1 for the broadcast A value (15 of 16 registers); per depth step 2 loads,
// 6 broadcasts and 12 fused multiply-adds. Partial slivers are padded with zeros; edge tiles go through a scratch tile.
// Blocking for a Zen 3 core (32 KiB L1d, 512 KiB L2): a 16 KiB B sliver stays in L1 and the 96 KiB A block in L2.

#include "CTitansKernels.h"

#include <stdlib.h>

#if defined(__x86_64__)
#include <immintrin.h>

enum { MR = 6, NR = 16, KC = 256, MC = 96, NC = 4096 };

bool titans_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static long min_long(long x, long y) { return x < y ? x : y; }
static long round_up(long x, long unit) { return (x + unit - 1) / unit * unit; }

/// op(A)[i0 ..< i0+mc, p0 ..< p0+kc] as MR-row slivers: sliver s holds, for each depth p, its MR values of column p
/// (zeros below the last row). Loops run along memory: across a stored row (A) or down a stored column (Aᵀ).
static void pack_a(bool trans_a, const float *a, long lda, long i0, long p0, long mc, long kc, float *ap) {
    for (long s = 0; s < mc; s += MR, ap += MR * kc) {
        long rows = min_long(MR, mc - s);
        if (trans_a) {      // op(A)[i, p] = a[p·lda + i]: the MR values of depth p sit side by side
            for (long p = 0; p < kc; p++) {
                const float *from = a + (p0 + p) * lda + i0 + s;
                for (long i = 0; i < MR; i++) ap[p * MR + i] = i < rows ? from[i] : 0;
            }
        } else {            // op(A)[i, p] = a[i·lda + p]: each row is read along its length
            for (long i = 0; i < MR; i++) {
                const float *from = a + (i0 + s + i) * lda + p0;
                if (i < rows) for (long p = 0; p < kc; p++) ap[p * MR + i] = from[p];
                else for (long p = 0; p < kc; p++) ap[p * MR + i] = 0;
            }
        }
    }
}

/// op(B)[p0 ..< p0+kc, j0 ..< j0+nc] as NR-column slivers: sliver t holds, for each depth p, its NR values of row p
/// (zeros right of the last column).
static void pack_b(bool trans_b, const float *b, long ldb, long p0, long j0, long kc, long nc, float *bp) {
    for (long t = 0; t < nc; t += NR, bp += NR * kc) {
        long columns = min_long(NR, nc - t);
        if (trans_b) {      // op(B)[p, j] = b[j·ldb + p]: each stored row is one column of the sliver
            for (long j = 0; j < NR; j++) {
                const float *from = b + (j0 + t + j) * ldb + p0;
                if (j < columns) for (long p = 0; p < kc; p++) bp[p * NR + j] = from[p];
                else for (long p = 0; p < kc; p++) bp[p * NR + j] = 0;
            }
        } else {            // op(B)[p, j] = b[p·ldb + j]: the NR values of depth p sit side by side
            for (long p = 0; p < kc; p++) {
                const float *from = b + (p0 + p) * ldb + j0 + t;
                for (long j = 0; j < NR; j++) bp[p * NR + j] = j < columns ? from[j] : 0;
            }
        }
    }
}

/// One row of the tile: C[0 ..< 16] = alpha · (lo, hi) + beta · C (beta 0: C is not read).
__attribute__((target("avx2,fma"), always_inline))
static inline void store_row(float *c, __m256 lo, __m256 hi, __m256 alpha, float beta) {
    lo = _mm256_mul_ps(alpha, lo);
    hi = _mm256_mul_ps(alpha, hi);
    if (beta != 0) {
        __m256 vb = _mm256_set1_ps(beta);
        lo = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), lo);
        hi = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + 8), hi);
    }
    _mm256_storeu_ps(c, lo);
    _mm256_storeu_ps(c + 8, hi);
}

/// C[0 ..< 6, 0 ..< 16] (row stride ldc) = alpha · (A sliver · B sliver) + beta · C.
__attribute__((target("avx2,fma")))
static void micro_kernel(long kc, const float *ap, const float *bp, float *c, long ldc, float alpha, float beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (long p = 0; p < kc; p++, ap += MR, bp += NR) {
        __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8), x;
        x = _mm256_broadcast_ss(ap + 0); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(ap + 1); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(ap + 2); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(ap + 3); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(ap + 4); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(ap + 5); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
    }
    __m256 va = _mm256_set1_ps(alpha);
    store_row(c + 0 * ldc, c00, c01, va, beta);
    store_row(c + 1 * ldc, c10, c11, va, beta);
    store_row(c + 2 * ldc, c20, c21, va, beta);
    store_row(c + 3 * ldc, c30, c31, va, beta);
    store_row(c + 4 * ldc, c40, c41, va, beta);
    store_row(c + 5 * ldc, c50, c51, va, beta);
}

/// This thread's packing buffer of at least `count` floats, 64-byte aligned, kept for the thread's next call (a
/// product of small matrices would otherwise spend as long in the allocator as in the arithmetic).
static float *packing_buffer(long count) {
    static _Thread_local float *buffer = NULL;
    static _Thread_local long capacity = 0;
    if (count > capacity) {
        free(buffer);
        void *p = NULL;
        if (posix_memalign(&p, 64, (size_t)round_up(count * (long)sizeof(float), 64)) != 0) abort();
        buffer = p;
        capacity = count;
    }
    return buffer;
}

void titans_sgemm_avx2(bool trans_a, bool trans_b, long m, long n, long k, float alpha,
                       const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc) {
    long a_block = round_up(round_up(min_long(MC, m), MR) * min_long(KC, k), 16);  // B's slivers stay 64-byte aligned
    float *ap = packing_buffer(a_block + round_up(min_long(NC, n), NR) * min_long(KC, k));
    float *bp = ap + a_block;
    float tile[MR * NR] __attribute__((aligned(64)));
    for (long jc = 0; jc < n; jc += NC) {
        long nc = min_long(NC, n - jc);
        for (long pc = 0; pc < k; pc += KC) {
            long kc = min_long(KC, k - pc);
            float beta_block = pc == 0 ? beta : 1;  // later depth blocks add to what the first wrote
            pack_b(trans_b, b, ldb, pc, jc, kc, nc, bp);
            for (long ic = 0; ic < m; ic += MC) {
                long mc = min_long(MC, m - ic);
                pack_a(trans_a, a, lda, ic, pc, mc, kc, ap);
                for (long jr = 0; jr < nc; jr += NR) {
                    long columns = min_long(NR, nc - jr);
                    for (long ir = 0; ir < mc; ir += MR) {
                        long rows = min_long(MR, mc - ir);
                        float *ct = c + (ic + ir) * ldc + jc + jr;
                        if (rows == MR && columns == NR) {
                            micro_kernel(kc, ap + ir * kc, bp + jr * kc, ct, ldc, alpha, beta_block);
                            continue;
                        }
                        micro_kernel(kc, ap + ir * kc, bp + jr * kc, tile, NR, 1, 0);
                        for (long i = 0; i < rows; i++) {
                            for (long j = 0; j < columns; j++) {
                                float old = beta_block == 0 ? 0 : beta_block * ct[i * ldc + j];
                                ct[i * ldc + j] = alpha * tile[i * NR + j] + old;
                            }
                        }
                    }
                }
            }
        }
    }
}

#else

bool titans_has_avx2_fma(void) { return false; }

// Not an x86_64 CPU: titans_has_avx2_fma() is false and this is never called.
void titans_sgemm_avx2(bool trans_a, bool trans_b, long m, long n, long k, float alpha,
                       const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc) {
    abort();
}

#endif
