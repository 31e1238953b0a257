import Testing
@testable import TitansTensor

/// Finite differences need float64, but models train in float32, whose forward kernels differ (vectorised exp,
/// sigmoid and SiLU; single-precision BLAS). The float32 gradients, first and second order, must agree with the
/// float64 ones that the finite-difference checks verified, to float32 precision.
@Suite struct GradientFloat32Tests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let shapes: [[Int]]
        let f: @Sendable ([Tensor]) -> Tensor
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "exp, sigmoid, silu (vectorised in float32)", shapes: [[5, 7]]) { t in
            t[0].exp() * 0.1 + t[0].sigmoid() + t[0].silu()
        },
        Case(name: "large inputs to sigmoid and silu", shapes: [[3, 4]]) { t in (t[0] * 12).sigmoid() + (t[0] * 12).silu() },
        Case(name: "gelu, tanh, softplus", shapes: [[4, 6]]) { t in t[0].gelu() + t[0].tanh() * t[0].softplus() },
        Case(name: "MLP memory loss", shapes: [[3, 4], [4, 5], [5, 4], [3, 4]]) { t in
            (t[0].matmul(t[1]).silu().matmul(t[2]) - t[3]).squared().sum()
        },
        Case(name: "softmax attention", shapes: [[2, 3, 4], [2, 3, 4]]) { t in
            t[0].matmul(t[1].transposed()).softmax().matmul(t[1]).layerNormalized()
        },
        Case(name: "linear scan of sigmoid gates", shapes: [[2, 5, 3], [2, 5, 3]]) { t in
            Tensor.linearScan(t[0].sigmoid(), t[1], axis: 1).rmsNormalized()
        },
    ]

    /// `∇⟨f, v⟩` and `∇⟨∇⟨f, v⟩, w⟩` for inputs converted to `dtype`.
    static func derivatives(_ c: Case, _ dtype: DType) -> (first: [[Double]], second: [[Double]]) {
        var rng = RandomGenerator(seed: 401)
        let xs = c.shapes.map { Tensor.randomNormal($0, dtype: .float64, generator: &rng).to(dtype).requiringGrad() }
        let y = c.f(xs)
        let v = Tensor.randomNormal(y.shape, dtype: .float64, generator: &rng).to(dtype)
        let ws = xs.map { Tensor.randomNormal($0.shape, dtype: .float64, generator: &rng).to(dtype) }
        let first = Tensor.gradients(of: (y * v).sum(), withRespectTo: xs, createGraph: true)
        let projected = zip(first, ws).map { ($0 * $1).sum() }.reduce(Tensor.scalar(0, dtype: dtype), +)
        let second = Tensor.gradients(of: projected, withRespectTo: xs)
        return (first.map { $0.toArray() }, second.map { $0.toArray() })
    }

    @Test(arguments: cases)
    func float32AgreesWithFloat64(_ c: Case) {
        let single = Self.derivatives(c, .float32), double = Self.derivatives(c, .float64)
        for (order, (s, d)) in [("first", (single.first, double.first)), ("second", (single.second, double.second))] {
            for (input, (sv, dv)) in zip(s, d).enumerated() {
                let scale = dv.map { Swift.abs($0) }.max() ?? 0
                let error = zip(sv, dv).map { Swift.abs($0 - $1) }.max() ?? 0
                // float32 carries ~7 digits; a few dozen roundings through the graph stay well inside 1e-4 of the scale.
                #expect(error <= 1e-4 * Swift.max(scale, 1), "\(order) order, input \(input): error \(error), scale \(scale)")
            }
        }
    }
}
