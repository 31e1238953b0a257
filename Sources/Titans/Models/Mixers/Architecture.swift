import TitansNN

extension ModelConfiguration {
    /// The Titans variants (paper §4) and the baselines trained under the same loop (§5). This is the registration:
    /// adding an architecture is a mixer in its own file of this folder, a case here and its line in `mixer(_:dtype:generator:)`.
    ///
    /// ```swift
    /// for architecture in ModelConfiguration.Architecture.allCases { print(architecture.commandLineName) }
    /// ```
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

        /// The block mixer of this architecture.
        func mixer(_ c: ModelConfiguration, dtype: DType, generator: inout RandomGenerator) -> any SequenceMixer {
            switch self {
            case .mac: return MemoryAsContext(c, dtype: dtype, generator: &generator)
            case .mag: return MemoryAsGate(c, dtype: dtype, generator: &generator)
            case .mal: return MemoryAsLayer(c, dtype: dtype, generator: &generator)
            case .lmm: return MemoryOnly(c, dtype: dtype, generator: &generator)
            case .transformer: return AttentionMixer(c, window: nil, dtype: dtype, generator: &generator)
            case .slidingWindow: return AttentionMixer(c, window: c.window, dtype: dtype, generator: &generator)
            }
        }

        /// The name on the command line: the case's name in lower case, words joined by hyphens (`sliding-window`).
        public var commandLineName: String { hyphenated(rawValue) }
    }
}

/// `camelCase` → `camel-case`, an acronym kept as one word (`tttMLP` → `ttt-mlp`).
func hyphenated(_ name: String) -> String {
    var result = "", previousWasLower = false
    for character in name {
        if character.isUppercase && previousWasLower { result += "-" }
        result += character.lowercased()
        previousWasLower = character.isLowercase
    }
    return result
}
