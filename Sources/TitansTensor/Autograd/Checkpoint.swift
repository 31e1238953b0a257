/// Activation checkpointing: a computation whose intermediate results are not kept for the backward pass, which runs
/// it again instead. Memory for backward then grows with the checkpoints' inputs and outputs, not with everything
/// inside them, for one more forward pass of compute.
extension Tensor {
    /// `body(inputs)`, its intermediate results dropped: a backward pass recomputes `body` from the same inputs with
    /// recording on and differentiates that. `parameters` are the other tensors `body` reads that need gradients (a
    /// module's weights). `body` must compute the same values when run again (no randomness of its own). The outputs
    /// come back as slices of one packed tensor, so a backward pass takes them all in one recomputation.
    public static func checkpointed(_ inputs: [Tensor], parameters: [Tensor],
                                    _ body: @escaping ([Tensor]) -> [Tensor]) -> [Tensor] {
        let sources = inputs + parameters
        let replay = checkpointReplay  // inside an outer checkpoint's body: keep the outputs, or take the ones kept
        guard GradMode.isEnabled else { return replay?.keep(inputs, body) ?? body(inputs) }
        let kept = replay?.take(inputs)
        guard sources.contains(where: \.requiresGrad) else { return kept ?? body(inputs) }
        let outputs = kept ?? withoutGradients { body(inputs) }
        guard !outputs.isEmpty else { return [] }
        precondition(outputs.allSatisfy { $0.dtype == outputs[0].dtype }, "checkpointed: outputs of different dtypes")
        let shapes = outputs.map(\.shape)
        let packed = withoutGradients { concatenate(outputs.map { $0.reshape([-1]) }, axis: 0) }
        let recorded = record(packed, "checkpoint", sources) { ctx in
            // Again, recording, then the gradients of the packed outputs. A first-order pass starts from detached copies
            // of the inputs (the walk stops there); one that records its own graph (second order) from the inputs
            // themselves, so its gradients still depend on them.
            let createGraph = GradMode.isEnabled
            let starts = createGraph ? inputs : inputs.map { $0.requiresGrad ? $0.detach().requiringGrad() : $0.detach() }
            let again = GradMode.with(enabled: true) { concatenate(body(starts).map { $0.reshape([-1]) }, axis: 0) }
            let targets = zip(sources, starts + parameters).filter { $0.0.requiresGrad }.map(\.1)
            var gradients = gradients(of: again, withRespectTo: targets, seed: ctx.grad, createGraph: createGraph)
                .makeIterator()
            return sources.map { $0.requiresGrad ? gradients.next() : nil }
        }
        var start = 0
        return shapes.map { shape in
            let count = Shape.count(shape)
            defer { start += count }
            return recorded.slice(axis: 0, start: start, end: start + count).reshape(shape)
        }
    }
}
