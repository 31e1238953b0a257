import TitansNN

extension MemoryUpdate {
    /// Tokens per group of whole chunks recomputed in the backward pass, while set (``LanguageModel/recomputesBlocks``
    /// sets it around each block, so the block's own recomputation groups its memory the same way); `nil`: no groups.
    @TaskLocal static var recomputedGroupTokens: Int?

    /// A form (`chunked` or `exactDeltaRule`) from a chunk boundary with the whole chunks of `stream` in groups of
    /// ``recomputedGroupTokens`` tokens, each group a `Tensor.checkpointed` computation of `form` from the memory state
    /// at its start: a backward pass then keeps each group's start state and reads, not every chunk's state, and
    /// recomputes one group at a time. `parameters` are the tensors `form` reads besides the stream and the state (M₀
    /// with forgetting toward it), so their gradients come through the recomputation. Returns the reads so far and where
    /// they end; the caller takes the rest.
    static func checkpointedGroups(_ stream: MemoryStream, _ cursor: MemoryCursor, chunkSize: Int, parameters: [Tensor],
                                   form: @escaping (MemoryStream, MemoryState) -> (Tensor, MemoryState))
        -> (reads: [Tensor], end: Int, cursor: MemoryCursor) {
        guard let groupTokens = recomputedGroupTokens.map({ max(chunkSize, $0 / chunkSize * chunkSize) }),
              cursor.isAtChunkBoundary, stream.length >= 2 * groupTokens else { return ([], 0, cursor) }
        var (reads, start, cursor) = ([Tensor](), 0, cursor)
        let layers = cursor.state.weights.count
        while stream.length - start >= groupTokens {
            let piece = stream.slice(start..<(start + groupTokens))
            let streamTensors = [piece.queries, piece.keys, piece.values, piece.learningRate]
                + [piece.logMomentum, piece.logRetention].compactMap { $0 }
            let (hasMomentum, hasRetention) = (piece.logMomentum != nil, piece.logRetention != nil)
            let outputs = Tensor.checkpointed(streamTensors + cursor.state.weights + cursor.state.surprise, parameters: parameters) { t in
                var rest = t[4...]
                let momentum = hasMomentum ? rest.popFirst() : nil, retention = hasRetention ? rest.popFirst() : nil
                let group = MemoryStream(queries: t[0], keys: t[1], values: t[2], learningRate: t[3],
                                         logMomentum: momentum, logRetention: retention)
                let start = MemoryState(weights: Array(rest.prefix(layers)), surprise: Array(rest.suffix(layers)))
                let (read, end) = form(group, start)
                return [read] + end.weights + end.surprise
            }
            reads.append(outputs[0])
            cursor = MemoryCursor(start: MemoryState(weights: Array(outputs[1...layers]),
                                                     surprise: Array(outputs[(layers + 1)...])))
            start += groupTokens
        }
        return (reads, start, cursor)
    }
}
