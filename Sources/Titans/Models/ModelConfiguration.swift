/// Everything that defines a language model of this package: the architecture, its sizes, and the memory.
/// `Codable`: checkpoints keep it in their metadata, so a model can be rebuilt from the file alone.
///
/// ```swift
/// var configuration = ModelConfiguration.standard(.mal)   // width 256, 4 blocks of 4 heads
/// configuration.memory.memoryDepth = 3
/// if let problem = configuration.problem { print(problem) }
/// ```
public struct ModelConfiguration: Codable, Equatable, Sendable {
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
    /// The blocks, counted from 1, that hold the memory in MAC, MAG and MAL (`nil`: every block). The others attend
    /// with the persistent tokens only (``hasMemory(block:)``), as titans-pytorch's MAC puts its memory in chosen
    /// layers (`neural_memory_layers`): the configuration the speed comparison matches.
    public var memoryLayers: [Int]?
    /// What MAC writes into its memory (Eq. 24, M_t = M_{t−1}(y_t)): `true` (what a new configuration takes) writes
    /// the residual stream after attention, x + y, normalised; `false` writes the attention output y alone, as the
    /// equation reads literally; `nil` (a configuration saved before this choice existed) means `false`, so an older
    /// checkpoint computes as it did. With y alone a fresh attention's output is a near-uniform average over the
    /// segment, the keys written carry no token's identity, and MAC did not learn to retrieve at all here (S-NIAH at
    /// 0%, its loss a uniform guess over the digits); the residual stream carries the token itself.
    public var macWritesResidual: Bool?

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
        macWritesResidual = true
        var memory = memory ?? NeuralMemoryConfiguration(width: width, heads: heads, chunkSize: 16)
        memory.width = width
        self.memory = memory
    }

    /// Hidden width of the feed-forward layers.
    public var feedForwardWidth: Int { Int((Double(width) * feedForwardExpansion).rounded()) }

    /// A lower bound on the model's parameter count, from the sizes alone, without building anything: the embedding,
    /// every block's feed-forward layer and four width × width projections (query, key, value and output of its
    /// attention or its memory) and, with a memory, its persistent tokens, initial memory M₀ and convolutions. Reading a
    /// checkpoint compares it with the parameters the file holds, so a damaged or hostile configuration cannot make
    /// the reader allocate more than the file could fill. In floating point: a hostile size does not overflow.
    public var minimumParameterCount: Double {
        let w = Double(width)
        var count = Double(vocabularySize) * w + Double(layers) * (3 * w * Double(feedForwardWidth) + 4 * w * w)
        if architecture != .transformer && architecture != .slidingWindow {
            // M₀ per head: d → h, (L − 2) × h → h, h → d, and the shortcut d → d (memoryLayerWidths, in closed form).
            let m = memory
            let (d, h, depth) = (Double(m.headWidth), Double(m.headWidth) * Double(m.hiddenExpansion), Double(m.memoryDepth))
            let matrices = depth <= 1 ? d * d : 2 * d * h + (depth - 2) * h * h + (m.hasShortcut ? d * d : 0)
            // The depthwise convolutions of queries, keys and values: a kernel per channel.
            let convolutions = 3 * Double(m.heads) * d * Double(m.convolutionKernel)
            let memoryBlocks = Double(memoryLayers?.count ?? layers)
            count += Double(layers) * Double(persistentTokens) * w + memoryBlocks * (Double(m.heads) * matrices + convolutions)
        }
        return count
    }

    /// Whether block `index` (from 0) holds the memory.
    public func hasMemory(block index: Int) -> Bool { memoryLayers?.contains(index + 1) ?? true }

    /// Why this configuration cannot build a model, or `nil`.
    public var problem: String? {
        if vocabularySize < 1 || width < 1 || layers < 1 || heads < 1 { return "vocabularySize, width, layers and heads must be positive" }
        if width % heads != 0 { return "width \(width) must be a multiple of heads \(heads)" }
        if (width / heads) % 2 != 0 { return "head width \(width / heads) must be even for rotary embeddings" }
        if window < 1 || segment < 1 { return "window and segment must be positive" }
        if persistentTokens < 0 { return "persistentTokens cannot be negative" }
        if !(feedForwardExpansion > 0 && Double(width) * feedForwardExpansion < 1e12) || feedForwardWidth < 1 {
            return "feedForwardExpansion must be a positive number giving a hidden width of at least 1"
        }
        // The memory's own checks first: the segment test below divides by its chunk size.
        if let memoryLayers {
            guard [.mac, .mag, .mal].contains(architecture) else { return "memoryLayers applies to MAC, MAG and MAL only" }
            guard !memoryLayers.isEmpty, Set(memoryLayers).count == memoryLayers.count,
                  memoryLayers.allSatisfy({ (1...layers).contains($0) }) else {
                return "memoryLayers must name distinct blocks from 1 to \(layers)"
            }
        }
        if let problem = memory.problem { return problem }
        if architecture == .mac && segment % memory.chunkSize != 0 {
            return "MAC's segment \(segment) must be a multiple of the memory's chunk size \(memory.chunkSize)"
        }
        return nil
    }
}

extension ModelConfiguration {
    /// The command line's model (`titans train`, `titans bench models`): width 256, 4 blocks of 4 heads, window and
    /// segment 64, 4 persistent tokens, a depth-2 memory with chunks of 16 and the memory's default θ and step rule.
    public static func standard(_ architecture: Architecture = .mag) -> ModelConfiguration {
        ModelConfiguration(architecture: architecture, width: 256, layers: 4, heads: 4, window: 64, segment: 64, persistentTokens: 4,
                           memory: NeuralMemoryConfiguration(width: 256, heads: 4, memoryDepth: 2, chunkSize: 16))
    }

    /// The demo's model (`titans demo`): width 64, 2 blocks of 4 heads, 4 persistent tokens, the attention window as MAC's
    /// segment and as the memory's chunk.
    public static func demo(_ architecture: Architecture, window: Int = 8, memoryDepth: Int = 2) -> ModelConfiguration {
        ModelConfiguration(architecture: architecture, width: 64, layers: 2, heads: 4, window: window, segment: window, persistentTokens: 4,
                           memory: NeuralMemoryConfiguration(width: 64, heads: 4, memoryDepth: memoryDepth, chunkSize: window))
    }

    /// The width and heads changed, the memory's following (its head width is the model's).
    public mutating func resize(width: Int, heads: Int) {
        self.width = width
        self.heads = heads
        memory.width = width
        memory.heads = heads
        memory.headWidth = width / max(heads, 1)
    }
}
