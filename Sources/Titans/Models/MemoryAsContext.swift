import TitansNN

/// Where a ``MemoryAsContext`` layer stands between calls.
public struct MemoryAsContextState {
    /// The memory as it is written by the attention outputs (Eq. 24), token by token.
    var memory: NeuralMemoryState
    /// The memory at the start of the current segment, which every token of the segment reads (Eq. 21).
    var segmentMemory: MemoryState
    /// The last inputs of the retrieval's query convolution.
    var retrievalHistory: Tensor?
    /// Keys and values of the current segment so far: the retrieved tokens h and the segment's tokens, `[B, H, n, d]`.
    var retrievedKeys: Tensor?
    var retrievedValues: Tensor?
    var keys: Tensor?
    var values: Tensor?
    /// The absolute position of the next token.
    var position = 0
}

/// Memory as a context (paper §4.1, Eqs. 21–25). The sequence is cut into segments of `segment` tokens. For each
/// segment the tokens first read the memory left by the previous segments, h = M*_{t−1}(x W_Q) (Eq. 21); attention then
/// runs over [persistent ‖ h ‖ segment] (Eqs. 22–23), and its output y is written into the memory token by token,
/// each token's output gated by the memory's read of it after its own write: o = y ⊗ M_t(y) (Eqs. 24–25).
///
/// Choices where the paper is open (the README's "Titans models and baselines"): h has one token per segment token (N_l = C), and a token sees only
/// the h of itself and earlier tokens of its segment, so nothing leaks from the future; the persistent tokens are seen
/// by all; ⊗ is RMSNorm(y) ⊙ sigmoid(RMSNorm(M(y))) as in MAG; attention does not cross segments.
public final class MemoryAsContext: Module {
    public let attention: AttentionLayer
    public let memory: NeuralMemory
    public let gate: MemoryGate
    /// Normalises the attention outputs before they are written (the memory's other inputs are all normalised block
    /// inputs; unnormalised, the small outputs of a fresh attention wrote too faintly for the memory to learn).
    public let writeNorm: RMSNorm
    let segment: Int

    public init(width: Int, heads: Int, segment: Int, memory: NeuralMemoryConfiguration, dtype: DType,
                generator: inout RandomGenerator) {
        attention = AttentionLayer(width: width, heads: heads, window: nil, dtype: dtype, generator: &generator)
        self.memory = NeuralMemory(memory, dtype: dtype, generator: &generator)
        gate = MemoryGate(width: width, dtype: dtype)
        writeNorm = RMSNorm(width, dtype: dtype)
        self.segment = segment
    }

    public func callAsFunction(_ x: Tensor, state: MemoryAsContextState?, persistent: Tensor?) -> (Tensor, MemoryAsContextState) {
        var state = state ?? {
            let fresh = memory.initialState
            return MemoryAsContextState(memory: fresh, segmentMemory: fresh.cursor.memory)
        }()
        var outputs: [Tensor] = []
        var start = 0
        while start < x.shape[1] {
            // The part of this call that lies in the current segment.
            let inSegment = state.position % segment
            let end = min(x.shape[1], start + segment - inSegment)
            outputs.append(segmentStep(x.slice(axis: 1, start: start, end: end), &state, persistent: persistent))
            start = end
        }
        return (outputs.count == 1 ? outputs[0] : Tensor.concatenate(outputs, axis: 1), state)
    }

    /// Tokens `x` `[B, n, D]` that continue the current segment (starting a new one when `state.position` is a boundary).
    private func segmentStep(_ x: Tensor, _ state: inout MemoryAsContextState, persistent: Tensor?) -> Tensor {
        let a = attention
        if state.position % segment == 0 {  // a new segment: read the memory as the previous segments left it
            precondition(state.memory.tokensInChunk == 0, "MemoryAsContext: segments must be whole memory chunks")
            state.segmentMemory = state.memory.cursor.memory
            (state.retrievedKeys, state.retrievedValues, state.keys, state.values) = (nil, nil, nil, nil)
        }
        let h = memory.retrieve(x, from: state.segmentMemory, history: &state.retrievalHistory)  // Eq. 21
        let position = state.position, n = x.shape[1]
        let q = a.rotary(a.split(a.query(x)), offset: position)
        let newKeys = a.rotary(a.split(a.key(x)), offset: position), newValues = a.split(a.value(x))
        // Retrieved tokens sit at their token's position, so h_j is ordered with token j.
        let newRetrievedKeys = a.rotary(a.split(a.key(h)), offset: position), newRetrievedValues = a.split(a.value(h))
        func append(_ old: Tensor?, _ new: Tensor) -> Tensor { old.map { Tensor.concatenate([$0, new], axis: 2) } ?? new }
        state.keys = append(state.keys, newKeys)
        state.values = append(state.values, newValues)
        state.retrievedKeys = append(state.retrievedKeys, newRetrievedKeys)
        state.retrievedValues = append(state.retrievedValues, newRetrievedValues)
        let seen = state.keys!.shape[2]  // tokens of this segment so far, the new ones last
        var keys = [state.retrievedKeys!, state.keys!], values = [state.retrievedValues!, state.values!]
        let prefixCount = persistent?.shape[0] ?? 0
        if let persistent {
            keys.insert(a.split(a.key(persistent.unsqueeze(0))), at: 0)
            values.insert(a.split(a.value(persistent.unsqueeze(0))), at: 0)
        }
        // Query i (segment offset seen − n + i) sees all persistent tokens, and h and tokens up to its own offset.
        let causal = Tensor.bandMask(rows: n, columns: seen, columnOffset: seen - n, dtype: x.dtype)
        var parts = [causal, causal]
        if prefixCount > 0 { parts.insert(Tensor.ones([n, prefixCount], dtype: x.dtype), at: 0) }
        let mask = Tensor.concatenate(parts, axis: 1)
        let keyTensor = Tensor.concatenate(keys.map { $0.expand(to: [q.shape[0], q.shape[1], $0.shape[2], $0.shape[3]]) }, axis: 2)
        let valueTensor = Tensor.concatenate(values.map { $0.expand(to: [q.shape[0], q.shape[1], $0.shape[2], $0.shape[3]]) }, axis: 2)
        let y = a.output(a.merge(AttentionKernels.naive(q: q, k: keyTensor, v: valueTensor, mask: mask)))  // Eq. 23
        let (read, memoryState) = memory(writeNorm(y), state: state.memory)  // Eq. 24: write y; each token reads after its write
        state.memory = memoryState
        state.position += n
        return gate(y, read)  // Eq. 25
    }
}

/// The gating ⊗ of MAG and MAC (paper §4.2: "normalize the outputs y and M(x̃) using learnable vector-valued weights,
/// followed by a non-linearity σ"): `RMSNorm(y) ⊙ sigmoid(RMSNorm(m))`.
public final class MemoryGate: Module {
    public let attentionNorm: RMSNorm
    public let memoryNorm: RMSNorm

    public init(width: Int, dtype: DType) {
        attentionNorm = RMSNorm(width, dtype: dtype)
        memoryNorm = RMSNorm(width, dtype: dtype)
    }

    public func callAsFunction(_ y: Tensor, _ m: Tensor) -> Tensor { attentionNorm(y) * memoryNorm(m).sigmoid() }
}
