import Testing
@testable import TitansTensor

/// The checker itself must reject wrong rules, or every passing gradient test would be vacuous.
@Suite struct GradientCheckSelfTests {
    /// `x³` with a backward rule that is off by `error · x` (wrong when `error ≠ 0`), written in differentiable ops.
    static func cube(_ x: Tensor, error: Double) -> Tensor {
        let y = withoutGradients { x * x * x }
        return Tensor.record(y.detach(), "testCube", [x]) { ctx in
            let x = ctx.inputs[0]
            return [ctx.grad * (x * x * 3 + x * error)]
        }
    }

    /// `x³` whose rule is right in value but stops second-order gradients (it uses a detached input).
    static func cubeWithoutSecondOrder(_ x: Tensor) -> Tensor {
        let y = withoutGradients { x * x * x }
        return Tensor.record(y.detach(), "testCubeDetached", [x]) { ctx in
            let x = ctx.inputs[0].detach()
            return [ctx.grad * (x * x * 3)]
        }
    }

    let x = Inputs.normal([2, 3], seed: 301)

    @Test func acceptsACorrectRule() {
        expectFirstOrder([x]) { Self.cube($0[0], error: 0) }
        expectSecondOrder([x]) { Self.cube($0[0], error: 0) }
        expectSecondOrder([x]) { Self.cubeWithoutSecondOrder($0[0]) * 0 + $0[0].pow(3) }
    }

    @Test func rejectsAWrongFirstDerivative() {
        let result = GradientCheck.first(inputs: [x]) { Self.cube($0[0], error: 1e-3) }
        #expect(!result.passed, "\(result)")
        #expect(result.maxAbsoluteError > 1e-4)
    }

    @Test func rejectsARuleThatIsNotDifferentiableAgain() {
        #expect(GradientCheck.first(inputs: [x]) { Self.cubeWithoutSecondOrder($0[0]) }.passed)
        let result = GradientCheck.second(inputs: [x]) { Self.cubeWithoutSecondOrder($0[0]) }
        #expect(!result.passed, "\(result)")
    }

    @Test func restoresItsInputs() {
        let before = x.toArray()
        _ = GradientCheck.first(inputs: [x]) { $0[0].exp() }
        _ = GradientCheck.second(inputs: [x]) { $0[0].exp() }
        #expect(x.toArray() == before)
        #expect(!x.requiresGrad, "the caller's tensor is not marked")
    }
}
