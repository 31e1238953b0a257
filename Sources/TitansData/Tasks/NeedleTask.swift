import Foundation

/// The single-needle retrieval tasks of RULER that the paper's Table 2 reports (S-NIAH, §5.3), in our own wording:
/// one needle hidden at a uniformly random sentence boundary of a haystack, and a question about it at the end.
/// - ``Kind/passKey`` (PK): a five-digit pass key in the repeated noise sentences;
/// - ``Kind/number`` (N): a seven-digit "special magic number" for a named key in natural text;
/// - ``Kind/word`` (W): a "special magic word" for a named key in natural text.
///
/// Fields: `length`, `depth` (the needle's place in the haystack, 0 at the start, 1 at the end) and `distance` (bytes
/// from the needle's end to the prompt's end).
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let example = NeedleTask(.number).example(length: 1024, generator: &rng)
/// // …One of the special magic numbers for amber-harbour is 4072913. …\nWhat is the special magic number for amber-harbour? It is
/// ```
public struct NeedleTask: LongContextTask {
    public enum Kind: String, Sendable, CaseIterable {
        case passKey = "pk", number = "n", word = "w"
    }
    public let kind: Kind
    /// The natural text of the N and W tasks (PK always hides its key in noise).
    public let haystack: Haystack

    public init(_ kind: Kind, haystack: Haystack = .prose) {
        self.kind = kind
        self.haystack = kind == .passKey ? .noise : haystack
    }

    public var name: String { "s-niah-\(kind.rawValue)" }

    /// The words of the W task's answers and of the keys.
    static let words = ["lantern", "violet", "harvest", "copper", "meadow", "thunder", "marble", "falcon", "willow", "ember",
                        "glacier", "saffron", "compass", "orchid", "pebble", "quartz", "raven", "sapphire", "timber", "velvet",
                        "walnut", "anchor", "beacon", "cinder", "dagger", "feather", "garnet", "hollow", "ivory", "juniper",
                        "kettle", "lagoon"]
    static let keyAdjectives = ["amber", "brisk", "crimson", "distant", "eager", "frosty", "gentle", "hidden", "icy", "jolly",
                                "keen", "lucky", "misty", "noble", "olive", "proud"]

    /// The needle, the question and the answer of one example.
    private func parts(generator: inout RandomGenerator) -> (needle: String, question: String, answer: String) {
        func digits(_ count: Int) -> String {
            String(generator.uniformIndex(9) + 1) + (1..<count).map { _ in String(generator.uniformIndex(10)) }.joined()
        }
        switch kind {
        case .passKey:
            let key = digits(5)
            return ("The pass key is \(key). Remember it. \(key) is the pass key. ", "\nWhat is the pass key? The pass key is ", key)
        case .number, .word:
            let key = "\(generator.pick(Self.keyAdjectives))-\(generator.pick(Self.words))"
            let noun = kind == .number ? "number" : "word"
            let answer = kind == .number ? digits(7) : generator.pick(Self.words)
            return ("One of the special magic \(noun)s for \(key) is \(answer). ",
                    "\nWhat is the special magic \(noun) for \(key)? It is ", answer)
        }
    }

    /// The longest needle, question and answer together.
    public var minimumLength: Int {
        let longestWord = Self.words.map(\.utf8.count).max() ?? 0
        let longestKey = (Self.keyAdjectives.map(\.utf8.count).max() ?? 0) + 1 + longestWord
        switch kind {
        case .passKey: return "The pass key is . Remember it.  is the pass key. ".utf8.count + 10
            + "\nWhat is the pass key? The pass key is ".utf8.count + 5
        case .number, .word:
            let answer = kind == .number ? 7 : longestWord
            return "One of the special magic numbers for  is . ".utf8.count + longestKey + answer
                + "\nWhat is the special magic number for ? It is ".utf8.count + longestKey + answer
        }
    }

    public func example(length: Int, generator: inout RandomGenerator) -> TaskExample {
        let (needle, question, answer) = parts(generator: &generator)
        let (needleBytes, questionBytes, answerBytes) = (Array(needle.utf8), Array(question.utf8), Array(answer.utf8))
        let scattered = haystack.scatter([needleBytes], question: questionBytes, answerCount: answerBytes.count, length: length,
                                         generator: &generator)
        let prompt = scattered.prompt
        return TaskExample(prompt: prompt, answer: answerBytes, fields: [
            "length": Double(prompt.count + answerBytes.count),
            "depth": scattered.depths[0],
            "distance": Double(prompt.count - scattered.starts[0] - needleBytes.count),
        ])
    }
}
