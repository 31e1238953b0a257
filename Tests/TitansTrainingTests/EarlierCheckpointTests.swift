import Foundation
import Testing
@testable import TitansTraining

/// Checkpoints written before step rules and sequence mixers existed (commit 0b7733b, `titans train` on 3 kB of
/// text for 3 steps: MAG and MAC, width 8, 1 block, 2 heads, a depth-2 memory with chunks of 2) still load, compute the
/// model they held, and resume.
struct EarlierCheckpointTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Logits for bytes 32, 68, 101, 116, 142, 198 at positions 0, 5, 11 and 19 of "This License applies", printed by
    /// that commit's code from the same files.
    static let earlierLogits: [String: [[Double]]] = [
        "mag": [[0.207946, 0.090744, 0.246825, -0.169072, 0.048852, -0.092300],
                [0.668771, 1.068136, -0.494191, 0.963637, 0.280787, -1.576834],
                [0.295103, 1.356765, -0.893779, 0.352896, 1.074229, -1.799653],
                [0.068642, 0.823730, -0.575254, 0.235801, 0.799424, -1.010637]],
        "mac": [[0.111060, -0.312250, 0.375833, -0.354725, -0.276169, 0.378813],
                [0.753135, 0.638355, -0.403141, 0.875033, -0.043160, -1.011433],
                [-0.538634, 0.478763, -0.805229, -0.419498, 0.863533, -0.786320],
                [-0.333346, -0.520607, 0.164273, -0.442619, -0.120864, 0.737938]],
    ]

    static func load(_ name: String) throws -> (Checkpoint, LanguageModel) {
        let url = directory.appendingPathComponent("\(name)-0b7733b.safetensors")
        let checkpoint = try Checkpoint.load(from: url)
        #expect(checkpoint.unverified, "written before checkpoints carried a checksum")
        var rng = RandomGenerator(seed: 0)
        let model = LanguageModel(try checkpoint.modelConfiguration(file: url.path), generator: &rng)
        return (checkpoint, model)
    }

    /// The configuration reads with the plain step rule the run used, every parameter keeps its name, and the model
    /// computes the logits it computed then.
    @Test(arguments: ["mag", "mac"])
    func computesWhatItComputedThen(_ name: String) throws {
        let (checkpoint, model) = try Self.load(name)
        #expect(model.configuration.memory.stepRule == .plain)
        try checkpoint.restore(into: model.namedParameters(), optimizer: nil, expectedConfig: nil)
        let tokens = Array("This License applies".utf8).map(Int.init)
        let logits = withoutGradients { model(IndexTensor(shape: [1, tokens.count], tokens)).logits }
        for (row, position) in [0, 5, 11, 19].enumerated() {
            let values = logits.select(axis: 1, index: position).toArray()
            let picked = [32, 68, 101, 116, 142, 198].map { values[$0] }
            let expected = try #require(Self.earlierLogits[name])[row]
            #expect(zip(picked, expected).allSatisfy { Swift.abs($0 - $1) < 2e-5 }, "\(name) at \(position): \(picked) vs \(expected)")
        }
    }

    /// Resuming compares the saved configuration as this version reads it, so the run continues.
    @Test(arguments: ["mag", "mac"])
    func resumes(_ name: String) throws {
        let (checkpoint, model) = try Self.load(name)
        let (_, training) = try checkpoint.trainingSettings(file: name)
        let data = try ByteDataset(bytes: Array(String(repeating: "resumed runs continue. ", count: 40).utf8),
                                   minimumLength: training.sequenceLength)
        let trainer = Trainer(model: model, source: data, configuration: training)
        try trainer.resume(from: checkpoint)
        #expect(trainer.step == 3)
        #expect(try trainer.trainStep().loss.isFinite)
    }
}
