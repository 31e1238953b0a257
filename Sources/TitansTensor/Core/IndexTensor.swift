/// An N-d array of integer indices: token ids, class targets, argmax results.
///
/// ```swift
/// let tokens = IndexTensor(shape: [1, 5], Array("Hello".utf8).map(Int.init))
/// let logits = model(tokens).logits   // [1, 5, vocabulary]
/// ```
public struct IndexTensor: Equatable, Sendable {
    public let shape: [Int]
    public let values: [Int]

    public init(shape: [Int], _ values: [Int]) {
        precondition(Shape.count(shape) == values.count, "IndexTensor: \(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }

    public var count: Int { values.count }

    /// The entries `range` along the first axis (rows of a `[batch, time]` batch).
    public func rows(_ range: Range<Int>) -> IndexTensor {
        let width = shape.dropFirst().reduce(1, *)
        return IndexTensor(shape: [range.count] + shape.dropFirst(), Array(values[(range.lowerBound * width)..<(range.upperBound * width)]))
    }
}
