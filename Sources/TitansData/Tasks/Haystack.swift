import Foundation

/// The text that long-context examples hide their needles and facts in: built-in prose written from our own
/// sentence patterns (seeded, no digits, no download), the repeated noise sentences of the pass-key task, or any text
/// file (`titans eval … --haystack FILE`), read from a random place.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let text = Haystack.prose.text(count: 300, generator: &rng)          // 300 bytes, sentence ends marked
/// let book = try Haystack(contentsOf: URL(fileURLWithPath: "kjv.txt"))
/// ```
public struct Haystack: Sendable {
    enum Source: Sendable {
        case prose
        case noise
        case file(bytes: [UInt8])
    }
    let source: Source
    /// Where the text came from, for reports.
    public let name: String

    /// Prose from the built-in sentence patterns.
    public static let prose = Haystack(source: .prose, name: "built-in prose")
    /// The pass-key task's noise: the same five sentences over and over.
    public static let noise = Haystack(source: .noise, name: "repeated noise sentences")
    /// The noise sentences, repeated.
    static let noiseText = Array("The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. ".utf8)

    /// The fewest bytes a haystack file must hold.
    public static let minimumFileBytes = 4096

    /// The text of the file at `url`, read whole; line ends become spaces, so needles sit in running text.
    public init(contentsOf url: URL) throws {
        let path = url.path
        let data: Data
        switch FileKind.contents(of: path) {
        case .success(let contents): data = contents
        case .failure(.missing): throw HaystackError.missing(path: path)
        case .failure(.notARegularFile): throw HaystackError.notARegularFile(path: path)
        case .failure(.unreadable(let reason)): throw HaystackError.unreadable(path: path, reason: reason)
        }
        let bytes = data.map { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") ? UInt8(ascii: " ") : $0 }
        guard bytes.count >= Self.minimumFileBytes else { throw HaystackError.tooShort(path: path, byteCount: bytes.count) }
        self.init(source: .file(bytes: bytes), name: url.lastPathComponent)
    }

    init(source: Source, name: String) {
        self.source = source
        self.name = name
    }

    /// `count` bytes of text and the offsets where a sentence may be put (after a sentence's end, and 0).
    public func text(count: Int, generator: inout RandomGenerator) -> (bytes: [UInt8], sentenceStarts: [Int]) {
        var bytes: [UInt8]
        switch source {
        case .noise:
            bytes = []
            while bytes.count < count { bytes += Self.noiseText }
        case .prose:
            bytes = []
            while bytes.count < count { bytes += Prose.sentence(generator: &generator) }
        case .file(let all):
            // A window from a random place; a file shorter than `count` is read around again.
            var from = generator.uniformIndex(all.count)
            bytes = []
            while bytes.count < count {
                let end = min(all.count, from + count - bytes.count)
                bytes += all[from..<end]
                from = end == all.count ? 0 : end
            }
        }
        bytes = Array(bytes.prefix(count))
        var starts = [0]
        for i in bytes.indices.dropLast() where [UInt8(ascii: " "), UInt8(ascii: "\n")].contains(bytes[i])
            && [UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "?")].contains(i > 0 ? bytes[i - 1] : 0) {
            starts.append(i + 1)
        }
        return (bytes, starts)
    }
}

/// Sentences hidden in a haystack: the prompt, and where each sentence went.
public struct ScatteredPrompt: Sendable {
    public var prompt: [UInt8]
    /// Where each sentence starts in the prompt.
    public var starts: [Int]
    /// Where each sentence went in the haystack text, as a fraction of it (0 at its start, 1 at its end).
    public var depths: [Double]
}

extension Haystack {
    /// `sentences` put in order at uniformly drawn sentence boundaries of haystack text, then `question`; the text is
    /// as long as it must be for the prompt and `answerCount` answer bytes to come to `length` bytes (no text when the
    /// rest alone is longer).
    public func scatter(_ sentences: [[UInt8]], question: [UInt8], answerCount: Int, length: Int,
                        generator: inout RandomGenerator) -> ScatteredPrompt {
        let count = max(0, length - sentences.reduce(0) { $0 + $1.count } - question.count - answerCount)
        let (text, boundaries) = self.text(count: count, generator: &generator)
        // Each at a uniformly drawn place, moved back to the sentence boundary before it.
        let places = sentences.map { _ in generator.uniformIndex(count + 1) }.sorted().map { wanted in boundaries.last { $0 <= wanted } ?? 0 }
        var prompt: [UInt8] = [], starts: [Int] = [], taken = 0
        for (sentence, place) in zip(sentences, places) {
            prompt += text[taken..<place]
            taken = place
            starts.append(prompt.count)
            prompt += sentence
        }
        prompt += text[taken...] + question
        return ScatteredPrompt(prompt: prompt, starts: starts, depths: places.map { count == 0 ? 0 : Double($0) / Double(count) })
    }
}

/// Why a haystack file cannot be used.
public enum HaystackError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case notARegularFile(path: String)
    case unreadable(path: String, reason: String)
    case tooShort(path: String, byteCount: Int)

    public var description: String {
        switch self {
        case .missing(let path): return "no haystack file at \(path); check the path, or leave out --haystack for the built-in prose"
        case .notARegularFile(let path): return "\(path) is not a regular file; pass a text file as --haystack"
        case let .unreadable(path, reason): return "cannot read the haystack \(path): \(reason)"
        case let .tooShort(path, count):
            return "the haystack \(path) holds \(count) bytes; it needs at least \(Haystack.minimumFileBytes) bytes of text"
        }
    }
}

/// The built-in prose: sentences from a few patterns over our own small vocabulary of people, places, times and
/// clauses, with no digits and none of the tasks' fact or needle wording.
enum Prose {
    static let people = ["the old miller", "a young sailor", "the village doctor", "my grandmother", "the tall stranger",
                         "a tired merchant", "the baker's daughter", "our neighbour", "the night watchman", "a quiet student",
                         "the ferryman", "an old soldier", "the schoolmaster", "a travelling painter", "the widow next door"]
    static let movements = ["walked to", "rode past", "waited near", "looked across", "rested beside", "hurried toward",
                            "wandered along", "stopped at", "came back from", "sang quietly by"]
    static let scenes = ["the river", "the market square", "the old mill", "the harbour", "the chapel", "the narrow bridge",
                         "the orchard", "the empty station", "the hill road", "the reading room", "the frozen lake",
                         "the lighthouse", "the meadow", "the bakery", "the crossroads"]
    static let times = ["before dawn", "at noon", "in the evening", "after the rain", "on a cold morning", "late at night",
                        "during the fair", "at the end of summer", "when the snow came", "on market day"]
    static let clauses = ["and thought about the long winter", "while the bells rang", "because the roads were closed",
                          "as the wind turned", "though nobody noticed", "and counted the passing carts",
                          "while the children played", "as the lamps were lit", "and hummed an old song",
                          "because a letter had arrived"]
    static let qualities = ["grey", "quiet", "crowded", "bright", "cold", "muddy", "golden", "silent", "windy", "pale"]

    /// One sentence and the space after it (a paragraph break now and then).
    static func sentence(generator: inout RandomGenerator) -> [UInt8] {
        var g = generator
        defer { generator = g }
        let text: String
        switch g.uniformIndex(6) {
        case 0: text = "\(g.pick(people)) \(g.pick(movements)) \(g.pick(scenes)) \(g.pick(times))."
        case 1: text = "\(g.pick(times)), \(g.pick(people)) \(g.pick(movements)) \(g.pick(scenes)) \(g.pick(clauses))."
        case 2: text = "Nobody knew why \(g.pick(people)) \(g.pick(movements)) \(g.pick(scenes))."
        case 3: text = "The air over \(g.pick(scenes)) was \(g.pick(qualities)) \(g.pick(times)), \(g.pick(clauses))."
        case 4: text = "\(g.pick(people)) said that \(g.pick(people)) had \(g.pick(movements)) \(g.pick(scenes)) \(g.pick(times))."
        default: text = "It was \(g.pick(qualities)) at \(g.pick(scenes)), and \(g.pick(people)) \(g.pick(movements)) it \(g.pick(clauses))."
        }
        return Array((text.prefix(1).uppercased() + text.dropFirst()).utf8) + [g.uniformIndex(5) == 0 ? UInt8(ascii: "\n") : UInt8(ascii: " ")]
    }
}
