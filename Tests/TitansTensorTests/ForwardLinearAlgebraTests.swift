import Foundation
import Testing
@testable import TitansTensor

@Suite("Forward: matrix multiply")
struct ForwardLinearAlgebraTests {
    /// Products accumulate rounding over `k` terms: float32 needs a tolerance that grows with `k`.
    static func scale(_ dtype: DType, k: Int) -> Double {
        dtype == .float32 ? Double(Swift.max(k, 4)) : Double(Swift.max(k, 4)) * 4
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let a: [Int], b: [Int]
        var testDescription: String { "\(a) @ \(b)" }
    }

    static let shapeCases: [Case] = [
        .init(a: [3, 4], b: [4, 5]),
        .init(a: [1, 7], b: [7, 1]),
        .init(a: [5, 1], b: [1, 6]),
        .init(a: [2, 3, 4], b: [2, 4, 5]),
        .init(a: [2, 3, 2, 4], b: [2, 3, 4, 5]),
        .init(a: [2, 1, 3, 4], b: [5, 4, 6]),
        .init(a: [3, 4], b: [2, 4, 5]),
        .init(a: [2, 3, 4], b: [4, 5]),          // batched left times a matrix: the folding path
        .init(a: [2, 2, 3, 4], b: [4, 5]),
        .init(a: [1, 3, 4], b: [2, 4, 5]),
        .init(a: [17, 33], b: [33, 19]),
        .init(a: [70, 80], b: [80, 90]),         // large enough for threaded kernels
    ]

    @Test(arguments: DType.allCases, shapeCases)
    func matmulShapes(dtype: DType, c: Case) {
        let (a, av) = FwdRef.random(c.a, dtype, seed: 41)
        let (b, bv) = FwdRef.random(c.b, dtype, seed: 42)
        let expected = FwdRef.matmul(av, c.a, bv, c.b)
        FwdRef.expectClose(a.matmul(b), expected.values, shape: expected.shape, dtype: dtype,
                           scale: Self.scale(dtype, k: c.a.last!), "matmul \(c.testDescription)")
    }

    @Test(arguments: DType.allCases)
    func knownProduct(dtype: DType) {
        let a = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6], dtype: dtype)
        let b = Tensor(shape: [3, 2], [7, 8, 9, 10, 11, 12], dtype: dtype)
        FwdRef.expectClose(a.matmul(b), [58, 64, 139, 154], shape: [2, 2], dtype: dtype, "2x3 @ 3x2")
        FwdRef.expectClose(b.matmul(a), [39, 54, 69, 49, 68, 87, 59, 82, 105], shape: [3, 3], dtype: dtype, "3x2 @ 2x3")
    }

    /// Transposed, permuted, sliced and expanded operands must give what their contiguous copies give.
    @Test(arguments: DType.allCases)
    func stridedOperands(dtype: DType) {
        let (m, k, n) = (5, 6, 7)
        let (at, atv) = FwdRef.random([k, m], dtype, seed: 43)   // stored transposed
        let (bt, btv) = FwdRef.random([n, k], dtype, seed: 44)
        let (a, av) = FwdRef.random([m, k], dtype, seed: 45)
        let (b, bv) = FwdRef.random([k, n], dtype, seed: 46)
        let atT = FwdRef.transpose(atv, rows: k, cols: m), btT = FwdRef.transpose(btv, rows: n, cols: k)
        let s = Self.scale(dtype, k: k)
        let cases: [(String, Tensor, Tensor, [Double], [Double])] = [
            ("aᵀ @ b", at.transposed(), b, atT, bv),
            ("a @ bᵀ", a, bt.transposed(), av, btT),
            ("aᵀ @ bᵀ", at.transposed(), bt.transposed(), atT, btT),
        ]
        for (name, x, y, xv, yv) in cases {
            let expected = FwdRef.matmul(xv, [m, k], yv, [k, n])
            let r = x.matmul(y)
            FwdRef.expectClose(r, expected.values, shape: [m, n], dtype: dtype, scale: s, name)
            FwdRef.expectClose(x.contiguous().matmul(y.contiguous()), expected.values, shape: [m, n], dtype: dtype, scale: s, "\(name) copies")
        }
        // Column slices (row stride larger than the width), row slices with an offset, stepped slices.
        let (wide, wv) = FwdRef.random([m + 2, k + 3], dtype, seed: 47)
        let sub = wide.slice(axis: 0, start: 1, end: m + 1).slice(axis: 1, start: 2, end: k + 2)
        let subv = (0..<(m * k)).map { wv[(1 + $0 / k) * (k + 3) + 2 + $0 % k] }
        FwdRef.expectClose(sub.matmul(b), FwdRef.matmul(subv, [m, k], bv, [k, n]).values, shape: [m, n], dtype: dtype, scale: s, "sliced left")
        FwdRef.expectClose(a.matmul(wide.slice(axis: 1, start: 0, end: k + 3, step: 2).slice(axis: 0, start: 0, end: k)),
                           FwdRef.matmul(av, [m, k], (0..<(k * 5)).map { wv[($0 / 5) * (k + 3) + 2 * ($0 % 5)] }, [k, 5]).values,
                           shape: [m, 5], dtype: dtype, scale: s, "stepped right")
        // Expanded operands (stride 0 inside the matrix) are copied.
        let (row, rv) = FwdRef.random([1, k], dtype, seed: 48)
        let rows = row.expand(to: [m, k])
        let rowsv = (0..<(m * k)).map { rv[$0 % k] }
        FwdRef.expectClose(rows.matmul(b), FwdRef.matmul(rowsv, [m, k], bv, [k, n]).values, shape: [m, n], dtype: dtype, scale: s, "expanded left")
        let (col, cv) = FwdRef.random([k, 1], dtype, seed: 49)
        FwdRef.expectClose(a.matmul(col.expand(to: [k, n])), FwdRef.matmul(av, [m, k], (0..<(k * n)).map { cv[$0 / n] }, [k, n]).values,
                           shape: [m, n], dtype: dtype, scale: s, "expanded right")
    }

    @Test(arguments: DType.allCases)
    func batchedStridedOperands(dtype: DType) {
        let (bsz, m, k, n) = (3, 4, 5, 6)
        let (x, xv) = FwdRef.random([bsz, k, m], dtype, seed: 51)
        let (y, yv) = FwdRef.random([bsz, n, k], dtype, seed: 52)
        let xp = x.permute([0, 2, 1]), yp = y.permute([0, 2, 1])
        var xpv: [Double] = [], ypv: [Double] = []
        for i in 0..<bsz {
            xpv += FwdRef.transpose(Array(xv[(i * k * m)..<((i + 1) * k * m)]), rows: k, cols: m)
            ypv += FwdRef.transpose(Array(yv[(i * n * k)..<((i + 1) * n * k)]), rows: n, cols: k)
        }
        let s = Self.scale(dtype, k: k)
        FwdRef.expectClose(xp.matmul(yp), FwdRef.matmul(xpv, [bsz, m, k], ypv, [bsz, k, n]).values, shape: [bsz, m, n], dtype: dtype, scale: s, "batched both transposed")
        // Batch axis moved to the middle: [m, bsz, k] -> permute to [bsz, m, k].
        let (z, zv) = FwdRef.random([m, bsz, k], dtype, seed: 53)
        let zp = z.permute([1, 0, 2])
        let zpv = (0..<(bsz * m * k)).map { f -> Double in let i = FwdRef.unravel(f, [bsz, m, k]); return zv[FwdRef.ravel([i[1], i[0], i[2]], [m, bsz, k])] }
        let (w, wv) = FwdRef.random([k, n], dtype, seed: 54)
        FwdRef.expectClose(zp.matmul(w), FwdRef.matmul(zpv, [bsz, m, k], wv, [k, n]).values, shape: [bsz, m, n], dtype: dtype, scale: s, "batch-permuted left @ matrix")
        // Batched left times a transposed matrix (folding path with a transposed right operand).
        let (wt, wtv) = FwdRef.random([n, k], dtype, seed: 55)
        let (l, lv) = FwdRef.random([bsz, m, k], dtype, seed: 56)
        FwdRef.expectClose(l.matmul(wt.transposed()), FwdRef.matmul(lv, [bsz, m, k], FwdRef.transpose(wtv, rows: n, cols: k), [k, n]).values,
                           shape: [bsz, m, n], dtype: dtype, scale: s, "batched @ transposed matrix")
        // Batched left whose rows are a slice (row stride > k).
        let (big, bigv) = FwdRef.random([bsz, m, k + 2], dtype, seed: 57)
        let bs = big.slice(axis: 2, start: 1, end: k + 1)
        let bsv = (0..<(bsz * m * k)).map { bigv[($0 / k) * (k + 2) + 1 + $0 % k] }
        FwdRef.expectClose(bs.matmul(w), FwdRef.matmul(bsv, [bsz, m, k], wv, [k, n]).values, shape: [bsz, m, n], dtype: dtype, scale: s, "column-sliced batch @ matrix")
        // Batched left with rows sliced along the row axis (batches not evenly spaced).
        let (tall, tallv) = FwdRef.random([bsz, m + 3, k], dtype, seed: 58)
        let ts = tall.slice(axis: 1, start: 2, end: m + 2)
        let tsv = (0..<(bsz * m * k)).map { f -> Double in let i = FwdRef.unravel(f, [bsz, m, k]); return tallv[FwdRef.ravel([i[0], i[1] + 2, i[2]], [bsz, m + 3, k])] }
        FwdRef.expectClose(ts.matmul(w), FwdRef.matmul(tsv, [bsz, m, k], wv, [k, n]).values, shape: [bsz, m, n], dtype: dtype, scale: s, "row-sliced batch @ matrix")
    }

    /// Batched left operands with a size-1 batch dimension whose stride equals the outer batch stride:
    /// the batch is not evenly spaced rows, so it must not be folded into one matrix.
    @Test(arguments: DType.allCases)
    func batchedLeftWithSizeOneBatchDimension(dtype: DType) {
        let (m, k, n) = (3, 4, 5)
        let (w, wv) = FwdRef.random([k, n], dtype, seed: 61)
        let s = Self.scale(dtype, k: k)
        // [2, 2, 3, 4] sliced to [2, 1, 3, 4] with step 2: strides [24, 24, 4, 1].
        let (base, bv) = FwdRef.random([2, 2, m, k], dtype, seed: 62)
        let a = base.slice(axis: 1, start: 0, end: 1, step: 2)
        let avals = (0..<(2 * m * k)).map { f -> Double in let i = FwdRef.unravel(f, [2, 1, m, k]); return bv[FwdRef.ravel([i[0], 0, i[2], i[3]], [2, 2, m, k])] }
        FwdRef.expectClose(a.matmul(w), FwdRef.matmul(avals, [2, 1, m, k], wv, [k, n]).values, shape: [2, 1, m, n], dtype: dtype, scale: s, "stepped size-1 batch dim")
        // [1, 1, 3, 4] expanded to [2, 1, 3, 4]: strides [0, 0, 4, 1].
        let (one, ov) = FwdRef.random([1, 1, m, k], dtype, seed: 63)
        let e = one.expand(to: [2, 1, m, k])
        FwdRef.expectClose(e.matmul(w), FwdRef.matmul(ov + ov, [2, 1, m, k], wv, [k, n]).values, shape: [2, 1, m, n], dtype: dtype, scale: s, "expanded batch")
        // Expanded batch against a batched right operand.
        let (rb, rbv) = FwdRef.random([2, 1, k, n], dtype, seed: 64)
        FwdRef.expectClose(e.matmul(rb), FwdRef.matmul(ov + ov, [2, 1, m, k], rbv, [2, 1, k, n]).values, shape: [2, 1, m, n], dtype: dtype, scale: s, "expanded batch @ batch")
    }

    @Test(arguments: DType.allCases)
    func degenerateSizes(dtype: DType) {
        // k = 0: an empty sum is zero.
        let z = Tensor.zeros([3, 0], dtype: dtype).matmul(Tensor.zeros([0, 4], dtype: dtype))
        FwdRef.expectClose(z, Array(repeating: 0, count: 12), shape: [3, 4], dtype: dtype, "k = 0")
        let zb = Tensor.ones([2, 3, 0], dtype: dtype).matmul(Tensor.ones([0, 2], dtype: dtype))
        FwdRef.expectClose(zb, Array(repeating: 0, count: 12), shape: [2, 3, 2], dtype: dtype, "batched k = 0")
        // m = 0 and n = 0 give empty results.
        #expect(Tensor.ones([0, 4], dtype: dtype).matmul(Tensor.ones([4, 5], dtype: dtype)).shape == [0, 5])
        #expect(Tensor.ones([3, 4], dtype: dtype).matmul(Tensor.ones([4, 0], dtype: dtype)).shape == [3, 0])
        #expect(Tensor.ones([2, 0, 4], dtype: dtype).matmul(Tensor.ones([4, 5], dtype: dtype)).shape == [2, 0, 5])
        // An empty batch.
        #expect(Tensor.ones([0, 3, 4], dtype: dtype).matmul(Tensor.ones([4, 5], dtype: dtype)).shape == [0, 3, 5])
        #expect(Tensor.ones([0, 3, 4], dtype: dtype).matmul(Tensor.ones([1, 4, 5], dtype: dtype)).shape == [0, 3, 5])
        // 1 × 1.
        FwdRef.expectClose(Tensor(shape: [1, 1], [3], dtype: dtype).matmul(Tensor(shape: [1, 1], [-2], dtype: dtype)), [-6], shape: [1, 1], dtype: dtype, "1x1")
    }

    /// The built-in kernel (used when no BLAS library loads) against the reference, all transpose combinations,
    /// with alpha and beta, sizes that leave partial micro-tiles, and a product large enough to thread.
    @Test(arguments: [false, true], [false, true])
    func builtinGEMM(transA: Bool, transB: Bool) {
        for (m, n, k) in [(7, 13, 5), (1, 1, 1), (13, 9, 300), (64, 70, 130)] {
            let av = FwdRef.values(m * k, seed: 71), bv = FwdRef.values(k * n, seed: 72), cv = FwdRef.values(m * n, seed: 73)
            // op(A)[i, p] and op(B)[p, j] in terms of the stored arrays.
            func opA(_ i: Int, _ p: Int) -> Double { transA ? av[p * m + i] : av[i * k + p] }
            func opB(_ p: Int, _ j: Int) -> Double { transB ? bv[j * k + p] : bv[p * n + j] }
            let (alpha, beta) = (1.5, -0.5)
            var expected = [Double](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k { s += opA(i, p) * opB(p, j) }
                    expected[i * n + j] = alpha * s + beta * cv[i * n + j]
                }
            }
            var cd = cv
            av.withUnsafeBufferPointer { pa in
                bv.withUnsafeBufferPointer { pb in
                    cd.withUnsafeMutableBufferPointer { pc in
                        BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: pa.baseAddress!, lda: transA ? m : k,
                                  b: pb.baseAddress!, ldb: transB ? k : n, beta: beta, c: pc.baseAddress!, ldc: n, forceBuiltin: true)
                    }
                }
            }
            let tol = Double(k) * 1e-15
            #expect(zip(cd, expected).allSatisfy { Swift.abs($0 - $1) <= tol * (1 + Swift.abs($1)) }, "dgemm \(m)x\(n)x\(k) tA \(transA) tB \(transB)")
            let af = av.map(Float.init), bf = bv.map(Float.init)
            var cf = cv.map(Float.init)
            af.withUnsafeBufferPointer { pa in
                bf.withUnsafeBufferPointer { pb in
                    cf.withUnsafeMutableBufferPointer { pc in
                        BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: Float(alpha), a: pa.baseAddress!, lda: transA ? m : k,
                                  b: pb.baseAddress!, ldb: transB ? k : n, beta: Float(beta), c: pc.baseAddress!, ldc: n, forceBuiltin: true)
                    }
                }
            }
            let ftol = Double(k) * 2e-7
            #expect(zip(cf, expected).allSatisfy { Swift.abs(Double($0) - $1) <= ftol * (1 + Swift.abs($1)) }, "sgemm \(m)x\(n)x\(k) tA \(transA) tB \(transB)")
        }
    }
}
