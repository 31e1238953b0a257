import Foundation

/// Rotary position embedding (RoPE, Su et al. 2021) in the rotate-half convention (as in GPT-NeoX / Llama in
/// Hugging Face): the feature pairs are `(x[c], x[c + d/2])` for `c < d/2`, rotated by the angle `p · θ_c` with
/// `θ_c = base^(-2c/d)` at absolute position `p`:
///
///     RoPE(x, p) = x ⊙ cos(p·θ ‖ p·θ) + rotateHalf(x) ⊙ sin(p·θ ‖ p·θ),   rotateHalf(x) = (-x[d/2...]) ‖ x[..<d/2]
///
/// so `⟨RoPE(q, m), RoPE(k, n)⟩` depends on `m - n` only. Applied to `[…, T, d]` (usually `[B, H, T, d]`) at
/// positions `offset ..< offset + T` along axis `-2`, in one kernel (`Tensor.rotatedHalves`); the cos/sin tables are
/// constants computed in `Double` and converted to the input's dtype.
public struct RotaryEmbedding {
    /// The feature dimension `d` (even) this embedding rotates.
    public let dimension: Int
    /// The frequency base (10000 by default).
    public let base: Double
    /// θ_c for c < d/2, computed once.
    private let frequencies: [Double]

    public init(dimension: Int, base: Double = 10000) {
        precondition(dimension >= 2 && dimension % 2 == 0, "RotaryEmbedding: dimension must be even and ≥ 2, got \(dimension)")
        precondition(base > 0, "RotaryEmbedding: base must be positive, got \(base)")
        self.dimension = dimension
        self.base = base
        frequencies = (0..<(dimension / 2)).map { Foundation.pow(base, -2 * Double($0) / Double(dimension)) }
    }

    /// The angle `p · θ_c` for position `p` and frequency index `c < d/2`.
    public func angle(position: Int, index c: Int) -> Double {
        Double(position) * frequencies[c]
    }

    /// The `cos` and `sin` of each angle `[count, d/2]` for positions `offset ..< offset + count`: what ``rotate(_:angles:)``
    /// takes, computed once for the queries and keys of the same positions.
    public func angleTables(offset: Int, count: Int, dtype: DType = .float32) -> (cos: Tensor, sin: Tensor) {
        let half = dimension / 2
        let angles = (0..<(count * half)).map { angle(position: offset + $0 / half, index: $0 % half) }
        return (Tensor(shape: [count, half], generating: { Foundation.cos(angles[$0]) }, dtype: dtype),
                Tensor(shape: [count, half], generating: { Foundation.sin(angles[$0]) }, dtype: dtype))
    }

    /// The `cos` and `sin` tables `[count, d]` for positions `offset ..< offset + count` (each row `f ‖ f`), as the
    /// composed form `x ⊙ cos + rotateHalf(x) ⊙ sin` takes them.
    public func tables(offset: Int, count: Int, dtype: DType = .float32) -> (cos: Tensor, sin: Tensor) {
        let (cos, sin) = angleTables(offset: offset, count: count, dtype: dtype)
        return (Tensor.concatenate([cos, cos], axis: -1), Tensor.concatenate([sin, sin], axis: -1))
    }

    /// `x` (`[…, T, d]`) rotated for positions `offset ..< offset + T`; same shape. For a decode step pass the
    /// new token's absolute position as `offset`.
    public func callAsFunction(_ x: Tensor, offset: Int = 0) -> Tensor {
        precondition(x.rank >= 2 && x.shape[x.rank - 1] == dimension,
                     "RotaryEmbedding: input \(x.shape) must be [..., T, \(dimension)]")
        return Self.rotate(x, angles: angleTables(offset: offset, count: x.shape[x.rank - 2], dtype: x.dtype))
    }

    /// `x` rotated by the `angles` of its positions (``angleTables(offset:count:dtype:)``) in one kernel
    /// (`Tensor.rotatedHalves`). Equal to `x * cos + rotateHalf(x) * sin` with the full ``tables(offset:count:dtype:)`` (tested).
    public static func rotate(_ x: Tensor, angles: (cos: Tensor, sin: Tensor)) -> Tensor {
        x.rotatedHalves(cos: angles.cos, sin: angles.sin)
    }

    /// `(-x[…, d/2 ..< d]) ‖ x[…, 0 ..< d/2]` along the last axis.
    public static func rotateHalf(_ x: Tensor) -> Tensor {
        let d = x.shape[x.rank - 1]
        precondition(d % 2 == 0, "RotaryEmbedding.rotateHalf: last axis of \(x.shape) must be even")
        let first = x.slice(axis: -1, start: 0, end: d / 2), second = x.slice(axis: -1, start: d / 2, end: d)
        return Tensor.concatenate([-second, first], axis: -1)
    }
}
