import Testing
@testable import TitansTensor

/// Tests of the built-in GEMM fallback against a naive triple loop accumulated in Double.
@Suite struct BuiltinGEMMTests {
    /// Deterministic pseudo-random values in [-1, 1) (64-bit LCG, top 24 bits).
    struct LCG {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 40) / Double(1 << 23) - 1
        }
    }

    /// One GEMM problem. Matrices are stored with leading dimensions larger than the minimum
    /// (`pad` extra columns), so that the kernel sees sub-matrix views; the padding holds a
    /// sentinel that must survive the call.
    struct Case: CustomStringConvertible {
        var transA = false, transB = false
        var m: Int, n: Int, k: Int
        var alpha = 1.0, beta = 0.0
        var pad = 0
        var nanC = false   // pre-fill C (including padding) with NaN; only meaningful with beta == 0
        var description: String {
            "tA=\(transA) tB=\(transB) m=\(m) n=\(n) k=\(k) alpha=\(alpha) beta=\(beta) pad=\(pad) nanC=\(nanC)"
        }
    }

    typealias GEMM<T> = (Bool, Bool, Int, Int, Int, T, UnsafePointer<T>, Int, UnsafePointer<T>, Int,
                         T, UnsafeMutablePointer<T>, Int) -> Void

    /// The float32 kernels this CPU runs: the portable Swift one, and the AVX2/FMA one where the CPU has it.
    static let sgemms: [GEMM<Float>] = ([.portable] + (CPUKernel.fastest == .avx2FMA ? [.avx2FMA] : [])).map { kernel in
        { BuiltinGEMM.sgemm(transA: $0, transB: $1, m: $2, n: $3, k: $4, alpha: $5, a: $6, lda: $7,
                            b: $8, ldb: $9, beta: $10, c: $11, ldc: $12, kernel: kernel) }
    }
    static let dgemm: GEMM<Double> = {
        BuiltinGEMM.dgemm(transA: $0, transB: $1, m: $2, n: $3, k: $4, alpha: $5, a: $6, lda: $7,
                          b: $8, ldb: $9, beta: $10, c: $11, ldc: $12)
    }

    /// Runs `t` through `gemm` and compares with the reference. The error bound is
    /// `eps · (k + 4) · (|alpha|·Σ_p |a_ip·b_pj| + |beta·c_ij|)`, i.e. relative to the magnitude of the terms.
    static func check<T: BinaryFloatingPoint>(_ t: Case, _ gemm: GEMM<T>, eps: Double, seed: UInt64 = 1) {
        var rng = LCG(state: seed &+ UInt64(t.m * 1_000_003 + t.n * 1009 + t.k))
        let sentinel = T(12345)
        // Stored shapes: A is m×k (k×m when transA), B is k×n (n×k when transB), C is m×n.
        let (aRows, aCols) = t.transA ? (t.k, t.m) : (t.m, t.k)
        let (bRows, bCols) = t.transB ? (t.n, t.k) : (t.k, t.n)
        let lda = aCols + t.pad, ldb = bCols + t.pad, ldc = t.n + t.pad
        // max(1, …) keeps the buffers non-empty for zero-sized cases.
        var a = [T](repeating: sentinel, count: max(1, aRows * lda))
        var b = [T](repeating: sentinel, count: max(1, bRows * ldb))
        var c = [T](repeating: t.nanC ? .nan : sentinel, count: max(1, t.m * ldc))
        for i in 0..<aRows { for j in 0..<aCols { a[i * lda + j] = T(rng.next()) } }
        for i in 0..<bRows { for j in 0..<bCols { b[i * ldb + j] = T(rng.next()) } }
        if !t.nanC { for i in 0..<t.m { for j in 0..<t.n { c[i * ldc + j] = T(rng.next()) } } }
        let c0 = c

        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    gemm(t.transA, t.transB, t.m, t.n, t.k, T(t.alpha), ap.baseAddress!, lda,
                         bp.baseAddress!, ldb, T(t.beta), cp.baseAddress!, ldc)
                }
            }
        }

        // Reference operands in Double: opA is op(A) (m×k), opBt is op(B) transposed (n×k), both dense.
        var opA = [Double](repeating: 0, count: t.m * t.k), opBt = [Double](repeating: 0, count: t.n * t.k)
        for i in 0..<t.m { for p in 0..<t.k { opA[i * t.k + p] = Double(t.transA ? a[p * lda + i] : a[i * lda + p]) } }
        for j in 0..<t.n { for p in 0..<t.k { opBt[j * t.k + p] = Double(t.transB ? b[j * ldb + p] : b[p * ldb + j]) } }
        var failures = 0
        for i in 0..<t.m {
            for j in 0..<t.n {
                var sum = 0.0, mag = 0.0
                opA.withUnsafeBufferPointer { ra in
                    opBt.withUnsafeBufferPointer { rb in
                        let x = ra.baseAddress! + i * t.k, y = rb.baseAddress! + j * t.k
                        for p in 0..<t.k {
                            let prod = x[p] * y[p]
                            sum += prod
                            mag += abs(prod)
                        }
                    }
                }
                let old = Double(c0[i * ldc + j])
                let expected = t.alpha * sum + (t.beta == 0 ? 0 : t.beta * old)
                let scale = abs(t.alpha) * mag + (t.beta == 0 ? 0 : abs(t.beta * old))
                let got = Double(c[i * ldc + j])
                let ok = abs(got - expected) <= eps * Double(t.k + 4) * scale + Double.leastNormalMagnitude
                if !ok && failures < 3 {
                    Issue.record("\(T.self) \(t): C[\(i),\(j)] = \(got), expected \(expected)")
                }
                if !ok { failures += 1 }
            }
            // Padding columns of C must be untouched.
            for j in t.n..<ldc {
                let v = c[i * ldc + j]
                #expect(t.nanC ? v.isNaN : v == sentinel, "\(T.self) \(t): padding C[\(i),\(j)] overwritten")
            }
        }
        #expect(failures == 0, "\(T.self) \(t): \(failures) wrong elements")
    }

    /// Every float32 kernel and the float64 one.
    static func checkBoth(_ t: Case) {
        for sgemm in sgemms { check(t, sgemm, eps: 1e-6) }
        check(t, dgemm, eps: 1e-15)
    }

    static let transposes = [(false, false), (false, true), (true, false), (true, true)]

    @Test func smallAndOddShapes() {
        let shapes = [(1, 1, 1), (1, 7, 3), (5, 1, 4), (3, 3, 3), (6, 16, 8), (7, 17, 9),
                      (17, 3, 65), (13, 33, 1), (65, 30, 17), (16, 16, 16)]
        for (ta, tb) in Self.transposes {
            for (m, n, k) in shapes {
                Self.checkBoth(Case(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, beta: 0))
                Self.checkBoth(Case(transA: ta, transB: tb, m: m, n: n, k: k, alpha: -0.75, beta: 0.5, pad: 3))
            }
        }
    }

    @Test func blockBoundaries() {
        // Sizes that are not multiples of the micro-tile (6 × 8/16) nor of the cache blocks (kc 128/256, mc 48/96,
        // and the AVX2 kernel's nc 4096).
        let shapes = [(130, 65, 17), (13, 21, 259), (53, 9, 270), (12, 130, 129), (7, 4100, 3)]
        for (ta, tb) in Self.transposes {
            for (m, n, k) in shapes {
                Self.checkBoth(Case(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1.5, beta: -1, pad: 5))
            }
        }
    }

    @Test func betaZeroOverwritesNaN() {
        for (ta, tb) in Self.transposes {
            for (m, n, k) in [(1, 1, 1), (7, 19, 5), (65, 33, 40)] {
                Self.checkBoth(Case(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 2, beta: 0, pad: 2, nanC: true))
            }
        }
    }

    @Test func degenerateSizes() {
        // k == 0: C = beta * C (beta == 0 overwrites, even NaN), both with and without padding.
        for beta in [0.0, 1.0, -2.5] {
            Self.checkBoth(Case(m: 5, n: 9, k: 0, alpha: 1, beta: beta, pad: 2))
        }
        Self.checkBoth(Case(m: 4, n: 3, k: 0, alpha: 1, beta: 0, pad: 1, nanC: true))
        // alpha == 0: C = beta * C, A and B not needed.
        Self.checkBoth(Case(m: 8, n: 20, k: 6, alpha: 0, beta: 3, pad: 1))
        Self.checkBoth(Case(m: 8, n: 20, k: 6, alpha: 0, beta: 0, pad: 1, nanC: true))
        // m == 0 or n == 0: nothing happens (the sentinel check covers the untouched buffer).
        Self.checkBoth(Case(m: 0, n: 5, k: 3))
        Self.checkBoth(Case(m: 4, n: 0, k: 3, pad: 2))

        // m == 0 / n == 0 must not touch C at all.
        var c: [Float] = [.nan, 7]
        let one: [Float] = [1, 1]
        BuiltinGEMM.sgemm(transA: false, transB: false, m: 0, n: 2, k: 1, alpha: 1, a: one, lda: 1, b: one,
                          ldb: 2, beta: 0, c: &c, ldc: 2)
        BuiltinGEMM.sgemm(transA: false, transB: false, m: 1, n: 0, k: 1, alpha: 1, a: one, lda: 1, b: one,
                          ldb: 1, beta: 0, c: &c, ldc: 2)
        #expect(c[0].isNaN && c[1] == 7)
    }

    @Test func multiThreadedSizes() {
        // Above GEMMSlabs.parallelThreshold (2·m·n·k ≥ 1e6) the work is split over the cores:
        // along rows when m ≥ n, along columns otherwise. (Sizes kept moderate for debug builds.)
        for sgemm in Self.sgemms { Self.check(Case(m: 300, n: 280, k: 260, alpha: 1, beta: 0.25, pad: 3), sgemm, eps: 1e-6) }
        Self.check(Case(transA: true, transB: true, m: 100, n: 90, k: 80, alpha: -1, beta: 0, pad: 1, nanC: true),
                   Self.dgemm, eps: 1e-15)
        for (ta, tb) in Self.transposes {
            for sgemm in Self.sgemms {
                Self.check(Case(transA: ta, transB: tb, m: 14, n: 301, k: 125, alpha: 0.5, beta: 1, pad: 4), sgemm, eps: 1e-6)
            }
            Self.check(Case(transA: ta, transB: tb, m: 97, n: 61, k: 90, alpha: 1, beta: 0, pad: 0),
                       Self.dgemm, eps: 1e-15)
        }
    }
}
