import Titans
import TitansData

/// Accuracy of a `SequenceClassifier` (module Titans): the share of sequences whose largest logit is their class, overall and per
/// class (paper Table 4 reports accuracy).
///
/// ```swift
/// let score = ClassificationEvaluation.score(of: model, on: data.test, in: data)
/// print(score.accuracy, score.perClass)
/// ```
public enum ClassificationEvaluation {
    public struct Score: Sendable, Equatable {
        public var correct: Int
        public var count: Int
        /// Correct and total per class, in the order of the classes.
        public var perClass: [(correct: Int, count: Int)]

        public var accuracy: Double { Double(correct) / Double(max(1, count)) }

        public static func == (a: Score, b: Score) -> Bool {
            a.correct == b.correct && a.count == b.count && a.perClass.map(\.correct) == b.perClass.map(\.correct)
                && a.perClass.map(\.count) == b.perClass.map(\.count)
        }
    }

    /// Scores `model` on `examples` of `data`, `batchSize` at a time.
    public static func score(of model: SequenceClassifier, on examples: [LabelledSequences.Example], in data: LabelledSequences,
                             batchSize: Int = 64) -> Score {
        var perClass = [(correct: Int, count: Int)](repeating: (0, 0), count: data.classes.count)
        withoutGradients {
            for first in stride(from: 0, to: examples.count, by: max(1, batchSize)) {
                let slice = Array(examples[first..<min(examples.count, first + batchSize)])
                let predicted = model(data.batch(slice).tokens).argmax(axis: -1).values
                for (example, guess) in zip(slice, predicted) {
                    perClass[example.label].count += 1
                    if guess == example.label { perClass[example.label].correct += 1 }
                }
            }
        }
        return Score(correct: perClass.map(\.correct).reduce(0, +), count: examples.count, perClass: perClass)
    }
}
