/// The outputs of checkpoints nested inside an outer checkpoint's body, kept from the body's first run so that its
/// run again in the backward pass does not compute them a second time.
///
/// A checkpoint inside another (a block recomputed in backward, its memory in groups recomputed in turn) runs three
/// times: in the forward pass, where gradients are off and it runs its body directly; when the backward pass runs the
/// outer body again, where it runs its body once more without gradients to get the outputs it records; and when the
/// backward pass reaches it. The second run gives the first run's numbers from the same inputs, so a replay log kept
/// by the outer body takes them from the first run instead: the nested checkpoints cost two runs, not three. Only the
/// checkpoints directly inside are kept (deeper ones run as before); a checkpoint whose inputs' shapes differ from
/// the ones kept runs its body.
///
/// ```swift
/// let replay = CheckpointReplay()
/// let y = Tensor.checkpointed([x], parameters: block.parameters()) { x in replay.run { [block(x[0])] } }
/// ```
public final class CheckpointReplay: @unchecked Sendable {
    private var kept: [(inputShapes: [[Int]], outputs: [Tensor])] = []
    private var next = 0

    public init() {}

    /// `body` with the checkpoints it calls keeping their outputs (while gradients are off) or taking the ones kept
    /// (while they are on), in the order they are called.
    public func run<Result>(_ body: () -> Result) -> Result {
        next = 0
        return Tensor.$checkpointReplay.withValue(self, operation: body)
    }

    /// Keeps the outputs of the next checkpoint, computed by `body` with deeper checkpoints not kept (in place of what
    /// an earlier run kept there).
    func keep(_ inputs: [Tensor], _ body: ([Tensor]) -> [Tensor]) -> [Tensor] {
        let outputs = Tensor.$checkpointReplay.withValue(nil) { body(inputs) }
        let entry = (inputShapes: inputs.map(\.shape), outputs: outputs)
        if next < kept.count { kept[next] = entry } else { kept.append(entry) }
        next += 1
        return outputs
    }

    /// The outputs kept for the next checkpoint, or `nil` where none were kept for inputs of these shapes.
    func take(_ inputs: [Tensor]) -> [Tensor]? {
        defer { next += 1 }
        guard next < kept.count, kept[next].inputShapes == inputs.map(\.shape) else { return nil }
        return kept[next].outputs
    }
}

extension Tensor {
    /// The replay log of the outer checkpoint body being run, if any (``CheckpointReplay``).
    @TaskLocal static var checkpointReplay: CheckpointReplay?
}
