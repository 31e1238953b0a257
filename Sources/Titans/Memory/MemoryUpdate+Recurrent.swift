import TitansNN

extension MemoryUpdate {
    /// Form 4, the one-token step used for decoding: the mini-batch form one token at a time, each token's gradient at
    /// its chunk's start from the factored form (a few small matmuls, no autodiff, no chunk products), then its step.
    /// Continues from `cursor`, part-way through a chunk or not.
    static func recurrent(_ mlp: MemoryMLP, _ stream: MemoryStream, _ cursor: MemoryCursor, chunkSize: Int,
                          rule: StepRule) -> (Tensor, MemoryCursor) {
        var cursor = cursor
        var reads: [Tensor] = []
        for t in 0..<stream.length {
            let token = stream.length == 1 ? stream : stream.slice(t..<(t + 1))
            let factors = mlp.gradientFactors(cursor.gradientWeights, keys: token.keys, values: token.values)
            let sizes = rule.stepSizes(learningRate: token.learningRate, parameterCount: cursor.gradientWeights.count,
                                       sizes: { factors.sizes }, carriedLoad: cursor.load, chunkSize: chunkSize)
            step(&cursor, gradient: factors.summedGradients, sizes: sizes, token: token, chunkSize: chunkSize)
            reads.append(mlp(cursor.memory.weights, token.queries))  // Eq. 15, read from M_t
        }
        return (reads.count == 1 ? reads[0] : Tensor.concatenate(reads, axis: 2), cursor)
    }
}
