import TitansNN

extension MemoryUpdate {
    /// Form 4, the one-token step used for decoding: the mini-batch form one token at a time, each token's gradient at
    /// its chunk's start from the factored form (a few small matmuls, no autodiff, no chunk products), then its step,
    /// fused (``fusedStep(_:factors:sizes:token:chunkSize:)``). Continues from `cursor`, part-way through a chunk or not.
    static func recurrent(_ mlp: MemoryMLP, _ stream: MemoryStream, _ cursor: MemoryCursor, chunkSize: Int,
                          rule: StepRule) -> (Tensor, MemoryCursor) {
        var cursor = cursor
        var reads: [Tensor] = []
        for t in 0..<stream.length {
            let token = stream.length == 1 ? stream : stream.slice(t..<(t + 1))
            let factors = mlp.gradientFactors(cursor.gradientWeights, keys: token.keys, values: token.values)
            let sizes = rule.stepSizes(learningRate: token.learningRate, parameterCount: cursor.gradientWeights.count,
                                       sizes: { factors.sizes }, carriedLoad: cursor.load, chunkSize: chunkSize)
            fusedStep(&cursor, factors: factors, sizes: sizes, token: token, chunkSize: chunkSize)
            reads.append(read(mlp, cursor, token.queries))  // Eq. 15, read from M_t
        }
        return (reads.count == 1 ? reads[0] : Tensor.concatenate(reads, axis: 2), cursor)
    }

    /// ``step(_:gradient:sizes:token:chunkSize:)`` with fewer passes over the state: θ scales the small factor
    /// (θ u = xᵀ(θ δ)) before the rank-one gradient is formed, and S ← η S + step, M ← (1 − α) M + S are one
    /// `multiplyAdd` each. Tested equal to the mini-batch reference, which takes the literal step.
    private static func fusedStep(_ cursor: inout MemoryCursor, factors: GradientFactors, sizes: StepSizes, token: MemoryStream,
                                  chunkSize: Int) {
        let bounded = sizes.rowScale != nil
        let sign = bounded ? 1.0 : -1.0  // a chunk bound keeps the steps apart, unscaled and added (MemoryCursor.steps)
        let layers = factors.inputs.indices.map { l in
            factors.inputs[l].transposed().matmul(factors.deltas[l] * (sizes.perParameter[l].unsqueeze(-1) * sign))
        }
        let steps = layers + (factors.gain.map { [$0 * (sizes.perParameter[layers.count].unsqueeze(-1) * sign)] } ?? [])
        let momentum = token.logMomentum.map { $0.exp().unsqueeze(-1) }  // η_t [B, H, 1, 1]
        let retention = token.logRetention.map { $0.exp().unsqueeze(-1) }  // 1 − α_t
        /// S ← η S + added, M ← (1 − α) M + S.
        func advance(_ state: inout MemoryState, adding added: [Tensor]?) {
            for l in state.weights.indices {
                let surprise: Tensor
                switch (momentum, added) {
                case let (eta?, add?): surprise = state.surprise[l].multiplyAdd(eta, add[l])
                case let (eta?, nil): surprise = state.surprise[l] * eta
                case let (nil, add?): surprise = add[l]
                case (nil, nil): surprise = Tensor.zeros(like: state.surprise[l])
                }
                state.surprise[l] = surprise
                state.weights[l] = retention.map { state.weights[l].multiplyAdd($0, surprise) } ?? state.weights[l] + surprise
            }
        }
        if let rowScale = sizes.rowScale {
            var scale = cursor.carriedScale ?? CarriedScale(like: token.learningRate)  // the carried part, as scalars
            scale.advance(momentum: momentum, retention: retention)
            cursor.carriedScale = scale
            var chunkSteps = cursor.steps ?? MemoryState(zerosLike: steps)
            advance(&chunkSteps, adding: steps)
            (cursor.steps, cursor.rowScale) = (chunkSteps, rowScale.squeeze(-1))
        } else {
            advance(&cursor.state, adding: steps)
        }
        cursor.endTokens(load: sizes.load, chunkSize: chunkSize)
    }

    /// `mlp`'s read of `queries` from the cursor's memory; with a chunk's steps kept apart, through both parts
    /// (z M = z M_carried − ρ z M_steps per layer, the carried part through its scalars), never forming the memory.
    private static func read(_ mlp: MemoryMLP, _ cursor: MemoryCursor, _ queries: Tensor) -> Tensor {
        guard let steps = cursor.steps, let rowScale = cursor.rowScale else { return mlp(cursor.memory.weights, queries) }
        let minusRho = -rowScale.unsqueeze(-1).unsqueeze(-1)
        func read(_ input: Tensor, _ l: Int) -> Tensor {
            let carried = cursor.carriedScale.map { $0.read(input, cursor.state, l) } ?? input.matmul(cursor.state.weights[l])
            return input.matmul(steps.weights[l]).multiplyAdd(minusRho, carried)
        }
        var z = queries
        for l in 0..<mlp.depth {
            let out = read(z, l)
            z = l < mlp.depth - 1 ? mlp.activate(out) : out
        }
        if mlp.shortcut { z = z + read(queries, mlp.depth) }
        guard mlp.residualNorm else { return z }
        let g = mlp.matrixCount
        let carriedGain = cursor.carriedScale.map { $0.weight(g, of: cursor.state) } ?? cursor.state.weights[g]
        return mlp.wrap(z, gain: steps.weights[g].multiplyAdd(minusRho, carriedGain), input: queries)
    }
}
