import TitansNN

/// Attention alone: Transformer++ (full causal attention), the sliding-window baseline (paper §5), and the blocks of
/// MAC, MAG and MAL that hold no memory (``ModelConfiguration/memoryLayers``), which attend with the persistent tokens
/// over their window (MAC's over a window of its segment length: the same cost per token as attention within
/// segments, not the same mask).
///
/// ```swift
/// let attention = AttentionMixer(configuration, window: 64, dtype: .float32, generator: &rng)   // nil: full causal
/// let (y, cache) = attention(x, state: nil)
/// ```
public final class AttentionMixer: Module, SequenceMixer {
    public let mixerNorm: RMSNorm
    public let attention: AttentionLayer
    public let persistent: Tensor?

    public init(_ c: ModelConfiguration, window: Int?, persistentTokens: Int = 0, dtype: DType, generator: inout RandomGenerator) {
        mixerNorm = RMSNorm(c.width, dtype: dtype)
        attention = AttentionLayer(width: c.width, heads: c.heads, window: window, dtype: dtype, generator: &generator)
        persistent = PersistentMemory.tokens(persistentTokens, width: c.width, dtype: dtype, generator: &generator)
    }

    public func callAsFunction(_ x: Tensor, state: AttentionCache?) -> (Tensor, AttentionCache) {
        attention(mixerNorm(x), cache: state, persistent: persistent)
    }
}
