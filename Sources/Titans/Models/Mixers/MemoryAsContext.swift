import TitansNN

/// MAC, memory as a context (paper §4.1, Eqs. 21–25), as a block's mixer: the norm, the persistent tokens and the
/// layer that does the work.
///
/// ```swift
/// let mac = MemoryAsContext(.standard(.mac), dtype: .float32, generator: &rng)
/// let (y, state) = mac(x, state: nil)
/// ```
public final class MemoryAsContext: Module, SequenceMixer {
    public let mixerNorm: RMSNorm
    public let memoryAsContext: MemoryAsContextLayer
    public let persistent: Tensor?

    public init(_ c: ModelConfiguration, dtype: DType, generator: inout RandomGenerator) {
        mixerNorm = RMSNorm(c.width, dtype: dtype)
        memoryAsContext = MemoryAsContextLayer(width: c.width, heads: c.heads, segment: c.segment, memory: c.memory,
                                               writesResidual: c.macWritesResidual ?? false, dtype: dtype, generator: &generator)
        persistent = PersistentMemory.tokens(c.persistentTokens, width: c.width, dtype: dtype, generator: &generator)
    }

    public func callAsFunction(_ x: Tensor, state: MemoryAsContextState?) -> (Tensor, MemoryAsContextState) {
        memoryAsContext(mixerNorm(x), state: state, persistent: persistent)
    }
}

/// Where a ``MemoryAsContextLayer`` stands between calls.
///
/// ```swift
/// let (y, state) = mac(x, state: nil)
/// let (more, _) = mac(next, state: state)   // continues inside the segment under way
/// ```
public struct MemoryAsContextState: MixerState {
    /// The memory as it is written by the attention outputs (Eq. 24), token by token.
    var memory: NeuralMemoryState
    /// The memory at the start of the current segment, which every token of the segment reads (Eq. 21).
    var segmentMemory: MemoryState
    /// The last inputs of the retrieval's query convolution.
    var retrievalHistory: Tensor?
    /// The current segment's keys and values so far (`nil` at a segment boundary).
    var segment: SegmentCache?
    /// The persistent tokens' keys and values, projected at the stream's first call.
    var persistent: PersistentProjection?
    /// The absolute position of the next token.
    var position = 0
}

/// Memory as a context (paper §4.1, Eqs. 21–25). The sequence is cut into segments of `segment` tokens. For each
/// segment the tokens first read the memory left by the previous segments, h = M*_{t−1}(x W_Q) (Eq. 21); attention then
/// runs over [persistent ‖ h ‖ segment] (Eqs. 22–23), and its output y (or, with `writesResidual`, the residual
/// stream x + y: ``ModelConfiguration/macWritesResidual``) is written into the memory token by token, each token's
/// output gated by the memory's read of what it wrote, after its own write: o = y ⊗ M_t(·) (Eqs. 24–25).
///
/// Choices where the paper is open (the README's "Titans models and baselines"): h has one token per segment token
/// (N_l = C), and a token sees only the h of itself and earlier tokens of its segment, so nothing leaks from the future;
/// the persistent tokens are seen by all; ⊗ is RMSNorm(y) ⊙ sigmoid(RMSNorm(M(y))) as in MAG; attention does not cross
/// segments.
///
/// ```swift
/// let layer = MemoryAsContextLayer(width: 256, heads: 4, segment: 64, memory: memoryConfiguration, dtype: .float32,
///                                  generator: &rng)
/// let (y, state) = layer(x, state: nil, persistent: nil)
/// ```
public final class MemoryAsContextLayer: Module {
    public let attention: AttentionLayer
    public let memory: NeuralMemory
    public let gate: MemoryGate
    /// Normalises the attention outputs before they are written (the memory's other inputs are all normalised block
    /// inputs; unnormalised, the small outputs of a fresh attention wrote too faintly for the memory to learn).
    public let writeNorm: RMSNorm
    let segment: Int
    /// Whether the memory is written with x + y rather than y.
    let writesResidual: Bool

    public init(width: Int, heads: Int, segment: Int, memory: NeuralMemoryConfiguration, writesResidual: Bool = true, dtype: DType,
                generator: inout RandomGenerator) {
        attention = AttentionLayer(width: width, heads: heads, window: nil, dtype: dtype, generator: &generator)
        self.memory = NeuralMemory(memory, dtype: dtype, generator: &generator)
        gate = MemoryGate(width: width, dtype: dtype)
        writeNorm = RMSNorm(width, dtype: dtype)
        self.segment = segment
        self.writesResidual = writesResidual
    }

    public func callAsFunction(_ x: Tensor, state: MemoryAsContextState?, persistent: Tensor?) -> (Tensor, MemoryAsContextState) {
        var state = state ?? {
            let fresh = memory.initialState
            return MemoryAsContextState(memory: fresh, segmentMemory: fresh.cursor.memory)
        }()
        var (outputs, start) = recomputedGroups(x, &state, persistent: persistent)
        if start < x.shape[1] {
            outputs.append(segments(start == 0 ? x : x.slice(axis: 1, start: start, end: x.shape[1]), &state, persistent: persistent))
        }
        return (outputs.count == 1 ? outputs[0] : Tensor.concatenate(outputs, axis: 1), state)
    }

    /// `x` `[B, n, D]` a segment at a time, continuing from `state`.
    func segments(_ x: Tensor, _ state: inout MemoryAsContextState, persistent: Tensor?) -> Tensor {
        var outputs: [Tensor] = []
        var start = 0
        while start < x.shape[1] {
            // The part of this call that lies in the current segment.
            let end = min(x.shape[1], start + segment - state.position % segment)
            outputs.append(segmentStep(x.slice(axis: 1, start: start, end: end), &state, persistent: persistent))
            start = end
        }
        return outputs.count == 1 ? outputs[0] : Tensor.concatenate(outputs, axis: 1)
    }

    /// Tokens `x` `[B, n, D]` that continue the current segment (starting a new one when `state.position` is a boundary).
    private func segmentStep(_ x: Tensor, _ state: inout MemoryAsContextState, persistent: Tensor?) -> Tensor {
        if state.position % segment == 0 {  // a new segment: read the memory as the previous segments left it
            precondition(state.memory.tokensInChunk == 0, "MemoryAsContext: segments must be whole memory chunks")
            state.segmentMemory = state.memory.cursor.memory
            state.segment = nil
        }
        let h = memory.retrieve(x, from: state.segmentMemory, history: &state.retrievalHistory)  // Eq. 21
        let room = segment - state.position % segment - x.shape[1]  // tokens the segment has left after these
        let y = attention.segment(x, retrieved: h, position: state.position, cache: &state.segment, room: room,
                                  persistent: persistent, projected: &state.persistent)  // Eqs. 22–23
        // Eq. 24: write y (or x + y); each token reads what it wrote, after its write.
        let (read, memoryState) = memory(writeNorm(writesResidual ? y + x : y), state: state.memory)
        state.memory = memoryState
        state.position += x.shape[1]
        return gate(y, read)  // Eq. 25
    }
}
