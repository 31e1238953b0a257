/// 0/1 masks for causal and banded attention.
extension Tensor {
    /// `mask[i, j] = 1` where `lower ≤ i - j ≤ upper` (`rows × columns`); `lower: 0, upper: .max` is the causal mask,
    /// `upper: w - 1` a causal window of `w` positions. Positions are offset by `columnOffset` (key `j` sits at `j - columnOffset`).
    public static func bandMask(rows: Int, columns: Int, lower: Int = 0, upper: Int = Int.max, columnOffset: Int = 0,
                                dtype: DType = .float32) -> Tensor {
        Tensor(shape: [rows, columns], generating: { index in
            let d = index / columns - (index % columns - columnOffset)
            return d >= lower && d <= upper ? 1 : 0
        }, dtype: dtype)
    }

    /// Lower-triangular causal mask: `mask[i, j] = 1` where `j ≤ i`.
    public static func causalMask(_ size: Int, dtype: DType = .float32) -> Tensor {
        bandMask(rows: size, columns: size, dtype: dtype)
    }

    /// Elements on and below diagonal `diagonal` kept, others zeroed (like `torch.tril`). Differentiable.
    public func lowerTriangle(diagonal: Int = 0) -> Tensor {
        precondition(rank >= 2, "lowerTriangle: needs rank ≥ 2, got \(shape)")
        let mask = Tensor.bandMask(rows: shape[rank - 2], columns: shape[rank - 1], lower: -diagonal, dtype: dtype)
        return Tensor.where(mask, self, scalarLike(0))
    }

    /// Elements on and above diagonal `diagonal` kept, others zeroed (like `torch.triu`). Differentiable.
    public func upperTriangle(diagonal: Int = 0) -> Tensor {
        precondition(rank >= 2, "upperTriangle: needs rank ≥ 2, got \(shape)")
        let mask = Tensor.bandMask(rows: shape[rank - 2], columns: shape[rank - 1], lower: Int.min, upper: -diagonal, dtype: dtype)
        return Tensor.where(mask, self, scalarLike(0))
    }
}
