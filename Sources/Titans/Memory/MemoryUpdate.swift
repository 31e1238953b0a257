import TitansNN

/// The memory's state between tokens (Eqs. 13–14): the weights `M` and the surprise `S` of every layer of the
/// memory MLP, each `[batch, heads, input, output]` (batch 1 before the first update, broadcast over sequences).
public struct MemoryState {
    public var weights: [Tensor]
    public var surprise: [Tensor]

    public init(weights: [Tensor], surprise: [Tensor]) {
        self.weights = weights
        self.surprise = surprise
    }

    /// The state with every tensor cut from the outer graph (for streaming inference across calls).
    public func detached() -> MemoryState {
        MemoryState(weights: weights.map { $0.detach() }, surprise: surprise.map { $0.detach() })
    }
}

/// What the memory update consumes for a run of tokens, per head: queries, keys and values `[B, H, T, headWidth]`;
/// the learning rate θ `[B, H, T]`; log η (momentum) and log(1 − α) (retention, one minus forgetting) `[B, H, T]`,
/// `nil` when momentum (η ≡ 0) or forgetting (α ≡ 0) is off.
struct MemoryStream {
    var queries: Tensor
    var keys: Tensor
    var values: Tensor
    var learningRate: Tensor
    var logMomentum: Tensor?
    var logRetention: Tensor?

    var length: Int { keys.shape[2] }

    func slice(_ range: Range<Int>) -> MemoryStream {
        func cut(_ t: Tensor) -> Tensor { t.slice(axis: 2, start: range.lowerBound, end: range.upperBound) }
        return MemoryStream(queries: cut(queries), keys: cut(keys), values: cut(values), learningRate: cut(learningRate),
                            logMomentum: logMomentum.map(cut), logRetention: logRetention.map(cut))
    }

    static func concatenate(_ parts: [MemoryStream]) -> MemoryStream {
        func join(_ pick: (MemoryStream) -> Tensor) -> Tensor { Tensor.concatenate(parts.map(pick), axis: 2) }
        return MemoryStream(queries: join(\.queries), keys: join(\.keys), values: join(\.values),
                            learningRate: join(\.learningRate),
                            logMomentum: parts[0].logMomentum == nil ? nil : join { $0.logMomentum! },
                            logRetention: parts[0].logRetention == nil ? nil : join { $0.logRetention! })
    }
}

/// The three implementations of the memory's update and read, side by side (paper §3.1–3.2; notes §3.B):
/// ``sequential(_:_:_:)`` is Eqs. 12–15 written literally, ``miniBatch(_:_:_:chunkSize:)`` takes every gradient of a
/// chunk at the chunk's start (Eqs. 16–18), and ``chunked(_:_:_:chunkSize:)`` computes the mini-batch form with
/// batched matmuls. Each returns the reads `[B, H, T, headWidth]` — token `t` read from its own state `M_t` — and the final state.
enum MemoryUpdate {
    /// Expands batch-1 state to the batch of `stream`, so per-sequence gradients stay per sequence.
    private static func perSequence(_ state: MemoryState, batch: Int) -> MemoryState {
        func expand(_ t: Tensor) -> Tensor { t.expand(to: [batch] + Array(t.shape.dropFirst())) }
        return MemoryState(weights: state.weights.map(expand), surprise: state.surprise.map(expand))
    }

    /// Gradient of the inner loss at `weights` by the autodiff engine, kept differentiable for the outer loop.
    private static func autodiffGradient(_ mlp: MemoryMLP, _ weights: [Tensor], key: Tensor, value: Tensor) -> [Tensor] {
        let loss = mlp.innerLoss(mlp(weights, key), value)  // Eq. 12, summed over sequences and heads
        return Tensor.gradients(of: loss, withRespectTo: weights, createGraph: true)
    }

    /// One token's step given its gradient: S_t = η_t S_{t−1} − θ_t ∇ℓ (Eq. 14), M_t = (1 − α_t) M_{t−1} + S_t (Eq. 13).
    private static func step(_ state: inout MemoryState, gradient: [Tensor], _ token: MemoryStream) {
        let theta = token.learningRate.unsqueeze(-1)  // [B, H, 1, 1]
        for l in 0..<state.weights.count {
            let momentary = gradient[l] * theta
            state.surprise[l] = token.logMomentum.map { state.surprise[l] * $0.exp().unsqueeze(-1) - momentary } ?? -momentary
            let kept = token.logRetention.map { state.weights[l] * $0.exp().unsqueeze(-1) } ?? state.weights[l]
            state.weights[l] = kept + state.surprise[l]
        }
    }

    /// Runs `body` with recording on and `state`'s tensors in the graph, so the engine can take inner gradients.
    private static func recording<R>(_ state: MemoryState, _ body: (MemoryState) -> R) -> R {
        GradMode.with(enabled: true) {
            body(MemoryState(weights: state.weights.map { $0.requiresGrad ? $0 : $0.detach().requiringGrad() },
                             surprise: state.surprise))
        }
    }

    /// Form 1, the reference: token by token, each gradient taken at `M_{t−1}` by autodiff.
    static func sequential(_ mlp: MemoryMLP, _ stream: MemoryStream, _ initial: MemoryState) -> (Tensor, MemoryState) {
        recording(perSequence(initial, batch: stream.keys.shape[0])) { start in
            var state = start
            var reads: [Tensor] = []
            for t in 0..<stream.length {
                let token = stream.slice(t..<(t + 1))
                step(&state, gradient: autodiffGradient(mlp, state.weights, key: token.keys, value: token.values), token)
                reads.append(mlp(state.weights, token.queries))  // Eq. 15, read from M_t
            }
            return (Tensor.concatenate(reads, axis: 2), state)
        }
    }

    /// Form 2, the mini-batch reference: the same loop, but every gradient in a chunk of `chunkSize` tokens is taken
    /// at the chunk-start memory (§3.2, Eq. 16).
    static func miniBatch(_ mlp: MemoryMLP, _ stream: MemoryStream, _ initial: MemoryState, chunkSize: Int) -> (Tensor, MemoryState) {
        recording(perSequence(initial, batch: stream.keys.shape[0])) { start in
            var state = start
            var reads: [Tensor] = []
            for chunkStart in stride(from: 0, to: stream.length, by: chunkSize) {
                let chunkWeights = state.weights
                for t in chunkStart..<min(chunkStart + chunkSize, stream.length) {
                    let token = stream.slice(t..<(t + 1))
                    step(&state, gradient: autodiffGradient(mlp, chunkWeights, key: token.keys, value: token.values), token)
                    reads.append(mlp(state.weights, token.queries))
                }
            }
            return (Tensor.concatenate(reads, axis: 2), state)
        }
    }

    /// Form 3, the parallel form: per chunk, all gradients at the chunk-start weights at once, momentum and forgetting
    /// in closed form, and each token read from its own state `M_i` by an attention-like masked matmul (notes §3.B).
    static func chunked(_ mlp: MemoryMLP, _ stream: MemoryStream, _ initial: MemoryState, chunkSize: Int) -> (Tensor, MemoryState) {
        var state = initial
        var reads: [Tensor] = []
        for chunkStart in stride(from: 0, to: stream.length, by: chunkSize) {
            let chunk = stream.slice(chunkStart..<min(chunkStart + chunkSize, stream.length))
            let (read, next) = chunkStep(mlp, chunk, state)
            reads.append(read)
            state = next
        }
        return (reads.count == 1 ? reads[0] : Tensor.concatenate(reads, axis: 2), state)
    }

    /// `R[i, j] = exp(Σ_{l=j+1}^{i} x_l)` for `j ≤ i`, 0 above the diagonal: the products of per-token factors
    /// between two positions of a chunk, from log factors `[B, H, c]`, summed (never divided) so zeros stay exact.
    static func segmentProducts(_ logs: Tensor) -> Tensor {
        let c = logs.shape[logs.rank - 1]
        let spread = logs.unsqueeze(-1).expand(to: logs.shape + [c])  // [.., i, j] = x_i
        let strictlyLower = Tensor.bandMask(rows: c, columns: c, lower: 1, dtype: logs.dtype)
        let lower = Tensor.bandMask(rows: c, columns: c, dtype: logs.dtype)
        let zero = Tensor.scalar(0, dtype: logs.dtype)
        let sums = Tensor.where(strictlyLower, spread, zero).cumulativeSum(axis: -2)
        return Tensor.where(lower, sums.exp(), zero)
    }

    /// One chunk of the parallel form. With `c` tokens, start weights `W₀`, start surprise `S₀`, per-token gradients
    /// `u_m` at `W₀` (factored as `x_mᵀ δ_m`), A[j, m] = a_j/a_m (momentum products), R[i, j] = β_i/β_j (retention):
    ///   S_i = a_i S₀ − Σ_m θ_m A[i, m] u_m,   M_i = β_i W₀ + γ_i S₀ − Σ_m G[i, m] u_m,
    ///   G = (R A) ⊙ θ (per column m),   γ = R a   (Eqs. 13–14 unrolled; notes §3.B items 3–6).
    private static func chunkStep(_ mlp: MemoryMLP, _ chunk: MemoryStream, _ state: MemoryState) -> (Tensor, MemoryState) {
        let c = chunk.length, dtype = chunk.keys.dtype
        let batchHeads = Array(chunk.keys.shape.prefix(2))
        let lowerOnes = Tensor.bandMask(rows: c, columns: c, dtype: dtype)
        let retention = chunk.logRetention.map(segmentProducts) ?? lowerOnes.expand(to: batchHeads + [c, c])
        let momentumProducts = chunk.logMomentum.map(segmentProducts)  // nil: η ≡ 0, A = I
        let theta = chunk.learningRate.unsqueeze(-2)  // [B, H, 1, c], one θ_m per column
        let g = (momentumProducts.map { retention.matmul($0) } ?? retention) * theta
        // β_i = R[i, 0]·(1 − α_1)... is the cumulative retention from the chunk start; a_i likewise for momentum.
        let beta = chunk.logRetention.map { $0.cumulativeSum(axis: -1).exp() }
        let a = chunk.logMomentum.map { $0.cumulativeSum(axis: -1).exp() }
        let gamma = a.map { retention.matmul($0.unsqueeze(-1)) }  // [B, H, c, 1]
        let (inputs, deltas, gainGradients) = mlp.gradientFactors(state.weights, keys: chunk.keys, values: chunk.values)

        // Reads: layer by layer, token i's input times its own M_i (the dual form).
        var z = chunk.queries
        for l in 0..<mlp.depth {
            var out = z.matmul(state.weights[l])
            if let beta { out = out * beta.unsqueeze(-1) }
            if let gamma { out = out + z.matmul(state.surprise[l]) * gamma }
            out = out - (g * z.matmul(inputs[l].transposed())).matmul(deltas[l])
            z = l < mlp.depth - 1 ? mlp.activate(out) : out
        }
        if let gainGradients {  // each token's own gain γ_i, the same combination of per-token gradients
            let l = mlp.depth
            var gain = state.weights[l]
            if let beta { gain = gain * beta.unsqueeze(-1) }
            if let gamma { gain = gain + state.surprise[l] * gamma }
            z = mlp.wrap(z, gain: gain - g.matmul(gainGradients), input: chunk.queries)
        }

        // End-of-chunk state (notes §3.B item 6): the last row of G and of θ ⊙ A weight the tokens' gradients.
        let last = c - 1
        let gLast = g.select(axis: -2, index: last).unsqueeze(-1)  // [B, H, c, 1]
        let surpriseWeights = ((momentumProducts.map { $0.select(axis: -2, index: last) }
            ?? Tensor(shape: [c], generating: { $0 == last ? 1 : 0 }, dtype: dtype)) * chunk.learningRate).unsqueeze(-1)
        /// Σ_m w_m u_m for parameter `l`, with token weights `w` `[B, H, c, 1]`.
        func combined(_ l: Int, _ w: Tensor) -> Tensor {
            l < mlp.depth ? (inputs[l] * w).transposed().matmul(deltas[l]) : (gainGradients! * w).sum(axis: 2, keepDims: true)
        }
        var next = state
        for l in 0..<state.weights.count {
            var w = state.weights[l]
            if let beta { w = w * beta.select(axis: -1, index: last).unsqueeze(-1).unsqueeze(-1) }
            if let gamma { w = w + state.surprise[l] * gamma.select(axis: -2, index: last).unsqueeze(-1) }
            next.weights[l] = w - combined(l, gLast)
            let s = a.map { state.surprise[l] * $0.select(axis: -1, index: last).unsqueeze(-1).unsqueeze(-1) }
            next.surprise[l] = (s ?? Tensor.zeros(like: state.surprise[l])) - combined(l, surpriseWeights)
        }
        return (z, next)
    }
}
