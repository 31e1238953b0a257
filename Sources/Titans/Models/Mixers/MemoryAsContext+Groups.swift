import TitansNN

extension MemoryAsContextLayer {
    /// Inside a block's recomputation (``LanguageModel/recomputesBlocks``): whole segments in groups of about
    /// `MemoryUpdate.recomputedGroupTokens` tokens, each run again in turn by the backward pass (`Tensor.checkpointed`),
    /// so that the block's recomputation keeps one group's activations and the state at each group's start, not every
    /// segment's. MAC writes its memory a segment at a time, too few tokens for the memory's own groups
    /// (``MemoryUpdate/checkpointedGroups``). Returns the groups' outputs and where they end in `x`; none when not
    /// recomputing, not at a segment's start, or given fewer than two groups' tokens.
    func recomputedGroups(_ x: Tensor, _ state: inout MemoryAsContextState, persistent: Tensor?) -> (outputs: [Tensor], end: Int) {
        guard let groupTokens = MemoryUpdate.recomputedGroupTokens.map({ max(segment, $0 / segment * segment) }),
              state.position % segment == 0, state.memory.cursor.isAtChunkBoundary,
              x.shape[1] >= 2 * groupTokens else { return ([], 0) }
        let parameters = self.parameters() + (persistent.map { [$0] } ?? [])
        // After a group every convolution has kept its last inputs (the memory's three, then the retrieval's); known
        // here, since with a replay log (`CheckpointReplay`) a group's body need not run before its outputs are read.
        let kept = [memory.queryConvolution, memory.keyConvolution, memory.valueConvolution, memory.queryConvolution].map { $0 != nil }
        var (outputs, start) = ([Tensor](), 0)
        while x.shape[1] - start >= groupTokens {
            let boundary = SegmentBoundary(state)
            let results = Tensor.checkpointed([x.slice(axis: 1, start: start, end: start + groupTokens)] + boundary.tensors,
                                              parameters: parameters) { t in
                // The persistent tokens' projection is made again inside, so their gradients pass through it.
                var inner = boundary.replaced(by: t.dropFirst()).state(persistent: nil)
                let y = self.segments(t[0], &inner, persistent: persistent)
                let reached = SegmentBoundary(inner)
                precondition(reached.histories.map { $0 != nil } == kept, "MemoryAsContext: a group kept other convolution inputs than expected")
                return [y] + reached.tensors
            }
            outputs.append(results[0])
            var end = boundary.replaced(by: results.dropFirst(), histories: kept)
            end.position += groupTokens
            state = end.state(persistent: state.persistent)
            start += groupTokens
        }
        return (outputs, start)
    }
}

/// What a ``MemoryAsContextLayer`` carries across a segment boundary where its memory is at a chunk boundary: the
/// memory's weights and surprise, the convolutions' last inputs (the memory's three, then the retrieval's) and the
/// position. A segment's cache and the memory all its tokens read are made anew at its start (`segmentStep`).
private struct SegmentBoundary {
    var memory: MemoryState
    var histories: [Tensor?]
    var position: Int

    init(_ state: MemoryAsContextState) {
        memory = state.memory.cursor.memory
        histories = state.memory.convolutionHistory + [state.retrievalHistory]
        position = state.position
    }

    /// The tensors in a fixed order: weights, surprise, the histories there are.
    var tensors: [Tensor] { memory.weights + memory.surprise + histories.compactMap { $0 } }

    /// The boundary holding `tensors` (in ``tensors``' order) instead, with the histories that are present here or,
    /// given, where `histories` says.
    func replaced<C: Collection<Tensor>>(by tensors: C, histories present: [Bool]? = nil) -> SegmentBoundary {
        var rest = Array(tensors)[...]
        func take(_ count: Int) -> [Tensor] { defer { rest = rest.dropFirst(count) }; return Array(rest.prefix(count)) }
        var replaced = self
        replaced.memory = MemoryState(weights: take(memory.weights.count), surprise: take(memory.surprise.count))
        replaced.histories = (present ?? histories.map { $0 != nil }).map { $0 ? take(1)[0] : nil }
        return replaced
    }

    /// The layer's state at this boundary, with the persistent tokens' projection `persistent`.
    func state(persistent: PersistentProjection?) -> MemoryAsContextState {
        MemoryAsContextState(memory: NeuralMemoryState(cursor: MemoryCursor(start: memory), convolutionHistory: histories.dropLast()),
                             segmentMemory: memory, retrievalHistory: histories.last ?? nil, segment: nil, persistent: persistent,
                             position: position)
    }
}
