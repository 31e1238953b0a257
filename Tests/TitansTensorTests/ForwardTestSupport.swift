import Foundation
import Testing
@testable import TitansTensor

/// Shared helpers of the forward tests: deterministic inputs from a test-local generator, the test's own
/// index arithmetic and broadcasting (independent of the library's), and tolerant comparisons.
/// Every expected value is computed here in `Double`, never with the code under test.
enum FwdRef {
    /// Deterministic doubles in `range` from a small LCG that has nothing to do with the library's generator.
    static func values(_ count: Int, seed: UInt64, in range: ClosedRange<Double> = -2...2) -> [Double] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x632B_E59B_D9B4_E019
        return (0..<count).map { _ in
            s = s &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let u = Double(s >> 11) * 0x1.0p-53
            return range.lowerBound + (range.upperBound - range.lowerBound) * u
        }
    }

    /// The values as a tensor of `dtype` holds them (float32 rounds each to the nearest `Float`).
    static func stored(_ v: [Double], _ dtype: DType) -> [Double] {
        dtype == .float32 ? v.map { Double(Float($0)) } : v
    }

    /// A contiguous tensor of deterministic values, with the exact values it holds.
    static func random(_ shape: [Int], _ dtype: DType, seed: UInt64, in range: ClosedRange<Double> = -2...2) -> (Tensor, [Double]) {
        let v = stored(values(count(shape), seed: seed, in: range), dtype)
        return (Tensor(shape: shape, v, dtype: dtype), v)
    }

    static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var running = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            s[d] = running
            running *= shape[d]
        }
        return s
    }

    static func unravel(_ flat: Int, _ shape: [Int]) -> [Int] {
        var rest = flat
        var index = [Int](repeating: 0, count: shape.count)
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            index[d] = rest % shape[d]
            rest /= shape[d]
        }
        return index
    }

    static func ravel(_ index: [Int], _ shape: [Int]) -> Int {
        zip(index, strides(shape)).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// NumPy broadcasting, written out independently for the tests.
    static func broadcastShape(_ shapes: [[Int]]) -> [Int] {
        let rank = shapes.map(\.count).max() ?? 0
        return (0..<rank).map { d in
            var size = 1
            for s in shapes {
                let i = d - (rank - s.count)
                if i >= 0 && s[i] != 1 { size = s[i] }
            }
            return size
        }
    }

    /// Element of row-major `values` of `shape` seen at multi-index `index` of a larger broadcast shape.
    static func element(_ values: [Double], _ shape: [Int], at index: [Int]) -> Double {
        let lead = index.count - shape.count
        var flat = 0
        var step = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            let i = shape[d] == 1 ? 0 : index[d + lead]
            flat += i * step
            step *= shape[d]
        }
        return values[flat]
    }

    /// Reference broadcast elementwise function of several operands.
    static func broadcastMap(_ operands: [([Double], [Int])], _ f: ([Double]) -> Double) -> (shape: [Int], values: [Double]) {
        let shape = broadcastShape(operands.map(\.1))
        let values = (0..<count(shape)).map { flat -> Double in
            let index = unravel(flat, shape)
            return f(operands.map { element($0.0, $0.1, at: index) })
        }
        return (shape, values)
    }

    /// Default tolerances: float32 results agree to a few units in the last place of a `Float`.
    static func tolerance(_ dtype: DType) -> (abs: Double, rel: Double) {
        dtype == .float64 ? (1e-12, 1e-12) : (1e-6, 2e-6)
    }

    /// Expects `t` to have `shape` and dtype `dtype`, and elements within `scale ×` the dtype's tolerance of `expected`.
    /// NaN matches NaN and infinities must match exactly.
    static func expectClose(_ t: Tensor, _ expected: [Double], shape: [Int], dtype: DType? = nil, scale: Double = 1,
                            _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(t.shape == shape, "\(what): shape \(t.shape), expected \(shape)", sourceLocation: sourceLocation)
        if let dtype { #expect(t.dtype == dtype, "\(what): dtype \(t.dtype), expected \(dtype)", sourceLocation: sourceLocation) }
        guard t.shape == shape else { return }
        let actual = readElements(t)
        let (atol, rtol) = tolerance(t.dtype)
        var failures = 0
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            let ok: Bool
            if e.isNaN { ok = a.isNaN } else if e.isInfinite { ok = a == e } else {
                ok = Swift.abs(a - e) <= scale * (atol + rtol * Swift.abs(e))
            }
            if !ok {
                failures += 1
                if failures <= 5 {
                    Issue.record("\(what): element \(i) \(unravel(i, shape)) is \(a), expected \(e) (\(t.dtype))", sourceLocation: sourceLocation)
                }
            }
        }
        #expect(actual.count == expected.count, "\(what): \(actual.count) elements, expected \(expected.count)", sourceLocation: sourceLocation)
        if failures > 5 { Issue.record("\(what): \(failures) elements differ in all", sourceLocation: sourceLocation) }
    }

    /// Reads every element through the raw storage, shape, strides and offset (not through `toArray`),
    /// in row-major order of `t.shape`.
    static func readElements(_ t: Tensor) -> [Double] {
        let n = count(t.shape)
        if n == 0 { return [] }
        var out = [Double](repeating: 0, count: n)
        var index = [Int](repeating: 0, count: t.rank)
        var p = t.offset
        for f in 0..<n {
            switch t.dtype {
            case .float32: out[f] = Double(t.storage.pointer(Float.self)[p])
            case .float64: out[f] = t.storage.pointer(Double.self)[p]
            }
            // Odometer step through the multi-index.
            var d = t.rank - 1
            while d >= 0 {
                index[d] += 1
                p += t.strides[d]
                if index[d] < t.shape[d] { break }
                p -= t.strides[d] * t.shape[d]
                index[d] = 0
                d -= 1
            }
        }
        return out
    }

    /// Reference matrix product of row-major `[..., m, k]` and `[..., k, n]` with broadcast batch dims.
    static func matmul(_ a: [Double], _ aShape: [Int], _ b: [Double], _ bShape: [Int]) -> (shape: [Int], values: [Double]) {
        let (m, k, n) = (aShape[aShape.count - 2], aShape[aShape.count - 1], bShape[bShape.count - 1])
        let aBatch = Array(aShape.dropLast(2)), bBatch = Array(bShape.dropLast(2))
        let batch = broadcastShape([aBatch, bBatch])
        var out: [Double] = []
        for bi in 0..<count(batch) {
            let index = unravel(bi, batch)
            func matrixStart(_ batchShape: [Int], _ rows: Int, _ cols: Int) -> Int {
                let lead = index.count - batchShape.count
                var flat = 0
                for d in 0..<batchShape.count { flat = flat * batchShape[d] + (batchShape[d] == 1 ? 0 : index[d + lead]) }
                return flat * rows * cols
            }
            let oa = matrixStart(aBatch, m, k), ob = matrixStart(bBatch, k, n)
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k { s += a[oa + i * k + p] * b[ob + p * n + j] }
                    out.append(s)
                }
            }
        }
        return (batch + [m, n], out)
    }

    /// Values of the transpose of a row-major `rows × cols` matrix.
    static func transpose(_ v: [Double], rows: Int, cols: Int) -> [Double] {
        (0..<(rows * cols)).map { f in v[(f % rows) * cols + f / rows] }
    }
}
