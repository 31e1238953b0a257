import Testing
@testable import TitansTensor

/// `Tensor.matmul` goes through the BLAS library loaded at run time when there is one; its results must agree
/// with the built-in kernel, for every transpose combination and both dtypes.
@Suite struct MatmulBackendTests {
    static let hasLibrary = BLAS.backendName != "built-in"
    static let skipNote: Comment = "no BLAS library is loaded (BLAS.backendName is \"built-in\"): Tensor.matmul already uses the built-in kernel, so there is nothing to compare"

    struct Size: Sendable, CustomTestStringConvertible {
        let m: Int, n: Int, k: Int
        var testDescription: String { "\(m)x\(k) @ \(k)x\(n)" }
        static let all = [Size(m: 1, n: 1, k: 1), Size(m: 3, n: 5, k: 7), Size(m: 17, n: 9, k: 33),
                          Size(m: 64, n: 48, k: 80), Size(m: 5, n: 130, k: 3),
                          // One row or one column: the library's matrix–vector product.
                          Size(m: 1, n: 130, k: 70), Size(m: 40, n: 1, k: 33), Size(m: 1, n: 1, k: 300)]
    }

    /// Compares `Tensor.matmul` of (possibly transposed) views with `BLAS.gemm(forceBuiltin: true)` on the same storage.
    /// Each element may differ by a few ulps of `Σ_p |a_ip b_pj|` times the depth (the summation orders differ).
    static func compare(_ size: Size, transA: Bool, transB: Bool, dtype: DType, seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        let (m, n, k) = (size.m, size.n, size.k)
        // Stored as CBLAS expects: A is m×k (k×m when transA), B is k×n (n×k when transB).
        let aStored = Tensor.randomNormal(transA ? [k, m] : [m, k], dtype: dtype, generator: &rng)
        let bStored = Tensor.randomNormal(transB ? [n, k] : [k, n], dtype: dtype, generator: &rng)
        let a = transA ? aStored.transposed() : aStored
        let b = transB ? bStored.transposed() : bStored
        let product = a.matmul(b)
        #expect(product.shape == [m, n])

        let expected = Tensor.zeros([m, n], dtype: dtype)
        let (lda, ldb) = (aStored.shape[1], bStored.shape[1])
        switch dtype {
        case .float32:
            BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: Float(1), a: aStored.pointer(Float.self), lda: lda,
                      b: bStored.pointer(Float.self), ldb: ldb, beta: 0, c: expected.pointer(Float.self), ldc: n, forceBuiltin: true)
        case .float64:
            BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1.0, a: aStored.pointer(Double.self), lda: lda,
                      b: bStored.pointer(Double.self), ldb: ldb, beta: 0, c: expected.pointer(Double.self), ldc: n, forceBuiltin: true)
        }
        // Magnitudes Σ_p |a_ip b_pj| from a plain loop, for the error bound.
        let av = a.toArray(), bv = b.toArray()
        let ulp = dtype == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
        let got = product.toArray(), want = expected.toArray()
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var magnitude = 0.0
                for p in 0..<k { magnitude += Swift.abs(av[i * k + p] * bv[p * n + j]) }
                let error = Swift.abs(got[i * n + j] - want[i * n + j])
                worst = Swift.max(worst, error / (ulp * Double(k + 4) * Swift.max(magnitude, .leastNormalMagnitude)))
            }
        }
        #expect(worst <= 1, "\(BLAS.backendName) vs built-in, \(dtype) \(size) transA \(transA) transB \(transB): error \(worst) × bound")
    }

    @Test(.enabled(if: hasLibrary, skipNote), arguments: Size.all, [DType.float32, .float64])
    func allTransposeCombinations(_ size: Size, dtype: DType) {
        for (i, (transA, transB)) in [(false, false), (true, false), (false, true), (true, true)].enumerated() {
            Self.compare(size, transA: transA, transB: transB, dtype: dtype, seed: UInt64(size.m * 100 + size.k + i))
        }
    }

    @Test(.enabled(if: hasLibrary, skipNote), arguments: [DType.float32, .float64])
    func batchedAndBroadcastProducts(dtype: DType) {
        // Batched products are a sequence of library calls, a batch times one matrix is a single call over all rows;
        // each is compared with per-matrix built-in products of the same operands.
        var rng = RandomGenerator(seed: 77)
        let a = Tensor.randomNormal([3, 2, 6, 5], dtype: dtype, generator: &rng)
        let b = Tensor.randomNormal([2, 5, 4], dtype: dtype, generator: &rng)
        let w = Tensor.randomNormal([7, 5], dtype: dtype, generator: &rng)
        // Products above the parallel threshold: four share evenly (whole products to each core), three do not (each
        // cut across the cores).
        func large(_ count: Int) -> (Tensor, Tensor) {
            (Tensor.randomNormal([count, 64, 48], dtype: dtype, generator: &rng), Tensor.randomNormal([count, 48, 96], dtype: dtype, generator: &rng))
        }
        let cases: [(Tensor, Tensor)] = [(a, b), (a, w.transposed()), (a.transposed(), Tensor.randomNormal([3, 1, 6, 2], dtype: dtype, generator: &rng)),
                                         large(4), large(3)]
        for (x, y) in cases {
            let product = x.matmul(y)
            let batch = Array(product.shape.dropLast(2))
            let xs = x.expand(to: batch + Array(x.shape.suffix(2))).contiguous().reshape([-1] + Array(x.shape.suffix(2)))
            let ys = y.expand(to: batch + Array(y.shape.suffix(2))).contiguous().reshape([-1] + Array(y.shape.suffix(2)))
            let flat = product.reshape([-1] + Array(product.shape.suffix(2)))
            let (m, k, n) = (x.shape[x.rank - 2], x.shape[x.rank - 1], y.shape[y.rank - 1])
            var worst = 0.0
            for i in 0..<flat.shape[0] {
                let xi = xs.select(axis: 0, index: i).contiguous(), yi = ys.select(axis: 0, index: i).contiguous()
                let expected = Tensor.zeros([m, n], dtype: dtype)
                switch dtype {
                case .float32:
                    BLAS.gemm(transA: false, transB: false, m: m, n: n, k: k, alpha: Float(1), a: xi.pointer(Float.self), lda: k,
                              b: yi.pointer(Float.self), ldb: n, beta: 0, c: expected.pointer(Float.self), ldc: n, forceBuiltin: true)
                case .float64:
                    BLAS.gemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1.0, a: xi.pointer(Double.self), lda: k,
                              b: yi.pointer(Double.self), ldb: n, beta: 0, c: expected.pointer(Double.self), ldc: n, forceBuiltin: true)
                }
                let got = flat.select(axis: 0, index: i).toArray()
                worst = Swift.max(worst, zip(got, expected.toArray()).map { Swift.abs($0 - $1) }.max() ?? 0)
            }
            #expect(worst <= (dtype == .float32 ? 1e-5 : 1e-13), "\(x.shape) @ \(y.shape): max difference \(worst)")
        }
    }

    @Test(.enabled(if: hasLibrary, skipNote), arguments: [DType.float32, .float64])
    func gemmWithAlphaBetaAndLeadingDimensions(dtype: DType) {
        // The library and the built-in kernel on sub-matrices (leading dimension larger than the width), with alpha
        // and beta, into separate copies of the same C; shapes with one row or one column take the library's
        // matrix–vector product, whose strides come from the leading dimensions.
        var rng = RandomGenerator(seed: 88)
        let (k, pad) = (9, 3)
        for (m, n) in [(6, 5), (1, 5), (6, 1), (1, 1)] {
            for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
                let aBuf = Tensor.randomNormal(transA ? [k, m + pad] : [m, k + pad], dtype: dtype, generator: &rng)
                let bBuf = Tensor.randomNormal(transB ? [n, k + pad] : [k, n + pad], dtype: dtype, generator: &rng)
                let (lda, ldb) = (aBuf.shape[1], bBuf.shape[1])
                let c0 = Tensor.randomNormal([m, n + pad], dtype: dtype, generator: &rng)
                let c1 = Tensor(shape: c0.shape, c0.toArray(), dtype: dtype), c2 = Tensor(shape: c0.shape, c0.toArray(), dtype: dtype)
                for (c, builtin) in [(c1, false), (c2, true)] {
                    switch dtype {
                    case .float32:
                        BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: Float(0.5), a: aBuf.pointer(Float.self), lda: lda,
                                  b: bBuf.pointer(Float.self), ldb: ldb, beta: -2, c: c.pointer(Float.self), ldc: n + pad, forceBuiltin: builtin)
                    case .float64:
                        BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: aBuf.pointer(Double.self), lda: lda,
                                  b: bBuf.pointer(Double.self), ldb: ldb, beta: -2, c: c.pointer(Double.self), ldc: n + pad, forceBuiltin: builtin)
                    }
                }
                let difference = zip(c1.toArray(), c2.toArray()).map { Swift.abs($0 - $1) }.max() ?? 0
                #expect(difference <= (dtype == .float32 ? 1e-5 : 1e-13), "\(m)×\(n), transA \(transA) transB \(transB): max difference \(difference)")
                // The padding columns of C are not written by either.
                let untouched = c0.slice(axis: 1, start: n, end: n + pad).toArray()
                #expect(c1.slice(axis: 1, start: n, end: n + pad).toArray() == untouched)
                #expect(c2.slice(axis: 1, start: n, end: n + pad).toArray() == untouched)
            }
        }
    }

    @Test func backendNameIsReported() {
        #expect(!BLAS.backendName.isEmpty)
        if !Self.hasLibrary {
            // Recorded so that a run without BLAS says why the comparisons above were skipped.
            print("MatmulBackendTests: \(Self.skipNote)")
        }
    }
}
