import CTitansKernels
import Foundation
import Testing
@testable import TitansTensor

/// The vectorised float32 exp/sigmoid/silu against the platform's scalar libm (the slow reference).
struct VectorMathTests {
    /// Inputs spanning the whole float range that matters: tiny, ordinary, near overflow and underflow, and specials.
    static let inputs: [Float] = {
        var values: [Float] = [0, -0, 1, -1, 0.5, 1e-30, -1e-30, 88.7, 88.72, 89, 100, -87.3, -88, -100, -103.9, -110,
                               .infinity, -.infinity, .nan, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        var rng = RandomGenerator(seed: 11)
        for _ in 0..<20_000 { values.append(Float(rng.nextUniform() * 200 - 100)) }
        for _ in 0..<5_000 { values.append(Float(rng.nextUniform() * 2 - 1)) }
        return values
    }()

    /// Units in the last place between `a` and the correctly rounded `b` (computed in Double).
    /// Near the bottom of float's range an intermediate exp is subnormal and has few significant bits
    /// (sigmoid of −90 is 8e−40): an absolute error below 1e−37 counts as exact there.
    static func ulps(_ a: Float, _ b: Double) -> Double {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN ? 0 : .infinity }
        if Swift.abs(Double(a) - b) < 1e-37 { return 0 }
        let rounded = Float(b)
        if a == rounded { return 0 }
        if a.isInfinite || rounded.isInfinite { return .infinity }
        let spacing = Double(max(rounded.ulp, Float.leastNonzeroMagnitude))
        return Swift.abs(Double(a) - b) / spacing
    }

    /// The worst error in ulp of `f` over ``inputs`` and the input where it occurs.
    static func check(_ f: (Float) -> Float, _ reference: (Double) -> Double) -> (Double, Float) {
        var worst = 0.0, at: Float = 0
        for x in inputs {
            let e = ulps(f(x), reference(Double(x)))
            if e > worst { worst = e; at = x }
        }
        return (worst, at)
    }

    @Test func expMatchesLibm() {
        let (worst, at) = Self.check({ VectorMath.exp($0) }, { Foundation.exp($0) })
        #expect(worst <= 2, "worst error \(worst) ulp at x = \(at)")
    }

    @Test func sigmoidMatchesLibm() {
        // Error budget: exp (≤ 2 ulp) then a division and, for negative x, a product: ≤ 4 ulp.
        let (worst, at) = Self.check({ VectorMath.sigmoid($0) }, { 1 / (1 + Foundation.exp(-$0)) })
        #expect(worst <= 4, "worst error \(worst) ulp at x = \(at)")
    }

    @Test func siluMatchesLibm() {
        let (worst, at) = Self.check({ VectorMath.silu($0) }, { $0 / (1 + Foundation.exp(-$0)) })
        #expect(worst <= 4, "worst error \(worst) ulp at x = \(at)")
    }

    /// The same algorithm compiled for AVX2 (`CTitansKernels/VectorMathAVX2.c`, which the tensor ops take on such
    /// CPUs for contiguous tensors) gives VectorMath's results bit for bit, so within the same budgets of libm.
    @Test(.enabled(if: VectorMath.hasAVX2, "this CPU has no AVX2 and FMA: the tensor ops take VectorMath's loops"),
          arguments: [(titans_exp, 2.0), (titans_sigmoid, 4.0), (titans_silu, 4.0)])
    func avx2LoopsEqualVectorMath(function: titans_vector_function, budget: Double) {
        let (portable, reference): ((Float) -> Float, (Double) -> Double) = switch function {
        case titans_exp: (VectorMath.exp, { Foundation.exp($0) })
        case titans_sigmoid: (VectorMath.sigmoid, { 1 / (1 + Foundation.exp(-$0)) })
        default: (VectorMath.silu, { $0 / (1 + Foundation.exp(-$0)) })
        }
        var out = [Float](repeating: 0, count: Self.inputs.count)
        Self.inputs.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                titans_vector_function_avx2(function, x.baseAddress!, y.baseAddress!, x.count)
            }
        }
        var worst = 0.0, at: Float = 0
        for (x, y) in zip(Self.inputs, out) {
            let expected = portable(x)
            #expect(y.bitPattern == expected.bitPattern || (y.isNaN && expected.isNaN), "x = \(x): \(y) against \(expected)")
            let e = Self.ulps(y, reference(Double(x)))
            if e > worst { (worst, at) = (e, x) }
        }
        #expect(worst <= budget, "worst error \(worst) ulp at x = \(at)")
    }

    /// The tensor ops take the vector path for float32 and libm for float64: the two must agree.
    @Test(arguments: [7, 8, 1000, 70_001])
    func tensorOpsAgreeAcrossDTypes(count: Int) {
        var rng = RandomGenerator(seed: UInt64(count))
        let x = Tensor.randomNormal([count], standardDeviation: 10, generator: &rng)
        let x64 = x.to(.float64)
        for (fast, slow) in [(x.exp(), x64.exp()), (x.sigmoid(), x64.sigmoid()), (x.silu(), x64.silu())] {
            let a = fast.toFloatArray(), b = slow.toArray()
            let worst = zip(a, b).map { Self.ulps($0, $1) }.max() ?? 0
            #expect(worst <= 4, "worst error \(worst) ulp")
        }
    }
}
