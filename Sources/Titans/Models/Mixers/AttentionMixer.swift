import TitansNN

/// Attention alone: Transformer++ (full causal attention) or the sliding-window baseline (paper §5).
public final class AttentionMixer: Module, SequenceMixer {
    public let mixerNorm: RMSNorm
    public let attention: AttentionLayer

    public init(_ c: ModelConfiguration, window: Int?, dtype: DType, generator: inout RandomGenerator) {
        mixerNorm = RMSNorm(c.width, dtype: dtype)
        attention = AttentionLayer(width: c.width, heads: c.heads, window: window, dtype: dtype, generator: &generator)
    }

    public func callAsFunction(_ x: Tensor, state: AttentionCache?) -> (Tensor, AttentionCache) {
        attention(mixerNorm(x), cache: state)
    }
}
