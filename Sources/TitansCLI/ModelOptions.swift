import ArgumentParser
import TitansTraining

/// The model flags shared by `train` and `bench models`: each overlays the library's standard model
/// (`ModelConfiguration.standard`), whose values the help texts show. Every flag is optional so `train --resume` can
/// tell which were given (a resumed run takes its model from the checkpoint).
struct ModelOptions: ParsableArguments {
    static let defaults = ModelConfiguration.standard()

    @Option(help: "Architecture: \(ModelOptions.names.joined(separator: ", ")) (default \(defaults.architecture.commandLineName)).")
    var architecture: String?
    @Option(help: "Model width (default \(defaults.width)).") var width: Int?
    @Option(help: "Blocks (default \(defaults.layers)).") var layers: Int?
    @Option(help: "Attention and memory heads (default \(defaults.heads)).") var heads: Int?
    @Option(help: "Sliding-window size (default \(defaults.window)).") var window: Int?
    @Option(help: "MAC segment length, a multiple of the chunk size (default \(defaults.segment)).") var segment: Int?
    @Option(help: "Persistent memory tokens (default \(defaults.persistentTokens)).") var persistentTokens: Int?
    @Option(help: "Depth of the memory MLP; 1 is a matrix memory (default \(defaults.memory.memoryDepth)).") var memoryDepth: Int?
    @Option(help: "Hidden width of a deep memory's MLP as a multiple of the head width (default \(defaults.memory.hiddenExpansion)).")
    var memoryExpansion: Int?
    @Option(help: "Memory chunk size: tokens per parallel mini-batch step (default \(defaults.memory.chunkSize)).") var chunkSize: Int?
    @Option(help: "Largest inner learning rate θ of the memory (default \(defaults.memory.maxLearningRate)).")
    var memoryLearningRate: Double?
    @Option(help: ArgumentHelp("The memory's step rule: \(StepRule.names.joined(separator: ", ")) (default \(defaults.memory.stepRule); the recurrent baselines but TTT-MLP take plain steps)."))
    var stepRule: String?
    @Option(help: "How a chunk's tokens take their steps: chunk-start (every gradient at the chunk's start, §3.2; the default) or exact (each at the memory the previous token left: a matrix memory with plain steps and no momentum, as delta-net and gated-delta-net take by default).")
    var innerSteps: String?
    @Option(help: "MAC, MAG, MAL: the blocks that hold the memory, from 1, comma-separated (default: every block; the others attend with the persistent tokens).")
    var memoryLayers: String?
    @Option(help: ArgumentHelp("The memory's inner objective: \(InnerLoss.names.joined(separator: ", ")) (default \(defaults.memory.innerLoss); a recurrent baseline keeps its own unless this is given)."))
    var innerLoss: String?
    @Option(help: "MAC: what its memory is written with (Eq. 24): residual (the stream after attention, x + y; default) or output (the attention output y alone, as the equation reads).")
    var macWrites: String?
    @Flag(help: "The memory without momentum: each token's step is its own surprise, S_t = −θ_t ∇ℓ (Eq. 10 with η = 0; an ablation of Table 5).")
    var noMomentum = false
    @Flag(help: "The memory without forgetting: M_t = M_{t−1} + S_t (Eq. 13 with α = 0; an ablation of Table 5).")
    var noForgetting = false
    @Flag(help: "Forgetting decays the memory toward its learned initial weights M₀, not toward zero: M_t = (1 − α_t) M_{t−1} + α_t M₀ + S_t (not the paper's Eq. 13; models trained on short sequences then read long ones far better, README \"Forgetting toward M₀\").")
    var forgetTowardInitial = false
    @Option(help: "Width of the causal convolutions on the memory's keys, values and queries; 0 for none (default \(defaults.memory.convolutionKernel)).")
    var convolutionKernel: Int?

    /// The architectures and the recurrent baselines by their command-line names.
    static var names: [String] {
        ModelConfiguration.Architecture.allCases.map(\.commandLineName) + RecurrentBaseline.allCases.map(\.commandLineName)
    }

    /// Whether any model flag was given.
    var anyGiven: Bool {
        architecture != nil || width != nil || layers != nil || heads != nil || window != nil || segment != nil
            || persistentTokens != nil || memoryDepth != nil || memoryExpansion != nil || chunkSize != nil || memoryLearningRate != nil || stepRule != nil
            || innerSteps != nil || innerLoss != nil || memoryLayers != nil || macWrites != nil || noMomentum || noForgetting || convolutionKernel != nil
    }

    /// ``configuration(architecture:)`` with a smaller default size, width 64 and 2 blocks, unless the flags say
    /// otherwise (`forecast train`, `dna train`: short sequences, small data).
    func smallConfiguration() throws -> ModelConfiguration {
        var options = self
        options.width = width ?? 64
        options.layers = layers ?? 2
        return try options.configuration()
    }

    /// The standard model (or recurrent baseline) named `override ?? --architecture`, with the flags given laid over it,
    /// or a message saying what to fix.
    func configuration(architecture override: String? = nil) throws -> ModelConfiguration {
        let name = override ?? architecture ?? Self.defaults.architecture.commandLineName
        var config: ModelConfiguration
        if let kind = ModelConfiguration.Architecture.allCases.first(where: { $0.commandLineName == name }) {
            config = .standard(kind)
            if let memoryDepth { config.memory.memoryDepth = memoryDepth }
            if let memoryExpansion { config.memory.hiddenExpansion = memoryExpansion }
        } else if let baseline = RecurrentBaseline.allCases.first(where: { $0.commandLineName == name }) {
            guard memoryDepth == nil, memoryExpansion == nil else {
                throw ValidationError("\(name) has the memory of its published model; drop --memory-depth and --memory-expansion")
            }
            let d = Self.defaults
            config = .recurrentBaseline(baseline, width: d.width, layers: d.layers, heads: d.heads, chunkSize: d.memory.chunkSize)
        } else {
            throw ValidationError("--architecture must be one of \(Self.names.joined(separator: ", ")), not \(name)")
        }
        config.resize(width: width ?? config.width, heads: heads ?? config.heads)
        if let layers { config.layers = layers }
        if let window { config.window = window }
        if let segment { config.segment = segment }
        if let persistentTokens { config.persistentTokens = persistentTokens }
        if let chunkSize { config.memory.chunkSize = chunkSize }
        if let memoryLearningRate { config.memory.maxLearningRate = memoryLearningRate }
        if let stepRule { config.memory.stepRule = try Self.stepRule(stepRule) }
        if let innerLoss { config.memory.innerLoss = try Self.innerLoss(innerLoss) }
        if let innerSteps {
            guard ["chunk-start", "exact"].contains(innerSteps) else {
                throw ValidationError("--inner-steps takes chunk-start or exact, not \(innerSteps)")
            }
            config.memory.exactSteps = innerSteps == "exact"
        }
        if noMomentum { config.memory.momentum = false }
        if noForgetting { config.memory.forgetting = false }
        if forgetTowardInitial { config.memory.forgetsTowardInitial = true }
        if let convolutionKernel {
            guard convolutionKernel >= 0 else { throw ValidationError("--convolution-kernel must be 0 (none) or more, not \(convolutionKernel)") }
            config.memory.convolutionKernel = convolutionKernel
        }
        if let macWrites {
            guard config.architecture == .mac else { throw ValidationError("--mac-writes applies to MAC only") }
            guard ["residual", "output"].contains(macWrites) else { throw ValidationError("--mac-writes takes residual or output") }
            config.macWritesResidual = macWrites == "residual"
        }
        if let memoryLayers {
            let blocks = memoryLayers.split(separator: ",").map { Int($0) }
            guard !blocks.isEmpty, blocks.allSatisfy({ $0 != nil }) else {
                throw ValidationError("--memory-layers takes block numbers from 1, comma-separated (e.g. 2,4), not \(memoryLayers)")
            }
            config.memoryLayers = blocks.compactMap { $0 }
        }
        if let problem = config.problem { throw ValidationError("the model flags do not describe a model: \(problem)") }
        return config
    }

    /// A `--step-rule` value, or a message listing the rules.
    static func stepRule(_ text: String) throws -> StepRule {
        guard let rule = StepRule(text) else {
            throw ValidationError("--step-rule must be one of \(StepRule.names.joined(separator: ", ")) (numbers positive), not \(text)")
        }
        return rule
    }

    /// An `--inner-loss` value, or a message listing the objectives.
    static func innerLoss(_ text: String) throws -> InnerLoss {
        guard let loss = InnerLoss(text) else {
            throw ValidationError("--inner-loss must be one of \(InnerLoss.names.joined(separator: ", ")) (P at least 2, DELTA positive), not \(text)")
        }
        return loss
    }
}
