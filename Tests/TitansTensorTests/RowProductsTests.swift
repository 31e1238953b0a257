import Testing
@testable import TitansTensor

/// The row products of the memory's one-token step (``RowProducts``), both kernels this CPU runs, against sums
/// accumulated in Double; shapes cover the AVX2 kernel's 64-column blocks, its 8-column blocks and its scalar tail.
@Suite struct RowProductsTests {
    static let kernels: [CPUKernel] = [.portable] + (CPUKernel.fastest == .avx2FMA ? [.avx2FMA] : [])
    static let shapes = [(1, 1), (7, 5), (64, 128), (128, 64), (3, 130), (16, 72), (5, 203), (0, 9)]

    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = BuiltinGEMMTests.LCG(state: seed)
        return (0..<count).map { _ in Float(rng.next()) }
    }

    /// |got − want| within float32's rounding of `terms` (the sum of the magnitudes of what was added), per element.
    static func expectClose(_ got: [Float], _ want: [Double], terms: [Double], count: Int, _ label: String) {
        for j in got.indices {
            let bound = Double(Float.ulpOfOne) * Double(count + 4) * terms[j]
            #expect(abs(Double(got[j]) - want[j]) <= bound, "\(label) element \(j): \(got[j]) against \(want[j])")
        }
    }

    @Test(arguments: kernels)
    func weightedRowsEqualTheSumsOfTheirRows(kernel: CPUKernel) {
        for (rows, columns) in Self.shapes {
            for (second, accumulate) in [(false, false), (true, false), (false, true), (true, true)] {
                let (a, A) = (Self.values(rows, seed: 1), Self.values(rows * columns, seed: 2))
                let (b, B) = (Self.values(rows, seed: 3), Self.values(rows * columns, seed: 4))
                let start = Self.values(columns, seed: 5)
                var want = accumulate ? start.map(Double.init) : [Double](repeating: 0, count: columns)
                var terms = want.map(abs)
                for i in 0..<rows {
                    for j in 0..<columns {
                        let term = Double(a[i]) * Double(A[i * columns + j]) + (second ? Double(b[i]) * Double(B[i * columns + j]) : 0)
                        want[j] += term
                        terms[j] += abs(Double(a[i]) * Double(A[i * columns + j])) + (second ? abs(Double(b[i]) * Double(B[i * columns + j])) : 0)
                    }
                }
                var y = accumulate ? start : [Float](repeating: .nan, count: columns)  // not accumulating: y is never read
                a.withUnsafeBufferPointer { a in A.withUnsafeBufferPointer { A in b.withUnsafeBufferPointer { b in
                    B.withUnsafeBufferPointer { B in y.withUnsafeMutableBufferPointer { y in
                        RowProducts.weightedRows(rows: rows, columns: columns, a.baseAddress!, A.baseAddress!,
                                                 plus: second ? (b.baseAddress!, B.baseAddress!) : nil, into: y.baseAddress!,
                                                 accumulate: accumulate, kernel: kernel)
                    } }
                } } }
                Self.expectClose(y, want, terms: terms, count: 2 * rows, "\(kernel) \(rows)×\(columns) second \(second) accumulate \(accumulate)")
            }
        }
    }

    @Test(arguments: kernels)
    func rowDotsEqualTheMatrixTimesTheColumn(kernel: CPUKernel) {
        for (rows, columns) in Self.shapes {
            let (A, x) = (Self.values(rows * columns, seed: 6), Self.values(columns, seed: 7))
            let products = (0..<rows).map { i in (0..<columns).map { Double(A[i * columns + $0]) * Double(x[$0]) } }
            var y = [Float](repeating: .nan, count: rows)
            A.withUnsafeBufferPointer { A in x.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer { y in
                RowProducts.rowDots(rows: rows, columns: columns, A.baseAddress!, x.baseAddress!, into: y.baseAddress!, kernel: kernel)
            } } }
            Self.expectClose(y, products.map { $0.reduce(0, +) }, terms: products.map { $0.map(abs).reduce(0, +) }, count: columns,
                             "\(kernel) \(rows)×\(columns)")
        }
    }
}
