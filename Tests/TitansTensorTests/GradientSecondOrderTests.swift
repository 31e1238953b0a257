import Testing
@testable import TitansTensor

/// Gradient-of-gradient checks for every op that sits inside a neural memory's inner gradient step:
/// the memory's parameter update is itself a gradient, and training the outer model differentiates through it.
/// Linear ops (views, joins, scans) have a constant first derivative, so each is composed with a nonlinearity
/// to make the second derivative non-trivial.
@Suite struct GradientSecondOrderElementwiseTests {
    static let activations: [UnaryCase] = [
        UnaryCase("silu") { $0.silu() },
        UnaryCase("gelu") { $0.gelu() },
        UnaryCase("sigmoid") { $0.sigmoid() },
        UnaryCase("tanh") { $0.tanh() },
        UnaryCase("softplus") { $0.softplus() },
        UnaryCase("erf") { $0.erf() },
        UnaryCase("exp") { $0.exp() },
        UnaryCase("log", .positive) { $0.log() },
        UnaryCase("sqrt", .positive) { $0.sqrt() },
        UnaryCase("rsqrt", .positive) { $0.rsqrt() },
        UnaryCase("pow 3") { $0.pow(3) },
        UnaryCase("pow -1.5", .positive) { $0.pow(-1.5) },
        UnaryCase("squared") { $0.squared() },
        UnaryCase("4 / x", .awayFromZero) { 4 / $0 },
        UnaryCase("negate then affine") { -($0 * 3 - 1) / 2 + 0.5 },
        UnaryCase("relu, times x", .awayFromZero) { $0.relu() * $0 }, // |x| ≥ 0.2: away from the kink
        UnaryCase("abs, times x", .awayFromZero) { $0.abs() * $0 },
        UnaryCase("silu of gelu") { $0.gelu().silu() },
        UnaryCase("tanh of silu times sigmoid") { $0.silu().tanh() * $0.sigmoid() },
        UnaryCase("softplus of exp") { ($0 * 0.5).exp().softplus() },
        UnaryCase("sigmoid of softplus over tanh") { ($0.softplus() / ($0.tanh() + 2)).sigmoid() },
        UnaryCase("log of sqrt of sigmoid") { $0.sigmoid().sqrt().log() },
    ]

    @Test(arguments: activations)
    func activation(_ c: UnaryCase) {
        expectSecondOrder([c.input([2, 3], seed: 201)]) { c.f($0[0]) }
    }

    @Test(arguments: BinaryCase.arithmetic, [ShapePair(lhs: [2, 3], rhs: [2, 3]), ShapePair(lhs: [2, 1, 3], rhs: [2, 1]),
                                               ShapePair(lhs: [], rhs: [3])])
    func arithmetic(_ c: BinaryCase, _ shapes: ShapePair) {
        let a = c.input(c.lhs, shapes.lhs, seed: 202), b = c.input(c.rhs, shapes.rhs, seed: 203)
        expectSecondOrder([a, b]) { c.f($0[0], $0[1]) }
        // Composed with a nonlinearity on each side, so that all mixed second derivatives are non-zero.
        expectSecondOrder([a, b]) { c.f($0[0], $0[1]).tanh() * $0[0].sigmoid() }
    }

    @Test func maximumAndMinimum() {
        let a = Inputs.distinct([2, 3], seed: 204, spacing: 1), b = Inputs.distinct([3], seed: 205, spacing: 1, offset: 0.5)
        expectSecondOrder([a, b]) { $0[0].maximum($0[1]).squared() }
        expectSecondOrder([a, b]) { ($0[0] * $0[1]).minimum($0[1].exp()) }
    }
}

@Suite struct GradientSecondOrderReductionTests {
    @Test(arguments: AxesCase.all, [false, true])
    func sumAndMean(_ c: AxesCase, keepDims: Bool) {
        let x = Inputs.normal([2, 3, 4], seed: 211)
        expectSecondOrder([x]) { $0[0].tanh().sum(axes: c.axes, keepDims: keepDims).squared() }
        expectSecondOrder([x]) { ($0[0] * $0[0].mean(axes: c.axes, keepDims: true)).mean(axes: c.axes, keepDims: keepDims) }
    }

    @Test(arguments: AxesCase.all, [false, true])
    func max(_ c: AxesCase, keepDims: Bool) {
        // Distinct values (spacing 0.25, all non-zero) keep the maximum of x·|x| unique, as x ↦ x·|x| is increasing.
        let x = Inputs.distinct([2, 3, 4], seed: 212, offset: 0.125)
        expectSecondOrder([x]) { ($0[0] * $0[0].abs()).max(axes: c.axes, keepDims: keepDims) }
        expectSecondOrder([x]) { $0[0].max(axes: c.axes, keepDims: keepDims).squared() }
    }

    @Test(arguments: AxesCase.all)
    func logSumExp(_ c: AxesCase) {
        expectSecondOrder([Inputs.normal([2, 3, 4], seed: 213)]) { $0[0].logSumExp(axes: c.axes) }
    }
}

@Suite struct GradientSecondOrderStructureTests {
    let x = Inputs.normal([2, 3, 4], seed: 221)

    @Test func views() {
        expectSecondOrder([x]) { $0[0].slice(axis: 1, start: 0, end: 3, step: 2).squared() }
        expectSecondOrder([x]) { $0[0].slice(axis: -1, start: 1, end: 3) * $0[0].slice(axis: -1, start: 2, end: 4) }
        expectSecondOrder([x]) { $0[0].reshape([6, 4]).silu() }
        expectSecondOrder([x]) { $0[0].transposed().reshape([2, 12]).tanh() }
        expectSecondOrder([x]) { $0[0].permute([2, 0, 1]).sigmoid() * $0[0].permute([2, 0, 1]) }
        expectSecondOrder([x]) { $0[0].select(axis: 1, index: 2).exp() }
        expectSecondOrder([x]) { $0[0].padded(axis: 2, before: 1, after: 2).softplus() }
        let v = Inputs.normal([3, 1], seed: 222)
        expectSecondOrder([v, x]) { $0[0].expand(to: [2, 3, 4]) * $0[1].tanh() * $0[0] }
        expectSecondOrder([v]) { $0[0].expand(to: [3, 4]).contiguous().gelu() }
    }

    @Test func joins() {
        let a = Inputs.normal([2, 2], seed: 223), b = Inputs.normal([2, 3], seed: 224)
        expectSecondOrder([a, b]) { Tensor.concatenate([$0[0], $0[1]], axis: 1).silu() }
        expectSecondOrder([a, b]) { Tensor.concatenate([$0[0] * $0[1].select(axis: 1, index: 0).unsqueeze(1), $0[1].tanh()], axis: -1).squared() }
        expectSecondOrder([a]) { Tensor.stack([$0[0], $0[0].exp()], axis: 1).sigmoid() }
        expectSecondOrder([b]) { t in
            let p = t[0].split(sizes: [1, 2], axis: 1)
            return (p[0] * p[1]).gelu()
        }
        expectSecondOrder([b]) { t in t[0].chunk(2, axis: 0)[0] * t[0].chunk(2, axis: 0)[1].exp() }
    }

    @Test func gathers() {
        let table = Inputs.normal([4, 3], seed: 225)
        let ids = Inputs.indices([5], [3, 0, 3, 1, 3])
        expectSecondOrder([table]) { $0[0].indexSelect(axis: 0, indices: ids).silu() }
        expectSecondOrder([table]) { $0[0].take(alongAxis: 1, indices: Inputs.indices([4], [2, 0, 1, 2])).exp() }
    }

    @Test(arguments: [false, true])
    func cumulativeSum(reverse: Bool) {
        expectSecondOrder([Inputs.normal([2, 4, 3], seed: 226)]) { $0[0].cumulativeSum(axis: 1, reverse: reverse).tanh() }
    }

    @Test(arguments: [false, true])
    func linearScan(reverse: Bool) {
        // The scan is bilinear in (a, h): its second derivative mixes a with b and the initial state.
        let a = Inputs.uniform([2, 4, 3], seed: 227, low: 0.2, high: 1)
        let b = Inputs.normal([2, 4, 3], seed: 228)
        let h = Inputs.normal([2, 1, 3], seed: 229)
        expectSecondOrder([a, b, h]) { Tensor.linearScan($0[0], $0[1], axis: 1, initial: $0[2], reverse: reverse) }
        expectSecondOrder([a, b]) { Tensor.linearScan($0[0].sigmoid(), $0[1], axis: 1, reverse: reverse).squared() }
        let perStep = Inputs.uniform([4, 1], seed: 230, low: 0.2, high: 1)
        expectSecondOrder([perStep, b, h]) { Tensor.linearScan($0[0], $0[1], axis: 1, initial: $0[2], reverse: reverse).silu() }
    }

    @Test func depthwiseCausalConvolution() {
        let x = Inputs.normal([2, 4, 3], seed: 231)
        let w = Inputs.normal([3, 3], seed: 232), bias = Inputs.normal([3], seed: 233)
        expectSecondOrder([x, w, bias]) { $0[0].depthwiseCausalConvolution(weight: $0[1], bias: $0[2]).silu() }
        expectSecondOrder([x, w]) { $0[0].depthwiseCausalConvolution(weight: $0[1]) }
    }
}

@Suite struct GradientSecondOrderLayerTests {
    @Test(arguments: GradientMatmulTests.cases.filter {
        ["2-D", "batched", "broadcast batch", "batched left x 2-D", "2-D x batched right", "transposed left",
         "transposed right", "batched both transposed", "batched left x transposed 2-D", "same operand twice"].contains($0.name)
    })
    func matmul(_ c: GradientMatmulTests.Case) {
        let a = Inputs.normal(c.lhs, seed: 241), b = Inputs.normal(c.rhs, seed: 242)
        // matmul is bilinear, so the check sees the cross terms; squaring adds the terms within each operand.
        expectSecondOrder([a, b]) { c.f($0[0], $0[1]) }
        expectSecondOrder([a, b]) { c.f($0[0], $0[1]).squared() }
    }

    @Test(arguments: [0, -1])
    func softmaxAndLogSoftmax(axis: Int) {
        let x = Inputs.normal([2, 3, 4], seed: 243)
        expectSecondOrder([x]) { $0[0].softmax(axis: axis) }
        expectSecondOrder([x]) { $0[0].logSoftmax(axis: axis) }
        expectSecondOrder([x]) { $0[0].crossEntropy(targets: Inputs.indices([2, 3], [0, 3, 3, 1, 2, 0])) }
    }

    @Test func normalizations() {
        let x = Inputs.normal([2, 3, 4], seed: 244), w = Inputs.normal([4], seed: 245), b = Inputs.normal([4], seed: 246)
        expectSecondOrder([x, w]) { $0[0].rmsNormalized(weight: $0[1]) }
        expectSecondOrder([x, w, b]) { $0[0].layerNormalized(weight: $0[1], bias: $0[2]) }
        expectSecondOrder([x]) { $0[0].l2Normalized() }
        expectSecondOrder([x]) { $0[0].l2Normalized(axis: 1) }
    }

    @Test func mlpMemoryLoss() {
        // The associative-memory loss of a two-layer MLP memory: ‖silu(x W1) W2 − v‖², differentiated twice
        // in every input (the inner update is ∇W of this loss, and the outer model trains through it).
        let x = Inputs.normal([3, 4], seed: 247), w1 = Inputs.normal([4, 5], seed: 248, scale: 0.5)
        let w2 = Inputs.normal([5, 4], seed: 249, scale: 0.5), v = Inputs.normal([3, 4], seed: 250)
        expectSecondOrder([w1, w2, x, v]) { t in (t[2].matmul(t[0]).silu().matmul(t[1]) - t[3]).squared().sum() }
    }

    @Test func mlpMemoryInnerStep() {
        // One step of test-time learning, W' = W − θ ∇W loss(W; k, v), then a read-out loss at the new weights:
        // its gradient in (W, k, v) is a second-order quantity, and checking it twice reaches third order.
        let w = Inputs.normal([4, 4], seed: 251, scale: 0.5), k = Inputs.normal([3, 4], seed: 252)
        let v = Inputs.normal([3, 4], seed: 253), q = Inputs.normal([2, 4], seed: 254)
        func step(_ t: [Tensor]) -> Tensor {
            let (w, k, v) = (t[0], t[1], t[2])
            let loss = (k.matmul(w).silu() - v).squared().sum()
            let g = Tensor.gradients(of: loss, withRespectTo: [w], createGraph: true)[0]
            let updated = w - 0.1 * g
            return q.matmul(updated).gelu()
        }
        expectFirstOrder([w, k, v], step)
        expectSecondOrder([w, k, v], step)
    }
}
