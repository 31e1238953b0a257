import TitansNN

/// MAG, memory as a gate (paper §4.2, Eqs. 26–28): sliding-window attention whose every position also sees the
/// persistent tokens, gated with the memory's reads over [persistent ‖ x].
///
/// ```swift
/// let mag = MemoryAsGate(.standard(.mag), dtype: .float32, generator: &rng)
/// let (y, state) = mag(x, state: nil)
/// ```
public final class MemoryAsGate: Module, SequenceMixer {
    public let mixerNorm: RMSNorm
    public let attention: AttentionLayer
    public let memory: NeuralMemory
    public let gate: MemoryGate
    public let persistent: Tensor?

    public init(_ c: ModelConfiguration, dtype: DType, generator: inout RandomGenerator) {
        mixerNorm = RMSNorm(c.width, dtype: dtype)
        attention = AttentionLayer(width: c.width, heads: c.heads, window: c.window, dtype: dtype, generator: &generator)
        memory = NeuralMemory(c.memory, dtype: dtype, generator: &generator)
        gate = MemoryGate(width: c.width, dtype: dtype)
        persistent = PersistentMemory.tokens(c.persistentTokens, width: c.width, dtype: dtype, generator: &generator)
    }

    public func callAsFunction(_ x: Tensor, state: HybridState?) -> (Tensor, HybridState) {
        let normed = mixerNorm(x)
        let (y, cache) = attention(normed, cache: state?.attention, persistent: persistent)
        let (reads, memoryState) = memory.withPrefix(persistent, normed, state: state?.memory)
        return (gate(y, reads), HybridState(attention: cache, memory: memoryState))
    }
}

/// The gating ⊗ of MAG and MAC (paper §4.2: "normalize the outputs y and M(x̃) using learnable vector-valued weights,
/// followed by a non-linearity σ"): `RMSNorm(y) ⊙ sigmoid(RMSNorm(m))`.
///
/// ```swift
/// let gate = MemoryGate(width: 256, dtype: .float32)
/// let out = gate(attentionOutput, memoryOutput)   // norm(y) ⊙ σ(norm(m))
/// ```
public final class MemoryGate: Module {
    public let attentionNorm: RMSNorm
    public let memoryNorm: RMSNorm

    public init(width: Int, dtype: DType) {
        attentionNorm = RMSNorm(width, dtype: dtype)
        memoryNorm = RMSNorm(width, dtype: dtype)
    }

    public func callAsFunction(_ y: Tensor, _ m: Tensor) -> Tensor { attentionNorm(y) * memoryNorm(m).sigmoid() }
}
