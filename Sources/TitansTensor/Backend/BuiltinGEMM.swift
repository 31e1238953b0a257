// Built-in GEMM (matrix multiply) kernel, used when no BLAS library can be loaded. On x86_64 CPUs with AVX2 and FMA
// float32 products go to the C kernel of the same scheme (Sources/CTitansKernels/SGEMMAVX2.c, 6×16 tiles with fused
// multiply-adds, chosen at run time: ~200 GFLOP/s on 2 cores here, 95–99% of OpenBLAS); the Swift kernel below
// serves float64, other CPUs, and is the reference the C kernel is tested beside.
//
// Algorithm (the classic Goto / BLIS layered scheme):
//
//   for jc in 0..<n step NC            -- column panel of op(B) / C
//     for pc in 0..<k step KC          -- depth block
//       pack op(B)[pc..<pc+kc, jc..<jc+nc] into Bp: nc/NR slivers, each kc×NR, row-major
//       for ic in 0..<m step MC        -- row block of op(A) / C
//         pack op(A)[ic..<ic+mc, pc..<pc+kc] into Ap: mc/MR slivers, each kc×MR, every value
//              stored pre-broadcast as a whole vector (kc×MR×lanes scalars per sliver)
//         for jr in 0..<nc step NR     -- B sliver stays in L1
//           for ir in 0..<mc step MR   -- A sliver streams from L2
//             C[ir..<ir+MR, jr..<jr+NR] = alpha * Ap_sliver · Bp_sliver + beta' * C   (micro-kernel)
//
// beta' is the caller's beta for the first depth block and 1 afterwards; beta == 0 never reads C.
// Packing pads partial slivers with zeros, so the micro-kernel always computes a full MR×NR tile;
// edge tiles are computed into a small scratch tile and then merged into C element by element.
//
// Micro-kernel: MR = 6 rows × NR = 2 vectors, 12 vector accumulators held in registers. Per depth
// step it loads 2 B vectors and 6 pre-broadcast A vectors and does 12 vector multiply-adds.
// Pre-broadcasting A in the packing step costs lanes× the Ap memory (hence the small MC) but removes
// the 6 load+shuffle broadcasts per step, which on SSE2 made the loop issue-bound (~20% faster).
//   * default x86_64 build (baseline SSE2, no FMA): vectors are SIMD4<Float> / SIMD2<Double>,
//     i.e. 6×8 (Float) or 6×4 (Double) tiles with separate multiply + add (15 of 16 xmm registers).
//   * arm64: SIMD8<Float> / SIMD4<Double>, i.e. 6×16 / 6×8 tiles with fused multiply-add.
//   (Swift's `addingProduct` is a libm call per lane when the target has no FMA, so it is only used
//   where FMA is known to exist.)
// Measured (release, 2-core AMD EPYC Zen 3 @ 2.45 GHz, default SSE2 build): ~37 GFLOP/s per core for
// Float and ~19 for Double, close to the 2 mul + 2 add per cycle limit of SSE2; ~70 / ~33 on 2 cores.
//
// Threading: problems with 2·m·n·k above `GEMMSlabs.parallelThreshold` (64³) are cut into one slab per thread along
// the larger of m and n; each slab runs the whole serial algorithm with its own packing buffers.

import CTitansKernels
import Dispatch
import Foundation

/// Built-in general matrix multiply, used when no BLAS library can be loaded.
/// Row-major, like cblas with CblasRowMajor: C = alpha * op(A) * op(B) + beta * C,
/// op(A) is m×k (A is m×k with row stride lda, or k×m when transA), op(B) is k×n (B is k×n with ldb,
/// or n×k when transB), C is m×n with row stride ldc.
enum BuiltinGEMM {
    static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                      threads: Int = Parallel.availableThreads, kernel: CPUKernel = .fastest) {
        gemm(VecF.self, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
             a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads, kernel: kernel)
    }

    static func dgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                      a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                      beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int,
                      threads: Int = Parallel.availableThreads) {
        gemm(VecD.self, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
             a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads, kernel: .portable)
    }

    // MARK: - Tuning parameters

    // Measured on an AMD EPYC (Zen 3, 512 KiB L2 per core, 32 KiB L1d).
    /// Micro-tile rows (the micro-tile is MR × 2·lanes).
    static let MR = 6
    #if arch(arm64)
    /// Depth block: one kc×NR B sliver (4-8 KiB) stays in L1.
    static let KC = 128
    #else
    /// Depth block: one kc×NR B sliver (8 KiB) stays in L1.
    static let KC = 256
    #endif
    /// Row block: the packed, pre-broadcast mc×kc A block (≤ 200 KiB) stays in L2. Multiple of MR.
    static let MC = 48
    /// Column block: a kc×nc packed B panel (≤ 4 MiB) stays in L3.
    static let NC = 4096

    // MARK: - Vector abstraction (concrete SIMD ops, so that specialised code is clean)

    protocol Vector {
        associatedtype Scalar: BinaryFloatingPoint
        static var lanes: Int { get }
        init(splat x: Scalar)
        init(from p: UnsafePointer<Scalar>)           // unaligned load of `lanes` scalars
        func store(to p: UnsafeMutablePointer<Scalar>) // unaligned store
        static func mulAdd(_ a: Self, _ b: Self, _ acc: Self) -> Self   // a * b + acc
        static func * (x: Self, y: Self) -> Self
    }

    #if arch(arm64)
    typealias FloatStorage = SIMD8<Float>
    typealias DoubleStorage = SIMD4<Double>
    #else
    typealias FloatStorage = SIMD4<Float>
    typealias DoubleStorage = SIMD2<Double>
    #endif

    struct VecF: Vector {
        var v: FloatStorage
        static var lanes: Int { FloatStorage.scalarCount }
        @inline(__always) init(_ v: FloatStorage) { self.v = v }
        @inline(__always) init(splat x: Float) { v = FloatStorage(repeating: x) }
        @inline(__always) init(from p: UnsafePointer<Float>) {
            v = UnsafeRawPointer(p).loadUnaligned(as: FloatStorage.self)
        }
        @inline(__always) func store(to p: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: FloatStorage.self)
        }
        @inline(__always) static func mulAdd(_ a: VecF, _ b: VecF, _ acc: VecF) -> VecF {
            #if arch(arm64)
            return VecF(acc.v.addingProduct(a.v, b.v))
            #else
            return VecF(a.v * b.v + acc.v)
            #endif
        }
        @inline(__always) static func * (x: VecF, y: VecF) -> VecF { VecF(x.v * y.v) }
    }

    struct VecD: Vector {
        var v: DoubleStorage
        static var lanes: Int { DoubleStorage.scalarCount }
        @inline(__always) init(_ v: DoubleStorage) { self.v = v }
        @inline(__always) init(splat x: Double) { v = DoubleStorage(repeating: x) }
        @inline(__always) init(from p: UnsafePointer<Double>) {
            v = UnsafeRawPointer(p).loadUnaligned(as: DoubleStorage.self)
        }
        @inline(__always) func store(to p: UnsafeMutablePointer<Double>) {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: DoubleStorage.self)
        }
        @inline(__always) static func mulAdd(_ a: VecD, _ b: VecD, _ acc: VecD) -> VecD {
            #if arch(arm64)
            return VecD(acc.v.addingProduct(a.v, b.v))
            #else
            return VecD(a.v * b.v + acc.v)
            #endif
        }
        @inline(__always) static func * (x: VecD, y: VecD) -> VecD { VecD(x.v * y.v) }
    }

    // MARK: - Driver

    /// Handles the degenerate cases, then runs `serial` on one or several slabs of C.
    /// (Generic helpers are specialised for VecF / VecD by the optimiser, as the callers are concrete.)
    static func gemm<V: Vector>(_: V.Type, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                alpha: V.Scalar, a: UnsafePointer<V.Scalar>, lda: Int,
                                b: UnsafePointer<V.Scalar>, ldb: Int, beta: V.Scalar,
                                c: UnsafeMutablePointer<V.Scalar>, ldc: Int, threads: Int, kernel: CPUKernel) {
        precondition(m >= 0 && n >= 0 && k >= 0, "BuiltinGEMM: negative dimension")
        if m == 0 || n == 0 { return }
        if k == 0 || alpha == 0 {
            // C = beta * C  (beta == 0: overwrite with zeros without reading C).
            if beta == 1 { return }
            for i in 0..<m {
                let row = c + i * ldc
                if beta == 0 {
                    row.update(repeating: 0, count: n)
                } else {
                    for j in 0..<n { row[j] *= beta }
                }
            }
            return
        }

        if kernel == .avx2FMA, V.Scalar.self == Float.self {
            let (a, b, c) = (UnsafeRawPointer(a).assumingMemoryBound(to: Float.self),
                             UnsafeRawPointer(b).assumingMemoryBound(to: Float.self),
                             UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self))
            let (alpha, beta) = (Float(alpha), Float(beta))
            GEMMSlabs.run(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c,
                          ldc: ldc, threads: threads, rowUnit: 6, columnUnit: 16) { m, n, a, b, c in
                titans_sgemm_avx2(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            }
            return
        }
        let nr = 2 * V.lanes
        GEMMSlabs.run(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
                      threads: threads, rowUnit: MR, columnUnit: nr) { m, n, a, b, c in
            serial(V.self, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }

    /// Single-threaded blocked GEMM on the whole problem it is given (m, n, k > 0).
    static func serial<V: Vector>(_: V.Type, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                  alpha: V.Scalar, a: UnsafePointer<V.Scalar>, lda: Int,
                                  b: UnsafePointer<V.Scalar>, ldb: Int, beta: V.Scalar,
                                  c: UnsafeMutablePointer<V.Scalar>, ldc: Int) {
        typealias T = V.Scalar
        let nr = 2 * V.lanes
        let kcMax = min(KC, k)
        let mcMax = min(MC, (m + MR - 1) / MR * MR)
        let ncMax = min(NC, (n + nr - 1) / nr * nr)
        // Packing buffers, 64-byte aligned: Ap is mcMax×kcMax vectors, Bp is kcMax×ncMax, tile is MR×nr.
        let byteCount = (mcMax * kcMax * V.lanes + kcMax * ncMax + MR * nr) * MemoryLayout<T>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        defer { raw.deallocate() }
        let ap = raw.bindMemory(to: T.self, capacity: byteCount / MemoryLayout<T>.stride)
        let bp = ap + mcMax * kcMax * V.lanes
        let tile = bp + kcMax * ncMax

        var jc = 0
        while jc < n {
            let nc = min(NC, n - jc)
            var pc = 0
            while pc < k {
                let kc = min(KC, k - pc)
                let betaBlock = pc == 0 ? beta : 1
                packB(V.self, transB: transB, b: b, ldb: ldb, p0: pc, j0: jc, kc: kc, nc: nc, into: bp)
                var ic = 0
                while ic < m {
                    let mc = min(MC, m - ic)
                    packA(V.self, transA: transA, a: a, lda: lda, i0: ic, p0: pc, mc: mc, kc: kc, into: ap)
                    // Macro-kernel: (mc × kc) · (kc × nc) into C[ic..<ic+mc, jc..<jc+nc].
                    var jr = 0
                    while jr < nc {
                        let nrr = min(nr, nc - jr)
                        let bSliver = bp + jr * kc
                        var ir = 0
                        while ir < mc {
                            let mrr = min(MR, mc - ir)
                            let aSliver = ap + ir * kc * V.lanes
                            let cTile = c + (ic + ir) * ldc + (jc + jr)
                            if mrr == MR && nrr == nr {
                                microKernel(V.self, kc: kc, a: aSliver, b: bSliver, c: cTile, ldc: ldc,
                                            alpha: alpha, beta: betaBlock)
                            } else {
                                // Edge tile: full tile into scratch, then merge the valid mrr×nrr part.
                                microKernel(V.self, kc: kc, a: aSliver, b: bSliver, c: tile, ldc: nr,
                                            alpha: alpha, beta: 0)
                                for i in 0..<mrr {
                                    let cRow = cTile + i * ldc, tRow = tile + i * nr
                                    for j in 0..<nrr {
                                        cRow[j] = betaBlock == 0 ? tRow[j] : tRow[j] + betaBlock * cRow[j]
                                    }
                                }
                            }
                            ir += MR
                        }
                        jr += nr
                    }
                    ic += MC
                }
                pc += KC
            }
            jc += NC
        }
    }

    // MARK: - Packing

    /// Packs op(A)[i0..<i0+mc, p0..<p0+kc] into `dst` as ceil(mc/MR) slivers; sliver s holds rows
    /// i0+s·MR ..< i0+s·MR+MR and is stored kc×MR×w with every value repeated w = lanes times:
    /// dst[((s·kc + p)·MR + r)·w + l] = op(A)[i0 + s·MR + r, p0 + p]; missing rows are zero.
    @inline(__always)
    static func packA<V: Vector>(_: V.Type, transA: Bool, a: UnsafePointer<V.Scalar>, lda: Int, i0: Int, p0: Int,
                                 mc: Int, kc: Int, into dst: UnsafeMutablePointer<V.Scalar>) {
        let w = V.lanes
        var s = 0
        while s * MR < mc {
            let rows = min(MR, mc - s * MR)
            let out = dst + s * MR * kc * w
            let i = i0 + s * MR
            if transA {
                // A is k×m: row p of A holds column p of op(A); the MR values are contiguous.
                for p in 0..<kc {
                    let src = a + (p0 + p) * lda + i
                    let o = out + p * MR * w
                    for r in 0..<rows { V(splat: src[r]).store(to: o + r * w) }
                    for r in rows..<MR { V(splat: 0).store(to: o + r * w) }
                }
            } else if rows == MR {
                // A is m×k: interleave MR rows.
                let r0 = a + i * lda + p0, r1 = r0 + lda, r2 = r1 + lda
                let r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda
                for p in 0..<kc {
                    let o = out + p * MR * w
                    V(splat: r0[p]).store(to: o);         V(splat: r1[p]).store(to: o + w)
                    V(splat: r2[p]).store(to: o + 2 * w); V(splat: r3[p]).store(to: o + 3 * w)
                    V(splat: r4[p]).store(to: o + 4 * w); V(splat: r5[p]).store(to: o + 5 * w)
                }
            } else {
                for p in 0..<kc {
                    let o = out + p * MR * w
                    for r in 0..<rows { V(splat: a[(i + r) * lda + p0 + p]).store(to: o + r * w) }
                    for r in rows..<MR { V(splat: 0).store(to: o + r * w) }
                }
            }
            s += 1
        }
    }

    /// Packs op(B)[p0..<p0+kc, j0..<j0+nc] into `dst` as ceil(nc/NR) slivers; sliver t holds columns
    /// j0+t·NR ..< j0+t·NR+NR and is stored kc×NR row-major: dst[(t·kc + p)·NR + j]; missing columns are zero.
    @inline(__always)
    static func packB<V: Vector>(_: V.Type, transB: Bool, b: UnsafePointer<V.Scalar>, ldb: Int, p0: Int, j0: Int,
                                 kc: Int, nc: Int, into dst: UnsafeMutablePointer<V.Scalar>) {
        let w = V.lanes, nr = 2 * w
        let full = nc / nr          // complete slivers
        let rest = nc - full * nr   // columns of the final, zero-padded sliver
        if transB {
            // B is n×k: row j of B is column j of op(B); read each one contiguously along p.
            for j in 0..<nc {
                let src = b + (j0 + j) * ldb + p0
                let out = dst + (j / nr) * kc * nr + j % nr
                for p in 0..<kc { out[p * nr] = src[p] }
            }
        } else {
            // B is k×n: walk each row of op(B) once; a full sliver row is two vector copies.
            for p in 0..<kc {
                let src = b + (p0 + p) * ldb + j0
                for t in 0..<full {
                    let o = dst + (t * kc + p) * nr
                    V(from: src + t * nr).store(to: o)
                    V(from: src + t * nr + w).store(to: o + w)
                }
                if rest > 0 {
                    let o = dst + (full * kc + p) * nr
                    for j in 0..<rest { o[j] = src[full * nr + j] }
                }
            }
        }
        if rest > 0 {
            let o = dst + full * kc * nr
            for p in 0..<kc {
                for j in rest..<nr { o[p * nr + j] = 0 }
            }
        }
    }

    // MARK: - Micro-kernel

    /// C[0..<MR, 0..<NR] = alpha * (A sliver: kc×MR) · (B sliver: kc×NR) + beta * C, NR = 2·lanes.
    /// `a` is a packed pre-broadcast A sliver (kc×MR vectors), `b` a packed B sliver (kc×NR scalars);
    /// `c` has row stride ldc; beta == 0 does not read C.
    @inline(__always)
    static func microKernel<V: Vector>(_: V.Type, kc: Int, a: UnsafePointer<V.Scalar>, b: UnsafePointer<V.Scalar>,
                                       c: UnsafeMutablePointer<V.Scalar>, ldc: Int,
                                       alpha: V.Scalar, beta: V.Scalar) {
        let w = V.lanes
        let zero = V(splat: 0)
        // acc<r><h>: row r, vector half h.
        var c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero
        var c30 = zero, c31 = zero, c40 = zero, c41 = zero, c50 = zero, c51 = zero
        var pa = a, pb = b
        for _ in 0..<kc {
            let b0 = V(from: pb), b1 = V(from: pb + w)
            var x = V(from: pa)
            c00 = V.mulAdd(x, b0, c00); c01 = V.mulAdd(x, b1, c01)
            x = V(from: pa + 1 * w)
            c10 = V.mulAdd(x, b0, c10); c11 = V.mulAdd(x, b1, c11)
            x = V(from: pa + 2 * w)
            c20 = V.mulAdd(x, b0, c20); c21 = V.mulAdd(x, b1, c21)
            x = V(from: pa + 3 * w)
            c30 = V.mulAdd(x, b0, c30); c31 = V.mulAdd(x, b1, c31)
            x = V(from: pa + 4 * w)
            c40 = V.mulAdd(x, b0, c40); c41 = V.mulAdd(x, b1, c41)
            x = V(from: pa + 5 * w)
            c50 = V.mulAdd(x, b0, c50); c51 = V.mulAdd(x, b1, c51)
            pa += MR * w
            pb += 2 * w
        }
        let va = V(splat: alpha), vb = V(splat: beta)
        @inline(__always) func put(_ lo: V, _ hi: V, _ row: Int) {
            let p = c + row * ldc
            if beta == 0 {
                (va * lo).store(to: p)
                (va * hi).store(to: p + w)
            } else {
                V.mulAdd(vb, V(from: p), va * lo).store(to: p)
                V.mulAdd(vb, V(from: p + w), va * hi).store(to: p + w)
            }
        }
        put(c00, c01, 0); put(c10, c11, 1); put(c20, c21, 2)
        put(c30, c31, 3); put(c40, c41, 4); put(c50, c51, 5)
    }
}
