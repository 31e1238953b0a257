import Testing
@testable import TitansData

/// Lengths and ranges of generated examples: parsed with their errors, exact lengths as before, ranges drawn within.
struct TaskLengthTests {
    @Test func parsesLengthsAndRanges() {
        #expect(TaskLength.parse("512", minimum: 100) == [.exactly(512)])
        #expect(TaskLength.parse("352-512, 1024", minimum: 100) == [.between(352, 512), .exactly(1024)])
        #expect(TaskLength.parse("300-300", minimum: 300) == [.between(300, 300)])
        for bad in ["", "512,", "abc", "512-352", "50-512", "99", "1-2-3", "-512", "352-", "1e3"] {
            #expect(TaskLength.parse(bad, minimum: 100) == nil, "\(bad)")
        }
    }

    /// An exact length gives the examples it always gave (the seed per length is unchanged); a range's examples take
    /// lengths across it, not only multiples of a chunk size.
    @Test func examplesHaveTheirLengths() {
        let task = ReasoningTask(.singleSupportingFact)
        let exact = TaskLength.examples(of: task, lengths: [.exactly(400)], count: 5, seed: 3)
        var generator = RandomGenerator(seed: 3 &* 0x9E37_79B9_7F4A_7C15 &+ 400)
        #expect(exact == (0..<5).map { _ in task.example(length: 400, generator: &generator) })
        let drawn = TaskLength.examples(of: task, lengths: [.between(352, 512)], count: 200, seed: 3)
        let lengths = drawn.map(\.bytes.count)
        #expect(lengths.allSatisfy { (352...512).contains($0) })
        #expect(Set(lengths.map { $0 % 16 }).count >= 12, "lengths \(lengths.prefix(20))")
        #expect(drawn == TaskLength.examples(of: task, lengths: [.between(352, 512)], count: 200, seed: 3))
        #expect(drawn != TaskLength.examples(of: task, lengths: [.between(352, 512)], count: 200, seed: 4))
    }
}
