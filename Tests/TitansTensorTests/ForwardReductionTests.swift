import Foundation
import Testing
@testable import TitansTensor

@Suite("Forward: reductions")
struct ForwardReductionTests {
    /// Reference reduction of row-major `values` over `axes` (all when nil); returns the kept-dims result values
    /// and both output shapes. `reduce` gets the reduced elements of one output position in row-major order.
    static func reference(_ values: [Double], _ shape: [Int], axes: [Int]?, _ reduce: ([Double]) -> Double)
        -> (kept: [Int], dropped: [Int], values: [Double]) {
        let rank = shape.count
        let set = Set((axes ?? Array(0..<rank)).map { $0 < 0 ? $0 + rank : $0 })
        let kept = shape.enumerated().map { set.contains($0.offset) ? 1 : $0.element }
        let dropped = shape.enumerated().filter { !set.contains($0.offset) }.map(\.element)
        var groups = [[Double]](repeating: [], count: FwdRef.count(kept))
        for flat in 0..<values.count {
            var index = FwdRef.unravel(flat, shape)
            for d in set { index[d] = 0 }
            groups[FwdRef.ravel(index, kept)].append(values[flat])
        }
        return (kept, dropped, groups.map(reduce))
    }

    static func sum(_ v: [Double]) -> Double { v.reduce(0, +) }
    static func maxOf(_ v: [Double]) -> Double { v.reduce(-Double.infinity) { Swift.max($0, $1) } }
    static func logSumExp(_ v: [Double]) -> Double {
        let m = maxOf(v)
        if m == -.infinity { return -.infinity }
        return m + Foundation.log(v.reduce(0) { $0 + Foundation.exp($1 - m) })
    }

    static let axisSets: [[Int]?] = [nil, [], [0], [1], [2], [0, 1], [1, 2], [0, 2], [0, 1, 2], [-1], [-3, -1], [2, 0]]

    @Test(arguments: DType.allCases)
    func rank3AllAxisSets(dtype: DType) {
        let shape = [2, 3, 4]
        let (x, xv) = FwdRef.random(shape, dtype, seed: 21)
        for axes in Self.axisSets {
            for keepDims in [false, true] {
                let what = "axes \(axes.map { "\($0)" } ?? "nil") keepDims \(keepDims)"
                let s = Self.reference(xv, shape, axes: axes, Self.sum)
                FwdRef.expectClose(x.sum(axes: axes, keepDims: keepDims), s.values, shape: keepDims ? s.kept : s.dropped,
                                   dtype: dtype, scale: 4, "sum \(what)")
                let n = Double(xv.count / Swift.max(s.values.count, 1))
                FwdRef.expectClose(x.mean(axes: axes, keepDims: keepDims), s.values.map { $0 / n }, shape: keepDims ? s.kept : s.dropped,
                                   dtype: dtype, scale: 4, "mean \(what)")
                let m = Self.reference(xv, shape, axes: axes, Self.maxOf)
                FwdRef.expectClose(x.max(axes: axes, keepDims: keepDims), m.values, shape: keepDims ? m.kept : m.dropped,
                                   dtype: dtype, "max \(what)")
                let l = Self.reference(xv, shape, axes: axes, Self.logSumExp)
                FwdRef.expectClose(x.logSumExp(axes: axes, keepDims: keepDims), l.values, shape: keepDims ? l.kept : l.dropped,
                                   dtype: dtype, scale: 4, "logSumExp \(what)")
            }
        }
    }

    @Test(arguments: DType.allCases)
    func rank4NonAdjacentAxes(dtype: DType) {
        let shape = [2, 3, 4, 5]
        let (x, xv) = FwdRef.random(shape, dtype, seed: 22)
        for axes in [[0, 2], [1, 3], [0, 3], [0, 2, 3], [-1, -3], [0, 1, 3], [3]] {
            for keepDims in [false, true] {
                let s = Self.reference(xv, shape, axes: axes, Self.sum)
                FwdRef.expectClose(x.sum(axes: axes, keepDims: keepDims), s.values, shape: keepDims ? s.kept : s.dropped,
                                   dtype: dtype, scale: 8, "sum \(axes) keepDims \(keepDims)")
                let m = Self.reference(xv, shape, axes: axes, Self.maxOf)
                FwdRef.expectClose(x.max(axes: axes, keepDims: keepDims), m.values, shape: keepDims ? m.kept : m.dropped,
                                   dtype: dtype, "max \(axes)")
                let l = Self.reference(xv, shape, axes: axes, Self.logSumExp)
                FwdRef.expectClose(x.logSumExp(axes: axes, keepDims: keepDims), l.values, shape: keepDims ? l.kept : l.dropped,
                                   dtype: dtype, scale: 8, "logSumExp \(axes)")
            }
        }
        // Single-axis conveniences agree with the axes forms.
        let s1 = Self.reference(xv, shape, axes: [1], Self.sum)
        FwdRef.expectClose(x.sum(axis: 1), s1.values, shape: s1.dropped, dtype: dtype, scale: 4, "sum(axis:)")
        FwdRef.expectClose(x.mean(axis: -2, keepDims: true), Self.reference(xv, shape, axes: [2], Self.sum).values.map { $0 / 4 },
                           shape: [2, 3, 1, 5], dtype: dtype, scale: 4, "mean(axis:)")
        FwdRef.expectClose(x.max(axis: 0), Self.reference(xv, shape, axes: [0], Self.maxOf).values, shape: [3, 4, 5], dtype: dtype, "max(axis:)")
        FwdRef.expectClose(x.logSumExp(axis: 3), Self.reference(xv, shape, axes: [3], Self.logSumExp).values, shape: [2, 3, 4],
                           dtype: dtype, scale: 4, "logSumExp(axis:)")
    }

    @Test(arguments: DType.allCases)
    func nonContiguousInput(dtype: DType) {
        let (base, bv) = FwdRef.random([4, 3, 5], dtype, seed: 23)
        let p = base.permute([2, 0, 1])   // [5, 4, 3]
        let pv = (0..<60).map { f -> Double in
            let i = FwdRef.unravel(f, [5, 4, 3])
            return bv[FwdRef.ravel([i[1], i[2], i[0]], [4, 3, 5])]
        }
        for axes in [[0], [1], [2], [0, 2], [1, 2]] {
            let s = Self.reference(pv, [5, 4, 3], axes: axes, Self.sum)
            FwdRef.expectClose(p.sum(axes: axes), s.values, shape: s.dropped, dtype: dtype, scale: 4, "permuted sum \(axes)")
            let m = Self.reference(pv, [5, 4, 3], axes: axes, Self.maxOf)
            FwdRef.expectClose(p.max(axes: axes, keepDims: true), m.values, shape: m.kept, dtype: dtype, "permuted max \(axes)")
        }
        let e = base.slice(axis: 1, start: 0, end: 1).expand(to: [4, 3, 5])
        let ev = (0..<60).map { f -> Double in let i = FwdRef.unravel(f, [4, 3, 5]); return bv[FwdRef.ravel([i[0], 0, i[2]], [4, 3, 5])] }
        let s = Self.reference(ev, [4, 3, 5], axes: [1], Self.sum)
        FwdRef.expectClose(e.sum(axis: 1), s.values, shape: [4, 5], dtype: dtype, scale: 4, "expanded sum")
    }

    @Test(arguments: DType.allCases)
    func logSumExpExtremes(dtype: DType) {
        let inf = Double.infinity
        let values: [Double] = [
            -inf, -inf, -inf,        // all -inf -> -inf
            1000, 1000, 999,         // would overflow a naive exp
            -1000, -1001, -1002,     // would underflow to log(0)
            -inf, 0, -inf,           // a single finite element
            1e30, 0, -1e30,
        ]
        let x = Tensor(shape: [5, 3], values, dtype: dtype)
        let expected: [Double] = [
            -inf,
            1000 + Foundation.log(2 + Foundation.exp(-1.0)),
            -1000 + Foundation.log(1 + Foundation.exp(-1.0) + Foundation.exp(-2.0)),
            0,
            dtype == .float64 ? 1e30 : Double(Float(1e30)),
        ]
        FwdRef.expectClose(x.logSumExp(axis: 1), expected, shape: [5], dtype: dtype, "logSumExp rows")
        FwdRef.expectClose(x.logSumExp(axis: 1, keepDims: true), expected, shape: [5, 1], dtype: dtype, "logSumExp keepDims")
        // Over columns: each column mixes -inf, huge and tiny values.
        let col = Tensor(shape: [3, 2], [-inf, 1000, -inf, 1000, -inf, -5], dtype: dtype)
        FwdRef.expectClose(col.logSumExp(axis: 0), [-inf, 1000 + Foundation.log(2 + Foundation.exp(-1005.0))], shape: [2], dtype: dtype, "columns")
        // Whole-tensor reduction.
        FwdRef.expectClose(Tensor(shape: [2, 2], [1000, 1000, 1000, 1000], dtype: dtype).logSumExp(), [1000 + Foundation.log(4.0)],
                           shape: [], dtype: dtype, "all")
        // max with -inf and +inf.
        FwdRef.expectClose(x.max(axis: 1), [-inf, 1000, -1000, 0, expected[4]], shape: [5], dtype: dtype, "max rows")
    }

    @Test(arguments: DType.allCases)
    func argmaxFirstOnTies(dtype: DType) {
        let x = Tensor(shape: [3, 4], [1, 3, 3, 2,
                                       5, 5, 1, 0,
                                       -1, -2, -1, -0.5], dtype: dtype)
        #expect(x.argmax(axis: 1) == IndexTensor(shape: [3], [1, 0, 3]))
        #expect(x.argmax(axis: -1) == IndexTensor(shape: [3], [1, 0, 3]))
        #expect(x.argmax(axis: 0) == IndexTensor(shape: [4], [1, 1, 0, 0]))
        let same = Tensor.full([2, 5], value: 7, dtype: dtype)
        #expect(same.argmax(axis: 1) == IndexTensor(shape: [2], [0, 0]))
        // Middle axis of a rank-3 tensor against a reference.
        let (r, rv) = FwdRef.random([3, 6, 4], dtype, seed: 24)
        var expected: [Int] = []
        for o in 0..<3 {
            for i in 0..<4 {
                var best = 0
                for t in 1..<6 where rv[(o * 6 + t) * 4 + i] > rv[(o * 6 + best) * 4 + i] { best = t }
                expected.append(best)
            }
        }
        #expect(r.argmax(axis: 1) == IndexTensor(shape: [3, 4], expected))
        // Non-contiguous input.
        #expect(x.transposed().argmax(axis: 1) == IndexTensor(shape: [4], [1, 1, 0, 0]))
        // -inf rows and a single element.
        #expect(Tensor(shape: [1, 3], [-.infinity, -.infinity, -.infinity], dtype: dtype).argmax(axis: 1) == IndexTensor(shape: [1], [0]))
        #expect(Tensor(shape: [2, 1], [4, 2], dtype: dtype).argmax(axis: 1) == IndexTensor(shape: [2], [0, 0]))
    }

    @Test(arguments: DType.allCases)
    func sumToShape(dtype: DType) {
        let shape = [2, 3, 4]
        let (x, xv) = FwdRef.random(shape, dtype, seed: 25)
        let cases: [([Int], [Int]?)] = [
            ([3, 1], [0, 2]), ([1, 4], [0, 1]), ([4], [0, 1]), ([], nil), ([2, 1, 4], [1]),
            ([1, 1, 1], nil), ([2, 3, 4], []), ([3, 4], [0]), ([1, 3, 1], [0, 2]),
        ]
        for (target, axes) in cases {
            let s = Self.reference(xv, shape, axes: axes, Self.sum)
            FwdRef.expectClose(x.sum(toShape: target), s.values, shape: target, dtype: dtype, scale: 4, "sum(toShape: \(target))")
        }
        #expect(x.sum(toShape: shape) === x)
    }

    @Test(arguments: DType.allCases)
    func emptyAndScalarReductions(dtype: DType) {
        let e = Tensor.zeros([2, 0, 3], dtype: dtype)
        FwdRef.expectClose(e.sum(axis: 1), Array(repeating: 0, count: 6), shape: [2, 3], dtype: dtype, "sum over empty axis")
        #expect(e.sum(axis: 0).shape == [0, 3])
        FwdRef.expectClose(e.sum(), [0], shape: [], dtype: dtype, "sum of empty")
        let s = Tensor.scalar(4.5, dtype: dtype)
        FwdRef.expectClose(s.sum(), [4.5], shape: [], dtype: dtype, "sum of 0-d")
        FwdRef.expectClose(s.max(), [4.5], shape: [], dtype: dtype, "max of 0-d")
        FwdRef.expectClose(s.mean(), [4.5], shape: [], dtype: dtype, "mean of 0-d")
    }

    @Test(arguments: DType.allCases)
    func largeReductions(dtype: DType) {
        let (rows, cols) = (3, 50_000)
        let (x, xv) = FwdRef.random([rows, cols], dtype, seed: 26, in: 0...1)
        // float32 accumulation error grows with the length: allow ~1e-5 relative for 50k-element sums.
        let scale = dtype == .float32 ? 50.0 : 100.0
        let rowSums = (0..<rows).map { r in (0..<cols).reduce(0.0) { $0 + xv[r * cols + $1] } }
        FwdRef.expectClose(x.sum(axis: 1), rowSums, shape: [rows], dtype: dtype, scale: scale, "sum axis 1")
        FwdRef.expectClose(x.mean(axis: 1), rowSums.map { $0 / Double(cols) }, shape: [rows], dtype: dtype, scale: scale, "mean axis 1")
        let colSums = (0..<cols).map { c in (0..<rows).reduce(0.0) { $0 + xv[$1 * cols + c] } }
        FwdRef.expectClose(x.sum(axis: 0), colSums, shape: [cols], dtype: dtype, scale: 2, "sum axis 0")
        let colMax = (0..<cols).map { c in (0..<rows).map { xv[$0 * cols + c] }.max()! }
        FwdRef.expectClose(x.max(axis: 0, keepDims: true), colMax, shape: [1, cols], dtype: dtype, "max axis 0")
        let rowMax = (0..<rows).map { r in xv[(r * cols)..<((r + 1) * cols)].max()! }
        FwdRef.expectClose(x.max(axis: 1), rowMax, shape: [rows], dtype: dtype, "max axis 1")
        FwdRef.expectClose(x.sum(), [rowSums.reduce(0, +)], shape: [], dtype: dtype, scale: scale, "sum all")
        let lse = (0..<rows).map { r in Self.logSumExp(Array(xv[(r * cols)..<((r + 1) * cols)])) }
        FwdRef.expectClose(x.logSumExp(axis: 1), lse, shape: [rows], dtype: dtype, scale: scale, "logSumExp axis 1")
        // Transposed large input: the same sums through a strided copy.
        FwdRef.expectClose(x.transposed().sum(axis: 0), rowSums, shape: [rows], dtype: dtype, scale: scale, "transposed sum")
        // Many short rows (parallel over rows) and a middle axis with many inner columns.
        let (y, yv) = FwdRef.random([40_000, 3], dtype, seed: 27)
        let shortSums: [Double] = (0..<40_000).map { (r: Int) -> Double in
            let first: Double = yv[3 * r] + yv[3 * r + 1]
            return first + yv[3 * r + 2]
        }
        FwdRef.expectClose(y.sum(axis: 1), shortSums, shape: [40_000],
                           dtype: dtype, scale: 2, "many short rows")
        let (z, zv) = FwdRef.random([4, 3, 20_000], dtype, seed: 28)
        let zs = Self.reference(zv, [4, 3, 20_000], axes: [1], Self.sum)
        FwdRef.expectClose(z.sum(axis: 1), zs.values, shape: [4, 20_000], dtype: dtype, scale: 2, "middle axis, wide inner")
    }
}
