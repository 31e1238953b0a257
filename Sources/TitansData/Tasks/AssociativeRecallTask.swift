import Foundation

/// Associative recall with many keys (MQAR-style): `pairs` key–value sentences scattered through the haystack, then a
/// question about one of them drawn uniformly, so the model must keep every association to answer. Keys are
/// two-word names, values three-digit numbers.
///
/// Fields: `length`, `pairs` and `distance` (bytes from the asked pair to the prompt's end).
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let example = AssociativeRecallTask(pairs: 8).example(length: 2048, generator: &rng)
/// // … The code of misty-raven is 417. … \nWhat is the code of misty-raven? It is   → "417"
/// ```
public struct AssociativeRecallTask: LongContextTask {
    public let pairs: Int
    public let haystack: Haystack

    /// At most as many pairs as there are distinct keys.
    public static var mostPairs: Int { NeedleTask.keyAdjectives.count * NeedleTask.words.count }

    public init(pairs: Int, haystack: Haystack = .prose) {
        self.pairs = max(1, min(pairs, Self.mostPairs))
        self.haystack = haystack
    }

    public var name: String { "mqar" }

    static let longestKey = (NeedleTask.keyAdjectives.map(\.utf8.count).max() ?? 0) + 1 + (NeedleTask.words.map(\.utf8.count).max() ?? 0)

    public var minimumLength: Int {
        pairs * ("The code of  is 000. ".utf8.count + Self.longestKey) + "\nWhat is the code of ? It is ".utf8.count + Self.longestKey + 3
    }

    public func example(length: Int, generator: inout RandomGenerator) -> TaskExample {
        var keys = Set<String>()
        while keys.count < pairs { keys.insert("\(generator.pick(NeedleTask.keyAdjectives))-\(generator.pick(NeedleTask.words))") }
        let ordered = generator.shuffled(keys.sorted())
        let values = ordered.map { _ in String(100 + generator.uniformIndex(900)) }
        let asked = generator.uniformIndex(pairs)
        let sentences = zip(ordered, values).map { Array("The code of \($0) is \($1). ".utf8) }
        let question = Array("\nWhat is the code of \(ordered[asked])? It is ".utf8), answer = Array(values[asked].utf8)
        let scattered = haystack.scatter(sentences, question: question, answerCount: answer.count, length: length, generator: &generator)
        let prompt = scattered.prompt
        return TaskExample(prompt: prompt, answer: answer, fields: [
            "length": Double(prompt.count + answer.count), "pairs": Double(pairs), "distance": Double(prompt.count - scattered.starts[asked]),
        ])
    }
}
