import Foundation

/// How large `titans reproduce` runs its studies: the models' size, the training, the lengths and the seeds. `quick`
/// checks the whole pipeline in minutes on two cores; `full` is the run whose report the README shows.
///
/// ```swift
/// let scale = ReproductionScale.quick
/// print(scale.width, scale.steps, scale.lengthMultiples)   // 64 400 [1, 2, 4, 8, 16]
/// ```
public struct ReproductionScale: Codable, Sendable, Equatable {
    public var name: String
    /// Model width and blocks (heads of 16; window and segment 64; the memory's chunks 16).
    public var width: Int
    public var layers: Int
    public var steps: Int
    public var batchSize: Int
    public var learningRate: Double
    /// Training examples generated per task of a study's mix.
    public var examplesPerTask: Int
    /// Examples per task and length when scoring.
    public var evaluationExamples: Int
    /// The seeds of the headline studies (Tables 1 and 2); the others take the first.
    public var seeds: [UInt64]
    /// Lengths tested, as multiples of the training length.
    public var lengthMultiples: [Int]
    /// Whether every model of a study runs, or only a few (the Titans variant a study is about and one baseline).
    public var allModels: Bool

    public static let quick = ReproductionScale(name: "quick", width: 64, layers: 2, steps: 400, batchSize: 8, learningRate: 3e-3,
                                                examplesPerTask: 600, evaluationExamples: 20, seeds: [0], lengthMultiples: [1, 2, 4, 8, 16],
                                                allModels: false)
    public static let full = ReproductionScale(name: "full", width: 128, layers: 2, steps: 900, batchSize: 8, learningRate: 3e-3,
                                               examplesPerTask: 3000, evaluationExamples: 50, seeds: [0, 1], lengthMultiples: [1, 2, 4, 8, 16],
                                               allModels: true)

    /// The parts the ablation study takes away from the LMM (Table 5), by the name after `lmm/`.
    public static let ablations: [String: @Sendable (inout ModelConfiguration) -> Void] = [
        "linear-memory": { $0.memory.memoryDepth = 1 },
        "no-momentum": { $0.memory.momentum = false },
        "no-forgetting": { $0.memory.forgetting = false },
        "no-convolution": { $0.memory.convolutionKernel = 0 },
        "no-persistent": { $0.persistentTokens = 0 },
    ]

    /// The model named as on the command line (an architecture or a recurrent baseline), or an architecture with a part
    /// taken away (`lmm/no-momentum`, ``ablations``), at this scale.
    public func model(_ name: String) -> ModelConfiguration? {
        let parts = name.split(separator: "/", maxSplits: 1).map(String.init)
        guard var config = parts.first.flatMap(model(base:)) else { return nil }
        if parts.count == 2 {
            guard let ablate = Self.ablations[parts[1]] else { return nil }
            ablate(&config)
        }
        return config.problem == nil ? config : nil
    }

    private func model(base name: String) -> ModelConfiguration? {
        let heads = max(1, width / 16)
        var config: ModelConfiguration
        if let kind = ModelConfiguration.Architecture.allCases.first(where: { $0.commandLineName == name }) {
            config = .standard(kind)
        } else if let baseline = RecurrentBaseline.allCases.first(where: { $0.commandLineName == name }) {
            config = .recurrentBaseline(baseline, width: width, layers: layers, heads: heads)
        } else {
            return nil
        }
        config.resize(width: width, heads: heads)
        config.layers = layers
        return config
    }
}
