import ArgumentParser
import TitansTraining

/// The model flags shared by `train` and `bench models`. Every flag is optional so `train --resume` can tell which
/// were given (a resumed run takes its model from the checkpoint).
struct ModelOptions: ParsableArguments {
    @Option(help: "Architecture: \(ModelOptions.names.joined(separator: ", ")) (default mag).") var architecture: String?
    @Option(help: "Model width (default 256).") var width: Int?
    @Option(help: "Blocks (default 4).") var layers: Int?
    @Option(help: "Attention and memory heads (default 4).") var heads: Int?
    @Option(help: "Sliding-window size (default 64).") var window: Int?
    @Option(help: "MAC segment length, a multiple of the chunk size (default 64).") var segment: Int?
    @Option(help: "Persistent memory tokens (default 4).") var persistentTokens: Int?
    @Option(help: "Depth of the memory MLP; 1 is a matrix memory (default 2).") var memoryDepth: Int?
    @Option(help: "Memory chunk size: tokens per parallel mini-batch step (default 16).") var chunkSize: Int?
    @Option(help: "Largest inner learning rate θ of the memory (default \(NeuralMemoryConfiguration.defaultMaxLearningRate)).")
    var memoryLearningRate: Double?
    @Option(help: ArgumentHelp("The memory's step rule: \(StepRule.names.joined(separator: ", ")) (default \(NeuralMemoryConfiguration.defaultStepRule); the recurrent baselines take plain steps)."))
    var stepRule: String?

    /// Architectures and baselines by their command-line names.
    static let architectures: [(name: String, kind: Kind)] = [
        ("mac", .titans(.mac)), ("mag", .titans(.mag)), ("mal", .titans(.mal)), ("lmm", .titans(.lmm)),
        ("transformer", .titans(.transformer)), ("sliding-window", .titans(.slidingWindow)),
        ("delta-net", .recurrent(.deltaNet)), ("gated-delta-net", .recurrent(.gatedDeltaNet)), ("ttt-mlp", .recurrent(.tttMLP)),
        ("linear-attention", .recurrent(.linearAttention)), ("gated-linear-attention", .recurrent(.gatedLinearAttention)),
    ]
    static var names: [String] { architectures.map(\.name) }

    enum Kind {
        case titans(ModelConfiguration.Architecture)
        case recurrent(RecurrentBaseline)
    }

    /// Whether any model flag was given.
    var anyGiven: Bool {
        architecture != nil || width != nil || layers != nil || heads != nil || window != nil || segment != nil
            || persistentTokens != nil || memoryDepth != nil || chunkSize != nil || memoryLearningRate != nil || stepRule != nil
    }

    /// A `--step-rule` value, or a message listing the rules.
    static func stepRule(_ text: String) throws -> StepRule {
        guard let rule = StepRule(text) else {
            throw ValidationError("--step-rule must be one of \(StepRule.names.joined(separator: ", ")) (numbers positive), not \(text)")
        }
        return rule
    }

    /// The configuration these flags describe (defaults where a flag is absent), or a message saying what to fix.
    func configuration(architecture override: String? = nil) throws -> ModelConfiguration {
        let name = override ?? architecture ?? "mag"
        guard let kind = Self.architectures.first(where: { $0.name == name })?.kind else {
            throw ValidationError("--architecture must be one of \(Self.names.joined(separator: ", ")), not \(name)")
        }
        let width = width ?? 256, layers = layers ?? 4, heads = heads ?? 4, chunkSize = chunkSize ?? 16
        guard width >= 1, layers >= 1, heads >= 1, chunkSize >= 1 else {
            throw ValidationError("--width, --layers, --heads and --chunk-size must be positive")
        }
        var config: ModelConfiguration
        switch kind {
        case .titans(let architecture):
            var memory = NeuralMemoryConfiguration(width: width, heads: heads, memoryDepth: memoryDepth ?? 2, chunkSize: chunkSize)
            if let memoryLearningRate { memory.maxLearningRate = memoryLearningRate }
            config = ModelConfiguration(architecture: architecture, width: width, layers: layers, heads: heads,
                                        window: window ?? 64, segment: segment ?? 64,
                                        persistentTokens: persistentTokens ?? 4, memory: memory)
        case .recurrent(let baseline):
            config = ModelConfiguration.recurrentBaseline(baseline, width: width, layers: layers, heads: heads, chunkSize: chunkSize)
            if let memoryLearningRate { config.memory.maxLearningRate = memoryLearningRate }
        }
        if let stepRule { config.memory.stepRule = try Self.stepRule(stepRule) }
        if let problem = config.problem { throw ValidationError("the model flags do not describe a model: \(problem)") }
        return config
    }
}
