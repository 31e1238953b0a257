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
        chunkStart.storedElementCount + count(convolutionHistory)
            + (pending.map { count([$0.queries, $0.keys, $0.values, $0.learningRate, $0.logMomentum, $0.logRetention]) } ?? 0)
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
