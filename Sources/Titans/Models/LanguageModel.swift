import TitansNN

/// What a ``LanguageModel`` carries between calls: every block's state. Its size is bounded for every architecture but
/// Transformer++ (whose full-attention cache holds every past position): sliding windows keep their window, memories
/// their chunk.
///
/// ```swift
/// let (logits, state) = model(prompt)
/// let (next, _) = model(IndexTensor(shape: [1, 1], [42]), state: state)   // one more token, at constant cost
/// ```
public struct LanguageModelState {
    var blocks: [(any MixerState)?]
    /// Tokens seen so far.
    public var position: Int
}

/// A byte-level (or any-vocabulary) language model: embedding, ``Block``s of the configured architecture, RMSNorm,
/// and a linear head to logits.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let model = LanguageModel(ModelConfiguration(architecture: .mag), generator: &rng)
/// let (logits, state) = model(IndexTensor(shape: [1, 5], [72, 101, 108, 108, 111]))   // [1, 5, 256]
/// let (next, _) = model(IndexTensor(shape: [1, 1], [33]), state: state)               // continues the sequence
/// ```
public final class LanguageModel: Module {
    public let configuration: ModelConfiguration
    public let embedding: Tensor
    public let blocks: [Block]
    public let finalNorm: RMSNorm
    public let head: Linear
    /// Activation checkpointing: while gradients are recorded, each block of a new sequence keeps only its input for
    /// the backward pass, which runs the block again (`Tensor.checkpointed`), its memory in groups of chunks (MAC's in
    /// groups of segments) that are recomputed in turn, their outputs kept from the forward pass (`CheckpointReplay`).
    /// Training memory then grows with one block's activations but the memory's per-chunk states, for about a third
    /// more compute. Off by default; `titans train --recompute`.
    public var recomputesBlocks = false
    /// With ``recomputesBlocks``: tokens per group of memory chunks recomputed inside a block's recomputation (whole
    /// chunks, for MAC whole segments; a sequence shorter than two groups is not grouped).
    public var recomputedMemoryGroupTokens = 1024

    public init(_ configuration: ModelConfiguration, dtype: DType = .float32, generator: inout RandomGenerator) {
        if let problem = configuration.problem { preconditionFailure("LanguageModel: \(problem)") }
        self.configuration = configuration
        embedding = Tensor.randomNormal([configuration.vocabularySize, configuration.width], standardDeviation: 0.02,
                                        dtype: dtype, generator: &generator).requiringGrad()
        blocks = (0..<configuration.layers).map { Block(configuration, index: $0, dtype: dtype, generator: &generator) }
        finalNorm = RMSNorm(configuration.width, dtype: dtype)
        head = Linear(configuration.width, configuration.vocabularySize, bias: false, dtype: dtype, generator: &generator)
    }

    /// Logits `[batch, time, vocabulary]` for `tokens` `[batch, time]`, continuing from `state` (a new sequence when `nil`).
    public func callAsFunction(_ tokens: IndexTensor, state: LanguageModelState? = nil) -> (logits: Tensor, state: LanguageModelState) {
        precondition(tokens.shape.count == 2, "LanguageModel: tokens must be [batch, time], got \(tokens.shape)")
        var state = state ?? LanguageModelState(blocks: Array(repeating: nil, count: blocks.count), position: 0)
        var h = embedding.indexSelect(axis: 0, indices: tokens)
        for (i, block) in blocks.enumerated() {
            guard recomputesBlocks, state.blocks[i] == nil, GradMode.isEnabled else {
                (h, state.blocks[i]) = block(h, state: state.blocks[i])
                continue
            }
            var next: (any MixerState)?
            let groupTokens = recomputedMemoryGroupTokens
            let replay = CheckpointReplay()
            h = Tensor.checkpointed([h], parameters: block.parameters()) { x in
                // Inside, the memory recomputes groups of its chunks too, so a block's recomputation keeps only each
                // group's start state, not every chunk's; the groups' outputs are kept from the forward pass for it.
                let (y, blockState) = MemoryUpdate.$recomputedGroupTokens.withValue(groupTokens) {
                    replay.run { block(x[0], state: nil) }
                }
                // The first run's state is returned; the backward pass's recorded one must not outlive it.
                if next == nil { next = blockState }
                return [y]
            }[0]
            state.blocks[i] = next
        }
        state.position += tokens.shape[1]
        return (head(finalNorm(h)), state)
    }
}

extension LanguageModel {
    /// Logits `[batch, time, vocabulary]` for new sequences `tokens` `[batch, time]`, without recording gradients: the
    /// rows are cut into one group per core and run side by side (`Parallel.shards`; one after another on a thread that
    /// keeps to one core, with the same numbers), for scoring and evaluation.
    public func logits(_ tokens: IndexTensor) -> Tensor {
        withoutGradients {
            let groups = tokens.shape.count == 2 ? Parallel.evenRanges(tokens.shape[0], parts: Parallel.threadCount) : []
            if groups.count <= 1 { return self(tokens).logits }
            return Tensor.concatenate(Parallel.shards(groups.count) { self(tokens.rows(groups[$0])).logits }, axis: 0)
        }
    }
}
