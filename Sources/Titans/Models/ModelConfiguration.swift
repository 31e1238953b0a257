/// Everything that defines a language model of this package: the architecture, its sizes, and the memory.
/// `Codable`: checkpoints keep it in their metadata, so a model can be rebuilt from the file alone.
public struct ModelConfiguration: Codable, Equatable, Sendable {
    /// The Titans variants (paper §4) and the baselines trained under the same loop (§5).
    public enum Architecture: String, Codable, CaseIterable, Sendable {
        /// Memory as a context (§4.1): segments attend over [persistent ‖ retrieved memory ‖ segment].
        case mac
        /// Memory as a gate (§4.2): sliding-window attention with a persistent prefix, gated with the memory.
        case mag
        /// Memory as a layer (§4.3): the memory layer, then sliding-window attention.
        case mal
        /// The neural memory alone (§5.4), with persistent tokens.
        case lmm
        /// Transformer++ (Llama-style: full causal attention, RoPE, SwiGLU, RMSNorm).
        case transformer
        /// Sliding-window attention alone, the same window as the hybrids.
        case slidingWindow
    }

    public var architecture: Architecture
    public var vocabularySize: Int
    public var width: Int
    public var layers: Int
    /// Attention heads (head width = width / heads).
    public var heads: Int
    /// Sliding-window size of MAG, MAL and the sliding-window baseline.
    public var window: Int
    /// Segment length of MAC.
    public var segment: Int
    /// Persistent tokens (§3.3) for the Titans variants.
    public var persistentTokens: Int
    /// SwiGLU hidden width as a multiple of the width.
    public var feedForwardExpansion: Double
    /// The memory of the Titans variants (its width and heads follow the model's).
    public var memory: NeuralMemoryConfiguration

    public init(architecture: Architecture, vocabularySize: Int = 256, width: Int = 64, layers: Int = 2, heads: Int = 4,
                window: Int = 32, segment: Int = 32, persistentTokens: Int = 4, feedForwardExpansion: Double = 8.0 / 3,
                memory: NeuralMemoryConfiguration? = nil) {
        self.architecture = architecture
        self.vocabularySize = vocabularySize
        self.width = width
        self.layers = layers
        self.heads = heads
        self.window = window
        self.segment = segment
        self.persistentTokens = persistentTokens
        self.feedForwardExpansion = feedForwardExpansion
        var memory = memory ?? NeuralMemoryConfiguration(width: width, heads: heads, chunkSize: 16)
        memory.width = width
        memory.persistentTokens = 0  // the model holds the persistent tokens
        self.memory = memory
    }

    /// Hidden width of the feed-forward layers.
    public var feedForwardWidth: Int { Int((Double(width) * feedForwardExpansion).rounded()) }

    /// Why this configuration cannot build a model, or `nil`.
    public var problem: String? {
        if vocabularySize < 1 || width < 1 || layers < 1 || heads < 1 { return "vocabularySize, width, layers and heads must be positive" }
        if width % heads != 0 { return "width \(width) must be a multiple of heads \(heads)" }
        if (width / heads) % 2 != 0 { return "head width \(width / heads) must be even for rotary embeddings" }
        if window < 1 || segment < 1 { return "window and segment must be positive" }
        if persistentTokens < 0 { return "persistentTokens cannot be negative" }
        if architecture == .mac && segment % memory.chunkSize != 0 {
            return "MAC's segment \(segment) must be a multiple of the memory's chunk size \(memory.chunkSize)"
        }
        return memory.problem
    }
}
