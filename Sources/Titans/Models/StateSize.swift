import TitansNN

/// How many numbers a state holds: what streaming and generation keep between calls. Bounded for every architecture
/// but Transformer++, whose full-attention cache grows with the sequence.
extension LanguageModelState {
    public var storedElementCount: Int { blocks.reduce(0) { $0 + ($1?.storedElementCount ?? 0) } }
}

extension PrefixedMemoryState {
    public var storedElementCount: Int { memory?.storedElementCount ?? 0 }
}

extension HybridState {
    public var storedElementCount: Int { attention.storedElementCount + memory.storedElementCount }
}

extension AttentionCache {
    public var storedElementCount: Int { count([keys, values]) }
}

extension SegmentCache {
    var storedElementCount: Int { count([retrievedKeys, retrievedValues, keys, values]) }
}

extension MemoryAsContextState {
    public var storedElementCount: Int {
        memory.storedElementCount + segmentMemory.storedElementCount + count([retrievalHistory]) + (segment?.storedElementCount ?? 0)
    }
}

extension NeuralMemoryState {
    var storedElementCount: Int {
        cursor.storedElementCount + count(convolutionHistory)
    }
}

extension MemoryCursor {
    /// The chunk-start weights are the state's own at a chunk boundary, and counted once.
    var storedElementCount: Int {
        state.storedElementCount + (steps?.storedElementCount ?? 0) + count([rowScale, load])
            + (carriedScale.map { count([$0.retention, $0.momentum, $0.surprise]) } ?? 0)
            + (tokens > 0 ? count(gradientWeights) : 0)
    }
}

extension MemoryState {
    var storedElementCount: Int { count(weights + surprise) }
}

private func count(_ tensors: [Tensor?]) -> Int { tensors.reduce(0) { $0 + ($1?.count ?? 0) } }
