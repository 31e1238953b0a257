import TitansNN

/// One pre-norm residual block of a ``LanguageModel``: `x + mixer(x)` (the architecture's sequence mixer, which
/// normalises its own input), then `x + SwiGLU(RMSNorm(x))`.
///
/// ```swift
/// let block = Block(.standard(.mag), index: 0, dtype: .float32, generator: &rng)
/// let (y, state) = block(x, state: nil)
/// ```
public final class Block: Module {
    /// The architecture's sequence mixer (`Mixers/`); its parameters are named as the block's own
    /// (`blocks.0.attention.query.weight`), as they were before mixers had a type of their own.
    public let mixer: any SequenceMixer
    public let feedForwardNorm: RMSNorm
    public let feedForward: SwiGLU

    override public var inlinedChildren: Set<String> { ["mixer"] }

    /// Block `index` (from 0) of a model of configuration `c`.
    public init(_ c: ModelConfiguration, index: Int, dtype: DType, generator: inout RandomGenerator) {
        mixer = c.hasMemory(block: index)
            ? c.architecture.mixer(c, dtype: dtype, generator: &generator)
            : AttentionMixer(c, window: c.architecture == .mac ? c.segment : c.window, persistentTokens: c.persistentTokens,
                             dtype: dtype, generator: &generator)
        feedForwardNorm = RMSNorm(c.width, dtype: dtype)
        feedForward = SwiGLU(width: c.width, hidden: c.feedForwardWidth, dtype: dtype, generator: &generator)
    }

    /// The block over `x` `[batch, time, width]`, continuing from the state its mixer returned last (`nil`: a new sequence).
    public func callAsFunction(_ x: Tensor, state: (any MixerState)?) -> (Tensor, any MixerState) {
        let (y, next) = mixer.mix(x, state: state)
        let h = x + y
        return (h + feedForward(feedForwardNorm(h)), next)
    }
}
