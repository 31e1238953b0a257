import Testing
@testable import TitansData

struct LabelledSequencesTests {
    static func records(_ sequences: [String]) -> [FastaRecord] {
        sequences.enumerated().map { FastaRecord(name: "s\($0.offset)", sequence: Array($0.element.utf8)) }
    }

    /// Sequences are cropped or padded with N to one length; labels follow the classes' order; a given test part is
    /// kept whole.
    @Test func sequencesTakeOneLengthAndTheirClass() throws {
        let data = try LabelledSequences(classes: [("a", Self.records(["ACGT", "AC"])), ("b", Self.records(["GGGGGG"]))],
                                         test: [("a", Self.records(["T"])), ("b", Self.records(["CCCCC"]))], length: 4)
        #expect(data.classes == ["a", "b"] && data.length == 4 && data.cropped == 2 && data.padded == 2)
        #expect(data.training.map { String(decoding: $0.bytes, as: UTF8.self) } == ["ACGT", "ACNN", "GGGG"])
        #expect(data.training.map(\.label) == [0, 0, 1] && data.test.map(\.label) == [0, 1])
        let batch = data.batch(data.training)
        #expect(batch.tokens.shape == [3, 4] && batch.labels.values == [0, 0, 1] && batch.tokens.values[4..<8] == [65, 67, 78, 78])
        let longest = try LabelledSequences(classes: [("a", Self.records(["ACGT", "AC"])), ("b", Self.records(["GGGGGG"]))],
                                            test: [("a", Self.records(["T"])), ("b", Self.records(["C"]))])
        #expect(longest.length == 6)
    }

    /// Without a test part a seeded tenth of each class is held out, the same for the same seed.
    @Test func aTenthOfEachClassIsHeldOut() throws {
        let classes = [("a", Self.records(Array(repeating: "AAAA", count: 30))), ("b", Self.records(Array(repeating: "CCCC", count: 10)))]
        let data = try LabelledSequences(classes: classes, test: nil, seed: 7)
        #expect(data.test.map(\.label) == [0, 0, 0, 1] && data.training.count == 36)
        let again = try LabelledSequences(classes: classes, test: nil, seed: 7)
        #expect(again.training == data.training && again.test == data.test)
    }

    @Test func badClassesAreRefused() throws {
        let one = Self.records(["ACGT"]), two = Self.records(["ACGT", "ACGT"])
        #expect(throws: LabelledSequencesError.tooFewClasses(["a"])) { try LabelledSequences(classes: [("a", two)], test: nil) }
        #expect(throws: LabelledSequencesError.duplicateClass("a")) { try LabelledSequences(classes: [("a", two), ("a", two)], test: nil) }
        #expect(throws: LabelledSequencesError.testClassesDiffer(training: ["a", "b"], test: ["b", "a"])) {
            try LabelledSequences(classes: [("a", two), ("b", two)], test: [("b", two), ("a", two)])
        }
        #expect(throws: LabelledSequencesError.tooFewSequences("b", 1)) { try LabelledSequences(classes: [("a", two), ("b", one)], test: nil) }
        #expect(throws: LabelledSequencesError.badLength(0)) { try LabelledSequences(classes: [("a", two), ("b", two)], test: nil, length: 0) }
    }
}
