/// The recurrent baselines of the paper's tables (§5.1) as presets of the neural memory: LMM-architecture
/// models whose memory recurrence is the baseline's. How close each is to the published model is in the README.
///
/// ```swift
/// let configuration = ModelConfiguration.recurrentBaseline(.deltaNet, width: 256, layers: 4, heads: 4)
/// let model = LanguageModel(configuration, generator: &rng)   // a baseline under the same loop
/// ```
public enum RecurrentBaseline: String, Codable, CaseIterable, Sendable {
    /// DeltaNet: matrix memory, the delta rule (no momentum, no forgetting), each step exact.
    case deltaNet
    /// Gated DeltaNet: matrix memory, the delta rule with a forgetting gate, each step exact, each error at the memory
    /// after its token's forgetting.
    case gatedDeltaNet
    /// TTT-MLP: a two-layer MLP memory in a LayerNorm-residual wrapper, its steps bounded as the Titans memories' are.
    case tttMLP
    /// Linear attention: matrix memory, the dot-product loss −⟨M(k), v⟩ (additive update).
    case linearAttention
    /// A Mamba2-like gated linear recurrence: the dot-product loss with a scalar forgetting gate.
    case gatedLinearAttention

    /// The memory of this baseline at the given sizes.
    public func memory(width: Int, heads: Int, chunkSize: Int) -> NeuralMemoryConfiguration {
        var m = NeuralMemoryConfiguration(width: width, heads: heads, memoryDepth: 1, chunkSize: chunkSize)
        m.momentum = false
        m.forgetting = false
        m.stepRule = .plain  // the published recurrences take the plain step, with no shortcut beside a deep memory
        m.linearShortcut = false
        // Our loss ‖Mk − v‖² has no ½: θ = 0.5·sigmoid gives DeltaNet's step size sigmoid ∈ (0, 1).
        m.maxLearningRate = 0.5
        switch self {
        case .deltaNet:
            // Each token's step at the memory its predecessor left, as the published recurrence takes it: chunk-start
            // steps over 16 aligned keys overshoot and diverged past the training length (the README's baselines table).
            m.exactSteps = true
        case .gatedDeltaNet:
            m.forgetting = true
            m.exactSteps = true
            m.gradientAtRetainedMemory = true  // its published order: forget, then the delta rule's error at what is kept
        case .tttMLP:
            m.memoryDepth = 2
            m.hiddenExpansion = 4
            m.activation = .gelu
            m.residualNorm = true
            // Plain steps (TTT's) diverged in float32 within 2–32 training steps at width 128 (outer gradients of 1e6
            // through the LayerNorm of small MLP outputs; also at a tenth of θ_max), in both seeds of the needles and
            // language studies; with the Titans memories' bounded step it trains (the README's baselines table).
            m.stepRule = NeuralMemoryConfiguration.defaultStepRule
        case .linearAttention:
            m.innerLoss = .dotProduct
            m.maxLearningRate = 1
        case .gatedLinearAttention:
            m.innerLoss = .dotProduct
            m.maxLearningRate = 1
            m.forgetting = true
        }
        return m
    }
}

extension ModelConfiguration {
    /// A recurrent baseline: the LMM architecture without persistent tokens, with the baseline's memory.
    public static func recurrentBaseline(_ baseline: RecurrentBaseline, vocabularySize: Int = 256, width: Int = 64,
                                         layers: Int = 2, heads: Int = 4, chunkSize: Int = 16) -> ModelConfiguration {
        ModelConfiguration(architecture: .lmm, vocabularySize: vocabularySize, width: width, layers: layers, heads: heads,
                           persistentTokens: 0, memory: baseline.memory(width: width, heads: heads, chunkSize: chunkSize))
    }
}

extension RecurrentBaseline {
    /// The name on the command line (`gated-delta-net`).
    public var commandLineName: String { hyphenated(rawValue) }
}
