import TitansNN

/// MAL, memory as a layer (paper §4.3, Eqs. 29–31): the memory over [persistent ‖ x], then sliding-window attention,
/// each a residual step with its own norm.
///
/// ```swift
/// let mal = MemoryAsLayer(.standard(.mal), dtype: .float32, generator: &rng)
/// let (y, state) = mal(x, state: nil)
/// ```
public final class MemoryAsLayer: Module, SequenceMixer {
    public let mixerNorm: RMSNorm
    public let memory: NeuralMemory
    public let attentionNorm: RMSNorm
    public let attention: AttentionLayer
    public let persistent: Tensor?

    public init(_ c: ModelConfiguration, dtype: DType, generator: inout RandomGenerator) {
        mixerNorm = RMSNorm(c.width, dtype: dtype)
        attention = AttentionLayer(width: c.width, heads: c.heads, window: c.window, dtype: dtype, generator: &generator)
        memory = NeuralMemory(c.memory, dtype: dtype, generator: &generator)
        attentionNorm = RMSNorm(c.width, dtype: dtype)
        persistent = PersistentMemory.tokens(c.persistentTokens, width: c.width, dtype: dtype, generator: &generator)
    }

    public func callAsFunction(_ x: Tensor, state: HybridState?) -> (Tensor, HybridState) {
        let (y, memoryState) = memory.withPrefix(persistent, mixerNorm(x), state: state?.memory)
        let (attended, cache) = attention(attentionNorm(x + y), cache: state?.attention)
        return (y + attended, HybridState(attention: cache, memory: memoryState))
    }
}
