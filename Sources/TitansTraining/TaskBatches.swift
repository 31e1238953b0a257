import Foundation

/// Prompt–answer examples as training batches, scored on the answers (and, with a `promptWeight` above 0, on the
/// prompts' bytes with that weight as well, so the model also learns to predict the text it reads): each row of `length + 1` bytes holds whole examples drawn at random (an
/// example is never cut between rows), then unscored padding. The last share of the examples (in file order) is held
/// out for validation, packed in order and scored on the answers only.
///
/// ```swift
/// let examples = try PromptAnswerFile.read(URL(fileURLWithPath: "passkeys.jsonl"))
/// let source = try TaskBatches(examples: examples, validationFraction: 0.1, sequenceLength: 512)
/// let trainer = Trainer(model: model, source: source, configuration: TrainingConfiguration(sequenceLength: 512))
/// ```
public struct TaskBatches: BatchSource {
    public let training: [TaskExample]
    public let validation: [TaskExample]
    /// The byte after the examples of a row, never scored.
    public static let padding: UInt8 = 0
    /// The loss weight of a prompt byte, against 1 for an answer byte (0: answers only).
    public let promptWeight: Double

    /// `examples` split for training and validation; each must have a prompt and an answer and fit a row
    /// (`sequenceLength + 1` bytes).
    public init(examples: [TaskExample], validationFraction: Double, sequenceLength: Int, promptWeight: Double = 0) throws {
        if let index = examples.firstIndex(where: { $0.prompt.isEmpty || $0.answer.isEmpty }) {
            throw TaskDataError.emptyPart(index: index + 1)
        }
        if let index = examples.firstIndex(where: { $0.bytes.count > sequenceLength + 1 }) {
            throw TaskDataError.exampleTooLong(index: index + 1, byteCount: examples[index].bytes.count, sequenceLength: sequenceLength)
        }
        let held = validationFraction > 0 ? max(1, Int(Double(examples.count) * validationFraction)) : 0
        guard examples.count - held >= 1 else { throw TaskDataError.tooFew(count: examples.count) }
        self.promptWeight = promptWeight
        training = Array(examples.dropLast(held))
        validation = Array(examples.suffix(held))
    }

    public func trainingBatch(size: Int, length: Int, generator: inout RandomGenerator) -> TrainingBatch {
        Self.batch((0..<size).map { _ in
            var row: [TaskExample] = [], used = 0
            while true {
                let next = training[generator.uniformIndex(training.count)]
                guard row.isEmpty || used + next.bytes.count <= length + 1 else { break }
                row.append(next)
                used += next.bytes.count
            }
            return row
        }, length: length, promptWeight: promptWeight)
    }

    public func validationBatches(size: Int, length: Int, limit: Int) -> [TrainingBatch] {
        var rows: [[TaskExample]] = [], used = 0
        for example in validation {
            if rows.isEmpty || used + example.bytes.count > length + 1 {
                rows.append([])
                used = 0
            }
            rows[rows.count - 1].append(example)
            used += example.bytes.count
        }
        return stride(from: 0, to: min(rows.count, size * limit), by: size).map {
            Self.batch(Array(rows[$0..<min(rows.count, $0 + size)]), length: length, promptWeight: 0)
        }
    }

    /// Rows of packed examples as inputs, targets and weights: 1 where the target is an answer byte, `promptWeight`
    /// where it is a prompt byte, 0 for padding.
    static func batch(_ rows: [[TaskExample]], length: Int, promptWeight: Double) -> TrainingBatch {
        var inputs: [Int] = [], targets: [Int] = [], weights: [Double] = []
        for row in rows {
            var bytes: [Int] = [], scored: [Double] = []
            for example in row {
                bytes += example.bytes.map(Int.init)
                scored += example.prompt.map { _ in promptWeight } + example.answer.map { _ in 1 }
            }
            bytes += Array(repeating: Int(padding), count: length + 1 - bytes.count)
            scored += Array(repeating: 0, count: length + 1 - scored.count)
            inputs += bytes.prefix(length)
            targets += bytes.dropFirst()
            weights += scored.dropFirst()
        }
        return TrainingBatch(inputs: IndexTensor(shape: [rows.count, length], inputs), targets: IndexTensor(shape: [rows.count, length], targets),
                             lossWeights: weights)
    }
}

/// Why task data cannot be trained on.
public enum TaskDataError: Error, CustomStringConvertible, Equatable {
    /// Example `index` (from 1, in file order) does not fit one row.
    case exampleTooLong(index: Int, byteCount: Int, sequenceLength: Int)
    /// Example `index` has an empty prompt or answer: nothing to read or nothing to learn.
    case emptyPart(index: Int)
    case tooFew(count: Int)

    public var description: String {
        switch self {
        case let .exampleTooLong(index, count, length):
            return "example \(index) holds \(count) bytes (prompt and answer), more than a row of --sequence-length \(length) takes "
                + "(\(length + 1) bytes, inputs and the shifted targets); pass --sequence-length \(count - 1) or more, or shorten it"
        case .emptyPart(let index):
            return "example \(index) has an empty prompt or answer; every example needs both"
        case .tooFew(let count):
            return "\(count) example(s) leave none for training after the validation share; add examples or lower --validation-fraction"
        }
    }
}
