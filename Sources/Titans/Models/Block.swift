import TitansNN

/// What a block carries between calls: each of its mixers' state.
public struct BlockState {
    var attention: AttentionCache?
    var memory: NeuralMemoryState?
    var memoryAsContext: MemoryAsContextState?
    /// Whether the persistent tokens have already gone through the memory (they are written once, at the start).
    var started = false
}

/// One pre-norm residual block of a ``LanguageModel``: `x + mixer(RMSNorm(x))`, then `x + SwiGLU(RMSNorm(x))`,
/// where the mixer is the architecture's (paper §4):
/// - Transformer++: full causal attention; sliding window: windowed attention;
/// - LMM: the neural memory over [persistent ‖ x];
/// - MAL: the memory over [persistent ‖ x], then (its own residual step) windowed attention;
/// - MAG: windowed attention with the persistent prefix, gated with the memory over [persistent ‖ x];
/// - MAC: ``MemoryAsContext``.
public final class Block: Module {
    public let mixerNorm: RMSNorm
    public let attention: AttentionLayer?
    public let memory: NeuralMemory?
    public let memoryAsContext: MemoryAsContext?
    /// MAL's second step (attention after the memory layer) has its own norm.
    public let attentionNorm: RMSNorm?
    public let gate: MemoryGate?
    /// The persistent tokens of this block (§3.3), `[Np, width]`.
    public let persistent: Tensor?
    public let feedForwardNorm: RMSNorm
    public let feedForward: SwiGLU
    let architecture: ModelConfiguration.Architecture

    public init(_ c: ModelConfiguration, dtype: DType, generator: inout RandomGenerator) {
        architecture = c.architecture
        mixerNorm = RMSNorm(c.width, dtype: dtype)
        let usesAttention: Set<ModelConfiguration.Architecture> = [.transformer, .slidingWindow, .mag, .mal]
        attention = usesAttention.contains(c.architecture)
            ? AttentionLayer(width: c.width, heads: c.heads, window: c.architecture == .transformer ? nil : c.window,
                             dtype: dtype, generator: &generator)
            : nil
        let usesMemory: Set<ModelConfiguration.Architecture> = [.lmm, .mal, .mag]
        memory = usesMemory.contains(c.architecture) ? NeuralMemory(c.memory, dtype: dtype, generator: &generator) : nil
        memoryAsContext = c.architecture == .mac
            ? MemoryAsContext(width: c.width, heads: c.heads, segment: c.segment, memory: c.memory, dtype: dtype, generator: &generator)
            : nil
        attentionNorm = c.architecture == .mal ? RMSNorm(c.width, dtype: dtype) : nil
        gate = c.architecture == .mag ? MemoryGate(width: c.width, dtype: dtype) : nil
        let titans: Set<ModelConfiguration.Architecture> = [.mac, .mag, .mal, .lmm]
        persistent = titans.contains(c.architecture) && c.persistentTokens > 0
            ? Tensor.randomNormal([c.persistentTokens, c.width], standardDeviation: 0.02, dtype: dtype, generator: &generator).requiringGrad()
            : nil
        feedForwardNorm = RMSNorm(c.width, dtype: dtype)
        feedForward = SwiGLU(width: c.width, hidden: c.feedForwardWidth, dtype: dtype, generator: &generator)
    }

    /// The memory over `x`, with the persistent tokens written first at the start of a sequence (Eqs. 26, 29).
    private func memoryBranch(_ x: Tensor, _ state: inout BlockState) -> Tensor {
        guard let memory else { preconditionFailure("Block: no memory in a \(architecture) block") }
        var input = x
        let prefix = state.started ? 0 : (persistent?.shape[0] ?? 0)
        if prefix > 0, let persistent {
            input = Tensor.concatenate([persistent.unsqueeze(0).expand(to: [x.shape[0]] + persistent.shape), x], axis: 1)
        }
        let (y, next) = memory(input, state: state.memory)
        state.memory = next
        state.started = true
        return prefix > 0 ? y.slice(axis: 1, start: prefix, end: y.shape[1]) : y
    }

    public func callAsFunction(_ x: Tensor, state: BlockState?) -> (Tensor, BlockState) {
        var state = state ?? BlockState()
        var h = x
        let normed = mixerNorm(x)
        switch architecture {
        case .transformer, .slidingWindow:
            let (y, cache) = attention!(normed, cache: state.attention)
            state.attention = cache
            h = h + y
        case .lmm:
            h = h + memoryBranch(normed, &state)
        case .mal:
            h = h + memoryBranch(normed, &state)
            let (y, cache) = attention!(attentionNorm!(h), cache: state.attention)
            state.attention = cache
            h = h + y
        case .mag:
            let (y, cache) = attention!(normed, cache: state.attention, persistent: persistent)
            state.attention = cache
            h = h + gate!(y, memoryBranch(normed, &state))
        case .mac:
            let (y, next) = memoryAsContext!(normed, state: state.memoryAsContext, persistent: persistent)
            state.memoryAsContext = next
            h = h + y
        }
        return (h + feedForward(feedForwardNorm(h)), state)
    }
}
