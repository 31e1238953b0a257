import Foundation

/// The trained models of a `titans reproduce` folder: one checkpoint per cell, `models/<cell key>.safetensors`
/// (weights and configuration, no optimiser state). A fine-tuned cell starts from its base cell's model here instead
/// of training it again, and every model of a report can be scored by `titans eval --checkpoint`.
///
/// The folder is a cache: a model that is missing, damaged or made for another configuration is trained again (the
/// same weights, since training is deterministic), never an error.
public struct ReproductionModels: Sendable {
    public let folder: URL

    public init(folder: URL) { self.folder = folder }

    /// The checkpoint of `cell`'s model.
    public func url(of cell: ReproductionCell) -> URL {
        folder.appendingPathComponent("models").appendingPathComponent(cell.key + ".safetensors")
    }

    /// Copies `cell`'s saved model into `model`; false (changing nothing) when there is none that fits.
    func load(_ cell: ReproductionCell, into model: some TrainableModel) -> Bool {
        guard let saved = try? Checkpoint.load(from: url(of: cell)) else { return false }
        return (try? saved.restore(into: model.namedParameters(), optimizer: nil, expectedConfig: model.configurationJSON)) != nil
    }

    /// Saves `model` as `cell`'s.
    func save(_ model: some TrainableModel, of cell: ReproductionCell) throws {
        let url = url(of: cell)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Checkpoint(parameters: model.namedParameters(), step: 0, rngState: RandomGenerator(seed: cell.seed),
                       config: model.configurationJSON, metadata: ["reproduction": cell.key]).save(to: url)
    }
}
