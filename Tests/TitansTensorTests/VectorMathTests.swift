import CTitansKernels
import Foundation
import Testing
@testable import TitansTensor

/// The vectorised float32 exp/sigmoid/silu/erf/gelu against the platform's scalar libm (the slow reference).
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

    @Test func erfMatchesLibm() {
        let (worst, at) = Self.check({ VectorMath.erf($0) }, { Foundation.erf($0) })
        #expect(worst <= 3, "worst error \(worst) ulp at x = \(at)")
    }

    /// Exact GELU `x Φ(x)` in Double, Φ through erfc so that it keeps its precision where Φ is small.
    static func gelu(_ x: Double) -> Double { x * Foundation.erfc(-x / 2.0.squareRoot()) / 2 }

    /// GELU's error in ulp of the larger of its value and x/2: `x (1 + erf(x/√2)) / 2` in float — the op's formula in
    /// every precision, as in PyTorch — keeps erf's absolute error, so where Φ(x) is small (x below about −2) the
    /// result is as precise as x/2 times a number near 1, not relative to itself.
    static func geluULPs(_ y: Float, _ x: Float) -> Double {
        let exact = gelu(Double(x))
        if y.isNaN || exact.isNaN { return y.isNaN && exact.isNaN ? 0 : .infinity }
        let scale = Float(Swift.max(Swift.abs(exact), Swift.abs(Double(x)) / 2))
        if scale.isInfinite { return y.isInfinite || Float(exact) == y ? 0 : .infinity }
        return Swift.abs(Double(y) - exact) / Double(Swift.max(scale.ulp, Float.leastNonzeroMagnitude))
    }

    @Test func geluMatchesItsFormula() {
        var worst = 0.0, at: Float = 0
        for x in Self.inputs {
            let e = Self.geluULPs(VectorMath.gelu(x), x)
            if e > worst { (worst, at) = (e, x) }
        }
        #expect(worst <= 4, "worst error \(worst) ulp at x = \(at)")
    }

    /// The same algorithm compiled for AVX2 (`CTitansKernels/VectorMathAVX2.c`, which the tensor ops take on such
    /// CPUs for contiguous tensors) gives VectorMath's results bit for bit, so within the same budgets of libm.
    @Test(.enabled(if: VectorMath.hasAVX2, "this CPU has no AVX2 and FMA: the tensor ops take VectorMath's loops"),
          arguments: [(titans_exp, 2.0), (titans_sigmoid, 4.0), (titans_silu, 4.0), (titans_erf, 3.0), (titans_gelu, 4.0)])
    func avx2LoopsEqualVectorMath(function: titans_vector_function, budget: Double) {
        let (portable, error): ((Float) -> Float, (Float, Float) -> Double) = switch function {
        case titans_exp: (VectorMath.exp, { Self.ulps($0, Foundation.exp(Double($1))) })
        case titans_sigmoid: (VectorMath.sigmoid, { Self.ulps($0, 1 / (1 + Foundation.exp(-Double($1)))) })
        case titans_silu: (VectorMath.silu, { Self.ulps($0, Double($1) / (1 + Foundation.exp(-Double($1)))) })
        case titans_erf: (VectorMath.erf, { Self.ulps($0, Foundation.erf(Double($1))) })
        default: (VectorMath.gelu, Self.geluULPs)
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
            let e = error(y, x)
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
        for (fast, slow) in [(x.exp(), x64.exp()), (x.sigmoid(), x64.sigmoid()), (x.silu(), x64.silu()),
                             ((x * 0.1).erf(), (x64 * 0.1).erf())] {
            let a = fast.toFloatArray(), b = slow.toArray()
            let worst = zip(a, b).map { Self.ulps($0, $1) }.max() ?? 0
            #expect(worst <= 4, "worst error \(worst) ulp")
        }
        // GELU in float64 is libm's erf in the same formula: its error in ulp of max(|GELU|, |x|/2) as above.
        let inputs = x.toFloatArray(), fast = x.gelu().toFloatArray(), slow = x64.gelu().toArray()
        var worst = 0.0
        for i in inputs.indices {
            let scale = Float(Swift.max(Swift.abs(slow[i]), Swift.abs(Double(inputs[i])) / 2))
            worst = Swift.max(worst, Swift.abs(Double(fast[i]) - slow[i]) / Double(scale.ulp))
        }
        #expect(worst <= 4, "worst error \(worst) ulp")
    }
}
