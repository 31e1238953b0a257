import Foundation
import Testing
@testable import TitansNN

private func normal(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.randomNormal(shape, dtype: .float64, generator: &rng)
}

private func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape, "shapes differ: \(a.shape) vs \(b.shape)")
    return zip(a.toArray(), b.toArray()).reduce(0) { Swift.max($0, Swift.abs($1.0 - $1.1)) }
}

@Suite("Rotary embedding")
struct RotaryEmbeddingTests {
    /// Direct loops: pair (c, c + d/2) rotated by angle p·base^(-2c/d).
    private func loopReference(_ x: Tensor, offset: Int, base: Double = 10000) -> [Double] {
        let (b, h, t, d) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var out = [Double](repeating: 0, count: x.count)
        for bi in 0..<b {
            for hi in 0..<h {
                for ti in 0..<t {
                    let row = ((bi * h + hi) * t + ti) * d
                    for c in 0..<(d / 2) {
                        let theta = Double(offset + ti) * pow(base, -2 * Double(c) / Double(d))
                        let (x1, x2) = (x[bi, hi, ti, c], x[bi, hi, ti, c + d / 2])
                        out[row + c] = x1 * cos(theta) - x2 * sin(theta)
                        out[row + c + d / 2] = x2 * cos(theta) + x1 * sin(theta)
                    }
                }
            }
        }
        return out
    }

    @Test(arguments: [0, 5, 1000])
    func equalsLoopReference(offset: Int) {
        let x = normal([2, 3, 7, 8], seed: 1)
        let rope = RotaryEmbedding(dimension: 8)
        let y = rope(x, offset: offset)
        #expect(y.shape == x.shape)
        #expect(zip(y.toArray(), loopReference(x, offset: offset)).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
    }

    @Test func otherBaseAndRank3Input() {
        let x = normal([1, 1, 4, 6], seed: 2)
        let rope = RotaryEmbedding(dimension: 6, base: 500)
        let y = rope(x.reshape([1, 4, 6]), offset: 3)
        #expect(zip(y.toArray(), loopReference(x, offset: 3, base: 500)).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
    }

    @Test func preservesNorms() {
        let x = normal([1, 2, 5, 8], seed: 3)
        let y = RotaryEmbedding(dimension: 8)(x, offset: 17)
        let nx = (x * x).sum(axis: -1), ny = (y * y).sum(axis: -1)
        #expect(maxAbsDifference(nx, ny) < 1e-12)
    }

    @Test func innerProductDependsOnlyOnRelativePosition() {
        let rope = RotaryEmbedding(dimension: 8)
        let q = normal([1, 1, 1, 8], seed: 4), k = normal([1, 1, 1, 8], seed: 5)
        func score(_ m: Int, _ n: Int) -> Double { (rope(q, offset: m) * rope(k, offset: n)).sum().item() }
        for (m, n) in [(0, 0), (3, 1), (10, 4), (7, 7)] {
            let shift = 37
            #expect(Swift.abs(score(m, n) - score(m + shift, n + shift)) < 1e-10, "(\(m), \(n))")
        }
        // Not a constant: different relative positions give different scores.
        #expect(Swift.abs(score(3, 1) - score(1, 3)) > 1e-6)
    }

    @Test func offsetDecodeEqualsSlicingTheFullComputation() {
        let x = normal([2, 2, 9, 4], seed: 6)
        let rope = RotaryEmbedding(dimension: 4)
        let full = rope(x)
        for p in 0..<9 {
            let step = rope(x.slice(axis: 2, start: p, end: p + 1), offset: p)
            #expect(maxAbsDifference(step, full.slice(axis: 2, start: p, end: p + 1)) < 1e-14)
        }
        let tail = rope(x.slice(axis: 2, start: 4, end: 9), offset: 4)
        #expect(maxAbsDifference(tail, full.slice(axis: 2, start: 4, end: 9)) < 1e-14)
    }

    @Test func rotateHalf() {
        let x = Tensor(shape: [1, 4], [1, 2, 3, 4], dtype: .float64)
        #expect(RotaryEmbedding.rotateHalf(x).toArray() == [-3, -4, 1, 2])
    }

    @Test func gradientCheck() {
        let rope = RotaryEmbedding(dimension: 4)
        let result = GradientCheck.first(inputs: [normal([1, 2, 3, 4], seed: 7)]) { t in rope(t[0], offset: 2) }
        #expect(result.passed, "\(result)")
    }

    /// The one-kernel rotation equals the composed form `x * cos + rotateHalf(x) * sin`, on a permuted view too, and
    /// its first and second derivatives are exact.
    @Test func kernelEqualsTheComposedForm() {
        let rope = RotaryEmbedding(dimension: 8)
        let tables = rope.tables(offset: 5, count: 3, dtype: .float64)
        for x in [normal([2, 2, 3, 8], seed: 9), normal([2, 3, 2, 8], seed: 10).permute([0, 2, 1, 3])] {
            let composed = x * tables.cos + RotaryEmbedding.rotateHalf(x) * tables.sin
            let angles = rope.angleTables(offset: 5, count: 3, dtype: .float64)
            #expect(maxAbsDifference(RotaryEmbedding.rotate(x, angles: angles), composed) < 1e-14)
        }
        let second = GradientCheck.second(inputs: [normal([1, 2, 3, 4], seed: 11)]) { t in RotaryEmbedding(dimension: 4)(t[0], offset: 3).tanh() }
        #expect(second.passed, "\(second)")
    }

    @Test func float32MatchesFloat64() {
        let x = normal([1, 2, 6, 8], seed: 8)
        let rope = RotaryEmbedding(dimension: 8)
        #expect(maxAbsDifference(rope(x.to(.float32), offset: 100).to(.float64), rope(x, offset: 100)) < 1e-5)
    }
}
