import TitansNN

/// The memory's state between tokens (Eqs. 13–14): the weights `M` and the surprise `S` of every parameter tensor of
/// the memory model, each `[batch, heads, input, output]` (batch 1 before the first update, broadcast over sequences).
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

    /// `self − scale · other`, `scale` `[B, H]` per sequence and head (1 when `nil`).
    func minus(_ other: MemoryState, scaledBy scale: Tensor? = nil) -> MemoryState {
        let s = scale?.unsqueeze(-1).unsqueeze(-1)
        func scaled(_ t: Tensor) -> Tensor { s.map { t * $0 } ?? t }
        return MemoryState(weights: zip(weights, other.weights).map { $0 - scaled($1) },
                           surprise: zip(surprise, other.surprise).map { $0 - scaled($1) })
    }
}

/// Where the memory stands part-way through a chunk (§3.2): every gradient of the chunk is taken at
/// `gradientWeights`, the weights at its start. With a chunk bound (``StepRule/chunkBounded(bound:)``) the chunk's
/// steps are kept apart from the rest, unscaled, because each token rescales all of them (Memory/README.md, "Step
/// rules"); with any other rule they are folded into `state` as they are taken.
public struct MemoryCursor {
    /// The memory after the last token; with a chunk bound part-way through a chunk, the part carrying no step of
    /// this chunk (the chunk-start memory evolved by momentum and retention alone).
    var state: MemoryState
    /// With a chunk bound part-way through a chunk: the chunk's steps so far, unscaled.
    var steps: MemoryState?
    /// With `steps`: ρ of the last token `[B, H]`, the scale all of the chunk's steps take.
    var rowScale: Tensor?
    /// The step rule's running load of the chunk so far `[B, H]` (``StepRule/chunkBounded(bound:)``).
    var load: Tensor?
    /// The weights at the chunk's start.
    var gradientWeights: [Tensor]
    /// Tokens of the current chunk taken so far: 0 at a chunk boundary.
    public internal(set) var tokens: Int

    /// A cursor at a chunk boundary.
    init(start: MemoryState) {
        state = start
        gradientWeights = start.weights
        tokens = 0
    }

    /// M and S after the last token.
    public var memory: MemoryState {
        guard let steps, let rowScale else { return state }
        return state.minus(steps, scaledBy: rowScale)
    }

    /// Ends the chunk: the steps taken, scaled, join the state, and its weights are where the next chunk's gradients
    /// are taken.
    mutating func closeChunk() {
        state = memory
        (steps, rowScale, load, tokens) = (nil, nil, nil, 0)
        gradientWeights = state.weights
    }

    /// The cursor with every tensor cut from the outer graph.
    public func detached() -> MemoryCursor {
        var cut = self
        cut.state = state.detached()
        cut.steps = steps?.detached()
        cut.rowScale = rowScale?.detach()
        cut.load = load?.detach()
        cut.gradientWeights = gradientWeights.map { $0.detach() }
        return cut
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
