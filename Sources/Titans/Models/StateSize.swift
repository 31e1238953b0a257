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

/// Live key and value rows (a buffer keeps room for up to a window or a segment more, or as many rows again under full
/// attention).
extension AttentionCache {
    public var storedElementCount: Int { count([keys?.rows, values?.rows, persistent?.keys, persistent?.values]) }
}

extension SegmentCache {
    var storedElementCount: Int { count([keys.rows, values.rows]) }
}

extension MemoryAsContextState {
    public var storedElementCount: Int {
        memory.storedElementCount + segmentMemory.storedElementCount + count([retrievalHistory, persistent?.keys, persistent?.values])
            + (segment?.storedElementCount ?? 0)
    }
}

extension NeuralMemoryState {
    var storedElementCount: Int {
        cursor.storedElementCount + count(convolutionHistory)
    }
}

extension MemoryCursor {
    /// Each tensor counted once: the chunk-start weights are often the state's own, and decoding's factored steps share
    /// coefficient rows between parameter tensors.
    var storedElementCount: Int {
        let kept: [Tensor?] = state.weights + state.surprise + (steps.map { $0.weights + $0.surprise } ?? []) + [rowScale, load]
            + (carriedScale.map { [$0.retention, $0.momentum, $0.surprise] } ?? []) + (pending?.tensors ?? []) + gradientWeights
        var seen = Set<ObjectIdentifier>()
        return count(kept.filter { $0.map { seen.insert(ObjectIdentifier($0)).inserted } ?? false })
    }
}

extension MemoryState {
    var storedElementCount: Int { count(weights + surprise) }
}

private func count(_ tensors: [Tensor?]) -> Int { tensors.reduce(0) { $0 + ($1?.count ?? 0) } }
