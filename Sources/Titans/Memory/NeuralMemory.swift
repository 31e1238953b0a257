import Foundation
import TitansNN

/// One layer of neural long-term memory (paper §3, §4.4): it writes every token into an MLP's weights by a
/// gradient step with momentum and forgetting, and reads each token's query from the memory as it stands after
/// that token's write.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let memory = NeuralMemory(NeuralMemoryConfiguration(width: 64, heads: 4), generator: &rng)
/// let (y, state) = memory(x)                 // x: [batch, time, 64]
/// let (more, _) = memory(next, state: state) // continues the same sequences
/// ```
public final class NeuralMemory: Module {
    public let configuration: NeuralMemoryConfiguration
    /// W_Q, W_K, W_V (Eqs. 11, 15), no bias.
    public let query: Linear
    public let key: Linear
    public let value: Linear
    /// Depthwise causal convolutions after the projections (§4.4), when the kernel is not 0.
    public let queryConvolution: DepthwiseCausalConvolution?
    public let keyConvolution: DepthwiseCausalConvolution?
    public let valueConvolution: DepthwiseCausalConvolution?
    /// Per token and head: θ = maxLearningRate·sigmoid(x W_θ), η = sigmoid(x W_η), α = sigmoid(x W_α).
    public let learningRateGate: Linear
    public let momentumGate: Linear?
    public let forgettingGate: Linear?
    /// M₀: the memory's initial weights per matrix (the MLP's layers, then the shortcut's), `[1, heads, input, output]`,
    /// learned by the outer loop; with the residual wrapper, its gain g `[1, heads, 1, headWidth]` (zeros: a gain of one)
    /// comes last.
    public let initialMemory: [Tensor]
    /// Output path (§4.4): RMSNorm of each head's read, gated by sigmoid(x W_g), then W_O.
    public let outputNorm: RMSNorm?
    public let outputGateProjection: Linear?
    public let output: Linear

    private var memoryMLP: MemoryMLP {
        MemoryMLP(depth: configuration.memoryDepth, activation: configuration.activation, shortcut: configuration.hasShortcut,
                  residualNorm: configuration.residualNorm, loss: configuration.innerLoss,
                  anchor: configuration.forgetsTowardInitial ? ForgettingAnchor(weights: initialMemory) : nil)
    }

    public init(_ configuration: NeuralMemoryConfiguration, dtype: DType = .float32, generator: inout RandomGenerator) {
        if let problem = configuration.problem { preconditionFailure("NeuralMemory: \(problem)") }
        self.configuration = configuration
        let c = configuration, inner = c.heads * c.headWidth
        query = Linear(c.width, inner, bias: false, dtype: dtype, generator: &generator)
        key = Linear(c.width, inner, bias: false, dtype: dtype, generator: &generator)
        value = Linear(c.width, inner, bias: false, dtype: dtype, generator: &generator)
        func convolution() -> DepthwiseCausalConvolution? {
            c.convolutionKernel > 0 ? DepthwiseCausalConvolution(channels: inner, kernel: c.convolutionKernel, dtype: dtype, generator: &generator) : nil
        }
        queryConvolution = convolution()
        keyConvolution = convolution()
        valueConvolution = convolution()
        learningRateGate = Linear(c.width, c.heads, dtype: dtype, generator: &generator)
        momentumGate = c.momentum ? Linear(c.width, c.heads, dtype: dtype, generator: &generator) : nil
        forgettingGate = c.forgetting ? Linear(c.width, c.heads, dtype: dtype, generator: &generator) : nil
        let forgettingBias = log(c.initialForgetting / (1 - c.initialForgetting))  // α₀ = sigmoid(bias)
        forgettingGate?.bias?.assign(Tensor.full([c.heads], value: forgettingBias, dtype: dtype))
        // M₀ ~ N(0, 1/input) per layer, so a fresh memory maps unit keys to values of order one.
        initialMemory = c.memoryLayerWidths.map { widths in
            Tensor.randomNormal([1, c.heads, widths.input, widths.output], standardDeviation: 1 / Double(widths.input).squareRoot(),
                                dtype: dtype, generator: &generator).requiringGrad()
        } + (c.residualNorm ? [Tensor.zeros([1, c.heads, 1, c.headWidth], dtype: dtype).requiringGrad()] : [])
        outputNorm = c.outputGate ? RMSNorm(c.headWidth, dtype: dtype) : nil
        outputGateProjection = c.outputGate ? Linear(c.width, inner, dtype: dtype, generator: &generator) : nil
        output = Linear(inner, c.width, bias: false, dtype: dtype, generator: &generator)
    }

    /// The memory before it has read anything: M₀ and zero surprise.
    public var initialState: NeuralMemoryState {
        NeuralMemoryState(cursor: MemoryCursor(start: MemoryState(weights: initialMemory, surprise: initialMemory.map { Tensor.zeros(like: $0) })))
    }

    /// Reads and writes `x` `[batch, time, width]`, continuing from `state` (a fresh memory when `nil`).
    /// Returns the output `[batch, time, width]` and the state to continue from; feeding a sequence in pieces
    /// gives the same outputs as one call. With exact steps every input takes the exact delta rule in blocks; otherwise
    /// a single token takes the one-token step, longer inputs the chunked form.
    public func callAsFunction(_ x: Tensor, state: NeuralMemoryState? = nil) -> (Tensor, NeuralMemoryState) {
        precondition(x.rank == 3 && x.shape[2] == configuration.width,
                     "NeuralMemory: input \(x.shape) must be [batch, time, \(configuration.width)]")
        let state = state ?? initialState
        let c = configuration
        var history = state.convolutionHistory

        func perHead(_ gate: Tensor) -> Tensor { gate.permute([0, 2, 1]) }  // [B, T, H] → [B, H, T]
        let stream = decodesFused(x) ? decodingStream(x, history: &history) : MemoryStream(
            queries: project(x, query, queryConvolution, history: &history[0], normalise: true),
            keys: project(x, key, keyConvolution, history: &history[1], normalise: true),
            values: project(x, value, valueConvolution, history: &history[2], normalise: false),
            learningRate: perHead(learningRateGate(x).sigmoid() * c.maxLearningRate),
            logMomentum: momentumGate.map { perHead(-(-$0(x)).softplus()) },  // log sigmoid(x W_η)
            logRetention: forgettingGate.map { perHead(-$0(x).softplus()) })  // log(1 − sigmoid(x W_α))
        let (reads, cursor): (Tensor, MemoryCursor)
        if c.exactSteps {  // a single token too, as a block of one
            let block = min(c.chunkSize, MemoryUpdate.exactBlockLimit)
            (reads, cursor) = MemoryUpdate.exactDeltaRule(stream, state.cursor, blockSize: block, atRetained: c.gradientAtRetainedMemory)
        } else if stream.length == 1 {
            (reads, cursor) = MemoryUpdate.recurrent(memoryMLP, stream, state.cursor, chunkSize: c.chunkSize, rule: c.stepRule)
        } else {
            (reads, cursor) = MemoryUpdate.chunked(memoryMLP, stream, state.cursor, chunkSize: c.chunkSize, rule: c.stepRule)
        }
        return (output(reads: reads, x), NeuralMemoryState(cursor: cursor, convolutionHistory: history))
    }

    /// Reads `x`'s queries from a fixed memory, writing nothing (Eq. 15, M*): MAC's retrieval of a segment from
    /// the memory left by the previous segments (Eq. 21). `history` carries the query convolution's last inputs
    /// of this read stream between calls.
    public func retrieve(_ x: Tensor, from memory: MemoryState, history: inout Tensor?) -> Tensor {
        let q = decodesFused(x) ? fusedProjection(query(x), queryConvolution, history: &history, normalise: true)
            : project(x, query, queryConvolution, history: &history, normalise: true)
        return output(reads: MemoryUpdate.fusedRead(memoryMLP, memory.weights, q) ?? memoryMLP(memory.weights, q), x)
    }

    /// q, k or v `[B, H, T, headWidth]` from `x`: projection → depthwise causal conv → SiLU (§4.4), ℓ2-normalised per
    /// head for q and k. `history` holds the convolution's last inputs from earlier calls and is updated.
    private func project(_ x: Tensor, _ projection: Linear, _ convolution: DepthwiseCausalConvolution?,
                         history: inout Tensor?, normalise: Bool) -> Tensor {
        let c = configuration
        var h = projection(x)
        if let convolution {
            let past = history
            let joined = past.map { Tensor.concatenate([$0, h], axis: 1) } ?? h
            let keep = min(convolution.kernel - 1, joined.shape[1])
            history = joined.slice(axis: 1, start: joined.shape[1] - keep, end: joined.shape[1])
            h = convolution(joined, past: past?.shape[1] ?? 0)
        }
        h = h.silu().reshape([x.shape[0], x.shape[1], c.heads, c.headWidth])
        if normalise { h = h.l2Normalized() }
        return h.permute([0, 2, 1, 3])
    }

    /// The output path (§4.4) for reads `[B, H, T, headWidth]`: RMSNorm per head, gated by sigmoid(x W_g), then W_O.
    private func output(reads: Tensor, _ x: Tensor) -> Tensor {
        let c = configuration
        var y = reads.permute([0, 2, 1, 3])  // [B, T, H, headWidth]
        if let outputNorm, let outputGateProjection {
            let gate = outputGateProjection(x).sigmoid()
            y = decodesFused(x) ? fusedGatedNorm(reads, norm: outputNorm, gate: gate)
                : outputNorm(y) * gate.reshape([x.shape[0], x.shape[1], c.heads, c.headWidth])
        }
        return output(y.reshape([x.shape[0], x.shape[1], c.heads * c.headWidth]))
    }
}

/// Where a ``NeuralMemory`` stands between calls: the memory part-way through its current chunk, and the last inputs of
/// each convolution. Its size is bounded by the memory's and the kernel's, whatever the length streamed.
///
/// ```swift
/// let (y, state) = memory(firstHalf)
/// let (rest, _) = memory(secondHalf, state: state.detached())   // the same outputs as one call
/// ```
public struct NeuralMemoryState {
    public var cursor: MemoryCursor
    var convolutionHistory: [Tensor?]

    init(cursor: MemoryCursor, convolutionHistory: [Tensor?] = [nil, nil, nil]) {
        self.cursor = cursor
        self.convolutionHistory = convolutionHistory
    }

    /// Number of tokens taken in the current, unfinished chunk.
    public var tokensInChunk: Int { cursor.tokens }

    /// The state cut from the outer graph, for streaming inference over any length at constant memory.
    public func detached() -> NeuralMemoryState {
        NeuralMemoryState(cursor: cursor.detached(), convolutionHistory: convolutionHistory.map { $0?.detach() })
    }
}
