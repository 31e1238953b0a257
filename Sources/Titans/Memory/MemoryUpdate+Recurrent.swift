import TitansNN

extension MemoryUpdate {
    /// Form 4, the one-token step used for decoding: the mini-batch form one token at a time, each token's gradient at
    /// its chunk's start from the factored form (a few small matmuls, no autodiff, no chunk products), then its step,
    /// kept factored (``fusedStep(_:factors:sizes:token:chunkSize:anchor:)``). Continues from `cursor`, part-way through a
    /// chunk or not. While decoding on the CPU one token takes the same step in plain loops instead
    /// (``fusedRecurrent(_:_:_:chunkSize:rule:)``).
    static func recurrent(_ mlp: MemoryMLP, _ stream: MemoryStream, _ cursor: MemoryCursor, chunkSize: Int,
                          rule: StepRule) -> (Tensor, MemoryCursor) {
        if let fused = fusedRecurrent(mlp, stream, cursor, chunkSize: chunkSize, rule: rule) { return fused }
        var cursor = cursor
        var reads: [Tensor] = []
        for t in 0..<stream.length {
            let token = stream.length == 1 ? stream : stream.slice(t..<(t + 1))
            let factors = mlp.gradientFactors(cursor.gradientWeights, keys: token.keys, values: token.values)
            // The carried part's surprise: the chunk's start surprise times momentum's products (the same cosine).
            let surprise = cursor.state.surprise
            let sizes = rule.stepSizes(learningRate: token.learningRate, logMomentum: token.logMomentum,
                                       parameterCount: cursor.gradientWeights.count,
                                       sizes: { factors.sizes.aligned(for: rule, surprise: surprise) { factors.gradients.products(with: surprise) } },
                                       carriedLoad: cursor.load, chunkSize: chunkSize)
            fusedStep(&cursor, factors: factors, sizes: sizes, token: token, chunkSize: chunkSize, anchor: mlp.anchor)
            reads.append(read(mlp, cursor, token.queries))  // Eq. 15, read from M_t
        }
        return (reads.count == 1 ? reads[0] : Tensor.concatenate(reads, axis: 2), cursor)
    }

    /// ``step(_:gradient:sizes:token:chunkSize:)`` without a pass over the memory: momentum and retention advance the
    /// carried part's scalars (``CarriedScale``) and the token's step joins the chunk's factored steps
    /// (``FactoredSteps``); the chunk's steps are formed once, when it closes. Tested equal to the mini-batch
    /// reference, which takes the literal step.
    private static func fusedStep(_ cursor: inout MemoryCursor, factors: GradientFactors, sizes: StepSizes, token: MemoryStream,
                                  chunkSize: Int, anchor: ForgettingAnchor?) {
        let momentum = token.logMomentum.map { $0.exp() }  // η_t [B, H, 1]
        let retention = token.logRetention.map { $0.exp() }  // 1 − α_t
        var scale = cursor.carriedScale ?? CarriedScale(like: token.learningRate, anchor: anchor)
        scale.advance(momentum: momentum?.unsqueeze(-1), retention: retention?.unsqueeze(-1))
        cursor.carriedScale = scale
        cursor.pending = cursor.pending.map {
            $0.appending(factors.gradients, learningRates: sizes.perParameter, momentum: momentum, retention: retention)
        } ?? FactoredSteps(factors.gradients, learningRates: sizes.perParameter)
        cursor.rowScale = sizes.rowScale?.squeeze(-1)
        cursor.endTokens(load: sizes.load, chunkSize: chunkSize)
    }

    /// `mlp`'s read of `queries` from the cursor's memory part-way through a chunk, through its parts, never forming
    /// it: z M = z M_carried − ρ (z S_earlier + z S_pending) per layer (ρ = 1 without a chunk bound), the carried parts
    /// through their scalars and the pending steps through their factors.
    private static func read(_ mlp: MemoryMLP, _ cursor: MemoryCursor, _ queries: Tensor) -> Tensor {
        guard let scale = cursor.carriedScale, let pending = cursor.pending else { return mlp(cursor.memory.weights, queries) }
        let minusRho = cursor.rowScale.map { -$0.unsqueeze(-1).unsqueeze(-1) } ?? Tensor.scalar(-1, dtype: queries.dtype)
        func read(_ input: Tensor, _ l: Int) -> Tensor {
            var steps = pending.read(input, through: l)
            if let earlier = cursor.steps { steps = steps + scale.read(input, earlier, l, anchored: false) }
            return steps.multiplyAdd(minusRho, scale.read(input, cursor.state, l, anchored: true))
        }
        var z = queries
        for l in 0..<mlp.depth {
            let out = read(z, l)
            z = l < mlp.depth - 1 ? mlp.activate(out) : out
        }
        if mlp.shortcut { z = z + read(queries, mlp.depth) }
        guard mlp.residualNorm else { return z }
        let g = mlp.matrixCount
        var gainSteps = pending.gain
        if let earlier = cursor.steps { gainSteps = gainSteps + scale.weight(g, of: earlier, anchored: false) }
        return mlp.wrap(z, gain: gainSteps.multiplyAdd(minusRho, scale.weight(g, of: cursor.state, anchored: true)), input: queries)
    }
}
