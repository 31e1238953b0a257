import Foundation
import Testing
@testable import TitansEval

struct TaskEvaluationTests {
    static func model(_ architecture: ModelConfiguration.Architecture) -> LanguageModel {
        var rng = RandomGenerator(seed: 5)
        let memory = NeuralMemoryConfiguration(width: 16, heads: 2, memoryDepth: 2, chunkSize: 4)
        return LanguageModel(ModelConfiguration(architecture: architecture, width: 16, layers: 2, heads: 2, window: 8, segment: 8,
                                                persistentTokens: 2, memory: memory), generator: &rng)
    }

    /// The one-pass score equals greedy decoding: an answer that is the model's own greedy continuation counts, the
    /// same with its first, middle or last byte changed does not; examples of several lengths scored together.
    @Test(arguments: [ModelConfiguration.Architecture.mag, .mac, .lmm])
    func scoreEqualsGreedyDecoding(architecture: ModelConfiguration.Architecture) throws {
        let model = Self.model(architecture)
        var rng = RandomGenerator(seed: 1)
        var examples: [TaskExample] = []
        for length in [9, 17, 23] {
            let prompt = (0..<length).map { _ in UInt8(97 + rng.uniformIndex(26)) }
            var sampling = RandomGenerator(seed: 0)
            let greedy = try model.generate(prompt: prompt.map(Int.init), maxTokens: 4, sampler: Sampler(temperature: 0),
                                            generator: &sampling).map(UInt8.init)
            examples.append(TaskExample(prompt: prompt, answer: greedy))
            for changed in [0, 2, 3] {
                var wrong = greedy
                wrong[changed] = wrong[changed] &+ 1
                examples.append(TaskExample(prompt: prompt, answer: wrong))
            }
        }
        let results = TaskEvaluation.correct(of: model, on: examples, batchSize: 3)
        #expect(results == examples.indices.map { $0 % 4 == 0 })
    }

    /// A model over subword tokens is scored by greedy decoding token by token: its own greedy continuation counts
    /// (whole, or cut inside a token), the same with a byte changed does not.
    @Test func tokenModelsAreScoredByGreedyDecoding() throws {
        let text = (0..<200).map { ["the cat sat ", "on the mat ", "a dog ran ", "to the hat "][$0 % 4] }.joined()
        let tokenizer = try Tokenizer.trainByteLevel(on: [Array(text.utf8)], vocabularySize: 300, name: "tiny")
        var rng = RandomGenerator(seed: 5)
        let memory = NeuralMemoryConfiguration(width: 16, heads: 2, memoryDepth: 2, chunkSize: 4)
        let model = LanguageModel(ModelConfiguration(architecture: .mag, vocabularySize: tokenizer.vocabularySize, width: 16, layers: 2,
                                                     heads: 2, window: 8, segment: 8, persistentTokens: 2, memory: memory),
                                  generator: &rng)
        var examples: [TaskExample] = []
        for prompt in ["the cat sat on", "a dog ran to the", "on the mat a"].map({ Array($0.utf8) }) {
            var sampling = RandomGenerator(seed: 0)
            let tokens = try model.generate(prompt: tokenizer.encode(bytes: prompt), maxTokens: 4, sampler: Sampler(temperature: 0),
                                            generator: &sampling)
            let greedy = try tokenizer.decode(tokens)
            var wrong = greedy
            wrong[wrong.count - 1] = wrong[wrong.count - 1] &+ 1
            examples += [TaskExample(prompt: prompt, answer: greedy), TaskExample(prompt: prompt, answer: Array(greedy.prefix(greedy.count - 1))),
                         TaskExample(prompt: prompt, answer: wrong)]
        }
        let results = TaskEvaluation.correct(of: model, tokenizer: tokenizer, on: examples)
        #expect(results == examples.indices.map { $0 % 3 != 2 })
    }

    /// Groups: one per value when there are few, ranges of equal width when many, "none" for examples without the field.
    @Test func accuracyGroupsByAField() {
        let few = [1.0, 2, 2, 4].map { TaskExample(prompt: [1], answer: [2], fields: ["distance": $0]) }
            + [TaskExample(prompt: [1], answer: [2])]
        let groups = TaskEvaluation.accuracy(few, [true, false, true, true, false], by: "distance")
        #expect(groups == [.init(label: "1", correct: 1, count: 1), .init(label: "2", correct: 1, count: 2),
                           .init(label: "4", correct: 1, count: 1), .init(label: "none", correct: 0, count: 1)])
        let many = (0..<100).map { TaskExample(prompt: [1], answer: [2], fields: ["depth": Double($0) / 99]) }
        let binned = TaskEvaluation.accuracy(many, many.indices.map { $0 < 50 }, by: "depth", bins: 4)
        #expect(binned.map(\.count) == [25, 25, 25, 25])
        #expect(binned.map(\.correct) == [25, 25, 0, 0])
        #expect(binned.first?.label == "0–0.25")
        #expect(TaskEvaluation.accuracy(many, many.map { _ in true }, by: nil) == [.init(label: "all", correct: 100, count: 100)])
        let far = (0..<20).map { TaskExample(prompt: [1], answer: [2], fields: ["distance": Double(57 + 100 * $0)]) }
        #expect(TaskEvaluation.accuracy(far, far.map { _ in true }, by: "distance", bins: 8).first?.label == "57–295")
    }
}
