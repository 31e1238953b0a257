import TitansNN

/// The memory's state between tokens (Eqs. 13–14): the weights `M` and the surprise `S` of every parameter tensor of
/// the memory model, each `[batch, heads, input, output]` (batch 1 before the first update, broadcast over sequences).
///
/// ```swift
/// let state = memory.initialState.cursor.memory   // M₀ and zero surprise
/// print(state.weights.map(\.shape))
/// ```
public struct MemoryState {
    public var weights: [Tensor]
    public var surprise: [Tensor]

    public init(weights: [Tensor], surprise: [Tensor]) {
        self.weights = weights
        self.surprise = surprise
    }

    /// Zero weights and surprise shaped like `tensors`.
    init(zerosLike tensors: [Tensor]) {
        self.init(weights: tensors.map { Tensor.zeros(like: $0) }, surprise: tensors.map { Tensor.zeros(like: $0) })
    }

    /// The state with every tensor cut from the outer graph (for streaming inference across calls).
    public func detached() -> MemoryState {
        MemoryState(weights: weights.map { $0.detach() }, surprise: surprise.map { $0.detach() })
    }

    /// `self − scale · other`, `scale` `[B, H]` per sequence and head (1 when `nil`).
    func minus(_ other: MemoryState, scaledBy scale: Tensor? = nil) -> MemoryState {
        // (−scale) · other + self in one op: one state-sized tensor kept for backward per chunk, not two.
        let minusScale = scale.map { -$0.unsqueeze(-1).unsqueeze(-1) }
        func difference(_ t: Tensor, _ o: Tensor) -> Tensor { minusScale.map { o.multiplyAdd($0, t) } ?? t - o }
        return MemoryState(weights: zip(weights, other.weights).map(difference),
                           surprise: zip(surprise, other.surprise).map(difference))
    }
}

/// Where the memory stands part-way through a chunk (§3.2): every gradient of the chunk is taken at
/// `gradientWeights`, the weights at its start. With a chunk bound (``StepRule/chunkBounded(bound:)``) the chunk's
/// steps are kept apart from the rest, unscaled, because each token rescales all of them (NeuralMemoryForms.md, "Step
/// rules"); with any other rule the chunked form folds them into `state` as it takes them. While decoding, the
/// one-token step keeps the chunk's new steps factored (`pending`) and how far momentum and retention have carried
/// the rest as scalars (`carriedScale`), so a token never rewrites the memory; `settled` forms them.
///
/// ```swift
/// let (_, state) = memory(x)
/// print(state.cursor.tokens)          // tokens taken in the chunk under way
/// let weights = state.cursor.memory   // M and S after the last token
/// ```
public struct MemoryCursor {
    /// The memory after the last token; with a chunk bound part-way through a chunk, the part carrying no step of
    /// this chunk (the chunk-start memory evolved by momentum and retention alone).
    var state: MemoryState
    /// With a chunk bound part-way through a chunk: the chunk's steps so far, unscaled (those taken before `pending`).
    var steps: MemoryState?
    /// While decoding: how far momentum and retention alone have carried `state` and `steps` since they were stored,
    /// as scalars, so a token need not rewrite them (``carried``).
    var carriedScale: CarriedScale?
    /// While decoding: the steps taken since `carriedScale` started, factored, unscaled and positive.
    var pending: FactoredSteps?
    /// With `steps` or `pending` under a chunk bound: ρ of the last token `[B, H]`, the scale all of the chunk's steps take.
    var rowScale: Tensor?
    /// The step rule's running load of the chunk so far `[B, H]` (``StepRule/chunkBounded(bound:)``).
    var load: Tensor?
    /// The weights at the chunk's start.
    var gradientWeights: [Tensor]
    /// Tokens of the current chunk taken so far: 0 at a chunk boundary.
    public internal(set) var tokens: Int

    /// Whether nothing of a chunk is under way: the cursor is its state alone.
    var isAtChunkBoundary: Bool {
        tokens == 0 && steps == nil && carriedScale == nil && pending == nil && rowScale == nil && load == nil
    }

    /// A cursor at a chunk boundary.
    init(start: MemoryState) {
        state = start
        gradientWeights = start.weights
        tokens = 0
    }

    /// The part of the memory that carries no step of this chunk's (all of it without a chunk bound and decoding).
    var carried: MemoryState { carriedScale.map { $0.applied(to: state, anchored: true) } ?? state }

    /// The chunk's steps so far, formed, unscaled: `steps` carried forward plus `pending`; `nil` when there are none.
    var chunkSteps: MemoryState? {
        let earlier = steps.map { s in carriedScale.map { $0.applied(to: s, anchored: false) } ?? s }
        guard let formed = pending?.formed else { return earlier }
        return earlier.map { MemoryState(weights: zip($0.weights, formed.weights).map(+), surprise: zip($0.surprise, formed.surprise).map(+)) }
            ?? formed
    }

    /// M and S after the last token: the carried memory less the chunk's steps, times ρ under a chunk bound.
    public var memory: MemoryState {
        guard let steps = chunkSteps else { return carried }
        return carried.minus(steps, scaledBy: rowScale)
    }

    /// The same cursor with nothing kept as scalars or factors (the form the chunked update continues from): under a
    /// chunk bound the steps stay apart, formed; otherwise they join the state.
    var settled: MemoryCursor {
        guard carriedScale != nil || pending != nil else { return self }
        var settled = self
        if rowScale != nil {
            (settled.state, settled.steps) = (carried, chunkSteps)
        } else {
            (settled.state, settled.steps) = (memory, nil)
        }
        (settled.carriedScale, settled.pending) = (nil, nil)
        return settled
    }

    /// After `count` tokens' steps: the rule's load so far, the tokens counted, and the chunk closed after its last.
    mutating func endTokens(_ count: Int = 1, load: Tensor?, chunkSize: Int) {
        self.load = load
        tokens += count
        if tokens == chunkSize { closeChunk() }
    }

    /// Ends the chunk: the steps taken, scaled, join the state, and its weights are where the next chunk's gradients
    /// are taken.
    mutating func closeChunk() {
        state = memory
        (steps, carriedScale, pending, rowScale, load, tokens) = (nil, nil, nil, nil, nil, 0)
        gradientWeights = state.weights
    }

    /// The cursor with every tensor cut from the outer graph.
    public func detached() -> MemoryCursor {
        var cut = self
        cut.state = state.detached()
        cut.steps = steps?.detached()
        cut.carriedScale = carriedScale.map { CarriedScale(retention: $0.retention.detach(), momentum: $0.momentum.detach(),
                                                           surprise: $0.surprise.detach(), anchor: $0.anchor) }
        cut.pending = pending?.detached()
        cut.rowScale = rowScale?.detach()
        cut.load = load?.detach()
        cut.gradientWeights = gradientWeights.map { $0.detach() }
        return cut
    }
}

/// M₀, the weights forgetting decays the memory toward when it does not decay toward zero
/// (``NeuralMemoryConfiguration/forgetsTowardInitial``): each parameter tensor `[1, heads, input, output]`, as the
/// state's. What retention β takes from the memory's carried part, forgetting gives back as `(1 − β) M₀`
/// (NeuralMemoryForms.md "Forgetting toward M₀"); a chunk's steps take nothing from it.
struct ForgettingAnchor {
    let weights: [Tensor]

    /// Memory tensor `l` carried by retention β alone (`β M + c S`, given as `carried`), plus `(1 − β) M₀`;
    /// `retention` broadcasts against the tensor (`[B, H, 1, 1]`).
    func restoring(_ carried: Tensor, retention: Tensor, _ l: Int) -> Tensor {
        weights[l].multiplyAdd(1 - retention, carried)
    }

    /// The same for a read through matrix `l` (`z (β M + …)`, given as `read`), plus `(1 − β) (z M₀)`; `retention` per
    /// read row (`[B, H, n, 1]`).
    func restoring(read: Tensor, _ z: Tensor, retention: Tensor, _ l: Int) -> Tensor {
        z.matmul(weights[l]).multiplyAdd(1 - retention, read)
    }
}

/// How far momentum and retention alone have carried a state (M, S) since it was stored, each `[B, H, 1, 1]`: the
/// retention β = Π(1 − α), the momentum a = Π η and the carried surprise c = Σ_j β_{j→} a_j, so the state is now
/// (β M + c S, a S) (NeuralMemoryForms.md, "The chunked dual form"); with forgetting toward M₀ the memory's weights
/// also take back `(1 − β) M₀` (``MemoryMLP/anchor``), the chunk's steps not.
struct CarriedScale {
    var retention: Tensor
    var momentum: Tensor
    var surprise: Tensor
    /// M₀ when forgetting decays toward it (a parameter, never detached); `nil` toward zero.
    var anchor: ForgettingAnchor?

    /// Nothing carried yet, for the batch and heads of `gate` `[B, H, …]`.
    init(like gate: Tensor, anchor: ForgettingAnchor?) {
        let ones = Tensor.ones(Array(gate.shape.prefix(2)) + [1, 1], dtype: gate.dtype)
        (retention, momentum, surprise, self.anchor) = (ones, ones, Tensor.zeros(like: ones), anchor)
    }

    init(retention: Tensor, momentum: Tensor, surprise: Tensor, anchor: ForgettingAnchor?) {
        (self.retention, self.momentum, self.surprise, self.anchor) = (retention, momentum, surprise, anchor)
    }

    /// One more token: β ← (1 − α) β, a ← η a (0 without momentum), c ← (1 − α) c + a.
    mutating func advance(momentum eta: Tensor?, retention keep: Tensor?) {
        momentum = eta.map { momentum * $0 } ?? Tensor.zeros(like: momentum)
        if let keep {
            retention = retention * keep
            surprise = surprise.multiplyAdd(keep, momentum)
        } else {
            surprise = surprise + momentum
        }
    }

    /// `state` carried: (β M + c S, a S), plus (1 − β) M₀ when `anchored` (the memory, not the chunk's steps) and
    /// forgetting decays toward M₀.
    func applied(to state: MemoryState, anchored: Bool) -> MemoryState {
        MemoryState(weights: state.weights.indices.map { weight($0, of: state, anchored: anchored) },
                    surprise: state.surprise.map { $0 * momentum })
    }

    /// Parameter tensor `l` of `state` carried: β M + c S (+ (1 − β) M₀ when `anchored`).
    func weight(_ l: Int, of state: MemoryState, anchored: Bool) -> Tensor {
        let carried = state.weights[l].multiplyAdd(retention, state.surprise[l] * surprise)
        guard anchored, let anchor else { return carried }
        return anchor.restoring(carried, retention: retention, l)
    }

    /// `z` read through matrix `l` of the carried state, β (z M) + c (z S) (+ (1 − β) (z M₀) when `anchored`), without
    /// forming it.
    func read(_ z: Tensor, _ state: MemoryState, _ l: Int, anchored: Bool) -> Tensor {
        let carried = z.matmul(state.surprise[l]).multiplyAdd(surprise, z.matmul(state.weights[l]) * retention)
        guard anchored, let anchor else { return carried }
        return anchor.restoring(read: carried, z, retention: retention, l)
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
}
