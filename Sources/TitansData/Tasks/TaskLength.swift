/// The lengths asked of a task's examples: an exact length in bytes, or a range each example draws its length from.
///
/// A memory trained in chunks of C tokens on examples whose lengths are all multiples of C learns the one position of
/// the question within its chunk that it saw: an LMM trained on qa1 at 352, 384, …, 512 bytes (chunks of 16) answered
/// 75–83% at 352–512 and 1,024 bytes and 12–20% at 356, 360 and 376 (the README's BABILong-style section). Lengths
/// drawn from a range vary that position, as `titans reproduce` draws its training lengths.
///
/// ```swift
/// let lengths = TaskLength.parse("352-512,1024", minimum: 300)!   // [.between(352, 512), .exactly(1024)]
/// let examples = TaskLength.examples(of: ReasoningTask(.singleSupportingFact), lengths: lengths, count: 100, seed: 1)
/// ```
public enum TaskLength: Equatable, Sendable {
    case exactly(Int)
    case between(Int, Int)

    /// Comma-separated lengths (`512`) and ranges (`352-512`, both ends included), each at least `minimum`; nil when
    /// the text is not such a list.
    public static func parse(_ text: String, minimum: Int) -> [TaskLength]? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var lengths: [TaskLength] = []
        for part in parts {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            switch ends.count {
            case 1:
                guard let n = ends[0], n >= minimum else { return nil }
                lengths.append(.exactly(n))
            case 2:
                guard let low = ends[0], let high = ends[1], low >= minimum, low <= high else { return nil }
                lengths.append(.between(low, high))
            default:
                return nil
            }
        }
        return lengths.isEmpty ? nil : lengths
    }

    /// `count` examples of each length or range. Each entry's examples come from their own seed, so they do not change
    /// when other entries are added.
    public static func examples(of task: any LongContextTask, lengths: [TaskLength], count: Int, seed: UInt64) -> [TaskExample] {
        let lengthSeed = { (length: Int) in seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(length) }  // an exact length's seed
        return lengths.flatMap { entry -> [TaskExample] in
            switch entry {
            case .exactly(let length):
                var generator = RandomGenerator(seed: lengthSeed(length))
                return (0..<count).map { _ in task.example(length: length, generator: &generator) }
            case let .between(low, high):
                var generator = RandomGenerator(seed: lengthSeed(low) &* 0xBF58_476D_1CE4_E5B9 &+ UInt64(high))
                return (0..<count).map { _ in task.example(length: low + generator.uniformIndex(high - low + 1), generator: &generator) }
            }
        }
    }
}
