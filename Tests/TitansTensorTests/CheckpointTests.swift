import Testing
@testable import TitansTensor

/// Activation checkpointing gives the gradients of the computation it wraps (the reference: the same computation
/// recorded whole), first and second order, for several outputs, parameters, and inputs that need no gradient.
struct CheckpointTests {
    static func values(_ count: Int, seed: Double) -> [Double] {
        (0..<count).map { i -> Double in Double(i * 7 % 11) / 11 - 0.4 + seed }
    }

    @Test func gradientsMatchTheWholeRecording() {
        let x = Tensor(shape: [3, 4], Self.values(12, seed: 0.1), dtype: .float64).requiringGrad()
        let constant = Tensor(shape: [3, 4], Self.values(12, seed: -0.2), dtype: .float64)
        let weight = Tensor(shape: [4, 4], Self.values(16, seed: 0.05), dtype: .float64).requiringGrad()
        func body(_ inputs: [Tensor]) -> [Tensor] {
            let hidden = (inputs[0].matmul(weight) + inputs[1]).tanh()
            return [hidden.sum(axis: 1), (hidden * inputs[0]).exp()]
        }
        func loss(_ outputs: [Tensor]) -> Tensor { (outputs[0].squared().sum() + outputs[1].sum()) * 0.5 }
        let plain = Tensor.gradients(of: loss(body([x, constant])), withRespectTo: [x, weight], createGraph: true)
        let checkpointed = Tensor.checkpointed([x, constant], parameters: [weight], body)
        #expect(checkpointed.map(\.shape) == [[3], [3, 4]])
        let again = Tensor.gradients(of: loss(checkpointed), withRespectTo: [x, weight], createGraph: true)
        for (a, p) in zip(again, plain) { #expect((a - p).abs().max().item() < 1e-12) }
        // Second order: the gradient of the gradients' squared norm.
        func norm(_ g: [Tensor]) -> Tensor { g[0].squared().sum() + g[1].squared().sum() }
        let plainSecond = Tensor.gradients(of: norm(plain), withRespectTo: [x, weight])
        let second = Tensor.gradients(of: norm(again), withRespectTo: [x, weight])
        for (a, p) in zip(second, plainSecond) { #expect((a - p).abs().max().item() < 1e-10) }
    }

    @Test func recordsNothingWithoutGradients() {
        let x = Tensor(shape: [2], [1, 2], dtype: .float64)
        var runs = 0
        let y = Tensor.checkpointed([x], parameters: []) { runs += 1; return [$0[0] * 2] }
        #expect(!y[0].requiresGrad && runs == 1 && y[0].toArray() == [2, 4])
    }
}
