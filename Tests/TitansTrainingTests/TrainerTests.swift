import Foundation
import Testing
@testable import TitansTraining

struct TrainerTests {
    static let text = Array(String(repeating: "the memory learns while it reads; attention sees only its window. ", count: 40).utf8)

    static func model(_ architecture: ModelConfiguration.Architecture = .mag, seed: UInt64 = 1, width: Int = 16) -> LanguageModel {
        var rng = RandomGenerator(seed: seed)
        let memory = NeuralMemoryConfiguration(width: width, heads: 2, memoryDepth: 2, chunkSize: 4)
        return LanguageModel(ModelConfiguration(architecture: architecture, width: width, layers: 1, heads: 2, window: 8,
                                                segment: 8, persistentTokens: 2, memory: memory), generator: &rng)
    }

    static func configuration(steps: Int = 20) -> TrainingConfiguration {
        TrainingConfiguration(steps: steps, batchSize: 2, sequenceLength: 16, learningRate: 3e-3, warmupSteps: 3,
                              accumulation: 2, seed: 9, evaluationInterval: 5, evaluationBatches: 2)
    }

    static func dataset() throws -> ByteDataset { try ByteDataset(bytes: text, minimumLength: 16) }

    /// 20 steps in one run and 10 + 10 with a resume from a checkpoint file give the same parameters, bit for bit.
    /// Settings that would stop the optimiser or the schedule (once crashes from `titans train` flags: warm-up longer
    /// than the run, NaN weight decay or minimum learning rate) are problems; the defaults are not.
    @Test func settingsThatCannotTrainAreProblems() {
        #expect(TrainingConfiguration(steps: 10, batchSize: 2, sequenceLength: 8).problem == nil)
        #expect(TrainingConfiguration(steps: 1, batchSize: 2, sequenceLength: 8).problem == nil)
        #expect(TrainingConfiguration(steps: 10, batchSize: 2, sequenceLength: 8, gradientClip: .infinity).problem == nil)
        let bad: [TrainingConfiguration] = [
            TrainingConfiguration(steps: 10, batchSize: 2, sequenceLength: 8, warmupSteps: 20),
            TrainingConfiguration(steps: 10, batchSize: 2, sequenceLength: 8, minimumLearningRate: .nan),
            TrainingConfiguration(steps: 10, batchSize: 2, sequenceLength: 8, learningRate: 1e-3, minimumLearningRate: 1),
            TrainingConfiguration(steps: 10, batchSize: 2, sequenceLength: 8, weightDecay: .nan),
            TrainingConfiguration(steps: 10, batchSize: 2, sequenceLength: 8, weightDecay: .infinity),
            TrainingConfiguration(steps: 10, batchSize: 2, sequenceLength: 8, learningRate: .infinity),
            TrainingConfiguration(steps: 10, batchSize: 2, sequenceLength: 8, gradientClip: .nan),
        ]
        for configuration in bad { #expect(configuration.problem != nil, "\(configuration)") }
    }

    @Test func resumeContinuesExactly() throws {
        let data = try Self.dataset()
        let straight = Trainer(model: Self.model(), source: data, configuration: Self.configuration())
        for _ in 0..<20 { try straight.trainStep() }

        let first = Trainer(model: Self.model(), source: data, configuration: Self.configuration())
        for _ in 0..<10 { try first.trainStep() }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UInt64.random(in: 0...UInt64.max)).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try first.checkpoint().save(to: url)
        let second = Trainer(model: Self.model(seed: 99), source: data, configuration: Self.configuration())  // other init
        try second.resume(from: Checkpoint.load(from: url))
        #expect(second.step == 10)
        for _ in 0..<10 { try second.trainStep() }
        for ((name, a), (_, b)) in zip(straight.model.namedParameters(), second.model.namedParameters()) {
            #expect(a.toArray() == b.toArray(), "\(name) differs after resuming")
        }
    }

    /// Training lowers the validation loss on repetitive text.
    @Test func lossGoesDown() throws {
        let trainer = Trainer(model: Self.model(), source: try Self.dataset(), configuration: Self.configuration(steps: 40))
        let before = try #require(trainer.validationLoss())
        for _ in 0..<40 { try trainer.trainStep() }
        let after = try #require(trainer.validationLoss())
        #expect(after < before - 0.5, "validation loss \(before) → \(after)")
    }

    /// A checkpoint of another configuration is refused and the model is left as it was.
    @Test func mismatchedCheckpointIsRefused() throws {
        let data = try Self.dataset()
        let small = Trainer(model: Self.model(width: 16), source: data, configuration: Self.configuration())
        let other = Trainer(model: Self.model(.mal, width: 16), source: data, configuration: Self.configuration())
        let before = other.model.parameters().map { $0.toArray() }
        #expect(throws: CheckpointError.self) { try other.resume(from: small.checkpoint()) }
        #expect(other.model.parameters().map { $0.toArray() } == before)
        #expect(other.step == 0)
    }

    /// A loss that becomes NaN stops the step before any parameter changes.
    @Test func nonFiniteLossStopsWithoutUpdating() throws {
        struct PoisonedSource: BatchSource {
            let data: ByteDataset
            func trainingBatch(size: Int, length: Int, generator: inout RandomGenerator) -> TrainingBatch {
                var b = data.trainingBatch(size: size, length: length, generator: &generator)
                b.lossWeights = [Double](repeating: .nan, count: size * length)
                return b
            }
            func validationBatches(size: Int, length: Int, limit: Int) -> [TrainingBatch] { [] }
        }
        let trainer = Trainer(model: Self.model(), source: PoisonedSource(data: try Self.dataset()), configuration: Self.configuration())
        let before = trainer.model.parameters().map { $0.toArray() }
        #expect(throws: TrainingError.self) { try trainer.trainStep() }
        #expect(trainer.model.parameters().map { $0.toArray() } == before)
        #expect(trainer.step == 0)
    }

    /// Recall batches score every question's answer (or only the probe's), at the positions whose target is the answer.
    @Test func recallBatchesScoreTheAnswers() {
        let task = RecallTask(length: 64, facts: 4)
        for all in [true, false] {
            var rng = RandomGenerator(seed: 8)
            let b = RecallBatches(task: task, distances: 3...60, allQuestions: all).trainingBatch(size: 5, length: 64, generator: &rng)
            let weights = b.lossWeights!
            for row in 0..<5 {
                let scored = (0..<64).filter { weights[row * 64 + $0] == 1 }
                #expect(all ? scored.count >= 2 : scored == [63])
                for position in scored {
                    #expect(RecallTask.values.contains(b.targets.values[row * 64 + position]))
                    #expect(b.inputs.values[row * 64 + position - 1] == RecallTask.questionMarker)
                }
            }
            #expect(weights.allSatisfy { $0 == 0 || $0 == 1 })
        }
    }
}
