import TitansTensor

/// A batch of labelled sequences: bytes `[batch, length]` and class indices `[batch]`.
public struct ClassificationBatch {
    public var tokens: IndexTensor
    public var labels: IndexTensor

    public init(tokens: IndexTensor, labels: IndexTensor) {
        self.tokens = tokens
        self.labels = labels
    }
}

/// Sequences with class labels, one FASTA file (or list of records) per class, as bytes of one length: longer ones
/// cropped at the end, shorter ones padded with N. The test part is given (a file per class), or a seeded tenth of each
/// class is held out.
///
/// ```swift
/// let data = try LabelledSequences(classes: [("oct4", oct4Records), ("mafk", mafkRecords)], test: nil, seed: 0)
/// let batch = data.batch(Array(data.training.prefix(8)))   // tokens [8, 200], labels [8]
/// ```
public struct LabelledSequences: Sendable {
    public struct Example: Sendable, Equatable {
        public var bytes: [UInt8]
        public var label: Int
    }

    public let classes: [String]
    /// Bytes per sequence.
    public let length: Int
    public let training: [Example]
    public let test: [Example]
    /// Sequences cropped or padded to `length`.
    public let cropped: Int, padded: Int

    /// `classes` in order (their records for training, and for testing when `test` is given, in the same order of
    /// names); `length` `nil`: the longest training sequence.
    public init(classes: [(name: String, records: [FastaRecord])], test: [(name: String, records: [FastaRecord])]?,
                length: Int? = nil, testFraction: Double = 0.1, seed: UInt64 = 0) throws {
        guard classes.count >= 2 else { throw LabelledSequencesError.tooFewClasses(classes.map(\.name)) }
        let names = classes.map(\.name)
        if let duplicate = names.enumerated().first(where: { names.prefix($0.offset).contains($0.element) })?.element {
            throw LabelledSequencesError.duplicateClass(duplicate)
        }
        if let test, test.map(\.name) != names { throw LabelledSequencesError.testClassesDiffer(training: names, test: test.map(\.name)) }
        let length = length ?? classes.flatMap { $0.records.map(\.sequence.count) }.max() ?? 0
        guard length >= 1 else { throw LabelledSequencesError.badLength(length) }
        var cropped = 0, padded = 0
        func example(_ record: FastaRecord, _ label: Int) -> Example {
            var bytes = Array(record.sequence.prefix(length))
            if record.sequence.count > length { cropped += 1 }
            if bytes.count < length {
                padded += 1
                bytes += [UInt8](repeating: UInt8(ascii: "N"), count: length - bytes.count)
            }
            return Example(bytes: bytes, label: label)
        }
        var training: [Example] = [], held: [Example] = []
        var generator = RandomGenerator(seed: seed)
        for (label, entry) in classes.enumerated() {
            let examples = entry.records.map { example($0, label) }
            if test != nil {
                training += examples
            } else {
                // A seeded tenth of each class (at least one; at least one left to train on).
                let count = min(max(1, Int((Double(examples.count) * testFraction).rounded())), examples.count - 1)
                guard count >= 1 else { throw LabelledSequencesError.tooFewSequences(entry.name, examples.count) }
                let shuffled = generator.shuffled(examples)
                held += shuffled.prefix(count)
                training += shuffled.dropFirst(count)
            }
        }
        if let test { held = test.enumerated().flatMap { label, entry in entry.records.map { example($0, label) } } }
        (self.classes, self.length, self.training, self.test, self.cropped, self.padded) = (names, length, training, held, cropped, padded)
    }

    /// `examples` as one batch.
    public func batch(_ examples: [Example]) -> ClassificationBatch {
        ClassificationBatch(tokens: IndexTensor(shape: [examples.count, length], examples.flatMap { $0.bytes.map(Int.init) }),
                            labels: IndexTensor(shape: [examples.count], examples.map(\.label)))
    }
}

/// Why labelled sequences cannot be made.
public enum LabelledSequencesError: Error, CustomStringConvertible, Equatable {
    case tooFewClasses([String])
    case duplicateClass(String)
    case testClassesDiffer(training: [String], test: [String])
    case badLength(Int)
    case tooFewSequences(String, Int)

    public var description: String {
        switch self {
        case .tooFewClasses(let names):
            return "a classifier needs at least two classes (got \(names.isEmpty ? "none" : names.joined(separator: ", "))); give --class NAME=FILE.fa once per class"
        case .duplicateClass(let name): return "the class \(name) is given twice; give each class once"
        case let .testClassesDiffer(training, test):
            return "the test classes (\(test.joined(separator: ", "))) must be the training classes in the same order (\(training.joined(separator: ", ")))"
        case .badLength(let length): return "--length must be at least 1, got \(length)"
        case let .tooFewSequences(name, count):
            return "the class \(name) has \(count) sequence\(count == 1 ? "" : "s"): too few to hold one out for testing; give a test file per class with --test"
        }
    }
}
