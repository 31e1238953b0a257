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

    /// Checkpoints inside a checkpoint: with a replay log the inner bodies run twice (forward, and when the backward
    /// pass reaches them) instead of three times, a third level inside them as without a log, and the gradients are
    /// those of the whole recording.
    @Test(arguments: [false, true])
    func nestedCheckpointsReplayTheForwardPass(_ replaying: Bool) {
        let x = Tensor(shape: [3, 4], Self.values(12, seed: 0.1), dtype: .float64).requiringGrad()
        let weight = Tensor(shape: [4, 4], Self.values(16, seed: 0.05), dtype: .float64).requiringGrad()
        var (innerRuns, deepestRuns) = (0, 0)
        func deepest(_ t: Tensor) -> Tensor { deepestRuns += 1; return (t * 0.5).tanh() * t }
        func inner(_ t: Tensor) -> Tensor {  // a group: its rows through the weight, a deeper checkpoint inside
            innerRuns += 1
            return Tensor.checkpointed([t.matmul(weight).tanh()], parameters: []) { [deepest($0[0])] }[0] + t
        }
        func outer(_ t: Tensor) -> Tensor {  // a block: two groups of rows, one after the other
            let first = Tensor.checkpointed([t.slice(axis: 0, start: 0, end: 2)], parameters: [weight]) { [inner($0[0])] }[0]
            let second = Tensor.checkpointed([first.slice(axis: 0, start: 1, end: 2) + t.slice(axis: 0, start: 2, end: 3)],
                                             parameters: [weight]) { [inner($0[0])] }[0]
            return Tensor.concatenate([first, second], axis: 0).exp()
        }
        let plain = Tensor.gradients(of: outer(x).sum(), withRespectTo: [x, weight])
        (innerRuns, deepestRuns) = (0, 0)
        let replay = CheckpointReplay()
        let y = Tensor.checkpointed([x], parameters: [weight]) { t in [replaying ? replay.run { outer(t[0]) } : outer(t[0])] }[0]
        let again = Tensor.gradients(of: y.sum(), withRespectTo: [x, weight])
        for (a, p) in zip(again, plain) { #expect((a - p).abs().max().item() < 1e-12) }
        // Two groups: forward 2 runs; the block again in backward 0 with the log, 2 without; each group's backward 2.
        #expect(innerRuns == (replaying ? 4 : 6))
        #expect(deepestRuns == (replaying ? 6 : 8))
    }

    /// A log whose next entry was kept for inputs of other shapes runs the checkpoint's body.
    @Test func replayRunsTheBodyForOtherShapes() {
        let replay = CheckpointReplay()
        var runs = 0
        func body(_ t: [Tensor]) -> [Tensor] { runs += 1; return [t[0] * 3] }
        let short = Tensor(shape: [2], [1, 2], dtype: .float64).requiringGrad()
        let long = Tensor(shape: [3], [1, 2, 3], dtype: .float64).requiringGrad()
        _ = withoutGradients { replay.run { Tensor.checkpointed([short], parameters: [], body) } }
        let y = replay.run { Tensor.checkpointed([long], parameters: [], body) }[0]
        #expect(runs == 2 && y.toArray() == [3, 6, 9])
    }
}
