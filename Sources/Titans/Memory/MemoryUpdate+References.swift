import TitansNN

/// The two references: the paper's equations written literally, each gradient by the autodiff engine. Slow and plain,
/// they are what the fast forms are tested against.
extension MemoryUpdate {
    /// Form 1, the exact online rule: token by token, each gradient taken at `M_{t−1}` (Eqs. 12–15), or with
    /// `atRetained` at `(1 − α_t) M_{t−1}` (Gated DeltaNet's order), each token its own chunk for the step rule.
    static func sequential(_ mlp: MemoryMLP, _ stream: MemoryStream, _ initial: MemoryState,
                           rule: StepRule = .plain, atRetained: Bool = false) -> (Tensor, MemoryState) {
        recording(perSequence(initial, batch: stream.keys.shape[0])) { start in
            var state = start
            var reads: [Tensor] = []
            for t in 0..<stream.length {
                let token = stream.slice(t..<(t + 1))
                // (1 − α_t) M_{t−1}, plus α_t M₀ with forgetting toward M₀.
                let retention = token.logRetention.map { $0.exp().unsqueeze(-1) }
                let kept = state.weights.indices.map { l in
                    mlp.towardAnchor(retention.map { state.weights[l] * $0 } ?? state.weights[l], retention: retention, l)
                }
                let at = atRetained ? kept : state.weights
                let gradient = autodiffGradient(mlp, at, token)
                let sizes = rule.stepSizes(learningRate: token.learningRate, logMomentum: token.logMomentum,
                                           parameterCount: gradient.count,
                                           sizes: { gradientSizes(mlp, at, gradient, token, rule: rule, surprise: state.surprise) },
                                           carriedLoad: nil, chunkSize: 1)
                for l in state.weights.indices {
                    var theta = sizes.perParameter[l]
                    if let rowScale = sizes.rowScale { theta = theta * rowScale }
                    let momentary = gradient[l] * theta.unsqueeze(-1)
                    // S_t = η_t S_{t−1} − θ_t ∇ℓ (Eq. 14), M_t = (1 − α_t) M_{t−1} + S_t (Eq. 13; + α_t M₀ toward M₀).
                    state.surprise[l] = token.logMomentum.map { state.surprise[l] * $0.exp().unsqueeze(-1) - momentary } ?? -momentary
                    state.weights[l] = kept[l] + state.surprise[l]
                }
                reads.append(mlp(state.weights, token.queries))  // Eq. 15, read from M_t
            }
            return (Tensor.concatenate(reads, axis: 2), state)
        }
    }

    /// Form 2, the mini-batch reference: the same loop, but every gradient in a chunk of `chunkSize` tokens is taken
    /// at the chunk-start memory (§3.2, Eq. 16).
    static func miniBatch(_ mlp: MemoryMLP, _ stream: MemoryStream, _ initial: MemoryState, chunkSize: Int,
                          rule: StepRule = .plain) -> (Tensor, MemoryCursor) {
        recording(perSequence(initial, batch: stream.keys.shape[0])) { start in
            var cursor = MemoryCursor(start: start)
            var reads: [Tensor] = []
            for t in 0..<stream.length {
                let token = stream.slice(t..<(t + 1))
                let weights = cursor.gradientWeights
                let gradient = autodiffGradient(mlp, weights, token)
                // Part-way through a bounded chunk the state carries no step of it: the chunk's start surprise times
                // momentum's products, the same cosine.
                let surprise = cursor.state.surprise
                let sizes = rule.stepSizes(learningRate: token.learningRate, logMomentum: token.logMomentum,
                                           parameterCount: gradient.count,
                                           sizes: { gradientSizes(mlp, weights, gradient, token, rule: rule, surprise: surprise) },
                                           carriedLoad: cursor.load, chunkSize: chunkSize)
                step(&cursor, mlp, gradient: gradient, sizes: sizes, token: token, chunkSize: chunkSize)
                reads.append(mlp(cursor.memory.weights, token.queries))
            }
            return (Tensor.concatenate(reads, axis: 2), cursor)
        }
    }

    /// Expands batch-1 state to the batch of `stream`, so per-sequence gradients stay per sequence.
    private static func perSequence(_ state: MemoryState, batch: Int) -> MemoryState {
        func expand(_ t: Tensor) -> Tensor { t.expand(to: [batch] + Array(t.shape.dropFirst())) }
        return MemoryState(weights: state.weights.map(expand), surprise: state.surprise.map(expand))
    }

    /// Gradient of one token's inner loss at `weights` by the autodiff engine, kept differentiable for the outer loop.
    private static func autodiffGradient(_ mlp: MemoryMLP, _ weights: [Tensor], _ token: MemoryStream) -> [Tensor] {
        let loss = mlp.loss.value(mlp(weights, token.keys), token.values)  // Eq. 12, summed over sequences and heads
        return Tensor.gradients(of: loss, withRespectTo: weights, createGraph: true)
    }

    /// The sizes the step rules read, from the token's autodiff gradient and the forward pass at `weights`.
    /// The read's gradient g is the engine's too, and the objective's curvature max(1, ½ gᵀHg / ‖g‖²) comes from the
    /// engine's Hessian–vector product Hg, so the closed forms of ``InnerLoss`` are checked against both. The alignment
    /// with `surprise` (for the rules that read it) from the formed gradients.
    private static func gradientSizes(_ mlp: MemoryMLP, _ weights: [Tensor], _ gradient: [Tensor], _ token: MemoryStream,
                                      rule: StepRule, surprise: [Tensor]) -> GradientSizes {
        let read = mlp(weights, token.keys)
        let g = Tensor.gradients(of: mlp.loss.value(read, token.values), withRespectTo: [read], createGraph: true)[0]
        let hessianTimesG = Tensor.gradients(of: (g * g.detach()).sum(), withRespectTo: [read], createGraph: true)[0]
        let squaredNorm = g.squared().sum(axis: -1)
        let factor = ((g * hessianTimesG).sum(axis: -1) * 0.5 / (squaredNorm + GradientSizes.epsilon)).maximum(1)
        return GradientSizes(inputs: mlp.layerInputs(weights, token.keys).map { $0.squared().sum(axis: -1) },
                             parameters: gradient.map { $0.squared().sum(axes: [-2, -1]).unsqueeze(-1) },
                             output: squaredNorm, objectiveCurvature: factor)
            .aligned(for: rule, surprise: surprise) {
                let products = gradient.indices.map { (gradient[$0] * surprise[$0]).sum(axes: [-2, -1]).unsqueeze(-1) }
                return products.dropFirst().reduce(products[0], +)
            }
    }

    /// Runs `body` with recording on and `state`'s tensors in the graph, so the engine can take inner gradients.
    private static func recording<R>(_ state: MemoryState, _ body: (MemoryState) -> R) -> R {
        GradMode.with(enabled: true) {
            body(MemoryState(weights: state.weights.map { $0.requiresGrad ? $0 : $0.detach().requiringGrad() },
                             surprise: state.surprise))
        }
    }
}
