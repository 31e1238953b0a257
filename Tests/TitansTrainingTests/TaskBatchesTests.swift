import Foundation
import Testing
@testable import TitansTraining

struct TaskBatchesTests {
    static func examples(_ count: Int, seed: UInt64 = 1) -> [TaskExample] {
        var rng = RandomGenerator(seed: seed)
        // Lengths 30…69, so rows of 128 hold one to four of them.
        return (0..<count).map { i in
            let promptLength = 26 + rng.uniformIndex(40)
            return TaskExample(prompt: (0..<promptLength).map { _ in UInt8(97 + rng.uniformIndex(26)) },
                               answer: Array("#\(i)!".utf8))
        }
    }

    /// Every row is whole examples one after another, then padding; exactly the answer bytes are scored with weight 1,
    /// and in training rows the prompt bytes with the prompt weight (validation rows score the answers only).
    @Test(arguments: [0.0, 0.25])
    func rowsHoldWholeExamplesScoredOnTheirAnswers(promptWeight: Double) throws {
        let examples = Self.examples(50)
        let source = try TaskBatches(examples: examples, validationFraction: 0.2, sequenceLength: 127, promptWeight: promptWeight)
        #expect(source.training.count == 40 && source.validation == Array(examples.suffix(10)))
        var rng = RandomGenerator(seed: 4)
        let batches = [source.trainingBatch(size: 6, length: 127, generator: &rng)] + source.validationBatches(size: 2, length: 127, limit: 10)
        for (index, batch) in batches.enumerated() {
            let weight = index == 0 ? promptWeight : 0
            let rows = batch.inputs.shape[0]
            let weights = try #require(batch.lossWeights)
            for row in 0..<rows {
                // The row's bytes: inputs and the last target.
                var bytes = (0..<127).map { UInt8(batch.inputs.values[row * 127 + $0]) }
                bytes.append(UInt8(batch.targets.values[row * 127 + 126]))
                var offset = 0, packed = 0
                var expectedWeights = [Double](repeating: 0, count: 128)
                while offset < bytes.count, bytes[offset] != TaskBatches.padding {
                    let match = try #require(examples.first { Array(bytes[offset...].prefix($0.bytes.count)) == $0.bytes },
                                             "row \(row) at \(offset) is not a whole example")
                    for j in match.prompt.indices { expectedWeights[offset + j] = weight }
                    for j in match.answer.indices { expectedWeights[offset + match.prompt.count + j] = 1 }
                    offset += match.bytes.count
                    packed += 1
                }
                #expect(packed >= 1)
                #expect(bytes[offset...].allSatisfy { $0 == TaskBatches.padding })
                #expect(Array(weights[(row * 127)..<((row + 1) * 127)]) == Array(expectedWeights.dropFirst()))
            }
        }
    }

    /// Validation rows hold every held-out example once, in order, the same every time; training rows none of them.
    @Test func validationIsHeldOutAndFixed() throws {
        let examples = Self.examples(40)
        let source = try TaskBatches(examples: examples, validationFraction: 0.25, sequenceLength: 127)
        let a = source.validationBatches(size: 2, length: 127, limit: 100), b = source.validationBatches(size: 2, length: 127, limit: 100)
        #expect(a.map(\.inputs.values) == b.map(\.inputs.values))
        let validationText = a.map { String(decoding: $0.inputs.values.map(UInt8.init) + $0.targets.values.suffix(1).map(UInt8.init), as: UTF8.self) }.joined()
        var rng = RandomGenerator(seed: 1)
        let trainingText = (0..<20).map { _ in
            String(decoding: source.trainingBatch(size: 4, length: 127, generator: &rng).targets.values.map(UInt8.init), as: UTF8.self)
        }.joined()
        for (i, example) in examples.enumerated() {
            let answer = example.answerText
            #expect(validationText.contains(answer) == (i >= 30), "example \(i) in validation")
            if i >= 30 { #expect(!trainingText.contains(answer), "held-out example \(i) in training") }
        }
    }

    @Test func examplesThatCannotBeTrainedOnAreRefused() {
        let examples = Self.examples(5)
        let longest = examples.map(\.bytes.count).max() ?? 0
        let index = (examples.firstIndex { $0.bytes.count == longest } ?? 0) + 1
        #expect(throws: TaskDataError.exampleTooLong(index: index, byteCount: longest, sequenceLength: longest - 2)) {
            try TaskBatches(examples: examples, validationFraction: 0, sequenceLength: longest - 2)
        }
        #expect(throws: Never.self) { try TaskBatches(examples: examples, validationFraction: 0, sequenceLength: longest - 1) }
        #expect(throws: TaskDataError.emptyPart(index: 2)) {
            try TaskBatches(examples: [examples[0], TaskExample(prompt: [1], answer: [])], validationFraction: 0, sequenceLength: 200)
        }
        #expect(throws: TaskDataError.tooFew(count: 1)) { try TaskBatches(examples: [examples[0]], validationFraction: 0.5, sequenceLength: 200) }
    }

    /// A model trained on a task's answers learns them (a copy task a tiny model can learn in sixty steps).
    @Test func trainingOnAnswersLowersTheirLoss() throws {
        var rng = RandomGenerator(seed: 3)
        let examples = (0..<200).map { _ -> TaskExample in
            let letter = UInt8(97 + rng.uniformIndex(4))
            return TaskExample(prompt: Array("say \(Character(UnicodeScalar(letter))):".utf8), answer: [letter, letter])
        }
        let source = try TaskBatches(examples: examples, validationFraction: 0.1, sequenceLength: 31)
        let model = TrainerTests.model()
        let trainer = Trainer(model: model, source: source, configuration: TrainingConfiguration(
            steps: 60, batchSize: 4, sequenceLength: 31, learningRate: 1e-2, warmupSteps: 5, seed: 2, evaluationInterval: 60, evaluationBatches: 2))
        let before = try #require(trainer.validationLoss())
        while trainer.step < 60 { _ = try trainer.trainStep() }
        let after = try #require(trainer.validationLoss())
        #expect(after < before * 0.5, "validation loss on the answers \(before) → \(after)")
    }
}
