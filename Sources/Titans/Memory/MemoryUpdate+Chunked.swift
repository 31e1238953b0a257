import TitansNN

extension MemoryUpdate {
    /// Form 3, the parallel form: a chunk at a time, all its gradients at the chunk-start weights at once, momentum and
    /// retention in closed form, and each token read from its own state `M_i` by an attention-like masked matmul (the
    /// dual form; NeuralMemoryForms.md "The chunked dual form"). Continues from `cursor`, part-way through a chunk or not.
    static func chunked(_ mlp: MemoryMLP, _ stream: MemoryStream, _ cursor: MemoryCursor, chunkSize: Int,
                        rule: StepRule) -> (Tensor, MemoryCursor) {
        var (reads, start, cursor) = checkpointedGroups(stream, cursor.settled, chunkSize: chunkSize,
                                                        parameters: mlp.anchor?.weights ?? []) { group, state in
            let (read, end) = chunked(mlp, group, MemoryCursor(start: state), chunkSize: chunkSize, rule: rule)
            return (read, end.state)  // whole chunks end at a boundary
        }
        while start < stream.length {
            let end = min(stream.length, start + chunkSize - cursor.tokens)
            let read: Tensor
            (read, cursor) = chunkStep(mlp, stream.slice(start..<end), cursor, rule: rule, chunkSize: chunkSize)
            reads.append(read)
            start = end
        }
        return (reads.count == 1 ? reads[0] : Tensor.concatenate(reads, axis: 2), cursor)
    }

    /// `n` tokens that continue the cursor's chunk (NeuralMemoryForms.md "The chunked dual form"). With the chunk's start state
    /// (M_p, S_p) after `p` earlier tokens, per-token gradients `u_m` at the chunk-start weights (factored as x_mᵀ δ_m),
    /// R[i, j] = β_i/β_j (retention), A[j, m] = a_j/a_m (momentum), θ_m (per parameter tensor) and ρ_i (the chunk bound):
    ///   S_i = a_i S_p − ρ_i Σ_m θ_m A[i, m] u_m,   M_i = β_i M_p + c_i S_p − ρ_i Σ_m G[i, m] u_m,
    ///   G = R A with column m times θ_m,   c = R a   (Eqs. 13–14 unrolled);
    /// with forgetting toward M₀ the memory also takes back (1 − β_i) M₀ ("Forgetting toward M₀").
    private static func chunkStep(_ mlp: MemoryMLP, _ chunk: MemoryStream, _ cursor: MemoryCursor, rule: StepRule,
                                  chunkSize: Int) -> (Tensor, MemoryCursor) {
        let n = chunk.length, dtype = chunk.keys.dtype
        let factors = mlp.gradientFactors(cursor.gradientWeights, keys: chunk.keys, values: chunk.values)
        let (base, prior) = (cursor.carried, cursor.steps)
        let sizes = rule.stepSizes(learningRate: chunk.learningRate, logMomentum: chunk.logMomentum,
                                   parameterCount: cursor.gradientWeights.count,
                                   sizes: { factors.sizes.aligned(for: rule, surprise: base.surprise) { factors.gradients.products(with: base.surprise) } },
                                   carriedLoad: cursor.load, chunkSize: chunkSize)
        let retention = chunk.logRetention.map(segmentProducts)
            ?? Tensor.bandMask(rows: n, columns: n, dtype: dtype).expand(to: Array(chunk.keys.shape.prefix(2)) + [n, n])
        let momentumProducts = chunk.logMomentum.map(segmentProducts)  // nil: η ≡ 0, A = I
        let products = momentumProducts.map { retention.matmul($0) } ?? retention
        var g: [Tensor] = []  // G per parameter tensor; one G when all take the same θ
        for theta in sizes.perParameter {
            g.append(g.first.flatMap { theta === sizes.perParameter[0] ? $0 : nil } ?? products * theta.unsqueeze(-2))
        }
        // β_i, a_i: cumulative retention and momentum from the start of these tokens; c_i = Σ_j R[i, j] a_j, how much of
        // the carried surprise has reached token i (NeuralMemoryForms.md: c).
        let beta = chunk.logRetention.map { $0.cumulativeSum(axis: -1).exp() }
        let a = chunk.logMomentum.map { $0.cumulativeSum(axis: -1).exp() }
        let surpriseReach = a.map { retention.matmul($0.unsqueeze(-1)) }  // [B, H, n, 1]
        let rho = sizes.rowScale?.unsqueeze(-1)  // [B, H, n, 1]

        /// β_i (z W) + c_i (z S): token i's read through one layer of `state` carried forward without new steps; for the
        /// memory itself (`anchored`) with forgetting toward M₀, plus (1 − β_i) (z M₀).
        func carried(_ z: Tensor, _ state: MemoryState, _ l: Int, anchored: Bool) -> Tensor {
            var out = z.matmul(state.weights[l])
            if let beta { out = out * beta.unsqueeze(-1) }
            if let surpriseReach { out = out + z.matmul(state.surprise[l]) * surpriseReach }
            return anchored ? mlp.readTowardAnchor(out, z, retention: beta?.unsqueeze(-1), l) : out
        }
        /// The same for the residual wrapper's gain, an elementwise parameter.
        func carriedGain(_ state: MemoryState, anchored: Bool) -> Tensor {
            var gain = state.weights[mlp.matrixCount]
            if let beta { gain = gain * beta.unsqueeze(-1) }
            if let surpriseReach { gain = gain + state.surprise[mlp.matrixCount] * surpriseReach }
            return anchored ? mlp.towardAnchor(gain, retention: beta?.unsqueeze(-1), mlp.matrixCount) : gain
        }
        /// The steps' part of the reads, scaled by ρ_i: the chunk's earlier steps carried forward, plus these tokens'.
        func scaledSteps(_ own: Tensor, _ earlier: Tensor?) -> Tensor {
            let steps = earlier.map { own + $0 } ?? own
            return rho.map { steps * $0 } ?? steps
        }

        /// Token i's `input` times matrix `l` of its own M_i (the dual form).
        func read(_ input: Tensor, _ l: Int) -> Tensor {
            let own = factors.gradients.read(input, through: l, weights: g[l])
            return carried(input, base, l, anchored: true) - scaledSteps(own, prior.map { carried(input, $0, l, anchored: false) })
        }

        // Reads: layer by layer, then the shortcut beside them.
        var z = chunk.queries
        for l in 0..<mlp.depth {
            let out = read(z, l)
            z = l < mlp.depth - 1 ? mlp.activate(out) : out
        }
        if mlp.shortcut { z = z + read(chunk.queries, mlp.depth) }
        if let gainGradients = factors.gradients.gain {  // each token's own gain, the same combination of per-token gradients
            let own = g[mlp.matrixCount].matmul(gainGradients)
            z = mlp.wrap(z, gain: carriedGain(base, anchored: true) - scaledSteps(own, prior.map { carriedGain($0, anchored: false) }),
                         input: chunk.queries)
        }

        // Where the memory stands after the last of these tokens: the last rows of G and of θ ⊙ A weight the gradients.
        let last = n - 1
        func lastOf(_ t: Tensor?) -> Tensor? { t.map { $0.select(axis: -1, index: last).unsqueeze(-1).unsqueeze(-1) } }
        let (betaLast, aLast) = (lastOf(beta), lastOf(a))
        let surpriseReachLast = surpriseReach.map { $0.select(axis: -2, index: last).unsqueeze(-1) }
        let lastMomentumRow = momentumProducts.map { $0.select(axis: -2, index: last) }
            ?? Tensor(shape: [n], generating: { $0 == last ? 1 : 0 }, dtype: dtype)
        /// `state` carried to the last token without new steps: (β W + c S, a S), for the memory itself (`anchored`) with
        /// forgetting toward M₀ plus (1 − β) M₀.
        func carriedToEnd(_ state: MemoryState, anchored: Bool) -> MemoryState {
            MemoryState(weights: state.weights.indices.map { l in
                            let w = betaLast.map { state.weights[l] * $0 } ?? state.weights[l]
                            let carried = surpriseReachLast.map { state.surprise[l].multiplyAdd($0, w) } ?? w  // c S + β W
                            return anchored ? mlp.towardAnchor(carried, retention: betaLast, l) : carried
                        },
                        surprise: state.surprise.map { s in aLast.map { s * $0 } ?? Tensor.zeros(like: s) })
        }
        let combined = factors.gradients.combined
        var steps = MemoryState(weights: g.indices.map { combined($0, g[$0].select(axis: -2, index: last)) },
                                surprise: sizes.perParameter.indices.map { combined($0, lastMomentumRow * sizes.perParameter[$0]) })
        if let prior {
            let earlier = carriedToEnd(prior, anchored: false)
            steps = MemoryState(weights: zip(steps.weights, earlier.weights).map(+), surprise: zip(steps.surprise, earlier.surprise).map(+))
        }
        var next = cursor
        next.state = carriedToEnd(base, anchored: true)
        next.carriedScale = nil
        if let rowScale = sizes.rowScale {
            (next.steps, next.rowScale) = (steps, rowScale.select(axis: -1, index: last))
        } else {
            next.state = next.state.minus(steps)
        }
        next.endTokens(n, load: sizes.load, chunkSize: chunkSize)
        return (z, next)
    }
}
