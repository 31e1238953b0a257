import Testing
@testable import TitansTensor

@Suite struct GradientSoftmaxTests {
    @Test(arguments: [0, 1, 2, -1])
    func softmax(axis: Int) {
        expectFirstOrder([Inputs.normal([2, 3, 4], seed: 131)]) { $0[0].softmax(axis: axis) }
    }

    @Test(arguments: [0, 1, 2, -1])
    func logSoftmax(axis: Int) {
        expectFirstOrder([Inputs.normal([2, 3, 4], seed: 132)]) { $0[0].logSoftmax(axis: axis) }
    }

    @Test func softmaxOfViewsAndLargeLogits() {
        let x = Inputs.normal([4, 3], seed: 133)
        expectFirstOrder([x]) { $0[0].transposed().softmax() }
        expectFirstOrder([x]) { $0[0].transposed().logSoftmax(axis: 0) }
        expectFirstOrder([x]) { $0[0].slice(axis: 0, start: 0, end: 4, step: 2).softmax(axis: 0) }
        // Logits near 500 would overflow exp without the max shift.
        let big = (x * 3 + 500).detach()
        expectFirstOrder([big]) { $0[0].softmax() }
        expectFirstOrder([big]) { $0[0].logSoftmax() }
    }

    @Test func crossEntropy() {
        let logits = Inputs.normal([4, 5], seed: 134)
        expectFirstOrder([logits]) { $0[0].crossEntropy(targets: Inputs.indices([4], [0, 4, 2, 4])) }
        let batched = Inputs.normal([2, 3, 5], seed: 135)
        expectFirstOrder([batched]) { $0[0].crossEntropy(targets: Inputs.indices([2, 3], [1, 0, 4, 4, 3, 2])) }
        let single = Inputs.normal([3], seed: 136)
        expectFirstOrder([single]) { $0[0].crossEntropy(targets: Inputs.indices([], [2])) }
        // Logits computed from a matmul, as in a language-model head.
        let h = Inputs.normal([3, 4], seed: 137), w = Inputs.normal([5, 4], seed: 138)
        expectFirstOrder([h, w]) { $0[0].matmul($0[1].transposed()).crossEntropy(targets: Inputs.indices([3], [4, 1, 1])) }
    }
}

@Suite struct GradientNormalizationTests {
    let x = Inputs.normal([2, 3, 4], seed: 141)

    @Test func rmsNormalized() {
        expectFirstOrder([x]) { $0[0].rmsNormalized() }
        expectFirstOrder([x, Inputs.normal([4], seed: 142)]) { $0[0].rmsNormalized(weight: $0[1]) }
        expectFirstOrder([x]) { $0[0].transposed().rmsNormalized(epsilon: 1e-3) }
    }

    @Test func layerNormalized() {
        expectFirstOrder([x]) { $0[0].layerNormalized() }
        expectFirstOrder([x, Inputs.normal([4], seed: 143), Inputs.normal([4], seed: 144)]) {
            $0[0].layerNormalized(weight: $0[1], bias: $0[2])
        }
        expectFirstOrder([x, Inputs.normal([4], seed: 145)]) { $0[0].layerNormalized(weight: $0[1]) }
        expectFirstOrder([x, Inputs.normal([3], seed: 146)]) { $0[0].permute([0, 2, 1]).layerNormalized(bias: $0[1]) }
    }

    @Test(arguments: [0, 1, 2, -1])
    func l2Normalized(axis: Int) {
        expectFirstOrder([x]) { $0[0].l2Normalized(axis: axis) }
    }

    @Test func l2NormalizedOfView() {
        expectFirstOrder([x]) { $0[0].transposed(0, 2).l2Normalized(epsilon: 1e-4) }
    }
}

@Suite struct GradientMaskTests {
    @Test(arguments: [-1, 0, 1, 2])
    func lowerTriangle(diagonal: Int) {
        expectFirstOrder([Inputs.normal([3, 4], seed: 151)]) { $0[0].lowerTriangle(diagonal: diagonal) }
        expectFirstOrder([Inputs.normal([2, 4, 3], seed: 152)]) { $0[0].lowerTriangle(diagonal: diagonal) }
    }

    @Test(arguments: [-1, 0, 1, 2])
    func upperTriangle(diagonal: Int) {
        expectFirstOrder([Inputs.normal([3, 4], seed: 153)]) { $0[0].upperTriangle(diagonal: diagonal) }
        expectFirstOrder([Inputs.normal([2, 4, 3], seed: 154)]) { $0[0].upperTriangle(diagonal: diagonal) }
    }

    @Test func trianglesOfViews() {
        let x = Inputs.normal([4, 3], seed: 155)
        expectFirstOrder([x]) { $0[0].transposed().lowerTriangle() }
        expectFirstOrder([x]) { $0[0].transposed().upperTriangle(diagonal: 1) }
    }

    @Test func causallyMaskedAttentionScores() {
        // The pattern attention uses: mask the scores with `where`, then softmax.
        let q = Inputs.normal([3, 2], seed: 156), k = Inputs.normal([3, 2], seed: 157)
        let mask = Tensor.causalMask(3, dtype: .float64)
        expectFirstOrder([q, k]) { t in
            Tensor.where(mask, t[0].matmul(t[1].transposed()), Tensor.scalar(-1e9, dtype: .float64)).softmax()
        }
    }
}
