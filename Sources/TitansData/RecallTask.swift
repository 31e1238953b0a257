import Foundation

/// A synthetic long-context recall task over bytes (multi-query associative recall in random filler). Facts `#KV`
/// (key byte K, value byte V) are placed in a stream of random filler, and questions `?K` later ask for V. Every
/// sequence ends with the *probe* question, whose fact lies at a distance chosen by the caller, so accuracy can be
/// read by distance — in particular beyond an attention window, where only a memory can answer. The other facts and
/// questions are distractors for evaluation and extra supervision for training (every answer can be scored).
///
/// Bytes: filler `a`…`z`, keys `A`…`P`, values `0`…`9` and `!"$%&'` (16), markers `#` and `?`. Within a sequence
/// every fact has its own key, and every question asks about a fact that came before it.
///
/// ```swift
/// let task = RecallTask(length: 256, facts: 4)
/// var rng = RandomGenerator(seed: 0)
/// let batch = task.batch(size: 8, distances: 16...192, generator: &rng)   // inputs, targets, questions
/// ```
public struct RecallTask: Sendable {
    public static let filler = Array(UInt8(ascii: "a")...UInt8(ascii: "z")).map(Int.init)
    public static let keys = Array(UInt8(ascii: "A")...UInt8(ascii: "P")).map(Int.init)
    public static let values = (Array(UInt8(ascii: "0")...UInt8(ascii: "9")) + Array("!\"$%&'".utf8)).map(Int.init)
    public static let factMarker = Int(UInt8(ascii: "#")), questionMarker = Int(UInt8(ascii: "?"))

    /// Length of every sequence (inputs; targets are the same sequence shifted by one).
    public let length: Int
    /// Facts per sequence, the probe's included (each asked once).
    public let facts: Int

    public init(length: Int, facts: Int = 1) {
        precondition(length >= 6, "RecallTask: sequences need at least 6 bytes for a fact and a question")
        precondition(facts >= 1 && facts <= Self.keys.count, "RecallTask: facts \(facts) outside 1...\(Self.keys.count)")
        self.length = length
        self.facts = facts
    }

    /// The largest distance a sequence of this length can hold: from the fact's value to the question's key.
    public var maximumDistance: Int { length - 4 }

    /// A question in an example: the target position whose prediction answers it, the answer, and the distance from
    /// the fact's value byte to the question's key byte.
    ///
    /// ```swift
    /// for question in task.batch(size: 1, distances: 64...64, generator: &rng).questions[0] {
    ///     print(question.position, question.answer, question.distance)
    /// }
    /// ```
    public struct Question: Sendable, Equatable {
        public let position: Int
        public let answer: Int
        public let distance: Int
    }

    /// One example: `length + 1` bytes (so inputs and targets can be cut from it) and its questions, the probe last
    /// (at target position `length − 1`, its fact `distance` before it). Distractor facts and questions go where they
    /// fit without overlapping; in a crowded sequence fewer than `facts − 1` may fit.
    public func example(distance: Int, generator: inout RandomGenerator) -> (bytes: [Int], questions: [Question]) {
        precondition(distance >= 3 && distance <= maximumDistance, "RecallTask: distance \(distance) outside 3...\(maximumDistance)")
        var bytes = (0...length).map { _ in Self.filler[Self.draw(Self.filler.count, &generator)] }
        var used = [Bool](repeating: false, count: length + 1)
        var keys = Self.keys
        for i in keys.indices.reversed() { keys.swapAt(i, Self.draw(i + 1, &generator)) }  // distinct keys, shuffled
        var questions: [Question] = []

        /// Writes the fact `#KV` with V at `value` and the question `?KV` with K at `question`, if the bytes are free.
        func place(value: Int, question: Int) -> Bool {
            let slots = [value - 2, value - 1, value, question - 1, question, question + 1]
            guard value >= 2, question - value >= 3, question < length, !slots.contains(where: { used[$0] }) else { return false }
            let key = keys[questions.count]
            let answer = Self.values[Self.draw(Self.values.count, &generator)]
            for (slot, byte) in zip(slots, [Self.factMarker, key, answer, Self.questionMarker, key, answer]) {
                bytes[slot] = byte
                used[slot] = true
            }
            questions.append(Question(position: question, answer: answer, distance: question - value))
            return true
        }

        let probe = length - 1  // the last input; its answer is the last target
        _ = place(value: probe - distance, question: probe)
        var attempts = 0
        while questions.count < facts && attempts < 32 * facts {
            attempts += 1
            let value = 2 + Self.draw(length - 6, &generator)
            _ = place(value: value, question: value + 3 + Self.draw(length - 4 - value, &generator))
        }
        return (bytes, Array(questions.dropFirst()).sorted { $0.position < $1.position } + [questions[0]])
    }

    /// A batch of examples whose probe distances are drawn from `distances` (log-uniformly when `logUniform`, so short
    /// and long distances are equally represented per octave): inputs and targets `[batch, length]` and each row's
    /// questions.
    public func batch(size: Int, distances: ClosedRange<Int>, logUniform: Bool = false, generator: inout RandomGenerator)
        -> (inputs: IndexTensor, targets: IndexTensor, questions: [[Question]]) {
        var inputs: [Int] = [], targets: [Int] = [], questions: [[Question]] = []
        for _ in 0..<size {
            let distance: Int
            if logUniform {
                let u = Double(generator.next() >> 11) / Double(1 << 53)
                let d = Double(distances.lowerBound) * pow(Double(distances.upperBound + 1) / Double(distances.lowerBound), u)
                distance = min(Int(d), distances.upperBound)
            } else {
                distance = distances.lowerBound + Self.draw(distances.count, &generator)
            }
            let e = example(distance: distance, generator: &generator)
            inputs += e.bytes.dropLast()
            targets += e.bytes.dropFirst()
            questions.append(e.questions)
        }
        return (IndexTensor(shape: [size, length], inputs), IndexTensor(shape: [size, length], targets), questions)
    }

    private static func draw(_ count: Int, _ generator: inout RandomGenerator) -> Int {
        Int(generator.next() % UInt64(count))
    }
}
