import Foundation
import Testing
@testable import TitansTensor

@Suite("Forward: joining, gathering, scans, masks, softmax, normalisation, convolution")
struct ForwardSequenceTests {
    /// `[outer, length, inner]` around `axis` of `shape`.
    static func around(_ shape: [Int], _ axis: Int) -> (Int, Int, Int) {
        (FwdRef.count(Array(shape[..<axis])), shape[axis], FwdRef.count(Array(shape[(axis + 1)...])))
    }

    // MARK: Join

    @Test(arguments: DType.allCases)
    func concatenate(dtype: DType) {
        let shapes = [[2, 1, 3], [2, 4, 3], [2, 0, 3], [2, 2, 3]]
        let parts = shapes.enumerated().map { FwdRef.random($0.element, dtype, seed: UInt64(80 + $0.offset)) }
        let c = Tensor.concatenate(parts.map(\.0), axis: 1)
        var expected: [Double] = []
        for o in 0..<2 {
            for (p, s) in zip(parts, shapes) { expected += p.1[(o * s[1] * 3)..<((o + 1) * s[1] * 3)] }
        }
        FwdRef.expectClose(c, expected, shape: [2, 7, 3], dtype: dtype, "concatenate axis 1")
        FwdRef.expectClose(Tensor.concatenate(parts.map(\.0), axis: -2), expected, shape: [2, 7, 3], dtype: dtype, "concatenate axis -2")
        // Axis 0 is plain appending; the last axis interleaves.
        let (a, av) = FwdRef.random([2, 3], dtype, seed: 85), (b, bv) = FwdRef.random([1, 3], dtype, seed: 86)
        FwdRef.expectClose(Tensor.concatenate([a, b, a], axis: 0), av + bv + av, shape: [5, 3], dtype: dtype, "axis 0")
        let (d, dv) = FwdRef.random([2, 2], dtype, seed: 87)
        FwdRef.expectClose(Tensor.concatenate([a, d], axis: 1), Array(av[0..<3]) + dv[0..<2] + av[3..<6] + dv[2..<4], shape: [2, 5], dtype: dtype, "last axis")
        // Non-contiguous inputs.
        let t = a.transposed()   // [3, 2]
        FwdRef.expectClose(Tensor.concatenate([t, d.slice(axis: 0, start: 1, end: 2)], axis: 0),
                           FwdRef.transpose(av, rows: 2, cols: 3) + dv[2..<4], shape: [4, 2], dtype: dtype, "transposed input")
        // A single tensor.
        FwdRef.expectClose(Tensor.concatenate([a], axis: 1), av, shape: [2, 3], dtype: dtype, "single")
    }

    @Test(arguments: DType.allCases)
    func stack(dtype: DType) {
        let parts = (0..<3).map { FwdRef.random([2, 3], dtype, seed: UInt64(90 + $0)) }
        for axis in [0, 1, 2, -1, -3] {
            let a = axis < 0 ? axis + 3 : axis
            var shape = [2, 3]
            shape.insert(3, at: a)
            let expected = (0..<18).map { f -> Double in
                var i = FwdRef.unravel(f, shape)
                let which = i.remove(at: a)
                return parts[which].1[FwdRef.ravel(i, [2, 3])]
            }
            FwdRef.expectClose(Tensor.stack(parts.map(\.0), axis: axis), expected, shape: shape, dtype: dtype, "stack axis \(axis)")
        }
        FwdRef.expectClose(Tensor.stack([Tensor.scalar(1, dtype: dtype), Tensor.scalar(2, dtype: dtype)]), [1, 2], shape: [2], dtype: dtype, "stack scalars")
    }

    @Test(arguments: DType.allCases)
    func splitAndChunk(dtype: DType) {
        let (x, xv) = FwdRef.random([2, 7], dtype, seed: 95)
        let pieces = x.split(sizes: [3, 0, 4], axis: 1)
        #expect(pieces.map(\.shape) == [[2, 3], [2, 0], [2, 4]])
        FwdRef.expectClose(pieces[0], Array(xv[0..<3] + xv[7..<10]), shape: [2, 3], dtype: dtype, "split 0")
        FwdRef.expectClose(pieces[2], Array(xv[3..<7] + xv[10..<14]), shape: [2, 4], dtype: dtype, "split 2")
        #expect(pieces.allSatisfy { $0.storage === x.storage })
        let rows = x.split(sizes: [1, 1], axis: 0)
        FwdRef.expectClose(rows[1], Array(xv[7..<14]), shape: [1, 7], dtype: dtype, "split rows")
        // chunk: PyTorch semantics, pieces of ceil(n / count), the last shorter, possibly fewer pieces.
        let v = Tensor.arange(0, 10, dtype: dtype)
        for (count, sizes) in [(3, [4, 4, 2]), (4, [3, 3, 3, 1]), (5, [2, 2, 2, 2, 2]), (1, [10]), (10, Array(repeating: 1, count: 10)),
                               (6, [2, 2, 2, 2, 2]), (20, Array(repeating: 1, count: 10))] {
            let chunks = v.chunk(count, axis: 0)
            #expect(chunks.map { $0.shape[0] } == sizes, "chunk(\(count))")
            var start = 0
            for c in chunks {
                FwdRef.expectClose(c, (start..<(start + c.shape[0])).map(Double.init), shape: c.shape, dtype: dtype, "chunk(\(count)) piece at \(start)")
                start += c.shape[0]
            }
        }
        let cx = x.chunk(2, axis: -1)
        #expect(cx.map(\.shape) == [[2, 4], [2, 3]])
        FwdRef.expectClose(cx[1], Array(xv[4..<7] + xv[11..<14]), shape: [2, 3], dtype: dtype, "chunk last axis")
    }

    // MARK: Gather and scatter

    @Test(arguments: DType.allCases)
    func indexSelect(dtype: DType) {
        let (table, tv) = FwdRef.random([5, 4], dtype, seed: 100)
        let ids = IndexTensor(shape: [2, 3], [4, 0, 4, 2, 1, 3])
        let e = table.indexSelect(axis: 0, indices: ids)
        FwdRef.expectClose(e, ids.values.flatMap { Array(tv[($0 * 4)..<($0 * 4 + 4)]) }, shape: [2, 3, 4], dtype: dtype, "embedding lookup")
        // A middle axis.
        let (x, xv) = FwdRef.random([2, 5, 3], dtype, seed: 101)
        let mid = IndexTensor(shape: [4], [4, 0, 4, 2])
        var expected: [Double] = []
        for o in 0..<2 { for j in mid.values { expected += xv[((o * 5 + j) * 3)..<((o * 5 + j) * 3 + 3)] } }
        FwdRef.expectClose(x.indexSelect(axis: 1, indices: mid), expected, shape: [2, 4, 3], dtype: dtype, "middle axis")
        // A lookup large enough for both cores.
        let (big, bv) = FwdRef.random([300, 256], dtype, seed: 102)
        let many = IndexTensor(shape: [4, 100], (0..<400).map { ($0 * 37) % 300 })
        FwdRef.expectClose(big.indexSelect(axis: 0, indices: many), many.values.flatMap { Array(bv[($0 * 256)..<($0 * 256 + 256)]) },
                           shape: [4, 100, 256], dtype: dtype, "large lookup")
        // Last axis, 0-d index tensor, and a non-contiguous source.
        let last = IndexTensor(shape: [2], [2, 0])
        FwdRef.expectClose(x.indexSelect(axis: -1, indices: last), (0..<10).flatMap { r in [xv[r * 3 + 2], xv[r * 3]] }, shape: [2, 5, 2], dtype: dtype, "last axis")
        FwdRef.expectClose(table.indexSelect(axis: 0, indices: IndexTensor(shape: [], [3])), Array(tv[12..<16]), shape: [4], dtype: dtype, "0-d index")
        let tt = table.transposed()   // [4, 5]
        FwdRef.expectClose(tt.indexSelect(axis: 1, indices: IndexTensor(shape: [2], [1, 1])),
                           (0..<4).flatMap { r in [tv[4 + r], tv[4 + r]] }, shape: [4, 2], dtype: dtype, "transposed source")
    }

    @Test(arguments: DType.allCases)
    func indexAdd(dtype: DType) {
        let (src, sv) = FwdRef.random([2, 3, 4], dtype, seed: 102)
        let ids = IndexTensor(shape: [3], [1, 1, 0])
        var expected = [Double](repeating: 0, count: 2 * 5 * 4)
        for o in 0..<2 { for (j, t) in ids.values.enumerated() { for i in 0..<4 { expected[(o * 5 + t) * 4 + i] += sv[(o * 3 + j) * 4 + i] } } }
        FwdRef.expectClose(src.indexAdd(axis: 1, indices: ids, length: 5), expected, shape: [2, 5, 4], dtype: dtype, "repeated indices accumulate")
        // Index shape of rank 2 at axis 0: the adjoint of an embedding lookup.
        let (g, gv) = FwdRef.random([2, 3, 5], dtype, seed: 103)
        let tokens = IndexTensor(shape: [2, 3], [3, 0, 3, 3, 1, 0])
        var e2 = [Double](repeating: 0, count: 4 * 5)
        for (j, t) in tokens.values.enumerated() { for i in 0..<5 { e2[t * 5 + i] += gv[j * 5 + i] } }
        FwdRef.expectClose(g.indexAdd(axis: 0, indices: tokens, length: 4), e2, shape: [4, 5], dtype: dtype, "2-d indices")
        // Non-contiguous source.
        let gt = g.permute([0, 2, 1])   // [2, 5, 3]
        var e3 = [Double](repeating: 0, count: 2 * 5 * 2)
        for o in 0..<2 { for r in 0..<5 { for (j, t) in [1, 1, 0].enumerated() { e3[(o * 5 + r) * 2 + t] += gv[(o * 3 + j) * 5 + r] } } }
        FwdRef.expectClose(gt.indexAdd(axis: 2, indices: IndexTensor(shape: [3], [1, 1, 0]), length: 2), e3, shape: [2, 5, 2], dtype: dtype, scale: 2, "permuted source")
    }

    @Test(arguments: DType.allCases)
    func takeAndPut(dtype: DType) {
        let (x, xv) = FwdRef.random([3, 4], dtype, seed: 104)
        let rowIdx = IndexTensor(shape: [3], [2, 0, 3])
        FwdRef.expectClose(x.take(alongAxis: 1, indices: rowIdx), [xv[2], xv[4], xv[11]], shape: [3], dtype: dtype, "take axis 1")
        FwdRef.expectClose(x.take(alongAxis: -1, indices: rowIdx), [xv[2], xv[4], xv[11]], shape: [3], dtype: dtype, "take axis -1")
        let colIdx = IndexTensor(shape: [4], [1, 2, 0, 1])
        FwdRef.expectClose(x.take(alongAxis: 0, indices: colIdx), [xv[4], xv[9], xv[2], xv[7]], shape: [4], dtype: dtype, "take axis 0")
        // Middle axis of rank 3.
        let (y, yv) = FwdRef.random([2, 3, 4], dtype, seed: 105)
        let mid = IndexTensor(shape: [2, 4], [0, 1, 2, 0, 2, 2, 1, 0])
        let expected = (0..<8).map { f -> Double in let (o, i) = (f / 4, f % 4); return yv[(o * 3 + mid.values[f]) * 4 + i] }
        FwdRef.expectClose(y.take(alongAxis: 1, indices: mid), expected, shape: [2, 4], dtype: dtype, "take middle axis")
        FwdRef.expectClose(y.transposed(0, 1).take(alongAxis: 0, indices: mid), expected, shape: [2, 4], dtype: dtype, "take on a permuted view")
        // put: the values land at the indices, zeros elsewhere.
        let (v, vv) = FwdRef.random([2, 4], dtype, seed: 106)
        var placed = [Double](repeating: 0, count: 24)
        for f in 0..<8 { let (o, i) = (f / 4, f % 4); placed[(o * 3 + mid.values[f]) * 4 + i] = vv[f] }
        FwdRef.expectClose(v.put(alongAxis: 1, indices: mid, shape: [2, 3, 4]), placed, shape: [2, 3, 4], dtype: dtype, "put middle axis")
        var rowsPlaced = [Double](repeating: 0, count: 12)
        for (r, c) in rowIdx.values.enumerated() { rowsPlaced[r * 4 + c] = [1.0, 2, 3][r] }
        FwdRef.expectClose(Tensor(shape: [3], [1, 2, 3], dtype: dtype).put(alongAxis: -1, indices: rowIdx, shape: [3, 4]), rowsPlaced,
                           shape: [3, 4], dtype: dtype, "put last axis")
    }

    // MARK: Scans

    static func cumulativeSumReference(_ v: [Double], _ shape: [Int], axis: Int, reverse: Bool) -> [Double] {
        let (outer, length, inner) = around(shape, axis)
        var out = v
        for o in 0..<outer {
            for i in 0..<inner {
                var running = 0.0
                for s in 0..<length {
                    let t = reverse ? length - 1 - s : s
                    let f = (o * length + t) * inner + i
                    running += v[f]
                    out[f] = running
                }
            }
        }
        return out
    }

    @Test(arguments: DType.allCases, [false, true])
    func cumulativeSum(dtype: DType, reverse: Bool) {
        let shape = [3, 4, 5]
        let (x, xv) = FwdRef.random(shape, dtype, seed: 110)
        for axis in [0, 1, 2, -1] {
            let a = axis < 0 ? axis + 3 : axis
            FwdRef.expectClose(x.cumulativeSum(axis: axis, reverse: reverse), Self.cumulativeSumReference(xv, shape, axis: a, reverse: reverse),
                               shape: shape, dtype: dtype, scale: 4, "cumulativeSum axis \(axis) reverse \(reverse)")
        }
        // Non-contiguous input.
        let p = x.permute([2, 0, 1])   // [5, 3, 4]
        let pv = (0..<60).map { f -> Double in let i = FwdRef.unravel(f, [5, 3, 4]); return xv[FwdRef.ravel([i[1], i[2], i[0]], shape)] }
        FwdRef.expectClose(p.cumulativeSum(axis: 0, reverse: reverse), Self.cumulativeSumReference(pv, [5, 3, 4], axis: 0, reverse: reverse),
                           shape: [5, 3, 4], dtype: dtype, scale: 4, "permuted")
        FwdRef.expectClose(Tensor(shape: [4], [1, 2, 3, 4], dtype: dtype).cumulativeSum(axis: 0, reverse: reverse),
                           reverse ? [10, 9, 7, 4] : [1, 3, 6, 10], shape: [4], dtype: dtype, "known")
        // Large enough for both cores: across the columns of one outer block, and across outer blocks.
        for shape in [[1, 40, 1000], [64, 600, 1]] {
            let (x, xv) = FwdRef.random(shape, dtype, seed: 119)
            FwdRef.expectClose(x.cumulativeSum(axis: 1, reverse: reverse), Self.cumulativeSumReference(xv, shape, axis: 1, reverse: reverse),
                               shape: shape, dtype: dtype, scale: 40, "cumulativeSum \(shape) reverse \(reverse)")
        }
        // An empty scan axis gives an empty result.
        #expect(Tensor.zeros([2, 0, 5], dtype: dtype).cumulativeSum(axis: 1, reverse: reverse).shape == [2, 0, 5])
    }

    /// `h[t] = a[t] * h[t∓1] + b[t]` along `axis` of the broadcast shape, `initial` broadcast to that shape with `axis` = 1.
    static func linearScanReference(_ av: [Double], _ aShape: [Int], _ bv: [Double], _ bShape: [Int], axis: Int,
                                    initial: ([Double], [Int])?, reverse: Bool) -> (shape: [Int], values: [Double]) {
        let a = FwdRef.broadcastMap([(av, aShape), (bv, bShape)]) { $0[0] }
        let b = FwdRef.broadcastMap([(av, aShape), (bv, bShape)]) { $0[1] }
        let shape = a.shape
        var h0Shape = shape
        h0Shape[axis] = 1
        let h0 = initial.map { init0 in (0..<FwdRef.count(h0Shape)).map { FwdRef.element(init0.0, init0.1, at: FwdRef.unravel($0, h0Shape)) } }
            ?? [Double](repeating: 0, count: FwdRef.count(h0Shape))
        let (outer, length, inner) = around(shape, axis)
        var out = [Double](repeating: 0, count: FwdRef.count(shape))
        for o in 0..<outer {
            for i in 0..<inner {
                var h = h0[o * inner + i]
                for s in 0..<length {
                    let t = reverse ? length - 1 - s : s
                    let f = (o * length + t) * inner + i
                    h = a.values[f] * h + b.values[f]
                    out[f] = h
                }
            }
        }
        return (shape, out)
    }

    struct ScanCase: Sendable, CustomTestStringConvertible {
        let a: [Int], b: [Int], axis: Int
        let initial: [Int]?
        var testDescription: String { "a \(a) b \(b) axis \(axis) initial \(initial.map { "\($0)" } ?? "nil")" }
    }

    static let scanCases: [ScanCase] = [
        .init(a: [2, 6, 3], b: [2, 6, 3], axis: 1, initial: nil),
        .init(a: [2, 6, 3], b: [2, 6, 3], axis: 1, initial: [2, 1, 3]),
        .init(a: [2, 6, 1], b: [2, 6, 3], axis: 1, initial: nil),            // one gate per step, shared by channels
        .init(a: [2, 6, 1], b: [2, 6, 3], axis: 1, initial: [1, 1, 3]),      // initial broadcast over the batch
        .init(a: [6, 1], b: [2, 6, 3], axis: 1, initial: [3]),
        .init(a: [5, 2, 3], b: [5, 2, 3], axis: 0, initial: [1, 2, 3]),
        .init(a: [2, 3, 7], b: [2, 3, 7], axis: -1, initial: [2, 3, 1]),
        .init(a: [], b: [4, 5], axis: 0, initial: nil),                       // a scalar decay
        // Large enough for both cores: across the lines of one outer block, and across outer blocks.
        .init(a: [1, 40, 1000], b: [1, 40, 1000], axis: 1, initial: [1, 1, 1000]),
        .init(a: [64, 600, 1], b: [64, 600, 1], axis: 1, initial: nil),
    ]

    @Test(arguments: DType.allCases, scanCases)
    func linearScan(dtype: DType, c: ScanCase) {
        for reverse in [false, true] {
            let (a, av) = FwdRef.random(c.a, dtype, seed: 120, in: -1.1...1.1)
            let (b, bv) = FwdRef.random(c.b, dtype, seed: 121)
            let initial = c.initial.map { FwdRef.random($0, dtype, seed: 122) }
            let rank = FwdRef.broadcastShape([c.a, c.b]).count
            let axis = c.axis < 0 ? c.axis + rank : c.axis
            let expected = Self.linearScanReference(av, c.a, bv, c.b, axis: axis, initial: initial.map { ($0.1, c.initial!) }, reverse: reverse)
            let h = Tensor.linearScan(a, b, axis: c.axis, initial: initial?.0, reverse: reverse)
            FwdRef.expectClose(h, expected.values, shape: expected.shape, dtype: dtype, scale: 8, "\(c.testDescription) reverse \(reverse)")
        }
    }

    @Test(arguments: DType.allCases)
    func linearScanSpecialCases(dtype: DType) {
        // a = 1 is a running sum; a = 0 returns b; known small values.
        let (b, bv) = FwdRef.random([2, 5, 3], dtype, seed: 123)
        let ones = Tensor.ones([2, 5, 3], dtype: dtype)
        FwdRef.expectClose(Tensor.linearScan(ones, b, axis: 1), Self.cumulativeSumReference(bv, [2, 5, 3], axis: 1, reverse: false),
                           shape: [2, 5, 3], dtype: dtype, scale: 4, "a = 1")
        FwdRef.expectClose(Tensor.linearScan(ones, b, axis: 1, reverse: true), Self.cumulativeSumReference(bv, [2, 5, 3], axis: 1, reverse: true),
                           shape: [2, 5, 3], dtype: dtype, scale: 4, "a = 1 reverse")
        FwdRef.expectClose(Tensor.linearScan(Tensor.zeros([1], dtype: dtype), b, axis: 1), bv, shape: [2, 5, 3], dtype: dtype, "a = 0")
        let a = Tensor(shape: [3], [0.5, 2, -1], dtype: dtype), bb = Tensor(shape: [3], [1, 1, 1], dtype: dtype)
        // h0 = 4: 0.5*4+1 = 3, 2*3+1 = 7, -7+1 = -6.  Reverse from h = 4: -4+1 = -3 at t=2, 2*(-3)+1 = -5, 0.5*(-5)+1 = -1.5.
        FwdRef.expectClose(Tensor.linearScan(a, bb, axis: 0, initial: Tensor(shape: [1], [4], dtype: dtype)), [3, 7, -6], shape: [3], dtype: dtype, "known")
        FwdRef.expectClose(Tensor.linearScan(a, bb, axis: 0, initial: Tensor(shape: [1], [4], dtype: dtype), reverse: true), [-1.5, -5, -3],
                           shape: [3], dtype: dtype, "known reverse")
        // Non-contiguous a and b.
        let (x, xv) = FwdRef.random([3, 4], dtype, seed: 124, in: -1...1)
        let (y, yv) = FwdRef.random([3, 4], dtype, seed: 125)
        let e = Self.linearScanReference(FwdRef.transpose(xv, rows: 3, cols: 4), [4, 3], FwdRef.transpose(yv, rows: 3, cols: 4), [4, 3],
                                         axis: 0, initial: nil, reverse: false)
        FwdRef.expectClose(Tensor.linearScan(x.transposed(), y.transposed(), axis: 0), e.values, shape: [4, 3], dtype: dtype, scale: 4, "transposed inputs")
        // Long scan.
        let (la, lav) = FwdRef.random([1, 2000, 2], dtype, seed: 126, in: 0.5...1)
        let (lb, lbv) = FwdRef.random([1, 2000, 2], dtype, seed: 127)
        let le = Self.linearScanReference(lav, [1, 2000, 2], lbv, [1, 2000, 2], axis: 1, initial: nil, reverse: true)
        FwdRef.expectClose(Tensor.linearScan(la, lb, axis: 1, reverse: true), le.values, shape: [1, 2000, 2], dtype: dtype, scale: 50, "long reverse")
    }

    // MARK: Masks

    static func band(_ rows: Int, _ cols: Int, lower: Int, upper: Int, offset: Int) -> [Double] {
        (0..<(rows * cols)).map { f in
            let d = f / cols - (f % cols - offset)
            return d >= lower && d <= upper ? 1 : 0
        }
    }

    @Test(arguments: DType.allCases)
    func masks(dtype: DType) {
        FwdRef.expectClose(Tensor.causalMask(4, dtype: dtype), [1, 0, 0, 0,
                                                                1, 1, 0, 0,
                                                                1, 1, 1, 0,
                                                                1, 1, 1, 1], shape: [4, 4], dtype: dtype, "causal")
        FwdRef.expectClose(Tensor.bandMask(rows: 4, columns: 4, lower: 0, upper: 1, dtype: dtype), [1, 0, 0, 0,
                                                                                                    1, 1, 0, 0,
                                                                                                    0, 1, 1, 0,
                                                                                                    0, 0, 1, 1],
                           shape: [4, 4], dtype: dtype, "window of 2")
        for (rows, cols, lower, upper, offset) in [(3, 6, 0, Int.max, 3), (4, 6, 0, 1, 2), (5, 3, -1, 1, 0), (2, 5, 1, 2, -1), (3, 3, Int.min, 0, 0)] {
            FwdRef.expectClose(Tensor.bandMask(rows: rows, columns: cols, lower: lower, upper: upper, columnOffset: offset, dtype: dtype),
                               Self.band(rows, cols, lower: lower, upper: upper, offset: offset), shape: [rows, cols], dtype: dtype,
                               "band \(rows)x\(cols) [\(lower), \(upper)] offset \(offset)")
        }
        #expect(Tensor.causalMask(3).dtype == .float32)
    }

    @Test(arguments: DType.allCases)
    func triangles(dtype: DType) {
        let (x, xv) = FwdRef.random([2, 3, 4], dtype, seed: 130)
        for diagonal in [-2, -1, 0, 1, 3] {
            let lower = (0..<24).map { f -> Double in let (i, j) = ((f / 4) % 3, f % 4); return j <= i + diagonal ? xv[f] : 0 }
            let upper = (0..<24).map { f -> Double in let (i, j) = ((f / 4) % 3, f % 4); return j >= i + diagonal ? xv[f] : 0 }
            FwdRef.expectClose(x.lowerTriangle(diagonal: diagonal), lower, shape: [2, 3, 4], dtype: dtype, "lowerTriangle(\(diagonal))")
            FwdRef.expectClose(x.upperTriangle(diagonal: diagonal), upper, shape: [2, 3, 4], dtype: dtype, "upperTriangle(\(diagonal))")
        }
        FwdRef.expectClose(Tensor.ones([3, 3], dtype: dtype).lowerTriangle(), [1, 0, 0, 1, 1, 0, 1, 1, 1], shape: [3, 3], dtype: dtype, "tril ones")
        FwdRef.expectClose(Tensor.ones([3, 3], dtype: dtype).upperTriangle(), [1, 1, 1, 0, 1, 1, 0, 0, 1], shape: [3, 3], dtype: dtype, "triu ones")
    }

    // MARK: Softmax and cross-entropy

    static func softmaxReference(_ v: [Double], _ shape: [Int], axis: Int, log: Bool) -> [Double] {
        let (outer, length, inner) = around(shape, axis)
        var out = v
        for o in 0..<outer {
            for i in 0..<inner {
                let idx = (0..<length).map { (o * length + $0) * inner + i }
                let m = idx.map { v[$0] }.max()!
                let total = idx.reduce(0.0) { $0 + Foundation.exp(v[$1] - m) }
                for f in idx { out[f] = log ? v[f] - m - Foundation.log(total) : Foundation.exp(v[f] - m) / total }
            }
        }
        return out
    }

    @Test(arguments: DType.allCases)
    func softmaxAlongEachAxis(dtype: DType) {
        let shape = [3, 4, 5]
        let (x, xv) = FwdRef.random(shape, dtype, seed: 140, in: -4...4)
        for axis in [0, 1, 2, -1, -2] {
            let a = axis < 0 ? axis + 3 : axis
            let s = x.softmax(axis: axis)
            FwdRef.expectClose(s, Self.softmaxReference(xv, shape, axis: a, log: false), shape: shape, dtype: dtype, scale: 4, "softmax axis \(axis)")
            let sums = ForwardReductionTests.reference(FwdRef.readElements(s), shape, axes: [a], ForwardReductionTests.sum).values
            #expect(sums.allSatisfy { Swift.abs($0 - 1) < (dtype == .float64 ? 1e-14 : 1e-6) }, "softmax axis \(axis) sums \(sums)")
            FwdRef.expectClose(x.logSoftmax(axis: axis), Self.softmaxReference(xv, shape, axis: a, log: true), shape: shape, dtype: dtype, scale: 4,
                               "logSoftmax axis \(axis)")
        }
        FwdRef.expectClose(x.softmax(), Self.softmaxReference(xv, shape, axis: 2, log: false), shape: shape, dtype: dtype, scale: 4, "default axis")
        // Non-contiguous input.
        let t = x.transposed(0, 2)   // [5, 4, 3]
        let tv = (0..<60).map { f -> Double in let i = FwdRef.unravel(f, [5, 4, 3]); return xv[FwdRef.ravel([i[2], i[1], i[0]], shape)] }
        FwdRef.expectClose(t.softmax(axis: 2), Self.softmaxReference(tv, [5, 4, 3], axis: 2, log: false), shape: [5, 4, 3], dtype: dtype, scale: 4, "transposed")
    }

    @Test(arguments: DType.allCases)
    func softmaxIsStable(dtype: DType) {
        let x = Tensor(shape: [3, 3], [1000, 1001, 1002,
                                       -1000, -1001, -1002,
                                       50, 50, -.infinity], dtype: dtype)
        let e = [Foundation.exp(-2.0), Foundation.exp(-1.0), 1].map { $0 / (1 + Foundation.exp(-1.0) + Foundation.exp(-2.0)) }
        let expected = e + e.reversed() + [0.5, 0.5, 0]
        FwdRef.expectClose(x.softmax(axis: 1), expected, shape: [3, 3], dtype: dtype, scale: 2, "large softmax")
        let ls = x.logSoftmax(axis: 1)
        let l = expected.map { Foundation.log($0) }
        FwdRef.expectClose(ls, l, shape: [3, 3], dtype: dtype, scale: 2, "large logSoftmax")
        #expect(FwdRef.readElements(x.softmax(axis: 0)).allSatisfy { $0.isFinite })
        #expect(Swift.abs(Tensor(shape: [1, 2], [1e4, 1e4], dtype: dtype).softmax().toArray()[0] - 0.5) < 1e-7)
    }

    @Test(arguments: DType.allCases)
    func crossEntropy(dtype: DType) {
        // Row 0: target 2 of [1, 2, 3] -> log(e + e² + e³) - 3 = log(1 + e⁻¹ + e⁻²).  Row 1: uniform logits -> log 3.
        let logits = Tensor(shape: [2, 3], [1, 2, 3, 1, 1, 1], dtype: dtype)
        let loss = logits.crossEntropy(targets: IndexTensor(shape: [2], [2, 0]))
        let expected = (Foundation.log(1 + Foundation.exp(-1.0) + Foundation.exp(-2.0)) + Foundation.log(3.0)) / 2
        FwdRef.expectClose(loss, [expected], shape: [], dtype: dtype, scale: 2, "cross-entropy")
        #expect(Swift.abs(expected - 0.7531091265562452) < 1e-15)
        // A batch of sequences [2, 3, 5] against a reference.
        let (l, lv) = FwdRef.random([2, 3, 5], dtype, seed: 150, in: -3...3)
        let targets = IndexTensor(shape: [2, 3], [4, 0, 2, 2, 1, 3])
        var total = 0.0
        for r in 0..<6 {
            let row = Array(lv[(r * 5)..<(r * 5 + 5)])
            total += ForwardReductionTests.logSumExp(row) - row[targets.values[r]]
        }
        FwdRef.expectClose(l.crossEntropy(targets: targets), [total / 6], shape: [], dtype: dtype, scale: 4, "sequence cross-entropy")
        // Confident and correct: nearly zero loss, and finite for huge logits.
        let big = Tensor(shape: [1, 2], [1000, -1000], dtype: dtype).crossEntropy(targets: IndexTensor(shape: [1], [0]))
        #expect(big.item() >= 0 && big.item() < 1e-12)
        let wrong = Tensor(shape: [1, 2], [1000, -1000], dtype: dtype).crossEntropy(targets: IndexTensor(shape: [1], [1]))
        #expect(Swift.abs(wrong.item() - 2000) < 1e-3)
    }

    // MARK: Normalisation

    @Test(arguments: DType.allCases)
    func normalizations(dtype: DType) {
        let shape = [2, 3, 6]
        let (x, xv) = FwdRef.random(shape, dtype, seed: 160)
        let (w, wv) = FwdRef.random([6], dtype, seed: 161, in: 0.5...1.5)
        let (b, bv) = FwdRef.random([6], dtype, seed: 162)
        let rows = xv.count / 6
        var rms: [Double] = [], rmsW: [Double] = [], ln: [Double] = [], lnW: [Double] = [], lnWB: [Double] = [], l2: [Double] = []
        for r in 0..<rows {
            let row = Array(xv[(r * 6)..<(r * 6 + 6)])
            let ms = row.reduce(0) { $0 + $1 * $1 } / 6
            let mean = row.reduce(0, +) / 6
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 6
            let norm = row.reduce(0) { $0 + $1 * $1 }
            for (c, v) in row.enumerated() {
                rms.append(v / (ms + 1e-6).squareRoot())
                rmsW.append(v / (ms + 1e-6).squareRoot() * wv[c])
                let n = (v - mean) / (variance + 1e-5).squareRoot()
                ln.append(n)
                lnW.append(n * wv[c])
                lnWB.append(n * wv[c] + bv[c])
                l2.append(v / (norm + 1e-12).squareRoot())
            }
        }
        FwdRef.expectClose(x.rmsNormalized(), rms, shape: shape, dtype: dtype, scale: 4, "rms")
        FwdRef.expectClose(x.rmsNormalized(weight: w), rmsW, shape: shape, dtype: dtype, scale: 4, "rms weight")
        FwdRef.expectClose(x.layerNormalized(), ln, shape: shape, dtype: dtype, scale: 8, "layer norm")
        FwdRef.expectClose(x.layerNormalized(weight: w), lnW, shape: shape, dtype: dtype, scale: 8, "layer norm weight")
        FwdRef.expectClose(x.layerNormalized(weight: w, bias: b), lnWB, shape: shape, dtype: dtype, scale: 8, "layer norm weight bias")
        FwdRef.expectClose(x.layerNormalized(bias: b), zip(ln, (0..<ln.count).map { bv[$0 % 6] }).map { $0 + $1 }, shape: shape, dtype: dtype, scale: 8, "layer norm bias")
        FwdRef.expectClose(x.l2Normalized(), l2, shape: shape, dtype: dtype, scale: 4, "l2")
        // l2 along another axis, and custom epsilons.
        var l2a1 = [Double](repeating: 0, count: xv.count)
        for o in 0..<2 {
            for i in 0..<6 {
                let idx = (0..<3).map { (o * 3 + $0) * 6 + i }
                let norm = idx.reduce(0.0) { $0 + xv[$1] * xv[$1] }
                for f in idx { l2a1[f] = xv[f] / (norm + 0.5).squareRoot() }
            }
        }
        FwdRef.expectClose(x.l2Normalized(axis: 1, epsilon: 0.5), l2a1, shape: shape, dtype: dtype, scale: 4, "l2 axis 1")
        let rmsEps = (0..<xv.count).map { f -> Double in
            let r = f / 6
            let ms = xv[(r * 6)..<(r * 6 + 6)].reduce(0) { $0 + $1 * $1 } / 6
            return xv[f] / (ms + 0.25).squareRoot()
        }
        FwdRef.expectClose(x.rmsNormalized(epsilon: 0.25), rmsEps, shape: shape, dtype: dtype, scale: 4, "rms epsilon")
        // Zero rows stay finite.
        let zero = Tensor.zeros([2, 4], dtype: dtype)
        FwdRef.expectClose(zero.l2Normalized(), Array(repeating: 0, count: 8), shape: [2, 4], dtype: dtype, "l2 of zeros")
        FwdRef.expectClose(zero.rmsNormalized(), Array(repeating: 0, count: 8), shape: [2, 4], dtype: dtype, "rms of zeros")
        FwdRef.expectClose(zero.layerNormalized(), Array(repeating: 0, count: 8), shape: [2, 4], dtype: dtype, "layer norm of zeros")
    }

    // MARK: Depthwise causal convolution

    static func convolutionReference(_ xv: [Double], _ shape: [Int], _ wv: [Double], kernel: Int, bias: [Double]?) -> [Double] {
        let (batch, time, channels) = (shape[0], shape[1], shape[2])
        var out = [Double](repeating: 0, count: xv.count)
        for b in 0..<batch {
            for t in 0..<time {
                for c in 0..<channels {
                    var s = bias?[c] ?? 0
                    for j in 0..<kernel {
                        let source = t - kernel + 1 + j
                        if source >= 0 { s += wv[c * kernel + j] * xv[(b * time + source) * channels + c] }
                    }
                    out[(b * time + t) * channels + c] = s
                }
            }
        }
        return out
    }

    @Test(arguments: DType.allCases)
    func depthwiseCausalConvolution(dtype: DType) {
        let shape = [2, 7, 3]
        let (x, xv) = FwdRef.random(shape, dtype, seed: 170)
        for kernel in [1, 3, 4, 9] {
            let (w, wv) = FwdRef.random([3, kernel], dtype, seed: 171)
            let (b, bv) = FwdRef.random([3], dtype, seed: 172)
            FwdRef.expectClose(x.depthwiseCausalConvolution(weight: w), Self.convolutionReference(xv, shape, wv, kernel: kernel, bias: nil),
                               shape: shape, dtype: dtype, scale: 4, "kernel \(kernel)")
            FwdRef.expectClose(x.depthwiseCausalConvolution(weight: w, bias: b), Self.convolutionReference(xv, shape, wv, kernel: kernel, bias: bv),
                               shape: shape, dtype: dtype, scale: 4, "kernel \(kernel) with bias")
        }
        // With earlier inputs given no output: the full convolution's last positions, for histories shorter, as long as
        // and longer than the kernel reaches.
        for (kernel, past) in [(4, 1), (4, 3), (4, 6), (3, 7), (1, 2)] {
            let (w, wv) = FwdRef.random([3, kernel], dtype, seed: 175)
            let (b, bv) = FwdRef.random([3], dtype, seed: 176)
            let full = Self.convolutionReference(xv, shape, wv, kernel: kernel, bias: bv)
            var last: [Double] = []
            for batch in 0..<2 {
                let (from, to) = ((batch * 7 + past) * 3, (batch + 1) * 7 * 3)
                last += full[from..<to]
            }
            FwdRef.expectClose(x.depthwiseCausalConvolution(weight: w, bias: b, past: past), last, shape: [2, 7 - past, 3], dtype: dtype,
                               scale: 4, "kernel \(kernel), past \(past)")
        }
        // A known case: kernel [1, 2] on one channel gives y[t] = x[t-1] + 2 x[t].
        let one = Tensor(shape: [1, 4, 1], [1, 10, 100, 1000], dtype: dtype)
        FwdRef.expectClose(one.depthwiseCausalConvolution(weight: Tensor(shape: [1, 2], [1, 2], dtype: dtype)), [2, 21, 210, 2100],
                           shape: [1, 4, 1], dtype: dtype, "known")
        // Non-contiguous input.
        let (xt, xtv) = FwdRef.random([2, 3, 7], dtype, seed: 173)
        let (w, wv) = FwdRef.random([3, 3], dtype, seed: 174)
        let permuted = (0..<42).map { f -> Double in let i = FwdRef.unravel(f, shape); return xtv[FwdRef.ravel([i[0], i[2], i[1]], [2, 3, 7])] }
        FwdRef.expectClose(xt.permute([0, 2, 1]).depthwiseCausalConvolution(weight: w), Self.convolutionReference(permuted, shape, wv, kernel: 3, bias: nil),
                           shape: shape, dtype: dtype, scale: 4, "permuted input")
    }

    @Test(arguments: DType.allCases)
    func depthwiseConvolutionIsCausal(dtype: DType) {
        let shape = [2, 8, 3]
        let (_, xv) = FwdRef.random(shape, dtype, seed: 180)
        let (w, _) = FwdRef.random([3, 4], dtype, seed: 181)
        let y = FwdRef.readElements(Tensor(shape: shape, xv, dtype: dtype).depthwiseCausalConvolution(weight: w))
        for t in 0..<8 {
            var changed = xv
            for b in 0..<2 { for c in 0..<3 { changed[(b * 8 + t) * 3 + c] += 5 } }
            let y2 = FwdRef.readElements(Tensor(shape: shape, changed, dtype: dtype).depthwiseCausalConvolution(weight: w))
            for f in 0..<y.count {
                let time = (f / 3) % 8
                if time < t {
                    #expect(y2[f] == y[f], "output at time \(time) changed when x at time \(t) changed")
                } else if time == t {
                    #expect(y2[f] != y[f], "output at time \(time) ignores x at time \(t)")
                }
            }
        }
    }
}
