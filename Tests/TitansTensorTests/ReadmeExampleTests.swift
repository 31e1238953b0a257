import Testing
import TitansTensor

/// The README's example: an outer loss differentiated through one inner gradient step of a linear memory.
struct ReadmeExampleTests {
    /// The example's computation, in the given dtype, as a function of the memory weights `w`.
    static func outerLoss(_ w: Tensor, x: Tensor, v: Tensor) -> Tensor {
        let inner = (x.matmul(w) - v).squared().sum()
        let g = Tensor.gradients(of: inner, withRespectTo: [w], createGraph: true)[0]
        let updated = w - 0.01 * g
        return x.matmul(updated).silu().mean()
    }

    @Test func runsAsWrittenAndFillsTheGradient() throws {
        var rng = RandomGenerator(seed: 42)
        let w = Tensor.randomNormal([64, 64], standardDeviation: 0.1, generator: &rng).requiringGrad()
        let x = Tensor.randomNormal([8, 16, 64], generator: &rng)
        let v = Tensor.randomNormal([8, 16, 64], generator: &rng)
        Self.outerLoss(w, x: x, v: v).backward()
        let grad = try #require(w.grad)
        #expect(grad.shape == [64, 64])
        let values = grad.toArray()
        #expect(values.allSatisfy { $0.isFinite })
        #expect(values.contains { $0 != 0 })
    }

    /// The gradient through the inner step, checked by finite differences in float64 on a smaller copy.
    @Test func gradientThroughTheInnerStepIsRight() {
        var rng = RandomGenerator(seed: 43)
        let w = Tensor.randomNormal([4, 4], standardDeviation: 0.3, dtype: .float64, generator: &rng)
        let x = Tensor.randomNormal([2, 3, 4], dtype: .float64, generator: &rng)
        let v = Tensor.randomNormal([2, 3, 4], dtype: .float64, generator: &rng)
        let result = GradientCheck.first(inputs: [w]) { t in Self.outerLoss(t[0], x: x, v: v) }
        #expect(result.passed, "\(result)")
    }
}
