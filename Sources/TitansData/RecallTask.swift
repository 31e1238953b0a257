/// A synthetic long-context recall task over bytes: a fact `#KV` (key byte K, value byte V) is placed somewhere in
/// a stream of random filler, and the sequence ends with the question `?K`; the model must predict V. The distance
/// between the fact and the question is chosen per example, so accuracy can be read by distance — in particular
/// beyond an attention window, where only a memory can answer.
///
/// Bytes: filler `a`…`z`, keys `A`…`P`, values `0`…`9` and `!"$%&'` (16), markers `#` and `?`.
public struct RecallTask: Sendable {
    public static let filler = Array(UInt8(ascii: "a")...UInt8(ascii: "z")).map(Int.init)
    public static let keys = Array(UInt8(ascii: "A")...UInt8(ascii: "P")).map(Int.init)
    public static let values = (Array(UInt8(ascii: "0")...UInt8(ascii: "9")) + Array("!\"$%&'".utf8)).map(Int.init)
    public static let factMarker = Int(UInt8(ascii: "#")), questionMarker = Int(UInt8(ascii: "?"))

    /// Length of every sequence (inputs; targets are the same sequence shifted by one).
    public let length: Int

    public init(length: Int) {
        precondition(length >= 6, "RecallTask: sequences need at least 6 bytes for a fact and a question")
        self.length = length
    }

    /// The largest distance a sequence of this length can hold: from the fact's value to the question's key.
    public var maximumDistance: Int { length - 4 }

    /// One example: `length + 1` bytes (so inputs and targets can be cut from it), the position in the targets
    /// whose answer is scored, and the answer byte. `distance` counts positions from the fact's value byte to the
    /// question's key byte (the last input).
    public func example(distance: Int, generator: inout RandomGenerator) -> (bytes: [Int], answerPosition: Int, answer: Int) {
        precondition(distance >= 3 && distance <= maximumDistance, "RecallTask: distance \(distance) outside 3...\(maximumDistance)")
        var bytes = (0...length).map { _ in Self.filler[Int(generator.next() % UInt64(Self.filler.count))] }
        let key = Self.keys[Int(generator.next() % UInt64(Self.keys.count))]
        let value = Self.values[Int(generator.next() % UInt64(Self.values.count))]
        let questionKey = length - 1  // last input position
        let factValue = questionKey - distance
        bytes[factValue - 2] = Self.factMarker
        bytes[factValue - 1] = key
        bytes[factValue] = value
        bytes[questionKey - 1] = Self.questionMarker
        bytes[questionKey] = key
        bytes[length] = value  // the target after the question
        return (bytes, length - 1, value)
    }

    /// A batch of examples with distances drawn uniformly from `distances`: inputs and targets `[batch, length]`,
    /// and the positions and answers to score.
    public func batch(size: Int, distances: ClosedRange<Int>, generator: inout RandomGenerator)
        -> (inputs: IndexTensor, targets: IndexTensor, answerPositions: [Int], answers: [Int]) {
        var inputs: [Int] = [], targets: [Int] = [], positions: [Int] = [], answers: [Int] = []
        for _ in 0..<size {
            let span = UInt64(distances.count)
            let distance = distances.lowerBound + Int(generator.next() % span)
            let e = example(distance: distance, generator: &generator)
            inputs += e.bytes.dropLast()
            targets += e.bytes.dropFirst()
            positions.append(e.answerPosition)
            answers.append(e.answer)
        }
        return (IndexTensor(shape: [size, length], inputs), IndexTensor(shape: [size, length], targets), positions, answers)
    }
}
