import Foundation

/// One example of a long-context task: the prompt the model reads, the answer it must give next, and numeric fields
/// that describe it (its length, the needle's distance from the question, …) by which accuracy can be grouped.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let example = NeedleTask(.passKey).example(length: 512, generator: &rng)
/// print(String(decoding: example.prompt.suffix(40), as: UTF8.self), example.answerText, example.fields["distance"]!)
/// ```
public struct TaskExample: Sendable, Equatable {
    public var prompt: [UInt8]
    public var answer: [UInt8]
    /// Numeric facts about the example, by name (`length`, `distance`, `depth`, `facts`, …).
    public var fields: [String: Double]

    public init(prompt: [UInt8], answer: [UInt8], fields: [String: Double] = [:]) {
        self.prompt = prompt
        self.answer = answer
        self.fields = fields
    }

    /// The answer as text (invalid UTF-8 repaired).
    public var answerText: String { String(decoding: answer, as: UTF8.self) }

    /// Prompt and answer together: what a model trained on the example reads.
    public var bytes: [UInt8] { prompt + answer }
}

/// A generator of seeded long-context examples (the paper's S-NIAH and BABILong-style tasks, §5.3–5.4), each of an
/// exact length in bytes, prompt and answer together.
///
/// ```swift
/// let task: any LongContextTask = ReasoningTask(.twoSupportingFacts)
/// var rng = RandomGenerator(seed: 1)
/// let examples = (0..<100).map { _ in task.example(length: 1024, generator: &rng) }
/// ```
public protocol LongContextTask: Sendable {
    /// The name the command line uses (`s-niah-pk`, `qa1`, …).
    var name: String { get }
    /// The fewest bytes an example can have: the parts that are not haystack.
    var minimumLength: Int { get }
    /// An example of exactly `length` bytes (prompt and answer), `length ≥ minimumLength`.
    func example(length: Int, generator: inout RandomGenerator) -> TaskExample
}

extension RandomGenerator {
    /// A uniform integer in `0..<count` (unbiased), `count ≥ 1`.
    public mutating func uniformIndex(_ count: Int) -> Int { ByteDataset.uniform(through: count - 1, using: &self) }

    /// A uniform element of `items`.
    mutating func pick<T>(_ items: [T]) -> T { items[uniformIndex(items.count)] }

    /// `items` in a uniformly random order.
    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var items = items
        for i in items.indices.reversed() { items.swapAt(i, uniformIndex(i + 1)) }
        return items
    }
}

/// The built-in tasks by the names the command line uses.
///
/// ```swift
/// let task = TaskCatalog.task(named: "qa2")          // ReasoningTask(.twoSupportingFacts)
/// print(TaskCatalog.names)                           // s-niah-pk, s-niah-n, s-niah-w, qa1 … qa5, mqar
/// ```
public enum TaskCatalog {
    public static let names = NeedleTask.Kind.allCases.map { NeedleTask($0).name } + ReasoningTask.Family.allCases.map(\.rawValue) + ["mqar"]

    /// The task called `name`, hiding its facts in `haystack` (the pass-key task keeps its noise); `pairs` for mqar.
    public static func task(named name: String, haystack: Haystack = .prose, pairs: Int = 8) -> (any LongContextTask)? {
        if let kind = NeedleTask.Kind.allCases.first(where: { "s-niah-\($0.rawValue)" == name }) { return NeedleTask(kind, haystack: haystack) }
        if let family = ReasoningTask.Family(rawValue: name) { return ReasoningTask(family, haystack: haystack) }
        return name == "mqar" ? AssociativeRecallTask(pairs: pairs, haystack: haystack) : nil
    }
}
