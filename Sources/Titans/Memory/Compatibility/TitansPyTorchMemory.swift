import TitansNN

/// titans-pytorch's `NeuralMemory` (0.5.x) reproduced with this package's engine, for parity and comparison.
/// It differs from the paper-faithful ``NeuralMemory`` in the ways `tools/parity/README.md` §1 sets out; in short:
/// one memory step per chunk with the θ-weighted sum of the chunk's gradients, momentum η and forgetting α from the
/// chunk's mean input, a mean-squared inner loss, a LayerNorm-residual memory MLP with GELU, every token reading the
/// state `W_⌊(t+1)/C⌋`, and with `commitSize == nil` every chunk's gradient taken at the initial weights.
///
/// ```swift
/// let memory = TitansPyTorchMemory(TitansPyTorchConfiguration(width: 256, heads: 4, chunkSize: 64), generator: &rng)
/// let y = memory(x)   // as titans-pytorch 0.5.5's NeuralMemory computes it
/// ```
public final class TitansPyTorchMemory: Module {
    public let configuration: TitansPyTorchConfiguration
    public let retrieveNorm: RMSNorm?
    public let storeNorm: RMSNorm?
    /// Gains−1 of the per-head RMSNorms on queries and keys (`qk_rmsnorm`) and on reads (`post_rmsnorm`), `[H, d]`.
    public let queryNormGain: Tensor?
    public let keyNormGain: Tensor?
    public let readNormGain: Tensor?
    public let query: Linear
    public let key: Linear
    public let value: Linear
    public let learningRateGate: Linear
    public let momentumGate: Linear?
    public let forgettingGate: Linear
    /// Initial memory: the LayerNorm gain−1 g `[H, d]`, then the MLP matrices `[H, input, output]`.
    public let initialGain: Tensor
    public let initialMemory: [Tensor]
    /// With several heads: a scalar gate per token and head, and the projection merging heads.
    public let readGate: Linear?
    public let combineHeads: Linear?

    static let rmsEpsilon = Double(Float.ulpOfOne)

    public init(_ configuration: TitansPyTorchConfiguration, dtype: DType = .float32, generator: inout RandomGenerator) {
        let c = configuration, inner = c.heads * c.headWidth
        precondition(c.heads > 1 || c.headWidth == c.width, "TitansPyTorchMemory: with one head the head width must equal the width")
        self.configuration = c
        retrieveNorm = c.preNorm ? RMSNorm(c.width, epsilon: Self.rmsEpsilon, dtype: dtype) : nil
        storeNorm = c.preNorm ? RMSNorm(c.width, epsilon: Self.rmsEpsilon, dtype: dtype) : nil
        queryNormGain = c.queryKeyNorm ? Tensor.zeros([c.heads, c.headWidth], dtype: dtype).requiringGrad() : nil
        keyNormGain = c.queryKeyNorm ? Tensor.zeros([c.heads, c.headWidth], dtype: dtype).requiringGrad() : nil
        readNormGain = c.postNorm ? Tensor.zeros([c.heads, c.headWidth], dtype: dtype).requiringGrad() : nil
        query = Linear(c.width, inner, bias: false, dtype: dtype, generator: &generator)
        key = Linear(c.width, inner, bias: false, dtype: dtype, generator: &generator)
        value = Linear(c.width, inner, bias: false, dtype: dtype, generator: &generator)
        learningRateGate = Linear(c.width, c.heads, dtype: dtype, generator: &generator)
        momentumGate = c.momentum ? Linear(c.width, c.heads, dtype: dtype, generator: &generator) : nil
        forgettingGate = Linear(c.width, c.heads, dtype: dtype, generator: &generator)
        initialGain = Tensor.zeros([c.heads, c.headWidth], dtype: dtype).requiringGrad()
        initialMemory = c.memoryLayerWidths.map { w in
            Tensor.randomNormal([c.heads, w.input, w.output], standardDeviation: 1 / Double(w.input).squareRoot(),
                                dtype: dtype, generator: &generator).requiringGrad()
        }
        readGate = c.heads > 1 ? Linear(c.width, c.heads, bias: false, dtype: dtype, generator: &generator) : nil
        combineHeads = c.heads > 1 ? Linear(inner, c.width, bias: false, dtype: dtype, generator: &generator) : nil
    }

    /// The memory `M_W(x) = LN(MLP(x)) ⊙ (g + 1) + x` for `x` `[B, H, N, n, d]`, with per-chunk weights
    /// (gain `[.., d]` and matrices `[.., input, output]`, leading dims broadcast against `[B, H, N]`).
    func memory(gain: Tensor, weights: [Tensor], _ x: Tensor) -> Tensor {
        var h = x
        for (l, w) in weights.enumerated() { h = (l == 0 ? h : h.gelu()).matmul(w) }
        return h.layerNormalized(epsilon: 1e-5) * (gain.unsqueeze(-2) + 1) + x
    }

    /// Splits `[B, T, H·d]` into `[B, H, T, d]`, head-major.
    private func heads(_ t: Tensor) -> Tensor {
        t.reshape([t.shape[0], t.shape[1], configuration.heads, configuration.headWidth]).permute([0, 2, 1, 3])
    }

    /// Per-head RMSNorm without weight times (gain + 1), for `[B, H, …, d]` and gain `[H, d]`.
    private func headNorm(_ t: Tensor, gain: Tensor) -> Tensor {
        var g = gain + 1
        for _ in 0..<(t.rank - 3) { g = g.unsqueeze(1) }
        return t.rmsNormalized(epsilon: Self.rmsEpsilon) * g
    }

    /// Output `[B, L, D]` for input `[B, L, D]` (one call, empty initial state).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let c = configuration
        let (batch, length) = (x.shape[0], x.shape[1])
        let chunks = length / c.chunkSize, stored = chunks * c.chunkSize

        // Store path: the complete chunks only (§1.4).
        var gains: [Tensor] = [initialGain.unsqueeze(0).unsqueeze(2)]  // [1, H, 1, d] per state
        var matrices: [[Tensor]] = [initialMemory.map { $0.unsqueeze(0).unsqueeze(2) }]  // [1, H, 1, in, out]
        if chunks > 0 {
            let xs = x.slice(axis: 1, start: 0, end: stored)
            let normed = storeNorm.map { $0(xs) } ?? xs
            var k = heads(key(normed)), v = heads(value(normed))
            if let keyNormGain { k = headNorm(k, gain: keyNormGain) }
            let chunked: (Tensor) -> Tensor = { $0.reshape([batch, c.heads, chunks, c.chunkSize, c.headWidth]) }
            (k, v) = (chunked(k), chunked(v))
            let theta = (learningRateGate(normed).sigmoid() * c.maxLearningRate).permute([0, 2, 1])
                .reshape([batch, c.heads, chunks, c.chunkSize])
            let mean = normed.reshape([batch, chunks, c.chunkSize, c.width]).mean(axis: 2)  // x̄_n
            let retention = 1 - forgettingGate(mean).sigmoid().permute([0, 2, 1])  // 1 − α_n, [B, H, N]
            let momentum = momentumGate.map { $0(mean).sigmoid().permute([0, 2, 1]) }  // η_n
            let steps = (0..<chunks).split(every: (c.commitSize ?? stored) / c.chunkSize)
            var surprise: [Tensor]? = nil
            for piece in steps {
                let range = piece.lowerBound..<piece.upperBound
                let at = (gains.last!, matrices.last!)  // committed weights: the gradients of this piece are taken here
                let (gainGrad, matrixGrads) = gradients(at: at, keys: k.slice(axis: 2, start: range.lowerBound, end: range.upperBound),
                                                        values: v.slice(axis: 2, start: range.lowerBound, end: range.upperBound),
                                                        theta: theta.slice(axis: 2, start: range.lowerBound, end: range.upperBound),
                                                        count: range.count)
                let keep = retention.slice(axis: 2, start: range.lowerBound, end: range.upperBound)
                let eta = momentum?.slice(axis: 2, start: range.lowerBound, end: range.upperBound)
                // S_n = η_n S_{n−1} − g_n, W_n = (1 − α_n) W_{n−1} + S_n, scanned over the piece's chunks (§1.6).
                func scan(_ gradient: Tensor, _ previousWeight: Tensor, _ previousSurprise: Tensor?) -> (Tensor, Tensor) {
                    let extra = gradient.rank - 3
                    var coefficientShape = keep.shape
                    coefficientShape.append(contentsOf: [Int](repeating: 1, count: extra))
                    let s = eta.map { Tensor.linearScan($0.reshape(coefficientShape), -gradient, axis: 2,
                                                        initial: previousSurprise) } ?? -gradient
                    let w = Tensor.linearScan(keep.reshape(coefficientShape), s, axis: 2,
                                              initial: previousWeight.slice(axis: 2, start: previousWeight.shape[2] - 1,
                                                                            end: previousWeight.shape[2]))
                    return (w, s)
                }
                let last = { (t: Tensor) in t.slice(axis: 2, start: t.shape[2] - 1, end: t.shape[2]) }
                let (gw, gs) = scan(gainGrad, at.0, surprise?[0])
                var newSurprise = [last(gs)]
                var newMatrices: [Tensor] = []
                for (l, g) in matrixGrads.enumerated() {
                    let (w, s) = scan(g, at.1[l], surprise?[l + 1])
                    newMatrices.append(w)
                    newSurprise.append(last(s))
                }
                surprise = newSurprise
                gains.append(gw)
                matrices.append(newMatrices)
            }
        }
        // All states W_0 … W_N along the chunk axis.
        let allGains = Tensor.concatenate(gains.map { $0.expand(to: [batch] + Array($0.shape.dropFirst())) }, axis: 2)
        let allMatrices = (0..<c.memoryDepth).map { l in
            Tensor.concatenate(matrices.map { $0[l].expand(to: [batch] + Array($0[l].shape.dropFirst())) }, axis: 2)
        }

        // Retrieve path (§1.8): token t reads W_⌊(t+1)/C⌋ — one zero row in front, padded to N + 1 chunks.
        let xr = retrieveNorm.map { $0(x) } ?? x
        var q = heads(query(xr))
        if let queryNormGain { q = headNorm(q, gain: queryNormGain) }
        let padded = q.padded(axis: 2, before: 1, after: (chunks + 1) * c.chunkSize - length - 1)
            .reshape([batch, c.heads, chunks + 1, c.chunkSize, c.headWidth])
        var y = memory(gain: allGains, weights: allMatrices, padded)
            .reshape([batch, c.heads, (chunks + 1) * c.chunkSize, c.headWidth]).slice(axis: 2, start: 1, end: length + 1)
        if let readNormGain { y = headNorm(y, gain: readNormGain) }
        // Output (§1.9): with several heads, a scalar gate per token and head, then the merge projection.
        guard let readGate, let combineHeads else { return y.squeeze(1) }
        y = y * readGate(xr).sigmoid().permute([0, 2, 1]).unsqueeze(-1)
        return combineHeads(y.permute([0, 2, 1, 3]).reshape([batch, length, c.heads * c.headWidth]))
    }

    /// g_n = ∇_W Σ_{t ∈ chunk n} θ_t · mean_i (M_W(k_t) − v_t)²_i at the committed weights, for every chunk at once
    /// (§1.5): the weights are spread over the chunk axis and differentiated, so each chunk gets its own gradient.
    /// The gradient stays differentiable, so the outer loss reaches k, v, θ and the weights through it.
    private func gradients(at weights: (Tensor, [Tensor]), keys: Tensor, values: Tensor, theta: Tensor,
                           count: Int) -> (Tensor, [Tensor]) {
        let batch = keys.shape[0]
        func spread(_ t: Tensor) -> Tensor {
            var shape = t.shape
            shape[0] = batch
            shape[2] = count
            return t.slice(axis: 2, start: t.shape[2] - 1, end: t.shape[2]).expand(to: shape)
        }
        return GradMode.with(enabled: true) {
            let gain = spread(weights.0), matrices = weights.1.map(spread)
            let leaves = [gain] + matrices
            let inputs = leaves.map { $0.requiresGrad ? $0 : $0.detach().requiringGrad() }
            let error = memory(gain: inputs[0], weights: Array(inputs.dropFirst()), keys) - values
            let loss = (error.squared().mean(axis: -1) * theta).sum()
            let grads = Tensor.gradients(of: loss, withRespectTo: inputs, createGraph: true)
            return (grads[0], Array(grads.dropFirst()))
        }
    }
}

extension Range where Bound == Int {
    /// Consecutive sub-ranges of at most `size` elements.
    func split(every size: Int) -> [Range<Int>] {
        stride(from: lowerBound, to: upperBound, by: Swift.max(size, 1)).map { $0..<Swift.min($0 + Swift.max(size, 1), upperBound) }
    }
}
