import TitansNN

/// How many numbers a state holds: what streaming and generation keep between calls. Bounded for every architecture
/// but Transformer++, whose full-attention cache grows with the sequence.
extension LanguageModelState {
    public var storedElementCount: Int { blocks.reduce(0) { $0 + ($1?.storedElementCount ?? 0) } }
}

extension BlockState {
    var storedElementCount: Int {
        (attention?.storedElementCount ?? 0) + (memory?.storedElementCount ?? 0) + (memoryAsContext?.storedElementCount ?? 0)
    }
}

extension AttentionCache {
    var storedElementCount: Int { count([keys, values]) }
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
            + (tokens > 0 ? count(gradientWeights) : 0)
    }
}

extension MemoryState {
    var storedElementCount: Int { count(weights + surprise) }
}

extension MemoryAsContextState {
    var storedElementCount: Int {
        memory.storedElementCount + segmentMemory.storedElementCount
            + count([retrievalHistory, retrievedKeys, retrievedValues, keys, values])
    }
}

private func count(_ tensors: [Tensor?]) -> Int { tensors.reduce(0) { $0 + ($1?.count ?? 0) } }
